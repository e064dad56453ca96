#!/usr/bin/env bash
# Builds the OpenSSL 3 FIPS provider (fips.so) from the OpenSSL sources shipped in the
# openssl-src crate, runs `openssl fipsinstall`, and writes a config that activates the
# fips and base providers with default_properties = fips=yes.
#
# Debian ships no FIPS provider, and rootseal's FIPS tests need a real one. The result is
# a development build: the crate leaves out the checksum files a validated build needs,
# so it must never be claimed as a validated module.
#
# Usage: scripts/build-fips-provider.sh [PREFIX]
#   PREFIX defaults to ~/.cache/rootseal/fips-<openssl-src version>. An existing, complete
#   build there is reused; ROOTSEAL_FIPS_REBUILD=1 (or deleting PREFIX) rebuilds from nothing.
# The last line printed is the config path, for ROOTSEAL_FIPS_CONFIG.
set -euo pipefail

# The openssl-src release whose providers/fips sources are built. Bump deliberately.
OPENSSL_SRC_VERSION="300.6.1+3.6.3"

prefix="${1:-${HOME}/.cache/rootseal/fips-${OPENSSL_SRC_VERSION}}"
config="${prefix}/openssl-fips.cnf"
log() { echo "build-fips-provider: $*" >&2; }

if [ "${ROOTSEAL_FIPS_REBUILD:-0}" != 1 ] && [ -s "${prefix}/.complete" ] && [ -f "${config}" ]; then
  log "reusing ${prefix}"
  echo "${config}"
  exit 0
fi

# The prefix is wiped before installing: refuse to wipe anything this script did not make.
if [ -e "$prefix" ] && [ -n "$(ls -A "$prefix" 2>/dev/null)" ] && [ ! -e "$prefix/lib/ossl-modules/fips.so" ]; then
  log "refusing to overwrite ${prefix}: it exists and is not a previous FIPS provider build"
  exit 1
fi

for tool in cargo perl make cc openssl; do
  command -v "$tool" >/dev/null || { log "missing tool: $tool (run scripts/setup.sh)"; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# 1. Fetch the crate with cargo, its ordinary registry client, through a throwaway manifest.
mkdir -p "$work/fetch/src"
cat >"$work/fetch/Cargo.toml" <<EOF
[package]
name = "fips-source-fetch"
version = "0.0.0"
edition = "2021"
[dependencies]
openssl-src = "=${OPENSSL_SRC_VERSION}"
EOF
: >"$work/fetch/src/lib.rs"
manifest_path="$(cd "$work/fetch" && cargo fetch -q && cargo metadata -q --format-version 1 |
  perl -MJSON::PP -0777 -ne 'for (@{decode_json($_)->{packages}}) { print $_->{manifest_path} if $_->{name} eq "openssl-src" }')"
[ -n "$manifest_path" ] || { log "could not locate openssl-src ${OPENSSL_SRC_VERSION}"; exit 1; }
src="$work/openssl"
cp -r "$(dirname "$manifest_path")/openssl" "$src"
chmod -R u+w "$src"

# 2. The crate's exclude list drops three build inputs that `enable-fips` needs. Stand-ins:
# the provider exports exactly one symbol, and the real module config comes from fipsinstall.
printf 'OSSL_provider_init                      1\t*\tEXIST::FUNCTION:\n' >"$src/util/providers.num"
cat >"$src/util/mkdef.pl" <<'EOF'
#!/usr/bin/env perl
# Stand-in for OpenSSL's mkdef.pl (excluded from the openssl-src crate): the FIPS
# provider's linker version script, which exports only OSSL_provider_init.
print "{\n    global:\n        OSSL_provider_init;\n    local: *;\n};\n";
EOF
cat >"$src/util/mk-fipsmodule-cnf.pl" <<'EOF'
#!/usr/bin/env perl
# Stand-in for OpenSSL's mk-fipsmodule-cnf.pl (excluded from the openssl-src crate):
# the real fipsmodule.cnf is written by `openssl fipsinstall` after the build.
print "# placeholder; run openssl fipsinstall\n";
EOF

# 3. Build the provider only: fips.so is compiled from its own objects and needs neither
# libcrypto nor the openssl app from this tree, which halves the build time.
log "configuring in $src"
(cd "$src" && ./Configure enable-fips no-shared no-legacy no-tests no-docs \
  --prefix="$prefix" --openssldir="$prefix/ssl" --libdir=lib >"$work/configure.log" 2>&1) ||
  { tail -30 "$work/configure.log" >&2; exit 1; }
log "building providers/fips.so (about 1-2 minutes on 2 cores)"
jobs="$(nproc 2>/dev/null || echo 2)"
(cd "$src" && make -j"$jobs" build_generated >"$work/make.log" 2>&1 &&
  make -j"$jobs" providers/fips.so >>"$work/make.log" 2>&1) || { tail -40 "$work/make.log" >&2; exit 1; }

# 4. Install into a fresh prefix and let the system openssl run the self-tests and write
# fipsmodule.cnf (the module MAC and the option switches).
rm -rf "$prefix"
mkdir -p "$prefix/lib/ossl-modules"
cp "$src/providers/fips.so" "$prefix/lib/ossl-modules/fips.so"
openssl fipsinstall -module "$prefix/lib/ossl-modules/fips.so" -out "$prefix/fipsmodule.cnf" \
  -provider_name fips >"$work/fipsinstall.log" 2>&1 || { cat "$work/fipsinstall.log" >&2; exit 1; }
cat >"$config" <<EOF
# Activates the FIPS provider built by scripts/build-fips-provider.sh, plus base (for the
# PEM/DER decoders), and makes fips=yes the default property query.
config_diagnostics = 1
openssl_conf = openssl_init

.include ${prefix}/fipsmodule.cnf

[openssl_init]
providers = provider_sect
alg_section = algorithm_sect

[provider_sect]
fips = fips_sect
base = base_sect

[base_sect]
activate = 1

[algorithm_sect]
default_properties = fips=yes
EOF
# fipsinstall writes no module path into the config; the library loads it from here.
sed -i "/^\[fips_sect\]/a module = ${prefix}/lib/ossl-modules/fips.so" "$prefix/fipsmodule.cnf"

# 5. Prove it loads and is active before declaring the build complete.
OPENSSL_CONF="$config" openssl list -providers >"$work/providers.txt" 2>&1 || { cat "$work/providers.txt" >&2; exit 1; }
grep -q "OpenSSL FIPS Provider" "$work/providers.txt" || { cat "$work/providers.txt" >&2; exit 1; }
echo "${OPENSSL_SRC_VERSION}" >"$prefix/.complete"
log "done: $(grep -A2 '^  fips' "$work/providers.txt" | tr -s ' \n' ' ')"
echo "${config}"
