/*
 * The C library as a bootloader uses it: no paths, no file system. The disks are
 * memory buffers behind rootseal_io callbacks (harness.h), the way a GRUB module
 * wraps grub_disk_read/grub_disk_write. It runs gptprio `next`, `mark-good`, `repair`
 * and verity verification of the kernel's byte range, then makes every callback fail
 * in turn (read error, short read, over-long read, write error, flush error, block
 * size error) and checks each comes back as a status with nothing written.
 *
 * usage: bootloader DISK TYPE_GUID DATA HASH ROOT_HEX KERNEL_OFFSET KERNEL_LENGTH OUT
 *   DISK: a Flatcar-layout disk (512-byte blocks; partitions 3, 4 and 5 of type
 *   TYPE_GUID, 3 = A with P1 T0 S1, 4 = B with P2 T1 S0, 5 with P0); DATA/HASH: a veritysetup image and its
 *   tree (superblock at offset 0, 4 KiB blocks, 512 data blocks); ROOT_HEX its root
 *   hash. The images are read into memory first, as firmware hands a disk over; the
 *   final disk is written to OUT for tests/c_api.rs to check with cgpt and sgdisk.
 * Prints "N passed, M failed".
 */
#include "harness.h"

/* The participating partition type (argv[2]): Flatcar usr, or the Chrome OS kernel
 * type so that cgpt can replay the same operations. */
static const char *slot_type;

static struct memdisk load(const char *path) {
    size_t size;
    uint8_t *bytes = read_file(path, &size);
    struct memdisk disk = memdisk_new(bytes, size);
    free(bytes);
    return disk;
}

static rootseal_gpt_partition partition(rootseal_gpt *gpt, uint32_t index) {
    rootseal_gpt_partition part;
    memset(&part, 0xee, sizeof part);
    CHECK(rootseal_gpt_get_partition(gpt, index, &part) == ROOTSEAL_STATUS_OK);
    return part;
}

/* The boot path: choose, boot on trial, the OS marks the slot good, a damaged
 * primary header is repaired from the backup. */
static void boot_path(struct memdisk *disk) {
    rootseal_io io = memdisk_io(disk);
    rootseal_gpt *gpt = NULL;
    rootseal_gpt_next_result next;
    rootseal_gpt_state state;
    rootseal_gpt_partition part;
    uint32_t repaired = 0xffff;

    CHECK(rootseal_gpt_open_io(&io, NULL, &gpt) == ROOTSEAL_STATUS_OK && gpt != NULL);
    if (gpt == NULL) return;
    /* USR-B was just installed: its one try is used, and it is booted. */
    CHECK(rootseal_gpt_next(gpt, slot_type, &next) == ROOTSEAL_STATUS_OK);
    CHECK(next.partition.index == 4 && next.written == 1 && next.partition.tries == 0);
    CHECK(next.partition.priority == 2 && next.partition.successful == 0);
    /* The trial boot came up: the OS marks it good; later boots keep choosing it. */
    CHECK(rootseal_gpt_mark_good(gpt, 4, slot_type) == ROOTSEAL_STATUS_OK);
    part = partition(gpt, 4);
    CHECK(part.priority == 2 && part.tries == 0 && part.successful == 1);
    CHECK(rootseal_gpt_next(gpt, slot_type, &next) == ROOTSEAL_STATUS_OK);
    CHECK(next.partition.index == 4 && next.written == 0);

    /* A flipped byte in the primary header (LBA 1): booting still works from the
     * backup, and repair rebuilds the primary. */
    disk->bytes[512 + 40] ^= 0x01;
    CHECK(rootseal_gpt_get_state(gpt, &state) == ROOTSEAL_STATUS_OK);
    CHECK(!state.primary_valid && state.backup_valid);
    CHECK(rootseal_gpt_next(gpt, slot_type, &next) == ROOTSEAL_STATUS_OK && next.partition.index == 4);
    CHECK(rootseal_gpt_repair(gpt, 0, &repaired) == ROOTSEAL_STATUS_OK);
    CHECK(repaired == ROOTSEAL_GPT_REPAIRED_PRIMARY);
    CHECK(rootseal_gpt_get_state(gpt, &state) == ROOTSEAL_STATUS_OK);
    CHECK(state.primary_valid && state.backup_valid && state.backup_at_end);
    CHECK(rootseal_gpt_repair(gpt, 0, &repaired) == ROOTSEAL_STATUS_OK && repaired == 0);
    rootseal_gpt_close(gpt);
}

