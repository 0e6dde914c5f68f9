/* fake_client: the in-memory Zoom of the unit tests. */
#include "fake_client.h"

#include "zoomfs/jsonfile.h"
#include "zoomfs/op.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Entry {
    struct Entry *next;
    char *key;
    char *json;
    int rc;
    int times;
    int64_t size, fail_from;
    int64_t cut_at; /* -1: none */
    int cut_rc, cut_times;
} Entry;

typedef struct Call {
    struct Call *next;
    char *route, *path, *body;
} Call;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static Entry *objects, *lists, *answers, *failures, *files;
static Call *calls; /* newest first */
static int downloads;

/* Every download, in the order they began. */
typedef struct {
    int64_t off;
    size_t len, got;
} Range;
static Range *ranges;
static size_t nranges;

/* The gate: downloads of gate_url wait at byte gate_at until it opens. */
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static char *gate_url;
static int64_t gate_at = -1;
static int gate_waiting;

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
    free(ranges);
    ranges = NULL;
    nranges = 0;
    free(gate_url);
    gate_url = NULL;
    gate_at = -1;
    pthread_cond_broadcast(&gate_cond);
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

static int fake_list_all(const char *route, const char *path, const char *key,
                         const char *const *keep, json_t **items)
{
    (void)key;
    *items = NULL;
    lock(&mu);
    int rc = record(route, path, NULL);
    Entry *e = rc ? NULL : find(lists, path);
    if (!rc && !e)
        rc = -ENOENT;
    if (e) {
        *items = parse(e->json);
        size_t i;
        json_t *item;
        json_array_foreach(*items, i, item)
        {
            jsonfile_keep(item, keep);
        }
    }
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

static uint64_t url_hash(const char *url)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s = url; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static unsigned char byte_of(uint64_t h, int64_t i)
{
    uint64_t x = h ^ (uint64_t)i * 0x9E3779B97F4A7C15ULL;
    x ^= x >> 29;
    return (unsigned char)(x * 0xBF58476D1CE4E5B9ULL >> 56);
}

unsigned char fake_byte(const char *url, int64_t i)
{
    return byte_of(url_hash(url), i);
}

void fake_file(const char *url, int64_t size)
{
    lock(&mu);
    Entry *e = add(&files, url, NULL);
    e->size = size;
    e->fail_from = -1;
    e->cut_at = -1;
    unlock(&mu);
}

void fake_file_cut(const char *url, int64_t at, int rc, int times)
{
    lock(&mu);
    Entry *e = find(files, url);
    if (e) {
        e->cut_at = at;
        e->cut_rc = rc;
        e->cut_times = times;
    }
    unlock(&mu);
}

void fake_gate_close(const char *url, int64_t at)
{
    lock(&mu);
    free(gate_url);
    gate_url = xstrdup(url);
    gate_at = at;
    unlock(&mu);
}

void fake_gate_open(void)
{
    lock(&mu);
    gate_at = -1;
    pthread_cond_broadcast(&gate_cond);
    unlock(&mu);
}

int fake_gate_waiting(void)
{
    lock(&mu);
    int n = gate_waiting;
    unlock(&mu);
    return n;
}

bool fake_download_range(int i, int64_t *off, size_t *len, size_t *got)
{
    lock(&mu);
    bool ok = i >= 0 && (size_t)i < nranges;
    if (ok) {
        *off = ranges[i].off;
        *len = ranges[i].len;
        if (got)
            *got = ranges[i].got;
    }
    unlock(&mu);
    return ok;
}

/* Waits while the gate is closed at byte `at` of url. Returns 0, or -EINTR
 * at the unmount (as a transfer cut by it). */
static int pass_gate(const char *url, int64_t at)
{
    lock(&mu);
    int rc = 0;
    while (gate_at == at && gate_url && strcmp(gate_url, url) == 0) {
        if (op_stopping()) {
            rc = -EINTR;
            break;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 10 * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        gate_waiting++;
        pthread_cond_timedwait(&gate_cond, &mu, &until);
        gate_waiting--;
    }
    unlock(&mu);
    return rc;
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
                             const DownloadSink *to, int64_t *total_out)
{
    (void)total;
    lock(&mu);
    downloads++;
    ranges = xrealloc(ranges, (nranges + 1) * sizeof(*ranges));
    size_t mine = nranges;
    ranges[nranges++] = (Range){off, len, 0};
    Entry *e = find(files, url);
    int64_t size = e ? e->size : -1;
    int64_t fail_from = e ? e->fail_from : -1;
    int fail_rc = e ? e->rc : 0;
    int64_t cut = -1;
    int cut_rc = 0;
    if (e && e->cut_at >= off && e->cut_at < off + (int64_t)len && e->cut_times > 0) {
        e->cut_times--;
        cut = e->cut_at;
        cut_rc = e->cut_rc;
    }
    int64_t gate = gate_url && strcmp(gate_url, url) == 0 ? gate_at : -1;
    unlock(&mu);
    if (!e)
        return -ENOENT;
    if (fail_from >= 0 && off + (int64_t)len > fail_from)
        return fail_rc;
    if (total_out)
        *total_out = size;
    size_t n = off >= size ? 0 : (size_t)(size - off) < len ? (size_t)(size - off) : len;
    uint64_t h = url_hash(url);
    char piece[4096];
    for (size_t k = 0; k < n;) {
        int64_t at = off + (int64_t)k;
        size_t m = n - k < sizeof(piece) ? n - k : sizeof(piece);
        /* pieces end at the gate and at the cut */
        if (gate > at && gate < at + (int64_t)m)
            m = (size_t)(gate - at);
        if (cut > at && cut < at + (int64_t)m)
            m = (size_t)(cut - at);
        if (at == cut)
            return cut_rc;
        if (at == gate && pass_gate(url, at) != 0)
            return -EINTR;
        for (size_t i = 0; i < m; i++)
            piece[i] = (char)byte_of(h, at + (int64_t)i);
        to->write(to->ctx, k, piece, m);
        k += m;
        lock(&mu);
        if (mine < nranges) /* not reset meanwhile */
            ranges[mine].got = k;
        unlock(&mu);
    }
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
