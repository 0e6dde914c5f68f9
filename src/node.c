/* node: the common kinds of nodes, driven by the rows' endpoints. */
#include "zoomfs/node.h"

#include "zoomfs/jsonfile.h"
#include "zoomfs/log.h"
#include "zoomfs/prefetch.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *node_id_text(const json_t *item, const char *field)
{
    json_t *id = json_object_get(item, field);
    if (json_is_integer(id))
        return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(id));
    if (json_is_string(id))
        return xstrdup(json_string_value(id));
    return NULL;
}

static char *id_text(const json_t *item)
{
    return node_id_text(item, "id");
}

/* ---- presence ----------------------------------------------------------- */

/* Webinars need Zoom's add-on; its absence is not an error to report. */
static bool has_webinars(const char *email, const Ids *ids)
{
    const Row *settings = store_row(NODE_SETTINGS_JSON);
    char *path = xasprintf("/users/%s/settings.json", email);
    JsonFile *s;
    bool yes = false;
    if (store_object(settings, ids, ids->user, path, &s) == 0) {
        json_t *settings = json_file_value(s);
        yes = json_is_true(json_object_get(json_object_get(settings, "feature"), "webinar"));
        json_decref(settings);
        cacheval_unref(&s->base);
    }
    free(path);
    return yes;
}

bool node_present(unsigned flags, const Entry *e)
{
    if (!(flags & (ROW_USER_ID | ROW_WEBINAR)))
        return true;
    UserRef u;
    Ids ids;
    if (store_user_ids(e->tp.user, &u, &ids) != 0)
        return false;
    bool yes = (!(flags & ROW_USER_ID) || u.has_id) &&
               (!(flags & ROW_WEBINAR) || has_webinars(e->tp.user, &ids));
    user_ref_drop(&u);
    return yes;
}

/* ---- fixed folders and .zoomfs/ ------------------------------------------ */

static int mount_dir_getattr(const Entry *e, struct stat *st)
{
    (void)e;
    store_fill_dir(st, store_mount_time());
    return 0;
}

const KindOps node_root_ops = {.getattr = mount_dir_getattr};

const char *const node_meta_names[] = {"stats", "errors", "version", "refresh", NULL};

static int meta_list(const Entry *e, NodeAdd add, void *ctx)
{
    (void)e;
    for (size_t i = 0; node_meta_names[i]; i++)
        add(ctx, node_meta_names[i], false);
    return 0;
}

const KindOps node_meta_ops = {.getattr = mount_dir_getattr, .list = meta_list};

static int meta_text(const Entry *e, char **text, size_t *len)
{
    const char *name = e->tp.name;
    if (strcmp(name, "stats") == 0)
        *text = stats_render(len);
    else if (strcmp(name, "errors") == 0)
        *text = stats_render_errors(len);
    else if (strcmp(name, "version") == 0)
        *text = xasprintf("zoomfs %s\n", ZOOMFS_VERSION), *len = strlen(*text);
    else if (node_is_trigger(e))
        *text = xstrdup(""), *len = 0; /* written to, never read from */
    else
        return -ENOENT;
    return 0;
}

static int meta_getattr(const Entry *e, struct stat *st)
{
    char *text = NULL;
    size_t len;
    int rc = meta_text(e, &text, &len);
    if (rc == 0)
        store_fill_file(st, (int64_t)len, wall_seconds(),
                        node_is_trigger(e) ? 0200 : e->tp.row->mode);
    free(text);
    return rc;
}

bool node_is_trigger(const Entry *e)
{
    return e->tp.kind == NODE_META_FILE && strcmp(e->tp.name, "refresh") == 0;
}

const KindOps node_text_ops = {.getattr = meta_getattr, .text = meta_text};

/* ---- users ------------------------------------------------------------------ */

static int users_list(const Entry *e, NodeAdd add, void *ctx)
{
    (void)e;
    Users *users;
    int rc = store_users(&users);
    if (rc == 0)
        store_users_each(users, add, ctx);
    store_users_drop(users);
    return rc;
}

