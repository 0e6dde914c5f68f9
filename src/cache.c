/* cache: a chained hash table with TTLs and an LRU bound. */
#include "zoomfs/cache.h"

#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct Entry {
    struct Entry *next;
    char *key;
    CacheVal *val;
    int64_t expires; /* now_ms() clock */
    uint64_t used;   /* LRU stamp */
} Entry;

struct Cache {
    pthread_mutex_t lock;
    Entry **buckets;
    size_t nbuckets;
    size_t count;
    size_t max;
    size_t bytes;
    size_t max_bytes;
    uint64_t clock;
};

CacheVal *cacheval_ref(CacheVal *v)
{
    if (v)
        __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
    return v;
}

void cacheval_unref(CacheVal *v)
{
    if (v && __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0)
        v->destroy(v);
}

Cache *cache_new(size_t max_entries, size_t max_bytes)
{
    Cache *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->max = max_entries ? max_entries : 1;
    c->max_bytes = max_bytes ? max_bytes : SIZE_MAX;
    c->nbuckets = 1;
    while (c->nbuckets < c->max)
        c->nbuckets <<= 1;
    c->buckets = xcalloc(c->nbuckets, sizeof(Entry *));
    return c;
}

static void entry_free(Entry *e)
{
    cacheval_unref(e->val);
    free(e->key);
    free(e);
}

void cache_free(Cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nbuckets; i++)
        for (Entry *e = c->buckets[i], *n; e; e = n) {
            n = e->next;
            entry_free(e);
        }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static Entry **find(Cache *c, const char *key)
{
    Entry **p = &c->buckets[hash_string(key) & (c->nbuckets - 1)];
    while (*p && strcmp((*p)->key, key) != 0)
        p = &(*p)->next;
    return p;
}

static void unlink_entry(Cache *c, Entry **p)
{
    Entry *e = *p;
    *p = e->next;
    c->count--;
    c->bytes -= e->val->cost;
    entry_free(e);
}

CacheVal *cache_get(Cache *c, const char *key)
{
    lock(&c->lock);
    Entry **p = find(c, key);
    CacheVal *v = NULL;
    if (*p && (*p)->expires > now_ms()) {
        (*p)->used = ++c->clock;
        v = cacheval_ref((*p)->val);
    } else if (*p) {
        unlink_entry(c, p);
    }
    unlock(&c->lock);
    stats_add(v ? STAT_CACHE_HITS : STAT_CACHE_MISSES, 1);
    return v;
}

/* Drops expired entries, then least recently used ones until one more entry
 * of `incoming` bytes fits. Called locked. */
static void make_room(Cache *c, size_t incoming)
{
    int64_t now = now_ms();
    for (size_t i = 0; i < c->nbuckets; i++)
        for (Entry **p = &c->buckets[i]; *p;) {
            if ((*p)->expires <= now)
                unlink_entry(c, p);
            else
                p = &(*p)->next;
        }
    while (c->count && (c->count >= c->max || c->bytes + incoming > c->max_bytes)) {
        Entry **victim = NULL;
        for (size_t i = 0; i < c->nbuckets; i++)
            for (Entry **p = &c->buckets[i]; *p; p = &(*p)->next)
                if (!victim || (*p)->used < (*victim)->used)
                    victim = p;
        if (!victim)
            break; /* count says otherwise: never, but do not loop */
        unlink_entry(c, victim);
    }
}

void cache_put(Cache *c, const char *key, CacheVal *v, int64_t ttl_ms)
{
    if (ttl_ms <= 0 || v->cost > c->max_bytes)
        return;
    lock(&c->lock);
    Entry **p = find(c, key);
    if (*p)
        unlink_entry(c, p);
    if (c->count >= c->max || c->bytes + v->cost > c->max_bytes)
        make_room(c, v->cost);
    p = find(c, key);
    Entry *e = xcalloc(1, sizeof(*e));
    e->key = xstrdup(key);
    e->val = cacheval_ref(v);
    e->expires = now_ms() + ttl_ms;
    e->used = ++c->clock;
    *p = e;
    c->count++;
    c->bytes += v->cost;
    unlock(&c->lock);
}

void cache_drop(Cache *c, const char *key)
{
    lock(&c->lock);
    Entry **p = find(c, key);
    if (*p)
        unlink_entry(c, p);
    unlock(&c->lock);
}

void cache_drop_prefix(Cache *c, const char *prefix)
{
    size_t n = strlen(prefix);
    lock(&c->lock);
    for (size_t i = 0; i < c->nbuckets; i++)
        for (Entry **p = &c->buckets[i]; *p;) {
            if (strncmp((*p)->key, prefix, n) == 0)
                unlink_entry(c, p);
            else
                p = &(*p)->next;
        }
    unlock(&c->lock);
}

size_t cache_bytes(Cache *c)
{
    lock(&c->lock);
    size_t n = c->bytes;
    unlock(&c->lock);
    return n;
}

size_t cache_count(Cache *c)
{
    lock(&c->lock);
    size_t n = c->count;
    unlock(&c->lock);
    return n;
}
