/* LD_PRELOAD shim for the tests: fakes just enough of libdevmapper for the real
 * libcryptsetup (behind `veritysetup open`) to build a device-mapper table, print it,
 * and fail the create. It lets the tests compare `rootseal verity table` with the line
 * libcryptsetup itself would load, on a machine without device-mapper.
 * Build: cc -shared -fPIC -o dmshim.so dmshim.c
 * Use:   LD_PRELOAD=./dmshim.so veritysetup open DATA name HASH ROOT [flags]
 * Prints "DMTABLE: <start> <len> <target> <params>" on stderr for each target. It claims
 * dm-verity target 1.11 (kernel 6.x) so that every option veritysetup knows is allowed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
struct dm_task { int type; };
struct dm_info { int exists, suspended, live_table, inactive_table; int32_t open_count;
  uint32_t event_nr, major, minor; int read_only; int32_t target_count; int deferred_remove, internal_suspend; };
enum { T_CREATE = 0, T_RELOAD = 1, T_LIST_VERSIONS = 16 };
struct dm_task *dm_task_create(int type) { struct dm_task *t = calloc(1, sizeof *t); t->type = type; return t; }
void dm_task_destroy(struct dm_task *t) { free(t); }
int dm_task_run(struct dm_task *t) { return !(t->type == T_CREATE || t->type == T_RELOAD); }
int dm_task_get_driver_version(struct dm_task *t, char *v, size_t n) { (void)t; snprintf(v, n, "4.48.0"); return 1; }
static unsigned char vers[512];
void *dm_task_get_versions(struct dm_task *t) {
  static const struct { const char *n; uint32_t v[3]; } tg[] = {
    {"crypt",{1,24,0}}, {"verity",{1,11,0}}, {"integrity",{1,11,0}}, {"linear",{1,4,0}}, {"zero",{1,2,0}}, {"error",{1,6,0}} };
  size_t off = 0, prev = 0; (void)t; memset(vers, 0, sizeof vers);
  for (unsigned i = 0; i < sizeof tg / sizeof tg[0]; i++) {
    size_t len = 16 + ((strlen(tg[i].n) + 1 + 7) & ~7u);
    if (i) memcpy(vers + prev, &(uint32_t){ (uint32_t)(off - prev) }, 4);
    memcpy(vers + off + 4, tg[i].v, 12); strcpy((char *)vers + off + 16, tg[i].n);
    prev = off; off += len; }
  return vers; }
int dm_task_add_target(struct dm_task *t, uint64_t start, uint64_t size, const char *ttype, const char *params) {
  (void)t; fprintf(stderr, "DMTABLE: %llu %llu %s %s\n", (unsigned long long)start, (unsigned long long)size, ttype, params); return 1; }
int dm_task_get_info(struct dm_task *t, struct dm_info *i) { (void)t; memset(i, 0, sizeof *i); return 1; }
void *dm_get_next_target(struct dm_task *t, void *next, uint64_t *s, uint64_t *l, char **tt, char **p) {
  (void)t; (void)next; *s = *l = 0; *tt = *p = NULL; return NULL; }
void dm_log_init(void *f) { (void)f; } void dm_log_init_verbose(int l) { (void)l; }
void dm_lib_release(void) {} const char *dm_dir(void) { return "/dev/mapper"; }
int dm_is_dm_major(uint32_t m) { (void)m; return 0; }
int dm_device_get_name(uint32_t a, uint32_t b, int c, char *buf, size_t n) { (void)a; (void)b; (void)c; (void)buf; (void)n; return 0; }
int dm_device_has_holders(uint32_t a, uint32_t b) { (void)a; (void)b; return 0; }
int dm_device_has_mounted_fs(uint32_t a, uint32_t b) { (void)a; (void)b; return 0; }
int dm_udev_get_sync_support(void) { return 0; } int dm_udev_wait(uint32_t c) { (void)c; return 1; }
int dm_task_set_cookie(struct dm_task *t, uint32_t *c, uint16_t f) { (void)t; (void)f; *c = 0; return 1; }
#define OK1(fn) int fn(struct dm_task *t) { (void)t; return 1; }
OK1(dm_task_deferred_remove) OK1(dm_task_no_flush) OK1(dm_task_no_open_count) OK1(dm_task_retry_remove)
OK1(dm_task_secure_data) OK1(dm_task_set_ro) OK1(dm_task_skip_lockfs)
int dm_task_set_name(struct dm_task *t, const char *n) { (void)t; (void)n; return 1; }
int dm_task_set_uuid(struct dm_task *t, const char *n) { (void)t; (void)n; return 1; }
int dm_task_set_message(struct dm_task *t, const char *n) { (void)t; (void)n; return 1; }
int dm_task_set_major(struct dm_task *t, int m) { (void)t; (void)m; return 1; }
int dm_task_set_minor(struct dm_task *t, int m) { (void)t; (void)m; return 1; }
int dm_task_set_sector(struct dm_task *t, uint64_t s) { (void)t; (void)s; return 1; }
int dm_task_set_read_ahead(struct dm_task *t, uint32_t r, uint32_t f) { (void)t; (void)r; (void)f; return 1; }
void *dm_task_get_deps(struct dm_task *t) { (void)t; return NULL; }
const char *dm_task_get_name(const struct dm_task *t) { (void)t; return ""; }
const char *dm_task_get_uuid(const struct dm_task *t) { (void)t; return ""; }
int dm_task_update_nodes(void) { return 1; }
