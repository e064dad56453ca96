/*
 * C contract test for the GPT entry points: a Flatcar update cycle through the path
 * API, the same disk through bootloader-style callbacks, and the error contract.
 * Driven by tests/c_api.rs, which replays the cycle with the real cgpt on a twin disk
 * and requires identical bytes. Prints "N passed, M failed" at the end.
 *
 * usage: gpt_smoke DISK TYPE_GUID
 *   DISK: an sgdisk-made image with 512-byte blocks whose partitions 3, 4 and 5 have
 *   type TYPE_GUID (partition 8 unused); USR-B (4) has PARTUUID e03dd35c-...
 */
#include "harness.h"

static const char *USR_B_PARTUUID = "e03dd35c-7c2d-4a47-b3fe-27f15780a57c";

static rootseal_gpt_set_params set_params(uint32_t fields, uint8_t p, uint8_t t, uint8_t s) {
    rootseal_gpt_set_params params;
    memset(&params, 0, sizeof params);
    params.version = ROOTSEAL_GPT_SET_PARAMS_VERSION;
    params.fields = fields;
    params.priority = p;
    params.tries = t;
    params.successful = s;
    return params;
}

/* The update cycle, as an update agent would run it. */
static void update_cycle(const char *path, const char *type) {
    rootseal_gpt *gpt = NULL;
    CHECK(rootseal_gpt_open_path(path, NULL, &gpt) == ROOTSEAL_STATUS_OK && gpt != NULL);
    if (gpt == NULL) return;

    rootseal_gpt_state state;
    CHECK(rootseal_gpt_get_state(gpt, &state) == ROOTSEAL_STATUS_OK);
    CHECK(state.block_size == 512 && state.primary_valid && state.backup_valid && state.backup_at_end);
    CHECK(state.entry_count == 128 && state.entry_size == 128);

    /* Image build: USR-A good. */
    rootseal_gpt_set_params good = set_params(
        ROOTSEAL_GPT_SET_PRIORITY | ROOTSEAL_GPT_SET_TRIES | ROOTSEAL_GPT_SET_SUCCESSFUL, 1, 0, 1);
    CHECK(rootseal_gpt_set(gpt, 3, &good) == ROOTSEAL_STATUS_OK);

    /* Install to USR-B, then boot it on trial. */
    CHECK(rootseal_gpt_mark_update(gpt, 4, type) == ROOTSEAL_STATUS_OK);
    rootseal_gpt_next_result next;
    CHECK(rootseal_gpt_next(gpt, type, &next) == ROOTSEAL_STATUS_OK);
    CHECK(next.partition.index == 4 && next.written == 1 && next.partition.tries == 0);
    CHECK(next.partition.priority == 2 && next.partition.successful == 0);
    CHECK(strcmp(next.partition.unique_guid, USR_B_PARTUUID) == 0);
    CHECK(strcmp(next.partition.type_guid, type) == 0);

    /* Without a blessing the next boot falls back to USR-A and writes nothing. */
    CHECK(rootseal_gpt_next(gpt, type, &next) == ROOTSEAL_STATUS_OK);
    CHECK(next.partition.index == 3 && next.written == 0 && next.partition.successful == 1);

    /* This time USR-B came up: bless it. */
    CHECK(rootseal_gpt_mark_good(gpt, 4, type) == ROOTSEAL_STATUS_OK);
    rootseal_gpt_partition part;
    CHECK(rootseal_gpt_get_partition(gpt, 4, &part) == ROOTSEAL_STATUS_OK);
    CHECK(part.priority == 2 && part.tries == 0 && part.successful == 1);
    CHECK(part.attributes == 0x0102000000000000ull);
    CHECK(rootseal_gpt_get_partition(gpt, 3, &part) == ROOTSEAL_STATUS_OK);
    CHECK(part.attributes == 0x0101000000000000ull);

    uint32_t repaired = 99;
    CHECK(rootseal_gpt_repair(gpt, 0, &repaired) == ROOTSEAL_STATUS_OK && repaired == 0);
    rootseal_gpt_close(gpt);
}

