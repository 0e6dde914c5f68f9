/* edit: a JSON file open for writing, and how its content becomes one
 * request. An edit of an existing object becomes one PATCH with only the
 * fields that differ from what was read; a new file in meetings/ or
 * webinars/ becomes one POST; invalid content sends nothing and fails with
 * EINVAL. The result is what close() returns (fs calls edit_commit from
 * flush, since the kernel ignores release's result). */
#ifndef ZOOMFS_EDIT_H
#define ZOOMFS_EDIT_H

#include "zoomfs/kind.h"
#include "zoomfs/tree.h"

#include <stdbool.h>
#include <sys/types.h>

/* Zoom's objects are small; a larger file is a mistake, not a meeting. */
#define EDIT_MAX (1u << 20)

typedef struct Edit Edit;

/* An existing object: the buffer starts as the file shows it (empty when
 * truncate). current is the object as last read. */
Edit *edit_open(const Entry *e, const JsonFile *current, bool truncate);
/* A new file in a folder whose row has ROW_NEW_JSON: committing it POSTs
 * (the folder's child row says where). It is visible under its temporary
 * name until then. */
Edit *edit_create(const Entry *e);
void edit_free(Edit *e);

ssize_t edit_read(Edit *e, char *buf, size_t len, off_t off);
ssize_t edit_write(Edit *e, const char *buf, size_t len, off_t off);
int edit_truncate(Edit *e, off_t size);

/* Sends what changed since the last commit (nothing when nothing did).
 * Returns 0 or -errno. *moved is set when a POST gave the file its real
 * name: the temporary path is gone. */
int edit_commit(Edit *e, bool *moved);

/* The size of a file being created at path, or -ENOENT when none is. */
int64_t edit_pending_size(const char *path);
/* Names of files being created directly inside dir. */
void edit_list_pending(const char *dir, int (*add)(void *ctx, const char *name, bool is_dir),
                       void *ctx);

/* Saves content onto a resource path in one go (rename of a scratch file
 * onto <id>.json, or onto a new name: POST). Returns 0 or -errno. */
int edit_save(const Entry *e, const char *data, size_t len);

/* Is this path, of no row of its own, a new Zoom object (a *.json file in a
 * folder that creates them) rather than a scratch file? */
bool edit_is_new_object(const TreePath *tp);

/* The row of the objects a ROW_NEW_JSON folder holds. */
const Row *edit_child_row(const Row *folder);

#endif
