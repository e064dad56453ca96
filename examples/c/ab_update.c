/*
 * A whole Flatcar-style A/B update cycle through the rootseal C API, on a disk image
 * this program creates (with sgdisk): what an update agent and a boot loader written in
 * C do, step by step, with what each step means printed as it goes.
 *
 *   1. verify the update payload's signature against the trusted key;
 *   2. write the new /usr image to the idle slot (USR-B);
 *   3. build its dm-verity tree inside the slot and print the kernel table line;
 *   4. mark-update the slot (one trial boot);
 *   5. the boot loader's `next` (GRUB gptprio.next) uses the try and boots USR-B,
 *      after checking the bytes it loads against the root hash;
 *   6. the booted system marks USR-B good;
 *   7. a later update to USR-A never comes up: the boot after its trial falls back.
 *
 * usage: ab_update WORKDIR PAYLOAD SIGNATURE PUBLIC_KEY [FOREIGN_SIGNATURE]
 *   PAYLOAD is the new /usr image (a multiple of 4096 bytes, at most 12 MiB),
 *   SIGNATURE its detached signature (openssl dgst -sign), PUBLIC_KEY the PEM key that
 *   must have made it; FOREIGN_SIGNATURE, if given, a signature of the same payload by
 *   another key, which must be refused. scripts/run-c-example.sh makes all three and builds this
 *   program with pkg-config only.
 */
#define _POSIX_C_SOURCE 200809L

#include <rootseal.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USR_TYPE "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6"
#define USR_A_UUID "7130c94a-213a-4e5a-8e26-6cce9662f132"
#define USR_B_UUID "e03dd35c-7c2d-4a47-b3fe-27f15780a57c"
#define USR_A 3
#define USR_B 4
#define DISK_BYTES (64u << 20)

/* Stops with the library's own explanation when a call fails. */
static void ok(rootseal_status status, const char *what) {
    if (status != ROOTSEAL_STATUS_OK) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, rootseal_strerror(status), rootseal_last_error());
        exit(1);
    }
}

