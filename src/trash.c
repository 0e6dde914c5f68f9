/* trash: users/{user}/recordings/.trash/ — what Zoom's trash holds for a
 * user, in folders by the month each recording started and named as in
 * recordings/. The listing of recordings/ leaves .trash out (a backup of
 * users/ never pays for the trash), but it answers when named. mv of an
 * instance folder, or of one file, back to where it was recovers it in one
 * request; rm and rmdir delete for good, only under
 * -o recording_delete=delete. */
#include "zoomfs/trash.h"

#include "zoomfs/recordings.h"

#include "zoomfs/log.h"
#include "zoomfs/naming.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A user's trash: both of Zoom's trash listings (recordings trashed whole,
 * files trashed one by one) merged by instance, and the folder names. */
typedef struct {
    CacheVal base;
    json_t *instances;
    NamedItem *names;
    size_t count;
} TrashVal;

static void trash_val_destroy(CacheVal *v)
{
    TrashVal *t = (TrashVal *)v;
    free(t->names);
    json_decref(t->instances);
    free(t);
}

/* Zoom refused the trash to this app (a missing scope): off for the mount. */
static int trash_off;

/* What names a file within its instance: its id, else its download_url. */
static const char *file_identity(const json_t *file)
{
    const char *id = json_string_value(json_object_get(file, "id"));
    return id ? id : json_string_value(json_object_get(file, "download_url")) ?: "";
}

static bool has_file(const json_t *files, const char *identity)
{
    size_t i;
    json_t *f;
    json_array_foreach(files, i, f)
    {
        if (strcmp(file_identity(f), identity) == 0)
            return true;
    }
    return false;
}

static json_t *find_uuid(const json_t *instances, const char *uuid)
{
    size_t i;
    json_t *inst;
    json_array_foreach(instances, i, inst)
    {
        if (strcmp(json_string_value(json_object_get(inst, "uuid")) ?: "", uuid) == 0)
            return inst;
    }
    return NULL;
}

/* Adds the instances of more to into; an instance in both gets the files
 * it lacks. */
static void merge(json_t *into, json_t *more)
{
    static const char *const arrays[] = {"recording_files", "participant_audio_files"};
    size_t i, j;
    json_t *inst, *f;
    json_array_foreach(more, i, inst)
    {
        json_t *same = find_uuid(into, json_string_value(json_object_get(inst, "uuid")) ?: "");
        if (!same) {
            json_array_append(into, inst);
            continue;
        }
        for (size_t a = 0; a < ARRAY_SIZE(arrays); a++) {
            json_t *files = json_object_get(inst, arrays[a]);
            if (!json_is_array(json_object_get(same, arrays[a])) && json_array_size(files))
                json_object_set_new(same, arrays[a], json_array());
            json_t *to = json_object_get(same, arrays[a]);
            json_array_foreach(files, j, f)
            {
                if (!has_file(to, file_identity(f)))
                    json_array_append(to, f);
            }
        }
    }
}

static int trash_fetch(void *ctx, CacheVal **out)
{
    /* from and to do not filter the trash (Zoom's spec: not to be sent). */
    static const char *const queries[] = {"trash=true&trash_type=meeting_recordings",
                                          "trash=true&trash_type=recording_file"};
    const Ids *ids = ctx;
    const Row *row = store_row(NODE_TRASH);
    json_t *all = json_array();
    int rc = 0;
    for (size_t i = 0; i < ARRAY_SIZE(queries) && rc == 0; i++) {
        char *path = endpoint_path(row->list, ids, queries[i]);
        json_t *part = NULL;
        rc = path ? store_client()->list(row->list, path, row->list_key, NULL, &part) : -ENOENT;
        free(path);
        if (rc == 0)
            merge(all, part);
        json_decref(part);
    }
    if (rc) {
        json_decref(all);
        return rc;
    }
    TrashVal *t = xcalloc(1, sizeof(*t));
    t->base.refs = 1;
    t->base.destroy = trash_val_destroy;
    t->instances = all;
    t->names = naming_instances(all, &t->count);
    t->base.cost = json_cost(all) + t->count * sizeof(NamedItem);
    *out = &t->base;
    return 0;
}

/* The user's trash. Zoom refusing it (a missing scope, a plan without
 * cloud recording, an unknown user) makes .trash absent, said once. */
