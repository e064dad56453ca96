/*
 * The boot library from C, as a boot loader uses it: the usr hash and the verity
 * superblock read through rootseal_boot_io callbacks over an in-memory disk, SHA-256 and
 * SHA-512, and the contract (NULL, small buffers, failing and lying callbacks, hostile
 * bytes, out-params untouched on failure). Prints what it found for the Rust test to
 * compare with veritysetup and sha256sum, then "N passed, M failed".
 *
 * Usage: boot_smoke HASH_FILE KERNEL_FILE DATA_FILE ROOT_HASH_HEX
 * (HASH_FILE: veritysetup format of DATA_FILE with a superblock at 0, salt and all.)
 */
#include "rootseal_boot.h"
#include "boot_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A disk in memory; `mode` makes the read callback misbehave. */
enum { READ_OK, READ_FAIL, READ_TOO_MUCH, READ_ONE_BYTE };
struct disk {
    const uint8_t *bytes;
    size_t len;
    int mode;
};

static int64_t disk_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len) {
    struct disk *d = ctx;
    size_t n;
    if (d->mode == READ_FAIL) return -5;
    if (d->mode == READ_TOO_MUCH) return (int64_t)len + 1;
    if (offset >= d->len) return 0;
    n = d->len - (size_t)offset < len ? d->len - (size_t)offset : len;
    if (d->mode == READ_ONE_BYTE && n > 1) n = 1;
    memcpy(buf, d->bytes + offset, n);
    return (int64_t)n;
}

static rootseal_boot_io io_of(struct disk *d) {
    rootseal_boot_io io;
    memset(&io, 0, sizeof io);
    io.version = ROOTSEAL_BOOT_IO_VERSION;
    io.ctx = d;
    io.read = disk_read;
    return io;
}

static void print_hex(const char *label, const uint8_t *bytes, size_t len) {
    size_t i;
    printf("%s ", label);
    for (i = 0; i < len; i++) printf("%02x", bytes[i]);
    printf("\n");
}

