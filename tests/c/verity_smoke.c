/*
 * C contract test for the verity entry points: path and callback APIs, error paths,
 * out-params untouched on failure. Driven by tests/c_api.rs, which also compares the
 * printed root hash with veritysetup's. Prints "N passed, M failed" at the end.
 *
 * usage: verity_smoke DATA HASH   (DATA: an image of 64 x 4096 bytes; HASH: scratch path)
 */
#include "rootseal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            passed++;                                                                \
        } else {                                                                     \
            failed++;                                                                \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__,  \
                    __LINE__, #cond, rootseal_last_error());                         \
        }                                                                            \
    } while (0)

static const uint8_t SALT[4] = {0xde, 0xad, 0xbe, 0xef};
#define DATA_SIZE (64u * 4096u)

/* An in-memory disk behind the callback API, the way a bootloader would wrap its
 * own disk layer. Reads are deliberately short to exercise the retry loop. */
struct memdisk {
    uint8_t *bytes;
    uint64_t size;
    uint64_t capacity;
    int fail_reads;
};

static int64_t mem_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len) {
    struct memdisk *d = ctx;
    if (d->fail_reads) return -5;
    if (offset >= d->size) return 0;
    if (len > 1000) len = 1000;
    if (len > d->size - offset) len = (size_t)(d->size - offset);
    memcpy(buf, d->bytes + offset, len);
    return (int64_t)len;
}

static int64_t mem_write(void *ctx, uint64_t offset, const uint8_t *buf, size_t len) {
    struct memdisk *d = ctx;
    if (offset > d->capacity || len > d->capacity - offset) return -28;
    memcpy(d->bytes + offset, buf, len);
    if (offset + len > d->size) d->size = offset + len;
    return (int64_t)len;
}

static int32_t mem_flush(void *ctx) { (void)ctx; return 0; }

static int32_t mem_size(void *ctx, uint64_t *size_out) {
    struct memdisk *d = ctx;
    *size_out = d->size;
    return 0;
}

static rootseal_io memdisk_io(struct memdisk *d) {
    rootseal_io io;
    memset(&io, 0, sizeof io);
    io.version = ROOTSEAL_IO_VERSION;
    io.ctx = d;
    io.read = mem_read;
    io.write = mem_write;
    io.flush = mem_flush;
    io.size = mem_size;
    return io;
}

