/*
 * A consumer of the installed library: built by tests/install.rs with nothing but
 * `pkg-config --cflags --libs rootseal`, as C99 and as C++ (so it avoids what C++
 * rejects: implicit void* conversions, designated initialisers). Prints "installed ok"
 * when every check passes, else names the failed check and exits 1.
 */
#include <rootseal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPECT(cond)                                                                         \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "check failed line %d: %s (%s)\n", __LINE__, #cond, rootseal_last_error()); \
            return 1;                                                                        \
        }                                                                                    \
    } while (0)

struct buffer {
    uint8_t *bytes;
    uint64_t size;
};

static int64_t buf_read(void *ctx, uint64_t offset, uint8_t *out, size_t len) {
    struct buffer *b = (struct buffer *)ctx;
    if (offset >= b->size) return 0;
    if (len > b->size - offset) len = (size_t)(b->size - offset);
    memcpy(out, b->bytes + offset, len);
    return (int64_t)len;
}

static int64_t buf_write(void *ctx, uint64_t offset, const uint8_t *in, size_t len) {
    struct buffer *b = (struct buffer *)ctx;
    if (offset > b->size || len > b->size - offset) return -1;
    memcpy(b->bytes + offset, in, len);
    return (int64_t)len;
}

static int32_t buf_flush(void *ctx) {
    (void)ctx;
    return 0;
}

static int32_t buf_size(void *ctx, uint64_t *size_out) {
    *size_out = ((struct buffer *)ctx)->size;
    return 0;
}

static rootseal_io io_of(struct buffer *b) {
    rootseal_io io;
    memset(&io, 0, sizeof io);
    io.version = ROOTSEAL_IO_VERSION;
    io.ctx = b;
    io.read = buf_read;
    io.write = buf_write;
    io.flush = buf_flush;
    io.size = buf_size;
    return io;
}

int main(void) {
    char expected[64];
    struct buffer data, hash, empty;
    rootseal_io data_io, hash_io, empty_io;
    rootseal_verity_params params;
    rootseal_verity_result result;
    rootseal_verity_range range;
    rootseal_verity_report *report = NULL;
    rootseal_gpt *gpt = NULL;
    uint64_t i;

    /* The header and the library it was installed with agree. */
    snprintf(expected, sizeof expected, "rootseal/%d.%d.%d", ROOTSEAL_VERSION_MAJOR, ROOTSEAL_VERSION_MINOR,
             ROOTSEAL_VERSION_PATCH);
    EXPECT(strcmp(rootseal_version(), expected) == 0);
    EXPECT(rootseal_abi_version() == ROOTSEAL_ABI_VERSION);
    EXPECT(strcmp(rootseal_strerror(ROOTSEAL_STATUS_VERITY_CORRUPTED), "verity: corrupted blocks found") == 0);

    /* A tree over 64 KiB in memory, then a range check before and after damage. */
    data.size = 16 * 4096;
    data.bytes = (uint8_t *)malloc((size_t)data.size);
    hash.size = 8 * 4096;
    hash.bytes = (uint8_t *)calloc(1, (size_t)hash.size);
    EXPECT(data.bytes && hash.bytes);
    for (i = 0; i < data.size; i++) data.bytes[i] = (uint8_t)(i * 7 / 13);
    data_io = io_of(&data);
    hash_io = io_of(&hash);
    memset(&params, 0, sizeof params);
    params.version = ROOTSEAL_VERITY_PARAMS_VERSION;
    EXPECT(rootseal_verity_format_io(&params, &data_io, &hash_io, &result) == ROOTSEAL_STATUS_OK);
    memset(&range, 0, sizeof range);
    range.version = ROOTSEAL_VERITY_RANGE_VERSION;
    range.offset = 5 * 4096;
    range.length = 3 * 4096;
    EXPECT(rootseal_verity_verify_range_io(&params, &data_io, &hash_io, result.root_hash, result.root_hash_size,
                                           &range, NULL) == ROOTSEAL_STATUS_OK);
    data.bytes[6 * 4096 + 1] ^= 1;
    EXPECT(rootseal_verity_verify_range_io(&params, &data_io, &hash_io, result.root_hash, result.root_hash_size,
                                           &range, &report) == ROOTSEAL_STATUS_VERITY_CORRUPTED);
    {
        size_t count = 0;
        const uint64_t *bad = rootseal_verity_report_corrupted_data_blocks(report, &count);
        EXPECT(count == 1 && bad[0] == 6);
    }
    rootseal_verity_report_free(report);

    /* An all-zero disk has no GPT: a status, not a crash. */
    empty.size = 1 << 20;
    empty.bytes = (uint8_t *)calloc(1, (size_t)empty.size);
    EXPECT(empty.bytes);
    empty_io = io_of(&empty);
    EXPECT(rootseal_gpt_open_io(&empty_io, NULL, &gpt) == ROOTSEAL_STATUS_GPT_NO_GPT && gpt == NULL);
    rootseal_gpt_close(NULL);

    free(data.bytes);
    free(hash.bytes);
    free(empty.bytes);
    printf("installed ok: %s, ABI %u\n", rootseal_version(), rootseal_abi_version());
    return 0;
}
