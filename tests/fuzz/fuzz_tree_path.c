/* The path parser (rows.h: tree_parse over the real row table), with the
 * paths FUSE hands zoomfs: anything up to PATH_MAX (4096 bytes). Invariants:
 * it returns 0, -ENOENT or -ENAMETOOLONG; on 0 the kind is one of the
 * table's with its row, or NODE_OTHER (no row) inside a folder row; every
 * name it copies is NUL-terminated and is the component it came from; and
 * tree_name_fits agrees on the last component. */
#include "fuzz.h"

#include "zoomfs/rows.h"

#include <errno.h>

#define PATH_MAX_BYTES 4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    return 0;
}

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* The last component of path (after the last run of '/'), its length in *n. */
static const char *last_component(const char *path, size_t *n)
{
    size_t len = strlen(path);
    while (len > 0 && path[len - 1] == '/')
        len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/')
        start--;
    *n = len - start;
    return path + start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > PATH_MAX_BYTES)
        size = PATH_MAX_BYTES;
    char *path = fuzz_cstr(data, size);
    TreePath t;
    int rc = rows_parse(path, &t);
    FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -ENAMETOOLONG, "rc %d", rc);
    if (rc == 0) {
        FUZZ_CHECK(terminated(t.user, sizeof(t.user)) && terminated(t.id, sizeof(t.id)) &&
                       terminated(t.month, sizeof(t.month)) &&
                       terminated(t.instance, sizeof(t.instance)) &&
                       terminated(t.name, sizeof(t.name)),
                   "a name not terminated");
        FUZZ_CHECK(t.parent != NULL, "no parent row for \"%s\"", path);
        if (t.kind == NODE_OTHER) {
            FUZZ_CHECK(!t.row && (t.parent->flags & ROW_DIR), "\"%s\": other, not in a folder",
                       path);
            FUZZ_CHECK(t.parent_kind == t.parent->kind, "\"%s\": parent kinds differ", path);
        } else {
            FUZZ_CHECK(t.row && t.row->kind == t.kind, "\"%s\": kind %d without its row", path,
                       (int)t.kind);
            FUZZ_CHECK(t.parent->kind == t.row->parent, "\"%s\": wrong parent", path);
        }
        size_t n;
        const char *last = last_component(path, &n);
        FUZZ_CHECK(strlen(t.name) == n && memcmp(t.name, last, n) == 0,
                   "\"%s\": name \"%s\" is not its last component", path, t.name);
        if (t.row && n > 0 && t.kind != NODE_ROOT) {
            char name[TREE_NAME_MAX];
            memcpy(name, last, n);
            name[n] = '\0';
            FUZZ_CHECK(tree_name_fits(t.row, name), "\"%s\": its row does not fit \"%s\"", path,
                       name);
        }
    }
    /* every row's test of one name, whatever the path said */
    size_t n;
    const char *last = last_component(path, &n);
    if (n < TREE_NAME_MAX) {
        char name[TREE_NAME_MAX];
        memcpy(name, last, n);
        name[n] = '\0';
        for (size_t r = 0; r < nrows; r++)
            (void)tree_name_fits(&rows[r], name);
    }
    free(path);
    return 0;
}
