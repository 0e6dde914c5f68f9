/* node_shared: what node.c and recordings.c share — the cache, the lookup
 * of a user by email, JSON file values, attributes, and the paths unlinked
 * without a request. Private to the two; everything else uses node.h. */
#ifndef ZOOMFS_NODE_SHARED_H
#define ZOOMFS_NODE_SHARED_H

#include "zoomfs/cache.h"
#include "zoomfs/node.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

extern Cache *node_cache;
extern int64_t node_mount_time;

int64_t node_ttl_ms(int seconds);

/* Roughly the memory a JSON value takes, for the cache's byte bound. */
size_t node_json_cost(const json_t *json);

/* The user's key for URLs (id, or email when pending) and created_at. */
int node_user_key(const char *email, char *key, size_t keylen, int64_t *created);

/* A JSON file value: the rendering of json (which it takes) and its mtime
 * from the ledger. */
JsonFile *node_json_file_new(const char *path, json_t *json);

bool node_is_hidden(const char *path);

void node_fill_dir(struct stat *st, int64_t mtime);
void node_fill_file(struct stat *st, int64_t size, int64_t mtime, mode_t perm);

/* recordings.c: the recordings/ part of the tree. */
int recordings_getattr(const TreePath *tp, struct stat *st);
int recordings_readdir(const TreePath *tp, NodeAdd add, void *ctx);
int recordings_json(const char *path, const TreePath *tp, JsonFile **out);

#endif
