/*
 * The boot library inside real UEFI firmware (OVMF under QEMU; scripts/test-uefi.sh
 * builds the disk, boots it and reads the serial log). As Flatcar's GRUB does, it:
 *
 *   disk     finds the whole disk behind EFI_BLOCK_IO_PROTOCOL and wraps it in
 *            rootseal_boot_io callbacks (byte offsets over whole-block I/O);
 *   next     chooses the USR slot and uses up one try (gptprio.next) through the
 *            library's GPT code, cross-checked with the firmware's own partition table;
 *   usrhash  reads the /usr root hash from the slot's kernel on the ESP
 *            (\flatcar\vmlinuz-a or -b, chosen by the slot's PARTUUID as grub.cfg does);
 *   range    verifies a payload's byte range in the slot's dm-verity data area against
 *            that root hash;
 *   reader   reads the same payload whole through the verified reader and prints its
 *            SHA-256;
 *
 * printing one "rootseal-uefi: STEP: ok|FAIL ..." line each and a summary, then powers
 * the machine off so that QEMU exits. The layout constants (where the verity tree and
 * the payload are) come from the build: -DUSR_HASH_OFFSET, -DPAYLOAD_OFFSET,
 * -DPAYLOAD_LENGTH, so the script that makes the disk is their one source.
 */
#include <efi.h>
#include <efigpt.h>
#include <efilib.h>

#include "rootseal_boot.h"

/* Firmware calls are made directly, which needs EFIAPI to be ms_abi. */
#if !defined(HAVE_USE_MS_ABI)
#error "build with -DGNU_EFI_USE_MS_ABI"
#endif
#if !defined(USR_HASH_OFFSET) || !defined(PAYLOAD_OFFSET) || !defined(PAYLOAD_LENGTH)
#error "build with -DUSR_HASH_OFFSET=, -DPAYLOAD_OFFSET= and -DPAYLOAD_LENGTH= (bytes in the USR partition)"
#endif

/*
 * The four functions the archive needs. gnu-efi's libefi defines memcpy and memset (in
 * init.o, which InitializeLib pulls in) but, in 3.0.15 (Debian 12), not memmove or
 * memcmp. Weak, so that whatever a gnu-efi version defines wins and nothing clashes;
 * string instructions, so the compiler cannot turn a loop here back into a call to
 * itself.
 */
__attribute__((weak)) void *memcpy(void *dst, const void *src, size_t n) {
    void *ret = dst;
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
    return ret;
}

__attribute__((weak)) void *memset(void *dst, int c, size_t n) {
    void *ret = dst;
    __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
    return ret;
}

__attribute__((weak)) void *memmove(void *dst, const void *src, size_t n) {
    if (n == 0 || dst == src) return dst;
    if ((uintptr_t)dst < (uintptr_t)src || (uintptr_t)dst >= (uintptr_t)src + n) return memcpy(dst, src, n);
    /* Overlap with dst above src: copy from the last byte down. */
    {
        uint8_t *d = (uint8_t *)dst + n - 1;
        const uint8_t *s = (const uint8_t *)src + n - 1;
        __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    }
    return dst;
}

__attribute__((weak)) int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}

/* ---------------------------------------------------------------------------------- */
/* Output: one line per step, counted for the summary.                                 */

static int steps_ok, steps_failed;

#define OK(step, fmt, ...) (steps_ok++, Print(L"rootseal-uefi: " step L": ok " fmt L"\r\n", ##__VA_ARGS__))
#define FAIL(step, fmt, ...) (steps_failed++, Print(L"rootseal-uefi: " step L": FAIL " fmt L"\r\n", ##__VA_ARGS__))

static const char hex_digits[] = "0123456789abcdef";

static void to_hex(const uint8_t *bytes, size_t len, CHAR8 *out) {
    size_t i;
    for (i = 0; i < len; i++) {
        out[2 * i] = hex_digits[bytes[i] >> 4];
        out[2 * i + 1] = hex_digits[bytes[i] & 15];
    }
    out[2 * len] = 0;
}

