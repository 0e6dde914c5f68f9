/* strmap: chained hash table that doubles as it fills. */
#include "zoomfs/strmap.h"

#include "zoomfs/util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct Item {
    struct Item *next;
    char *key;
    void *value;
} Item;

struct StrMap {
    pthread_mutex_t lock;
    Item **buckets;
    size_t nbuckets, count;
    void (*free_value)(void *);
};

StrMap *strmap_new(void (*free_value)(void *))
{
    StrMap *m = xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    m->nbuckets = 64;
    m->buckets = xcalloc(m->nbuckets, sizeof(Item *));
    m->free_value = free_value;
    return m;
}

static void item_free(StrMap *m, Item *it)
{
    if (m->free_value && it->value)
        m->free_value(it->value);
    free(it->key);
    free(it);
}

static void free_items(StrMap *m)
{
    for (size_t i = 0; i < m->nbuckets; i++) {
        for (Item *it = m->buckets[i], *n; it; it = n) {
            n = it->next;
            item_free(m, it);
        }
        m->buckets[i] = NULL;
    }
}

void strmap_clear(StrMap *m)
{
    lock(&m->lock);
    free_items(m);
    m->count = 0;
    unlock(&m->lock);
}

void strmap_free(StrMap *m)
{
    if (!m)
        return;
    free_items(m);
    free(m->buckets);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static Item **find(StrMap *m, const char *key)
{
    Item **p = &m->buckets[hash_string(key) & (m->nbuckets - 1)];
    while (*p && strcmp((*p)->key, key) != 0)
        p = &(*p)->next;
    return p;
}

static void grow(StrMap *m)
{
    size_t n = m->nbuckets * 2;
    Item **b = xcalloc(n, sizeof(Item *));
    for (size_t i = 0; i < m->nbuckets; i++)
        for (Item *it = m->buckets[i], *next; it; it = next) {
            next = it->next;
            size_t h = hash_string(it->key) & (n - 1);
            it->next = b[h];
            b[h] = it;
        }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

bool strmap_put(StrMap *m, const char *key, void *value)
{
    lock(&m->lock);
    Item **p = find(m, key);
    bool fresh = !*p;
    if (*p) {
        if (m->free_value && (*p)->value && (*p)->value != value)
            m->free_value((*p)->value);
        (*p)->value = value;
    } else {
        if (m->count + 1 > m->nbuckets) {
            grow(m);
            p = find(m, key);
        }
        Item *it = xcalloc(1, sizeof(*it));
        it->key = xstrdup(key);
        it->value = value;
        *p = it;
        m->count++;
    }
    unlock(&m->lock);
    return fresh;
}

void *strmap_get(StrMap *m, const char *key, void *(*ref)(void *))
{
    lock(&m->lock);
    Item *it = *find(m, key);
    void *v = it ? it->value : NULL;
    if (v && ref)
        v = ref(v);
    unlock(&m->lock);
    return v;
}

bool strmap_has(StrMap *m, const char *key)
{
    lock(&m->lock);
    bool has = *find(m, key) != NULL;
    unlock(&m->lock);
    return has;
}

void strmap_remove(StrMap *m, const char *key)
{
    lock(&m->lock);
    Item **p = find(m, key);
    if (*p) {
        Item *it = *p;
        *p = it->next;
        m->count--;
        item_free(m, it);
    }
    unlock(&m->lock);
}

size_t strmap_count(StrMap *m)
{
    lock(&m->lock);
    size_t n = m->count;
    unlock(&m->lock);
    return n;
}
