/* inode: the kernel's inodes as (parent, name) with lookup counts. */
#include "zoomfs/inode.h"

#include "zoomfs/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct Inode {
    uint64_t ino;
    struct Inode *parent;
    char *name;
    uint64_t nlookup;
    int opens;
    size_t children; /* inodes whose parent this is */
    bool linked;     /* in the by-name index (not unlinked) */
    uint64_t used;   /* LRU stamp */
    struct Inode *by_ino_next, *by_name_next;
} Inode;

struct InodeTable {
    pthread_mutex_t lock;
    Inode **by_ino, **by_name;
    size_t nbuckets, count;
    uint64_t next_ino, clock;
    Inode *root;
};

static size_t ino_bucket(const InodeTable *t, uint64_t ino)
{
    return (size_t)(ino * 0x9E3779B97F4A7C15ULL >> 20) & (t->nbuckets - 1);
}

static size_t name_bucket(const InodeTable *t, uint64_t parent, const char *name)
{
    return (size_t)(hash_string(name) ^ parent * 0x9E3779B97F4A7C15ULL) & (t->nbuckets - 1);
}

static void index_ino(InodeTable *t, Inode *i)
{
    size_t b = ino_bucket(t, i->ino);
    i->by_ino_next = t->by_ino[b];
    t->by_ino[b] = i;
}

static void index_name(InodeTable *t, Inode *i)
{
    size_t b = name_bucket(t, i->parent->ino, i->name);
    i->by_name_next = t->by_name[b];
    t->by_name[b] = i;
    i->linked = true;
}

static void unindex_name(InodeTable *t, Inode *i)
{
    if (!i->linked)
        return;
    for (Inode **p = &t->by_name[name_bucket(t, i->parent->ino, i->name)]; *p;
         p = &(*p)->by_name_next)
        if (*p == i) {
            *p = i->by_name_next;
            break;
        }
    i->linked = false;
}

/* Doubles the buckets when the table is full, so lookups stay O(1). */
static void grow(InodeTable *t)
{
    Inode **old = t->by_ino;
    size_t n = t->nbuckets;
    t->nbuckets *= 2;
    t->by_ino = xcalloc(t->nbuckets, sizeof(Inode *));
    free(t->by_name);
    t->by_name = xcalloc(t->nbuckets, sizeof(Inode *));
    for (size_t b = 0; b < n; b++)
        for (Inode *i = old[b], *next; i; i = next) {
            next = i->by_ino_next;
            index_ino(t, i);
            if (i->linked)
                index_name(t, i);
        }
    free(old);
}

InodeTable *inode_table_new(void)
{
    InodeTable *t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    t->nbuckets = 1024;
    t->by_ino = xcalloc(t->nbuckets, sizeof(Inode *));
    t->by_name = xcalloc(t->nbuckets, sizeof(Inode *));
    t->root = xcalloc(1, sizeof(Inode));
    t->root->ino = INODE_ROOT;
    t->root->name = xstrdup("");
    t->root->nlookup = 1; /* the kernel never forgets the root */
    index_ino(t, t->root);
    t->count = 1;
    t->next_ino = INODE_ROOT + 1;
    return t;
}

