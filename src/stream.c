/* stream: Range reads of recording files with readahead and CDN URL memory. */
#include "zoomfs/stream.h"

#include "zoomfs/auth.h"
#include "zoomfs/cache.h"
#include "zoomfs/config.h"
#include "zoomfs/errmap.h"
#include "zoomfs/http.h"
#include "zoomfs/log.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Trusted for this long; a CDN URL that stops working earlier is resolved
 * again at once. */
/* Bytes are held in aligned chunks so that the kernel's reads, which come
 * in parallel and out of order, find what an earlier read fetched. */
#define CHUNK          ((size_t)1 << 20)
#define BATCH_MAX      4 /* chunks one read-ahead request asks for at most */
#define CDN_URL_TTL_MS (10 * 60 * 1000)
#define MAX_RESOLVES   3

static Cache *cdn_urls;
static size_t readahead_max;

/* Read-ahead workers outlive the files they serve by at most one request;
 * the unmount waits for them (and cuts their transfers short) before the
 * HTTP client goes away under them. */
static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t workers_gone = PTHREAD_COND_INITIALIZER;
static int workers;
static bool stopping;

static bool is_stopping(void)
{
    return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

typedef struct {
    CacheVal base;
    char *url;
    bool needs_auth; /* the server answered download_url itself, no redirect */
} CdnUrl;

static void cdn_url_destroy(CacheVal *v)
{
    free(((CdnUrl *)v)->url);
    free(v);
}

void stream_init(size_t ra_max)
{
    cdn_urls = cache_new(4096, 4u << 20);
    readahead_max = ra_max < CHUNK ? CHUNK : ra_max;
}

void stream_cleanup(void)
{
    lock(&workers_lock);
    __atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
    while (workers > 0)
        pthread_cond_wait(&workers_gone, &workers_lock);
    unlock(&workers_lock);
    cache_free(cdn_urls);
    cdn_urls = NULL;
}

static bool is_html(const HttpResponse *r)
{
    return r->content_type && strncasecmp(r->content_type, "text/html", 9) == 0;
}

/* Follows download_url one hop with the token to learn the CDN URL.
 * Returns a CdnUrl reference or NULL with *err set. */
static CdnUrl *resolve_now(const char *download_url, int *err)
{
    bool renewed = false;
    int64_t deadline = now_ms() + (int64_t)cfg.retry_budget * 1000;
    for (int attempt = 0; attempt < cfg.retry_max && now_ms() < deadline; attempt++) {
        char *bearer = NULL;
        int rc = auth_header(&bearer);
        if (rc) {
            *err = -rc;
            return NULL;
        }
        HttpRequest req;
        http_request_init(&req, "GET", download_url);
        req.authorization = bearer;
        /* If the server sends the file itself, one byte is enough to learn it. */
        req.range_start = 0;
        req.range_end = 0;
        req.total_timeout = cfg.io_timeout * 2;
        HttpResponse resp;
        http_send(&req, &resp);
        stats_add(STAT_URL_RESOLVES, 1);
        stats_request("GET download_url", resp.neterr ? 0 : resp.status);
        char safe[512];
        log_scrub_url(download_url, safe, sizeof(safe));
        CdnUrl *out = NULL;
        ErrMapping m = resp.neterr ? errmap_net(resp.neterr)
                                   : errmap_http(resp.status, 0, resp.ratelimit_type, NULL);
        if (!resp.neterr && resp.status >= 300 && resp.status < 400 && resp.location) {
            out = xcalloc(1, sizeof(*out));
            out->url = xstrdup(resp.location);
        } else if (!resp.neterr && resp.status / 100 == 2 && !is_html(&resp)) {
            out = xcalloc(1, sizeof(*out));
            out->url = xstrdup(download_url);
            out->needs_auth = true;
        } else if (!resp.neterr && (resp.status == 401 || is_html(&resp)) && !renewed) {
            /* Zoom answers a bad or expired token here with 401 or an HTML
             * page (status 200): renew once. */
            renewed = true;
            auth_reject(bearer);
            auth_free(bearer);
            http_response_free(&resp);
            continue;
        } else if (!resp.neterr && (resp.status == 401 || is_html(&resp))) {
            stats_error("download %s: refused (HTTP %ld, %s)", safe, resp.status,
                        is_html(&resp) ? "an HTML page instead of the file" : "unauthorized");
            *err = EACCES;
        } else if (m.action == ERRACT_RETRY || m.action == ERRACT_RATE_WAIT) {
            int64_t wait = 250LL << attempt;
            if (resp.retry_after) {
                int64_t ra = errmap_retry_after_ms(resp.retry_after, time(NULL));
                if (ra >= 0)
                    wait = ra;
            }
            log_info("download %s: %s; retrying in %lld ms", safe,
                     resp.neterr ? resp.error : "server busy", (long long)wait);
            stats_add(m.action == ERRACT_RATE_WAIT ? STAT_RATE_WAITS : STAT_RETRIES, 1);
            auth_free(bearer);
            http_response_free(&resp);
            if (now_ms() + wait >= deadline)
                break;
            sleep_ms(wait);
            continue;
        } else {
            stats_error("download %s: HTTP %ld (%s)", safe, resp.status,
                        errmap_errno_name(m.err ? m.err : EIO));
            *err = m.err ? m.err : EIO;
        }
        auth_free(bearer);
        http_response_free(&resp);
        if (!out)
            return NULL;
        out->base.refs = 1;
        out->base.destroy = cdn_url_destroy;
        out->base.cost = sizeof(*out) + strlen(out->url);
        cache_put(cdn_urls, download_url, &out->base, CDN_URL_TTL_MS);
        return out;
    }
    char safe[512];
    log_scrub_url(download_url, safe, sizeof(safe));
    stats_error("download %s: gave up after retries", safe);
    *err = EIO;
    return NULL;
}

/* download_urls being resolved right now: a reader and the read-ahead worker
 * asking for the same file wait for one answer instead of asking twice. */
static pthread_mutex_t resolving_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t resolving_done = PTHREAD_COND_INITIALIZER;
static const char *resolving[64];

static int resolving_slot(const char *url)
{
    for (int i = 0; i < (int)ARRAY_SIZE(resolving); i++)
        if (url ? resolving[i] && strcmp(resolving[i], url) == 0 : !resolving[i])
            return i;
    return -1;
}

static CdnUrl *resolve(const char *download_url, int *err)
{
    lock(&resolving_lock);
    int mine;
    for (;;) {
        CacheVal *cached = cache_get(cdn_urls, download_url);
        if (cached) {
            unlock(&resolving_lock);
            return (CdnUrl *)cached;
        }
        if (resolving_slot(download_url) < 0 && (mine = resolving_slot(NULL)) >= 0)
            break;
        pthread_cond_wait(&resolving_done, &resolving_lock);
    }
    resolving[mine] = download_url;
    unlock(&resolving_lock);
    CdnUrl *out = resolve_now(download_url, err);
    lock(&resolving_lock);
    resolving[mine] = NULL;
    pthread_cond_broadcast(&resolving_done);
    unlock(&resolving_lock);
    return out;
}

/* Where fetched bytes go: consecutive parts of part_len bytes each (the
 * chunks of a read-ahead batch, or a single buffer), from byte `at` on. */
typedef struct {
    char *const *parts;
    size_t part_len;
    size_t at;  /* bytes of the range already in place before this request */
    size_t cap; /* bytes this request may still write */
    size_t got;
} Sink;

static size_t sink_write(void *ctx, const char *data, size_t n)
{
    Sink *s = ctx;
    if (is_stopping())
        return 0;
    size_t take = n < s->cap - s->got ? n : s->cap - s->got;
    for (size_t done = 0; done < take;) {
        size_t pos = s->at + s->got + done;
        size_t room = s->part_len - pos % s->part_len;
        size_t k = take - done < room ? take - done : room;
        memcpy(s->parts[pos / s->part_len] + pos % s->part_len, data + done, k);
        done += k;
    }
    s->got += take;
    return take; /* fewer than n stops a server that sends more than asked */
}

/* Does this response carry bytes [a, ...] of a file of size total? */
static bool response_is_range(const HttpResponse *r, int64_t a, int64_t total)
{
    if (is_html(r))
        return false;
    if (r->status == 206) {
        int64_t ra, rb, rt;
        if (http_parse_content_range(r->content_range, &ra, &rb, &rt) != 0)
            return false;
        return ra == a && (total < 0 || rt < 0 || rt == total);
    }
    /* A server that ignores Range sends the whole file: usable from 0. */
    return r->status == 200 && a == 0 &&
           (total < 0 || r->content_length < 0 || r->content_length == total);
}

/* Fetches bytes [a, a+len) of the file into parts (part_len bytes each).
 * total is the exact size (-1 unknown: then *total_out learns it). Returns
 * bytes fetched or -errno. */
static ssize_t fetch_parts(const char *download_url, int64_t a, size_t len, int64_t total,
                           char *const *parts, size_t part_len, int64_t *total_out)
{
    char safe[512];
    log_scrub_url(download_url, safe, sizeof(safe));
    size_t done = 0;
    int failures = 0, resolves = 0;
    int64_t deadline = now_ms() + (int64_t)cfg.retry_budget * 1000;
    while (done < len && !is_stopping()) {
        int err = EIO;
        CdnUrl *cdn = resolve(download_url, &err);
        if (!cdn)
            return -err;
        char *bearer = NULL;
        if (cdn->needs_auth && auth_header(&bearer) != 0) {
            cacheval_unref(&cdn->base);
            return -EACCES;
        }
        HttpRequest req;
        http_request_init(&req, "GET", cdn->url);
        req.authorization = cdn->needs_auth ? bearer : NULL;
        req.range_start = a + (int64_t)done;
        req.range_end = a + (int64_t)len - 1;
        Sink sink = {.parts = parts, .part_len = part_len, .at = done, .cap = len - done};
        req.sink = sink_write;
        req.sink_ctx = &sink;
        HttpResponse resp;
        http_send(&req, &resp);
        auth_free(bearer);
        stats_add(STAT_RANGE_REQUESTS, 1);
        stats_request("GET cdn", resp.neterr ? 0 : resp.status);

        bool valid = resp.status / 100 == 2 && response_is_range(&resp, req.range_start, total);
        if (valid) {
            if (total_out) {
                int64_t ra, rb, rt = -1;
                if (resp.status == 206)
                    http_parse_content_range(resp.content_range, &ra, &rb, &rt);
                else
                    rt = resp.content_length;
                *total_out = rt;
            }
            done += sink.got;
            stats_add(STAT_BYTES_STREAMED, (int64_t)sink.got);
            if (sink.got > 0)
                failures = 0;
        }
        bool finished = valid && !resp.neterr;
        bool stale = !resp.neterr && (resp.status == 401 || resp.status == 403 ||
                                      resp.status == 404 || resp.status == 410 || is_html(&resp));
        long status = resp.status;
        char neterr[256];
        snprintf(neterr, sizeof(neterr), "%s", resp.error ? resp.error : "");
        bool cut = resp.neterr != NETERR_NONE;
        char *retry_after = resp.retry_after ? xstrdup(resp.retry_after) : NULL;
        http_response_free(&resp);

        if (finished) {
            cacheval_unref(&cdn->base);
            free(retry_after);
            if (done == len || sink.got == 0 || total_out)
                break;
            continue; /* a short 206: ask for the rest */
        }
        if (stale) {
            /* The remembered CDN URL expired or was refused: forget it. */
            cache_drop(cdn_urls, download_url);
            cacheval_unref(&cdn->base);
            free(retry_after);
            if (++resolves > MAX_RESOLVES) {
                stats_error("download %s: refused (HTTP %ld) after resolving the URL again", safe,
                            status);
                return -EACCES;
            }
            log_info("download %s: HTTP %ld from the CDN; resolving the URL again", safe, status);
            continue;
        }
        if (!cut && status / 100 == 2) {
            stats_error("download %s: answer is not the bytes asked for (HTTP %ld, range "
                        "%lld-%lld); not handed to the reader",
                        safe, status, (long long)req.range_start, (long long)req.range_end);
            cacheval_unref(&cdn->base);
            free(retry_after);
            return -EIO;
        }
        bool retryable = cut || status == 429 || status >= 500;
        int64_t wait = 250LL << (failures < 5 ? failures : 5);
        if (retry_after && errmap_retry_after_ms(retry_after, time(NULL)) >= 0)
            wait = errmap_retry_after_ms(retry_after, time(NULL));
        free(retry_after);
        cacheval_unref(&cdn->base);
        if (!retryable || ++failures >= cfg.retry_max || now_ms() + wait >= deadline) {
            if (cut)
                stats_error("download %s: %s at byte %lld; giving up", safe, neterr,
                            (long long)(a + (int64_t)done));
            else
                stats_error("download %s: HTTP %ld", safe, status);
            return cut && strstr(neterr, "imed out") ? -ETIMEDOUT : -EIO;
        }
        stats_add(STAT_RETRIES, 1);
        log_info("download %s: %s at byte %lld; resuming in %lld ms", safe,
                 cut ? neterr : "server busy", (long long)(a + (int64_t)done), (long long)wait);
        sleep_ms(wait);
    }
    return (ssize_t)done;
}

static ssize_t fetch_range(const char *download_url, int64_t a, size_t len, int64_t total,
                           char *dst, int64_t *total_out)
{
    return fetch_parts(download_url, a, len, total, &dst, len ? len : 1, total_out);
}

int64_t stream_probe_size(const char *download_url)
{
    char byte;
    int64_t total = -1;
    ssize_t n = fetch_range(download_url, 0, 1, -1, &byte, &total);
    if (n < 0)
        return n;
    if (total < 0) {
        /* An empty file answers 416 or 200 with no body: size 0. */
        return n == 0 ? 0 : -EIO;
    }
    return total;
}

typedef enum { CHUNK_EMPTY, CHUNK_WANTED, CHUNK_FETCHING, CHUNK_READY, CHUNK_FAILED } ChunkState;

typedef struct {
    int64_t index;
    ChunkState state;
    size_t len;
    uint64_t used; /* LRU stamp */
    int err;
    char *data; /* CHUNK bytes, allocated on first use */
} Chunk;

/* Sequential readers are served from chunks that a worker thread fetched
 * ahead of them, so the network and the reader overlap; a random reader
 * fetches only the chunk it needs. */
struct Stream {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int refs; /* the opener and, while it runs, the worker */
    char *url;
    int64_t size;
    Chunk *chunks;
    size_t nchunks;
    size_t max_ahead; /* chunks */
    uint64_t clock;
    int64_t seq_end; /* end of the run of reads seen so far */
    int run;         /* how many reads in a row continued it */
    bool worker_running;
    bool closing;
};

static size_t chunk_len(const Stream *s, int64_t index)
{
    int64_t start = index * (int64_t)CHUNK;
    int64_t left = s->size - start;
    return left < (int64_t)CHUNK ? (size_t)left : CHUNK;
}

static Chunk *find_chunk(Stream *s, int64_t index)
{
    for (size_t i = 0; i < s->nchunks; i++)
        if (s->chunks[i].state != CHUNK_EMPTY && s->chunks[i].index == index)
            return &s->chunks[i];
    return NULL;
}

/* A slot for index: an empty one, else the least recently used that nobody
 * is filling. NULL when every slot is being filled. Called locked. */
static Chunk *claim_chunk(Stream *s, int64_t index, ChunkState state)
{
    Chunk *victim = NULL;
    for (size_t i = 0; i < s->nchunks; i++) {
        Chunk *c = &s->chunks[i];
        if (c->state == CHUNK_FETCHING)
            continue;
        if (c->state == CHUNK_EMPTY) {
            victim = c;
            break;
        }
        if (!victim || c->used < victim->used)
            victim = c;
    }
    if (!victim)
        return NULL;
    if (!victim->data)
        victim->data = xmalloc(CHUNK);
    victim->index = index;
    victim->state = state;
    victim->len = 0;
    victim->err = 0;
    victim->used = ++s->clock;
    return victim;
}

static void stream_unref(Stream *s)
{
    lock(&s->lock);
    bool last = --s->refs == 0;
    unlock(&s->lock);
    if (!last)
        return;
    for (size_t i = 0; i < s->nchunks; i++)
        free(s->chunks[i].data);
    free(s->chunks);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->url);
    free(s);
}

