/* cache: bounded maps with time-to-live for what zoomfs learnt from Zoom
 * (listings, objects, sizes). Values are reference counted so a reader keeps
 * its copy even when a writer replaces or drops the entry. Thread-safe. */
#ifndef ZOOMFS_CACHE_H
#define ZOOMFS_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct CacheVal CacheVal;
struct CacheVal {
    int refs;
    size_t cost;                  /* bytes it holds, roughly: counts against the bound */
    void (*destroy)(CacheVal *v); /* frees the whole value */
};

CacheVal *cacheval_ref(CacheVal *v);
void cacheval_unref(CacheVal *v);

typedef struct Cache Cache;

/* A cache that holds at most max_entries values and max_bytes of their
 * cost; past either bound the least recently used entries go. */
Cache *cache_new(size_t max_entries, size_t max_bytes);
void cache_free(Cache *c);

/* The live value for key with a new reference, or NULL (missing or
 * expired). Counts a hit or a miss in stats. */
CacheVal *cache_get(Cache *c, const char *key);
/* Stores v (the cache takes its own reference) for ttl_ms milliseconds. */
void cache_put(Cache *c, const char *key, CacheVal *v, int64_t ttl_ms);
void cache_drop(Cache *c, const char *key);
/* Drops every key that starts with prefix. */
void cache_drop_prefix(Cache *c, const char *prefix);
size_t cache_count(Cache *c);
size_t cache_bytes(Cache *c);

#endif