static void superblock(const uint8_t *hash, size_t hash_len) {
    struct disk d = { hash, hash_len, READ_OK };
    rootseal_boot_io io = io_of(&d);
    rootseal_boot_verity_superblock sb, untouched;
    uint8_t bad[512];
    int i, zero = 1;

    CHECK(rootseal_boot_verity_superblock_read(&io, 0, &sb) == ROOTSEAL_BOOT_STATUS_OK);
    printf("superblock hash_type=%u data_block_size=%u hash_block_size=%u data_blocks=%llu algorithm=%s digest_size=%u\n",
           sb.hash_type, sb.data_block_size, sb.hash_block_size, (unsigned long long)sb.data_blocks,
           sb.algorithm, sb.digest_size);
    print_hex("salt", sb.salt, sb.salt_size);
    print_hex("uuid", sb.uuid, 16);
    for (i = 0; i < 4; i++) zero &= sb.reserved[i] == 0;
    CHECK(zero && sb.reserved0 == 0);

    /* The same bytes in memory, and one byte at a time through the callback. */
    CHECK(rootseal_boot_verity_superblock_parse(hash, 512, &untouched) == ROOTSEAL_BOOT_STATUS_OK);
    CHECK(memcmp(&untouched, &sb, sizeof sb) == 0);
    d.mode = READ_ONE_BYTE;
    CHECK(rootseal_boot_verity_superblock_read(&io, 0, &untouched) == ROOTSEAL_BOOT_STATUS_OK);
    CHECK(memcmp(&untouched, &sb, sizeof sb) == 0);

    /* Failures leave the out-param alone. */
    memset(&untouched, 0xa5, sizeof untouched);
    d.mode = READ_FAIL;
    CHECK(rootseal_boot_verity_superblock_read(&io, 0, &untouched) == ROOTSEAL_BOOT_STATUS_CALLBACK_FAILED);
    d.mode = READ_TOO_MUCH;
    CHECK(rootseal_boot_verity_superblock_read(&io, 0, &untouched) == ROOTSEAL_BOOT_STATUS_CALLBACK_FAILED);
    d.mode = READ_OK;
    CHECK(rootseal_boot_verity_superblock_read(&io, hash_len - 100, &untouched) == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPT_SUPERBLOCK);
    CHECK(rootseal_boot_verity_superblock_read(&io, UINT64_MAX - 10, &untouched) != ROOTSEAL_BOOT_STATUS_OK);
    CHECK(rootseal_boot_verity_superblock_parse(hash, 511, &untouched) == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPT_SUPERBLOCK);
    memcpy(bad, hash, 512);
    bad[0] = 'X';
    CHECK(rootseal_boot_verity_superblock_parse(bad, 512, &untouched) == ROOTSEAL_BOOT_STATUS_VERITY_NO_SUPERBLOCK);
    memcpy(bad, hash, 512);
    bad[8] = 2; /* version */
    CHECK(rootseal_boot_verity_superblock_parse(bad, 512, &untouched) == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPT_SUPERBLOCK);
    memcpy(bad, hash, 512);
    bad[64] ^= 1; /* a data block size that is not a power of two */
    CHECK(rootseal_boot_verity_superblock_parse(bad, 512, &untouched) == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPT_SUPERBLOCK);
    memcpy(bad, hash, 512);
    memset(bad + 32, 'a', 32); /* algorithm name without NUL */
    CHECK(rootseal_boot_verity_superblock_parse(bad, 512, &untouched) == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPT_SUPERBLOCK);
    memcpy(bad, hash, 512);
    bad[80] = 1; bad[81] = 1; /* salt size 257 */
    CHECK(rootseal_boot_verity_superblock_parse(bad, 512, &untouched) == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPT_SUPERBLOCK);
    memcpy(bad, hash, 512);
    memset(bad + 72, 0, 8); /* no data blocks */
    CHECK(rootseal_boot_verity_superblock_parse(bad, 512, &untouched) == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPT_SUPERBLOCK);
    CHECK(((uint8_t *)&untouched)[0] == 0xa5 && ((uint8_t *)&untouched)[sizeof untouched - 1] == 0xa5);

    /* The io struct's contract. */
    CHECK(rootseal_boot_verity_superblock_read(NULL, 0, &untouched) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(rootseal_boot_verity_superblock_read(&io, 0, NULL) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(rootseal_boot_verity_superblock_parse(NULL, 512, &untouched) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    io.version = 99;
    CHECK(rootseal_boot_verity_superblock_read(&io, 0, &untouched) == ROOTSEAL_BOOT_STATUS_UNSUPPORTED_PARAMS_VERSION);
    io = io_of(&d);
    io.reserved0 = 1;
    CHECK(rootseal_boot_verity_superblock_read(&io, 0, &untouched) == ROOTSEAL_BOOT_STATUS_RESERVED_NOT_ZERO);
    io = io_of(&d);
    io.reserved[3] = &d;
    CHECK(rootseal_boot_verity_superblock_read(&io, 0, &untouched) == ROOTSEAL_BOOT_STATUS_RESERVED_NOT_ZERO);
    io = io_of(&d);
    io.read = NULL;
    CHECK(rootseal_boot_verity_superblock_read(&io, 0, &untouched) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(((uint8_t *)&untouched)[0] == 0xa5);
}

static void usrhash(const uint8_t *kernel, size_t kernel_len) {
    struct disk d = { kernel, kernel_len, READ_OK };
    rootseal_boot_io io = io_of(&d);
    char hash[ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE], again[ROOTSEAL_BOOT_KERNEL_USRHASH_SIZE];
    char suffix[ROOTSEAL_BOOT_KERNEL_CMDLINE_SUFFIX_SIZE];
    uint32_t arch = 0, arch2 = 0;
    uint8_t header[ROOTSEAL_BOOT_KERNEL_HEADER_SIZE];
    rootseal_boot_status st;

    st = rootseal_boot_kernel_usrhash_parse(kernel, kernel_len, ROOTSEAL_BOOT_KERNEL_ARCH_AUTO, hash, sizeof hash, &arch);
    if (st == ROOTSEAL_BOOT_STATUS_OK) {
        printf("usrhash %s arch=%u\n", hash, arch);
        CHECK(rootseal_boot_kernel_usrhash_read(&io, 0, ROOTSEAL_BOOT_KERNEL_ARCH_AUTO, again, sizeof again, &arch2) == ROOTSEAL_BOOT_STATUS_OK);
        CHECK(strcmp(hash, again) == 0 && arch == arch2);
        CHECK(rootseal_boot_kernel_cmdline_suffix(kernel, kernel_len, arch, suffix, sizeof suffix) == ROOTSEAL_BOOT_STATUS_OK);
        printf("cmdline %s\n", suffix);
        /* Too small, NULL, wrong arch number, callbacks that fail or lie. */
        memset(again, 'z', sizeof again);
        CHECK(rootseal_boot_kernel_usrhash_parse(kernel, kernel_len, 0, again, 64, &arch2) == ROOTSEAL_BOOT_STATUS_BUFFER_TOO_SMALL);
        CHECK(rootseal_boot_kernel_cmdline_suffix(kernel, kernel_len, 0, suffix, 80) == ROOTSEAL_BOOT_STATUS_BUFFER_TOO_SMALL);
        CHECK(rootseal_boot_kernel_usrhash_parse(kernel, kernel_len, 7, again, sizeof again, &arch2) == ROOTSEAL_BOOT_STATUS_INVALID_ARGUMENT);
        CHECK(rootseal_boot_kernel_usrhash_parse(NULL, 10, 0, again, sizeof again, &arch2) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
        CHECK(rootseal_boot_kernel_usrhash_parse(kernel, 0x50, 0, again, sizeof again, &arch2) == ROOTSEAL_BOOT_STATUS_VERITY_NOT_A_KERNEL);
        d.mode = READ_FAIL;
        CHECK(rootseal_boot_kernel_usrhash_read(&io, 0, 0, again, sizeof again, &arch2) == ROOTSEAL_BOOT_STATUS_CALLBACK_FAILED);
        d.mode = READ_TOO_MUCH;
        CHECK(rootseal_boot_kernel_usrhash_read(&io, 0, 0, again, sizeof again, &arch2) == ROOTSEAL_BOOT_STATUS_CALLBACK_FAILED);
        d.mode = READ_OK;
        CHECK(rootseal_boot_kernel_usrhash_read(&io, kernel_len - 100, 0, again, sizeof again, &arch2) == ROOTSEAL_BOOT_STATUS_VERITY_NOT_A_KERNEL);
        CHECK(again[0] == 'z' && arch2 == arch);
        /* A slot GRUB would not use: one upper-case character. */
        memcpy(header, kernel, sizeof header);
        header[arch == ROOTSEAL_BOOT_KERNEL_ARCH_X86_64 ? 0x40 : 512] = 'A';
        CHECK(rootseal_boot_kernel_usrhash_parse(header, sizeof header, 0, again, sizeof again, NULL) == ROOTSEAL_BOOT_STATUS_VERITY_NO_USR_HASH);
        CHECK(rootseal_boot_kernel_cmdline_suffix(header, sizeof header, 0, suffix, sizeof suffix) == ROOTSEAL_BOOT_STATUS_VERITY_NO_USR_HASH);
    } else {
        printf("usrhash none status=%d\n", (int)st);
    }
}

static size_t unhex(const char *hex, uint8_t *out, size_t max) {
    size_t n = 0;
    unsigned int byte;
    while (n < max && sscanf(hex + 2 * n, "%2x", &byte) == 1) out[n++] = (uint8_t)byte;
    return n;
}

/* One range verification; prints its outcome as "range LABEL status first count hash_first hash_count". */
static rootseal_boot_status range_once(const char *label, rootseal_boot_verity_params *p, uint64_t offset, uint64_t len) {
    size_t need = 0;
    uint8_t *scratch;
    rootseal_boot_verity_range_result r;
    rootseal_boot_status st;
    memset(&r, 0, sizeof r);
    CHECK(rootseal_boot_verity_range_scratch_size(p, &need) == ROOTSEAL_BOOT_STATUS_OK);
    scratch = malloc(need);
    CHECK(rootseal_boot_verity_verify_range(p, offset, len, scratch, need - 1, &r) == ROOTSEAL_BOOT_STATUS_BUFFER_TOO_SMALL);
    st = rootseal_boot_verity_verify_range(p, offset, len, scratch, need, &r);
    printf("range %s %d %llu %llu %llu %llu\n", label, (int)st, (unsigned long long)r.first_corrupted_data_block,
           (unsigned long long)r.corrupted_data_blocks, (unsigned long long)r.first_corrupted_hash_block,
           (unsigned long long)r.corrupted_hash_blocks);
    CHECK(r.reserved[0] == 0 && r.reserved[3] == 0);
    free(scratch);
    return st;
}

static void ranges(const uint8_t *data, size_t data_len, const uint8_t *hash, size_t hash_len, const char *root_hex) {
    uint8_t root[64], *flipped = malloc(data_len), *bad_tree = malloc(hash_len), scratch[64];
    size_t root_len = unhex(root_hex, root, sizeof root);
    struct disk d = { data, data_len, READ_OK }, h = { hash, hash_len, READ_OK };
    rootseal_boot_io dio = io_of(&d), hio = io_of(&h);
    rootseal_boot_verity_params p;
    rootseal_boot_verity_superblock sb;
    rootseal_boot_verity_range_result r;
    uint64_t area;

    memset(&p, 0, sizeof p);
    p.version = ROOTSEAL_BOOT_VERITY_PARAMS_VERSION;
    p.data = &dio;
    p.hash = &hio;
    p.root_hash = root;
    p.root_hash_size = root_len;
    CHECK(rootseal_boot_verity_superblock_read(&hio, 0, &sb) == ROOTSEAL_BOOT_STATUS_OK);
    area = sb.data_blocks * sb.data_block_size;
    CHECK(range_once("whole", &p, 0, area) == ROOTSEAL_BOOT_STATUS_OK);
    CHECK(range_once("middle", &p, 3 * sb.data_block_size + 17, 5 * sb.data_block_size) == ROOTSEAL_BOOT_STATUS_OK);

    /* The same tree described by the caller, as for an image without a superblock. */
    p.flags = ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK;
    p.geometry = &sb;
    p.hash_offset = sb.hash_block_size;
    CHECK(range_once("geometry", &p, 0, area) == ROOTSEAL_BOOT_STATUS_OK);
    p.flags = 0;
    p.geometry = NULL;
    p.hash_offset = 0;

    /* One bit flipped in data block 7: that block, and only under a range that covers it. */
    memcpy(flipped, data, data_len);
    flipped[7 * sb.data_block_size + 100] ^= 0x10;
    d.bytes = flipped;
    CHECK(range_once("flipped", &p, 0, area) == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPTED);
    CHECK(range_once("beside", &p, 8 * sb.data_block_size, sb.data_block_size) == ROOTSEAL_BOOT_STATUS_OK);
    d.bytes = data;

    /* A flipped byte in the first leaf hash block (the last tree block; one level here). */
    memcpy(bad_tree, hash, hash_len);
    bad_tree[hash_len - sb.hash_block_size + 5] ^= 0x01;
    h.bytes = bad_tree;
    CHECK(range_once("tree", &p, 0, area) == ROOTSEAL_BOOT_STATUS_VERITY_CORRUPTED);
    h.bytes = hash;

    /* Refusals, and the result left alone. */
    memset(&r, 0x5a, sizeof r);
    CHECK(rootseal_boot_verity_verify_range(&p, 0, 0, scratch, sizeof scratch, &r) != ROOTSEAL_BOOT_STATUS_OK);
    CHECK(rootseal_boot_verity_verify_range(&p, area - 1, 2, scratch, sizeof scratch, &r) != ROOTSEAL_BOOT_STATUS_OK);
    CHECK(rootseal_boot_verity_verify_range(&p, UINT64_MAX, 2, scratch, sizeof scratch, &r) != ROOTSEAL_BOOT_STATUS_OK);
    p.root_hash_size = root_len - 1;
    CHECK(rootseal_boot_verity_verify_range(&p, 0, 1, scratch, sizeof scratch, &r) == ROOTSEAL_BOOT_STATUS_VERITY_ROOT_HASH_LENGTH);
    p.root_hash_size = root_len;
    p.reserved[1] = 1;
    CHECK(rootseal_boot_verity_verify_range(&p, 0, 1, scratch, sizeof scratch, &r) == ROOTSEAL_BOOT_STATUS_RESERVED_NOT_ZERO);
    p.reserved[1] = 0;
    p.version = 2;
    CHECK(rootseal_boot_verity_verify_range(&p, 0, 1, scratch, sizeof scratch, &r) == ROOTSEAL_BOOT_STATUS_UNSUPPORTED_PARAMS_VERSION);
    p.version = ROOTSEAL_BOOT_VERITY_PARAMS_VERSION;
    p.flags = ROOTSEAL_BOOT_VERITY_NO_SUPERBLOCK;
    CHECK(rootseal_boot_verity_verify_range(&p, 0, 1, scratch, sizeof scratch, &r) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    p.flags = 0;
    d.len = data_len / 2; /* a data device that ends early */
    CHECK(range_once("short-data", &p, 0, area) == ROOTSEAL_BOOT_STATUS_VERITY_DATA_TOO_SHORT);
    d.len = data_len;
    h.len = hash_len - 1; /* a hash device that ends inside the tree */
    CHECK(range_once("short-hash", &p, 0, area) == ROOTSEAL_BOOT_STATUS_VERITY_HASH_DEVICE_TOO_SMALL);
    h.len = hash_len;
    d.mode = READ_FAIL;
    CHECK(range_once("failing", &p, 0, area) == ROOTSEAL_BOOT_STATUS_CALLBACK_FAILED);
    d.mode = READ_OK;
    CHECK(rootseal_boot_verity_verify_range(NULL, 0, 1, scratch, sizeof scratch, &r) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(((uint8_t *)&r)[0] == 0x5a && ((uint8_t *)&r)[sizeof r - 1] == 0x5a);
    free(flipped);
    free(bad_tree);
}

/* The verified reader over the same files: every byte as the data file has it, in odd
 * pieces; a flipped block refused with its number and none of its bytes. */
static void reader(const uint8_t *data, size_t data_len, const uint8_t *hash, size_t hash_len, const char *root_hex) {
    uint8_t root[64], piece[1000], *flipped = malloc(data_len), *scratch;
    size_t root_len = unhex(root_hex, root, sizeof root), need = 0, at = 0;
    struct disk d = { data, data_len, READ_ONE_BYTE }, h = { hash, hash_len, READ_OK };
    rootseal_boot_io dio = io_of(&d), hio = io_of(&h);
    rootseal_boot_verity_params p;
    rootseal_boot_verity_superblock sb;
    rootseal_boot_verity_reader r;
    rootseal_boot_verity_read_result res;
    int same = 1;

    memset(&p, 0, sizeof p);
    p.version = ROOTSEAL_BOOT_VERITY_PARAMS_VERSION;
    p.data = &dio;
    p.hash = &hio;
    p.root_hash = root;
    p.root_hash_size = root_len;
    CHECK(rootseal_boot_verity_superblock_read(&hio, 0, &sb) == ROOTSEAL_BOOT_STATUS_OK);
    CHECK(rootseal_boot_verity_range_scratch_size(&p, &need) == ROOTSEAL_BOOT_STATUS_OK);
    scratch = malloc(need);
    CHECK(rootseal_boot_verity_reader_init(&p, scratch, need - 1, &r) == ROOTSEAL_BOOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(rootseal_boot_verity_reader_init(&p, scratch, need, &r) == ROOTSEAL_BOOT_STATUS_OK);
    d.mode = READ_OK;
    for (;;) {
        CHECK(rootseal_boot_verity_reader_read(&r, at, piece, sizeof piece, &res) == ROOTSEAL_BOOT_STATUS_OK);
        if (res.bytes_read == 0) break;
        same &= memcmp(piece, data + at, (size_t)res.bytes_read) == 0;
        at += (size_t)res.bytes_read;
    }
    printf("reader read %lu same %d\n", (unsigned long)at, same);

    memcpy(flipped, data, data_len);
    flipped[7 * sb.data_block_size + 100] ^= 0x10;
    d.bytes = flipped;
    CHECK(rootseal_boot_verity_reader_init(&p, scratch, need, &r) == ROOTSEAL_BOOT_STATUS_OK);
    CHECK(rootseal_boot_verity_reader_read(&r, 6 * sb.data_block_size, piece, sizeof piece < 2 * sb.data_block_size ? sizeof piece : 2 * sb.data_block_size, &res) == ROOTSEAL_BOOT_STATUS_OK);
    printf("reader before %lu\n", (unsigned long)res.bytes_read);
    memset(piece, 0x77, sizeof piece);
    printf("reader flipped %d", (int)rootseal_boot_verity_reader_read(&r, 7 * sb.data_block_size + 5, piece, 10, &res));
    printf(" %lu %lu %u\n", (unsigned long)res.corrupt_data_block, (unsigned long)res.bytes_read, res.corrupt_hash_block_valid);
    CHECK(piece[0] == 0x77 && piece[9] == 0x77);
    d.bytes = data;
    d.mode = READ_FAIL;
    CHECK(rootseal_boot_verity_reader_read(&r, 0, piece, 10, &res) == ROOTSEAL_BOOT_STATUS_CALLBACK_FAILED);
    d.mode = READ_OK;
    CHECK(rootseal_boot_verity_reader_read(NULL, 0, piece, 10, &res) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(rootseal_boot_verity_reader_read(&r, 0, NULL, 10, &res) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    free(scratch);
    free(flipped);
}

static void digests(const uint8_t *data, size_t len) {
    uint8_t out[64], small[31];
    CHECK(rootseal_boot_sha256(data, len, out, 32) == ROOTSEAL_BOOT_STATUS_OK);
    print_hex("sha256", out, 32);
    CHECK(rootseal_boot_sha512(data, len, out, 64) == ROOTSEAL_BOOT_STATUS_OK);
    print_hex("sha512", out, 64);
    CHECK(rootseal_boot_sha256(data, len, small, sizeof small) == ROOTSEAL_BOOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(rootseal_boot_sha512(data, len, out, 63) == ROOTSEAL_BOOT_STATUS_BUFFER_TOO_SMALL);
    CHECK(rootseal_boot_sha256(NULL, 1, out, 32) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(rootseal_boot_sha256(data, len, NULL, 32) == ROOTSEAL_BOOT_STATUS_NULL_PARAMETER);
    CHECK(rootseal_boot_sha256(NULL, 0, out, 32) == ROOTSEAL_BOOT_STATUS_OK);
    print_hex("sha256-empty", out, 32);
}

int main(int argc, char **argv) {
    size_t hash_len, kernel_len, data_len;
    uint8_t *hash, *kernel, *data;
    if (argc != 5) { fprintf(stderr, "usage: boot_smoke HASH_FILE KERNEL_FILE DATA_FILE ROOT_HASH_HEX\n"); return 2; }
    CHECK(rootseal_boot_version() == ROOTSEAL_BOOT_VERSION);
    hash = slurp(argv[1], &hash_len);
    kernel = slurp(argv[2], &kernel_len);
    data = slurp(argv[3], &data_len);
    superblock(hash, hash_len);
    usrhash(kernel, kernel_len);
    digests(data, data_len);
    ranges(data, data_len, hash, hash_len, argv[4]);
    reader(data, data_len, hash, hash_len, argv[4]);
    free(hash);
    free(kernel);
    free(data);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
