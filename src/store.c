/* store: the object cache, users, JSON files, attributes, and the sets no
 * bound evicts. */
#include "zoomfs/store.h"

#include "zoomfs/jsonfile.h"
#include "zoomfs/ledger.h"
#include "zoomfs/log.h"
#include "zoomfs/naming.h"
#include "zoomfs/op.h"
#include "zoomfs/stats.h"
#include "zoomfs/strmap.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What is kept of Zoom: an LRU for the working set of a walk (an object is
 * looked up, stat'ed and read within moments), not a copy of the account;
 * with it the whole daemon stays well under 64 MiB at any account size. */
#define CACHE_ENTRIES 20000
#define CACHE_BYTES   (24u << 20)
#define KEY_SEP       '\x1f' /* no path or id holds it */

static const ZoomClient *client;
static StoreConfig conf;
static const Row *table, *users_row;
static size_t ntable;
static Cache *cache;
static StrMap *hidden, *frozen, *absent, *noted;
static int64_t mount_time;

static void unref_json_file(void *v)
{
    cacheval_unref(v);
}

static int64_t cache_entries_now(void)
{
    return cache ? (int64_t)cache_count(cache) : 0;
}

static int64_t cache_bytes_now(void)
{
    return cache ? (int64_t)cache_bytes(cache) : 0;
}

void store_init(const ZoomClient *c, const StoreConfig *cfg, const Row *rows, size_t nrows)
{
    client = c;
    conf = *cfg;
    table = rows;
    ntable = nrows;
    users_row = tree_row(rows, nrows, NODE_USERS);
    size_t bytes = conf.cache_mb > 0 ? (size_t)conf.cache_mb << 20 : CACHE_BYTES;
    cache = cache_new(CACHE_ENTRIES * (bytes > CACHE_BYTES ? bytes / CACHE_BYTES : 1), bytes);
    hidden = strmap_new(NULL);
    frozen = strmap_new(unref_json_file);
    absent = strmap_new(free);
    noted = strmap_new(NULL);
    mount_time = wall_seconds();
    stats_gauge("cache_entries", cache_entries_now);
    stats_gauge("cache_bytes", cache_bytes_now);
}

void store_cleanup(void)
{
    cache_free(cache);
    strmap_free(hidden);
    strmap_free(frozen);
    strmap_free(absent);
    strmap_free(noted);
    cache = NULL;
    hidden = frozen = absent = noted = NULL;
}

const ZoomClient *store_client(void)
{
    return client;
}

const StoreConfig *store_config(void)
{
    return &conf;
}

const Row *store_row(NodeKind kind)
{
    return tree_row(table, ntable, kind);
}

const Row *store_rows(size_t *n)
{
    *n = ntable;
    return table;
}

int store_parse(const char *path, TreePath *tp)
{
    return tree_parse(table, ntable, path, tp);
}

int64_t store_mount_time(void)
{
    return mount_time;
}

int64_t store_dir_ttl_ms(void)
{
    return (int64_t)conf.dir_ttl * 1000;
}

int64_t store_attr_ttl_ms(void)
{
    return (int64_t)conf.attr_ttl * 1000;
}

/* ---- keys and values -------------------------------------------------- */

char *store_key(const Row *row, const char *a, const char *b)
{
    return xasprintf("%s%c%s%c%s", row->pattern, KEY_SEP, a ? a : "", KEY_SEP, b ? b : "");
}

/* The kind whose row made key, for the per-kind counts in .zoomfs/stats. */
static const char *kind_of_key(const char *key)
{
    size_t n = strcspn(key, (char[]){KEY_SEP, 0});
    for (size_t i = 0; i < ntable; i++)
        if (strlen(table[i].pattern) == n && strncmp(table[i].pattern, key, n) == 0)
            return tree_kind_name(table[i].kind);
    return "other";
}

CacheVal *store_get(const char *key)
{
    CacheVal *v = cache_get(cache, key);
    stats_cache(kind_of_key(key), v != NULL);
    return v;
}

void store_xattr(json_t *xattrs, const char *name, const json_t *obj, const char *field)
{
    const json_t *v = json_object_get(obj, field);
    if (json_is_string(v))
        json_object_set_new(xattrs, name,
                            json_stringn(json_string_value(v), json_string_length(v)));
    else if (json_is_integer(v)) {
        char *text = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
        json_object_set_new(xattrs, name, json_string(text));
        free(text);
    }
}

