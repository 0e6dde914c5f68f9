/* recordings: the recordings/ part of the tree — month folders, one listing
 * per month, instance folders, recording files and their deletes. */
#include "zoomfs/recordings.h"

#include "zoomfs/diskcache.h"
#include "zoomfs/jsonfile.h"
#include "zoomfs/log.h"
#include "zoomfs/naming.h"
#include "zoomfs/stats.h"
#include "zoomfs/stream.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A month folder: its instances, the names given to them, and the sizes
 * probed for its files Zoom gives no size of (closed captions, timelines).
 * A download_url names one file for good, so the sizes are kept on disk for
 * every month and probed once per file, not once per mount. */
struct MonthVal {
    CacheVal base;
    json_t *instances;
    NamedItem *names;
    size_t count;
    json_t *sizes;   /* download_url -> bytes; guarded by sizes_lock */
    char *sizes_key; /* its key on disk */
};

static pthread_mutex_t sizes_lock = PTHREAD_MUTEX_INITIALIZER;

static void month_val_destroy(CacheVal *v)
{
    MonthVal *m = (MonthVal *)v;
    free(m->names);
    json_decref(m->instances);
    json_decref(m->sizes);
    free(m->sizes_key);
    free(m);
}

/* "/users/<user>/recordings/<month>/<instance>/<leaf>" (malloc'd). */
static char *instance_path(const TreePath *tp, const char *leaf)
{
    return xasprintf("/users/%s/recordings/%s/%s/%s", tp->user, tp->month, tp->instance, leaf);
}

/* The JSON file row makes in the instance folder tp (a fixed name with a
 * json op), as an entry; its path is malloc'd. */
static bool instance_json_entry(const TreePath *tp, const Row *row, Entry *out)
{
    const char *leaf;
    if (row->parent != NODE_INSTANCE || !row->ops->json || !tree_fixed_name(row, &leaf))
        return false;
    *out = (Entry){.path = instance_path(tp, leaf), .tp = *tp};
    out->tp.row = row;
    out->tp.kind = row->kind;
    out->tp.parent = store_row(NODE_INSTANCE);
    out->tp.parent_kind = NODE_INSTANCE;
    snprintf(out->tp.name, sizeof(out->tp.name), "%s", leaf);
    return true;
}

