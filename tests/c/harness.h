/*
 * Shared by the C contract tests: the CHECK counter, a whole-file reader, and an
 * in-memory disk behind the rootseal_io callbacks, the way a bootloader would wrap its
 * own disk layer. Each test prints "N passed, M failed" from the counters at the end.
 */
#ifndef ROOTSEAL_TEST_HARNESS_H
#define ROOTSEAL_TEST_HARNESS_H

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

/* The whole file, NUL-terminated (for text inputs); exits with 2 when it cannot be read. */
static inline uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *bytes;
    long size;
    if (!f) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    bytes = malloc((size_t)size + 1);
    if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    fclose(f);
    bytes[size] = 0;
    *len = (size_t)size;
    return bytes;
}

/* Reads are deliberately short (1000 bytes at most) to exercise the retry loop. */
struct memdisk {
    uint8_t *bytes;
    uint64_t size;
    uint64_t capacity;     /* writes beyond it fail; below it they grow `size` */
    uint32_t block_size;   /* 0 = no block_size callback */
    int fail_reads;        /* non-zero: every read fails */
    int writes_left;       /* -1 = unlimited; 0 = the next write fails (a power cut) */
    int flushes;           /* flush calls so far */
    int fail_flush;        /* non-zero: every flush fails */
    int fail_block_size;   /* non-zero: the block_size callback fails */
    int overclaim;         /* non-zero: reads claim one byte more than asked */
    uint64_t reads_end;    /* reads at or past it come back empty (a disk that lies about its size) */
    uint64_t claimed_size; /* non-zero: what the size callback reports instead of `size` */
};

static inline int64_t mem_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len) {
    struct memdisk *d = ctx;
    if (d->fail_reads) return -5;
    if (d->overclaim) return (int64_t)len + 1;
    if (offset >= d->size || offset >= d->reads_end) return 0;
    if (len > 1000) len = 1000;
    if (len > d->size - offset) len = (size_t)(d->size - offset);
    if (len > d->reads_end - offset) len = (size_t)(d->reads_end - offset);
    memcpy(buf, d->bytes + offset, len);
    return (int64_t)len;
}

static inline int64_t mem_write(void *ctx, uint64_t offset, const uint8_t *buf, size_t len) {
    struct memdisk *d = ctx;
    if (d->writes_left == 0) return -5;
    if (d->writes_left > 0) d->writes_left--;
    if (offset > d->capacity || len > d->capacity - offset) return -28;
    memcpy(d->bytes + offset, buf, len);
    if (offset + len > d->size) d->size = offset + len;
    return (int64_t)len;
}

static inline int32_t mem_flush(void *ctx) {
    struct memdisk *d = ctx;
    d->flushes++;
    return d->fail_flush ? -5 : 0;
}

static inline int32_t mem_size(void *ctx, uint64_t *size_out) {
    struct memdisk *d = ctx;
    *size_out = d->claimed_size ? d->claimed_size : d->size;
    return 0;
}

static inline int32_t mem_block_size(void *ctx, uint32_t *block_size_out) {
    struct memdisk *d = ctx;
    if (d->fail_block_size) return -5;
    *block_size_out = d->block_size;
    return 0;
}

/* A disk of `size` bytes (copied from `bytes` when not NULL) that cannot grow. */
static inline struct memdisk memdisk_new(const uint8_t *bytes, uint64_t size) {
    struct memdisk d;
    memset(&d, 0, sizeof d);
    d.bytes = calloc(1, size ? (size_t)size : 1);
    if (d.bytes && bytes) memcpy(d.bytes, bytes, (size_t)size);
    d.size = d.capacity = size;
    d.writes_left = -1;
    d.reads_end = UINT64_MAX;
    return d;
}

static inline rootseal_io memdisk_io(struct memdisk *d) {
    rootseal_io io;
    memset(&io, 0, sizeof io);
    io.version = ROOTSEAL_IO_VERSION;
    io.ctx = d;
    io.read = mem_read;
    io.write = mem_write;
    io.flush = mem_flush;
    io.size = mem_size;
    if (d->block_size) io.block_size = mem_block_size;
    return io;
}

#endif
