/* Unit tests for cache: TTL expiry, the LRU bound, references outliving
 * entries, prefix drops. */
#include "check.h"
#include "zoomfs/cache.h"
#include "zoomfs/util.h"

#include <stdlib.h>

static int destroyed;

typedef struct {
    CacheVal base;
    int n;
} Num;

static void num_destroy(CacheVal *v)
{
    destroyed++;
    free(v);
}

static Num *num(int n)
{
    Num *v = xcalloc(1, sizeof(*v));
    v->base.refs = 1;
    v->base.destroy = num_destroy;
    v->n = n;
    return v;
}

static int get_n(Cache *c, const char *key)
{
    CacheVal *v = cache_get(c, key);
    int n = v ? ((Num *)v)->n : -1;
    cacheval_unref(v);
    return n;
}

static void put(Cache *c, const char *key, int n, int64_t ttl)
{
    Num *v = num(n);
    cache_put(c, key, &v->base, ttl);
    cacheval_unref(&v->base);
}

int main(void)
{
    Cache *c = cache_new(3);
    put(c, "a", 1, 60000);
    put(c, "b", 2, 60000);
    CHECK_EQ_INT(get_n(c, "a"), 1);
    CHECK_EQ_INT(get_n(c, "b"), 2);
    CHECK_EQ_INT(get_n(c, "missing"), -1);

    /* Replacing frees the old value once nobody holds it. */
    destroyed = 0;
    put(c, "a", 10, 60000);
    CHECK_EQ_INT(destroyed, 1);
    CHECK_EQ_INT(get_n(c, "a"), 10);

    /* A reader's reference outlives a drop. */
    CacheVal *held = cache_get(c, "b");
    cache_drop(c, "b");
    CHECK_EQ_INT(get_n(c, "b"), -1);
    CHECK_EQ_INT(((Num *)held)->n, 2);
    destroyed = 0;
    cacheval_unref(held);
    CHECK_EQ_INT(destroyed, 1);

    /* The bound evicts the least recently used. */
    put(c, "x", 3, 60000);
    put(c, "y", 4, 60000);
    CHECK_EQ_INT(get_n(c, "a"), 10); /* a is now the most recent */
    put(c, "z", 5, 60000);
    CHECK_EQ_INT(cache_count(c), 3);
    CHECK_EQ_INT(get_n(c, "x"), -1);
    CHECK_EQ_INT(get_n(c, "a"), 10);
    CHECK_EQ_INT(get_n(c, "z"), 5);

    /* Expiry. */
    put(c, "short", 7, 30);
    CHECK_EQ_INT(get_n(c, "short"), 7);
    sleep_ms(60);
    CHECK_EQ_INT(get_n(c, "short"), -1);

    /* A zero TTL stores nothing. */
    put(c, "never", 8, 0);
    CHECK_EQ_INT(get_n(c, "never"), -1);

    /* Prefix drops. */
    put(c, "month/u1/2025-01", 1, 60000);
    put(c, "month/u1/2025-02", 2, 60000);
    put(c, "month/u2/2025-01", 3, 60000);
    cache_drop_prefix(c, "month/u1/");
    CHECK_EQ_INT(get_n(c, "month/u1/2025-02"), -1);
    CHECK_EQ_INT(get_n(c, "month/u2/2025-01"), 3);

    cache_free(c);
    return CHECK_DONE("test_cache");
}