/* The user's month folders: from created_at (or -o since) to now. */
static char (*user_months(int64_t created, size_t *n))[8]
{
    char created_iso[32] = "";
    if (created >= 0) {
        time_t t = (time_t)created;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(created_iso, sizeof(created_iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    return naming_months(created_iso, store_config()->since, time(NULL), n);
}

static bool month_in_range(const char *month, int64_t created)
{
    size_t n = 0;
    char(*months)[8] = user_months(created, &n);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = strcmp(months[i], month) == 0;
    free(months);
    return found;
}

/* Months before the previous one are settled: Zoom changes them only when
 * someone deletes or recovers (a recording that starts late on the last day
 * of a month is processed after midnight, so the previous month still
 * moves). */
bool recordings_settled(const char *month)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int y, m;
    if (sscanf(month, "%4d-%2d", &y, &m) != 2)
        return false;
    return (int64_t)y * 12 + m - 1 < (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon - 1;
}

static char *disk_key(const char *kind, const char *user_key, const char *month)
{
    return xasprintf("%s %s %s", kind, user_key, month);
}

/* Takes instances; the sizes come from disk. */
static MonthVal *month_val_new(json_t *instances, const char *user_key, const char *month)
{
    MonthVal *m = xcalloc(1, sizeof(*m));
    m->base.refs = 1;
    m->base.destroy = month_val_destroy;
    m->instances = instances;
    m->names = naming_instances(instances, &m->count);
    m->sizes_key = disk_key("sizes", user_key, month);
    m->sizes = diskcache_get(m->sizes_key, store_config()->settled_ttl);
    if (!json_is_object(m->sizes)) {
        json_decref(m->sizes);
        m->sizes = json_object();
    }
    /* probed sizes added later are a few bytes each, not counted */
    m->base.cost = json_cost(instances) + m->count * sizeof(NamedItem) + json_cost(m->sizes);
    return m;
}

/* How long a settled month on disk is trusted: between half and all of
 * settled_ttl, the share fixed by its key, so that months stored on the
 * same night are listed again on different nights, not all on one. */
int64_t recordings_settled_age(const char *key)
{
    char hash[65];
    sha256_hex(key, strlen(key), hash);
    int64_t ttl = store_config()->settled_ttl,
            share = strtol((char[]){hash[0], hash[1], 0}, NULL, 16);
    return ttl / 2 + ttl / 2 * share / 255;
}

/* A settled month from the disk cache, if it was listed recently enough. */
static MonthVal *month_from_disk(const char *user_key, const char *month)
{
    char *key = disk_key("recordings", user_key, month);
    json_t *instances = diskcache_get(key, recordings_settled_age(key));
    free(key);
    MonthVal *m = json_is_array(instances) ? month_val_new(instances, user_key, month) : NULL;
    if (!m)
        json_decref(instances);
    stats_cache("settled month on disk", m != NULL);
    return m;
}

static int month_from_zoom(const Ids *ids, const char *month, MonthVal **out)
{
    char from[11], to[11];
    naming_month_range(month, from, to);
    char *query = xasprintf("from=%s&to=%s", from, to);
    const Row *row = store_row(NODE_MONTH);
    char *path = endpoint_path(row->list, ids, query);
    json_t *instances = NULL;
    int rc = store_client()->list(row->list, path, row->list_key, NULL, &instances);
    free(path);
    free(query);
    if (rc)
        return rc;
    if (recordings_settled(month)) {
        char *key = disk_key("recordings", ids->user, month);
        diskcache_put(key, instances);
        free(key);
    }
    *out = month_val_new(instances, ids->user, month);
    return 0;
}

typedef struct {
    const Ids *ids;
    const char *month;
} MonthFetch;

static int month_fetch(void *ctx, CacheVal **out)
{
    MonthFetch *f = ctx;
    MonthVal *m = recordings_settled(f->month) ? month_from_disk(f->ids->user, f->month) : NULL;
    int rc = m ? 0 : month_from_zoom(f->ids, f->month, &m);
    if (rc == 0)
        *out = &m->base;
    return rc;
}

/* A month's listing, fetched once however many ask at the same time (a
 * reader and the walk fetching ahead of it). */
static int month_listing(const TreePath *tp, MonthVal **out)
{
    UserRef u;
    Ids ids;
    char from[11], to[11];
    int rc = store_user_ids(tp->user, &u, &ids);
    if (rc == 0 &&
        (!month_in_range(tp->month, u.created) || naming_month_range(tp->month, from, to) != 0))
        rc = -ENOENT;
    if (rc == 0) {
        MonthFetch f = {&ids, tp->month};
        rc = store_once(store_key(store_row(NODE_MONTH), u.key, tp->month), store_dir_ttl_ms(),
                        month_fetch, &f, (CacheVal **)out);
    }
    user_ref_drop(&u);
    return rc;
}

int recordings_instance(const TreePath *tp, MonthVal **month, json_t **instance)
{
    int rc = month_listing(tp, month);
    if (rc)
        return rc;
    for (size_t i = 0; i < (*month)->count; i++)
        if (strcmp((*month)->names[i].name, tp->instance) == 0) {
            *instance = (*month)->names[i].item;
            return 0;
        }
    cacheval_unref(&(*month)->base);
    *month = NULL;
    return -ENOENT;
}

void recordings_month_unref(MonthVal *month)
{
    if (month)
        cacheval_unref(&month->base);
}

int64_t recordings_time(const json_t *obj, const char *a, const char *b)
{
    int64_t t = naming_parse_time(json_string_value(json_object_get(obj, a)) ?: "");
    if (t < 0 && b)
        t = naming_parse_time(json_string_value(json_object_get(obj, b)) ?: "");
    return t;
}

/* file_size when Zoom gave a usable one: an integer, or a real that an
 * int64 holds (a size of 2^63 or more is no size); else -1. */
int64_t recordings_given_size(const json_t *file)
{
    json_t *fs = json_object_get(file, "file_size");
    if (json_is_integer(fs))
        return json_integer_value(fs) > 0 ? json_integer_value(fs) : -1;
    double d = json_is_real(fs) ? json_real_value(fs) : -1;
    return d > 0 && d < 9223372036854775807.0 ? (int64_t)d : -1;
}

static int64_t media_size(MonthVal *month, const json_t *file)
{
    int64_t size = recordings_given_size(file);
    if (size > 0)
        return size;
    const char *url = json_string_value(json_object_get(file, "download_url"));
    if (!url)
        return -EIO;
    pthread_mutex_lock(&sizes_lock);
    json_t *known = json_object_get(month->sizes, url);
    size = json_is_integer(known) ? json_integer_value(known) : -1;
    pthread_mutex_unlock(&sizes_lock);
    stats_cache("probed size", size >= 0);
    if (size >= 0)
        return size;
    size = stream_probe_size(url);
    if (size < 0)
        return size;
    pthread_mutex_lock(&sizes_lock);
    json_object_set_new(month->sizes, url, json_integer(size));
    json_t *copy = json_copy(month->sizes);
    pthread_mutex_unlock(&sizes_lock);
    diskcache_put(month->sizes_key, copy);
    json_decref(copy);
    return size;
}

/* The instance of a file of the mount, unless the file was removed here. */
static int visible_in_instance(const Entry *e, MonthVal **month, json_t **instance)
{
    return store_hidden(e->path) ? -ENOENT : recordings_instance(&e->tp, month, instance);
}

static int media_info(const Entry *e, MediaInfo *out)
{
    memset(out, 0, sizeof(*out));
    MonthVal *month;
    json_t *instance;
    int rc = visible_in_instance(e, &month, &instance);
    if (rc)
        return rc;
    size_t n = 0;
    NamedItem *files = naming_files(instance, &n);
    rc = -ENOENT;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(files[i].name, e->tp.name) != 0)
            continue;
        json_t *f = files[i].item;
        const char *url = json_string_value(json_object_get(f, "download_url"));
        int64_t size = url ? media_size(month, f) : -EIO;
        if (size < 0) {
            rc = (int)size;
            break;
        }
        out->download_url = xstrdup(url);
        const char *id = json_string_value(json_object_get(f, "id"));
        out->file_id = id ? xstrdup(id) : NULL;
        out->meeting_uuid = xstrdup(json_string_value(json_object_get(instance, "uuid")) ?: "");
        out->size = size;
        out->mtime = recordings_time(f, "recording_end", "recording_start");
        if (out->mtime < 0)
            out->mtime = recordings_time(instance, "start_time", NULL);
        rc = 0;
        break;
    }
    free(files);
    cacheval_unref(&month->base);
    return rc;
}

void media_info_free(MediaInfo *m)
{
    free(m->download_url);
    free(m->file_id);
    free(m->meeting_uuid);
    memset(m, 0, sizeof(*m));
}

void recordings_forget(const char *user, const char *month)
{
    UserRef u;
    if (store_user(user, &u) == 0) {
        char *key = store_key(store_row(NODE_MONTH), u.key, month);
        store_drop(key);
        free(key);
        key = disk_key("recordings", u.key, month);
        diskcache_drop(key);
        free(key);
        /* what left the month went to the trash, or came from it */
        store_drop_row(store_row(NODE_TRASH), u.key);
    }
    user_ref_drop(&u);
}

/* The month listing a change in this instance made stale, in memory and
 * on disk. */
static void instance_forget(const Entry *e)
{
    recordings_forget(e->tp.user, e->tp.month);
}

/* ---- recordings/ and months ---------------------------------------------- */

static int months_getattr(const Entry *e, struct stat *st)
{
    return store_user_dir(e->tp.user, st);
}

static int months_list(const Entry *e, NodeAdd add, void *ctx)
{
    UserRef u;
    int rc = store_user(e->tp.user, &u);
    if (rc == 0) {
        size_t n = 0;
        char(*months)[8] = user_months(u.created, &n);
        for (size_t i = 0; i < n; i++)
            if (add(ctx, months[i], true))
                break;
        free(months);
    }
    user_ref_drop(&u);
    return rc;
}

const KindOps recordings_months_ops = {.getattr = months_getattr, .list = months_list};

static int month_getattr(const Entry *e, struct stat *st)
{
    UserRef u;
    int rc = store_user(e->tp.user, &u);
    if (rc == 0 && !month_in_range(e->tp.month, u.created))
        rc = -ENOENT;
    user_ref_drop(&u);
    if (rc == 0) {
        char first[32];
        snprintf(first, sizeof(first), "%s-01T00:00:00Z", e->tp.month);
        store_fill_dir(st, naming_parse_time(first));
    }
    return rc;
}

static int month_list(const Entry *e, NodeAdd add, void *ctx)
{
    MonthVal *month;
    int rc = month_listing(&e->tp, &month);
    if (rc)
        return rc;
    for (size_t i = 0; i < month->count; i++)
        if (add(ctx, month->names[i].name, true))
            break;
    cacheval_unref(&month->base);
    return 0;
}

const KindOps recordings_month_ops = {.getattr = month_getattr, .list = month_list};

/* ---- instances ---------------------------------------------------------- */

static int instance_getattr(const Entry *e, struct stat *st)
{
    MonthVal *month;
    json_t *instance;
    int rc = recordings_instance(&e->tp, &month, &instance);
    if (rc == 0) {
        store_fill_dir(st, recordings_time(instance, "start_time", NULL));
        cacheval_unref(&month->base);
    }
    return rc;
}

static int instance_list(const Entry *e, NodeAdd add, void *ctx)
{
    MonthVal *month;
    json_t *instance;
    int rc = recordings_instance(&e->tp, &month, &instance);
    if (rc)
        return rc;
    /* The JSON files the rows list only when they answer (participants.json,
     * polls.json); before the recording files, so that rm -r removes them
     * while their recording is listed. */
    bool full = false;
    size_t nrows;
    const Row *rows = store_rows(&nrows);
    for (size_t i = 0; i < nrows && !full; i++) {
        Entry child;
        if (!(rows[i].flags & ROW_UNLISTED) || !instance_json_entry(&e->tp, &rows[i], &child))
            continue;
        JsonFile *f;
        if (rows[i].ops->json(&child, &f) == 0) {
            cacheval_unref(&f->base);
            full = add(ctx, child.tp.name, false);
        }
        free((char *)child.path);
    }
    size_t n = 0;
    NamedItem *files = naming_files(instance, &n);
    for (size_t i = 0; i < n && !full; i++) {
        char *fp = instance_path(&e->tp, files[i].name);
        full = !store_hidden(fp) && add(ctx, files[i].name, false);
        free(fp);
    }
    free(files);
    cacheval_unref(&month->base);
    return 0;
}

static const char *delete_action(void)
{
    return store_config()->recording_delete_permanent ? "action=delete" : "action=trash";
}

/* rmdir of an instance folder: the whole recording in one request. */
static int instance_remove(const Entry *e)
{
    MonthVal *month;
    json_t *instance;
    int rc = recordings_instance(&e->tp, &month, &instance);
    if (rc == -ENOENT) {
        /* rm -r: its files were removed here (recording.json too, or kept
         * as it was), the last took the recording out of Zoom's listing;
         * the folder went with them. */
        char *rj = instance_path(&e->tp, "recording.json");
        JsonFile *f = store_frozen(rj);
        bool emptied = f || store_hidden(rj);
        free(rj);
        if (f)
            cacheval_unref(&f->base);
        if (emptied)
            return 0;
    }
    if (rc)
        return rc;
    Ids ids = {.object = json_string_value(json_object_get(instance, "uuid"))};
    rc = ids.object ? store_send(store_row(NODE_INSTANCE)->del, &ids, delete_action(), NULL, NULL)
                    : -EIO;
    cacheval_unref(&month->base);
    if (rc == 0 || rc == -ENOENT)
        instance_forget(e);
    return rc;
}

/* user.zoom.* of an instance folder, and of a recording file (its own id,
 * type and start beside its instance's). share_url is a page Zoom shows to
 * whom the recording is shared with; no download_url or play_url. */
static int recording_xattrs(const Entry *e, json_t **out)
{
    MonthVal *month;
    json_t *instance;
    int rc = visible_in_instance(e, &month, &instance);
    if (rc)
        return rc;
    json_t *x = store_meeting_xattrs(instance), *file = NULL;
    if (!(e->tp.row->flags & ROW_DIR)) { /* a file of the instance */
        size_t n = 0;
        NamedItem *files = naming_files(instance, &n);
        for (size_t i = 0; i < n && !file; i++)
            if (strcmp(files[i].name, e->tp.name) == 0)
                file = files[i].item;
        if (file) {
            json_object_del(x, "id"); /* the file's own, or none (captions have none) */
            store_xattr(x, "id", file, "id");
            store_xattr(x, "recording_type", file, "recording_type");
            store_xattr(x, "start_time", file, "recording_start");
        } else {
            rc = -ENOENT;
        }
        free(files);
    }
    cacheval_unref(&month->base);
    if (rc)
        json_decref(x);
    else
        *out = x;
    return rc;
}

const KindOps recordings_instance_ops = {.getattr = instance_getattr,
                                         .list = instance_list,
                                         .remove = instance_remove,
                                         .forget = instance_forget,
                                         .xattrs = recording_xattrs};

/* ---- recording.json --------------------------------------------------------- */

static int recording_json(const Entry *e, JsonFile **out)
{
    /* Kept as it was once files of its recording were removed here, even
     * after the last of them took the recording out of the listing (rsync
     * removes it after them when their names sort first). */
    JsonFile *f = store_hidden(e->path) ? NULL : store_frozen(e->path);
    if (f) {
        *out = f;
        return 0;
    }
    MonthVal *month;
    json_t *instance;
    int rc = visible_in_instance(e, &month, &instance);
    if (rc)
        return rc;
    /* Rendered from the month listing: recording.json costs no request. */
    char *key = store_key(e->tp.row, e->path, NULL);
    f = (JsonFile *)store_get(key);
    if (f) { /* still what the month listing says? */
        size_t len;
        char *now = jsonfile_render(instance, &len);
        if (len != f->len || memcmp(now, f->text, len) != 0) {
            cacheval_unref(&f->base);
            f = NULL;
        }
        free(now);
    }
    if (!f) {
        f = json_file_new(e->path, json_deep_copy(instance));
        store_put(key, &f->base, store_dir_ttl_ms());
    }
    free(key);
    cacheval_unref(&month->base);
    *out = f;
    return 0;
}

/* unlink of recording.json: it is metadata of files that stay in Zoom, so
 * nothing is sent; it is hidden from this mount (rsync --remove-source-files
 * removes it after copying). */
static int recording_json_remove(const Entry *e)
{
    JsonFile *f;
    int rc = recording_json(e, &f);
    if (rc == 0) {
        cacheval_unref(&f->base);
        store_hide(e->path);
    }
    return rc;
}

const KindOps recordings_json_ops = {.json = recording_json, .remove = recording_json_remove};

/* ---- recording files ----------------------------------------------------------- */

static int media_getattr(const Entry *e, struct stat *st)
{
    MediaInfo m;
    int rc = media_info(e, &m);
    if (rc == 0)
        store_fill_media(st, m.size, m.mtime, e->tp.row->mode);
    media_info_free(&m);
    return rc;
}

/* Once files of an instance are removed through this mount, its JSON
 * files (recording.json, participants.json, polls.json) stay as they were:
 * recording.json describes what was moved away, rsync --remove-source-files
 * refuses to remove a file that changed, and they answer until removed even
 * after the last file took the recording out of Zoom's listing. */
static void freeze_recording_json(const TreePath *tp)
{
    size_t nrows;
    const Row *rows = store_rows(&nrows);
    for (size_t i = 0; i < nrows; i++) {
        Entry child;
        if (!instance_json_entry(tp, &rows[i], &child))
            continue;
        JsonFile *f = store_frozen(child.path);
        if (!f && rows[i].ops->json(&child, &f) == 0)
            store_freeze(child.path, f);
        if (f)
            cacheval_unref(&f->base);
        free((char *)child.path);
    }
}

/* After an unlink in an instance: when every file still listed is one the
 * user removed but Zoom could not delete on its own (no id), the instance
 * goes to the trash with them. Nothing else is deleted: the files with ids
 * are gone already. */
static int finish_instance(const Entry *e)
{
    MonthVal *month;
    json_t *instance;
    if (recordings_instance(&e->tp, &month, &instance) != 0)
        return 0; /* the listing no longer has it: nothing left */
    size_t n = 0;
    NamedItem *files = naming_files(instance, &n);
    bool all_removed = n > 0;
    for (size_t i = 0; i < n && all_removed; i++) {
        char *path = instance_path(&e->tp, files[i].name);
        all_removed = store_hidden(path);
        free(path);
    }
    free(files);
    cacheval_unref(&month->base);
    if (!all_removed)
        return 0;
    log_info("%s: the last files (no id in Zoom) go with the whole recording", e->tp.instance);
    return instance_remove(e);
}

static int media_remove(const Entry *e)
{
    MediaInfo m;
    int rc = media_info(e, &m);
    if (rc) {
        media_info_free(&m);
        return rc;
    }
    freeze_recording_json(&e->tp);
    if (!m.file_id) {
        /* Zoom deletes single files by id; closed captions and timelines
         * have none: they leave with the last file of their recording. */
        store_hide(e->path);
        media_info_free(&m);
        log_info("rm %s: Zoom has no id for this file; it is hidden now and trashed with the "
                 "last file of its recording",
                 e->path);
        return finish_instance(e);
    }
    Ids ids = {.object = m.meeting_uuid, .file = m.file_id};
    rc = store_send(store_row(NODE_MEDIA)->del, &ids, delete_action(), NULL, NULL);
    media_info_free(&m);
    if (rc == 0 || rc == -ENOENT) {
        instance_forget(e);
        rc = finish_instance(e);
    }
    return rc;
}

const KindOps recordings_media_ops = {.getattr = media_getattr,
                                      .media = media_info,
                                      .remove = media_remove,
                                      .forget = instance_forget,
                                      .xattrs = recording_xattrs};
