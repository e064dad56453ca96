#!/usr/bin/env bash
# Installs the system packages rootseal's build and tests need, on Debian/Ubuntu.
# Idempotent and quick when everything is present. Run as root (or with sudo available).
set -euo pipefail

packages=(
  cryptsetup-bin   # veritysetup: the peer every verity test compares against
  gcc g++          # the C and C++ header tests
  binutils         # nm, ld -r, objcopy, ar: scripts/build-boot.sh
  valgrind         # the C tests run under it too
  cgpt             # Chrome OS cgpt (vboot-utils): the GPT A/B peer
  gdisk            # sgdisk: makes and verifies the GPT test disks
  fdisk            # sfdisk: reads the 256-byte-entry test disks
  libssl-dev pkg-config  # the openssl crate links the system libcrypto
  openssl          # the signature tests make keys and signatures with the CLI
  perl make        # scripts/build-fips-provider.sh builds the FIPS provider
  man-db groff-base  # tests/c_abi/install.rs renders the installed man pages with `man -l`
  bash-completion  # and loads the installed bash completion
  gnu-efi          # scripts/test-uefi.sh: the UEFI application that links librootseal_boot.a
  ovmf qemu-system-x86  # and boots it in firmware (KVM when /dev/kvm works, TCG otherwise)
  mtools dosfstools     # the FAT EFI system partition, built without mounting
)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "setup.sh: installing ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
