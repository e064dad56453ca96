#!/usr/bin/env bash
# Wall-clock comparison of `rootseal verity format|verify` with `veritysetup format|verify`
# on a warm-cache image file, with identical parameters, checking that both tools
# produce byte-identical hash files and the same root hash.
#
# Usage: benches/compare-veritysetup.sh
#
# One run prints every ratio issue 7 asks for, each measured side by side with
# veritysetup (alternating runs): format and verify with sha256 on every core, the same
# on one thread (--threads 1), and sha512 on every core; then a table of rootseal's
# format throughput in GB/s for each hashing backend (ROOTSEAL_HASH_BACKEND) × thread
# count, sha256 and sha512, with veritysetup's for reference.
#
# Environment (all optional):
#   SIZE_MIB=1024        image size in MiB
#   HASH=sha256          hash algorithm of the main comparison (the sha512 one is extra)
#   TABLE=1              0 skips the backend table
#   RUNS=5               timed runs per tool and operation (alternating tools)
#   ROOTSEAL=path        use this rootseal binary instead of building one
#   ROOTSEAL_ARGS="..."  extra arguments for rootseal, e.g. "--threads 1"
#   VERITYSETUP=path     veritysetup binary (default: veritysetup from PATH or /usr/sbin)
#   BENCH_DIR=dir        where the temporary directory goes (default: $TMPDIR or /tmp)
#   KEEP_GOING=1         report a mismatch but do not stop
#   CACHE=written        how the image sits in the page cache: "written" (as left by
#                        writing it, like a freshly built image) or "reread" (evicted and
#                        read back, as after a reboot; readahead then uses large folios)
#   HYPERFINE=1          time with hyperfine instead (if installed); it runs all the
#                        runs of one tool, then the other, rather than alternating
#   LIMIT=1              0 skips the efficiency section (K, C, limit, efficiency)
#   COLD=1               0 skips the cold-cache section
#   FEC=1                0 skips the FEC section (benches/compare-veritysetup-fec.sh;
#                        veritysetup needs about 80 s per GiB with 24 roots)
#   LOOP_DIRECT_IO=1     0: the cold section's loop device caches its backing file too
#   DROP_CACHES=0        1: make data cold with `echo 3 > /proc/sys/vm/drop_caches` (the
#                        whole machine); default: evict only the image (POSIX_FADV_DONTNEED
#                        on the file, BLKFLSBUF on the loop device), which leaves other
#                        work on a shared machine alone
#
# The efficiency section (issue 17): K is the raw rate of the fastest hashing kernel
# (`cargo bench --bench hash_backends`, same run), C the warm page-cache copy rate
# (`dd if=IMG of=/dev/null bs=1M`), the one-thread limit 1/(1/K + 1/C) (hash the bytes,
# plus move them), n times that for n threads; efficiency = rootseal's rate / limit, for
# format and verify, sha256 and sha512, 1 and every thread, with the image as left by
# writing it in 64 KiB pieces and evicted and read back. The cold section times format
# and verify with the image evicted before every run, on the file and on a loop device
# over it, against `dd iflag=direct bs=4M` and veritysetup, the cases taking turns round
# by round; the slowest of RUNS counts, against dd's median (and dd's run of the same
# round).
#
# By default each run is timed with `date +%s.%N`, alternating the two tools, after
# one untimed warm-up run of each. The temporary directory is removed on exit.
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
HASH=${HASH:-sha256}
RUNS=${RUNS:-5}
ROOTSEAL_ARGS=${ROOTSEAL_ARGS:-}
HYPERFINE=${HYPERFINE:-0}
KEEP_GOING=${KEEP_GOING:-0}
CACHE=${CACHE:-written}
SALT=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
UUID=5a5a5a5a-1234-4bcd-8ef0-0123456789ab

die() { echo "compare-veritysetup: $*" >&2; exit 1; }

[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || die "SIZE_MIB must be a positive integer"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $CACHE == written || $CACHE == reread ]] || die "CACHE must be written or reread"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

