/*
 * C contract test for the signature entry points: contexts (default and FIPS), the trust
 * store, detached signatures over files and buffers, CrAU payloads, root-hash PKCS#7,
 * error paths and out-params untouched on failure. Driven by tests/c_api_sig.rs, which
 * makes every input with the openssl CLI and compares the printed fingerprint with
 * openssl's. Prints "N passed, M failed" at the end.
 *
 * usage: sig_smoke DIR FIPS_CONFIG
 *        sig_smoke --ed25519-big KEY SIG FILE
 *   The second form (issue 15 item 2) verifies SIG over FILE with KEY trusted and prints
 *   "status N"; it is run under `ulimit -v`, with an Ed25519 key, a garbage 64-byte
 *   signature and a file too large to gather in that memory: the library must return
 *   ROOTSEAL_STATUS_SIG_OUT_OF_MEMORY, never abort its host.
 *   DIR holds key.pub.pem, key.pem, cert.pem, data.bin, data.sig, data-pss512.sig, payload.crau,
 *   payload.sha256 (32 raw bytes), roothash.txt, roothash.p7s, roothash-nl.p7s.
 */
#include "harness.h"

static const char *dir;

static const char *path(const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", dir, name);
    return buf;
}

static uint8_t *slurp(const char *name, size_t *len) {
    return read_file(path(name), len);
}

static rootseal_sig_params params(uint32_t policy) {
    rootseal_sig_params p;
    memset(&p, 0, sizeof p);
    p.version = ROOTSEAL_SIG_PARAMS_VERSION;
    p.policy = policy;
    return p;
}

static void print_fingerprint(const rootseal_sig_result *r) {
    int i;
    printf("fingerprint ");
    for (i = 0; i < 32; i++) printf("%02x", r->fingerprint[i]);
    printf("\n");
}

