#!/usr/bin/env bash
# The boot library inside real UEFI firmware: builds uefi/rootseal_uefi_test.c against
# librootseal_boot.a as a gnu-efi application, puts it on a Flatcar-style disk (ESP,
# USR-A, USR-B with dm-verity trees, a kernel per slot carrying its slot's usr hash) made
# with the rootseal CLI and sgdisk, boots that disk twice under QEMU + OVMF and checks the
# serial log, and the disk against a copy that `rootseal gpt next` changed instead. See
# docs/uefi-test.md.
#
#   scripts/test-uefi.sh      # exit 0 only when every check passes
#
# ROOTSEAL=/path/to/rootseal uses that CLI instead of `cargo build --release`;
# ROOTSEAL_UEFI_ACCEL=kvm|tcg forces the accelerator (default: KVM when /dev/kvm is usable).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { echo "test-uefi: $*" >&2; }
die() { say "FAILED: $*"; exit 1; }

for tool in gcc ld objcopy readelf qemu-system-x86_64 sgdisk cgpt mkfs.vfat mmd mcopy veritysetup sha256sum cmp od dd; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup.sh installs it)"
done
efi_lib=""
for dir in /usr/lib /usr/lib64 /usr/lib/x86_64-linux-gnu /usr/lib/gnuefi; do
    if [[ -f $dir/crt0-efi-x86_64.o && -f $dir/elf_x86_64_efi.lds && -f $dir/libefi.a ]]; then efi_lib=$dir; break; fi