/* The lowest wanted chunk and the wanted ones right after it, marked
 * FETCHING. Returns how many (0: none wanted). Called locked. */
static size_t take_batch(Stream *s, Chunk **batch)
{
    Chunk *first = NULL;
    for (size_t i = 0; i < s->nchunks; i++)
        if (s->chunks[i].state == CHUNK_WANTED && (!first || s->chunks[i].index < first->index))
            first = &s->chunks[i];
    if (!first)
        return 0;
    size_t n = 0;
    for (Chunk *c = first; c && c->state == CHUNK_WANTED && n < BATCH_MAX;
         c = find_chunk(s, first->index + (int64_t)n)) {
        c->state = CHUNK_FETCHING;
        batch[n++] = c;
    }
    return n;
}

static void *ahead_worker(void *arg)
{
    Stream *s = arg;
    lock(&s->lock);
    for (;;) {
        Chunk *batch[BATCH_MAX];
        size_t n = 0;
        /* Wakes up now and then to notice an unmount even for a file that
         * was never closed (lazy unmount). */
        while (!s->closing && !is_stopping() && (n = take_batch(s, batch)) == 0) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&s->cond, &s->lock, &until);
        }
        if (s->closing || is_stopping()) {
            for (size_t i = 0; i < n; i++)
                batch[i]->state = CHUNK_WANTED;
            break;
        }
        int64_t off = batch[0]->index * (int64_t)CHUNK;
        size_t want = 0;
        char *parts[BATCH_MAX];
        for (size_t i = 0; i < n; i++) {
            want += chunk_len(s, batch[i]->index);
            parts[i] = batch[i]->data;
        }
        unlock(&s->lock);
        /* Straight into the chunks: only this thread touches them while
         * they are FETCHING. */
        ssize_t got = fetch_parts(s->url, off, want, s->size, parts, CHUNK, NULL);
        lock(&s->lock);
        size_t at = 0;
        for (size_t i = 0; i < n; i++) {
            Chunk *c = batch[i];
            size_t len = chunk_len(s, c->index);
            if (got >= 0 && (size_t)got >= at + len) {
                c->len = len;
                c->state = CHUNK_READY;
            } else {
                c->state = CHUNK_FAILED;
                c->err = got < 0 ? (int)-got : EIO;
            }
            at += len;
        }
        pthread_cond_broadcast(&s->cond);
    }
    s->worker_running = false;
    unlock(&s->lock);
    stream_unref(s);
    lock(&workers_lock);
    if (--workers == 0)
        pthread_cond_broadcast(&workers_gone);
    unlock(&workers_lock);
    return NULL;
}