static void users_forget(const Entry *e)
{
    (void)e;
    store_drop_row(store_row(NODE_USERS), NULL);
}

const KindOps node_users_ops = {
    .getattr = mount_dir_getattr, .list = users_list, .forget = users_forget};

static int user_getattr(const Entry *e, struct stat *st)
{
    return store_user_dir(e->tp.user, st);
}

/* mkdir users/<email>: invites the user (a Basic user, pending until they
 * accept). */
static int user_make(const Entry *e)
{
    const char *email = e->tp.user;
    const char *at = strchr(email, '@');
    if (!at || at == email || !strchr(at, '.') || strpbrk(email, " \t")) {
        stats_error("mkdir users/%s: not an email address; nothing sent", email);
        return -EINVAL;
    }
    json_t *body = json_pack("{s:s, s:{s:s, s:i}}", "action", "create", "user_info", "email", email,
                             "type", 1);
    Ids none = {0};
    int rc = store_send(e->tp.row->post, &none, NULL, body, NULL);
    json_decref(body);
    users_forget(e);
    if (rc == 0)
        log_info("invited %s (pending until they accept)", email);
    return rc;
}

const KindOps node_user_ops = {.getattr = user_getattr, .make = user_make};

/* ---- folders listed by an endpoint (meetings/, webinars/) -------------------- */

/* The child row of a listed folder: the one whose name is a placeholder. */
static const Row *child_row(const Row *folder)
{
    size_t n;
    const Row *rows = store_rows(&n);
    for (size_t i = 0; i < n; i++) {
        const char *name;
        if (rows[i].parent == folder->kind && !tree_fixed_name(&rows[i], &name))
            return &rows[i];
    }
    return NULL;
}

int node_listing(const Entry *e, const Row *folder, JsonVal **out)
{
    UserRef u;
    Ids ids;
    int rc = store_user_ids(e->tp.user, &u, &ids);
    if (rc == 0)
        rc = store_list(folder, &ids, NULL, u.key, out);
    user_ref_drop(&u);
    return rc;
}

static int folder_list(const Entry *e, NodeAdd add, void *ctx)
{
    JsonVal *list;
    int rc = node_listing(e, e->tp.row, &list);
    if (rc)
        return rc;
    const Row *child = child_row(e->tp.row);
    size_t dl = strlen(e->path);
    size_t i;
    json_t *item;
    json_array_foreach(list->json, i, item)
    {
        char *id = id_text(item);
        char *name = id ? xasprintf("%s.json", id) : NULL;
        /* Only names that lead back here are listed: an id that is no
         * number ("-1", "..", one with a '/') is left out. */
        if (name && !tree_name_fits(child, name)) {
            if (store_first_time(name))
                log_warn("%s: left out an entry whose id cannot be a file name: %s", e->path, name);
            free(name);
            name = NULL;
        }
        char *path = name ? xasprintf("%.*s/%s", (int)dl, e->path, name) : NULL;
        bool full = path && !store_is_absent(path) && add(ctx, name, false);
        free(path);
        free(name);
        free(id);
        if (full)
            break;
    }
    cacheval_unref(&list->base);
    return 0;
}

const KindOps node_folder_ops = {.getattr = user_getattr, .list = folder_list};

/* ---- JSON objects ------------------------------------------------------------ */

/* user.json, settings.json: keyed by the user. */
static int object_json(const Entry *e, JsonFile **out)
{
    UserRef u;
    Ids ids;
    int rc = store_user_ids(e->tp.user, &u, &ids);
    if (rc == 0)
        rc = store_object(e->tp.row, &ids, u.key, e->path, out);
    user_ref_drop(&u);
    return rc;
}

static void object_forget(const Entry *e)
{
    UserRef u;
    if (store_user(e->tp.user, &u) == 0)
        store_drop_row(e->tp.row, u.key);
    else
        store_drop_row(store_row(NODE_USERS), NULL);
    user_ref_drop(&u);
}

