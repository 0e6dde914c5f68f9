/* store: what zoomfs knows of Zoom, one floor below node and recordings.
 * It owns the object cache (keys are built from rows, never spelled as
 * format strings), the lookup of a user by email, JSON files as shown
 * (rendering, mtime from the ledger), attributes, the sets of paths removed
 * without a request (hidden) and of recording.json files kept as they were
 * (frozen) — sets that no cache bound can evict — and the entries Zoom said
 * are not there (absent, for the TTL). Invalidation follows the rows. */
#ifndef ZOOMFS_STORE_H
#define ZOOMFS_STORE_H

#include "zoomfs/cache.h"
#include "zoomfs/client.h"
#include "zoomfs/config.h"
#include "zoomfs/endpoint.h"
#include "zoomfs/tree.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* Adds one name to a listing; returns non-zero when the listing is full. */
typedef int (*NodeAddName)(void *ctx, const char *name, bool is_dir);

void store_init(const ZoomClient *client, const StoreConfig *cfg, const Row *rows, size_t nrows);
void store_cleanup(void);
const ZoomClient *store_client(void);
const StoreConfig *store_config(void);

/* The table of rows given at start-up: a kind's row, all of them, and a
 * path parsed against them. */
const Row *store_row(NodeKind kind);
const Row *store_rows(size_t *n);
int store_parse(const char *path, TreePath *tp);
int64_t store_mount_time(void);

/* ---- cached values ---------------------------------------------------- */

/* A cache key made of a row and up to two values: the only way keys are
 * made, so that invalidation can follow the rows. Malloc'd. */
char *store_key(const Row *row, const char *a, const char *b);

CacheVal *store_get(const char *key);
/* Copies field of obj into xattrs under name, as text: a string as it is
 * (the full topic, not the file name made of it), a number in decimal;
 * anything else, or nothing, is left out. */
void store_xattr(json_t *xattrs, const char *name, const json_t *obj, const char *field);
/* The user.zoom.* names a meeting, a webinar or a recorded instance has:
 * id and meeting_id, uuid, topic, host_email, start_time, share_url. */
json_t *store_meeting_xattrs(const json_t *meeting);

/* One request to Zoom: route (a row's template) for ids, with query (may be
 * NULL) and body (may be NULL); *out (when not NULL) gets Zoom's answer.
 * -ENOENT when ids lack a value the route needs. */
int store_send(const char *route, const Ids *ids, const char *query, json_t *body, json_t **out);

/* Whether key holds a value, without counting a hit or a miss. */
bool store_has(const char *key);
void store_put(const char *key, CacheVal *v, int64_t ttl_ms);
void store_drop(const char *key);
/* Drops the keys of a row (all of them, or those of value a). */
void store_drop_row(const Row *row, const char *a);
int64_t store_dir_ttl_ms(void);
int64_t store_attr_ttl_ms(void);

/* A cached JSON value (a listing). */
typedef struct {
    CacheVal base;
    json_t *json;
    int misses; /* its objects fetched one at a time since it came (atomic):
                   a reader is going through them (node.c fetches ahead) */
} JsonVal;
JsonVal *json_val_new(json_t *json); /* takes json */
/* Roughly the memory a JSON value takes, for the cache's byte bound. */
size_t json_cost(const json_t *json);

/* A JSON file as shown: its rendering and its mtime. Only the text is kept
 * (a parsed tree takes many times its size); json_file_value parses it
 * again where the object is needed (a save, a check). */
typedef struct {
    CacheVal base;
    char *text;
    size_t len;
    int64_t mtime;
} JsonFile;
/* Takes json; the mtime comes from the ledger under path. */
JsonFile *json_file_new(const char *path, json_t *json);
/* The object f shows, a new reference. */
json_t *json_file_value(const JsonFile *f);

/* ---- reading through the cache ------------------------------------------ */

/* The listing of a row's list endpoint for ids (all pages), cached for
 * dir_ttl under the row and key_value. */
int store_list(const Row *row, const Ids *ids, const char *query, const char *key_value,
               JsonVal **out);

/* The object of a row's get endpoint, as a JSON file shown at path, cached
 * for attr_ttl under the row and key_value. A 404 marks path absent: it
 * answers -ENOENT without a request for dir_ttl or until a refresh. */
int store_object(const Row *row, const Ids *ids, const char *key_value, const char *path,
                 JsonFile **out);

/* Makes what a key holds (0, or -errno: then *out is not used). */
typedef int (*StoreFetch)(void *ctx, CacheVal **out);

/* What key holds, else made by fetch and kept for ttl_ms; whoever asks
 * for the same key meanwhile waits for that fetch (single flight) instead
 * of sending the same request. Takes key. */
int store_once(char *key, int64_t ttl_ms, StoreFetch fetch, void *ctx, CacheVal **out);

/* ---- users ---------------------------------------------------------------- */

/* Every user of the account (active, inactive and pending) and the names
 * of their folders (naming_users), with an index by name. */
typedef struct Users Users;

typedef struct {
    Users *list;     /* the users listing holding it (a reference) */
    const char *key; /* for URLs: id, or the email of a pending user */
    bool has_id;     /* false for pending invitations */
    int64_t created; /* created_at, epoch seconds, -1 when unknown */
} UserRef;

int store_users(Users **out);
void store_users_drop(Users *users);
/* Calls add() with each user folder's name, in byte order. */
void store_users_each(const Users *users, NodeAddName add, void *ctx);
/* The users by position in that order: how many, the folder name of the
 * i-th, the position of a folder name (SIZE_MAX: no such user). */
size_t store_users_count(const Users *users);
const char *store_users_name(const Users *users, size_t i);
size_t store_users_index(const Users *users, const char *name);
/* The user whose folder is name (their email, made safe and unique). */
int store_user(const char *name, UserRef *u);
void user_ref_drop(UserRef *u);
/* A folder that belongs to a user: dated from their created_at. */
int store_user_dir(const char *name, struct stat *st);
/* The Ids of a path's user (ids->user points into u). */
int store_user_ids(const char *name, UserRef *u, Ids *ids);

/* ---- paths removed or kept without a request ------------------------------ */

void store_hide(const char *path);
bool store_hidden(const char *path);
/* Keeps f (a reference is taken) as what path shows from now on. */
void store_freeze(const char *path, JsonFile *f);
JsonFile *store_frozen(const char *path); /* a reference, or NULL */

/* Zoom said path is not there: leave it out of listings for the TTL. The
 * first time is logged. */
void store_absent(const char *path, const char *why);
bool store_is_absent(const char *path);

/* True the first time it is asked about what (for warnings given once per
 * mount, not on every listing). */
bool store_first_time(const char *what);

/* ---- attributes ------------------------------------------------------------ */

void store_fill_dir(struct stat *st, int64_t mtime);
void store_fill_file(struct stat *st, int64_t size, int64_t mtime, mode_t perm);
/* A recording file: as store_fill_file, with a 1 MiB st_blksize. */
void store_fill_media(struct stat *st, int64_t size, int64_t mtime, mode_t perm);

/* ---- everything ------------------------------------------------------------ */

/* Forgets every cached listing and object, and every 404 (a refresh). */
void store_forget_all(void);

#endif