/* 64 lowercase hex characters (what the library returns) into 32 bytes. */
static void unhex32(const char *hex, uint8_t *out) {
    size_t i;
    for (i = 0; i < 32; i++) {
        char h = hex[2 * i], l = hex[2 * i + 1];
        out[i] = (uint8_t)(((h <= '9' ? h - '0' : h - 'a' + 10) << 4) | (l <= '9' ? l - '0' : l - 'a' + 10));
    }
}

/* A GUID from its on-disk (EFI_GUID, mixed-endian) bytes, as text. */
static void guid_text(const uint8_t g[16], CHAR8 out[37]) {
    static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    size_t i, o = 0;
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex_digits[g[order[i]] >> 4];
        out[o++] = hex_digits[g[order[i]] & 15];
    }
    out[o] = 0;
}

static void *pool(UINTN size) {
    void *p = NULL;
    return BS->AllocatePool(EfiLoaderData, size, &p) == EFI_SUCCESS ? p : NULL;
}

/* What the library's SHA-NI gate (src/simd/cpu.rs) sees here: CPUID's SHA, SSSE3 and
 * SSE4.1, and the SSE register state: XCR0's SSE bit when OSXSAVE is set, otherwise
 * CR4.OSFXSR, which is what makes SSE instructions usable (UEFI requires it on x64; the
 * library's compiled code relies on it anyway). Printed so that the log says which
 * SHA-256 code the verification ran. */
static void cpuid(UINT32 leaf, UINT32 sub, UINT32 r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

static void print_cpu(void) {
    UINT32 r[4], max, sha = 0, ssse3, sse41, osxsave, xcr0_sse = 0;
    UINT64 cr4;
    cpuid(0, 0, r);
    max = r[0];
    cpuid(1, 0, r);
    ssse3 = (r[2] >> 9) & 1;
    sse41 = (r[2] >> 19) & 1;
    osxsave = (r[2] >> 27) & 1;
    if (max >= 7) {
        cpuid(7, 0, r);
        sha = (r[1] >> 29) & 1;
    }
    if (osxsave) {
        UINT32 lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0_sse = (lo >> 1) & 1;
    }
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    Print(L"rootseal-uefi: cpu: sha=%d ssse3=%d sse4.1=%d osxsave=%d xcr0.sse=%d cr4.osfxsr=%d: SHA-256 on %s\r\n", sha,
          ssse3, sse41, osxsave, xcr0_sse, (UINT32)(cr4 >> 9) & 1,
          sha && ssse3 && sse41 && (osxsave ? xcr0_sse : (UINT32)(cr4 >> 9) & 1) ? L"SHA-NI" : L"the portable code");
}

/* ---------------------------------------------------------------------------------- */
/* The whole disk as rootseal_boot_io: byte offsets over BlockIo's whole-block I/O.    */

#define BOUNCE_BYTES (64 * 1024)

struct disk {
    EFI_BLOCK_IO *bio;
    UINT32 media_id, block_size;
    UINT64 size;
    /* Whole blocks, aligned as Media->IoAlign asks: every transfer goes through it, so
     * the caller's buffers and offsets need no alignment at all. */
    UINT8 *bounce;
    UINTN bounce_blocks;
};

/* Blocks covering `skip + remaining` bytes from a block start, at most a bounce's worth. */
static UINTN blocks_for(const struct disk *d, UINT64 skip, UINT64 remaining) {
    UINT64 blocks = (skip + remaining + d->block_size - 1) / d->block_size;
    return blocks < d->bounce_blocks ? (UINTN)blocks : d->bounce_blocks;
}

static int64_t disk_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len) {
    struct disk *d = ctx;
    UINT64 done = 0;
    if (offset >= d->size) return 0;
    if (len > d->size - offset) len = (size_t)(d->size - offset);
    while (done < len) {
        UINT64 pos = offset + done, skip = pos % d->block_size, n;
        UINTN blocks = blocks_for(d, skip, len - done);
        if (d->bio->ReadBlocks(d->bio, d->media_id, pos / d->block_size, blocks * d->block_size, d->bounce) != EFI_SUCCESS)
            return -1;
        n = blocks * d->block_size - skip;
        if (n > len - done) n = len - done;
        memcpy(buf + done, d->bounce + skip, (size_t)n);
        done += n;
    }
    return (int64_t)len;
}

