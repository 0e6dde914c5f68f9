/* strmap: a map from strings to pointers with no bound and no expiry, for
 * what must not be evicted (paths removed without a request, recording.json
 * files kept as they were). Thread-safe; values are the caller's. */
#ifndef ZOOMFS_STRMAP_H
#define ZOOMFS_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct StrMap StrMap;

StrMap *strmap_new(void (*free_value)(void *));
void strmap_free(StrMap *m);

/* Puts value under key, replacing (and freeing) any value there. Returns
 * whether the key was new. */
bool strmap_put(StrMap *m, const char *key, void *value);
/* The value under key, or NULL; with ref (may be NULL) called on it under
 * the map's lock, so it can take a reference before anyone replaces it. */
void *strmap_get(StrMap *m, const char *key, void *(*ref)(void *));
bool strmap_has(StrMap *m, const char *key);
void strmap_remove(StrMap *m, const char *key);
/* Removes (and frees) every entry. */
void strmap_clear(StrMap *m);
size_t strmap_count(StrMap *m);

#endif
