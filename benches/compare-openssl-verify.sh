#!/usr/bin/env bash
# Wall-clock comparison of `rootseal sign verify` with `openssl dgst -sha256 -verify` on
# the same page-cached file, RSA-2048 PKCS#1 v1.5 SHA-256, both checking the same
# signature. Prints the best and median times of each and the ratio
# openssl_time / rootseal_time (>= 1 means rootseal is at least as fast).
#
# Usage: benches/compare-openssl-verify.sh
#
# Environment (all optional):
#   SIZE_MIB=1024     file size in MiB
#   RUNS=7            timed runs per tool (alternating tools, after one warm-up each)
#   ROOTSEAL=path     use this rootseal binary instead of building one
#   FIPS_CONFIG=path  also pass --fips-config to rootseal and OPENSSL_CONF to openssl
#   BENCH_DIR=dir     where the temporary directory goes (default: $TMPDIR or /tmp)
#   KEYS=2            trust a second RSA-2048 key too, given first (key rotation: rootseal
#                     must still read and hash the file once; openssl gets the signing key)
set -euo pipefail

SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-7}
KEYS=${KEYS:-1}
FIPS_CONFIG=${FIPS_CONFIG:-}
die() { echo "compare-openssl-verify: $*" >&2; exit 1; }
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ ]] || die "SIZE_MIB must be a positive integer"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $KEYS == 1 || $KEYS == 2 ]] || die "KEYS must be 1 or 2"

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
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

work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/sigbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/key.pem" 2>/dev/null
openssl pkey -in "$work/key.pem" -pubout -out "$work/key.pub.pem"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$work/data.bin"
openssl dgst -sha256 -sign "$work/key.pem" -out "$work/data.sig" "$work/data.bin"

rootseal_cmd=("$ROOTSEAL" sign verify)
if [[ $KEYS == 2 ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/old.pem" 2>/dev/null
    openssl pkey -in "$work/old.pem" -pubout -out "$work/old.pub.pem"
    rootseal_cmd+=(--key "$work/old.pub.pem")
fi
rootseal_cmd+=(--key "$work/key.pub.pem" --sig "$work/data.sig" "$work/data.bin")
openssl_env=()
if [[ -n $FIPS_CONFIG ]]; then
    rootseal_cmd+=(--fips-config "$FIPS_CONFIG")
    openssl_env=(env "OPENSSL_CONF=$FIPS_CONFIG")
fi
openssl_cmd=("${openssl_env[@]}" openssl dgst -sha256 -verify "$work/key.pub.pem" -signature "$work/data.sig" "$work/data.bin")

# Both must accept before anything is timed.
"${rootseal_cmd[@]}" >/dev/null || die "rootseal rejected the signature"
"${openssl_cmd[@]}" | grep -q "Verified OK" || die "openssl rejected the signature"

time_one() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.4f", ns / 1e9 }'
}
r_times=() o_times=()
for ((i = 0; i < RUNS; i++)); do
    r_times+=("$(time_one "${rootseal_cmd[@]}")")
    o_times+=("$(time_one "${openssl_cmd[@]}")")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.3f %.3f", a[1], a[int((NR+1)/2)]}'; }
read -r r_best r_median <<<"$(stats "${r_times[@]}")"
read -r o_best r_o_median <<<"$(stats "${o_times[@]}")"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "file: ${SIZE_MIB} MiB, RSA-2048 PKCS#1 v1.5 SHA-256${FIPS_CONFIG:+, FIPS provider}, $KEYS trusted key(s), $RUNS runs each"
printf 'rootseal sign verify:        best %s s, median %s s\n' "$r_best" "$r_median"
printf 'openssl dgst -sha256 -verify: best %s s, median %s s\n' "$o_best" "$r_o_median"
awk -v ob="$o_best" -v rb="$r_best" -v om="$r_o_median" -v rm="$r_median" \
    'BEGIN { printf "ratio (openssl / rootseal):  best %.2f, median %.2f\n", ob / rb, om / rm }'
