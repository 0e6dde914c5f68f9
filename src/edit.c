/* edit: write buffers of JSON files and the PATCH/POST they become. */
#include "zoomfs/edit.h"

#include "zoomfs/api.h"
#include "zoomfs/jsonfile.h"
#include "zoomfs/log.h"
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
    TreePath tp;
    json_t *original; /* as last read; NULL while the object does not exist */
    StrBuf buf;
    bool dirty;   /* changed since the last commit */
    int failed;   /* a write that could not be held: what commit returns */
    bool pending; /* in the pending list */
};

static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
static Edit *pending;

bool edit_is_new_resource_name(NodeKind parent, const char *name)
{
    size_t n = strlen(name);
    if (parent != NODE_MEETINGS && parent != NODE_WEBINARS)
        return false;
    return n > 5 && name[0] != '.' && strcmp(name + n - 5, ".json") == 0;
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

Edit *edit_open(const char *path, const TreePath *tp, const JsonFile *current, bool truncate)
{
    Edit *e = edit_new(path, tp);
    e->original = json_incref(current->json);
    if (truncate)
        e->dirty = true;
    else
        strbuf_append(&e->buf, current->text, current->len);
    return e;
}

Edit *edit_create(const char *path, const TreePath *tp)
{
    Edit *e = edit_new(path, tp);
    /* Whatever the name, the folder says what it becomes. */
    e->tp.kind = tp->parent == NODE_WEBINARS ? NODE_WEBINAR_JSON : NODE_MEETING_JSON;
    e->tp.id[0] = '\0';
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

/* Fields Zoom would refuse or ignore in a change are not sent. */
static void drop_readonly(json_t *obj, const char *const *readonly)
{
    for (size_t i = 0; readonly && readonly[i]; i++)
        json_object_del(obj, readonly[i]);
}

/* PATCH of the fields that differ; re-reads the object after success.
 * *fresh gets the object as Zoom now holds it. */
static int send_patch(const char *path, const TreePath *tp, const json_t *original, json_t *edited,
                      json_t **fresh)
{
    const Resource *r = node_resource(tp->kind);
    json_t *changes = jsonfile_diff(original, edited, r->readonly);
    if (json_object_size(changes) == 0) {
        log_debug("%s: saved with no change; nothing sent", path);
        json_decref(changes);
        *fresh = json_incref((json_t *)original);
        return 0;
    }
    char id[TREE_NAME_MAX], user[TREE_NAME_MAX];
    int rc = node_resource_id(tp, id, sizeof(id), user, sizeof(user));
    if (rc == 0) {
        char *url = api_object_path(r->object_path, id);
        rc = api_call(r->patch_route, "PATCH", url, changes, NULL);
        free(url);
    }
    json_decref(changes);
    /* Success or refusal, the next read shows what Zoom holds. */
    node_invalidate(tp);
    if (rc) {
        if (rc == -EINVAL)
            log_error("%s: Zoom refused the change; see .zoomfs/errors", path);
        return rc;
    }
    JsonFile *f;
    if (node_json(path, tp, &f) == 0) {
        *fresh = json_incref(f->json);
        cacheval_unref(&f->base);
    } else {
        *fresh = json_incref(edited);
    }
    return 0;
}

/* POST of a new object. *new_id gets its id. */
static int send_post(const char *path, const TreePath *tp, json_t *edited, json_t **created,
                     char *new_id, size_t idlen)
{
    const Resource *r = node_resource(tp->kind);
    char id[TREE_NAME_MAX], user[TREE_NAME_MAX];
    int rc = node_resource_id(tp, id, sizeof(id), user, sizeof(user));
    if (rc)
        return rc;
    json_t *body = json_deep_copy(edited);
    drop_readonly(body, r->readonly);
    char *url = api_object_path(r->create_path, user);
    rc = api_call(r->create_route, "POST", url, body, created);
    free(url);
    json_decref(body);
    TreePath folder = *tp;
    folder.kind = tp->kind == NODE_WEBINAR_JSON ? NODE_WEBINARS : NODE_MEETINGS;
    folder.id[0] = '\0';
    node_invalidate(&folder);
    if (rc)
        return rc;
    json_t *jid = json_object_get(*created, "id");
    if (json_is_integer(jid))
        snprintf(new_id, idlen, "%lld", (long long)json_integer_value(jid));
    else if (json_is_string(jid))
        snprintf(new_id, idlen, "%s", json_string_value(jid));
    else {
        stats_error("%s: created, but Zoom's answer has no id", path);
        return -EIO;
    }
    log_info("%s: created %s %s", path, tp->kind == NODE_WEBINAR_JSON ? "webinar" : "meeting",
             new_id);
    return 0;
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
        rc = send_patch(e->path, &e->tp, e->original, edited, &fresh);
    } else {
        char new_id[64];
        rc = send_post(e->path, &e->tp, edited, &fresh, new_id, sizeof(new_id));
        if (rc == 0) {
            /* From now on this handle edits the object it created. */
            snprintf(e->tp.id, sizeof(e->tp.id), "%s", new_id);
            char *slash = strrchr(e->path, '/');
            char *renamed = xasprintf("%.*s/%s.json", (int)(slash - e->path), e->path, new_id);
            free(e->path);
            e->path = renamed;
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

int edit_save(const char *path, const TreePath *tp, const char *data, size_t len)
{
    int rc = 0;
    json_t *edited = parse_or_report(path, data, len, &rc);
    if (!edited)
        return rc;
    json_t *result = NULL;
    JsonFile *current;
    rc = node_json(path, tp, &current);
    if (rc == 0) {
        rc = send_patch(path, tp, current->json, edited, &result);
        cacheval_unref(&current->base);
    } else if (rc == -ENOENT && node_resource(tp->kind) && node_resource(tp->kind)->create_path) {
        char new_id[64];
        rc = send_post(path, tp, edited, &result, new_id, sizeof(new_id));
    }
    json_decref(result);
    json_decref(edited);
    return rc;
}