#ifdef ROOTSEAL_BOOT_GPT_PARAMS_VERSION /* only next writes, and asks for the sizes */
static int64_t disk_write(void *ctx, uint64_t offset, const uint8_t *buf, size_t len) {
    struct disk *d = ctx;
    UINT64 done = 0;
    if (offset >= d->size || len > d->size - offset) return -1;
    while (done < len) {
        UINT64 pos = offset + done, skip = pos % d->block_size, lba = pos / d->block_size, n;
        UINTN blocks = blocks_for(d, skip, len - done);
        n = blocks * d->block_size - skip;
        if (n > len - done) n = len - done;
        /* A partial first or last block keeps the bytes around the write. */
        if ((skip != 0 || (skip + n) % d->block_size != 0) &&
            d->bio->ReadBlocks(d->bio, d->media_id, lba, blocks * d->block_size, d->bounce) != EFI_SUCCESS)
            return -1;
        memcpy(d->bounce + skip, buf + done, (size_t)n);
        if (d->bio->WriteBlocks(d->bio, d->media_id, lba, blocks * d->block_size, d->bounce) != EFI_SUCCESS) return -1;
        done += n;
    }
    return (int64_t)len;
}

static int32_t disk_flush(void *ctx) {
    struct disk *d = ctx;
    return d->bio->FlushBlocks(d->bio) == EFI_SUCCESS ? 0 : -1;
}

static int32_t disk_size(void *ctx, uint64_t *size_out) {
    *size_out = ((struct disk *)ctx)->size;
    return 0;
}

static int32_t disk_block_size(void *ctx, uint32_t *block_size_out) {
    *block_size_out = ((struct disk *)ctx)->block_size;
    return 0;
}
#endif

/* A byte range of the disk (a partition's contents), read-only. */
struct part {
    struct disk *disk;
    UINT64 base, length;
};

static int64_t part_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len) {
    struct part *p = ctx;
    if (offset >= p->length) return 0;
    if (len > p->length - offset) len = (size_t)(p->length - offset);
    return disk_read(p->disk, p->base + offset, buf, len);
}

static int32_t part_size(void *ctx, uint64_t *size_out) {
    *size_out = ((struct part *)ctx)->length;
    return 0;
}

static int32_t part_block_size(void *ctx, uint32_t *block_size_out) {
    *block_size_out = ((struct part *)ctx)->disk->block_size;
    return 0;
}

/* A file on the ESP, read-only. */
struct file {
    EFI_FILE_HANDLE handle;
    UINT64 size;
};

static int64_t file_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len) {
    struct file *f = ctx;
    UINTN n = len;
    if (offset >= f->size) return 0;
    if (f->handle->SetPosition(f->handle, offset) != EFI_SUCCESS) return -1;
    if (f->handle->Read(f->handle, &n, buf) != EFI_SUCCESS) return -1;
    return (int64_t)n;
}

static int32_t file_size(void *ctx, uint64_t *size_out) {
    *size_out = ((struct file *)ctx)->size;
    return 0;
}

static rootseal_boot_io io_struct(void *ctx, rootseal_boot_read_fn read) {
    rootseal_boot_io io;
    memset(&io, 0, sizeof io);
    io.version = ROOTSEAL_BOOT_IO_VERSION;
    io.ctx = ctx;
    io.read = read;
    return io;
}

/* ---------------------------------------------------------------------------------- */
/* Step 1: the disk.                                                                   */

static UINTN path_bytes_without_end(EFI_DEVICE_PATH *path) {
    return DevicePathSize(path) - END_DEVICE_PATH_LENGTH;
}

/* The HardDrive node right after `prefix_len` bytes of `path`, or NULL. */
static HARDDRIVE_DEVICE_PATH *hard_drive_node_after(EFI_DEVICE_PATH *path, UINTN prefix_len) {
    EFI_DEVICE_PATH *node = (EFI_DEVICE_PATH *)((UINT8 *)path + prefix_len);
    if (DevicePathType(node) == MEDIA_DEVICE_PATH && DevicePathSubType(node) == MEDIA_HARDDRIVE_DP)
        return (HARDDRIVE_DEVICE_PATH *)node;
    return NULL;
}

