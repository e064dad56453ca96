#!/usr/bin/env bash
# Wall-clock comparison of FEC generation: `veritysetup format --fec-device` against
# rootseal (the tree with rootseal::verity::format_paths, then the parity with
# rootseal::verity::fec::encode, through examples/fec_speed.rs), on a warm-cache image,
# for each number of roots. Checks that the hash and FEC files are byte-identical.
#
# Usage: benches/compare-veritysetup-fec.sh
#
# Prints, per roots: veritysetup with FEC, veritysetup without FEC (so that its FEC
# share is the difference), rootseal's tree, parity and total; best and median of each;
# and the ratios. veritysetup's FEC runs take 10 s (2 roots) to 100 s (24 roots) per GiB.
#
# Environment (all optional):
#   SIZE_MIB=1024     image size in MiB
#   ROOTS="2 24"      the roots to compare
#   RUNS=5            rootseal runs per roots
#   VS_RUNS=3         veritysetup runs per roots (with and without FEC)
#   BENCH_DIR=dir     where the temporary directory goes (default: $TMPDIR or /tmp)
#   FEC_BIN=path      a built fec_speed example (default: build it)
#   ROOTSEAL=path     the rootseal command, timed as a user runs it (default: build it)
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
ROOTS=${ROOTS:-"2 24"}
RUNS=${RUNS:-5}
VS_RUNS=${VS_RUNS:-3}
SALT=00
UUID=5a5a5a5a-1234-4bcd-8ef0-0123456789ab

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERITYSETUP=$(command -v veritysetup || echo /usr/sbin/veritysetup)
[[ -x $VERITYSETUP ]] || { echo "veritysetup not found" >&2; exit 1; }

if [[ -z ${FEC_BIN:-} ]]; then
    (cd "$repo" && cargo build --release --quiet --example fec_speed)
    FEC_BIN=${CARGO_TARGET_DIR:-$repo/target}/release/examples/fec_speed
fi
if [[ -z ${ROOTSEAL:-} ]]; then
    (cd "$repo" && cargo build --release --quiet --bin rootseal)
    ROOTSEAL=${CARGO_TARGET_DIR:-$repo/target}/release/rootseal
fi

dir=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/fec-compare.XXXXXX")
trap 'rm -rf "$dir"' EXIT
head -c $((SIZE_MIB << 20)) /dev/urandom > "$dir/img"
cat "$dir/img" > /dev/null

now() { date +%s.%N; }
stats() { sort -g | awk '{v[NR]=$1} END {printf "best %.3f s, median %.3f s", v[1], v[int((NR+1)/2)]}'; }
best() { sort -g | head -1; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "image: $SIZE_MIB MiB, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for roots in $ROOTS; do
    vs_fec=() vs_tree=()
    for ((i = 0; i < VS_RUNS; i++)); do
        rm -f "$dir/h.vs" "$dir/f.vs"
        t0=$(now)
        "$VERITYSETUP" format "$dir/img" "$dir/h.vs" --fec-device "$dir/f.vs" --fec-roots "$roots" \
            --salt "$SALT" --uuid "$UUID" > /dev/null
        vs_fec+=("$(echo "$(now) - $t0" | bc)")
        rm -f "$dir/h2.vs"
        t0=$(now)
        "$VERITYSETUP" format "$dir/img" "$dir/h2.vs" --salt "$SALT" --uuid "$UUID" > /dev/null
        vs_tree+=("$(echo "$(now) - $t0" | bc)")
    done
    cli=()
    for ((i = 0; i < RUNS; i++)); do
        rm -f "$dir/h.cli" "$dir/f.cli"
        t0=$(now)
        "$ROOTSEAL" verity format "$dir/img" "$dir/h.cli" --fec-device "$dir/f.cli" --fec-roots "$roots" \
            --salt "$SALT" --uuid "$UUID" > /dev/null
        cli+=("$(echo "$(now) - $t0" | bc)")
    done
    cmp -s "$dir/h.cli" "$dir/h.vs" || { echo "hash files differ (rootseal command, roots $roots)" >&2; exit 1; }
    cmp -s "$dir/f.cli" "$dir/f.vs" || { echo "FEC files differ (rootseal command, roots $roots)" >&2; exit 1; }
    out=$("$FEC_BIN" file "$dir/img" "$dir/h.rs" "$dir/f.rs" "$roots" "$RUNS")
    cmp -s "$dir/h.rs" "$dir/h.vs" || { echo "hash files differ (roots $roots)" >&2; exit 1; }
    cmp -s "$dir/f.rs" "$dir/f.vs" || { echo "FEC files differ (roots $roots)" >&2; exit 1; }
    rs_tree=$(grep -o 'tree [0-9.]* s' <<<"$out" | awk '{print $2}')
    rs_fec=$(grep -o 'parity [0-9.]* s' <<<"$out" | awk '{print $2}')
    rs_total=$(grep -o 'total [0-9.]* s' <<<"$out" | awk '{print $2}')

    echo
    echo "== roots $roots (hash and FEC files byte-identical)"
    echo "veritysetup format --fec-device: $(printf '%s\n' "${vs_fec[@]}" | stats)"
    echo "veritysetup format (tree only):  $(printf '%s\n' "${vs_tree[@]}" | stats)"
    echo "rootseal tree:                   $(stats <<<"$rs_tree")"
    echo "rootseal parity:                 $(stats <<<"$rs_fec")"
    echo "rootseal tree + parity:          $(stats <<<"$rs_total")"
    echo "rootseal verity format --fec-device (the command): $(printf '%s\n' "${cli[@]}" | stats)"
    vf_b=$(printf '%s\n' "${vs_fec[@]}" | best) vf_m=$(printf '%s\n' "${vs_fec[@]}" | median)
    vt_b=$(printf '%s\n' "${vs_tree[@]}" | best) vt_m=$(printf '%s\n' "${vs_tree[@]}" | median)
    rf_b=$(best <<<"$rs_fec") rf_m=$(median <<<"$rs_fec")
    rt_b=$(best <<<"$rs_total") rt_m=$(median <<<"$rs_total")
    rc_b=$(printf '%s\n' "${cli[@]}" | best) rc_m=$(printf '%s\n' "${cli[@]}" | median)
    awk -v vfb="$vf_b" -v vfm="$vf_m" -v vtb="$vt_b" -v vtm="$vt_m" -v rfb="$rf_b" -v rfm="$rf_m" \
        -v rtb="$rt_b" -v rtm="$rt_m" -v rcb="$rc_b" -v rcm="$rc_m" 'BEGIN {
        printf "ratio, the command against veritysetup with the same options: %.1fx (best runs), %.1fx (medians); %.2f GB/s (median)\n", vfb / rcb, vfm / rcm, '"$SIZE_MIB"' * 1048576 / rcm / 1e9
        printf "ratio, whole format with FEC: %.1fx (best runs), %.1fx (medians)\n", vfb / rtb, vfm / rtm
        printf "ratio, FEC share (veritysetup with minus without FEC, against rootseal parity): %.1fx (best), %.1fx (medians)\n", (vfb - vtb) / rfb, (vfm - vtm) / rfm
    }'
done