const KindOps node_object_ops = {.json = object_json, .forget = object_forget};

static bool listing_has(const JsonVal *list, const char *field, const char *id)
{
    size_t i;
    json_t *item;
    json_array_foreach(list->json, i, item)
    {
        char *text = node_id_text(item, field);
        bool same = text && strcmp(text, id) == 0;
        free(text);
        if (same)
            return true;
    }
    return false;
}

/* ---- fetching a listing's objects ahead of the reader ------------------------ */

/* `ls -l`, rsync and find -size stat every object of a folder, one after
 * another; each needs a GET (its exact size). Once a reader has asked for a
 * few of them, the rest are fetched N at a time, in listing order, the order
 * the reader goes in; a stat that meets one under way waits for it (store's
 * single flight), so the request count stays one GET per object. */
#define AHEAD_AFTER_MISSES 3

typedef struct {
    JsonVal *list;
    const Row *row;
    char *dir;    /* the folder's path */
    char *field;  /* the items' id field */
    char *series; /* occurrences: the meeting they are of; else NULL */
} Ahead;

/* The ids of the object id of a listing (an occurrence's: of series), and
 * the value of its cache key (malloc'd): an occurrence id is unique only
 * within its meeting. */
static char *object_ids(const char *series, const char *id, Ids *ids)
{
    *ids = series ? (Ids){.object = series, .sub = id} : (Ids){.object = id};
    return series ? xasprintf("%s/%s", series, id) : xstrdup(id);
}

static void ahead_run(void *arg, size_t i)
{
    Ahead *a = arg;
    char *id = node_id_text(json_array_get(a->list->json, i), a->field);
    char *name = id ? xasprintf("%s.json", id) : NULL;
    Ids ids;
    char *value = id ? object_ids(a->series, id, &ids) : NULL;
    char *key = id ? store_key(a->row, value, NULL) : NULL;
    if (name && tree_name_fits(a->row, name) && !store_has(key)) {
        char *path = xasprintf("%s/%s", a->dir, name);
        JsonFile *f;
        if (store_object(a->row, &ids, value, path, &f) == 0) {
            cacheval_unref(&f->base);
            stats_add(STAT_PREFETCHED, 1);
        }
        free(path);
    }
    free(key);
    free(value);
    free(name);
    free(id);
}

static void ahead_done(void *arg)
{
    Ahead *a = arg;
    cacheval_unref(&a->list->base);
    free(a->dir);
    free(a->field);
    free(a->series);
    free(a);
}

static void fetch_ahead(const Entry *e, JsonVal *list, const char *field, const char *series)
{
    Ahead *a = xcalloc(1, sizeof(*a));
    a->list = (JsonVal *)cacheval_ref(&list->base);
    a->row = e->tp.row;
    a->dir = xstrndup(e->path, (size_t)(strrchr(e->path, '/') - e->path));
    a->field = xstrdup(field);
    a->series = series ? xstrdup(series) : NULL;
    prefetch_batch(json_array_size(list->json), ahead_run, a, ahead_done);
}

int node_listed_object(const Entry *e, JsonVal *list, const char *field, const char *series,
                       JsonFile **out)
{
    const char *id = series ? e->tp.sub : e->tp.id;
    if (!listing_has(list, field, id))
        return -ENOENT;
    Ids ids;
    char *value = object_ids(series, id, &ids);
    char *key = store_key(e->tp.row, value, NULL);
    if (!store_has(key) &&
        __atomic_add_fetch(&list->misses, 1, __ATOMIC_RELAXED) == AHEAD_AFTER_MISSES)
        fetch_ahead(e, list, field, series);
    int rc = store_object(e->tp.row, &ids, value, e->path, out);
    free(key);
    free(value);
    return rc;
}