json_t *store_meeting_xattrs(const json_t *meeting)
{
    static const char *const names[][2] = {{"id", "id"},
                                           {"meeting_id", "id"},
                                           {"uuid", "uuid"},
                                           {"topic", "topic"},
                                           {"host_email", "host_email"},
                                           {"start_time", "start_time"},
                                           {"share_url", "share_url"}};
    json_t *x = json_object();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        store_xattr(x, names[i][0], meeting, names[i][1]);
    return x;
}

int store_send(const char *route, const Ids *ids, const char *query, json_t *body, json_t **out)
{
    char *path = endpoint_path(route, ids, query);
    int rc = path ? client->send(route, path, body, out) : -ENOENT;
    free(path);
    return rc;
}

bool store_has(const char *key)
{
    CacheVal *v = cache_get(cache, key);
    if (v)
        cacheval_unref(v);
    return v != NULL;
}

void store_put(const char *key, CacheVal *v, int64_t ttl_ms)
{
    cache_put(cache, key, v, ttl_ms);
}

void store_drop(const char *key)
{
    cache_drop(cache, key);
}

void store_drop_row(const Row *row, const char *a)
{
    char *prefix = a ? xasprintf("%s%c%s%c", row->pattern, KEY_SEP, a, KEY_SEP)
                     : xasprintf("%s%c", row->pattern, KEY_SEP);
    cache_drop_prefix(cache, prefix);
    free(prefix);
}

void store_forget_all(void)
{
    cache_drop_prefix(cache, "");
    strmap_clear(absent); /* what answered 404 is asked again too */
}

size_t json_cost(const json_t *json)
{
    /* What jansson allocates, about: a node each, a hashtable entry and key
     * per member, the slots of an array, a string's bytes. */
    size_t cost = 48;
    const char *key;
    json_t *v;
    size_t i;
    if (json_is_object(json)) {
        json_object_foreach((json_t *)json, key, v) cost += 64 + strlen(key) + json_cost(v);
    } else if (json_is_array(json)) {
        json_array_foreach(json, i, v) cost += 8 + json_cost(v);
    } else if (json_is_string(json)) {
        cost += json_string_length(json) + 1;
    }
    return cost;
}

static void json_val_destroy(CacheVal *v)
{
    json_decref(((JsonVal *)v)->json);
    free(v);
}

JsonVal *json_val_new(json_t *json)
{
    JsonVal *v = xcalloc(1, sizeof(*v));
    v->base.refs = 1;
    v->base.destroy = json_val_destroy;
    v->base.cost = json_cost(json);
    v->json = json;
    return v;
}

static void json_file_destroy(CacheVal *v)
{
    JsonFile *f = (JsonFile *)v;
    free(f->text);
    free(f);
}

json_t *json_file_value(const JsonFile *f)
{
    return json_loadb(f->text, f->len, JSON_ALLOW_NUL, NULL);
}

/* Fields Zoom hands out fresh on every GET (start_url carries a new host
 * token each time; a pending user's created_at is the time of the call):
 * they do not make the object new, so they do not move its mtime, which
 * would make every nightly rsync copy it again. */
static const char *const volatile_fields[] = {"start_url", "created_at", NULL};

JsonFile *json_file_new(const char *path, json_t *json)
{
    JsonFile *f = xcalloc(1, sizeof(*f));
    f->base.refs = 1;
    f->base.destroy = json_file_destroy;
    f->text = jsonfile_render(json, &f->len);
    f->base.cost = f->len + sizeof(*f) + 64;
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
    json_decref(json);
    return f;
}

/* ---- reading through the cache ---------------------------------------- */

/* The row's list endpoint (every page) or its get endpoint, for ids. */
static int fetch(const Row *row, bool list, const Ids *ids, const char *query, json_t **out)
{
    const char *route = list ? row->list : row->get;
    char *path = endpoint_path(route, ids, query);
    int rc = !path  ? -ENOENT
             : list ? client->list(route, path, row->list_key, row->list_fields, out)
                    : client->get(route, path, out);
    free(path);
    return rc;
}

