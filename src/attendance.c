/* attendance: participants.json and polls.json in each recorded meeting's
 * instance folder, from Zoom's past meeting reports. Past meetings do not
 * change once held: an answer is kept for dir_ttl in memory and, for
 * settled months, on disk like the month listings, so a nightly run asks
 * nothing for them. A refusal of the whole area (a missing scope, a plan
 * without the reports) turns it off for the mount; a meeting Zoom has no
 * report of simply has no such file. */
#include "zoomfs/attendance.h"

#include "zoomfs/recordings.h"

#include "zoomfs/diskcache.h"
#include "zoomfs/log.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One meeting's answer as shown: file NULL when it has none. */
typedef struct {
    CacheVal base;
    JsonFile *file;
} PastVal;

static void past_val_destroy(CacheVal *v)
{
    PastVal *p = (PastVal *)v;
    if (p->file)
        cacheval_unref(&p->file->base);
    free(p);
}

/* Takes json (JSON null: no file). */
static PastVal *past_val_new(const char *path, json_t *json)
{
    PastVal *p = xcalloc(1, sizeof(*p));
    p->base.refs = 1;
    p->base.destroy = past_val_destroy;
    if (json_is_null(json))
        json_decref(json);
    else
        p->file = json_file_new(path, json);
    p->base.cost = sizeof(*p) + 64 + (p->file ? p->file->base.cost : 0);
    return p;
}

/* Refused for the whole mount, by kind (atomic): never asked again. */
static int off[2];

static int *off_flag(NodeKind kind)
{
    return &off[kind == NODE_POLLS_JSON];
}

/* Zoom's answer as shown: participants of every page in one array, without
 * the paging fields (they describe one page); poll results only when the
 * meeting had polls (JSON null otherwise). */
static int from_zoom(const Row *row, const char *uuid, json_t **out)
{
    Ids ids = {.object = uuid};
    const char *route = row->list ? row->list : row->get;
    char *path = endpoint_path(route, &ids, NULL);
    json_t *items = NULL;
    int rc = !path       ? -ENOENT
             : row->list ? store_client()->list(route, path, row->list_key, NULL, &items)
                         : store_client()->get(route, path, out);
    free(path);
    if (rc == 0 && row->list)
        *out = json_pack("{s:o}", row->list_key, items);
    if (rc == 0 && !row->list && json_array_size(json_object_get(*out, "questions")) == 0) {
        json_decref(*out);
        *out = json_null();
    }
    return rc;
}

typedef struct {
    const Row *row;
    const char *uuid, *path;
    char *disk_key; /* NULL: not kept on disk (a month not settled) */
} PastFetch;

static int past_fetch(void *ctx, CacheVal **out)
{
    PastFetch *f = ctx;
    json_t *json =
        f->disk_key ? diskcache_get(f->disk_key, recordings_settled_age(f->disk_key)) : NULL;
    if (f->disk_key)
        stats_cache("settled attendance on disk", json != NULL);
    if (!json) {
        int rc = from_zoom(f->row, f->uuid, &json);
        if (rc == -EACCES) {
            if (__atomic_exchange_n(off_flag(f->row->kind), 1, __ATOMIC_RELAXED) == 0)
                log_warn("%s: Zoom refuses it to this app (a missing scope, or a plan without "
                         "past meeting reports); no %s file is shown for the rest of the mount",
                         f->row->list ? f->row->list : f->row->get, tree_kind_name(f->row->kind));
            return -ENOENT;
        }
        /* No report of this meeting (404), or none Zoom will give (a
         * meeting more than a year ago): no file, and not asked again. */
        if (rc == -ENOENT || rc == -EINVAL)
            json = json_null();
        else if (rc)
            return rc;
        if (f->disk_key)
            diskcache_put(f->disk_key, json);
    }
    *out = &past_val_new(f->path, json)->base;
    return 0;
}

static int attendance_json(const Entry *e, JsonFile **out)
{
    const Row *row = e->tp.row;
    if (__atomic_load_n(off_flag(row->kind), __ATOMIC_RELAXED) || store_hidden(e->path))
        return -ENOENT;
    if ((*out = store_frozen(e->path)))
        return 0;
    MonthVal *month;
    json_t *instance;
    int rc = recordings_instance(&e->tp, &month, &instance);
    if (rc)
        return rc;
    char *uuid = xstrdup(json_string_value(json_object_get(instance, "uuid")) ?: "");
    recordings_month_unref(month);
    PastFetch f = {.row = row, .uuid = uuid, .path = e->path};
    if (recordings_settled(e->tp.month))
        f.disk_key = xasprintf("%s %s", tree_kind_name(row->kind), uuid);
    PastVal *v = NULL;
    rc = *uuid ? store_once(store_key(row, uuid, NULL), store_dir_ttl_ms(), past_fetch, &f,
                            (CacheVal **)&v)
               : -ENOENT;
    free(f.disk_key);
    free(uuid);
    if (rc == 0) {
        *out = v->file ? (JsonFile *)cacheval_ref(&v->file->base) : NULL;
        rc = v->file ? 0 : -ENOENT;
        cacheval_unref(&v->base);
    }
    return rc;
}

/* unlink: Zoom deletes no report; like recording.json, the file is hidden
 * for the rest of the mount and nothing is sent (rsync --remove-source-files
 * removes it after copying). */
static int attendance_remove(const Entry *e)
{
    JsonFile *f;
    int rc = attendance_json(e, &f);
    if (rc == 0) {
        cacheval_unref(&f->base);
        store_hide(e->path);
    }
    return rc;
}

const KindOps attendance_ops = {.json = attendance_json, .remove = attendance_remove};
