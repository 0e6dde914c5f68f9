/* node: per-kind behaviour of the tree, backed by api and the cache. */
#include "zoomfs/node.h"

#include "zoomfs/api.h"
#include "zoomfs/config.h"
#include "zoomfs/jsonfile.h"
#include "zoomfs/ledger.h"
#include "zoomfs/log.h"
#include "zoomfs/naming.h"
#include "zoomfs/stats.h"
#include "zoomfs/stream.h"
#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_ENTRIES 20000
/* Recording files never change once complete: a probed size is good for a day. */
#define SIZE_TTL_MS (24LL * 3600 * 1000)

static Cache *cache;
static int64_t mount_time;

/* Paths unlinked without a request (recording.json), for the mount's life. */
static pthread_mutex_t hidden_lock = PTHREAD_MUTEX_INITIALIZER;
static char **hidden;
static size_t nhidden;

/* A cached JSON value (a listing). */
typedef struct {
    CacheVal base;
    json_t *json;
} JsonVal;

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

static void json_val_destroy(CacheVal *v)
{
    json_decref(((JsonVal *)v)->json);
    free(v);
}

static JsonVal *json_val_new(json_t *json)
{
    JsonVal *v = xcalloc(1, sizeof(*v));
    v->base.refs = 1;
    v->base.destroy = json_val_destroy;
    v->json = json;
    return v;
}

static void json_file_destroy(CacheVal *v)
{
    JsonFile *f = (JsonFile *)v;
    json_decref(f->json);
    free(f->text);
    free(f);
}

/* Fields Zoom hands out fresh on every GET (start_url carries a new host
 * token each time): they do not make the object new, so they do not move its
 * mtime, which would make every nightly rsync copy every meeting again. */
static const char *const volatile_fields[] = {"start_url", NULL};

static JsonFile *json_file_new(const char *path, json_t *json)
{
    JsonFile *f = xcalloc(1, sizeof(*f));
    f->base.refs = 1;
    f->base.destroy = json_file_destroy;
    f->json = json;
    f->text = jsonfile_render(json, &f->len);
    json_t *stable = json_copy(json);
    for (size_t i = 0; volatile_fields[i]; i++)
        json_object_del(stable, volatile_fields[i]);
    size_t len;
    char *text = jsonfile_render(stable, &len);
    char hash[65];
    sha256_hex(text, len, hash);
    f->mtime = ledger_mtime(path, hash, wall_seconds());
    free(text);
    json_decref(stable);
    return f;
}

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

static int64_t ttl_ms(int seconds)
{
    return (int64_t)seconds * 1000;
}

void node_init(void)
{
    cache = cache_new(CACHE_ENTRIES);
    mount_time = wall_seconds();
}

void node_cleanup(void)
{
    cache_free(cache);
    cache = NULL;
    for (size_t i = 0; i < nhidden; i++)
        free(hidden[i]);
    free(hidden);
    hidden = NULL;
    nhidden = 0;
}

void node_hide(const char *path)
{
    lock(&hidden_lock);
    hidden = xrealloc(hidden, (nhidden + 1) * sizeof(*hidden));
    hidden[nhidden++] = xstrdup(path);
    unlock(&hidden_lock);
}

/* "/users/<user>/recordings/<month>/<instance>/<leaf>" */
static void instance_path(const TreePath *tp, const char *leaf, char *out, size_t outlen)
{
    snprintf(out, outlen, "/users/%s/recordings/%s/%s/%s", tp->user, tp->month, tp->instance, leaf);
}

static bool is_hidden(const char *path)
{
    bool found = false;
    lock(&hidden_lock);
    for (size_t i = 0; i < nhidden && !found; i++)
        found = strcmp(hidden[i], path) == 0;
    unlock(&hidden_lock);
    return found;
}

/* ---- users ---------------------------------------------------------- */

