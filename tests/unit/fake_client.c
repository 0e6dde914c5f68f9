/* fake_client: the in-memory Zoom of the unit tests. */
#include "fake_client.h"

#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct Entry {
    struct Entry *next;
    char *key;
    char *json;
    int rc;
    int times;
    int64_t size, fail_from;
} Entry;

typedef struct Call {
    struct Call *next;
    char *route, *path, *body;
} Call;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static Entry *objects, *lists, *answers, *failures, *files;
static Call *calls; /* newest first */
static int downloads;

static void free_entries(Entry **list)
{
    for (Entry *e = *list, *n; e; e = n) {
        n = e->next;
        free(e->key);
        free(e->json);
        free(e);
    }
    *list = NULL;
}

void fake_reset(void)
{
    lock(&mu);
    free_entries(&objects);
    free_entries(&lists);
    free_entries(&answers);
    free_entries(&failures);
    free_entries(&files);
    for (Call *c = calls, *n; c; c = n) {
        n = c->next;
        free(c->route);
        free(c->path);
        free(c->body);
        free(c);
    }
    calls = NULL;
    downloads = 0;
    unlock(&mu);
}

static Entry *add(Entry **list, const char *key, const char *json)
{
    Entry *e = xcalloc(1, sizeof(*e));
    e->key = xstrdup(key);
    e->json = json ? xstrdup(json) : NULL;
    /* appended: the first one added is the first one used */
    Entry **p = list;
    while (*p)
        p = &(*p)->next;
    *p = e;
    return e;
}

static Entry *find(Entry *list, const char *key)
{
    for (Entry *e = list; e; e = e->next)
        if (strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

void fake_object(const char *path, const char *json)
{
    lock(&mu);
    add(&objects, path, json);
    unlock(&mu);
}

void fake_list(const char *path, const char *json_array)
{
    lock(&mu);
    add(&lists, path, json_array);
    unlock(&mu);
}

void fake_answer(const char *path, int rc, const char *json)
{
    lock(&mu);
    add(&answers, path, json)->rc = rc;
    unlock(&mu);
}

void fake_fail(const char *prefix, int rc, int times)
{
    lock(&mu);
    Entry *e = add(&failures, prefix, NULL);
    e->rc = rc;
    e->times = times;
    unlock(&mu);
}

/* Logs a call and returns the injected failure for path, or 0. Locked. */
static int record(const char *route, const char *path, json_t *body)
{
    Call *c = xcalloc(1, sizeof(*c));
    c->route = xstrdup(route);
    c->path = xstrdup(path);
    c->body = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    c->next = calls;
    calls = c;
    for (Entry *f = failures; f; f = f->next)
        if (f->times > 0 && strncmp(path, f->key, strlen(f->key)) == 0) {
            f->times--;
            return f->rc;
        }
    return 0;
}

static json_t *parse(const char *json)
{
    return json ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;
}

static int fake_get(const char *route, const char *path, json_t **out)
{
    *out = NULL;
    lock(&mu);
    int rc = record(route, path, NULL);
    Entry *e = rc ? NULL : find(objects, path);
    if (!rc && !e)
        rc = -ENOENT;
    if (e)
        *out = parse(e->json);
    unlock(&mu);
    return rc;
}

static int fake_list_all(const char *route, const char *path, const char *key, json_t **items)
{
    (void)key;
    *items = NULL;
    lock(&mu);
    int rc = record(route, path, NULL);
    Entry *e = rc ? NULL : find(lists, path);
    if (!rc && !e)
        rc = -ENOENT;
    if (e)
        *items = parse(e->json);
    unlock(&mu);
    return rc;
}

static int fake_send(const char *route, const char *path, json_t *body, json_t **out)
{
    if (out)
        *out = NULL;
    lock(&mu);
    int rc = record(route, path, body);
    Entry *a = rc ? NULL : find(answers, path);
    if (a) {
        rc = a->rc;
        if (rc == 0 && out)
            *out = parse(a->json);
        /* used once */
        Entry **p = &answers;
        while (*p != a)
            p = &(*p)->next;
        *p = a->next;
        free(a->key);
        free(a->json);
        free(a);
    }
    unlock(&mu);
    return rc;
}

unsigned char fake_byte(const char *url, int64_t i)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = url; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    uint64_t x = h ^ (uint64_t)i * 0x9E3779B97F4A7C15ULL;
    x ^= x >> 29;
    return (unsigned char)(x * 0xBF58476D1CE4E5B9ULL >> 56);
}

void fake_file(const char *url, int64_t size)
{
    lock(&mu);
    Entry *e = add(&files, url, NULL);
    e->size = size;
    e->fail_from = -1;
    unlock(&mu);
}

void fake_file_fails_from(const char *url, int64_t from, int rc)
{
    lock(&mu);
    Entry *e = find(files, url);
    if (e) {
        e->fail_from = from;
        e->rc = rc;
    }
    unlock(&mu);
}

int fake_downloads(void)
{
    lock(&mu);
    int n = downloads;
    unlock(&mu);
    return n;
}

static ssize_t fake_download(const char *url, int64_t off, size_t len, int64_t total,
                             char *const *parts, size_t part_len, int64_t *total_out)
{
    (void)total;
    lock(&mu);
    downloads++;
    Entry *e = find(files, url);
    int64_t size = e ? e->size : -1;
    int64_t fail_from = e ? e->fail_from : -1;
    int fail_rc = e ? e->rc : 0;
    unlock(&mu);
    if (!e)
        return -ENOENT;
    if (fail_from >= 0 && off + (int64_t)len > fail_from)
        return fail_rc;
    if (total_out)
        *total_out = size;
    size_t n = off >= size ? 0 : (size_t)(size - off) < len ? (size_t)(size - off) : len;
    for (size_t k = 0; k < n; k++)
        parts[k / part_len][k % part_len] = (char)fake_byte(url, off + (int64_t)k);
    return (ssize_t)n;
}

static const ZoomClient client = {
    .get = fake_get,
    .list = fake_list_all,
    .send = fake_send,
    .download = fake_download,
};

const ZoomClient *fake_client(void)
{
    return &client;
}

int fake_calls(const char *route)
{
    int n = 0;
    lock(&mu);
    for (Call *c = calls; c; c = c->next)
        n += strcmp(c->route, route) == 0;
    unlock(&mu);
    return n;
}

int fake_calls_total(void)
{
    int n = 0;
    lock(&mu);
    for (Call *c = calls; c; c = c->next)
        n++;
    unlock(&mu);
    return n;
}

static Call *last(const char *route)
{
    for (Call *c = calls; c; c = c->next)
        if (strcmp(c->route, route) == 0)
            return c;
    return NULL;
}

char *fake_last_body(const char *route)
{
    lock(&mu);
    Call *c = last(route);
    char *body = c && c->body ? xstrdup(c->body) : NULL;
    unlock(&mu);
    return body;
}

const char *fake_last_path(const char *route)
{
    lock(&mu);
    Call *c = last(route);
    const char *path = c ? c->path : NULL;
    unlock(&mu);
    return path;
}