/* A fetch under way: whoever asks for the same key meanwhile waits for it
 * instead of sending the same GET (a prefetch worker and a stat, two
 * readers of one folder). */
typedef struct Flight {
    char *key;
    bool done;
    int rc, refs;
    CacheVal *val;
    struct Flight *next;
} Flight;

static pthread_mutex_t flights_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t flight_landed = PTHREAD_COND_INITIALIZER;
static Flight *flights;

/* Called with flights_lock held. */
static void flight_unref(Flight *f)
{
    if (--f->refs > 0)
        return;
    if (f->val)
        cacheval_unref(f->val);
    free(f->key);
    free(f);
}

/* Waits for the fetch of f; returns its result or why the wait ended
 * (Ctrl-C, the deadline, the unmount). Called with flights_lock held. */
static int flight_wait(Flight *f, CacheVal **out)
{
    int rc = 0;
    while (!f->done && (rc = op_check()) == 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&flight_landed, &flights_lock, &until);
    }
    if (f->done) {
        rc = f->rc;
        *out = f->val ? cacheval_ref(f->val) : NULL;
        /* The fetcher's own operation ended (its reader pressed Ctrl-C, a
         * prefetch met its deadline); ours goes on: fetch it ourselves. */
        if ((rc == -EINTR || rc == -ETIMEDOUT) && op_check() == 0)
            rc = 1;
    }
    flight_unref(f);
    return rc;
}

/* What key holds, else made by fetch (once, however many ask at the same
 * time) and kept for ttl_ms. Takes key. */
int store_once(char *key, int64_t ttl_ms, StoreFetch fetch, void *ctx, CacheVal **out)
{
    for (;;) {
        if ((*out = store_get(key))) {
            free(key);
            return 0;
        }
        pthread_mutex_lock(&flights_lock);
        Flight *f = flights;
        while (f && strcmp(f->key, key) != 0)
            f = f->next;
        if (!f)
            break;
        f->refs++;
        int rc = flight_wait(f, out);
        pthread_mutex_unlock(&flights_lock);
        if (rc != 1) {
            free(key);
            return rc;
        }
    }
    Flight *mine = xcalloc(1, sizeof(*mine));
    *mine = (Flight){.key = key, .refs = 1, .next = flights};
    flights = mine;
    pthread_mutex_unlock(&flights_lock);

    int rc = fetch(ctx, out);
    if (rc == 0)
        store_put(key, *out, ttl_ms);
    else
        *out = NULL;

    pthread_mutex_lock(&flights_lock);
    for (Flight **p = &flights; *p; p = &(*p)->next) {
        if (*p == mine) {
            *p = mine->next;
            break;
        }
    }
    mine->done = true;
    mine->rc = rc;
    mine->val = *out ? cacheval_ref(*out) : NULL;
    pthread_cond_broadcast(&flight_landed);
    flight_unref(mine);
    pthread_mutex_unlock(&flights_lock);
    return rc;
}

/* A fetch of a row's list or get endpoint. */
typedef struct {
    const Row *row;
    bool list;
    const Ids *ids;
    const char *query, *path;
} RowFetch;

static int fetch_row(void *ctx, CacheVal **out)
{
    RowFetch *r = ctx;
    json_t *json = NULL;
    int rc = fetch(r->row, r->list, r->ids, r->query, &json);
    if (rc == 0)
        *out = r->list ? &json_val_new(json)->base : &json_file_new(r->path, json)->base;
    return rc;
}

/* What key holds, else fetched through the client and kept: a listing for
 * dir_ttl, an object (a JSON file shown at path) for attr_ttl. Takes key. */
static int cached(char *key, const Row *row, bool list, const Ids *ids, const char *query,
                  const char *path, CacheVal **out)
{
    RowFetch r = {row, list, ids, query, path};
    return store_once(key, list ? store_dir_ttl_ms() : store_attr_ttl_ms(), fetch_row, &r, out);
}

int store_list(const Row *row, const Ids *ids, const char *query, const char *key_value,
               JsonVal **out)
{
    return cached(store_key(row, key_value, query), row, true, ids, query, NULL, (CacheVal **)out);
}

