/* node: per-kind behaviour of the tree, backed by api and the cache: users,
 * their JSON objects, the write half of the mapping, and the dispatch that
 * hands recordings to recordings.c. */
#include "zoomfs/node.h"

#include "node_shared.h"

#include "zoomfs/api.h"
#include "zoomfs/config.h"
#include "zoomfs/jsonfile.h"
#include "zoomfs/ledger.h"
#include "zoomfs/log.h"
#include "zoomfs/naming.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CACHE_ENTRIES 20000
#define CACHE_BYTES   (64u << 20)

Cache *node_cache;
int64_t node_mount_time;

/* Paths unlinked without a request (recording.json), for the mount's life. */
static pthread_mutex_t hidden_lock = PTHREAD_MUTEX_INITIALIZER;
static char **hidden;
static size_t nhidden;

/* A cached JSON value (a listing). */
typedef struct {
    CacheVal base;
    json_t *json;
} JsonVal;

static void json_val_destroy(CacheVal *v)
{
    json_decref(((JsonVal *)v)->json);
    free(v);
}

size_t node_json_cost(const json_t *json)
{
    /* jansson's tree takes a few times its compact text. */
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t n = text ? strlen(text) : 0;
    free(text);
    return 4 * n + 256;
}

static JsonVal *json_val_new(json_t *json)
{
    JsonVal *v = xcalloc(1, sizeof(*v));
    v->base.refs = 1;
    v->base.destroy = json_val_destroy;
    v->base.cost = node_json_cost(json);
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

JsonFile *node_json_file_new(const char *path, json_t *json)
{
    JsonFile *f = xcalloc(1, sizeof(*f));
    f->base.refs = 1;
    f->base.destroy = json_file_destroy;
    f->json = json;
    f->text = jsonfile_render(json, &f->len);
    f->base.cost = 4 * f->len + 256;
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

int64_t node_ttl_ms(int seconds)
{
    return (int64_t)seconds * 1000;
}

void node_init(void)
{
    node_cache = cache_new(CACHE_ENTRIES, CACHE_BYTES);
    node_mount_time = wall_seconds();
}

void node_cleanup(void)
{
    cache_free(node_cache);
    node_cache = NULL;
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

bool node_is_hidden(const char *path)
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
    CacheVal *v = cache_get(node_cache, "users");
    if (v) {
        *out = (JsonVal *)v;
        return 0;
    }
    json_t *users = NULL;
    int rc = api_list_users(&users);
    if (rc)
        return rc;
    JsonVal *val = json_val_new(users);
    cache_put(node_cache, "users", &val->base, node_ttl_ms(cfg.dir_ttl));
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
int node_user_key(const char *email, char *key, size_t keylen, int64_t *created)
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
    CacheVal *v = cache_get(node_cache, cache_key);
    if (v) {
        *out = (JsonFile *)v;
        return 0;
    }
    json_t *json = NULL;
    int rc = fetch(id, &json);
    if (rc) {
        if (rc == -ENOENT)
            cache_drop(node_cache, cache_key);
        return rc;
    }
    JsonFile *f = node_json_file_new(path, json);
    cache_put(node_cache, cache_key, &f->base, node_ttl_ms(cfg.attr_ttl));
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
    CacheVal *v = cache_get(node_cache, ck);
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
    cache_put(node_cache, ck, &val->base, node_ttl_ms(cfg.dir_ttl));
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

/* ---- JSON nodes ------------------------------------------------------ */

int node_json(const char *path, const TreePath *tp, JsonFile **out)
{
    char key[TREE_NAME_MAX];
    char ck[600];
    int rc;
    if (tp->kind == NODE_RECORDING_JSON)
        return node_is_hidden(path) ? -ENOENT : recordings_json(path, tp, out);
    rc = node_user_key(tp->user, key, sizeof(key), NULL);
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
    int rc = node_user_key(tp->user, user, userlen, NULL);
    if (rc)
        return rc;
    bool object = tp->kind == NODE_MEETING_JSON || tp->kind == NODE_WEBINAR_JSON;
    snprintf(id, idlen, "%s", object ? tp->id : user);
    return 0;
}

void node_invalidate(const TreePath *tp)
{
    char key[TREE_NAME_MAX], ck[600];
    if (node_user_key(tp->user, key, sizeof(key), NULL) != 0) {
        cache_drop(node_cache, "users");
        return;
    }
    switch (tp->kind) {
    case NODE_USER_JSON:
        snprintf(ck, sizeof(ck), "user/%s", key);
        cache_drop(node_cache, ck);
        break;
    case NODE_SETTINGS_JSON:
        snprintf(ck, sizeof(ck), "settings/%s", key);
        cache_drop(node_cache, ck);
        break;
    case NODE_MEETING_JSON:
    case NODE_WEBINAR_JSON:
    case NODE_MEETINGS:
    case NODE_WEBINARS: {
        bool meeting = tp->kind == NODE_MEETING_JSON || tp->kind == NODE_MEETINGS;
        snprintf(ck, sizeof(ck), "%s/%s", meeting ? "meetings" : "webinars", key);
        cache_drop(node_cache, ck);
        if (tp->id[0]) {
            snprintf(ck, sizeof(ck), "%s/%s", meeting ? "meeting" : "webinar", tp->id);
            cache_drop(node_cache, ck);
        }
        break;
    }
    case NODE_MONTH:
    case NODE_INSTANCE:
    case NODE_MEDIA:
    case NODE_RECORDING_JSON:
        snprintf(ck, sizeof(ck), "month/%s/%s", key, tp->month);
        cache_drop(node_cache, ck);
        break;
    default:
        break;
    }
}

int node_create_user(const char *email)
{
    const char *at = strchr(email, '@');
    if (!at || at == email || !strchr(at, '.') || strpbrk(email, " \t")) {
        stats_error("mkdir users/%s: not an email address; nothing sent", email);
        return -EINVAL;
    }
    json_t *body = json_pack("{s:s, s:{s:s, s:i}}", "action", "create", "user_info", "email", email,
                             "type", 1);
    json_t *created = NULL;
    int rc = api_call("POST /users", "POST", "/users", body, &created);
    json_decref(body);
    json_decref(created);
    cache_drop(node_cache, "users");
    if (rc == 0)
        log_info("invited %s (pending until they accept)", email);
    return rc;
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

/* ---- attributes and listings ----------------------------------------- */

void node_fill_dir(struct stat *st, int64_t mtime)
{
    st->st_mode = S_IFDIR | (0777 & ~cfg.umask);
    st->st_nlink = 2;
    st->st_mtime = st->st_ctime = st->st_atime = (time_t)(mtime > 0 ? mtime : node_mount_time);
}

void node_fill_file(struct stat *st, int64_t size, int64_t mtime, mode_t perm)
{
    st->st_mode = S_IFREG | (perm & ~cfg.umask);
    st->st_nlink = 1;
    st->st_size = size;
    /* du reports the real size without reading anything. */
    st->st_blocks = (size + 511) / 512;
    st->st_blksize = 128 * 1024;
    st->st_mtime = st->st_ctime = st->st_atime = (time_t)(mtime > 0 ? mtime : node_mount_time);
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
        node_fill_dir(st, node_mount_time);
        return 0;
    case NODE_META_FILE: {
        size_t len;
        char *text = node_meta(tp->name, &len);
        if (!text)
            return -ENOENT;
        free(text);
        node_fill_file(st, (int64_t)len, wall_seconds(), 0444);
        return 0;
    }
    case NODE_USER:
    case NODE_MEETINGS:
    case NODE_RECORDINGS:
        rc = node_user_key(tp->user, key, sizeof(key), &created);
        if (rc == 0)
            node_fill_dir(st, created);
        return rc;
    case NODE_WEBINARS:
        rc = node_user_key(tp->user, key, sizeof(key), &created);
        if (rc == 0 && !has_webinars(key))
            rc = -ENOENT;
        if (rc == 0)
            node_fill_dir(st, created);
        return rc;
    case NODE_MONTH:
    case NODE_INSTANCE:
    case NODE_MEDIA:
        return recordings_getattr(tp, st);
    case NODE_USER_JSON:
    case NODE_SETTINGS_JSON:
    case NODE_MEETING_JSON:
    case NODE_WEBINAR_JSON:
    case NODE_RECORDING_JSON: {
        JsonFile *f;
        rc = node_json(path, tp, &f);
        if (rc == 0) {
            node_fill_file(st, (int64_t)f->len, f->mtime, writable_json(tp->kind) ? 0666 : 0444);
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

int node_readdir(const TreePath *tp, NodeAdd add, void *ctx)
{
    char key[TREE_NAME_MAX];
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
        rc = node_user_key(tp->user, key, sizeof(key), NULL);
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
        rc = node_user_key(tp->user, key, sizeof(key), NULL);
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
    case NODE_RECORDINGS:
    case NODE_MONTH:
    case NODE_INSTANCE:
        return recordings_readdir(tp, add, ctx);
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