VERITYSETUP=${VERITYSETUP:-$(command -v veritysetup || echo /usr/sbin/veritysetup)}
[[ -x $VERITYSETUP ]] || die "veritysetup not found (set VERITYSETUP)"

if [[ -z ${ROOTSEAL:-} ]]; then
    echo "Building the release binary..." >&2
    (cd "$repo" && cargo build --release --quiet)
    target_dir=${CARGO_TARGET_DIR:-}
    if [[ -z $target_dir ]]; then
        target_dir=$(cd "$repo" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
            sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
    fi
    ROOTSEAL=${target_dir:-$repo/target}/release/rootseal
fi
[[ -x $ROOTSEAL ]] || die "rootseal binary not found at $ROOTSEAL"
read -r -a extra <<<"$ROOTSEAL_ARGS"

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/compare-veritysetup.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

data=$work/data.img
echo "Creating a ${SIZE_MIB} MiB random image in $work..." >&2
# Written in 64 KiB pieces, as image tools write: the page cache then holds small folios.
head -c "$((SIZE_MIB << 20))" /dev/urandom | dd of="$data" bs=64K iflag=fullblock status=none
# Write the image back first, so that writeback of its dirty pages does not overlap
# the timed runs. Then warm the page cache; each tool also gets one untimed run below.
sync "$data" 2>/dev/null || sync
if [[ $CACHE == reread ]]; then
    # Drop this file's pages (POSIX_FADV_DONTNEED), so the read below goes through readahead.
    dd if="$data" iflag=nocache count=0 status=none
fi
cat "$data" >/dev/null

use_hyperfine=0
if [[ $HYPERFINE == 1 ]] && command -v hyperfine >/dev/null; then
    use_hyperfine=1
fi

now() { date +%s.%N; }

# time_once OUT_FILE CMD...: runs CMD once with stdout in OUT_FILE, prints seconds.
time_once() {
    local out=$1 start end
    shift
    start=$(now)
    "$@" >"$out"
    end=$(now)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f\n", b - a }'
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "%.4f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# bench NAME PREP VS_CMD... -- RS_CMD...: alternates the two tools RUNS times, with
# PREP (a shell snippet, e.g. removing the old hash file) before each run, and sets
# vs_times / rs_times (space-separated seconds).
bench() {
    local name=$1 prep=$2
    shift 2
    local -a vs=() rs=()
    while [[ $1 != -- ]]; do vs+=("$1"); shift; done
    shift
    rs=("$@")
    vs_times="" rs_times=""
    if ((use_hyperfine)); then
        local q_vs q_rs
        q_vs=$(printf '%q ' "${vs[@]}")
        q_rs=$(printf '%q ' "${rs[@]}")
        hyperfine --style basic --warmup 1 --runs "$RUNS" --prepare "$prep" \
            --export-json "$work/$name.json" -n veritysetup "$q_vs" -n rootseal "$q_rs" >&2
        vs_times=$(jq -r '.results[0].times | map(tostring) | join(" ")' "$work/$name.json")
        rs_times=$(jq -r '.results[1].times | map(tostring) | join(" ")' "$work/$name.json")
        return
    fi
    # Untimed warm-up run of each tool.
    eval "$prep"; "${vs[@]}" >/dev/null
    eval "$prep"; "${rs[@]}" >/dev/null
    local i
    for ((i = 0; i < RUNS; i++)); do
        eval "$prep"; vs_times+="$(time_once "$work/out" "${vs[@]}") "
        eval "$prep"; rs_times+="$(time_once "$work/out" "${rs[@]}") "
    done
}

identical=yes
mismatch() {
    identical=NO
    echo "MISMATCH: $*" >&2
    ((KEEP_GOING)) || exit 1
}

root_of() { awk -F'[ \t]+' '/^Root hash:/ { print $3 }' "$1"; }
best() { tr ' ' '\n' | grep . | sort -g | head -n1 | awk '{ printf "%.4f\n", $1 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
round() { tr ' ' '\n' | grep . | awk '{ printf "%s%.3f", (NR > 1 ? " " : ""), $1 }'; }
gbps() { awk -v mib="$SIZE_MIB" -v s="$1" 'BEGIN { printf "%.2f", mib * 1048576 / s / 1e9 }'; }

# compare LABEL HASH [ROOTSEAL ARGS...]: format and verify with both tools, checking the
# hash files and root hashes agree; prints the timing lines and appends the ratios to
# $summary.
summary=""
compare() {
    local label=$1 hash=$2
    shift 2
    local -a args=("$@")
    local -a vs_format=("$VERITYSETUP" format "$data" "$work/vs.hash" --hash "$hash" --salt "$SALT" --uuid "$UUID")
    local -a rs_format=("$ROOTSEAL" verity format "$data" "$work/rs.hash" --hash "$hash" --salt "$SALT" --uuid "$UUID"
        "${extra[@]}" "${args[@]}")
    # Reference outputs, also the trees verify uses.
    "${vs_format[@]}" >"$work/vs.out"
    "${rs_format[@]}" >"$work/rs.out"
    local vs_root rs_root
    vs_root=$(root_of "$work/vs.out")
    rs_root=$(root_of "$work/rs.out")
    [[ -n $vs_root ]] || die "no root hash in veritysetup output"
    if [[ $vs_root != "$rs_root" ]]; then mismatch "$label: root hash: veritysetup $vs_root, rootseal $rs_root"; fi
    if ! cmp -s "$work/vs.hash" "$work/rs.hash"; then mismatch "$label: the hash files differ"; fi

    echo "Timing $label format ($RUNS runs each)..." >&2
    bench format "rm -f '$work/vs.hash' '$work/rs.hash'" "${vs_format[@]}" -- "${rs_format[@]}"
    local fmt_vs=$vs_times fmt_rs=$rs_times
    # The timed runs removed the hash files; rebuild both and check they still agree.
    "${vs_format[@]}" >/dev/null
    "${rs_format[@]}" >/dev/null
    if ! cmp -s "$work/vs.hash" "$work/rs.hash"; then mismatch "$label: the hash files differ after the timed runs"; fi

    echo "Timing $label verify ($RUNS runs each)..." >&2
    local -a vs_verify=("$VERITYSETUP" verify "$data" "$work/vs.hash" "$vs_root")
    local -a rs_verify=("$ROOTSEAL" verity verify "$data" "$work/vs.hash" "$vs_root" "${extra[@]}" "${args[@]}")
    "${vs_verify[@]}" >/dev/null || mismatch "$label: veritysetup verify failed"
    "${rs_verify[@]}" >/dev/null || mismatch "$label: rootseal verify failed"
    bench verify ":" "${vs_verify[@]}" -- "${rs_verify[@]}"
    local ver_vs=$vs_times ver_rs=$rs_times

    local fv fr vv vr
    fv=$(median <<<"$fmt_vs") fr=$(median <<<"$fmt_rs")
    vv=$(median <<<"$ver_vs") vr=$(median <<<"$ver_rs")
    report+=$(printf '%-22s %-8s %-12s %10s   %s' "$label" format veritysetup "$fv" "$(round <<<"$fmt_vs")")$'\n'
    report+=$(printf '%-22s %-8s %-12s %10s   %s' "$label" format rootseal "$fr" "$(round <<<"$fmt_rs")")$'\n'
    report+=$(printf '%-22s %-8s %-12s %10s   %s' "$label" verify veritysetup "$vv" "$(round <<<"$ver_vs")")$'\n'
    report+=$(printf '%-22s %-8s %-12s %10s   %s' "$label" verify rootseal "$vr" "$(round <<<"$ver_rs")")$'\n'
    # Best runs too: other load on a small machine only ever adds time.
    local bfv bfr bvv bvr
    bfv=$(best <<<"$fmt_vs") bfr=$(best <<<"$fmt_rs") bvv=$(best <<<"$ver_vs") bvr=$(best <<<"$ver_rs")
    summary+=$(printf '%-22s format: veritysetup %s s, rootseal %s s, ratio %s× (best runs %s / %s s: %s×)' \
        "$label" "$fv" "$fr" "$(ratio "$fv" "$fr")" "$bfv" "$bfr" "$(ratio "$bfv" "$bfr")")$'\n'
    summary+=$(printf '%-22s verify: veritysetup %s s, rootseal %s s, ratio %s× (best runs %s / %s s: %s×)' \
        "$label" "$vv" "$vr" "$(ratio "$vv" "$vr")" "$bvv" "$bvr" "$(ratio "$bvv" "$bvr")")$'\n'
    roots+="$label root hash $vs_root"$'\n'
}

# time_median RUNS_PREP CMD...: median seconds of RUNS runs of CMD (after one warm-up).
time_median() {
    local prep=$1
    shift
    local times="" i
    eval "$prep"; "$@" >/dev/null
    for ((i = 0; i < RUNS; i++)); do
        eval "$prep"; times+="$(time_once "$work/out" "$@") "
    done
    median <<<"$times"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
report="" roots=""
cores=$(nproc)
compare "$HASH, $cores threads" "$HASH"
compare "$HASH, 1 thread" "$HASH" --threads 1
if [[ $HASH != sha512 ]]; then compare "sha512, $cores threads" sha512; fi

table=""
if [[ ${TABLE:-1} != 0 ]]; then
    echo "Timing the backend table ($RUNS runs each)..." >&2
    threads_list=1
    ((cores > 1)) && threads_list+=" $cores"
    prep="rm -f '$work/rs.hash'"
    row() { table+=$(printf '%-12s %-8s %10s %10s' "$@")$'\n'; }
    row backend threads "sha256" "sha512"
    vs256=$(time_median "rm -f '$work/vs.hash'" "$VERITYSETUP" format "$data" "$work/vs.hash" --hash sha256 --salt "$SALT" --uuid "$UUID")
    vs512=$(time_median "rm -f '$work/vs.hash'" "$VERITYSETUP" format "$data" "$work/vs.hash" --hash sha512 --salt "$SALT" --uuid "$UUID")
    row veritysetup 1 "$(gbps "$vs256")" "$(gbps "$vs512")"
    for backend in avx512 shani openssl portable; do
        if ! ROOTSEAL_HASH_BACKEND=$backend "$ROOTSEAL" verity format "$data" "$work/rs.hash" --salt "$SALT" >/dev/null 2>&1; then
            row "$backend" - "n/a" "n/a"
            continue
        fi
        for threads in $threads_list; do
            cells=()
            for hash in sha256 sha512; do
                t=$(ROOTSEAL_HASH_BACKEND=$backend time_median "$prep" "$ROOTSEAL" verity format "$data" "$work/rs.hash" \
                    --hash "$hash" --salt "$SALT" --uuid "$UUID" --threads "$threads")
                # SHA-NI has no SHA-512 code: that cell is the portable code's.
                mark=""
                if [[ $backend == shani && $hash == sha512 ]]; then mark="*"; fi
                cells+=("$(gbps "$t")$mark")
            done
            row "$backend" "$threads" "${cells[@]}"
        done
    done
fi


# ---- Efficiency against the limit 1/(1/K + 1/C) (issue 17) ----
slowest() { tr ' ' '\n' | grep . | sort -g | tail -n1 | awk '{ printf "%.4f\n", $1 }'; }
evict() {
    # Cold for this image only (or the whole machine with DROP_CACHES=1).
    if [[ ${DROP_CACHES:-0} == 1 ]]; then
        sync
        echo 3 >/proc/sys/vm/drop_caches
    else
        dd if="$data" iflag=nocache count=0 status=none
        [[ -n ${loopdev:-} ]] && blockdev --flushbufs "$loopdev" 2>/dev/null || true
    fi
}
# dd_seconds ARGS...: seconds dd reports for its copy.
dd_seconds() { dd "$@" 2>&1 >/dev/null | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print $(i - 1) }' | tail -n1; }
rate() { awk -v mib="$SIZE_MIB" -v s="$1" 'BEGIN { printf "%.2f", mib * 1048576 / s / 1e9 }'; }

thread_list=1
((cores > 1)) && thread_list+=" $cores"
efficiency=""
if [[ ${LIMIT:-1} != 0 ]]; then
    echo "Measuring K (hash_backends bench)..." >&2
    kfile=$work/k.txt
    (cd "$repo" && cargo bench --quiet --bench hash_backends -- --noplot 2>/dev/null) >"$kfile" || true
    # K is the kernel of the backend rootseal chooses for the algorithm (its --json
    # says which), not the fastest one it could be forced to.
    head -c 65536 /dev/zero >"$work/k.img"
    chosen_of() {
        "$ROOTSEAL" verity format "$work/k.img" "$work/k.hash" --hash "$1" --json |
            sed -n 's/.*"hashed_by":{[^}]*"backend":"\([a-z0-9]*\)".*/\1/p'
    }
    # criterion prints "hash_backends/sha256/avx512 time: [...]", then
    # "thrpt: [lo unit mid unit hi unit]"; the middle estimate counts.
    k_of() {
        awk -v alg="$1" -v backend="$2" '
            /^hash_backends\// { split($1, p, "/"); name = p[2]; be = p[3] }
            # (A "change:" section after it has thrpt lines of percentages: skipped.)
            /thrpt:/ && name == alg && be == backend && $(NF - 2) ~ /B\/s$/ {
                v = $(NF - 3) + 0; u = $(NF - 2)
                if (u ~ /^GiB/) v *= 1.073741824; else if (u ~ /^MiB/) v *= 0.001048576
                k = v
            }
            END { printf "%.2f", k }' "$kfile"
    }
    b256=$(chosen_of sha256) b512=$(chosen_of sha512)
    k256=$(k_of sha256 "$b256") k512=$(k_of sha512 "$b512")
    for cache in written reread; do
        if [[ $cache == reread ]]; then dd if="$data" iflag=nocache count=0 status=none; fi
        cat "$data" >/dev/null
        c_s=$(for _ in 1 2 3; do dd_seconds if="$data" of=/dev/null bs=1M; done | sort -g | sed -n 2p)
        c=$(rate "$c_s")
        for hash in sha256 sha512; do
            k=$k256
            [[ $hash == sha512 ]] && k=$k512
            lim1=$(awk -v k="$k" -v c="$c" 'BEGIN { printf "%.2f", (k > 0) ? 1 / (1 / k + 1 / c) : 0 }')
            for threads in $thread_list; do
                limn=$(awk -v l="$lim1" -v n="$threads" 'BEGIN { printf "%.2f", l * n }')
                rs_format=("$ROOTSEAL" verity format "$data" "$work/rs.hash" --hash "$hash" --salt "$SALT" --uuid "$UUID" --threads "$threads")
                tf=$(time_median "rm -f '$work/rs.hash'" "${rs_format[@]}")
                "${rs_format[@]}" >"$work/rs.out"
                root=$(root_of "$work/rs.out")
                tv=$(time_median ":" "$ROOTSEAL" verity verify "$data" "$work/rs.hash" "$root" --threads "$threads")
                gf=$(rate "$tf") gv=$(rate "$tv")
                ef=$(awk -v g="$gf" -v l="$limn" 'BEGIN { printf "%.0f%%", (l > 0) ? 100 * g / l : 0 }')
                ev=$(awk -v g="$gv" -v l="$limn" 'BEGIN { printf "%.0f%%", (l > 0) ? 100 * g / l : 0 }')
                # What n cores give here when each runs its own one-thread format at
                # once (n processes, one image): the limit's "n times" assumes they
                # never slow each other down.
                par="-" epar="-"
                if ((threads > 1)); then
                    tp=$(time_median "rm -f '$work'/par.*" bash -c \
                        "for i in \$(seq $threads); do '$ROOTSEAL' verity format '$data' '$work/par.'\$i --hash $hash --salt $SALT --threads 1 >/dev/null & done; wait")
                    par=$(awk -v mib="$SIZE_MIB" -v n="$threads" -v s="$tp" 'BEGIN { printf "%.2f", n * mib * 1048576 / s / 1e9 }')
                    epar=$(awk -v g="$gf" -v p="$par" 'BEGIN { printf "%.0f%%", 100 * g / p }')
                fi
                efficiency+=$(printf '%-8s %-7s %7s %6s %6s %7s   %6s %5s   %6s %5s   %6s %5s' "$cache" "$hash" "$threads" \
                    "$k" "$c" "$limn" "$gf" "$ef" "$gv" "$ev" "$par" "$epar")$'\n'
            done
        done
    done
fi

cold=""
if [[ ${COLD:-1} != 0 ]]; then
    echo "Timing the cold cases ($RUNS runs each, image evicted before each)..." >&2
    loopdev=""
    # Direct I/O on the backing file, as a real partition has no second page cache under
    # it (LOOP_DIRECT_IO=0: buffered, the loop driver's default).
    loop_dio=()
    [[ ${LOOP_DIRECT_IO:-1} != 0 ]] && loop_dio=(--direct-io=on)
    if command -v losetup >/dev/null && loopdev=$(losetup --find --show "${loop_dio[@]}" "$data" 2>/dev/null); then
        # Detached on exit only while attached; a failing detach must not skip the cleanup
        # (set -e applies inside the trap too).
        trap '[[ -z $loopdev ]] || losetup --detach "$loopdev" 2>/dev/null || true; cleanup' EXIT
    else
        loopdev=""
    fi
    "$ROOTSEAL" verity format "$data" "$work/rs.hash" --salt "$SALT" --uuid "$UUID" >"$work/rs.out"
    root=$(root_of "$work/rs.out")
    targets=("$data")
    [[ -n $loopdev ]] && targets+=("$loopdev")
    for target in "${targets[@]}"; do
        kind=file
        [[ $target == "$loopdev" ]] && kind="loop device"
        # The cases of one target run round by round (dd, veritysetup, each rootseal case,
        # then the next round), so a slow spell of the disk falls on every case alike,
        # and each run is compared with dd's run of the same round.
        labels=("dd iflag=direct bs=4M" "veritysetup verify")
        commands=("dd if='$target' of=/dev/null bs=4M iflag=direct status=none"
            "'$VERITYSETUP' verify '$target' '$work/rs.hash' $root")
        for threads in $thread_list; do
            labels+=("rootseal verify, $threads thr" "rootseal format, $threads thr")
            commands+=("'$ROOTSEAL' verity verify '$target' '$work/rs.hash' $root --threads $threads"
                "'$ROOTSEAL' verity format '$target' '$work/cold.hash' --salt $SALT --threads $threads")
        done
        times=()
        # One untimed round first, as the warm cases get: the first cold run after the
        # warm sections meets their writeback still going.
        for ((i = -1; i < RUNS; i++)); do
            for c in "${!commands[@]}"; do
                evict
                t=$(time_once "$work/out" bash -c "${commands[c]}")
                ((i < 0)) || times[c]+="$t "
            done
        done
        dd_median=$(median <<<"${times[0]}")
        for c in "${!commands[@]}"; do
            slow=$(slowest <<<"${times[c]}")
            # The slowest run against dd's median run: the share of the device's read rate
            # this case keeps on its worst run.
            of_rate=$(awk -v d="$dd_median" -v s="$slow" 'BEGIN { printf "%.0f%%", 100 * d / s }')
            # The worst round: the lowest dd time / this case's time of the same round.
            worst=$(paste <(tr ' ' '\n' <<<"${times[0]}" | grep .) <(tr ' ' '\n' <<<"${times[c]}" | grep .) |
                awk 'NR == 1 || $1 / $2 < w { w = $1 / $2 } END { printf "%.0f%%", 100 * w }')
            cold+=$(printf '%-37s %8s %7s %6s   %s' "$kind: ${labels[c]}" "$slow" "$of_rate" "$worst" \
                "$(round <<<"${times[c]}")")$'\n'
        done
    done
    if [[ -n $loopdev ]]; then losetup --detach "$loopdev" 2>/dev/null || true; loopdev=""; fi
fi

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
flags=$(grep -m1 -o -w -E 'sha_ni|avx2|avx512f|avx512bw' /proc/cpuinfo | sort -u | paste -sd' ' || true)
echo
echo "CPU: ${cpu:-unknown} (nproc $cores; ${flags:-no sha_ni/avx2/avx512f})"
echo "load average before: $load_start, after: $(cut -d' ' -f1-3 /proc/loadavg) (other load skews the numbers)"
echo "image: ${SIZE_MIB} MiB, warm page cache ($CACHE); 4096/4096, salt and UUID fixed"
echo "$("$VERITYSETUP" --version | head -n1) vs rootseal $("$ROOTSEAL" --version 2>/dev/null | awk '{ print $NF }') ${ROOTSEAL_ARGS:+($ROOTSEAL_ARGS)}"
echo "timer: $([[ $use_hyperfine == 1 ]] && echo hyperfine || echo 'date +%s.%N'), $RUNS runs, median"
echo
printf '%-22s %-8s %-12s %10s   %s\n' case operation tool "median s" "runs (s)"
printf '%s' "$report"
echo
printf '%s' "$summary"
if [[ -n $table ]]; then
    echo
    echo "rootseal format throughput, GB/s (10^9 bytes of data per second; median of $RUNS):"
    printf '%s' "$table"
    echo "* shani has no SHA-512 code; the portable code runs"
fi
if [[ -n $efficiency ]]; then
    echo
    echo "efficiency: K = hash_backends kernel of the backend rootseal chooses (sha256: $b256, sha512: $b512), C = dd bs=1M warm copy, limit = threads / (1/K + 1/C)"
    echo "(GB/s = 10^9 bytes per second; rootseal rates are medians of $RUNS)"
    echo "par: n one-thread formats at once, as n processes (what n cores give here); eff: format / par"
    printf '%-8s %-7s %7s %6s %6s %7s   %6s %5s   %6s %5s   %6s %5s\n' cache hash threads K C limit format eff verify eff par eff
    printf '%s' "$efficiency"
fi
if [[ -n $cold ]]; then
    echo
    echo "cold cache ($([[ ${DROP_CACHES:-0} == 1 ]] && echo 'drop_caches' || echo 'image evicted: fadvise DONTNEED + BLKFLSBUF') before each run), seconds; the cases take turns, round by round"
    echo "of rate: dd's median time / this case's slowest, the share of the device's direct read rate kept on the worst run"
    echo "worst: the lowest (dd's time / this case's time) of one round, dd's own run-to-run spread included"
    printf '%-37s %8s %7s %6s   %s\n' case slowest "of rate" worst "runs (s)"
    printf '%s' "$cold"
fi
echo
printf '%s' "$roots"
echo "identical hash files and root hashes: $identical"

# ---- FEC: format --fec-device against veritysetup's, roots 2 and 24 (issue 14) ----
if [[ ${FEC:-1} != 0 ]]; then
    echo
    echo "FEC (benches/compare-veritysetup-fec.sh, the same image size):"
    SIZE_MIB=$SIZE_MIB ROOTSEAL=$ROOTSEAL BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}} \
        bash "$repo/benches/compare-veritysetup-fec.sh"
fi