/* Every callback failing in turn: a status each time, never a crash, and a disk whose
 * bytes did not change unless a write got through. */
static void failing_gpt_callbacks(struct memdisk *disk) {
    rootseal_io io = memdisk_io(disk);
    rootseal_gpt *gpt = NULL;
    rootseal_gpt *never = (rootseal_gpt *)&io;
    rootseal_gpt_next_result next;
    rootseal_gpt_state state;
    uint8_t *before = malloc((size_t)disk->size);
    CHECK(before != NULL);
    if (before == NULL) return;
    memcpy(before, disk->bytes, (size_t)disk->size);

    disk->fail_reads = 1;
    CHECK(rootseal_gpt_open_io(&io, NULL, &never) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    CHECK(strstr(rootseal_last_error(), "read callback returned -5") != NULL);
    disk->fail_reads = 0;
    disk->reads_end = 0; /* every read comes back empty: a short read at offset 0 */
    CHECK(rootseal_gpt_open_io(&io, NULL, &never) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    disk->reads_end = UINT64_MAX;
    disk->overclaim = 1;
    CHECK(rootseal_gpt_open_io(&io, NULL, &never) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    disk->overclaim = 0;
    disk->fail_block_size = 1;
    CHECK(rootseal_gpt_open_io(&io, NULL, &never) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    disk->fail_block_size = 0;
    /* A disk claiming the largest possible size: the backup header is looked for at
     * its end, which reads nothing. Either copy missing is fine; a crash is not. */
    disk->claimed_size = UINT64_MAX;
    {
        rootseal_gpt *huge = NULL;
        rootseal_status st = rootseal_gpt_open_io(&io, NULL, &huge);
        CHECK(st == ROOTSEAL_STATUS_CALLBACK_FAILED || st == ROOTSEAL_STATUS_OK);
        rootseal_gpt_close(huge);
    }
    disk->claimed_size = 0;
    CHECK(never == (rootseal_gpt *)&io); /* out-param untouched on every failure */

    CHECK(rootseal_gpt_open_io(&io, NULL, &gpt) == ROOTSEAL_STATUS_OK);
    if (gpt == NULL) { free(before); return; }
    /* A read error in the middle of an operation on an open handle. */
    disk->fail_reads = 1;
    memset(&next, 0xcd, sizeof next);
    CHECK(rootseal_gpt_next(gpt, slot_type, &next) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    CHECK(next.written == 0xcdcdcdcd);
    disk->fail_reads = 0;
    /* The first write fails: nothing on the disk changed. */
    disk->writes_left = 0;
    CHECK(rootseal_gpt_mark_update(gpt, 5, slot_type) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    disk->writes_left = -1;
    CHECK(memcmp(before, disk->bytes, (size_t)disk->size) == 0);
    /* The flush fails: reported, and whatever reached the disk still reads as a valid
     * table that repair makes whole. */
    disk->fail_flush = 1;
    CHECK(rootseal_gpt_mark_update(gpt, 5, slot_type) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    disk->fail_flush = 0;
    CHECK(rootseal_gpt_get_state(gpt, &state) == ROOTSEAL_STATUS_OK);
    CHECK(state.primary_valid || state.backup_valid);
    CHECK(rootseal_gpt_repair(gpt, 0, NULL) == ROOTSEAL_STATUS_OK);
    /* Back to the disk boot_path left, which the Rust driver checks with cgpt. */
    memcpy(disk->bytes, before, (size_t)disk->size);
    rootseal_gpt_close(gpt);
    free(before);

    /* Missing callbacks and a bad struct version or reserved field. */
    io.read = NULL;
    CHECK(rootseal_gpt_open_io(&io, NULL, &never) == ROOTSEAL_STATUS_NULL_PARAMETER);
    io = memdisk_io(disk);
    io.version = ROOTSEAL_IO_VERSION + 1;
    CHECK(rootseal_gpt_open_io(&io, NULL, &never) == ROOTSEAL_STATUS_UNSUPPORTED_PARAMS_VERSION);
    io = memdisk_io(disk);
    io.reserved[2] = &io;
    CHECK(rootseal_gpt_open_io(&io, NULL, &never) == ROOTSEAL_STATUS_RESERVED_NOT_ZERO);
    CHECK(rootseal_gpt_open_io(NULL, NULL, &never) == ROOTSEAL_STATUS_NULL_PARAMETER);
    CHECK(never == (rootseal_gpt *)&io);
}

static int hex_byte(const char *s, uint8_t *out) {
    unsigned value;
    if (sscanf(s, "%2x", &value) != 1) return 0;
    *out = (uint8_t)value;
    return 1;
}

static rootseal_status range_check(rootseal_verity_params *params, struct memdisk *data, struct memdisk *hash,
                                   const uint8_t *root, size_t root_len, uint64_t offset, uint64_t length,
                                   rootseal_verity_report **report) {
    rootseal_io data_io = memdisk_io(data), hash_io = memdisk_io(hash);
    rootseal_verity_range range;
    memset(&range, 0, sizeof range);
    range.version = ROOTSEAL_VERITY_RANGE_VERSION;
    range.offset = offset;
    range.length = length;
    return rootseal_verity_verify_range_io(params, &data_io, &hash_io, root, root_len, &range, report);
}

/* Verifies the kernel's bytes before loading them, as a verity-aware bootloader would. */
static void kernel_range(struct memdisk *data, struct memdisk *hash, const uint8_t *root, uint64_t offset,
                         uint64_t length) {
    rootseal_verity_params params;
    rootseal_verity_report *report = NULL;
    rootseal_verity_range range;
    rootseal_io data_io, hash_io;
    const uint64_t *blocks;
    size_t count = 99;
    uint64_t first = offset / 4096, last = (offset + length - 1) / 4096;
    uint8_t wrong[32];

    memset(&params, 0, sizeof params);
    params.version = ROOTSEAL_VERITY_PARAMS_VERSION; /* everything else from the superblock */
    CHECK(range_check(&params, data, hash, root, 32, offset, length, NULL) == ROOTSEAL_STATUS_OK);
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_verity_report_corrupted_data_blocks(report, &count) == NULL && count == 0);
    rootseal_verity_report_free(report);
    report = NULL;

    /* Damage inside the range is found and named; outside it is not looked at. */
    data->bytes[(last - 1) * 4096 + 5] ^= 0x80;
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_VERITY_CORRUPTED);
    blocks = rootseal_verity_report_corrupted_data_blocks(report, &count);
    CHECK(count == 1 && blocks != NULL && blocks[0] == last - 1);
    rootseal_verity_report_free(report);
    report = NULL;
    data->bytes[(last - 1) * 4096 + 5] ^= 0x80;
    data->bytes[(last + 1) * 4096 + 5] ^= 0x80;
    CHECK(range_check(&params, data, hash, root, 32, offset, length, NULL) == ROOTSEAL_STATUS_OK);
    data_io = memdisk_io(data);
    hash_io = memdisk_io(hash);
    CHECK(rootseal_verity_verify_io(&params, &data_io, &hash_io, root, 32, NULL) == ROOTSEAL_STATUS_VERITY_CORRUPTED);
    data->bytes[(last + 1) * 4096 + 5] ^= 0x80;

    /* A leaf hash block on the range's path (hash block 2 + first / 128: the
     * superblock takes block 0, the top block 1) is blamed; one off the path is not. */
    hash->bytes[(2 + first / 128) * 4096 + 9] ^= 0x01;
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_VERITY_CORRUPTED);
    blocks = rootseal_verity_report_corrupted_hash_blocks(report, &count);
    CHECK(count == 1 && blocks != NULL && blocks[0] == 2 + first / 128);
    rootseal_verity_report_free(report);
    hash->bytes[(2 + first / 128) * 4096 + 9] ^= 0x01;
    hash->bytes[(2 + 3) * 4096 + 9] ^= 0x01;
    CHECK(first / 128 != 3 && last / 128 != 3);
    CHECK(range_check(&params, data, hash, root, 32, offset, length, NULL) == ROOTSEAL_STATUS_OK);
    hash->bytes[(2 + 3) * 4096 + 9] ^= 0x01;

    /* The wrong root hash: the top block is blamed. */
    memcpy(wrong, root, 32);
    wrong[0] ^= 1;
    report = NULL;
    CHECK(range_check(&params, data, hash, wrong, 32, offset, length, &report) == ROOTSEAL_STATUS_VERITY_CORRUPTED);
    blocks = rootseal_verity_report_corrupted_hash_blocks(report, &count);
    CHECK(count == 1 && blocks != NULL && blocks[0] == 1);
    rootseal_verity_report_free(report);
    report = NULL;
    /* A full verify tells a wrong root hash from corruption, and names the tree's own. */
    {
        size_t root_size = 1;
        const uint8_t *tree_root;
        CHECK(rootseal_verity_verify_io(&params, &data_io, &hash_io, wrong, 32, &report) ==
              ROOTSEAL_STATUS_VERITY_ROOT_HASH_MISMATCH);
        blocks = rootseal_verity_report_corrupted_hash_blocks(report, &count);
        CHECK(count == 0 && blocks == NULL);
        tree_root = rootseal_verity_report_tree_root_hash(report, &root_size);
        CHECK(root_size == 32 && tree_root != NULL && memcmp(tree_root, root, 32) == 0);
        rootseal_verity_report_free(report);
        report = NULL;
        CHECK(rootseal_verity_verify_io(&params, &data_io, &hash_io, root, 32, &report) == ROOTSEAL_STATUS_OK);
        CHECK(rootseal_verity_report_tree_root_hash(report, &root_size) == NULL && root_size == 0);
        rootseal_verity_report_free(report);
        report = NULL;
    }

    /* Failing callbacks: a status, and no report handed out. */
    data->fail_reads = 1;
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    data->fail_reads = 0;
    hash->reads_end = 4096 * 2; /* the tree ends early: a short read of the leaves */
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    hash->reads_end = UINT64_MAX;
    data->overclaim = 1;
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_CALLBACK_FAILED);
    data->overclaim = 0;
    hash->claimed_size = UINT64_MAX; /* a hash device that lies about its size */
    CHECK(range_check(&params, data, hash, root, 32, offset, length, NULL) == ROOTSEAL_STATUS_OK);
    hash->claimed_size = 0;
    data->claimed_size = UINT64_MAX; /* the data area comes from the superblock, not the size */
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_OK);
    rootseal_verity_report_free(report);
    report = NULL;
    data->claimed_size = 0;
    CHECK(report == NULL);

    /* Bad arguments. */
    CHECK(range_check(&params, data, hash, root, 32, offset, 0, &report) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    CHECK(range_check(&params, data, hash, root, 32, 512 * 4096 - 10, 11, &report) ==
          ROOTSEAL_STATUS_INVALID_ARGUMENT);
    CHECK(range_check(&params, data, hash, root, 32, UINT64_MAX, 2, &report) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    CHECK(range_check(&params, data, hash, root, 31, offset, length, &report) == ROOTSEAL_STATUS_VERITY_ROOT_HASH_LENGTH);
    CHECK(range_check(NULL, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_NULL_PARAMETER);
    CHECK(range_check(&params, data, hash, NULL, 32, offset, length, &report) == ROOTSEAL_STATUS_NULL_PARAMETER);
    params.reserved[7] = 1;
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_RESERVED_NOT_ZERO);
    params.reserved[7] = 0;
    params.version = 2;
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) ==
          ROOTSEAL_STATUS_UNSUPPORTED_PARAMS_VERSION);
    params.version = ROOTSEAL_VERITY_PARAMS_VERSION;
    params.data_block_size = 1024; /* disagrees with the superblock */
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) ==
          ROOTSEAL_STATUS_VERITY_CONFLICTS_WITH_SUPERBLOCK);
    params.data_block_size = 0;
    data_io = memdisk_io(data);
    hash_io = memdisk_io(hash);
    memset(&range, 0, sizeof range);
    range.version = ROOTSEAL_VERITY_RANGE_VERSION;
    range.offset = offset;
    range.length = length;
    CHECK(rootseal_verity_verify_range_io(&params, &data_io, &hash_io, root, 32, NULL, &report) ==
          ROOTSEAL_STATUS_NULL_PARAMETER);
    range.reserved[3] = 1;
    CHECK(rootseal_verity_verify_range_io(&params, &data_io, &hash_io, root, 32, &range, &report) ==
          ROOTSEAL_STATUS_RESERVED_NOT_ZERO);
    range.reserved[3] = 0;
    range.version = 0;
    CHECK(rootseal_verity_verify_range_io(&params, &data_io, &hash_io, root, 32, &range, &report) ==
          ROOTSEAL_STATUS_UNSUPPORTED_PARAMS_VERSION);
    range.version = ROOTSEAL_VERITY_RANGE_VERSION;
    CHECK(rootseal_verity_verify_range_io(&params, NULL, &hash_io, root, 32, &range, &report) ==
          ROOTSEAL_STATUS_NULL_PARAMETER);
    CHECK(report == NULL);
    /* The hash superblock damaged: verification cannot start. */
    hash->bytes[0] ^= 0xff;
    CHECK(range_check(&params, data, hash, root, 32, offset, length, &report) == ROOTSEAL_STATUS_VERITY_NO_SUPERBLOCK);
    hash->bytes[0] ^= 0xff;
    CHECK(report == NULL);
}

