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
    v->base.cost = 100;
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
    Cache *c = cache_new(3, 0);
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

    /* The byte bound: each value costs 100, room for 250 bytes. */
    Cache *b = cache_new(100, 250);
    put(b, "one", 1, 60000);
    put(b, "two", 2, 60000);
    CHECK_EQ_INT(cache_bytes(b), 200);
    CHECK_EQ_INT(get_n(b, "one"), 1); /* "two" is now the least recently used */
    put(b, "three", 3, 60000);
    CHECK_EQ_INT(cache_bytes(b), 200);
    CHECK_EQ_INT(get_n(b, "two"), -1);
    CHECK_EQ_INT(get_n(b, "one"), 1);
    CHECK_EQ_INT(get_n(b, "three"), 3);
    /* Replacing a key does not count it twice. */
    put(b, "three", 33, 60000);
    CHECK_EQ_INT(cache_bytes(b), 200);
    cache_drop(b, "one");
    CHECK_EQ_INT(cache_bytes(b), 100);
    /* A value larger than the whole bound is not kept. */
    Num *huge = num(9);
    huge->base.cost = 1000;
    cache_put(b, "huge", &huge->base, 60000);
    cacheval_unref(&huge->base);
    CHECK_EQ_INT(get_n(b, "huge"), -1);
    CHECK_EQ_INT(get_n(b, "three"), 33);
    cache_free(b);
    return CHECK_DONE("test_cache");
}