static int users_list(JsonVal **out)
{
    CacheVal *v = cache_get(cache, "users");
    if (v) {
        *out = (JsonVal *)v;
        return 0;
    }
    json_t *users = NULL;
    int rc = api_list_users(&users);
    if (rc)
        return rc;
    JsonVal *val = json_val_new(users);
    cache_put(cache, "users", &val->base, ttl_ms(cfg.dir_ttl));
    *out = val;
    return 0;
}

/* The user listed under this email, with a reference to the listing that
 * owns it (drop with cacheval_unref). */
static int find_user(const char *email, JsonVal **list, json_t **user)
{
    int rc = users_list(list);
    if (rc)
        return rc;
    size_t i;
    json_t *u;
    json_array_foreach((*list)->json, i, u)
    {
        const char *e = json_string_value(json_object_get(u, "email"));
        if (e && strcmp(e, email) == 0) {
            *user = u;
            return 0;
        }
    }
    cacheval_unref(&(*list)->base);
    *list = NULL;
    return -ENOENT;
}

/* Copies the user's URL key (id, or email when pending) into key. */
static int user_key(const char *email, char *key, size_t keylen, int64_t *created)
{
    JsonVal *list;
    json_t *user;
    int rc = find_user(email, &list, &user);
    if (rc)
        return rc;
    snprintf(key, keylen, "%s", api_user_key(user));
    if (created) {
        const char *c = json_string_value(json_object_get(user, "created_at"));
        *created = c ? naming_parse_time(c) : -1;
    }
    cacheval_unref(&list->base);
    return 0;
}

/* ---- JSON objects ---------------------------------------------------- */

typedef int (*FetchFn)(const char *id, json_t **out);

static int cached_file(const char *cache_key, const char *path, FetchFn fetch, const char *id,
                       JsonFile **out)
{
    CacheVal *v = cache_get(cache, cache_key);
    if (v) {
        *out = (JsonFile *)v;
        return 0;
    }
    json_t *json = NULL;
    int rc = fetch(id, &json);
    if (rc) {
        if (rc == -ENOENT)
            cache_drop(cache, cache_key);
        return rc;
    }
    JsonFile *f = json_file_new(path, json);
    cache_put(cache, cache_key, &f->base, ttl_ms(cfg.attr_ttl));
    *out = f;
    return 0;
}

static int settings_file(const char *key, JsonFile **out)
{
    char ck[320], path[320];
    snprintf(ck, sizeof(ck), "settings/%s", key);
    snprintf(path, sizeof(path), "settings/%s", key);
    return cached_file(ck, path, api_get_settings, key, out);
}

/* Webinars need Zoom's add-on; its absence is not an error to report. */
static bool has_webinars(const char *key)
{
    JsonFile *s;
    if (settings_file(key, &s) != 0)
        return false;
    json_t *w = json_object_get(json_object_get(s->json, "feature"), "webinar");
    bool yes = json_is_true(w);
    cacheval_unref(&s->base);
    return yes;
}

/* The meetings (or webinars) listing of a user. */
static int user_list(const char *kind, const char *key, JsonVal **out)
{
    char ck[320];
    snprintf(ck, sizeof(ck), "%s/%s", kind, key);
    CacheVal *v = cache_get(cache, ck);
    if (v) {
        *out = (JsonVal *)v;
        return 0;
    }
    json_t *items = NULL;
    int rc = strcmp(kind, "meetings") == 0 ? api_list_meetings(key, &items)
                                           : api_list_webinars(key, &items);
    if (rc)
        return rc;
    JsonVal *val = json_val_new(items);
    cache_put(cache, ck, &val->base, ttl_ms(cfg.dir_ttl));
    *out = val;
    return 0;
}

static bool list_has_id(const JsonVal *list, const char *id)
{
    size_t i;
    json_t *m;
    json_array_foreach(list->json, i, m)
    {
        json_t *mid = json_object_get(m, "id");
        char buf[32];
        if (json_is_integer(mid))
            snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(mid));
        else
            snprintf(buf, sizeof(buf), "%s", json_string_value(mid) ?: "");
        if (strcmp(buf, id) == 0)
            return true;
    }
    return false;
}