static rootseal_verity_params base_params(void) {
    rootseal_verity_params p;
    memset(&p, 0, sizeof p);
    p.version = ROOTSEAL_VERITY_PARAMS_VERSION;
    p.salt = SALT;
    p.salt_size = sizeof SALT;
    p.flags = ROOTSEAL_VERITY_NO_SUPERBLOCK;
    return p;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv) {
    const char *data_path, *hash_path;
    rootseal_verity_params params;
    rootseal_verity_result result, untouched;
    rootseal_verity_report *report = NULL;
    const uint64_t *blocks;
    size_t count = 99, data_len = 0, i;
    uint8_t *data;
    int32_t st;

    if (argc != 3) { fprintf(stderr, "usage: %s DATA HASH\n", argv[0]); return 2; }
    data_path = argv[1];
    hash_path = argv[2];

    CHECK(strncmp(rootseal_version(), "rootseal/", 9) == 0);
    CHECK(rootseal_abi_version() == ROOTSEAL_ABI_VERSION);
    CHECK(strcmp(rootseal_strerror(ROOTSEAL_STATUS_OK), "success") == 0);
    CHECK(strcmp(rootseal_strerror(123456), "unknown status") == 0);

    /* Format by path; the driver compares this line with veritysetup. */
    params = base_params();
    st = rootseal_verity_format(&params, data_path, hash_path, &result);
    CHECK(st == ROOTSEAL_STATUS_OK);
    CHECK(result.root_hash_size == 32 && result.hash_algorithm == ROOTSEAL_HASH_SHA256);
    CHECK(result.data_blocks == 64 && result.hash_blocks == 1 && result.hash_start_block == 0);
    CHECK(result.salt_size == 4 && memcmp(result.salt, SALT, 4) == 0);
    printf("root ");
    for (i = 0; i < result.root_hash_size; i++) printf("%02x", result.root_hash[i]);
    printf("\n");

    /* Verify by path: intact, with and without a report. */
    CHECK(rootseal_verity_verify(&params, data_path, hash_path, result.root_hash, 32, NULL) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_verity_verify(&params, data_path, hash_path, result.root_hash, 32, &report) == ROOTSEAL_STATUS_OK);
    CHECK(report != NULL);
    blocks = rootseal_verity_report_corrupted_data_blocks(report, &count);
    CHECK(blocks == NULL && count == 0);
    rootseal_verity_report_free(report);
    report = NULL;

    /* Callback API over memory: same root hash, then corruption named by block. */
    data = read_file(data_path, &data_len);
    CHECK(data != NULL && data_len == DATA_SIZE);
    if (data) {
        struct memdisk ddisk = {0}, hdisk = {0};
        rootseal_io dio, hio;
        rootseal_verity_result mem_result;
        ddisk.bytes = data;
        ddisk.size = ddisk.capacity = data_len;
        hdisk.bytes = calloc(1, 4096);
        hdisk.capacity = 4096;
        hdisk.size = 4096;
        dio = memdisk_io(&ddisk);
        hio = memdisk_io(&hdisk);
        st = rootseal_verity_format_io(&params, &dio, &hio, &mem_result);
        CHECK(st == ROOTSEAL_STATUS_OK);
        CHECK(memcmp(mem_result.root_hash, result.root_hash, 32) == 0);
        CHECK(rootseal_verity_verify_io(&params, &dio, &hio, result.root_hash, 32, NULL) == ROOTSEAL_STATUS_OK);

        data[5 * 4096 + 17] ^= 0x40;
        st = rootseal_verity_verify_io(&params, &dio, &hio, result.root_hash, 32, &report);
        CHECK(st == ROOTSEAL_STATUS_VERITY_CORRUPTED);
        blocks = rootseal_verity_report_corrupted_data_blocks(report, &count);
        CHECK(count == 1 && blocks != NULL && blocks[0] == 5);
        blocks = rootseal_verity_report_corrupted_hash_blocks(report, &count);
        CHECK(count == 0);
        rootseal_verity_report_free(report);
        report = NULL;
        data[5 * 4096 + 17] ^= 0x40;

        /* A failing callback is a status, not a crash; the report stays untouched. */
        ddisk.fail_reads = 1;
        report = (rootseal_verity_report *)&ddisk;
        st = rootseal_verity_verify_io(&params, &dio, &hio, result.root_hash, 32, &report);
        CHECK(st == ROOTSEAL_STATUS_CALLBACK_FAILED);
        CHECK(report == (rootseal_verity_report *)&ddisk);
        CHECK(strlen(rootseal_last_error()) > 0);
        report = NULL;
        ddisk.fail_reads = 0;

        /* A hash device too small for the tree is refused before anything is written. */
        hdisk.capacity = hdisk.size = 0;
        CHECK(rootseal_verity_format_io(&params, &dio, &hio, NULL) == ROOTSEAL_STATUS_VERITY_HASH_DEVICE_TOO_SMALL);
        free(hdisk.bytes);
        free(data);
    }

    /* Error paths: out-params must stay untouched. */
    memset(&untouched, 0xAA, sizeof untouched);
    memcpy(&result, &untouched, sizeof result);
    CHECK(rootseal_verity_format(NULL, data_path, hash_path, &result) == ROOTSEAL_STATUS_NULL_PARAMETER);
    CHECK(rootseal_verity_format(&params, NULL, hash_path, &result) == ROOTSEAL_STATUS_NULL_PARAMETER);
    CHECK(rootseal_verity_verify(&params, data_path, hash_path, NULL, 32, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);

    params = base_params();
    params.version = 2;
    CHECK(rootseal_verity_format(&params, data_path, hash_path, &result) == ROOTSEAL_STATUS_UNSUPPORTED_PARAMS_VERSION);
    params = base_params();
    params.reserved[7] = 1;
    CHECK(rootseal_verity_format(&params, data_path, hash_path, &result) == ROOTSEAL_STATUS_RESERVED_NOT_ZERO);
    params = base_params();
    params.data_block_size = 3000;
    CHECK(rootseal_verity_format(&params, data_path, hash_path, &result) == ROOTSEAL_STATUS_VERITY_INVALID_BLOCK_SIZE);
    CHECK(strstr(rootseal_last_error(), "3000") != NULL);
    params = base_params();
    params.hash_algorithm = 99;
    CHECK(rootseal_verity_format(&params, data_path, hash_path, &result) == ROOTSEAL_STATUS_VERITY_UNSUPPORTED_ALGORITHM);
    params = base_params();
    params.data_blocks = 65;
    CHECK(rootseal_verity_format(&params, data_path, hash_path, &result) == ROOTSEAL_STATUS_VERITY_DATA_TOO_SHORT);
    params = base_params();
    CHECK(rootseal_verity_verify(&params, data_path, hash_path, result.root_hash, 31, NULL) == ROOTSEAL_STATUS_VERITY_ROOT_HASH_LENGTH);
    CHECK(memcmp(&result, &untouched, sizeof result) == 0);

    rootseal_verity_report_free(NULL);
    CHECK(rootseal_verity_report_corrupted_data_blocks(NULL, &count) == NULL && count == 0);

#if defined(ROOTSEAL_TEST_PANIC)
    CHECK(rootseal_test_panic() == ROOTSEAL_STATUS_PANIC);
    CHECK(strstr(rootseal_last_error(), "panic") != NULL);
#endif

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
