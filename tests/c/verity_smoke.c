/*
 * C contract test for the verity entry points: path and callback APIs, error paths,
 * out-params untouched on failure. Driven by tests/c_api.rs, which also compares the
 * printed root hash with veritysetup's. Prints "N passed, M failed" at the end.
 *
 * usage: verity_smoke DATA HASH   (DATA: an image of 64 x 4096 bytes; HASH: scratch path)
 */
#include "harness.h"

static const uint8_t SALT[4] = {0xde, 0xad, 0xbe, 0xef};
#define DATA_SIZE (64u * 4096u)

static rootseal_verity_params base_params(void) {
    rootseal_verity_params p;
    memset(&p, 0, sizeof p);
    p.version = ROOTSEAL_VERITY_PARAMS_VERSION;
    p.salt = SALT;
    p.salt_size = sizeof SALT;
    p.flags = ROOTSEAL_VERITY_NO_SUPERBLOCK;
    return p;
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
        struct memdisk ddisk = memdisk_new(data, data_len), hdisk = memdisk_new(NULL, 4096);
        rootseal_io dio, hio;
        rootseal_verity_result mem_result;
        free(data);
        data = ddisk.bytes;
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

    /* Forward error correction: a tree and parity, a dry-run check, the table line. */
    {
        char fec_hash[4096], fec_path[4096], line[1024];
        rootseal_fec_params fec_params;
        rootseal_verity_result fec_tree;
        rootseal_fec_result fec_result;
        rootseal_fec_report *fec_report = NULL;
        snprintf(fec_hash, sizeof fec_hash, "%s.fec-tree", hash_path);
        snprintf(fec_path, sizeof fec_path, "%s.fec", hash_path);
        memset(&fec_params, 0, sizeof fec_params);
        fec_params.version = ROOTSEAL_FEC_PARAMS_VERSION;
        fec_params.roots = 30;
        CHECK(rootseal_verity_engine_format_fec(NULL, &params, &fec_params, data_path, fec_hash, fec_path, &fec_tree,
                                                &fec_result) == ROOTSEAL_STATUS_VERITY_FEC_INVALID_PARAMS);
        fec_params.roots = 4;
        st = rootseal_verity_engine_format_fec(NULL, &params, &fec_params, data_path, fec_hash, fec_path, &fec_tree,
                                               &fec_result);
        CHECK(st == ROOTSEAL_STATUS_OK);
        CHECK(memcmp(fec_tree.root_hash, result.root_hash, 32) == 0);
        CHECK(fec_result.roots == 4 && fec_result.fec_start == 0 && fec_result.fec_blocks == 64 + 1);
        fec_params.flags = ROOTSEAL_FEC_DRY_RUN;
        st = rootseal_verity_engine_repair(NULL, &params, &fec_params, data_path, fec_hash, fec_path, fec_tree.root_hash,
                                           32, &fec_report);
        CHECK(st == ROOTSEAL_STATUS_OK && fec_report != NULL && rootseal_fec_report_written(fec_report) == 0);
        CHECK(rootseal_fec_report_blocks(fec_report, ROOTSEAL_FEC_LIST_CORRUPTED_DATA, &count) == NULL && count == 0);
        rootseal_fec_report_free(fec_report);
        rootseal_fec_report_free(NULL);
        CHECK(rootseal_verity_kernel_table_fec(&fec_tree, &fec_result, NULL, "/dev/vda3", "/dev/vda4", "/dev/vda5", line,
                                               sizeof line, NULL) == ROOTSEAL_STATUS_OK);
        CHECK(strstr(line, " use_fec_from_device /dev/vda5 fec_start 0 fec_blocks 65 fec_roots 4") != NULL);
        remove(fec_hash);
        remove(fec_path);
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