/* ---- recordings ------------------------------------------------------ */

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
    int rc = user_key(tp->user, key, sizeof(key), &created);
    if (rc)
        return rc;
    if (!month_in_range(tp->month, created))
        return -ENOENT;
    char ck[400];
    snprintf(ck, sizeof(ck), "month/%s/%s", key, tp->month);
    CacheVal *v = cache_get(cache, ck);
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
    cache_put(cache, ck, &m->base, ttl_ms(cfg.dir_ttl));
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
    CacheVal *v = cache_get(cache, ck);
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
    sv->size = size;
    cache_put(cache, ck, &sv->base, SIZE_TTL_MS);
    cacheval_unref(&sv->base);
    return size;
}

int node_media(const TreePath *tp, MediaInfo *out)
{
    memset(out, 0, sizeof(*out));
    char path[4 * TREE_NAME_MAX];
    instance_path(tp, tp->name, path, sizeof(path));
    if (is_hidden(path))
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

/* ---- JSON nodes ------------------------------------------------------ */

static int fetch_recording_json(const char *path, const TreePath *tp, JsonFile **out)
{
    MonthVal *month;
    json_t *instance;
    int rc = find_instance(tp, &month, &instance);
    if (rc)
        return rc;
    /* Rendered from the month listing: recording.json costs no request. */
    char ck[1200];
    snprintf(ck, sizeof(ck), "frozen/%s", path);
    CacheVal *v = cache_get(cache, ck);
    if (v) {
        cacheval_unref(&month->base);
        *out = (JsonFile *)v;
        return 0;
    }
    snprintf(ck, sizeof(ck), "recjson/%s", path);
    v = cache_get(cache, ck);
    JsonFile *f = (JsonFile *)v;
    if (f && !json_equal(f->json, instance)) {
        cacheval_unref(v);
        f = NULL;
    }
    if (!f) {
        f = json_file_new(path, json_deep_copy(instance));
        cache_put(cache, ck, &f->base, ttl_ms(cfg.dir_ttl));
    }
    cacheval_unref(&month->base);
    *out = f;
    return 0;
}

int node_json(const char *path, const TreePath *tp, JsonFile **out)
{
    char key[TREE_NAME_MAX];
    char ck[600];
    int rc;
    if (tp->kind == NODE_RECORDING_JSON)
        return is_hidden(path) ? -ENOENT : fetch_recording_json(path, tp, out);
    rc = user_key(tp->user, key, sizeof(key), NULL);
    if (rc)
        return rc;
    switch (tp->kind) {
    case NODE_USER_JSON:
        snprintf(ck, sizeof(ck), "user/%s", key);
        return cached_file(ck, path, api_get_user, key, out);
    case NODE_SETTINGS_JSON:
        return settings_file(key, out);
    case NODE_MEETING_JSON:
    case NODE_WEBINAR_JSON: {
        bool meeting = tp->kind == NODE_MEETING_JSON;
        if (!meeting && !has_webinars(key))
            return -ENOENT;
        JsonVal *list;
        rc = user_list(meeting ? "meetings" : "webinars", key, &list);
        if (rc)
            return rc;
        bool listed = list_has_id(list, tp->id);
        cacheval_unref(&list->base);
        if (!listed)
            return -ENOENT;
        snprintf(ck, sizeof(ck), "%s/%s", meeting ? "meeting" : "webinar", tp->id);
        return cached_file(ck, path, meeting ? api_get_meeting : api_get_webinar, tp->id, out);
    }
    default:
        return -EISDIR;
    }
}

/* ---- the write half of the mapping ----------------------------------- */

static const char *const meeting_readonly[] = {"id",
                                               "uuid",
                                               "host_id",
                                               "host_email",
                                               "created_at",
                                               "join_url",
                                               "start_url",
                                               "status",
                                               "encrypted_password",
                                               "h323_password",
                                               "pstn_password",
                                               "occurrences",
                                               "assistant_id",
                                               "registration_url",
                                               "pmi",
                                               NULL};
static const char *const webinar_readonly[] = {
    "id",       "uuid",      "host_id",     "host_email",       "created_at",
    "join_url", "start_url", "occurrences", "registration_url", NULL};
static const char *const user_readonly[] = {"id",
                                            "email",
                                            "account_id",
                                            "account_number",
                                            "created_at",
                                            "last_login_time",
                                            "last_client_version",
                                            "status",
                                            "verified",
                                            "role_name",
                                            "role_id",
                                            "pic_url",
                                            "personal_meeting_url",
                                            "cluster",
                                            "login_types",
                                            "jid",
                                            "group_ids",
                                            "im_group_ids",
                                            NULL};

static const Resource resources[] = {
    {NODE_USER_JSON, "/users/%s", "PATCH /users/{userId}", NULL, NULL, NULL, user_readonly},
    {NODE_SETTINGS_JSON, "/users/%s/settings", "PATCH /users/{userId}/settings", NULL, NULL, NULL,
     NULL},
    {NODE_MEETING_JSON, "/meetings/%s", "PATCH /meetings/{meetingId}",
     "DELETE /meetings/{meetingId}", "/users/%s/meetings", "POST /users/{userId}/meetings",
     meeting_readonly},
    {NODE_WEBINAR_JSON, "/webinars/%s", "PATCH /webinars/{webinarId}",
     "DELETE /webinars/{webinarId}", "/users/%s/webinars", "POST /users/{userId}/webinars",
     webinar_readonly},
};

const Resource *node_resource(NodeKind kind)
{
    for (size_t i = 0; i < ARRAY_SIZE(resources); i++)
        if (resources[i].kind == kind)
            return &resources[i];
    return NULL;
}

int node_resource_id(const TreePath *tp, char *id, size_t idlen, char *user, size_t userlen)
{
    int rc = user_key(tp->user, user, userlen, NULL);
    if (rc)
        return rc;
    bool object = tp->kind == NODE_MEETING_JSON || tp->kind == NODE_WEBINAR_JSON;
    snprintf(id, idlen, "%s", object ? tp->id : user);
    return 0;
}

void node_invalidate(const TreePath *tp)
{
    char key[TREE_NAME_MAX], ck[600];
    if (user_key(tp->user, key, sizeof(key), NULL) != 0) {
        cache_drop(cache, "users");
        return;
    }
    switch (tp->kind) {
    case NODE_USER_JSON:
        snprintf(ck, sizeof(ck), "user/%s", key);
        cache_drop(cache, ck);
        break;
    case NODE_SETTINGS_JSON:
        snprintf(ck, sizeof(ck), "settings/%s", key);
        cache_drop(cache, ck);
        break;
    case NODE_MEETING_JSON:
    case NODE_WEBINAR_JSON:
    case NODE_MEETINGS:
    case NODE_WEBINARS: {
        bool meeting = tp->kind == NODE_MEETING_JSON || tp->kind == NODE_MEETINGS;
        snprintf(ck, sizeof(ck), "%s/%s", meeting ? "meetings" : "webinars", key);
        cache_drop(cache, ck);
        if (tp->id[0]) {
            snprintf(ck, sizeof(ck), "%s/%s", meeting ? "meeting" : "webinar", tp->id);
            cache_drop(cache, ck);
        }
        break;
    }
    case NODE_MONTH:
    case NODE_INSTANCE:
    case NODE_MEDIA:
    case NODE_RECORDING_JSON:
        snprintf(ck, sizeof(ck), "month/%s/%s", key, tp->month);
        cache_drop(cache, ck);
        break;
    default:
        break;
    }
}

int node_delete_object(const TreePath *tp)
{
    const Resource *r = node_resource(tp->kind);
    if (!r || !r->delete_route)
        return -EPERM;
    char *path = api_object_path(r->object_path, tp->id);
    int rc = api_call(r->delete_route, "DELETE", path, NULL, NULL);
    free(path);
    if (rc == 0 || rc == -ENOENT)
        node_invalidate(tp);
    return rc;
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
    CacheVal *v = cache_get(cache, ck);
    if (v) {
        cacheval_unref(v);
        return;
    }
    JsonFile *f;
    if (fetch_recording_json(path, tp, &f) == 0) {
        cache_put(cache, ck, &f->base, SIZE_TTL_MS);
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
        all_removed = is_hidden(path);
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

/* ---- attributes and listings ----------------------------------------- */

static void fill_dir(struct stat *st, int64_t mtime)
{
    st->st_mode = S_IFDIR | (0777 & ~cfg.umask);
    st->st_nlink = 2;
    st->st_mtime = st->st_ctime = st->st_atime = (time_t)(mtime > 0 ? mtime : mount_time);
}

static void fill_file(struct stat *st, int64_t size, int64_t mtime, mode_t perm)
{
    st->st_mode = S_IFREG | (perm & ~cfg.umask);
    st->st_nlink = 1;
    st->st_size = size;
    /* du reports the real size without reading anything. */
    st->st_blocks = (size + 511) / 512;
    st->st_blksize = 128 * 1024;
    st->st_mtime = st->st_ctime = st->st_atime = (time_t)(mtime > 0 ? mtime : mount_time);
}

static bool writable_json(NodeKind k)
{
    return node_resource(k) && !cfg.read_only;
}

int node_getattr(const char *path, const TreePath *tp, struct stat *st)
{
    memset(st, 0, sizeof(*st));
    st->st_uid = cfg.uid;
    st->st_gid = cfg.gid;
    char key[TREE_NAME_MAX];
    int64_t created = -1;
    int rc = 0;
    switch (tp->kind) {
    case NODE_ROOT:
    case NODE_USERS:
    case NODE_META:
        fill_dir(st, mount_time);
        return 0;
    case NODE_META_FILE: {
        size_t len;
        char *text = node_meta(tp->name, &len);
        if (!text)
            return -ENOENT;
        free(text);
        fill_file(st, (int64_t)len, wall_seconds(), 0444);
        return 0;
    }
    case NODE_USER:
    case NODE_MEETINGS:
    case NODE_RECORDINGS:
        rc = user_key(tp->user, key, sizeof(key), &created);
        if (rc == 0)
            fill_dir(st, created);
        return rc;
    case NODE_WEBINARS:
        rc = user_key(tp->user, key, sizeof(key), &created);
        if (rc == 0 && !has_webinars(key))
            rc = -ENOENT;
        if (rc == 0)
            fill_dir(st, created);
        return rc;
    case NODE_MONTH: {
        rc = user_key(tp->user, key, sizeof(key), &created);
        if (rc == 0 && !month_in_range(tp->month, created))
            rc = -ENOENT;
        if (rc == 0) {
            char first[32];
            snprintf(first, sizeof(first), "%s-01T00:00:00Z", tp->month);
            fill_dir(st, naming_parse_time(first));
        }
        return rc;
    }
    case NODE_INSTANCE: {
        MonthVal *month;
        json_t *instance;
        rc = find_instance(tp, &month, &instance);
        if (rc == 0) {
            fill_dir(st, time_field(instance, "start_time", NULL));
            cacheval_unref(&month->base);
        }
        return rc;
    }
    case NODE_MEDIA: {
        MediaInfo m;
        rc = node_media(tp, &m);
        if (rc == 0) {
            fill_file(st, m.size, m.mtime, 0444);
            media_info_free(&m);
        }
        return rc;
    }
    case NODE_USER_JSON:
    case NODE_SETTINGS_JSON:
    case NODE_MEETING_JSON:
    case NODE_WEBINAR_JSON:
    case NODE_RECORDING_JSON: {
        JsonFile *f;
        rc = node_json(path, tp, &f);
        if (rc == 0) {
            fill_file(st, (int64_t)f->len, f->mtime, writable_json(tp->kind) ? 0666 : 0444);
            cacheval_unref(&f->base);
        }
        return rc;
    }
    case NODE_OTHER:
        return -ENOENT;
    }
    return -ENOENT;
}

static int add_json_ids(JsonVal *list, NodeAdd add, void *ctx)
{
    size_t i;
    json_t *m;
    json_array_foreach(list->json, i, m)
    {
        json_t *id = json_object_get(m, "id");
        char name[48];
        if (json_is_integer(id))
            snprintf(name, sizeof(name), "%lld.json", (long long)json_integer_value(id));
        else if (json_is_string(id))
            snprintf(name, sizeof(name), "%s.json", json_string_value(id));
        else
            continue;
        if (add(ctx, name, false))
            return 0;
    }
    return 0;
}

int node_readdir(const char *path, const TreePath *tp, NodeAdd add, void *ctx)
{
    char key[TREE_NAME_MAX];
    int64_t created = -1;
    int rc = 0;
    switch (tp->kind) {
    case NODE_ROOT:
        add(ctx, "users", true);
        add(ctx, ".zoomfs", true);
        return 0;
    case NODE_META:
        add(ctx, "stats", false);
        add(ctx, "errors", false);
        add(ctx, "version", false);
        return 0;
    case NODE_USERS: {
        JsonVal *list;
        rc = users_list(&list);
        if (rc)
            return rc;
        size_t i;
        json_t *u;
        json_array_foreach(list->json, i, u)
        {
            const char *email = json_string_value(json_object_get(u, "email"));
            if (email && *email && !strchr(email, '/') && email[0] != '.' && add(ctx, email, true))
                break;
        }
        cacheval_unref(&list->base);
        return 0;
    }
    case NODE_USER:
        rc = user_key(tp->user, key, sizeof(key), NULL);
        if (rc)
            return rc;
        add(ctx, "user.json", false);
        add(ctx, "settings.json", false);
        add(ctx, "meetings", true);
        if (has_webinars(key))
            add(ctx, "webinars", true);
        add(ctx, "recordings", true);
        return 0;
    case NODE_MEETINGS:
    case NODE_WEBINARS: {
        bool meetings = tp->kind == NODE_MEETINGS;
        rc = user_key(tp->user, key, sizeof(key), NULL);
        if (rc)
            return rc;
        if (!meetings && !has_webinars(key))
            return -ENOENT;
        JsonVal *list;
        rc = user_list(meetings ? "meetings" : "webinars", key, &list);
        if (rc)
            return rc;
        add_json_ids(list, add, ctx);
        cacheval_unref(&list->base);
        return 0;
    }
    case NODE_RECORDINGS: {
        rc = user_key(tp->user, key, sizeof(key), &created);
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
        char *rj = xasprintf("%s/recording.json", path);
        if (!is_hidden(rj))
            add(ctx, "recording.json", false);
        free(rj);
        size_t n = 0;
        NamedItem *files = naming_files(instance, &n);
        for (size_t i = 0; i < n; i++) {
            char fp[4 * TREE_NAME_MAX];
            instance_path(tp, files[i].name, fp, sizeof(fp));
            if (!is_hidden(fp) && add(ctx, files[i].name, false))
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

char *node_meta(const char *name, size_t *len)
{
    if (strcmp(name, "stats") == 0)
        return stats_render(len);
    if (strcmp(name, "errors") == 0)
        return stats_render_errors(len);
    if (strcmp(name, "version") == 0) {
        char *v = xasprintf("zoomfs %s\n", ZOOMFS_VERSION);
        *len = strlen(v);
        return v;
    }
    return NULL;
}