/* Whether `child` is `parent` plus a HardDrive node: a partition of that disk. */
static HARDDRIVE_DEVICE_PATH *partition_of(EFI_DEVICE_PATH *parent, EFI_DEVICE_PATH *child) {
    UINTN len;
    if (!parent || !child) return NULL;
    len = path_bytes_without_end(parent);
    if (path_bytes_without_end(child) <= len || CompareMem(parent, child, len) != 0) return NULL;
    return hard_drive_node_after(child, len);
}

static EFI_HANDLE *block_io_handles;
static UINTN block_io_count;

/* The disk this application was loaded from: the non-partition BlockIo whose device
 * path is the ESP's minus its last (HardDrive) node. Other disks, a CD-ROM, a RAM disk
 * or another disk that happens to hold the same bytes are never picked. */
static EFI_STATUS find_disk(EFI_HANDLE image, struct disk *d, EFI_DEVICE_PATH **disk_path, EFI_HANDLE *esp) {
    EFI_LOADED_IMAGE *loaded = NULL;
    EFI_DEVICE_PATH *esp_path;
    UINTN i, found = 0;

    if (BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&loaded) != EFI_SUCCESS) return EFI_NOT_FOUND;
    *esp = loaded->DeviceHandle;
    esp_path = DevicePathFromHandle(loaded->DeviceHandle);
    if (!esp_path) return EFI_NOT_FOUND;
    if (LibLocateHandle(ByProtocol, &BlockIoProtocol, NULL, &block_io_count, &block_io_handles) != EFI_SUCCESS)
        return EFI_NOT_FOUND;
    for (i = 0; i < block_io_count; i++) {
        EFI_BLOCK_IO *bio = NULL;
        EFI_DEVICE_PATH *path = DevicePathFromHandle(block_io_handles[i]);
        if (BS->HandleProtocol(block_io_handles[i], &BlockIoProtocol, (void **)&bio) != EFI_SUCCESS || !path) continue;
        if (bio->Media->LogicalPartition || !bio->Media->MediaPresent) continue;
        if (!partition_of(path, esp_path)) continue;
        found++;
        d->bio = bio;
        *disk_path = path;
    }
    return found == 1 ? EFI_SUCCESS : EFI_NOT_FOUND;
}

static int step_disk(EFI_HANDLE image, struct disk *d, EFI_DEVICE_PATH **disk_path, EFI_HANDLE *esp) {
    UINT8 *aligned, *whole, piece[64];
    UINT32 io_align;
    UINTN k;
    int same = 1;

    if (find_disk(image, d, disk_path, esp) != EFI_SUCCESS) {
        FAIL(L"disk", L"no single whole-disk BlockIo is the parent of the ESP this ran from");
        return 0;
    }
    d->media_id = d->bio->Media->MediaId;
    d->block_size = d->bio->Media->BlockSize;
    d->size = (d->bio->Media->LastBlock + 1) * (UINT64)d->block_size;
    d->bounce_blocks = BOUNCE_BYTES / d->block_size;
    if (d->bounce_blocks == 0) d->bounce_blocks = 1;
    io_align = d->bio->Media->IoAlign > 1 ? d->bio->Media->IoAlign : 1;
    aligned = pool(d->bounce_blocks * d->block_size + io_align);
    whole = pool(2 * d->block_size);
    if (!aligned || !whole) {
        FAIL(L"disk", L"out of memory");
        return 0;
    }
    d->bounce = (UINT8 *)(((uintptr_t)aligned + io_align - 1) & ~(uintptr_t)(io_align - 1));

    /* The read callback against BlockIo itself, across a block boundary at an odd
     * offset: proves the bouncing before the library depends on it. */
    if (d->bio->ReadBlocks(d->bio, d->media_id, 0, 2 * d->block_size, d->bounce) != EFI_SUCCESS) {
        FAIL(L"disk", L"cannot read blocks 0-1");
        return 0;
    }
    memcpy(whole, d->bounce, 2 * d->block_size);
    if (disk_read(d, d->block_size - 17, piece, sizeof piece) != (int64_t)sizeof piece) same = 0;
    for (k = 0; k < sizeof piece; k++) same &= piece[k] == whole[d->block_size - 17 + k];
    if (!same || memcmp(whole + d->block_size, "EFI PART", 8) != 0) {
        FAIL(L"disk", L"an unaligned read does not match the blocks (or no GPT header in LBA 1)");
        return 0;
    }
    OK(L"disk", L"blocks=%ld block_size=%d size=%ld io_align=%d read_only=%d", d->bio->Media->LastBlock + 1,
       d->block_size, d->size, d->bio->Media->IoAlign, d->bio->Media->ReadOnly);
    FreePool(whole);
    return 1;
}