void inode_table_free(InodeTable *t)
{
    if (!t)
        return;
    for (size_t b = 0; b < t->nbuckets; b++)
        for (Inode *i = t->by_ino[b], *next; i; i = next) {
            next = i->by_ino_next;
            free(i->name);
            free(i);
        }
    free(t->by_ino);
    free(t->by_name);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static Inode *get(InodeTable *t, uint64_t ino)
{
    for (Inode *i = t->by_ino[ino_bucket(t, ino)]; i; i = i->by_ino_next)
        if (i->ino == ino)
            return i;
    return NULL;
}

static Inode *child(InodeTable *t, Inode *parent, const char *name)
{
    for (Inode *i = t->by_name[name_bucket(t, parent->ino, name)]; i; i = i->by_name_next)
        if (i->parent == parent && strcmp(i->name, name) == 0)
            return i;
    return NULL;
}

/* "/a/b" of i (and name below it, when not NULL). Locked. */
static char *path_of(Inode *i, const char *name)
{
    size_t len = name ? strlen(name) + 1 : 0;
    for (Inode *p = i; p->parent; p = p->parent)
        len += strlen(p->name) + 1;
    if (len == 0)
        return xstrdup("/");
    char *out = xmalloc(len + 1), *end = out + len;
    *end = '\0';
    if (name) {
        end -= strlen(name);
        memcpy(end, name, strlen(name));
        *--end = '/';
    }
    for (Inode *p = i; p->parent; p = p->parent) {
        end -= strlen(p->name);
        memcpy(end, p->name, strlen(p->name));
        *--end = '/';
    }
    return out;
}

char *inode_path(InodeTable *t, uint64_t ino)
{
    lock(&t->lock);
    Inode *i = get(t, ino);
    if (i)
        i->used = ++t->clock;
    char *path = i ? path_of(i, NULL) : NULL;
    unlock(&t->lock);
    return path;
}

char *inode_child_path(InodeTable *t, uint64_t parent, const char *name)
{
    lock(&t->lock);
    Inode *p = get(t, parent);
    char *path = p ? path_of(p, name) : NULL;
    unlock(&t->lock);
    return path;
}

uint64_t inode_learn(InodeTable *t, uint64_t parent, const char *name)
{
    lock(&t->lock);
    Inode *p = get(t, parent), *i = p ? child(t, p, name) : NULL;
    if (p && !i) {
        if (t->count + 1 > t->nbuckets)
            grow(t);
        i = xcalloc(1, sizeof(*i));
        i->ino = t->next_ino++;
        i->parent = p;
        i->name = xstrdup(name);
        p->children++;
        index_ino(t, i);
        index_name(t, i);
        t->count++;
    }
    uint64_t ino = 0;
    if (i) {
        i->nlookup++;
        i->used = ++t->clock;
        ino = i->ino;
    }
    unlock(&t->lock);
    return ino;
}

uint64_t inode_find(InodeTable *t, uint64_t parent, const char *name)
{
    lock(&t->lock);
    Inode *p = get(t, parent), *i = p ? child(t, p, name) : NULL;
    uint64_t ino = i ? i->ino : 0;
    unlock(&t->lock);
    return ino;
}

uint64_t inode_of_path(InodeTable *t, const char *path)
{
    lock(&t->lock);
    Inode *i = t->root;
    for (const char *p = path; i && *p;) {
        while (*p == '/')
            p++;
        size_t n = strcspn(p, "/");
        if (n == 0)
            break;
        char *name = xstrndup(p, n);
        i = child(t, i, name);
        free(name);
        p += n;
    }
    uint64_t ino = i ? i->ino : 0;
    unlock(&t->lock);
    return ino;
}

/* Frees i (and then its parent, when that was all that kept it) once
 * nothing holds it. Locked. */
static void release(InodeTable *t, Inode *i)
{
    while (i && i != t->root && i->nlookup == 0 && i->opens == 0 && i->children == 0) {
        unindex_name(t, i);
        for (Inode **p = &t->by_ino[ino_bucket(t, i->ino)]; *p; p = &(*p)->by_ino_next)
            if (*p == i) {
                *p = i->by_ino_next;
                break;
            }
        Inode *parent = i->parent;
        parent->children--;
        t->count--;
        free(i->name);
        free(i);
        i = parent;
    }
}

void inode_forget(InodeTable *t, uint64_t ino, uint64_t n)
{
    lock(&t->lock);
    Inode *i = get(t, ino);
    if (i && i != t->root) {
        i->nlookup = n < i->nlookup ? i->nlookup - n : 0;
        release(t, i);
    }
    unlock(&t->lock);
}

void inode_opened(InodeTable *t, uint64_t ino)
{
    lock(&t->lock);
    Inode *i = get(t, ino);
    if (i)
        i->opens++;
    unlock(&t->lock);
}

void inode_closed(InodeTable *t, uint64_t ino)
{
    lock(&t->lock);
    Inode *i = get(t, ino);
    if (i && i->opens > 0) {
        i->opens--;
        release(t, i);
    }
    unlock(&t->lock);
}

void inode_unlink(InodeTable *t, uint64_t parent, const char *name)
{
    lock(&t->lock);
    Inode *p = get(t, parent), *i = p ? child(t, p, name) : NULL;
    if (i)
        unindex_name(t, i);
    unlock(&t->lock);
}

void inode_move(InodeTable *t, uint64_t parent, const char *name, uint64_t newparent,
                const char *newname)
{
    lock(&t->lock);
    Inode *p = get(t, parent), *np = get(t, newparent);
    Inode *i = p ? child(t, p, name) : NULL;
    Inode *replaced = np ? child(t, np, newname) : NULL;
    if (replaced && replaced != i)
        unindex_name(t, replaced);
    if (i && np) {
        unindex_name(t, i);
        free(i->name);
        i->name = xstrdup(newname);
        if (np != p) {
            p->children--;
            np->children++;
            i->parent = np;
            release(t, p);
        }
        index_name(t, i);
    }
    unlock(&t->lock);
}

size_t inode_count(InodeTable *t)
{
    lock(&t->lock);
    size_t n = t->count;
    unlock(&t->lock);
    return n;
}

static int older(const void *a, const void *b)
{
    const Inode *x = *(Inode *const *)a, *y = *(Inode *const *)b;
    return x->used < y->used ? -1 : x->used > y->used;
}

size_t inode_victims(InodeTable *t, size_t keep, InodeVictim *out, size_t max)
{
    lock(&t->lock);
    size_t want = t->count > keep ? t->count - keep : 0, n = 0;
    if (want > max)
        want = max;
    Inode **cand = want ? xmalloc(t->count * sizeof(*cand)) : NULL;
    size_t nc = 0;
    for (size_t b = 0; want && b < t->nbuckets; b++)
        for (Inode *i = t->by_ino[b]; i; i = i->by_ino_next)
            if (i != t->root && i->linked && i->children == 0 && i->opens == 0)
                cand[nc++] = i;
    if (nc)
        qsort(cand, nc, sizeof(*cand), older);
    for (; n < want && n < nc; n++)
        out[n] = (InodeVictim){.parent = cand[n]->parent->ino, .name = xstrdup(cand[n]->name)};
    free(cand);
    unlock(&t->lock);
    return n;
}

void inode_each(InodeTable *t, void (*fn)(uint64_t ino, void *ctx), void *ctx)
{
    lock(&t->lock);
    size_t n = 0;
    uint64_t *inos = xmalloc(t->count * sizeof(*inos));
    for (size_t b = 0; b < t->nbuckets; b++)
        for (Inode *i = t->by_ino[b]; i; i = i->by_ino_next)
            inos[n++] = i->ino;
    unlock(&t->lock);
    for (size_t k = 0; k < n; k++)
        fn(inos[k], ctx);
    free(inos);
}
