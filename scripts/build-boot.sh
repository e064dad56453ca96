#!/usr/bin/env bash
# Builds the freestanding boot library: librootseal_boot.a for include/rootseal_boot.h.
#
#   scripts/build-boot.sh            # prints the archive's path as its last line
#
# The crate in boot/ compiles the host library's pure logic (the same source files)
# #![no_std] with panic = "abort", no red zone (firmware interrupts share the stack) and
# position-independent code. The archive is then one relocatable object: only what the
# rootseal_boot_* functions reach is kept (ld -r --gc-sections), every other symbol is made
# local (so it cannot clash with the firmware's), and the build fails unless the only
# symbols it needs from outside are memcpy, memmove, memset and memcmp, and it has no
# thread-local or writable static data. See docs/boot.md.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out_dir=${ROOTSEAL_BOOT_OUT:-${CARGO_TARGET_DIR:-$repo/target}/boot}
cargo_dir=$out_dir/cargo
mkdir -p "$out_dir"

# Its own target directory: these flags must not rebuild the host library's artefacts.
# A cargo that runs this (a build script) passes its own flags in CARGO_ENCODED_RUSTFLAGS,
# which would win over these.
env -u CARGO_ENCODED_RUSTFLAGS RUSTFLAGS="-C no-redzone=yes -C relocation-model=pic" \
    cargo rustc --quiet --release --lib --crate-type staticlib --features freestanding \
    --manifest-path "$repo/boot/Cargo.toml" --target-dir "$cargo_dir" >&2
raw=$cargo_dir/release/librootseal_boot.a

exports=$(nm --defined-only --extern-only "$raw" 2>/dev/null | awk '$2 == "T" && $3 ~ /^rootseal_boot_/ { print $3 }' | sort -u)
[[ -n $exports ]] || { echo "build-boot: no rootseal_boot_* functions in $raw" >&2; exit 1; }
roots=()
for symbol in $exports; do roots+=(-u "$symbol"); done

object=$out_dir/rootseal_boot.o
ld -r --gc-sections "${roots[@]}" --whole-archive "$raw" -o "$object.tmp"
# Unwind tables go too: a panic traps (boot/src/ffi/mod.rs), nothing ever unwinds, and
# the personality pointer they need is the only writable word left.
objcopy --wildcard --keep-global-symbol='rootseal_boot_*' --strip-debug --strip-unneeded \
    --remove-section=.llvmbc --remove-section=.llvmcmd \
    --remove-section='.eh_frame' --remove-section='.rela.eh_frame' \
    --remove-section='.gcc_except_table*' --remove-section='.data.DW.ref.*' --remove-section='.rela.data.DW.ref.*' \
    "$object.tmp" "$object"
rm -f "$object.tmp"

archive=$out_dir/librootseal_boot.a
rm -f "$archive"
ar rcs "$archive" "$object"

allowed=" memcpy memmove memset memcmp "
needed=$(nm --undefined-only "$archive" 2>/dev/null | awk '$1 == "U" { print $2 }' | sort -u)
for symbol in $needed; do
    if [[ $allowed != *" $symbol "* ]]; then
        echo "build-boot: the archive needs $symbol; only memcpy, memmove, memset and memcmp are allowed" >&2
        exit 1
    fi
done
# No thread-local storage and no writable static data: every call is reentrant.
if readelf -SW "$object" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\.(tbss|tdata|data|bss)($|\.)/ && $i !~ /^\.data\.rel\.ro/) print $i }' | grep .; then
    echo "build-boot: the archive has thread-local or writable static data (sections above)" >&2
    exit 1
fi
echo "build-boot: $(wc -c <"$archive") bytes, text $(size "$object" | awk 'NR == 2 { print $1 }') bytes, needs: $(echo $needed)" >&2
echo "$archive"