/* meetings/<id>.json: an object of its folder's listing, keyed by its id. */
static int listed_json(const Entry *e, JsonFile **out)
{
    JsonVal *list;
    int rc = node_listing(e, e->tp.parent, &list);
    if (rc == 0) {
        rc = node_listed_object(e, list, "id", NULL, out);
        cacheval_unref(&list->base);
    }
    return rc;
}

const Row *node_folder_row(const Row *row)
{
    while (row && row->ops != &node_folder_ops)
        row = row->kind == NODE_ROOT ? NULL : store_row(row->parent);
    return row;
}

const Row *node_row_near(const Row *near, const KindOps *ops)
{
    const Row *folder = node_folder_row(near);
    size_t n;
    const Row *rows = store_rows(&n);
    for (size_t i = 0; i < n; i++)
        if (rows[i].ops == ops && node_folder_row(&rows[i]) == folder)
            return &rows[i];
    return NULL;
}

int node_series(const Entry *e, const char *id, JsonFile **out)
{
    const Row *folder = node_folder_row(e->tp.row);
    const Row *child = folder ? child_row(folder) : NULL;
    const char *name;
    if (!child || !tree_fixed_name(folder, &name))
        return -ENOENT;
    Entry series = {.path = xasprintf("/users/%s/%s/%s.json", e->tp.user, name, id)};
    int rc = store_parse(series.path, &series.tp);
    if (rc == 0)
        rc = series.tp.row == child ? listed_json(&series, out) : -ENOENT;
    free((char *)series.path);
    return rc;
}

static void listed_forget(const Entry *e)
{
    UserRef u;
    if (store_user(e->tp.user, &u) == 0)
        store_drop_row(e->tp.parent, u.key);
    user_ref_drop(&u);
    if (e->tp.id[0]) {
        store_drop_row(e->tp.row, e->tp.id);
        /* What hangs off the meeting (its occurrences show the series). */
        size_t n;
        const Row *rows = store_rows(&n), *folder = node_folder_row(e->tp.row);
        for (size_t i = 0; i < n; i++)
            if (rows[i].ops->forget_series && node_folder_row(&rows[i]) == folder)
                rows[i].ops->forget_series(e);
    }
}

static int listed_remove(const Entry *e)
{
    Ids ids = {.object = e->tp.id};
    int rc = store_send(e->tp.row->del, &ids, NULL, NULL, NULL);
    if (rc == 0 || rc == -ENOENT)
        listed_forget(e);
    return rc;
}

/* user.zoom.* of a meeting or webinar file. */
static int listed_xattrs(const Entry *e, json_t **out)
{
    JsonFile *f;
    int rc = listed_json(e, &f);
    if (rc)
        return rc;
    json_t *doc = json_file_value(f);
    cacheval_unref(&f->base);
    *out = store_meeting_xattrs(doc);
    json_decref(doc);
    return 0;
}

const KindOps node_listed_ops = {
    .json = listed_json, .remove = listed_remove, .forget = listed_forget, .xattrs = listed_xattrs};

/* ---- changes ---------------------------------------------------------------- */

/* Fields Zoom returns that its spec does not document, and that no change
 * takes (the generated lists cannot know them). */
static const char *const undocumented_readonly[] = {"user_created_at", "display_name",
                                                    "pstn_password", "registration_url", NULL};

/* Appends to bad the dotted paths of changes that only (a PATCH's allowed
 * fields) does not name. */
static void not_allowed(const json_t *changes, const char *prefix, const char *const *only,
                        StrBuf *bad)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)changes, key, value)
    {
        char *path = xasprintf("%s%s", prefix, key);
        size_t n = strlen(path);
        bool whole = false, inside = false;
        for (size_t i = 0; only[i]; i++) {
            whole = whole || strcmp(only[i], path) == 0;
            inside = inside || (strncmp(only[i], path, n) == 0 && only[i][n] == '.');
        }
        if (!whole && inside && json_is_object(value)) {
            char *deeper = xasprintf("%s.", path);
            not_allowed(value, deeper, only, bad);
            free(deeper);
        } else if (!whole) {
            strbuf_appendf(bad, "%s%s", bad->len ? ", " : "", path);
        }
        free(path);
    }
}

