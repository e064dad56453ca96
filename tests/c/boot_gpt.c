/*
 * The boot library's GPT calls from C, as a boot loader makes them: the disk image is
 * read into memory, served through rootseal_boot_io callbacks that log every write and
 * flush ("io write OFFSET LEN" / "io flush"), and written back to the file afterwards
 * so the Rust test can compare it with what the CLI, cgpt and sgdisk make of the same
 * disk.
 *
 * Usage: boot_gpt DISK BLOCK_SIZE OP [N [MAX]]
 *   OP: next | mark-good N | mark-update N | prioritize N MAX | prioritize-friends N MAX
 *       | partition N
 *       | small-scratch | failing-write | contract
 * BLOCK_SIZE 0: the library detects it (no block_size callback).
 * BOOT_GPT_SLOT_TYPE (environment): the slot type GUID in text form; Flatcar's USR
 * (the library's default, all-zero type_guid) when unset.
 * Prints "status S" and the result, then "N passed, M failed" for the contract checks.
 */
#include "rootseal_boot.h"
#include "boot_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct disk {
    uint8_t *bytes;
    size_t len;
    uint32_t block_size;
    int fail_writes;
};

static int64_t disk_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len) {
    struct disk *d = ctx;
    size_t n;
    if (offset >= d->len) return 0;
    n = d->len - (size_t)offset < len ? d->len - (size_t)offset : len;
    memcpy(buf, d->bytes + offset, n);
    return (int64_t)n;
}

static int64_t disk_write(void *ctx, uint64_t offset, const uint8_t *buf, size_t len) {
    struct disk *d = ctx;
    if (d->fail_writes || offset > d->len || len > d->len - (size_t)offset) return -5;
    memcpy(d->bytes + offset, buf, len);
    printf("io write %llu %zu\n", (unsigned long long)offset, len);
    return (int64_t)len;
}

static int32_t disk_flush(void *ctx) {
    struct disk *d = ctx;
    if (d->fail_writes) return -5;
    printf("io flush\n");
    return 0;
}

static int32_t disk_size(void *ctx, uint64_t *out) {
    *out = ((struct disk *)ctx)->len;
    return 0;
}

