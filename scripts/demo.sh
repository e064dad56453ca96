#!/usr/bin/env bash
# The README's first Quick start command: installs what is needed (scripts/setup.sh), then
# runs the main job on built-in examples:
#   1. examples/verity_demo.rs: a 16 MiB image gets a verity tree, is verified, one bit is
#      flipped and verification names the corrupted block;
#   2. examples/ab_update.rs: a Flatcar A/B cycle on a GPT disk (payload signature, USR-B
#      written, its verity tree, mark-update, trial boot, mark-good, rollback of a failed trial);
#   3. the same A/B cycle in C (examples/c/ab_update.c), built with pkg-config against an
#      installed copy of the library in a temporary prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo run --release --example verity_demo
cargo run --release --example ab_update
cargo build --release
./scripts/run-c-example.sh