/* A change the row's PATCH cannot carry: refused whole, with the fields
 * named, rather than sent in part. */
static int refuse_fields(const Entry *e, const json_t *changes)
{
    const char *const *only = e->tp.row->patch_only;
    StrBuf bad;
    strbuf_init(&bad);
    if (only)
        not_allowed(changes, "", only, &bad);
    int rc = 0;
    if (bad.len) {
        StrBuf allowed;
        strbuf_init(&allowed);
        for (size_t i = 0; only[i]; i++)
            strbuf_appendf(&allowed, "%s%s", i ? ", " : "", only[i]);
        stats_error("%s: not saved, nothing sent: %s cannot change here (Zoom takes only %s)",
                    e->path, bad.data, allowed.data);
        strbuf_free(&allowed);
        rc = -EINVAL;
    }
    strbuf_free(&bad);
    return rc;
}

int node_patch(const Entry *e, const json_t *original, const json_t *edited, json_t **fresh)
{
    const Row *row = e->tp.row;
    if (!row->patch) {
        stats_error("%s: not saved, nothing sent: Zoom takes no change to it", e->path);
        return -EACCES;
    }
    json_t *changes = jsonfile_diff(original, edited, row->readonly_patch);
    jsonfile_drop(changes, undocumented_readonly);
    if (json_object_size(changes) == 0) {
        log_debug("%s: saved with no change; nothing sent", e->path);
        json_decref(changes);
        *fresh = json_incref((json_t *)original);
        return 0;
    }
    int rc = refuse_fields(e, changes);
    if (rc) {
        json_decref(changes);
        return rc;
    }
    UserRef u;
    Ids ids;
    rc = store_user_ids(e->tp.user, &u, &ids);
    if (rc == 0) {
        ids.object = e->tp.id[0] ? e->tp.id : NULL;
        ids.sub = e->tp.sub[0] ? e->tp.sub : NULL;
        rc = store_send(row->patch, &ids, NULL, changes, NULL);
    }
    user_ref_drop(&u);
    json_decref(changes);
    /* Success or refusal, the next read shows what Zoom holds. */
    row->ops->forget(e);
    if (rc) {
        if (rc == -EINVAL)
            log_error("%s: Zoom refused the change; see .zoomfs/errors", e->path);
        return rc;
    }
    JsonFile *f;
    if (row->ops->json(e, &f) == 0) {
        *fresh = json_file_value(f);
        cacheval_unref(&f->base);
    } else {
        *fresh = json_incref((json_t *)edited);
    }
    return 0;
}

int node_post(const Entry *folder, const Row *child, const json_t *edited, char **new_id,
              json_t **created)
{
    *new_id = NULL;
    *created = NULL;
    UserRef u;
    Ids ids;
    int rc = store_user_ids(folder->tp.user, &u, &ids);
    if (rc) {
        user_ref_drop(&u);
        return rc;
    }
    /* A folder of one meeting's objects (its registrants) is keyed by the
     * meeting, a user's folder by the user. */
    ids.object = folder->tp.id[0] ? folder->tp.id : NULL;
    json_t *body = json_deep_copy(edited);
    jsonfile_drop(body, child->readonly_post);
    jsonfile_drop(body, undocumented_readonly);
    rc = store_send(child->post, &ids, NULL, body, created);
    json_decref(body);
    store_drop_row(folder->tp.row, ids.object ? ids.object : u.key);
    user_ref_drop(&u);
    if (rc == 0 && !(*new_id = node_id_text(*created, child->post_id ? child->post_id : "id"))) {
        stats_error("%s: created, but Zoom's answer has no id", folder->path);
        rc = -EIO;
    }
    if (rc) {
        json_decref(*created);
        *created = NULL;
    }
    return rc;
}