static int trash_listing(const char *user, TrashVal **out)
{
    if (__atomic_load_n(&trash_off, __ATOMIC_RELAXED))
        return -ENOENT;
    UserRef u;
    Ids ids;
    int rc = store_user_ids(user, &u, &ids);
    if (rc == 0)
        rc = store_once(store_key(store_row(NODE_TRASH), u.key, NULL), store_dir_ttl_ms(),
                        trash_fetch, &ids, (CacheVal **)out);
    user_ref_drop(&u);
    if (rc == -EACCES && __atomic_exchange_n(&trash_off, 1, __ATOMIC_RELAXED) == 0)
        log_warn("recordings/.trash: Zoom refuses its trash to this app (a missing scope, or a "
                 "plan without cloud recording); .trash is absent for the rest of the mount");
    if (rc == -ENOENT || rc == -EINVAL) {
        char *what = xasprintf("trash of %s", user);
        if (store_first_time(what))
            log_info("users/%s/recordings/.trash: Zoom cannot list this user's trash; absent",
                     user);
        free(what);
    }
    return rc == -EACCES || rc == -EINVAL ? -ENOENT : rc;
}

static void trash_changed(const char *user)
{
    UserRef u;
    if (store_user(user, &u) == 0) {
        char *key = store_key(store_row(NODE_TRASH), u.key, NULL);
        store_drop(key);
        free(key);
    }
    user_ref_drop(&u);
    store_drop_row(store_row(NODE_TRASH_JSON), NULL);
}

static void trash_forget(const Entry *e)
{
    trash_changed(e->tp.user);
}

/* "YYYY-MM" of the UTC start of an instance, or "" */
static void month_of(const json_t *instance, char out[8])
{
    int64_t t = recordings_time(instance, "start_time", NULL);
    out[0] = '\0';
    if (t >= 0) {
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(out, 8, "%Y-%m", &tm);
    }
}

static bool in_month(const json_t *instance, const char *month)
{
    char m[8];
    month_of(instance, m);
    return strcmp(m, month) == 0;
}

/* The trashed instance tp names, with a reference on the trash. */
static int find_trashed(const TreePath *tp, TrashVal **trash, json_t **instance)
{
    int rc = trash_listing(tp->user, trash);
    if (rc)
        return rc;
    for (size_t i = 0; i < (*trash)->count; i++)
        if (strcmp((*trash)->names[i].name, tp->instance) == 0 &&
            in_month((*trash)->names[i].item, tp->month)) {
            *instance = (*trash)->names[i].item;
            return 0;
        }
    cacheval_unref(&(*trash)->base);
    return -ENOENT;
}

/* The file tp names in a trashed instance: one Zoom gives a size of (those
 * without, captions and timelines, are in recording.json and come back with
 * their recording). A reference on the trash. */
static int find_trashed_file(const TreePath *tp, TrashVal **trash, json_t **instance, json_t **file)
{
    int rc = find_trashed(tp, trash, instance);
    if (rc)
        return rc;
    size_t n = 0;
    NamedItem *files = naming_files(*instance, &n);
    *file = NULL;
    for (size_t i = 0; i < n && !*file; i++)
        if (strcmp(files[i].name, tp->name) == 0 && recordings_given_size(files[i].item) > 0)
            *file = files[i].item;
    free(files);
    if (!*file) {
        cacheval_unref(&(*trash)->base);
        return -ENOENT;
    }
    return 0;
}

/* rm in the trash deletes for good: only when the mount says so. */
static bool may_delete(const char *path)
{
    if (store_config()->recording_delete_permanent)
        return true;
    if (store_first_time("rm in the trash"))
        log_info("rm %s: refused: in the trash, rm deletes for good; mount with "
                 "-o recording_delete=delete to allow it",
                 path);
    return false;
}

/* ---- .trash/ and its months ------------------------------------------------ */

static int trash_getattr(const Entry *e, struct stat *st)
{
    TrashVal *t;
    int rc = trash_listing(e->tp.user, &t);
    if (rc == 0) {
        cacheval_unref(&t->base);
        rc = store_user_dir(e->tp.user, st);
    }
    return rc;
}

