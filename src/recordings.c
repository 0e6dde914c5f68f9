/* recordings: the recordings/ part of the tree — month folders, one listing
 * per month, instance folders, recording files and their deletes. */
#include "zoomfs/api.h"
#include "zoomfs/config.h"
#include "zoomfs/log.h"
#include "zoomfs/naming.h"
#include "zoomfs/node.h"
#include "zoomfs/stats.h"
#include "zoomfs/stream.h"
#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include "node_shared.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Recording files never change once complete: a probed size is good for a day. */
#define SIZE_TTL_MS (24LL * 3600 * 1000)

/* A month folder: its instances and the names given to them. */
typedef struct {
    CacheVal base;
    json_t *instances;
    NamedItem *names;
    size_t count;
} MonthVal;

typedef struct {
    CacheVal base;
    int64_t size;
} SizeVal;

static void month_val_destroy(CacheVal *v)
{
    MonthVal *m = (MonthVal *)v;
    free(m->names);
    json_decref(m->instances);
    free(m);
}

static void size_val_destroy(CacheVal *v)
{
    free(v);
}

/* "/users/<user>/recordings/<month>/<instance>/<leaf>" */
static void instance_path(const TreePath *tp, const char *leaf, char *out, size_t outlen)
{
    snprintf(out, outlen, "/users/%s/recordings/%s/%s/%s", tp->user, tp->month, tp->instance, leaf);
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
    return naming_months(created_iso, cfg.since, time(NULL), n);
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

static int month_listing(const TreePath *tp, MonthVal **out)
{
    char key[TREE_NAME_MAX];
    int64_t created;
    int rc = node_user_key(tp->user, key, sizeof(key), &created);
    if (rc)
        return rc;
    if (!month_in_range(tp->month, created))
        return -ENOENT;
    char ck[400];
    snprintf(ck, sizeof(ck), "month/%s/%s", key, tp->month);
    CacheVal *v = cache_get(node_cache, ck);
    if (v) {
        *out = (MonthVal *)v;
        return 0;
    }
    char from[11], to[11];
    if (naming_month_range(tp->month, from, to) != 0)
        return -ENOENT;
    json_t *instances = NULL;
    rc = api_list_recordings(key, from, to, &instances);
    if (rc)
        return rc;
    MonthVal *m = xcalloc(1, sizeof(*m));
    m->base.refs = 1;
    m->base.destroy = month_val_destroy;
    m->instances = instances;
    m->names = naming_instances(instances, &m->count);
    m->base.cost = node_json_cost(instances) + m->count * sizeof(NamedItem);
    cache_put(node_cache, ck, &m->base, node_ttl_ms(cfg.dir_ttl));
    *out = m;
    return 0;
}

/* The instance object named tp->instance, with a reference on its month. */
static int find_instance(const TreePath *tp, MonthVal **month, json_t **instance)
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

static int64_t time_field(const json_t *obj, const char *a, const char *b)
{
    int64_t t = naming_parse_time(json_string_value(json_object_get(obj, a)) ?: "");
    if (t < 0 && b)
        t = naming_parse_time(json_string_value(json_object_get(obj, b)) ?: "");
    return t;
}

static int64_t media_size(const json_t *file)
{
    json_t *fs = json_object_get(file, "file_size");
    int64_t size = json_is_number(fs) ? (int64_t)json_number_value(fs) : 0;
    if (size > 0)
        return size;
    const char *url = json_string_value(json_object_get(file, "download_url"));
    if (!url)
        return -EIO;
    char ck[2100];
    snprintf(ck, sizeof(ck), "size/%s", url);
    CacheVal *v = cache_get(node_cache, ck);
    if (v) {
        size = ((SizeVal *)v)->size;
        cacheval_unref(v);
        return size;
    }
    size = stream_probe_size(url);
    if (size < 0)
        return size;
    SizeVal *sv = xcalloc(1, sizeof(*sv));
    sv->base.refs = 1;
    sv->base.destroy = size_val_destroy;
    sv->base.cost = sizeof(*sv);
    sv->size = size;
    cache_put(node_cache, ck, &sv->base, SIZE_TTL_MS);
    cacheval_unref(&sv->base);
    return size;
}

int node_media(const TreePath *tp, MediaInfo *out)
{
    memset(out, 0, sizeof(*out));
    char path[4 * TREE_NAME_MAX];
    instance_path(tp, tp->name, path, sizeof(path));
    if (node_is_hidden(path))
        return -ENOENT;
    MonthVal *month;
    json_t *instance;
    int rc = find_instance(tp, &month, &instance);
    if (rc)
        return rc;
    size_t n = 0;
    NamedItem *files = naming_files(instance, &n);
    rc = -ENOENT;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(files[i].name, tp->name) != 0)
            continue;
        json_t *f = files[i].item;
        const char *url = json_string_value(json_object_get(f, "download_url"));
        if (!url) {
            rc = -EIO;
            break;
        }
        int64_t size = media_size(f);
        if (size < 0) {
            rc = (int)size;
            break;
        }
        out->download_url = xstrdup(url);
        const char *id = json_string_value(json_object_get(f, "id"));
        out->file_id = id ? xstrdup(id) : NULL;
        out->meeting_uuid = xstrdup(json_string_value(json_object_get(instance, "uuid")));
        out->size = size;
        out->mtime = time_field(f, "recording_end", "recording_start");
        if (out->mtime < 0)
            out->mtime = time_field(instance, "start_time", NULL);
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

int recordings_json(const char *path, const TreePath *tp, JsonFile **out)
{
    MonthVal *month;
    json_t *instance;
    int rc = find_instance(tp, &month, &instance);
    if (rc)
        return rc;
    /* Rendered from the month listing: recording.json costs no request. */
    char ck[1200];
    snprintf(ck, sizeof(ck), "frozen/%s", path);
    CacheVal *v = cache_get(node_cache, ck);
    if (v) {
        cacheval_unref(&month->base);
        *out = (JsonFile *)v;
        return 0;
    }
    snprintf(ck, sizeof(ck), "recjson/%s", path);
    v = cache_get(node_cache, ck);
    JsonFile *f = (JsonFile *)v;
    if (f && !json_equal(f->json, instance)) {
        cacheval_unref(v);
        f = NULL;
    }
    if (!f) {
        f = node_json_file_new(path, json_deep_copy(instance));
        cache_put(node_cache, ck, &f->base, node_ttl_ms(cfg.dir_ttl));
    }
    cacheval_unref(&month->base);
    *out = f;
    return 0;
}

static const char *delete_action(void)
{
    return cfg.recording_delete_permanent ? "delete" : "trash";
}

/* Once files of an instance are removed through this mount, its
 * recording.json stays as it was: it describes what was moved away, and
 * rsync --remove-source-files refuses to remove a file that changed. */
static void freeze_recording_json(const TreePath *tp)
{
    char path[4 * TREE_NAME_MAX], ck[1200];
    instance_path(tp, "recording.json", path, sizeof(path));
    snprintf(ck, sizeof(ck), "frozen/%s", path);
    CacheVal *v = cache_get(node_cache, ck);
    if (v) {
        cacheval_unref(v);
        return;
    }
    JsonFile *f;
    if (recordings_json(path, tp, &f) == 0) {
        cache_put(node_cache, ck, &f->base, SIZE_TTL_MS);
        cacheval_unref(&f->base);
    }
}

/* After an unlink in an instance: when every file still listed is one the
 * user removed but Zoom could not delete on its own (no id), the instance
 * goes to the trash with them. Nothing else is deleted: the files with ids
 * are gone already. */
static int finish_instance(const TreePath *tp)
{
    MonthVal *month;
    json_t *instance;
    if (find_instance(tp, &month, &instance) != 0)
        return 0; /* the listing no longer has it: nothing left */
    size_t n = 0;
    NamedItem *files = naming_files(instance, &n);
    bool all_removed = n > 0;
    for (size_t i = 0; i < n && all_removed; i++) {
        char path[4 * TREE_NAME_MAX];
        instance_path(tp, files[i].name, path, sizeof(path));
        all_removed = node_is_hidden(path);
    }
    free(files);
    cacheval_unref(&month->base);
    if (!all_removed)
        return 0;
    log_info("%s: the last files (no id in Zoom) go with the whole recording", tp->instance);
    return node_delete_instance(tp);
}

int node_delete_media(const TreePath *tp)
{
    MediaInfo m;
    int rc = node_media(tp, &m);
    if (rc)
        return rc;
    freeze_recording_json(tp);
    if (!m.file_id) {
        /* Zoom deletes single files by id; closed captions and timelines
         * have none: they leave with the last file of their recording. */
        char path[4 * TREE_NAME_MAX];
        instance_path(tp, tp->name, path, sizeof(path));
        node_hide(path);
        media_info_free(&m);
        log_info("rm %s: Zoom has no id for this file; it is hidden now and trashed with the "
                 "last file of its recording",
                 path);
        return finish_instance(tp);
    }
    char *meeting = api_object_path("/meetings/%s", m.meeting_uuid);
    char *file = urlenc_component(m.file_id);
    char *path = xasprintf("%s/recordings/%s?action=%s", meeting, file, delete_action());
    rc = api_call("DELETE /meetings/{meetingId}/recordings/{recordingId}", "DELETE", path, NULL,
                  NULL);
    free(path);
    free(file);
    free(meeting);
    media_info_free(&m);
    if (rc == 0 || rc == -ENOENT) {
        node_invalidate(tp);
        rc = finish_instance(tp);
    }
    return rc;
}

int node_delete_instance(const TreePath *tp)
{
    MonthVal *month;
    json_t *instance;
    int rc = find_instance(tp, &month, &instance);
    if (rc)
        return rc;
    char *meeting =
        api_object_path("/meetings/%s", json_string_value(json_object_get(instance, "uuid")));
    char *path = xasprintf("%s/recordings?action=%s", meeting, delete_action());
    cacheval_unref(&month->base);
    rc = api_call("DELETE /meetings/{meetingId}/recordings", "DELETE", path, NULL, NULL);
    free(path);
    free(meeting);
    if (rc == 0 || rc == -ENOENT)
        node_invalidate(tp);
    return rc;
}

int recordings_getattr(const TreePath *tp, struct stat *st)
{
    char key[TREE_NAME_MAX];
    int64_t created = -1;
    int rc;
    switch (tp->kind) {
    case NODE_MONTH: {
        rc = node_user_key(tp->user, key, sizeof(key), &created);
        if (rc == 0 && !month_in_range(tp->month, created))
            rc = -ENOENT;
        if (rc == 0) {
            char first[32];
            snprintf(first, sizeof(first), "%s-01T00:00:00Z", tp->month);
            node_fill_dir(st, naming_parse_time(first));
        }
        return rc;
    }
    case NODE_INSTANCE: {
        MonthVal *month;
        json_t *instance;
        rc = find_instance(tp, &month, &instance);
        if (rc == 0) {
            node_fill_dir(st, time_field(instance, "start_time", NULL));
            cacheval_unref(&month->base);
        }
        return rc;
    }
    case NODE_MEDIA: {
        MediaInfo m;
        rc = node_media(tp, &m);
        if (rc == 0) {
            node_fill_file(st, m.size, m.mtime, 0444);
            media_info_free(&m);
        }
        return rc;
    }
    default:
        return -ENOENT;
    }
}

int recordings_readdir(const TreePath *tp, NodeAdd add, void *ctx)
{
    char key[TREE_NAME_MAX];
    int64_t created = -1;
    int rc;
    switch (tp->kind) {
    case NODE_RECORDINGS: {
        rc = node_user_key(tp->user, key, sizeof(key), &created);
        if (rc)
            return rc;
        size_t n = 0;
        char(*months)[8] = user_months(created, &n);
        for (size_t i = 0; i < n; i++)
            if (add(ctx, months[i], true))
                break;
        free(months);
        return 0;
    }
    case NODE_MONTH: {
        MonthVal *month;
        rc = month_listing(tp, &month);
        if (rc)
            return rc;
        for (size_t i = 0; i < month->count; i++)
            if (add(ctx, month->names[i].name, true))
                break;
        cacheval_unref(&month->base);
        return 0;
    }
    case NODE_INSTANCE: {
        MonthVal *month;
        json_t *instance;
        rc = find_instance(tp, &month, &instance);
        if (rc)
            return rc;
        char rj[4 * TREE_NAME_MAX];
        instance_path(tp, "recording.json", rj, sizeof(rj));
        if (!node_is_hidden(rj))
            add(ctx, "recording.json", false);
        size_t n = 0;
        NamedItem *files = naming_files(instance, &n);
        for (size_t i = 0; i < n; i++) {
            char fp[4 * TREE_NAME_MAX];
            instance_path(tp, files[i].name, fp, sizeof(fp));
            if (!node_is_hidden(fp) && add(ctx, files[i].name, false))
                break;
        }
        free(files);
        cacheval_unref(&month->base);
        return 0;
    }
    default:
        return -ENOTDIR;
    }
}
