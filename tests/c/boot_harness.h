/*
 * Shared by the C tests of the boot library (boot_smoke.c, boot_gpt.c): the CHECK
 * counter and a whole-file reader. The boot header has no last-error message, so this
 * is harness.h without it. Each test prints "N passed, M failed" at the end.
 */
#ifndef ROOTSEAL_BOOT_TEST_HARNESS_H
#define ROOTSEAL_BOOT_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int passed, failed;
#define CHECK(cond)                                                                \
    do {                                                                           \
        if (cond) {                                                                \
            passed++;                                                              \
        } else {                                                                   \
            failed++;                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                          \
    } while (0)

/* The whole file (one spare byte at the end); exits with 2 when it cannot be read. */
static uint8_t *slurp(const char *path, size_t *len) {
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
    *len = (size_t)size;
    return bytes;
}

#endif