int store_object(const Row *row, const Ids *ids, const char *key_value, const char *path,
                 JsonFile **out)
{
    /* A listing cached before Zoom lost the object still names it: one
     * 404 per dir_ttl, whoever asks (a stat, the prefetch). */
    if (store_is_absent(path))
        return -ENOENT;
    int rc = cached(store_key(row, key_value, NULL), row, false, ids, NULL, path, (CacheVal **)out);
    if (rc == -ENOENT)
        store_absent(path, row->get);
    return rc;
}

/* ---- users ---------------------------------------------------------------- */

/* What the mount needs of each user: their folder's name, the key for
 * URLs and created_at; the listing's JSON is not kept (10,000 users' JSON
 * trees would take tens of MiB). */
typedef struct {
    char *name;
    char *key;
    bool has_id;
    int64_t created;
} UserEntry;

struct Users {
    CacheVal base;
    UserEntry *users;
    size_t count;
    StrMap *by_name; /* folder name -> index + 1 */
};

static void users_destroy(CacheVal *v)
{
    Users *u = (Users *)v;
    for (size_t i = 0; i < u->count; i++) {
        free(u->users[i].name);
        free(u->users[i].key);
    }
    free(u->users);
    strmap_free(u->by_name);
    free(u);
}

static int by_folder_name(const void *a, const void *b)
{
    return strcmp(((const NamedItem *)a)->name, ((const NamedItem *)b)->name);
}

/* Takes users (the listing), keeps what it needs, frees the rest. Users are
 * kept in byte order of their folder names, the order rsync and find go
 * in, so that a walk across them can be followed (walk.c). */
static Users *users_new(json_t *users)
{
    Users *u = xcalloc(1, sizeof(*u));
    u->base.refs = 1;
    u->base.destroy = users_destroy;
    NamedItem *names = naming_users(users, &u->count);
    qsort(names, u->count, sizeof(*names), by_folder_name);
    u->users = xcalloc(u->count, sizeof(*u->users));
    u->by_name = strmap_new(NULL);
    for (size_t i = 0; i < u->count; i++) {
        json_t *user = names[i].item;
        const char *id = json_string_value(json_object_get(user, "id"));
        const char *created = json_string_value(json_object_get(user, "created_at"));
        UserEntry *e = &u->users[i];
        e->name = xstrdup(names[i].name);
        e->has_id = id && *id;
        e->key = xstrdup(e->has_id ? id : json_string_value(json_object_get(user, "email")));
        e->created = created ? naming_parse_time(created) : -1;
        strmap_put(u->by_name, e->name, (void *)(uintptr_t)(i + 1));
        u->base.cost += sizeof(*e) + strlen(e->name) + strlen(e->key) + 96;
    }
    free(names);
    json_decref(users);
    return u;
}

int store_users(Users **out)
{
    char *key = store_key(users_row, NULL, NULL);
    CacheVal *v = store_get(key);
    if (v) {
        free(key);
        *out = (Users *)v;
        return 0;
    }
    /* GET /users answers one status at a time; a user of any status is
     * still a user an admin wants to see. */
    static const char *const statuses[] = {"status=active", "status=inactive", "status=pending"};
    json_t *users = json_array();
    int rc = 0;
    size_t listed = 0;
    for (size_t i = 0; i < ARRAY_SIZE(statuses); i++) {
        json_t *part = NULL;
        Ids none = {0};
        int one = fetch(users_row, true, &none, statuses[i], &part);
        if (one == 0) {
            json_array_extend(users, part);
            listed++;
        } else {
            /* Show who did list; the failure is in the log and .zoomfs/errors. */
            rc = one;
        }
        json_decref(part);
    }
    if (listed > 0) {
        rc = 0;
        *out = users_new(users);
        store_put(key, &(*out)->base, store_dir_ttl_ms());
        /* The listing's JSON (tens of MiB for 10,000 users) is gone: give the
         * memory back, or a walk that follows starts from its high-water mark. */
        malloc_trim(0);
    } else {
        json_decref(users);
        *out = NULL;
    }
    free(key);
    return rc;
}

void store_users_drop(Users *users)
{
    if (users)
        cacheval_unref(&users->base);
}

void store_users_each(const Users *users, NodeAddName add, void *ctx)
{
    for (size_t i = 0; i < users->count; i++)
        if (add(ctx, users->users[i].name, true))
            break;
}

size_t store_users_count(const Users *users)
{
    return users->count;
}

