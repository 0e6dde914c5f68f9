/* edit: write buffers of JSON files and the PATCH/POST they become. */
#include "zoomfs/edit.h"

#include "zoomfs/errmap.h"
#include "zoomfs/jsonfile.h"
#include "zoomfs/log.h"
#include "zoomfs/node.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct Edit {
    pthread_mutex_t lock;
    struct Edit *next_pending; /* in the list of files being created */
    char *path;
    TreePath tp;      /* of the object; while it is being created: of its folder's child */
    json_t *original; /* as last read; NULL while the object does not exist */
    StrBuf buf;
    bool dirty;   /* changed since the last commit */
    int failed;   /* what every later commit returns: a write that could not be held,
                     or a POST that may have created the object */
    bool pending; /* in the pending list */
};

static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static Edit *pending;

const Row *edit_child_row(const Row *folder)
{
    size_t n;
    const Row *rows = store_rows(&n);
    for (size_t i = 0; i < n; i++)
        if (rows[i].parent == folder->kind && rows[i].post && !(rows[i].flags & ROW_DIR))
            return &rows[i];
    return NULL;
}

bool edit_is_new_object(const TreePath *tp)
{
    size_t n = strlen(tp->name);
    return tp->parent && (tp->parent->flags & ROW_NEW_JSON) && n > 5 && tp->name[0] != '.' &&
           strcmp(tp->name + n - 5, ".json") == 0;
}

static Edit *edit_new(const char *path, const TreePath *tp)
{
    Edit *e = xcalloc(1, sizeof(*e));
    pthread_mutex_init(&e->lock, NULL);
    e->path = xstrdup(path);
    e->tp = *tp;
    strbuf_init(&e->buf);
    return e;
}

Edit *edit_open(const Entry *entry, const JsonFile *current, bool truncate)
{
    Edit *e = edit_new(entry->path, &entry->tp);
    e->original = json_file_value(current);
    if (truncate)
        e->dirty = true;
    else
        strbuf_append(&e->buf, current->text, current->len);
    return e;
}

Edit *edit_create(const Entry *entry)
{
    Edit *e = edit_new(entry->path, &entry->tp);
    e->pending = true;
    lock(&pending_lock);
    e->next_pending = pending;
    pending = e;
    unlock(&pending_lock);
    return e;
}

static void unlist_pending(Edit *e)
{
    lock(&pending_lock);
    for (Edit **p = &pending; *p; p = &(*p)->next_pending)
        if (*p == e) {
            *p = e->next_pending;
            break;
        }
    e->pending = false;
    unlock(&pending_lock);
}