/* ---------------------------------------------------------------------------------- */
/* Step 2: next. The firmware's partition driver read the same table at boot; its view   */
/* (EFI_PARTITION_INFO_PROTOCOL, UEFI 2.7) is an independent check of the library's.   */

#define PARTITION_TYPE_GPT 0x02

#pragma pack(1)
typedef struct {
    UINT32 Revision;
    UINT32 Type;
    UINT8 System;
    UINT8 Reserved[7];
    union {
        UINT8 Mbr[16];
        EFI_PARTITION_ENTRY Gpt;
    } Info;
} PARTITION_INFO;
#pragma pack()

static EFI_GUID partition_info_guid = { 0x8cf2f62c, 0xbc9b, 0x4821, { 0x80, 0x8d, 0xec, 0x9e, 0xc4, 0x21, 0xa1, 0xa0 } };

/* Flatcar's USR type, and its fixed PARTUUIDs of USR-A and USR-B (disk_layout.json;
 * grub.cfg boots /flatcar/vmlinuz-a for the first, vmlinuz-b otherwise). */
static EFI_GUID flatcar_usr_type = { 0x5dfbf5f4, 0x2848, 0x4bac, { 0xaa, 0x5e, 0x0d, 0x9a, 0x20, 0xb7, 0x45, 0xa6 } };
static EFI_GUID usr_a_guid = { 0x7130c94a, 0x213a, 0x4e5a, { 0x8e, 0x26, 0x6c, 0xce, 0x96, 0x62, 0xf1, 0x32 } };
static EFI_GUID usr_b_guid = { 0xe03dd35c, 0x7c2d, 0x4a47, { 0xb3, 0xfe, 0x27, 0xf1, 0x57, 0x80, 0xa5, 0x7c } };

/* The slot the later steps use. */
struct slot {
    UINT32 index;
    UINT64 first_lba, last_lba;
    uint8_t unique_guid[16];
};

/* What the firmware's partition driver knows of partition `index` of the disk. */
static int firmware_entry(EFI_DEVICE_PATH *disk_path, UINT32 index, EFI_PARTITION_ENTRY *out) {
    UINTN i;
    for (i = 0; i < block_io_count; i++) {
        PARTITION_INFO *info = NULL;
        HARDDRIVE_DEVICE_PATH *hd = partition_of(disk_path, DevicePathFromHandle(block_io_handles[i]));
        if (!hd || hd->PartitionNumber != index) continue;
        if (BS->HandleProtocol(block_io_handles[i], &partition_info_guid, (void **)&info) != EFI_SUCCESS ||
            info->Type != PARTITION_TYPE_GPT)
            return 0;
        *out = info->Info.Gpt;
        return 1;
    }
    return 0;
}

/* gptprio's choice from the firmware's view, read-only: the highest priority among the
 * USR partitions with tries left or marked successful; the lowest number wins a tie. */
static UINT32 firmware_choice(EFI_DEVICE_PATH *disk_path) {
    UINT32 index, best = 0, best_priority = 0;
    EFI_PARTITION_ENTRY entry;
    for (index = 1; index <= 128; index++) {
        UINT32 priority, tries, successful;
        if (!firmware_entry(disk_path, index, &entry) ||
            CompareMem(&entry.PartitionTypeGUID, &flatcar_usr_type, sizeof(EFI_GUID)) != 0)
            continue;
        priority = (UINT32)(entry.Attributes >> 48) & 15;
        tries = (UINT32)(entry.Attributes >> 52) & 15;
        successful = (UINT32)(entry.Attributes >> 56) & 1;
        if ((tries || successful) && priority > best_priority) {
            best = index;
            best_priority = priority;
        }
    }
    return best;
}

