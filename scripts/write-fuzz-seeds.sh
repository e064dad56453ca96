#!/usr/bin/env bash
# Rewrites the fuzz seed corpora in fuzz/seeds/ with fuzz/examples/write_seeds.rs, on
# stable Rust (the example builds the fuzz crate's checks, not the fuzz targets).
#
# Usage: scripts/write-fuzz-seeds.sh [--new-key]
#   Without arguments: the seeds that follow from the code alone (verity_superblock,
#   verity_verify, gpt_read, gpt_ops, c_api); on an unchanged tree no byte changes, so
#   `git status fuzz/seeds` shows what a code change did to them.
#   --new-key: also a new payload test key (fuzz/keys/payload-test.pub.pem, its private
#   half thrown away) and the seeds made with fresh keys (crau_payload, keys), which
#   differ on every run. Needs the openssl CLI.
# The build goes to write-fuzz-seeds/ under $CARGO_TARGET_DIR (default: target/): a
# directory of its own, because the fuzz crate builds rootseal without the test suite's
# features, and its librootseal.a/.so (no hash in their names) would otherwise replace
# the ones the C tests link.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}/write-fuzz-seeds
cargo run --quiet --manifest-path "$root/fuzz/Cargo.toml" --target-dir "$target_dir" --example write_seeds -- "$@"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    echo "changed (git status):"
    git -C "$root" status --short -- fuzz/seeds fuzz/keys
fi