int main(int argc, char **argv) {
    struct memdisk disk, data, hash;
    uint8_t root[32];
    uint64_t offset, length;
    int i;
    FILE *out;
    if (argc != 9) {
        fprintf(stderr, "usage: %s DISK TYPE_GUID DATA HASH ROOT_HEX KERNEL_OFFSET KERNEL_LENGTH OUT\n", argv[0]);
        return 2;
    }
    disk = load(argv[1]);
    slot_type = argv[2];
    data = load(argv[3]);
    hash = load(argv[4]);
    disk.block_size = 512;
    for (i = 0; i < 32; i++) {
        if (strlen(argv[5]) != 64 || !hex_byte(argv[5] + 2 * i, &root[i])) {
            fprintf(stderr, "bad root hash %s\n", argv[5]);
            return 2;
        }
    }
    offset = strtoull(argv[6], NULL, 10);
    length = strtoull(argv[7], NULL, 10);

    boot_path(&disk);
    failing_gpt_callbacks(&disk);
    kernel_range(&data, &hash, root, offset, length);
#ifdef ROOTSEAL_TEST_PANIC
    CHECK(rootseal_test_panic() == ROOTSEAL_STATUS_PANIC);
    CHECK(strstr(rootseal_last_error(), "rootseal_test_panic") != NULL);
    CHECK(range_check(NULL, &data, &hash, root, 32, offset, length, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);
#endif

    out = fopen(argv[8], "wb");
    CHECK(out != NULL && fwrite(disk.bytes, 1, (size_t)disk.size, out) == disk.size);
    if (out != NULL) fclose(out);
    free(disk.bytes);
    free(data.bytes);
    free(hash.bytes);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
