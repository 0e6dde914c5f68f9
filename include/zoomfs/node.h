/* node: what each kind of node of the tree is — its attributes, its
 * children, its content — fetched through api and kept in the cache.
 * Knows Zoom's objects and the naming rules; knows nothing of FUSE. */
#ifndef ZOOMFS_NODE_H
#define ZOOMFS_NODE_H

#include "zoomfs/cache.h"
#include "zoomfs/tree.h"

#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>

void node_init(void);
void node_cleanup(void);

/* A JSON file as shown: the object, its rendering and its mtime. */
typedef struct {
    CacheVal base;
    json_t *json;
    char *text;
    size_t len;
    int64_t mtime;
} JsonFile;

/* Attributes of the node at path tp. Returns 0 or -errno. */
int node_getattr(const char *path, const TreePath *tp, struct stat *st);

/* Lists a folder: add() is called for each child with its name (no "." or
 * ".."). Returns 0 or -errno. */
typedef int (*NodeAdd)(void *ctx, const char *name, bool is_dir);
int node_readdir(const TreePath *tp, NodeAdd add, void *ctx);

/* The content of a JSON node (user.json, settings.json, meetings, webinars,
 * recording.json); *out holds a reference the caller drops with
 * cacheval_unref(&(*out)->base). */
int node_json(const char *path, const TreePath *tp, JsonFile **out);

/* What a media file is: where to download it and its exact size. */
typedef struct {
    char *download_url;
    char *file_id;      /* NULL for files Zoom gives no id (CC, TIMELINE) */
    char *meeting_uuid; /* the instance */
    int64_t size;
    int64_t mtime;
} MediaInfo;
int node_media(const TreePath *tp, MediaInfo *out);
void media_info_free(MediaInfo *m);

/* A JSON node that Zoom lets you change: how to address it. The table in
 * node.c is the write half of the tree's mapping. */
typedef struct {
    NodeKind kind;
    const char *object_path;  /* format: takes the user key or the object id */
    const char *patch_route;  /* label for stats */
    const char *delete_route; /* NULL: cannot be removed */
    const char *create_path;  /* format taking the user key; NULL: no creation */
    const char *create_route;
    const char *const *readonly; /* fields Zoom does not take in a change */
} Resource;

/* The resource row for a kind, or NULL when the kind is read-only. */
const Resource *node_resource(NodeKind kind);

/* The value that goes into object_path (meeting id, or the user's key),
 * and the user's key for create_path. Returns 0 or -errno. */
int node_resource_id(const TreePath *tp, char *id, size_t idlen, char *user, size_t userlen);

/* Forgets what the cache knows about this node and the listing holding it. */
void node_invalidate(const TreePath *tp);

/* mkdir users/<email>: invites the user (POST /users, action create, a
 * Basic user, pending until they accept). Returns 0 or -errno. */
int node_create_user(const char *email);

/* DELETEs: a meeting or webinar; one recording file or a whole instance
 * (to the trash, or for good with -o recording_delete=delete). */
int node_delete_object(const TreePath *tp);
int node_delete_media(const TreePath *tp);
int node_delete_instance(const TreePath *tp);

/* unlink of recording.json: it is metadata of files that stay in Zoom, so
 * nothing is sent; it is hidden from this mount (rsync --remove-source-files
 * removes it after copying). */
void node_hide(const char *path);

/* Renders a .zoomfs/ file. Returns malloc'd text or NULL (-ENOENT). */
char *node_meta(const char *name, size_t *len);

#endif