void edit_free(Edit *e)
{
    if (!e)
        return;
    if (e->dirty && e->buf.len == 0)
        stats_error("%s: closed empty; an empty file is no object, nothing sent", e->path);
    if (e->pending)
        unlist_pending(e);
    json_decref(e->original);
    strbuf_free(&e->buf);
    free(e->path);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

int64_t edit_pending_size(const char *path)
{
    int64_t size = -ENOENT;
    lock(&pending_lock);
    for (Edit *e = pending; e; e = e->next_pending)
        if (strcmp(e->path, path) == 0) {
            size = (int64_t)e->buf.len;
            break;
        }
    unlock(&pending_lock);
    return size;
}

void edit_list_pending(const char *dir, int (*add)(void *ctx, const char *name, bool is_dir),
                       void *ctx)
{
    size_t dl = strlen(dir);
    lock(&pending_lock);
    for (Edit *e = pending; e; e = e->next_pending)
        if (strncmp(e->path, dir, dl) == 0 && e->path[dl] == '/' && !strchr(e->path + dl + 1, '/'))
            add(ctx, e->path + dl + 1, false);
    unlock(&pending_lock);
}

ssize_t edit_read(Edit *e, char *buf, size_t len, off_t off)
{
    lock(&e->lock);
    size_t n = copy_range(e->buf.data, e->buf.len, buf, len, off);
    unlock(&e->lock);
    return (ssize_t)n;
}

ssize_t edit_write(Edit *e, const char *buf, size_t len, off_t off)
{
    lock(&e->lock);
    if (off < 0 || (size_t)off + len > EDIT_MAX) {
        /* Remember it: close() must fail too, and nothing is sent. */
        e->failed = EFBIG;
        unlock(&e->lock);
        stats_error("%s: not saved: larger than %u bytes", e->path, EDIT_MAX);
        return -EFBIG;
    }
    strbuf_write_at(&e->buf, buf, len, (size_t)off);
    e->dirty = true;
    unlock(&e->lock);
    return (ssize_t)len;
}

int edit_truncate(Edit *e, off_t size)
{
    if (size < 0 || (size_t)size > EDIT_MAX)
        return -EFBIG;
    lock(&e->lock);
    if ((size_t)size != e->buf.len)
        e->dirty = true;
    strbuf_resize(&e->buf, (size_t)size);
    unlock(&e->lock);
    return 0;
}

/* POST of a new file in its folder; *new_path gets the object's own path
 * and *created Zoom's answer. */
static int send_post(const char *path, const TreePath *tp, const json_t *edited, char **new_path,
                     json_t **created)
{
    Entry folder = {.path = NULL, .tp = *tp};
    char *slash = strrchr(path, '/');
    char *dir = xstrndup(path, (size_t)(slash - path));
    folder.path = dir;
    folder.tp.row = tp->parent;
    folder.tp.kind = tp->parent_kind;
    const Row *child = edit_child_row(tp->parent);
    char *id = NULL;
    int rc = child ? node_post(&folder, child, edited, &id, created) : -EPERM;
    if (rc == 0) {
        *new_path = xasprintf("%s/%s.json", dir, id);
        log_info("%s: created %s", path, *new_path);
    }
    free(id);
    free(dir);
    return rc;
}

/* A POST that failed this way may have reached Zoom and taken effect (an
 * answer lost or cut, an answer without the new id), as opposed to one Zoom
 * refused (EINVAL, EACCES, ...), which created nothing. */
static bool post_may_have_happened(int rc)
{
    return rc == -EIO || rc == -ETIMEDOUT || rc == -EINTR;
}

static json_t *parse_or_report(const char *path, const char *data, size_t len, int *rc)
{
    if (len > EDIT_MAX) {
        stats_error("%s: not saved: larger than %u bytes", path, EDIT_MAX);
        *rc = -EFBIG;
        return NULL;
    }
    char why[256];
    json_t *edited = jsonfile_parse(data, len, why, sizeof(why));
    if (!edited) {
        stats_error("%s: not saved, nothing sent: %s", path, why);
        *rc = -EINVAL;
    }
    return edited;
}

int edit_commit(Edit *e, bool *moved)
{
    *moved = false;
    lock(&e->lock);
    int rc = 0;
    if (e->failed) {
        rc = -e->failed;
        goto out;
    }
    /* An empty buffer is a file between its truncation and its first write
     * (the shell's "> m.json" flushes a dup'ed descriptor before echo
     * writes): nothing to send yet, and nothing to complain about. */
    if (!e->dirty || e->buf.len == 0)
        goto out;
    json_t *edited = parse_or_report(e->path, e->buf.data ? e->buf.data : "", e->buf.len, &rc);
    if (!edited)
        goto out;
    json_t *fresh = NULL;
    if (e->original) {
        Entry entry = {.path = e->path, .tp = e->tp};
        rc = node_patch(&entry, e->original, edited, &fresh);
    } else {
        char *renamed = NULL;
        rc = send_post(e->path, &e->tp, edited, &renamed, &fresh);
        if (post_may_have_happened(rc)) {
            /* Sending it again could make a second object: this buffer is
             * done, and every later flush (fsync then close, a dup()ed
             * descriptor, vim's :w) reports the same. */
            e->failed = -rc;
            stats_error("%s: the POST may have created the object; it is not sent again, and "
                        "this file reports %s until closed",
                        e->path, errmap_errno_name(-rc));
        }
        if (rc == 0) {
            /* From now on this handle edits the object it created. */
            free(e->path);
            e->path = renamed;
            store_parse(e->path, &e->tp);
            *moved = true;
        }
    }
    json_decref(edited);
    if (rc == 0) {
        json_decref(e->original);
        e->original = fresh;
        e->dirty = false;
    }
out:
    unlock(&e->lock);
    if (*moved && e->pending)
        unlist_pending(e);
    return rc;
}

int edit_save(const Entry *e, const char *data, size_t len)
{
    int rc = 0;
    json_t *edited = parse_or_report(e->path, data, len, &rc);
    if (!edited)
        return rc;
    JsonFile *current;
    rc = e->tp.row && e->tp.row->ops->json ? e->tp.row->ops->json(e, &current) : -ENOENT;
    if (rc == 0) {
        json_t *result = NULL;
        json_t *original = json_file_value(current);
        rc = node_patch(e, original, edited, &result);
        json_decref(original);
        json_decref(result);
        cacheval_unref(&current->base);
    } else if (rc == -ENOENT && e->tp.parent && (e->tp.parent->flags & ROW_NEW_JSON)) {
        char *created_path = NULL;
        json_t *created = NULL;
        rc = send_post(e->path, &e->tp, edited, &created_path, &created);
        free(created_path);
        json_decref(created);
    }
    json_decref(edited);
    return rc;
}
