#!/usr/bin/env bash
# Runs examples/c/ab_update.c the way a C user would: installs rootseal into a
# temporary prefix (scripts/install.sh, after `cargo build --release`), builds the
# example with nothing but `pkg-config --cflags --libs rootseal`, makes a P-256 signing
# key and a signed 8 MiB /usr image (and a signature by a foreign key) with openssl, and
# runs the whole A/B cycle.
#
# Usage: scripts/run-c-example.sh [WORKDIR]
#   WORKDIR keeps the disk image, key and payload (default: a temporary directory,
#   removed afterwards). ROOTSEAL_LIB_DIR, ROOTSEAL_BIN and CARGO_TARGET_DIR are passed on to
#   install.sh; ROOTSEAL_EXAMPLE_WRAPPER (e.g. "valgrind --error-exitcode=1") runs the
#   example under a tool.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then
    work=$1
    mkdir -p "$work"
    work=$(cd "$work" && pwd)
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi

prefix=$work/prefix
"$root/scripts/install.sh" "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
# shellcheck disable=SC2046 # pkg-config output is a list of flags
cc -std=c99 -Wall -Wextra -Werror -o "$work/ab_update" "$root/examples/c/ab_update.c" \
    $(pkg-config --cflags --libs rootseal) -Wl,-rpath,"$prefix/lib"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/update-key.pem" 2>/dev/null
openssl pkey -in "$work/update-key.pem" -pubout -out "$work/update-key.pub.pem"
head -c $((8 << 20)) /dev/urandom >"$work/usr.img"
openssl dgst -sha256 -sign "$work/update-key.pem" -out "$work/usr.img.sig" "$work/usr.img"
# A signature by a key nobody trusts, which the example must refuse.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/foreign-key.pem" 2>/dev/null
openssl dgst -sha256 -sign "$work/foreign-key.pem" -out "$work/usr.img.foreign.sig" "$work/usr.img"

# shellcheck disable=SC2086 # the wrapper is a command line
${ROOTSEAL_EXAMPLE_WRAPPER:-} "$work/ab_update" "$work" "$work/usr.img" "$work/usr.img.sig" "$work/update-key.pub.pem" \
    "$work/usr.img.foreign.sig"
if [ $# -eq 0 ]; then
    echo "(the work directory is removed now; run $0 WORKDIR to keep the disk image)"
fi