/* Error contract: precise statuses, out-params untouched on failure. */
static void error_contract(const char *path, const char *type) {
    rootseal_gpt *gpt = NULL;
    CHECK(rootseal_gpt_open_path(path, NULL, &gpt) == ROOTSEAL_STATUS_OK);
    if (gpt == NULL) return;

    rootseal_gpt_set_params bad = set_params(ROOTSEAL_GPT_SET_PRIORITY, 16, 0, 0);
    CHECK(rootseal_gpt_set(gpt, 4, &bad) == ROOTSEAL_STATUS_GPT_VALUE_OUT_OF_RANGE);
    bad = set_params(ROOTSEAL_GPT_SET_SUCCESSFUL, 0, 0, 2);
    CHECK(rootseal_gpt_set(gpt, 4, &bad) == ROOTSEAL_STATUS_GPT_VALUE_OUT_OF_RANGE);
    bad = set_params(ROOTSEAL_GPT_SET_TRIES, 0, 1, 0);
    bad.version = 99;
    CHECK(rootseal_gpt_set(gpt, 4, &bad) == ROOTSEAL_STATUS_UNSUPPORTED_PARAMS_VERSION);
    bad = set_params(ROOTSEAL_GPT_SET_TRIES, 0, 1, 0);
    bad.reserved[1] = 1;
    CHECK(rootseal_gpt_set(gpt, 4, &bad) == ROOTSEAL_STATUS_RESERVED_NOT_ZERO);
    CHECK(rootseal_gpt_set(gpt, 4, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);
    bad = set_params(0, 0, 0, 0); /* nothing to set is a mistake, not a no-op */
    CHECK(rootseal_gpt_set(gpt, 4, &bad) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    CHECK(rootseal_gpt_invalidate(gpt, 0) == ROOTSEAL_STATUS_GPT_NO_SUCH_PARTITION);
    CHECK(rootseal_gpt_invalidate(gpt, 129) == ROOTSEAL_STATUS_GPT_NO_SUCH_PARTITION);
    CHECK(strstr(rootseal_last_error(), "1..=128") != NULL);

    rootseal_gpt_partition part;
    memset(&part, 0xab, sizeof part);
    CHECK(rootseal_gpt_get_partition(gpt, 8, &part) == ROOTSEAL_STATUS_GPT_UNUSED_PARTITION);
    CHECK(part.index == 0xabababab); /* untouched */
    CHECK(rootseal_gpt_get_partition(gpt, 3, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);

    /* A non-participating target (partition 1 is the EFI system partition). */
    CHECK(rootseal_gpt_mark_update(gpt, 1, type) == ROOTSEAL_STATUS_GPT_WRONG_TYPE);
    CHECK(rootseal_gpt_mark_good(gpt, 4, "not-a-guid") == ROOTSEAL_STATUS_GPT_INVALID_GUID);

    rootseal_gpt_prioritize_params prio;
    memset(&prio, 0, sizeof prio);
    prio.version = ROOTSEAL_GPT_PRIORITIZE_PARAMS_VERSION;
    prio.type_guid = type;
    prio.max_priority = 16;
    CHECK(rootseal_gpt_prioritize(gpt, &prio) == ROOTSEAL_STATUS_GPT_VALUE_OUT_OF_RANGE);
    CHECK(rootseal_gpt_repair(gpt, 0x80, NULL) == ROOTSEAL_STATUS_INVALID_ARGUMENT);

    /* Nothing bootable: every slot out of rotation. */
    CHECK(rootseal_gpt_invalidate(gpt, 3) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_gpt_invalidate(gpt, 4) == ROOTSEAL_STATUS_OK);
    rootseal_gpt_next_result next;
    memset(&next, 0xcd, sizeof next);
    CHECK(rootseal_gpt_next(gpt, type, &next) == ROOTSEAL_STATUS_GPT_NO_BOOTABLE_SLOT);
    CHECK(next.written == 0xcdcdcdcd);
    rootseal_gpt_close(gpt);
    rootseal_gpt_close(NULL);

    /* A read-only handle refuses writes. */
    rootseal_gpt_open_params open;
    memset(&open, 0, sizeof open);
    open.version = ROOTSEAL_GPT_OPEN_PARAMS_VERSION;
    open.flags = ROOTSEAL_GPT_OPEN_READ_ONLY;
    gpt = NULL;
    CHECK(rootseal_gpt_open_path(path, &open, &gpt) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_gpt_invalidate(gpt, 3) == ROOTSEAL_STATUS_INVALID_ARGUMENT);
    rootseal_gpt_close(gpt);

    open.flags = 0;
    open.block_size = 1024;
    rootseal_gpt *never = (rootseal_gpt *)&open;
    CHECK(rootseal_gpt_open_path(path, &open, &never) == ROOTSEAL_STATUS_GPT_INVALID_BLOCK_SIZE);
    CHECK(never == (rootseal_gpt *)&open); /* untouched */
    CHECK(rootseal_gpt_open_path("/nonexistent/disk.img", NULL, &never) == ROOTSEAL_STATUS_IO);
    CHECK(rootseal_gpt_open_path(path, NULL, NULL) == ROOTSEAL_STATUS_NULL_PARAMETER);
}

static void callbacks(const char *path, const char *type) {
    size_t size;
    uint8_t *image = read_file(path, &size);
    struct memdisk disk = memdisk_new(image, size);
    free(image);
    disk.block_size = 512;
    rootseal_io io = memdisk_io(&disk);
    rootseal_gpt *gpt = NULL;
    CHECK(rootseal_gpt_open_io(&io, NULL, &gpt) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_gpt_mark_update(gpt, 5, type) == ROOTSEAL_STATUS_OK);
    CHECK(disk.flushes == 2); /* one per copy */

    /* The disk fails during the next write: the trial slot's try cannot be recorded,
     * so the slot marked successful boots instead, with nothing more written, and the
     * disk still reads as the complete old state. */
    disk.writes_left = 1;
    rootseal_gpt_next_result next;
    CHECK(rootseal_gpt_next(gpt, type, &next) == ROOTSEAL_STATUS_OK);
    CHECK(next.fallback == 1 && next.written == 0);
    CHECK(next.partition.index != 5 && next.partition.successful == 1);
    disk.writes_left = -1;
    rootseal_gpt_partition part;
    CHECK(rootseal_gpt_get_partition(gpt, 5, &part) == ROOTSEAL_STATUS_OK);
    CHECK(part.priority == 3 && part.tries == 1 && part.successful == 0);
    rootseal_gpt_state state;
    CHECK(rootseal_gpt_get_state(gpt, &state) == ROOTSEAL_STATUS_OK);
    CHECK(state.primary_valid && !state.backup_valid); /* the torn backup */

    /* After the power comes back, the boot goes on and repairs as it writes. */
    CHECK(rootseal_gpt_next(gpt, type, &next) == ROOTSEAL_STATUS_OK);
    CHECK(next.partition.index == 5 && next.written == 1 && next.partition.tries == 0);
    CHECK(next.fallback == 0);
    CHECK(rootseal_gpt_get_state(gpt, &state) == ROOTSEAL_STATUS_OK);
    CHECK(state.primary_valid && state.backup_valid);
    rootseal_gpt_close(gpt);

    /* Missing write callbacks are refused unless the handle is read-only. */
    io.write = NULL;
    gpt = NULL;
    CHECK(rootseal_gpt_open_io(&io, NULL, &gpt) == ROOTSEAL_STATUS_NULL_PARAMETER && gpt == NULL);
    rootseal_gpt_open_params open;
    memset(&open, 0, sizeof open);
    open.version = ROOTSEAL_GPT_OPEN_PARAMS_VERSION;
    open.flags = ROOTSEAL_GPT_OPEN_READ_ONLY;
    open.block_size = 4096;
    CHECK(rootseal_gpt_open_io(&io, &open, &gpt) == ROOTSEAL_STATUS_GPT_INVALID_BLOCK_SIZE);
    open.block_size = 0;
    CHECK(rootseal_gpt_open_io(&io, &open, &gpt) == ROOTSEAL_STATUS_OK);
    CHECK(rootseal_gpt_get_partition(gpt, 5, &part) == ROOTSEAL_STATUS_OK && part.tries == 0);
    rootseal_gpt_close(gpt);
    free(disk.bytes);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DISK TYPE_GUID\n", argv[0]);
        return 2;
    }
    const char *path = argv[1], *type = argv[2];
    update_cycle(path, type);
    /* The Rust driver compares the disk with cgpt's at this point, from this copy. */
    char copy_path[4096];
    snprintf(copy_path, sizeof copy_path, "%s.cycle", path);
    size_t size;
    uint8_t *image = read_file(path, &size);
    FILE *out = fopen(copy_path, "wb");
    CHECK(out != NULL && fwrite(image, 1, size, out) == size);
    if (out != NULL) fclose(out);
    free(image);
    callbacks(path, type);
    error_contract(path, type);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