done
[[ -n $efi_lib && -f /usr/include/efi/efi.h ]] || die "gnu-efi is missing (crt0-efi-x86_64.o, elf_x86_64_efi.lds, libefi.a, efi.h)"
ovmf_code=${OVMF_CODE:-} ovmf_vars=${OVMF_VARS:-}
if [[ -z $ovmf_code ]]; then
    for pair in /usr/share/OVMF/OVMF_CODE_4M.fd:/usr/share/OVMF/OVMF_VARS_4M.fd \
        /usr/share/OVMF/OVMF_CODE.fd:/usr/share/OVMF/OVMF_VARS.fd \
        /usr/share/edk2/ovmf/OVMF_CODE.fd:/usr/share/edk2/ovmf/OVMF_VARS.fd; do
        if [[ -f ${pair%%:*} && -f ${pair##*:} ]]; then ovmf_code=${pair%%:*} ovmf_vars=${pair##*:}; break; fi
    done
fi
[[ -f $ovmf_code && -f $ovmf_vars ]] || die "OVMF is missing (OVMF_CODE*.fd and OVMF_VARS*.fd; or set OVMF_CODE and OVMF_VARS)"

# The layout, in bytes of a USR partition: the tree follows the data (its superblock at
# HASH_OFFSET, as `veritysetup format --hash-offset` puts it on one device), and the
# payload the application verifies sits at an odd offset inside the data area. The
# application is compiled with these numbers.
SECTOR=512
PART_SECTORS=8192                      # 4 MiB per partition
DATA_BLOCK_SIZE=4096
DATA_BLOCKS=768                        # 3 MiB of data
HASH_OFFSET=$((DATA_BLOCKS * DATA_BLOCK_SIZE))
PAYLOAD_OFFSET=$((1024 * 1024 + 1234))
PAYLOAD_LENGTH=300000
FLIP_AT=150000                         # the byte of the payload the second boot finds flipped
USR_TYPE=5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6
USR_A_UUID=7130c94a-213a-4e5a-8e26-6cce9662f132 # Flatcar's fixed PARTUUIDs
USR_B_UUID=e03dd35c-7c2d-4a47-b3fe-27f15780a57c

# --- the boot archive, the CLI and the application ---------------------------------
archive=$("$repo/scripts/build-boot.sh" | tail -n 1)
[[ -f $archive ]] || die "scripts/build-boot.sh printed no archive"
if [[ -z ${ROOTSEAL:-} ]]; then
    cargo build --release --quiet --manifest-path "$repo/Cargo.toml" >&2
    ROOTSEAL=${CARGO_TARGET_DIR:-$repo/target}/release/rootseal
fi
[[ -x $ROOTSEAL ]] || die "no rootseal CLI at $ROOTSEAL"
rootseal() { "$ROOTSEAL" "$@"; }

say "building the UEFI application"
gcc -std=gnu99 -O2 -Wall -Wextra -Werror \
    -fpic -fshort-wchar -ffreestanding -fno-stack-protector -fno-stack-check -mno-red-zone -maccumulate-outgoing-args \
    -DGNU_EFI_USE_MS_ABI -DUSR_HASH_OFFSET="$HASH_OFFSET" -DPAYLOAD_OFFSET="$PAYLOAD_OFFSET" \
    -DPAYLOAD_LENGTH="$PAYLOAD_LENGTH" \
    -I/usr/include/efi -I/usr/include/efi/x86_64 -I"$repo/include" \
    -c "$repo/uefi/rootseal_uefi_test.c" -o "$work/app.o"
# --no-undefined: a shared object may otherwise leave a symbol for a dynamic loader that
# UEFI does not have.
ld -shared -Bsymbolic -nostdlib -znocombreloc --no-undefined -T "$efi_lib/elf_x86_64_efi.lds" \
    "$efi_lib/crt0-efi-x86_64.o" "$work/app.o" "$archive" -L "$efi_lib" -lefi -lgnuefi -o "$work/app.so"
# gnu-efi's start-up code applies only R_X86_64_RELATIVE relocations.
if readelf -rW "$work/app.so" | awk '/^ *[0-9a-f]+ +[0-9a-f]+ +R_/ && $3 != "R_X86_64_RELATIVE"' | grep .; then
    die "the application has relocations other than R_X86_64_RELATIVE (above)"
fi
objcopy -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela -j '.rel.*' -j '.rela.*' -j .reloc \
    --target efi-app-x86_64 "$work/app.so" "$work/BOOTX64.EFI"
say "application: $(wc -c <"$work/BOOTX64.EFI") bytes"

# --- the disk -----------------------------------------------------------------------
disk=$work/disk.img
truncate -s 16M "$disk"
sgdisk -o \
    -n 1:2048:+4M -t 1:ef00 -c 1:EFI-SYSTEM \
    -n 3:0:+4M -t 3:$USR_TYPE -c 3:USR-A -u 3:$USR_A_UUID \
    -n 4:0:+4M -t 4:$USR_TYPE -c 4:USR-B -u 4:$USR_B_UUID \
    "$disk" >/dev/null
first_sector() { sgdisk -i "$1" "$2" | awk '/^First sector:/ { print $3 }'; }

# Each USR slot: random data with its own payload, the tree after it; its kernel
# carries its root hash, as Flatcar's vmlinuz-a/-b carry verity.usrhash.
declare -A root_hash payload_sha kernel_of
for slot in a b; do
    index=$([[ $slot == a ]] && echo 3 || echo 4)
    usr=$work/usr-$slot.img
    head -c $HASH_OFFSET /dev/urandom >"$usr"
    head -c $PAYLOAD_LENGTH /dev/urandom >"$work/payload-$slot"
    dd if="$work/payload-$slot" of="$usr" bs=1 seek=$PAYLOAD_OFFSET conv=notrunc status=none
    truncate -s $((PART_SECTORS * SECTOR)) "$usr"
    rootseal verity format "$usr" "$usr" --hash-offset $HASH_OFFSET --data-blocks $DATA_BLOCKS \
        --data-block-size $DATA_BLOCK_SIZE --hash-block-size $DATA_BLOCK_SIZE \
        --root-hash-file "$work/root-$slot" >/dev/null
    root_hash[$index]=$(cat "$work/root-$slot")
    veritysetup verify "$usr" "$usr" "${root_hash[$index]}" --hash-offset=$HASH_OFFSET --data-blocks=$DATA_BLOCKS ||
        die "veritysetup refuses the tree of USR-${slot^^}"
    payload_sha[$index]=$(sha256sum <"$work/payload-$slot" | cut -d' ' -f1)
    kernel_of[$index]="\\flatcar\\vmlinuz-$slot"
    dd if="$usr" of="$disk" bs=$SECTOR seek="$(first_sector $index "$disk")" conv=notrunc status=none

    # A bzImage as far as the usr hash goes: the HdrS magic at 0x202.
    truncate -s 16K "$work/vmlinuz-$slot"
    printf 'HdrS' | dd of="$work/vmlinuz-$slot" bs=1 seek=$((0x202)) conv=notrunc status=none
    rootseal kernel set-usrhash "$work/vmlinuz-$slot" "${root_hash[$index]}" >/dev/null
done

esp=$work/esp.img
mkfs.vfat -C -n EFI-SYSTEM "$esp" $((PART_SECTORS * SECTOR / 1024)) >/dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/flatcar
mcopy -i "$esp" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$work/vmlinuz-a" "$work/vmlinuz-b" ::/flatcar/
dd if="$esp" of="$disk" bs=$SECTOR seek="$(first_sector 1 "$disk")" conv=notrunc status=none

# USR-A booted fine; an update was just written to USR-B, which gets one try.
rootseal gpt set "$disk" -i 3 -P 1 -T 0 -S 1 >/dev/null
rootseal gpt mark-update "$disk" -i 4 >/dev/null
# Both GPT tools accept the disk: sgdisk -v finds no problem, cgpt (which exits 0 even
# then) prints no INVALID or WARNING.
gpt_ok() {
    local out
    out=$(sgdisk -v "$disk") && [[ $out == *"No problems found"* ]] || { echo "$out" >&2; say "sgdisk -v refuses the disk"; return 1; }
    out=$(cgpt show "$disk" 2>&1) && [[ $out != *INVALID* && $out != *WARNING* && $out != *ERROR* ]] ||
        { echo "$out" >&2; say "cgpt show refuses the disk"; return 1; }
}
gpt_ok || die "the new disk's GPT is not valid"

# --- booting ------------------------------------------------------------------------
# KVM when /dev/kvm is usable; a KVM that cannot run OVMF (some nested or software
# hypervisors stop it at its first instructions) falls back to TCG, once, with a message.
accel=${ROOTSEAL_UEFI_ACCEL:-}
if [[ -z $accel ]]; then
    if [[ -r /dev/kvm && -w /dev/kvm ]]; then accel=kvm; else accel=tcg; fi
    fallback=1
else
    fallback=0
fi
[[ $accel == kvm || $accel == tcg ]] || die "ROOTSEAL_UEFI_ACCEL must be kvm or tcg, not $accel"

boot_times=()
# run_qemu LOG IF: one boot of the disk on interface IF, until the application powers the
# machine off. It is stopped early when the firmware reports a CPU exception or KVM an
# internal error (both would otherwise sit until the timeout).
run_qemu() {
    local log=$1 interface=$2 cpu=max pid status=0 stopped=0
    [[ $accel == kvm ]] && cpu=host # the host's CPU: SHA-NI reaches the firmware when the host has it
    cp "$ovmf_vars" "$work/vars.fd"
    : >"$log"
    timeout 300 qemu-system-x86_64 -machine q35,accel=$accel -cpu $cpu -m 256 -smp 1 \
        -nodefaults -display none -no-reboot -net none -serial "file:$log" \
        -drive if=pflash,format=raw,unit=0,readonly=on,file="$ovmf_code" \
        -drive if=pflash,format=raw,unit=1,file="$work/vars.fd" \
        -drive file="$disk",format=raw,if="$interface" 2>"$log.err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if grep -q '!!!! X64 Exception' "$log" || grep -q 'KVM internal error' "$log.err"; then
            sleep 1 # the rest of the exception dump
            kill "$pid" 2>/dev/null || true
            stopped=1
            break
        fi
        sleep 0.5
    done
    wait "$pid" || status=$?
    # QEMU exits with status 0 on SIGTERM: a boot stopped here failed all the same.
    ((stopped)) && status=125
    # The firmware's console writes CR LF and terminal escapes; keep the text lines.
    tr -d '\r' <"$log" | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g' >"$log.txt"
    return $status
}

# boot LOG IF: run_qemu, falling back from KVM to TCG, with the time it took.
boot() {
    local log=$1 interface=$2 start end status=0
    start=$(date +%s.%N)
    run_qemu "$log" "$interface" || status=$?
    if ((status != 0)) && [[ $accel == kvm ]] && ((fallback)) && ! grep -q 'rootseal-uefi: start' "$log.txt"; then
        say "KVM cannot run OVMF here ($(grep -m1 -v warning "$log.err" || echo "exit status $status")); using TCG"
        accel=tcg status=0
        start=$(date +%s.%N)
        run_qemu "$log" "$interface" || status=$?
    fi
    end=$(date +%s.%N)
    if ((status != 0)); then
        say "serial log:"; cat "$log.txt" >&2; cat "$log.err" >&2
        die "QEMU ($accel) exited with status $status$( ((status == 124)) && echo ' (timed out after 300 s)')$( ((status == 125)) && echo ' (stopped: CPU exception or KVM internal error)')"
    fi
    boot_times+=("$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }')")
    grep 'rootseal-uefi:' "$log.txt" | sed 's/^/    /' >&2 || true
}

# expect LOG PATTERN...: every pattern (a fixed string) is on a line of the log.
expect() {
    local log=$1 pattern
    shift
    for pattern in "$@"; do
        grep -qF -- "$pattern" "$log.txt" || { say "serial log:"; cat "$log.txt" >&2; die "no line with: $pattern"; }
    done
}
refuse() {
    local log=$1 pattern
    shift
    for pattern in "$@"; do
        ! grep -F -- "$pattern" "$log.txt" >&2 || { say "serial log:"; cat "$log.txt" >&2; die "a line has: $pattern"; }
    done
}

# What `rootseal gpt next` does on a copy of the disk: the application must do the same.
json_field() { sed -n "s/.*\"$2\":\\(\"[^\"]*\"\\|[a-z0-9]*\\).*/\\1/p" <<<"$1" | tr -d '"'; }
twin_next() {
    local twin=$1 out
    out=$(rootseal gpt next "$twin" --json) || die "rootseal gpt next on the copy failed"
    next_index=$(json_field "$out" index)
    next_line="index=$next_index priority=$(json_field "$out" priority) tries=$(json_field "$out" tries)"
    next_line+=" successful=$(json_field "$out" successful) written=$([[ $(json_field "$out" written) == true ]] && echo 1 || echo 0)"
    next_line+=" fallback=$([[ $(json_field "$out" fallback) == null ]] && echo 0 || echo 1)"
    next_line+=" partuuid=$(json_field "$out" partuuid)"
}

# After a boot: the disk is the copy `rootseal gpt next` changed, byte for byte, and
# both GPT tools accept it.
same_as_twin() {
    local twin=$1
    cmp "$disk" "$twin" >&2 || die "the disk after boot differs from the copy rootseal gpt next changed ($(cmp -l "$disk" "$twin" | wc -l) bytes)"
    gpt_ok || die "the GPT is not valid after boot"
}

# Boot 1: USR-B is on trial, so next chooses it and uses its try; every step passes.
twin=$work/twin.img
cp "$disk" "$twin"
twin_next "$twin"
say "boot 1: expecting next: $next_line"
boot "$work/boot1.log" ide
expect "$work/boot1.log" \
    "rootseal-uefi: disk: ok" \
    "rootseal-uefi: next: ok $next_line" \
    "rootseal-uefi: usrhash: ok ${root_hash[$next_index]} arch=1 kernel=${kernel_of[$next_index]}" \
    "rootseal-uefi: range: ok offset=$PAYLOAD_OFFSET length=$PAYLOAD_LENGTH" \
    "rootseal-uefi: reader: ok bytes=$PAYLOAD_LENGTH sha256=${payload_sha[$next_index]} partition=$next_index" \
    "rootseal-uefi: summary: 5 ok, 0 failed"
same_as_twin "$twin"
say "boot 1 ($accel, ${boot_times[0]} s): every step ok, the disk is the twin's"

# Boot 2: the try is used up, so next falls back to the other slot. One bit of its
# payload is flipped (on the disk and on its twin alike) and both verifications must
# name the block that holds it.
twin2=$work/twin2.img
cp "$disk" "$twin2"
twin_next "$twin2"
flip=$(($(first_sector "$next_index" "$disk") * SECTOR + PAYLOAD_OFFSET + FLIP_AT))
byte=$(od -An -tu1 -j $flip -N1 "$disk" | tr -d ' ')
for image in "$disk" "$twin2"; do
    printf "\\$(printf %03o $((byte ^ 0x10)))" | dd of="$image" bs=1 seek=$flip conv=notrunc status=none
done
block=$(((PAYLOAD_OFFSET + FLIP_AT) / DATA_BLOCK_SIZE))
say "boot 2: expecting next: $next_line, data block $block refused"
boot "$work/boot2.log" virtio
expect "$work/boot2.log" \
    "rootseal-uefi: disk: ok" \
    "rootseal-uefi: next: ok $next_line" \
    "rootseal-uefi: usrhash: ok ${root_hash[$next_index]} arch=1 kernel=${kernel_of[$next_index]}" \
    "rootseal-uefi: range: FAIL corrupted data block $block (1 corrupted data blocks, 0 corrupted hash blocks" \
    "rootseal-uefi: reader: FAIL refused data block $block at byte $((block * DATA_BLOCK_SIZE - PAYLOAD_OFFSET)) of the payload" \
    "rootseal-uefi: summary: 3 ok, 2 failed"
refuse "$work/boot2.log" "rootseal-uefi: range: ok" "rootseal-uefi: reader: ok"
same_as_twin "$twin2"
say "boot 2 ($accel, ${boot_times[1]} s): the flipped block refused by both, the disk is the twin's"

say "boot times ($accel, to power-off): ${boot_times[0]} s and ${boot_times[1]} s"
say "ok"