static void hex(const uint8_t *bytes, size_t len, char *out) {
    size_t i;
    for (i = 0; i < len; i++) sprintf(out + 2 * i, "%02x", bytes[i]);
    out[2 * len] = '\0';
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *bytes = NULL;
    long size;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(bytes = (uint8_t *)malloc((size_t)size + 1)) || fread(bytes, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    *len = (size_t)size;
    return bytes;
}

/* A partition of the disk image as a rootseal device: the window [base, base + size)
 * of a file, the way an agent without a partition device node would hand it over. */
struct window {
    int fd;
    uint64_t base;
    uint64_t size;
};

static int64_t window_read(void *ctx, uint64_t offset, uint8_t *buf, size_t len) {
    struct window *w = (struct window *)ctx;
    ssize_t got;
    if (offset >= w->size) return 0;
    if (len > w->size - offset) len = (size_t)(w->size - offset);
    got = pread(w->fd, buf, len, (off_t)(w->base + offset));
    return got < 0 ? -1 : (int64_t)got;
}

static int64_t window_write(void *ctx, uint64_t offset, const uint8_t *buf, size_t len) {
    struct window *w = (struct window *)ctx;
    ssize_t put;
    if (offset > w->size || len > w->size - offset) return -1;
    put = pwrite(w->fd, buf, len, (off_t)(w->base + offset));
    return put < 0 ? -1 : (int64_t)put;
}

static int32_t window_flush(void *ctx) {
    return fsync(((struct window *)ctx)->fd) == 0 ? 0 : -1;
}

static int32_t window_size(void *ctx, uint64_t *size_out) {
    *size_out = ((struct window *)ctx)->size;
    return 0;
}

static rootseal_io window_io(struct window *w) {
    rootseal_io io;
    memset(&io, 0, sizeof io);
    io.version = ROOTSEAL_IO_VERSION;
    io.ctx = w;
    io.read = window_read;
    io.write = window_write;
    io.flush = window_flush;
    io.size = window_size;
    return io;
}

static void show_slots(rootseal_gpt *gpt, const char *when) {
    rootseal_gpt_partition a, b;
    ok(rootseal_gpt_get_partition(gpt, USR_A, &a), "reading USR-A");
    ok(rootseal_gpt_get_partition(gpt, USR_B, &b), "reading USR-B");
    printf("   %-44s USR-A P%u T%u S%u   USR-B P%u T%u S%u\n", when, a.priority, a.tries, a.successful, b.priority,
           b.tries, b.successful);
}

static uint32_t boot(rootseal_gpt *gpt, const char *why) {
    rootseal_gpt_next_result next;
    ok(rootseal_gpt_next(gpt, USR_TYPE, &next), "gptprio next");
    printf("%s: the boot loader picks %s (%s)\n", why, next.partition.index == USR_A ? "USR-A" : "USR-B",
           next.written ? "one try used, table written" : "no try needed, nothing written");
    return next.partition.index;
}

static void create_disk(const char *disk) {
    char command[8192];
    FILE *f = fopen(disk, "wb");
    if (!f || fseek(f, DISK_BYTES - 1, SEEK_SET) != 0 || fputc(0, f) == EOF || fclose(f) != 0) {
        fprintf(stderr, "cannot create %s\n", disk);
        exit(1);
    }
    if (strchr(disk, '\'')) {
        fprintf(stderr, "the work directory must not contain a quote\n");
        exit(1);
    }
    snprintf(command, sizeof command,
             "sgdisk -o -n=1:0:+8M -t=1:c12a7328-f81f-11d2-ba4b-00a0c93ec93b -c=1:EFI-SYSTEM "
             "-n=3:0:+16M -t=3:" USR_TYPE " -c=3:USR-A -u=3:" USR_A_UUID " "
             "-n=4:0:+16M -t=4:" USR_TYPE " -c=4:USR-B -u=4:" USR_B_UUID " "
             "-n=9:0:0 -t=9:3884dd41-8582-4404-b9a8-e9b84f2df50e -c=9:ROOT '%s' >/dev/null",
             disk);
    if (system(command) != 0) {
        fprintf(stderr, "sgdisk failed (scripts/setup.sh installs gdisk)\n");
        exit(1);
    }
}

int main(int argc, char **argv) {
    char disk[4096], device[128], fingerprint[65], *table;
    size_t table_len = 0;
    size_t payload_len, signature_len;
    uint8_t *payload, *signature;
    rootseal_sig_context *context = NULL;
    rootseal_trust_store *store = NULL;
    rootseal_sig_params sig_params;
    rootseal_sig_result verified;
    rootseal_gpt *gpt = NULL;
    rootseal_gpt_partition slot_b;
    rootseal_verity_params params;
    rootseal_verity_result tree;
    rootseal_verity_range range;
    rootseal_io usr_b_io;
    struct window usr_b;
    rootseal_status status;

    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s WORKDIR PAYLOAD SIGNATURE PUBLIC_KEY [FOREIGN_SIGNATURE]\n", argv[0]);
        return 2;
    }
    printf("rootseal %s (ABI %u), built against header %d.%d.%d\n", rootseal_version(), rootseal_abi_version(),
           ROOTSEAL_VERSION_MAJOR, ROOTSEAL_VERSION_MINOR, ROOTSEAL_VERSION_PATCH);
    if (rootseal_abi_version() != ROOTSEAL_ABI_VERSION) {
        fprintf(stderr, "the library's ABI is not the header's\n");
        return 1;
    }

    snprintf(disk, sizeof disk, "%s/flatcar.img", argv[1]);
    create_disk(disk);
    ok(rootseal_gpt_open_path(disk, NULL, &gpt), "opening the disk");
    ok(rootseal_gpt_mark_good(gpt, USR_A, USR_TYPE), "marking USR-A good");
    printf("0. a 64 MiB Flatcar disk image, %s: the running system is on USR-A\n", disk);
    show_slots(gpt, "after the image build");

    /* 1. Nothing is installed unless the payload is signed by a trusted key. */
    payload = slurp(argv[2], &payload_len);
    signature = slurp(argv[3], &signature_len);
    ok(rootseal_sig_context_new(&context), "creating a signature context");
    ok(rootseal_trust_store_new(context, &store), "creating a trust store");
    ok(rootseal_trust_store_add_key_file(store, argv[4]), "adding the trusted key");
    memset(&sig_params, 0, sizeof sig_params);
    sig_params.version = ROOTSEAL_SIG_PARAMS_VERSION;
    sig_params.policy = ROOTSEAL_SIG_POLICY_DEFAULT;
    ok(rootseal_sig_verify_buffer(store, &sig_params, payload, payload_len, signature, signature_len, &verified),
       "verifying the payload signature");
    hex(verified.fingerprint, 32, fingerprint);
    printf("1. the payload signature verifies (key SHA-256 %.16s..., provider %s)\n", fingerprint, verified.provider);
    payload[payload_len / 2] ^= 0x01;
    status = rootseal_sig_verify_buffer(store, &sig_params, payload, payload_len, signature, signature_len, NULL);
    printf("   the same payload with one bit flipped: %s\n", rootseal_strerror(status));
    payload[payload_len / 2] ^= 0x01;
    if (status != ROOTSEAL_STATUS_SIG_INVALID) return 1;
    if (argc == 6) {
        size_t foreign_len;
        uint8_t *foreign = slurp(argv[5], &foreign_len);
        status = rootseal_sig_verify_buffer(store, &sig_params, payload, payload_len, foreign, foreign_len, NULL);
        printf("   the same payload signed by a key that is not trusted: %s\n", rootseal_strerror(status));
        free(foreign);
        if (status != ROOTSEAL_STATUS_SIG_INVALID) return 1;
    }

    /* 2. The idle slot gets the image, written through a window of the disk file. */
    ok(rootseal_gpt_get_partition(gpt, USR_B, &slot_b), "reading USR-B");
    usr_b.fd = open(disk, O_RDWR);
    usr_b.base = slot_b.first_lba * 512;
    usr_b.size = (slot_b.last_lba - slot_b.first_lba + 1) * 512;
    if (usr_b.fd < 0 || payload_len % 4096 != 0 || payload_len > usr_b.size - (4u << 20)) {
        fprintf(stderr, "cannot write a %zu-byte payload into USR-B\n", payload_len);
        return 1;
    }
    usr_b_io = window_io(&usr_b);
    if (window_write(&usr_b, 0, payload, payload_len) != (int64_t)payload_len || window_flush(&usr_b) != 0) {
        perror("writing USR-B");
        return 1;
    }
    printf("2. %zu bytes written to USR-B (LBA %llu-%llu, PARTUUID %s)\n", payload_len,
           (unsigned long long)slot_b.first_lba, (unsigned long long)slot_b.last_lba, slot_b.unique_guid);

    /* 3. The tree goes into the same partition, after the file system (Flatcar's
     * layout), so the data and hash devices are one: same ctx. */
    memset(&params, 0, sizeof params);
    params.version = ROOTSEAL_VERITY_PARAMS_VERSION;
    params.data_blocks = payload_len / 4096;
    params.hash_offset = payload_len;
    ok(rootseal_verity_format_io(&params, &usr_b_io, &usr_b_io, &tree), "building the verity tree");
    snprintf(device, sizeof device, "/dev/disk/by-partuuid/%s", slot_b.unique_guid);
    /* Ask for the length first, then fetch the line into a buffer of that size. */
    if (rootseal_verity_kernel_table(&tree, NULL, device, device, NULL, 0, &table_len) !=
        ROOTSEAL_STATUS_BUFFER_TOO_SMALL) {
        fprintf(stderr, "the table length query failed: %s\n", rootseal_last_error());
        return 1;
    }
    table = (char *)malloc(table_len + 1);
    if (table == NULL) return 1;
    ok(rootseal_verity_kernel_table(&tree, NULL, device, device, table, table_len + 1, NULL), "the table line");
    printf("3. verity tree built in USR-B after the data; the kernel table line:\n   %s\n", table);
    free(table);

    /* 4. One trial boot for the new slot. */
    ok(rootseal_gpt_mark_update(gpt, USR_B, USR_TYPE), "mark-update USR-B");
    printf("4. mark-update USR-B: highest priority, one try, not yet successful\n");
    show_slots(gpt, "after mark-update");

    /* 5. What the boot loader does on the next boot, including checking the bytes it
     * loads (here the first MiB of the slot) before trusting them. */
    if (boot(gpt, "5. reboot") != USR_B) return 1;
    memset(&range, 0, sizeof range);
    range.version = ROOTSEAL_VERITY_RANGE_VERSION;
    range.offset = 0;
    range.length = 1u << 20;
    ok(rootseal_verity_verify_range_io(&params, &usr_b_io, &usr_b_io, tree.root_hash, tree.root_hash_size, &range,
                                       NULL),
       "verifying the loaded range");
    printf("   it checks the first MiB it loads from USR-B against the root hash: intact\n");
    show_slots(gpt, "during the trial boot");

    /* 6. The new system came up: it keeps USR-B. */
    ok(rootseal_gpt_mark_good(gpt, USR_B, USR_TYPE), "mark-good USR-B");
    printf("6. USR-B came up and marks itself good\n");
    show_slots(gpt, "after mark-good");
    if (boot(gpt, "   next reboot") != USR_B) return 1;

    /* 7. The next update goes to USR-A (now idle) and never comes up. */
    ok(rootseal_gpt_mark_update(gpt, USR_A, USR_TYPE), "mark-update USR-A");
    printf("7. a later update is installed to USR-A the same way and marked for update\n");
    show_slots(gpt, "after mark-update");
    if (boot(gpt, "   reboot") != USR_A) return 1;
    printf("   USR-A hangs before it can mark itself good; the machine is reset\n");
    if (boot(gpt, "   reboot") != USR_B) return 1;
    printf("   rolled back: USR-A has no tries left and was never successful, USR-B still is\n");
    show_slots(gpt, "after the rollback");

    rootseal_gpt_close(gpt);
    rootseal_trust_store_free(store);
    rootseal_sig_context_free(context);
    close(usr_b.fd);
    free(payload);
    free(signature);
    printf("done: %s holds the final disk\n", disk);
    return 0;
}