static int step_next(struct disk *d, EFI_DEVICE_PATH *disk_path, struct slot *slot) {
    UINT32 expected = firmware_choice(disk_path);
    EFI_PARTITION_ENTRY entry;
#ifdef ROOTSEAL_BOOT_GPT_PARAMS_VERSION
    rootseal_boot_io io = io_struct(d, disk_read);
    rootseal_boot_gpt_params params;
    rootseal_boot_gpt_next_result result;
    rootseal_boot_gpt_partition *p = &result.partition;
    rootseal_boot_status st;
    size_t need = 0;
    void *scratch;
    CHAR8 guid[37];

    io.write = disk_write;
    io.flush = disk_flush;
    io.size = disk_size;
    io.block_size = disk_block_size;
    memset(&params, 0, sizeof params);
    params.version = ROOTSEAL_BOOT_GPT_PARAMS_VERSION;
    params.disk = &io; /* type_guid all zero: Flatcar USR */
    st = rootseal_boot_gpt_scratch_size(&params, &need);
    if (st != ROOTSEAL_BOOT_STATUS_OK) {
        FAIL(L"next", L"status=%d from rootseal_boot_gpt_scratch_size", (int)st);
        return 0;
    }
    scratch = pool(need ? need : 1);
    if (!scratch) {
        FAIL(L"next", L"out of memory (%ld bytes of scratch)", (UINT64)need);
        return 0;
    }
    memset(&result, 0, sizeof result);
    st = rootseal_boot_gpt_next(&params, scratch, need, &result);
    FreePool(scratch);
    if (st != ROOTSEAL_BOOT_STATUS_OK) {
        FAIL(L"next", L"status=%d from rootseal_boot_gpt_next", (int)st);
        return 0;
    }
    guid_text(p->unique_guid, guid);
    slot->index = p->index;
    slot->first_lba = p->first_lba;
    slot->last_lba = p->last_lba;
    memcpy(slot->unique_guid, p->unique_guid, 16);
    /* The library and the firmware read the same table: same slot, same extent. */
    if (p->index != expected || !firmware_entry(disk_path, p->index, &entry) || entry.StartingLBA != p->first_lba ||
        entry.EndingLBA != p->last_lba || CompareMem(&entry.UniquePartitionGUID, p->unique_guid, 16) != 0 ||
        p->block_size != d->block_size) {
        FAIL(L"next", L"index=%d first_lba=%ld last_lba=%ld partuuid=%a block_size=%d, but the firmware chooses %d",
             p->index, p->first_lba, p->last_lba, guid, p->block_size, expected);
        return 0;
    }
    OK(L"next", L"index=%d priority=%d tries=%d successful=%d written=%d fallback=%d partuuid=%a first_lba=%ld last_lba=%ld",
       p->index, p->priority, p->tries, p->successful, result.written, result.fallback, guid, p->first_lba,
       p->last_lba);
    return 1;
#else
    /* Without the GPT API the later steps still run, on the firmware's read-only choice
     * (no try is used), so that they can be proven before the API lands. */
    (void)d;
    FAIL(L"next", L"library has no GPT API");
    if (expected == 0 || !firmware_entry(disk_path, expected, &entry)) return 0;
    slot->index = expected;
    slot->first_lba = entry.StartingLBA;
    slot->last_lba = entry.EndingLBA;
    memcpy(slot->unique_guid, &entry.UniquePartitionGUID, 16);
    return 1;
#endif
}

/* ---------------------------------------------------------------------------------- */
/* Step 3: the usr hash from the slot's kernel.                                         */