static int32_t disk_block_size(void *ctx, uint32_t *out) {
    *out = ((struct disk *)ctx)->block_size;
    return 0;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into the on-disk (EFI_GUID) byte order. */
static int parse_guid(const char *text, uint8_t out[16]) {
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    uint8_t bytes[16];
    int i, n = 0;
    for (i = 0; text[i] && n < 32; i++) {
        char c = text[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c == '-' ? -2 : -1;
        if (v == -2) continue;
        if (v < 0) return -1;
        if (n % 2 == 0) bytes[n / 2] = (uint8_t)(v << 4); else bytes[n / 2] |= (uint8_t)v;
        n++;
    }
    if (n != 32) return -1;
    for (i = 0; i < 16; i++) out[i] = bytes[order[i]];
    return 0;
}

static void print_partition(const char *label, const rootseal_boot_gpt_partition *p) {
    printf("%s index=%u priority=%u tries=%u successful=%u attributes=%016llx first_lba=%llu last_lba=%llu "
           "block_size=%u\n",
           label, p->index, p->priority, p->tries, p->successful, (unsigned long long)p->attributes,
           (unsigned long long)p->first_lba, (unsigned long long)p->last_lba, p->block_size);
}

/* The calls with NULLs, bad versions and reserved fields: statuses, and `out` untouched. */
static void contract(const rootseal_boot_gpt_params *good, uint8_t *scratch, size_t scratch_len,
                     const uint8_t *pristine, const struct disk *d) {
    rootseal_boot_gpt_params bad = *good;
    rootseal_boot_gpt_next_result result;
    rootseal_boot_io io = *good->disk;
    size_t needed = 7;
    uint32_t written = 7;

    memset(&result, 0xa5, sizeof result);
    CHECK(rootseal_boot_gpt_next(NULL, scratch, scratch_len, &result) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(rootseal_boot_gpt_next(good, scratch, scratch_len, NULL) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(rootseal_boot_gpt_next(good, NULL, scratch_len, &result) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(rootseal_boot_gpt_scratch_size(good, NULL) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    bad.version = 2;
    CHECK(rootseal_boot_gpt_next(&bad, scratch, scratch_len, &result) == ROOTSEAL_BOOT_STATUS_UNSUPPORTED_PARAMS_VERSION);
    bad = *good;
    bad.reserved[3] = 1;
    CHECK(rootseal_boot_gpt_next(&bad, scratch, scratch_len, &result) == ROOTSEAL_BOOT_STATUS_RESERVED_NOT_ZERO);
    bad = *good;
    bad.flags = 2;
    CHECK(rootseal_boot_gpt_next(&bad, scratch, scratch_len, &result) == ROOTSEAL_BOOT_STATUS_INVALID_ARGUMENT);
    /* Friends without a target, as cgpt refuses -f without -i. */
    bad = *good;
    bad.flags = ROOTSEAL_BOOT_GPT_FRIENDS;
    CHECK(rootseal_boot_gpt_prioritize(&bad, 0, 0, scratch, scratch_len, &written) == ROOTSEAL_BOOT_STATUS_INVALID_ARGUMENT);
    bad = *good;
    bad.disk = NULL;
    CHECK(rootseal_boot_gpt_next(&bad, scratch, scratch_len, &result) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    bad = *good;
    io.size = NULL;
    bad.disk = &io;
    CHECK(rootseal_boot_gpt_scratch_size(&bad, &needed) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(needed == 7);
    /* A slot type nothing has: no bootable slot, nothing written. */
    bad = *good;
    memset(bad.type_guid, 0x11, sizeof bad.type_guid);
    CHECK(rootseal_boot_gpt_next(&bad, scratch, scratch_len, &result) == ROOTSEAL_BOOT_STATUS_GPT_NO_BOOTABLE_SLOT);
    /* Partition numbers out of the table, unused entries, wrong types. */
    CHECK(rootseal_boot_gpt_mark_good(good, 0, scratch, scratch_len, &written) == ROOTSEAL_BOOT_STATUS_GPT_NO_SUCH_PARTITION);
    CHECK(rootseal_boot_gpt_mark_good(good, 100000, scratch, scratch_len, &written) == ROOTSEAL_BOOT_STATUS_GPT_NO_SUCH_PARTITION);
    CHECK(rootseal_boot_gpt_mark_good(good, 8, scratch, scratch_len, &written) == ROOTSEAL_BOOT_STATUS_GPT_UNUSED_PARTITION);
    CHECK(rootseal_boot_gpt_mark_update(good, 1, scratch, scratch_len, &written) == ROOTSEAL_BOOT_STATUS_GPT_WRONG_TYPE);
    CHECK(rootseal_boot_gpt_prioritize(good, 3, 16, scratch, scratch_len, &written) == ROOTSEAL_BOOT_STATUS_GPT_VALUE_OUT_OF_RANGE);
    CHECK(written == 7);
    /* An unknown block size from the callback. */
    io = *good->disk;
    bad = *good;
    bad.disk = &io;
    ((struct disk *)io.ctx)->block_size = 1024;
    CHECK(rootseal_boot_gpt_next(&bad, scratch, scratch_len, &result) == ROOTSEAL_BOOT_STATUS_GPT_INVALID_BLOCK_SIZE);
    ((struct disk *)io.ctx)->block_size = d->block_size;
    CHECK(memcmp(d->bytes, pristine, d->len) == 0);
    {
        /* out untouched on every failure above */
        rootseal_boot_gpt_next_result canary;
        memset(&canary, 0xa5, sizeof canary);
        CHECK(memcmp(&canary, &result, sizeof result) == 0);
    }
}

int main(int argc, char **argv) {
    struct disk d = {0};
    rootseal_boot_io io;
    rootseal_boot_gpt_params params;
    FILE *f;
    const char *op;
    uint8_t *scratch, *pristine;
    size_t needed = 0;
    uint32_t written = 0, index = 0, max = 0;
    rootseal_boot_status status;

    if (argc < 4) { fprintf(stderr, "usage: boot_gpt DISK BLOCK_SIZE OP [N [MAX]]\n"); return 2; }
    op = argv[3];
    if (argc > 4) index = (uint32_t)strtoul(argv[4], NULL, 10);
    if (argc > 5) max = (uint32_t)strtoul(argv[5], NULL, 10);
    d.bytes = slurp(argv[1], &d.len);
    pristine = malloc(d.len + 1);
    if (!pristine) { fprintf(stderr, "out of memory\n"); return 2; }
    memcpy(pristine, d.bytes, d.len);
    d.block_size = (uint32_t)strtoul(argv[2], NULL, 10);

    memset(&io, 0, sizeof io);
    io.version = ROOTSEAL_BOOT_IO_VERSION;
    io.ctx = &d;
    io.read = disk_read;
    io.write = disk_write;
    io.flush = disk_flush;
    io.size = disk_size;
    if (d.block_size != 0) io.block_size = disk_block_size;
    memset(&params, 0, sizeof params);
    params.version = ROOTSEAL_BOOT_GPT_PARAMS_VERSION;
    params.disk = &io;
    if (getenv("BOOT_GPT_SLOT_TYPE") && strcmp(getenv("BOOT_GPT_SLOT_TYPE"), "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6") != 0 &&
        parse_guid(getenv("BOOT_GPT_SLOT_TYPE"), params.type_guid) != 0) {
        fprintf(stderr, "bad BOOT_GPT_SLOT_TYPE\n");
        return 2;
    }

    status = rootseal_boot_gpt_scratch_size(&params, &needed);
    printf("scratch %d %zu\n", (int)status, needed);
    if (status != ROOTSEAL_BOOT_STATUS_OK) return 1;
    scratch = malloc(needed);

    if (strcmp(op, "next") == 0 || strcmp(op, "failing-write") == 0) {
        rootseal_boot_gpt_next_result result;
        d.fail_writes = strcmp(op, "failing-write") == 0;
        status = rootseal_boot_gpt_next(&params, scratch, needed, &result);
        printf("status %d\n", (int)status);
        if (status == ROOTSEAL_BOOT_STATUS_OK) {
            print_partition("next", &result.partition);
            printf("written=%u fallback=%u\n", result.written, result.fallback);
        }
    } else if (strcmp(op, "mark-good") == 0 || strcmp(op, "mark-update") == 0) {
        status = op[5] == 'g' ? rootseal_boot_gpt_mark_good(&params, index, scratch, needed, &written)
                              : rootseal_boot_gpt_mark_update(&params, index, scratch, needed, &written);
        printf("status %d\nwritten=%u\n", (int)status, written);
    } else if (strcmp(op, "prioritize") == 0 || strcmp(op, "prioritize-friends") == 0) {
        if (op[10] == '-') params.flags = ROOTSEAL_BOOT_GPT_FRIENDS;
        status = rootseal_boot_gpt_prioritize(&params, index, max, scratch, needed, &written);
        printf("status %d\nwritten=%u\n", (int)status, written);
    } else if (strcmp(op, "partition") == 0) {
        rootseal_boot_gpt_partition p;
        status = rootseal_boot_gpt_get_partition(&params, index, scratch, needed, &p);
        printf("status %d\n", (int)status);
        if (status == ROOTSEAL_BOOT_STATUS_OK) print_partition("partition", &p);
    } else if (strcmp(op, "small-scratch") == 0) {
        rootseal_boot_gpt_next_result result;
        status = rootseal_boot_gpt_next(&params, scratch, needed - 1, &result);
        printf("status %d\n", (int)status);
        CHECK(status == ROOTSEAL_BOOT_STATUS_BUFFER_TOO_SMALL);
        CHECK(memcmp(d.bytes, pristine, d.len) == 0);
    } else if (strcmp(op, "contract") == 0) {
        contract(&params, scratch, needed, pristine, &d);
    } else {
        fprintf(stderr, "unknown op %s\n", op);
        return 2;
    }
    printf("%d passed, %d failed\n", passed, failed);

    f = fopen(argv[1], "wb");
    if (!f || fwrite(d.bytes, 1, d.len, f) != d.len || fclose(f) != 0) { fprintf(stderr, "cannot write back\n"); return 2; }
    free(scratch);
    free(pristine);
    free(d.bytes);
    return failed ? 1 : 0;
}
