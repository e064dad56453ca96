#!/usr/bin/env bash
# The README's second Quick start command: installs what the tests need (system packages,
# and the OpenSSL FIPS provider, cached under ~/.cache/rootseal), then runs every test
# against the real veritysetup, cgpt, sgdisk, sfdisk and openssl. Needs root (loop devices,
# package installs). Extra arguments go to `cargo test`, e.g. `scripts/test.sh --test gpt`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
if [ -z "${ROOTSEAL_FIPS_CONFIG:-}" ]; then
    ROOTSEAL_FIPS_CONFIG="$(./scripts/build-fips-provider.sh | tail -n 1)"
    export ROOTSEAL_FIPS_CONFIG
fi
exec cargo test --features test-panic "$@"