Stream *stream_open(const char *download_url, int64_t size)
{
    Stream *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->refs = 1;
    s->url = xstrdup(download_url);
    s->size = size;
    s->max_ahead = readahead_max / CHUNK ? readahead_max / CHUNK : 1;
    s->nchunks = 2 * s->max_ahead + 4;
    s->chunks = xcalloc(s->nchunks, sizeof(Chunk));
    return s;
}

void stream_close(Stream *s)
{
    if (!s)
        return;
    /* A worker in the middle of a fetch finishes on its own (bounded by the
     * request timeouts) and frees the stream; close does not wait for it. */
    lock(&s->lock);
    s->closing = true;
    pthread_cond_broadcast(&s->cond);
    unlock(&s->lock);
    stream_unref(s);
}

/* Asks the worker for the chunks after `last`. Called locked. */
static void read_ahead(Stream *s, int64_t last)
{
    size_t ahead = (size_t)1 << (s->run < 6 ? s->run : 6);
    if (ahead > s->max_ahead)
        ahead = s->max_ahead;
    bool asked = false;
    for (size_t k = 1; k <= ahead; k++) {
        int64_t index = last + (int64_t)k;
        if (index * (int64_t)CHUNK >= s->size)
            break;
        if (find_chunk(s, index))
            continue;
        if (!claim_chunk(s, index, CHUNK_WANTED))
            break;
        asked = true;
    }
    if (!asked || s->closing)
        return;
    if (!s->worker_running) {
        if (is_stopping())
            return;
        pthread_t t;
        s->refs++;
        lock(&workers_lock);
        workers++;
        unlock(&workers_lock);
        if (pthread_create(&t, NULL, ahead_worker, s) != 0) {
            s->refs--;
            lock(&workers_lock);
            workers--;
            unlock(&workers_lock);
            return; /* no read-ahead: reads still work */
        }
        pthread_detach(t);
        s->worker_running = true;
    }
    pthread_cond_broadcast(&s->cond);
}