const char *store_users_name(const Users *users, size_t i)
{
    return users->users[i].name;
}

size_t store_users_index(const Users *users, const char *name)
{
    return (size_t)(uintptr_t)strmap_get(users->by_name, name, NULL) - 1;
}

int store_user(const char *name, UserRef *u)
{
    memset(u, 0, sizeof(*u));
    int rc = store_users(&u->list);
    if (rc)
        return rc;
    size_t i = store_users_index(u->list, name);
    if (i == SIZE_MAX) {
        user_ref_drop(u);
        return -ENOENT;
    }
    const UserEntry *e = &u->list->users[i];
    u->has_id = e->has_id;
    u->key = e->key;
    u->created = e->created;
    return 0;
}

void user_ref_drop(UserRef *u)
{
    store_users_drop(u->list);
    memset(u, 0, sizeof(*u));
}

int store_user_dir(const char *email, struct stat *st)
{
    UserRef u;
    int rc = store_user(email, &u);
    if (rc == 0)
        store_fill_dir(st, u.created);
    user_ref_drop(&u);
    return rc;
}

int store_user_ids(const char *email, UserRef *u, Ids *ids)
{
    memset(ids, 0, sizeof(*ids));
    int rc = store_user(email, u);
    if (rc == 0)
        ids->user = u->key;
    return rc;
}

/* ---- sets ------------------------------------------------------------------ */

void store_hide(const char *path)
{
    strmap_put(hidden, path, NULL);
}

bool store_hidden(const char *path)
{
    return strmap_has(hidden, path);
}

static void *ref_json_file(void *v)
{
    return cacheval_ref(v);
}

void store_freeze(const char *path, JsonFile *f)
{
    strmap_put(frozen, path, cacheval_ref(&f->base));
}

JsonFile *store_frozen(const char *path)
{
    return strmap_get(frozen, path, ref_json_file);
}

void store_absent(const char *path, const char *why)
{
    int64_t *until = xmalloc(sizeof(*until));
    *until = now_ms() + store_dir_ttl_ms();
    if (strmap_put(absent, path, until))
        log_info("%s: not in Zoom (%s answered 404); left out of listings for %d s", path, why,
                 conf.dir_ttl);
}

static void *copy_deadline(void *v)
{
    int64_t *copy = xmalloc(sizeof(*copy));
    *copy = *(int64_t *)v;
    return copy;
}

bool store_is_absent(const char *path)
{
    int64_t *until = strmap_get(absent, path, copy_deadline);
    bool yes = until && *until > now_ms();
    free(until);
    return yes;
}

bool store_first_time(const char *what)
{
    return strmap_put(noted, what, NULL);
}

/* ---- attributes -------------------------------------------------------------- */

void store_fill_dir(struct stat *st, int64_t mtime)
{
    memset(st, 0, sizeof(*st));
    st->st_uid = conf.uid;
    st->st_gid = conf.gid;
    st->st_mode = S_IFDIR | (0777 & ~conf.umask);
    st->st_nlink = 2;
    st->st_mtime = st->st_ctime = st->st_atime = (time_t)(mtime > 0 ? mtime : mount_time);
}

void store_fill_file(struct stat *st, int64_t size, int64_t mtime, mode_t perm)
{
    memset(st, 0, sizeof(*st));
    st->st_uid = conf.uid;
    st->st_gid = conf.gid;
    if (conf.read_only)
        perm &= ~0222;
    st->st_mode = S_IFREG | (perm & ~conf.umask);
    st->st_nlink = 1;
    st->st_size = size;
    /* du reports the real size without reading anything. */
    st->st_blocks = size / 512 + (size % 512 != 0); /* no overflow at INT64_MAX */
    st->st_blksize = 128 * 1024;
    st->st_mtime = st->st_ctime = st->st_atime = (time_t)(mtime > 0 ? mtime : mount_time);
}

void store_fill_media(struct stat *st, int64_t size, int64_t mtime, mode_t perm)
{
    store_fill_file(st, size, mtime, perm);
    /* cat and cp read st_blksize at a time: a recording bypasses the page
     * cache, so each read is a round trip to zoomfs, and 1 MiB (the most
     * one FUSE request carries) makes eight times fewer of them. */
    st->st_blksize = 1024 * 1024;
}