static int step_usrhash(EFI_HANDLE esp, const struct slot *slot, char usrhash[ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE]) {
    CHAR16 *name;
    EFI_FILE_HANDLE root, handle = NULL;
    EFI_FILE_INFO *info;
    struct file f;
    rootseal_boot_io io;
    rootseal_boot_status st;
    uint32_t arch = 0;
    CHAR8 guid[37];

    if (CompareMem(slot->unique_guid, &usr_a_guid, 16) == 0)
        name = L"\\flatcar\\vmlinuz-a";
    else if (CompareMem(slot->unique_guid, &usr_b_guid, 16) == 0)
        name = L"\\flatcar\\vmlinuz-b";
    else {
        FAIL(L"usrhash", L"partition %d has neither Flatcar USR PARTUUID", slot->index);
        return 0;
    }
    root = LibOpenRoot(esp);
    if (!root || root->Open(root, &handle, name, EFI_FILE_MODE_READ, 0) != EFI_SUCCESS) {
        FAIL(L"usrhash", L"cannot open %s on the ESP", name);
        return 0;
    }
    info = LibFileInfo(handle);
    if (!info) {
        FAIL(L"usrhash", L"no file info for %s", name);
        return 0;
    }
    f.handle = handle;
    f.size = info->FileSize;
    FreePool(info);
    io = io_struct(&f, file_read);
    io.size = file_size;
    st = rootseal_boot_kernel_usrhash_read(&io, 0, ROOTSEAL_BOOT_KERNEL_ARCH_AUTO, usrhash,
                                           ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE, &arch);
    handle->Close(handle);
    root->Close(root);
    if (st != ROOTSEAL_BOOT_STATUS_OK) {
        FAIL(L"usrhash", L"status=%d reading %s", (int)st, name);
        return 0;
    }
    guid_text(slot->unique_guid, guid);
    OK(L"usrhash", L"%a arch=%d kernel=%s partuuid=%a", usrhash, arch, name, guid);
    return 1;
}

/* ---------------------------------------------------------------------------------- */
/* Steps 4 and 5: the payload in the slot's verity data area.                           */

static int step_verity(struct disk *d, const struct slot *slot, const char *usrhash) {
    struct part part = { d, slot->first_lba * d->block_size, (slot->last_lba - slot->first_lba + 1) * d->block_size };
    rootseal_boot_io io = io_struct(&part, part_read);
    rootseal_boot_verity_params params;
    rootseal_boot_verity_superblock sb;
    rootseal_boot_verity_range_result range;
    rootseal_boot_verity_read_result res;
    rootseal_boot_verity_reader *reader;
    rootseal_boot_status st;
    uint8_t root_hash[32], digest[32], *scratch, *payload;
    UINT64 done = 0;
    size_t need = 0;
    CHAR8 digest_hex[65];
    int ok = 1;

    io.size = part_size;
    io.block_size = part_block_size;
    unhex32(usrhash, root_hash);
    memset(&params, 0, sizeof params);
    params.version = ROOTSEAL_BOOT_VERITY_PARAMS_VERSION;
    params.data = &io;
    params.hash = &io; /* one device: the tree follows the data, as Flatcar's USR has it */
    params.hash_offset = USR_HASH_OFFSET;
    params.root_hash = root_hash;
    params.root_hash_size = sizeof root_hash;

    st = rootseal_boot_verity_superblock_read(&io, USR_HASH_OFFSET, &sb);
    if (st == ROOTSEAL_BOOT_STATUS_OK) st = rootseal_boot_verity_range_scratch_size(&params, &need);
    scratch = st == ROOTSEAL_BOOT_STATUS_OK ? pool(need) : NULL;
    payload = pool(PAYLOAD_LENGTH);
    reader = pool(sizeof *reader);
    if (!scratch || !payload || !reader) {
        FAIL(L"range", L"status=%d: no superblock at %ld of partition %d, or out of memory", (int)st,
             (UINT64)USR_HASH_OFFSET, slot->index);
        FAIL(L"reader", L"not run");
        return 0;
    }

    st = rootseal_boot_verity_verify_range(&params, PAYLOAD_OFFSET, PAYLOAD_LENGTH, scratch, need, &range);
    if (st == ROOTSEAL_BOOT_STATUS_OK)
        OK(L"range", L"offset=%ld length=%ld data_blocks=%ld-%ld of %ld (%a, %d-byte blocks) partition=%d",
           (UINT64)PAYLOAD_OFFSET, (UINT64)PAYLOAD_LENGTH, (UINT64)PAYLOAD_OFFSET / sb.data_block_size,
           ((UINT64)PAYLOAD_OFFSET + PAYLOAD_LENGTH - 1) / sb.data_block_size, sb.data_blocks, sb.algorithm,
           sb.data_block_size, slot->index);
    else if (st == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPTED)
        ok = 0, FAIL(L"range", L"corrupted data block %ld (%ld corrupted data blocks, %ld corrupted hash blocks, first %ld) partition=%d",
                     range.first_corrupted_data_block, range.corrupted_data_blocks, range.corrupted_hash_blocks,
                     range.first_corrupted_hash_block, slot->index);
    else
        ok = 0, FAIL(L"range", L"status=%d partition=%d", (int)st, slot->index);

    /* The same bytes through the verified reader, in whatever pieces it returns. */
    st = rootseal_boot_verity_reader_init(&params, scratch, need, reader);
    while (st == ROOTSEAL_BOOT_STATUS_OK && done < PAYLOAD_LENGTH) {
        st = rootseal_boot_verity_reader_read(reader, PAYLOAD_OFFSET + done, payload + done,
                                              (size_t)(PAYLOAD_LENGTH - done), &res);
        if (st == ROOTSEAL_BOOT_STATUS_OK && res.bytes_read == 0) break; /* the data area ended */
        if (st == ROOTSEAL_BOOT_STATUS_OK) done += res.bytes_read;
    }
    if (st == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPTED) {
        FAIL(L"reader", L"refused data block %ld at byte %ld of the payload (hash block valid=%d number=%ld) partition=%d",
             res.corrupt_data_block, done, res.corrupt_hash_block_valid, res.corrupt_hash_block, slot->index);
        ok = 0;
    } else if (st != ROOTSEAL_BOOT_STATUS_OK || done != PAYLOAD_LENGTH) {
        FAIL(L"reader", L"status=%d after %ld of %ld bytes partition=%d", (int)st, done, (UINT64)PAYLOAD_LENGTH, slot->index);
        ok = 0;
    } else if (rootseal_boot_sha256(payload, PAYLOAD_LENGTH, digest, sizeof digest) != ROOTSEAL_BOOT_STATUS_OK) {
        FAIL(L"reader", L"rootseal_boot_sha256 failed");
        ok = 0;
    } else {
        to_hex(digest, sizeof digest, digest_hex);
        OK(L"reader", L"bytes=%ld sha256=%a partition=%d", done, digest_hex, slot->index);
    }
    FreePool(reader);
    FreePool(payload);
    FreePool(scratch);
    return ok;
}