/* The chunk with this index, fetched by this thread if nobody has it or is
 * getting it. Returns it READY, or NULL with *err set. Called locked. */
static Chunk *get_chunk(Stream *s, int64_t index, int *err)
{
    for (;;) {
        Chunk *c = find_chunk(s, index);
        if (c && c->state == CHUNK_READY)
            return c;
        if (c && c->state == CHUNK_FETCHING) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        /* Missing, failed in the worker, or wanted but not started: ours. */
        if (c)
            c->state = CHUNK_FETCHING;
        else if (!(c = claim_chunk(s, index, CHUNK_FETCHING))) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        size_t len = chunk_len(s, index);
        unlock(&s->lock);
        ssize_t n = fetch_range(s->url, index * (int64_t)CHUNK, len, s->size, c->data, NULL);
        lock(&s->lock);
        if (n >= 0 && (size_t)n == len) {
            c->len = len;
            c->state = CHUNK_READY;
        } else {
            c->state = CHUNK_FAILED;
            c->err = n < 0 ? (int)-n : EIO;
        }
        pthread_cond_broadcast(&s->cond);
        if (c->state == CHUNK_FAILED) {
            *err = c->err;
            c->state = CHUNK_EMPTY;
            return NULL;
        }
        return c;
    }
}

ssize_t stream_read(Stream *s, char *out, size_t len, int64_t off)
{
    if (off >= s->size || len == 0)
        return 0;
    if ((int64_t)len > s->size - off)
        len = (size_t)(s->size - off);
    lock(&s->lock);
    /* Parallel kernel reads arrive a little out of order: a read near the
     * end of the run continues it. */
    bool sequential = off >= s->seq_end - 2 * (int64_t)CHUNK && off <= s->seq_end + (int64_t)CHUNK;
    s->run = sequential ? s->run + 1 : 0;
    if (!sequential || off + (int64_t)len > s->seq_end)
        s->seq_end = off + (int64_t)len;
    size_t done = 0;
    int err = 0;
    int64_t first = off / (int64_t)CHUNK, last = (off + (int64_t)len - 1) / (int64_t)CHUNK;
    if (sequential)
        read_ahead(s, last);
    for (int64_t index = first; index <= last; index++) {
        Chunk *c = get_chunk(s, index, &err);
        if (!c)
            break;
        c->used = ++s->clock;
        int64_t start = index * (int64_t)CHUNK;
        int64_t from = off + (int64_t)done - start;
        size_t n = c->len - (size_t)from;
        if (n > len - done)
            n = len - done;
        memcpy(out + done, c->data + from, n);
        done += n;
    }
    unlock(&s->lock);
    return done || !err ? (ssize_t)done : -err;
}