/* Issue 15 item 2: an allocation the input size decides fails with a status, never an abort. */
static int ed25519_big(const char *key_path, const char *sig_path, const char *file) {
    rootseal_sig_context *ctx = NULL;
    rootseal_trust_store *store = NULL;
    rootseal_sig_params p = params(ROOTSEAL_SIG_POLICY_DEFAULT);
    size_t key_len, sig_len;
    uint8_t *key = read_file(key_path, &key_len), *sig = read_file(sig_path, &sig_len);
    int32_t status;
    CHECK(rootseal_sig_context_new(&ctx) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_trust_store_new(ctx, &store) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_trust_store_add_key(store, key, key_len) == ROOTSEAL_STATUS_OK);
    status = rootseal_sig_verify_file(store, &p, file, sig, sig_len, NULL);
    printf("status %d: %s\n", (int)status, rootseal_last_error());
    CHECK(status == ROOTSEAL_STATUS_SIG_OUT_OF_MEMORY);
    rootseal_trust_store_free(store);
    rootseal_sig_context_free(ctx);
    free(key);
    free(sig);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    rootseal_sig_context *plain = NULL, *fips = NULL, *none = NULL;
    rootseal_trust_store *store = NULL;
    rootseal_fips_status status;
    rootseal_sig_result result, untouched;
    rootseal_sig_params p;
    rootseal_omaha_check omaha;
    size_t data_len, sig_len, cert_len, sha_len, p7_len, nl_len, root_len, pss_len, payload_len;
    uint8_t *data, *sig, *cert, *sha, *p7, *nl, *pss, *payload;
    char *root;

    if (argc == 5 && strcmp(argv[1], "--ed25519-big") == 0) return ed25519_big(argv[2], argv[3], argv[4]);
    if (argc != 3) { fprintf(stderr, "usage: sig_smoke DIR FIPS_CONFIG\n"); return 2; }
    dir = argv[1];
    data = slurp("data.bin", &data_len);
    sig = slurp("data.sig", &sig_len);
    pss = slurp("data-pss512.sig", &pss_len);
    cert = slurp("cert.pem", &cert_len);
    sha = slurp("payload.sha256", &sha_len);
    p7 = slurp("roothash.p7s", &p7_len);
    nl = slurp("roothash-nl.p7s", &nl_len);
    root = (char *)slurp("roothash.txt", &root_len);

    /* Contexts: default, FIPS, and a FIPS request that cannot be met. */
    CHECK(rootseal_sig_context_new(&plain) == ROOTSEAL_STATUS_OK && plain != NULL);
    CHECK(rootseal_sig_fips_status(plain, &status) == ROOTSEAL_STATUS_OK && status.active == 0);
    CHECK(rootseal_sig_context_new_fips(argv[2], &fips) == ROOTSEAL_STATUS_OK && fips != NULL);
    memset(&status, 0, sizeof status);
    CHECK(rootseal_sig_fips_status(fips, &status) == ROOTSEAL_STATUS_OK && status.active == 1);
    CHECK(strcmp(status.provider_name, "OpenSSL FIPS Provider") == 0);
    CHECK(strcmp(status.provider_version, "3.6.3") == 0);
    CHECK(rootseal_sig_context_new_fips("/nonexistent/fips.cnf", &none) == ROOTSEAL_STATUS_SIG_FIPS_UNAVAILABLE);
    CHECK(none == NULL && strlen(rootseal_last_error()) > 0);
    CHECK(rootseal_sig_context_new(NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);
    CHECK(rootseal_sig_fips_status(NULL, &status) == ROOTSEAL_STATUS_NULL_PARAMETER);

    /* The store keeps its context alive: free the FIPS context handle right away. */
    CHECK(rootseal_trust_store_new(fips, &store) == ROOTSEAL_STATUS_OK && store != NULL);
    rootseal_sig_context_free(fips);
    fips = NULL;
    p = params(ROOTSEAL_SIG_POLICY_FIPS);
    CHECK(rootseal_sig_verify_file(store, &p, path("data.bin"), sig, sig_len, &result) ==
          ROOTSEAL_STATUS_SIG_EMPTY_TRUST_STORE);
    CHECK(rootseal_trust_store_add_key_file(store, path("key.pem")) == ROOTSEAL_STATUS_SIG_INVALID_KEY);
    CHECK(rootseal_trust_store_add_key_file(store, path("missing.pem")) == ROOTSEAL_STATUS_IO);
    CHECK(rootseal_trust_store_add_key(store, (const uint8_t *)"junk", 4) == ROOTSEAL_STATUS_SIG_INVALID_KEY);
    CHECK(rootseal_trust_store_len(store) == 0);
    CHECK(rootseal_trust_store_add_key_file(store, path("key.pub.pem")) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_trust_store_add_key(store, cert, cert_len) == ROOTSEAL_STATUS_OK);
    /* The certificate carries the same key: one entry, now with its certificate. */
    CHECK(rootseal_trust_store_len(store) == 1);
    CHECK(rootseal_trust_store_len(NULL) == 0);

    /* Detached signatures, in the FIPS provider. */
    memset(&result, 0, sizeof result);
    CHECK(rootseal_sig_verify_file(store, &p, path("data.bin"), sig, sig_len, &result) == ROOTSEAL_STATUS_OK);
    CHECK(strcmp(result.provider, "fips") == 0 && result.policy == ROOTSEAL_SIG_POLICY_FIPS);
    print_fingerprint(&result);
    CHECK(rootseal_sig_verify_buffer(store, &p, data, data_len, sig, sig_len, NULL) == ROOTSEAL_STATUS_OK);
    /* The same bytes through a caller's read callbacks (short reads of 1000 bytes). */
    {
        struct memdisk disk = memdisk_new(data, data_len);
        rootseal_io io = memdisk_io(&disk);
        CHECK(disk.bytes != NULL);
        memset(&result, 0, sizeof result);
        CHECK(rootseal_sig_verify_io(store, &p, &io, sig, sig_len, &result) == ROOTSEAL_STATUS_OK);
        CHECK(strcmp(result.provider, "fips") == 0);
        disk.bytes[data_len / 3] ^= 1;
        CHECK(rootseal_sig_verify_io(store, &p, &io, sig, sig_len, NULL) == ROOTSEAL_STATUS_SIG_INVALID);
        disk.bytes[data_len / 3] ^= 1;
        disk.fail_reads = 1;
        CHECK(rootseal_sig_verify_io(store, &p, &io, sig, sig_len, NULL) == ROOTSEAL_STATUS_CALLBACK_FAILED);
        CHECK(rootseal_sig_verify_io(store, &p, NULL, sig, sig_len, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);
        free(disk.bytes);
    }
    data[data_len / 2] ^= 1;
    memset(&untouched, 0xa5, sizeof untouched);
    result = untouched;
    CHECK(rootseal_sig_verify_buffer(store, &p, data, data_len, sig, sig_len, &result) == ROOTSEAL_STATUS_SIG_INVALID);
    CHECK(memcmp(&result, &untouched, sizeof result) == 0);
    data[data_len / 2] ^= 1;
    /* Scheme unknown (digest and padding 0): a PSS SHA-512 signature is found... */
    CHECK(rootseal_sig_verify_file(store, &p, path("data.bin"), pss, pss_len, &result) == ROOTSEAL_STATUS_OK);
    CHECK(strcmp(result.provider, "fips") == 0);
    /* ...but not when the caller says SHA-256 PKCS#1 v1.5. */
    p.digest = ROOTSEAL_HASH_SHA256;
    p.padding = ROOTSEAL_SIG_PADDING_PKCS1;
    CHECK(rootseal_sig_verify_file(store, &p, path("data.bin"), pss, pss_len, NULL) == ROOTSEAL_STATUS_SIG_INVALID);
    p.digest = ROOTSEAL_HASH_SHA512;
    p.padding = ROOTSEAL_SIG_PADDING_PSS;
    CHECK(rootseal_sig_verify_file(store, &p, path("data.bin"), pss, pss_len, NULL) == ROOTSEAL_STATUS_OK);
    p.padding = 3;
    CHECK(rootseal_sig_verify_file(store, &p, path("data.bin"), pss, pss_len, NULL) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    p = params(ROOTSEAL_SIG_POLICY_FIPS);
    p.digest = ROOTSEAL_HASH_SHA1;
    CHECK(rootseal_sig_verify_buffer(store, &p, data, data_len, sig, sig_len, NULL) == ROOTSEAL_STATUS_SIG_POLICY_REFUSED);
    p.digest = ROOTSEAL_HASH_SHA224;
    CHECK(rootseal_sig_verify_buffer(store, &p, data, data_len, sig, sig_len, NULL) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    p = params(ROOTSEAL_SIG_POLICY_FIPS);
    p.version = 99;
    CHECK(rootseal_sig_verify_buffer(store, &p, data, data_len, sig, sig_len, NULL) ==
          ROOTSEAL_STATUS_UNSUPPORTED_PARAMS_VERSION);
    p = params(ROOTSEAL_SIG_POLICY_FIPS);
    p.reserved[3] = 1;
    CHECK(rootseal_sig_verify_buffer(store, &p, data, data_len, sig, sig_len, NULL) == ROOTSEAL_STATUS_RESERVED_NOT_ZERO);
    p = params(7);
    CHECK(rootseal_sig_verify_buffer(store, &p, data, data_len, sig, sig_len, NULL) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    p = params(ROOTSEAL_SIG_POLICY_DEFAULT);
    CHECK(rootseal_sig_verify_buffer(NULL, &p, data, data_len, sig, sig_len, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);
    CHECK(rootseal_sig_verify_buffer(store, NULL, data, data_len, sig, sig_len, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);
    CHECK(rootseal_sig_verify_buffer(store, &p, data, data_len, NULL, 0, NULL) == ROOTSEAL_STATUS_SIG_MALFORMED_SIGNATURE);
    CHECK(rootseal_sig_verify_file(store, &p, NULL, sig, sig_len, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);

    /* A CrAU payload with the Omaha size and SHA-256. */
    memset(&omaha, 0, sizeof omaha);
    omaha.version = ROOTSEAL_OMAHA_CHECK_VERSION;
    omaha.flags = ROOTSEAL_OMAHA_CHECK_SHA256;
    memcpy(omaha.sha256, sha, 32);
    memset(&result, 0, sizeof result);
    CHECK(sha_len == 32);
    CHECK(rootseal_sig_verify_payload(store, &p, path("payload.crau"), &omaha, &result) == ROOTSEAL_STATUS_OK);
    CHECK(result.signature_index == 0 && result.signature_version == 2 && strcmp(result.provider, "fips") == 0);
    CHECK(rootseal_sig_verify_payload(store, &p, path("payload.crau"), NULL, NULL) == ROOTSEAL_STATUS_OK);
    omaha.sha256[0] ^= 1;
    CHECK(rootseal_sig_verify_payload(store, &p, path("payload.crau"), &omaha, NULL) == ROOTSEAL_STATUS_SIG_PAYLOAD_MISMATCH);
    omaha.flags = ROOTSEAL_OMAHA_CHECK_SIZE;
    omaha.size = 1;
    CHECK(rootseal_sig_verify_payload(store, &p, path("payload.crau"), &omaha, NULL) == ROOTSEAL_STATUS_SIG_PAYLOAD_MISMATCH);
    omaha.flags = 1u << 7;
    CHECK(rootseal_sig_verify_payload(store, &p, path("payload.crau"), &omaha, NULL) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    CHECK(rootseal_sig_verify_payload(store, &p, path("data.bin"), NULL, NULL) == ROOTSEAL_STATUS_SIG_INVALID_PAYLOAD);
    /* The same payload from memory, with no file access: same verdicts. */
    payload = slurp("payload.crau", &payload_len);
    memset(&result, 0, sizeof result);
    CHECK(rootseal_sig_verify_payload_buffer(store, &p, payload, payload_len, NULL, &result) == ROOTSEAL_STATUS_OK);
    CHECK(result.signature_index == 0 && strcmp(result.provider, "fips") == 0);
    payload[payload_len / 2] ^= 1;
    CHECK(rootseal_sig_verify_payload_buffer(store, &p, payload, payload_len, NULL, NULL) == ROOTSEAL_STATUS_SIG_INVALID);
    CHECK(rootseal_sig_verify_payload_buffer(store, &p, payload, payload_len - 1, NULL, NULL) == ROOTSEAL_STATUS_SIG_INVALID_PAYLOAD);
    CHECK(rootseal_sig_verify_payload_buffer(store, &p, NULL, 5, NULL, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);
    payload[payload_len / 2] ^= 1;
    /* And through read callbacks. */
    {
        struct memdisk disk = memdisk_new(payload, payload_len);
        rootseal_io io = memdisk_io(&disk);
        CHECK(disk.bytes != NULL);
        memset(&result, 0, sizeof result);
        CHECK(rootseal_sig_verify_payload_io(store, &p, &io, NULL, &result) == ROOTSEAL_STATUS_OK);
        CHECK(result.signature_index == 0 && strcmp(result.provider, "fips") == 0);
        disk.bytes[payload_len / 2] ^= 1;
        CHECK(rootseal_sig_verify_payload_io(store, &p, &io, NULL, NULL) == ROOTSEAL_STATUS_SIG_INVALID);
        disk.bytes[payload_len / 2] ^= 1;
        disk.reads_end = payload_len / 2;
        CHECK(rootseal_sig_verify_payload_io(store, &p, &io, NULL, NULL) == ROOTSEAL_STATUS_CALLBACK_FAILED);
        free(disk.bytes);
    }
    free(payload);
    p.padding = ROOTSEAL_SIG_PADDING_PSS;
    CHECK(rootseal_sig_verify_payload(store, &p, path("payload.crau"), NULL, NULL) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    p = params(ROOTSEAL_SIG_POLICY_DEFAULT);

    /* Root-hash PKCS#7: exact text verifies, the text plus newline does not. */
    CHECK(rootseal_sig_verify_root_hash(store, root, p7, p7_len, &result) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_sig_verify_root_hash(store, root, nl, nl_len, NULL) == ROOTSEAL_STATUS_SIG_INVALID);
    CHECK(rootseal_sig_verify_root_hash(store, "xyz", p7, p7_len, NULL) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    CHECK(rootseal_sig_verify_root_hash(store, root, (const uint8_t *)"junk", 4, NULL) ==
          ROOTSEAL_STATUS_SIG_MALFORMED_SIGNATURE);

    /* The default-context store agrees and reports the default provider. */
    rootseal_trust_store_free(store);
    store = NULL;
    CHECK(rootseal_trust_store_new(plain, &store) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_trust_store_add_key(store, cert, cert_len) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_sig_verify_file(store, &p, path("data.bin"), sig, sig_len, &result) == ROOTSEAL_STATUS_OK);
    CHECK(strcmp(result.provider, "default") == 0);
    CHECK(strcmp(rootseal_strerror(ROOTSEAL_STATUS_SIG_INVALID), "unknown status") != 0);

    rootseal_trust_store_free(store);
    rootseal_sig_context_free(plain);
    rootseal_trust_store_free(NULL);
    rootseal_sig_context_free(NULL);
    free(data); free(sig); free(pss); free(cert); free(sha); free(p7); free(nl); free(root);

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