static int compare_months(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int trash_list(const Entry *e, NodeAdd add, void *ctx)
{
    TrashVal *t;
    int rc = trash_listing(e->tp.user, &t);
    if (rc)
        return rc;
    char(*months)[8] = xcalloc(t->count + 1, 8);
    for (size_t i = 0; i < t->count; i++)
        month_of(t->names[i].item, months[i]);
    qsort(months, t->count, 8, compare_months);
    for (size_t i = 0; i < t->count; i++)
        if (months[i][0] && (i == 0 || strcmp(months[i], months[i - 1]) != 0) &&
            add(ctx, months[i], true))
            break;
    free(months);
    cacheval_unref(&t->base);
    return 0;
}

const KindOps trash_ops = {.getattr = trash_getattr, .list = trash_list, .forget = trash_forget};

static int trash_month_getattr(const Entry *e, struct stat *st)
{
    TrashVal *t;
    int rc = trash_listing(e->tp.user, &t);
    if (rc)
        return rc;
    rc = -ENOENT;
    for (size_t i = 0; i < t->count && rc; i++)
        if (in_month(t->names[i].item, e->tp.month))
            rc = 0;
    cacheval_unref(&t->base);
    if (rc == 0) {
        char first[32];
        snprintf(first, sizeof(first), "%s-01T00:00:00Z", e->tp.month);
        store_fill_dir(st, naming_parse_time(first));
    }
    return rc;
}

static int trash_month_list(const Entry *e, NodeAdd add, void *ctx)
{
    TrashVal *t;
    int rc = trash_listing(e->tp.user, &t);
    if (rc)
        return rc;
    for (size_t i = 0; i < t->count; i++)
        if (in_month(t->names[i].item, e->tp.month) && add(ctx, t->names[i].name, true))
            break;
    cacheval_unref(&t->base);
    return 0;
}

const KindOps trash_month_ops = {
    .getattr = trash_month_getattr, .list = trash_month_list, .forget = trash_forget};

/* ---- trashed instances -------------------------------------------------------- */

static int trash_instance_getattr(const Entry *e, struct stat *st)
{
    TrashVal *t;
    json_t *instance;
    int rc = find_trashed(&e->tp, &t, &instance);
    if (rc == 0) {
        store_fill_dir(st, recordings_time(instance, "start_time", NULL));
        cacheval_unref(&t->base);
    }
    return rc;
}

static int trash_instance_list(const Entry *e, NodeAdd add, void *ctx)
{
    TrashVal *t;
    json_t *instance;
    int rc = find_trashed(&e->tp, &t, &instance);
    if (rc)
        return rc;
    size_t n = 0;
    NamedItem *files = naming_files(instance, &n);
    bool full = false;
    for (size_t i = 0; i < n && !full; i++) {
        char *fp = xasprintf("%s/%s", e->path, files[i].name);
        full = recordings_given_size(files[i].item) > 0 && !store_hidden(fp) &&
               add(ctx, files[i].name, false);
        free(fp);
    }
    free(files);
    cacheval_unref(&t->base);
    return 0;
}

/* rmdir: the whole recording deleted for good in one request, unless files
 * of it are still out of the trash (some were trashed one by one): then
 * each trashed file, one request each, and the rest stays. */
static int trash_instance_remove(const Entry *e)
{
    if (!may_delete(e->path))
        return -EPERM;
    TrashVal *t;
    json_t *instance;
    int rc = find_trashed(&e->tp, &t, &instance);
    if (rc)
        return rc;
    const char *uuid = json_string_value(json_object_get(instance, "uuid"));
    MonthVal *month;
    json_t *live;
    bool still_out = uuid && recordings_instance(&e->tp, &month, &live) == 0 &&
                     strcmp(json_string_value(json_object_get(live, "uuid")) ?: "", uuid) == 0;
    if (still_out)
        recordings_month_unref(month);
    Ids ids = {.object = uuid};
    if (!uuid) {
        rc = -EIO;
    } else if (!still_out) {
        rc = store_send(store_row(NODE_TRASH_INSTANCE)->del, &ids, "action=delete", NULL, NULL);
    } else {
        size_t n = 0;
        NamedItem *files = naming_files(instance, &n);
        for (size_t i = 0; i < n && (rc == 0 || rc == -ENOENT); i++) {
            ids.file = json_string_value(json_object_get(files[i].item, "id"));
            if (ids.file)
                rc =
                    store_send(store_row(NODE_TRASH_MEDIA)->del, &ids, "action=delete", NULL, NULL);
        }
        free(files);
    }
    cacheval_unref(&t->base);
    trash_forget(e);
    recordings_forget(e->tp.user, e->tp.month);
    return rc;
}

/* The row's recover request (an instance, or one file of it) for ids;
 * both the trash and the month it goes back to are listed again. */
static int recover(const Entry *from, const Entry *to, const Ids *ids)
{
    json_t *body = json_pack("{s:s}", "action", "recover");
    int rc = store_send(from->tp.row->post, ids, NULL, body, NULL);
    json_decref(body);
    trash_forget(from);
    recordings_forget(from->tp.user, from->tp.month);
    if (rc == 0)
        log_info("recovered %s from Zoom's trash", to->path);
    return rc;
}

/* mv .trash/<month>/<instance> recordings/<month>/: one recover request. */
static int trash_instance_rename(const Entry *from, const Entry *to)
{
    if (to->tp.kind != NODE_INSTANCE || strcmp(to->tp.user, from->tp.user) != 0 ||
        strcmp(to->tp.month, from->tp.month) != 0 ||
        strcmp(to->tp.instance, from->tp.instance) != 0)
        return -EPERM;
    TrashVal *t;
    json_t *instance;
    int rc = find_trashed(&from->tp, &t, &instance);
    if (rc)
        return rc;
    Ids ids = {.object = json_string_value(json_object_get(instance, "uuid"))};
    rc = recover(from, to, &ids);
    cacheval_unref(&t->base);
    return rc;
}

const KindOps trash_instance_ops = {.getattr = trash_instance_getattr,
                                    .list = trash_instance_list,
                                    .remove = trash_instance_remove,
                                    .forget = trash_forget,
                                    .rename = trash_instance_rename};

/* ---- recording.json of a trashed instance --------------------------------------- */

/* The instance as the trash listings show it (files with deleted_time). */
static int trash_json(const Entry *e, JsonFile **out)
{
    if (store_hidden(e->path))
        return -ENOENT;
    TrashVal *t;
    json_t *instance;
    int rc = find_trashed(&e->tp, &t, &instance);
    if (rc)
        return rc;
    char *key = store_key(e->tp.row, e->path, NULL);
    JsonFile *f = (JsonFile *)store_get(key);
    if (!f) {
        f = json_file_new(e->path, json_deep_copy(instance));
        store_put(key, &f->base, store_dir_ttl_ms());
    }
    free(key);
    cacheval_unref(&t->base);
    *out = f;
    return 0;
}

static int trash_json_remove(const Entry *e)
{
    if (!may_delete(e->path))
        return -EPERM;
    JsonFile *f;
    int rc = trash_json(e, &f);
    if (rc == 0) {
        cacheval_unref(&f->base);
        store_hide(e->path); /* it goes with its folder (rmdir) */
    }
    return rc;
}

const KindOps trash_json_ops = {
    .json = trash_json, .remove = trash_json_remove, .forget = trash_forget};

/* ---- files in the trash ------------------------------------------------------------ */

static int trash_media_getattr(const Entry *e, struct stat *st)
{
    if (store_hidden(e->path))
        return -ENOENT;
    TrashVal *t;
    json_t *instance, *file;
    int rc = find_trashed_file(&e->tp, &t, &instance, &file);
    if (rc)
        return rc;
    int64_t mtime = recordings_time(file, "recording_end", "recording_start");
    if (mtime < 0)
        mtime = recordings_time(instance, "start_time", NULL);
    store_fill_media(st, recordings_given_size(file), mtime, e->tp.row->mode);
    cacheval_unref(&t->base);
    return 0;
}

/* Zoom serves no file from its trash: reading one is refused, nothing sent. */
static int trash_media_open(const Entry *e, MediaInfo *out)
{
    memset(out, 0, sizeof(*out));
    struct stat st;
    int rc = trash_media_getattr(e, &st);
    if (rc)
        return rc;
    if (store_first_time("read in the trash"))
        log_info("%s: Zoom does not serve files in its trash; recover it first (mv it back to "
                 "its month)",
                 e->path);
    return -EACCES;
}

static int trash_media_remove(const Entry *e)
{
    if (!may_delete(e->path))
        return -EPERM;
    TrashVal *t;
    json_t *instance, *file;
    int rc = find_trashed_file(&e->tp, &t, &instance, &file);
    if (rc)
        return rc;
    Ids ids = {.object = json_string_value(json_object_get(instance, "uuid")),
               .file = json_string_value(json_object_get(file, "id"))};
    rc = ids.file ? store_send(e->tp.row->del, &ids, "action=delete", NULL, NULL) : -EPERM;
    cacheval_unref(&t->base);
    trash_forget(e);
    return rc;
}

/* mv .trash/<month>/<instance>/<file> recordings/<month>/<instance>/: one
 * recover request for that file. */
static int trash_media_rename(const Entry *from, const Entry *to)
{
    if (to->tp.kind != NODE_MEDIA || strcmp(to->tp.user, from->tp.user) != 0 ||
        strcmp(to->tp.month, from->tp.month) != 0 ||
        strcmp(to->tp.instance, from->tp.instance) != 0 || strcmp(to->tp.name, from->tp.name) != 0)
        return -EPERM;
    TrashVal *t;
    json_t *instance, *file;
    int rc = find_trashed_file(&from->tp, &t, &instance, &file);
    if (rc)
        return rc;
    Ids ids = {.object = json_string_value(json_object_get(instance, "uuid")),
               .file = json_string_value(json_object_get(file, "id"))};
    rc = ids.file ? recover(from, to, &ids) : -EPERM;
    cacheval_unref(&t->base);
    return rc;
}

const KindOps trash_media_ops = {.getattr = trash_media_getattr,
                                 .media = trash_media_open,
                                 .remove = trash_media_remove,
                                 .forget = trash_forget,
                                 .rename = trash_media_rename};
