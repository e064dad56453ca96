#!/usr/bin/env bash
# Installs the C library after `cargo build --release`:
#   PREFIX/include/rootseal.h
#   PREFIX/lib/librootseal.so.X.Y.Z, librootseal.so.X -> it, librootseal.so -> .so.X
#   PREFIX/lib/librootseal.a
#   PREFIX/lib/pkgconfig/rootseal.pc (from rootseal.pc.in)
#   PREFIX/bin/rootseal
#   PREFIX/share/man/man1/rootseal.1, rootseal-verity.1, rootseal-gpt-next.1, ... (one per subcommand)
#   PREFIX/share/bash-completion/completions/rootseal, PREFIX/share/zsh/site-functions/_rootseal,
#   PREFIX/share/fish/vendor_completions.d/rootseal.fish
#
# Usage: scripts/install.sh PREFIX
# The libraries are taken from $CARGO_TARGET_DIR/release (default: target/release), or
# from ROOTSEAL_LIB_DIR when set, and the command from there or ROOTSEAL_BIN (the test
# suite installs what `cargo test` built).
# DESTDIR is honoured as usual: files go to $DESTDIR$PREFIX, the .pc names $PREFIX.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
prefix=$1
case $prefix in
    /*) ;;
    *) echo "install.sh: PREFIX must be an absolute path (the .pc file records it): $prefix" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
case $target_dir in
    /*) ;;
    *) target_dir=$root/$target_dir ;;  # cargo resolves a relative one from the workspace
esac
lib_dir=${ROOTSEAL_LIB_DIR:-$target_dir/release}
bin=${ROOTSEAL_BIN:-$target_dir/release/rootseal}

# The version comes from the [package] table of Cargo.toml: the first version line.
version=$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)
description=$(sed -n 's/^description *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)
major=${version%%.*}
if [ -z "$version" ] || [ -z "$major" ]; then
    echo "install.sh: no version in $root/Cargo.toml" >&2
    exit 1
fi

for f in librootseal.so librootseal.a; do
    if [ ! -f "$lib_dir/$f" ]; then
        echo "install.sh: $lib_dir/$f is missing; run \`cargo build --release\` first" >&2
        exit 1
    fi
done
if [ ! -x "$bin" ]; then
    echo "install.sh: $bin is missing; run \`cargo build --release\` first" >&2
    exit 1
fi
# A library from another version (a stale build) would install under the wrong name.
soname=$(readelf -d "$lib_dir/librootseal.so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
if [ "$soname" != "librootseal.so.$major" ]; then
    echo "install.sh: $lib_dir/librootseal.so has SONAME '$soname', expected librootseal.so.$major" >&2
    exit 1
fi

dest=${DESTDIR:-}$prefix
install -d "$dest/include" "$dest/lib/pkgconfig"
install -m 644 "$root/include/rootseal.h" "$dest/include/rootseal.h"
install -m 755 "$lib_dir/librootseal.so" "$dest/lib/librootseal.so.$version"
ln -sfn "librootseal.so.$version" "$dest/lib/librootseal.so.$major"
ln -sfn "librootseal.so.$major" "$dest/lib/librootseal.so"
install -m 644 "$lib_dir/librootseal.a" "$dest/lib/librootseal.a"
# `|` as the sed separator: PREFIX is a path. Escape what sed treats specially.
escaped_prefix=$(printf '%s' "$prefix" | sed 's/[\\&|]/\\&/g')
escaped_description=$(printf '%s' "$description" | sed 's/[\\&|]/\\&/g')
sed -e "s|@PREFIX@|$escaped_prefix|g" -e "s|@VERSION@|$version|g" -e "s|@DESCRIPTION@|$escaped_description|g" \
    "$root/rootseal.pc.in" >"$dest/lib/pkgconfig/rootseal.pc"
chmod 644 "$dest/lib/pkgconfig/rootseal.pc"
install -d "$dest/bin"
install -m 755 "$bin" "$dest/bin/rootseal"
# Man pages and completions come from the clap definitions of the binary just installed,
# so they always match its --help.
"$bin" generate man "$dest/share/man/man1"
completions=$(mktemp -d)
trap 'rm -rf "$completions"' EXIT
"$bin" generate completions "$completions"
install -D -m 644 "$completions/rootseal" "$dest/share/bash-completion/completions/rootseal"
install -D -m 644 "$completions/_rootseal" "$dest/share/zsh/site-functions/_rootseal"
install -D -m 644 "$completions/rootseal.fish" "$dest/share/fish/vendor_completions.d/rootseal.fish"
echo "installed rootseal $version into $dest"