/* ---------------------------------------------------------------------------------- */

/* Not EFIAPI: gnu-efi's _start (crt0) calls it with the System V convention. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab) {
    struct disk disk;
    struct slot slot;
    EFI_DEVICE_PATH *disk_path = NULL;
    EFI_HANDLE esp = NULL;
    char usrhash[ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE];

    InitializeLib(image, systab);
    /* The firmware's 5-minute boot watchdog could fire under slow emulation. */
    BS->SetWatchdogTimer(0, 0, 0, NULL);
    memset(&disk, 0, sizeof disk);
    memset(&slot, 0, sizeof slot);
    Print(L"\r\nrootseal-uefi: start: library version 0x%x, header 0x%x\r\n", rootseal_boot_version(),
          ROOTSEAL_BOOT_VERSION);
    print_cpu();

    if (!step_disk(image, &disk, &disk_path, &esp)) {
        FAIL(L"next", L"not run");
        FAIL(L"usrhash", L"not run");
        FAIL(L"range", L"not run");
        FAIL(L"reader", L"not run");
    } else if (!step_next(&disk, disk_path, &slot)) {
        FAIL(L"usrhash", L"not run: no slot");
        FAIL(L"range", L"not run: no slot");
        FAIL(L"reader", L"not run: no slot");
    } else if (!step_usrhash(esp, &slot, usrhash)) {
        FAIL(L"range", L"not run: no usr hash");
        FAIL(L"reader", L"not run: no usr hash");
    } else {
        step_verity(&disk, &slot, usrhash);
    }

    Print(L"rootseal-uefi: summary: %d ok, %d failed\r\n", steps_ok, steps_failed);
    /* Powers QEMU off; the log is the result. */
    RT->ResetSystem(EfiResetShutdown, steps_failed ? EFI_ABORTED : EFI_SUCCESS, 0, NULL);
    return steps_failed ? EFI_ABORTED : EFI_SUCCESS;
}
