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

#define READAHEAD_START (256 * 1024)
/* Trusted for this long; a CDN URL that stops working earlier is resolved
 * again at once. */
#define CDN_URL_TTL_MS (10 * 60 * 1000)
#define MAX_RESOLVES   3

static Cache *cdn_urls;
static size_t readahead_max;

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
    cdn_urls = cache_new(4096);
    readahead_max = ra_max < READAHEAD_START ? READAHEAD_START : ra_max;
}

void stream_cleanup(void)
{
    cache_free(cdn_urls);
    cdn_urls = NULL;
}

static bool is_html(const HttpResponse *r)
{
    return r->content_type && strncasecmp(r->content_type, "text/html", 9) == 0;
}

/* Follows download_url one hop with the token to learn the CDN URL.
 * Returns a CdnUrl reference or NULL with *err set. */
static CdnUrl *resolve(const char *download_url, int *err)
{
    CacheVal *cached = cache_get(cdn_urls, download_url);
    if (cached)
        return (CdnUrl *)cached;
    bool renewed = false;
    int64_t deadline = now_ms() + (int64_t)cfg.retry_budget * 1000;
    for (int attempt = 0; attempt < cfg.retry_max && now_ms() < deadline; attempt++) {
        char bearer[4096];
        int rc = auth_header(bearer, sizeof(bearer));
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
            explicit_bzero(bearer, sizeof(bearer));
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
            explicit_bzero(bearer, sizeof(bearer));
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
        explicit_bzero(bearer, sizeof(bearer));
        http_response_free(&resp);
        if (!out)
            return NULL;
        out->base.refs = 1;
        out->base.destroy = cdn_url_destroy;
        cache_put(cdn_urls, download_url, &out->base, CDN_URL_TTL_MS);
        return out;
    }
    char safe[512];
    log_scrub_url(download_url, safe, sizeof(safe));
    stats_error("download %s: gave up after retries", safe);
    *err = EIO;
    return NULL;
}

typedef struct {
    char *dst;
    size_t cap;
    size_t got;
} Sink;

static size_t sink_write(void *ctx, const char *data, size_t n)
{
    Sink *s = ctx;
    size_t take = n < s->cap - s->got ? n : s->cap - s->got;
    memcpy(s->dst + s->got, data, take);
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

/* Fetches bytes [a, a+len) of the file into dst. total is the exact size
 * (-1 unknown: then *total_out learns it). Returns bytes fetched or -errno. */
static ssize_t fetch_range(const char *download_url, int64_t a, size_t len, int64_t total,
                           char *dst, int64_t *total_out)
{
    char safe[512];
    log_scrub_url(download_url, safe, sizeof(safe));
    size_t done = 0;
    int failures = 0, resolves = 0;
    int64_t deadline = now_ms() + (int64_t)cfg.retry_budget * 1000;
    while (done < len) {
        int err = EIO;
        CdnUrl *cdn = resolve(download_url, &err);
        if (!cdn)
            return -err;
        char bearer[4096] = "";
        if (cdn->needs_auth && auth_header(bearer, sizeof(bearer)) != 0) {
            cacheval_unref(&cdn->base);
            return -EACCES;
        }
        HttpRequest req;
        http_request_init(&req, "GET", cdn->url);
        req.authorization = cdn->needs_auth ? bearer : NULL;
        req.range_start = a + (int64_t)done;
        req.range_end = a + (int64_t)len - 1;
        Sink sink = {.dst = dst + done, .cap = len - done};
        req.sink = sink_write;
        req.sink_ctx = &sink;
        HttpResponse resp;
        http_send(&req, &resp);
        explicit_bzero(bearer, sizeof(bearer));
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
        snprintf(neterr, sizeof(neterr), "%s", resp.error);
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

struct Stream {
    pthread_mutex_t lock;
    char *url;
    int64_t size;
    char *buf; /* readahead: bytes [buf_off, buf_off + buf_len) */
    size_t buf_cap;
    int64_t buf_off;
    size_t buf_len;
    int64_t next_seq; /* where a sequential reader reads next */
    size_t window;
};

Stream *stream_open(const char *download_url, int64_t size)
{
    Stream *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->url = xstrdup(download_url);
    s->size = size;
    s->window = READAHEAD_START;
    return s;
}

void stream_close(Stream *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s->url);
    free(s->buf);
    free(s);
}

ssize_t stream_read(Stream *s, char *out, size_t len, int64_t off)
{
    if (off >= s->size || len == 0)
        return 0;
    if ((int64_t)len > s->size - off)
        len = (size_t)(s->size - off);
    lock(&s->lock);
    if (off >= s->buf_off && off + (int64_t)len <= s->buf_off + (int64_t)s->buf_len) {
        memcpy(out, s->buf + (off - s->buf_off), len);
        s->next_seq = off + (int64_t)len;
        unlock(&s->lock);
        return (ssize_t)len;
    }
    /* Sequential readers get a window that doubles up to the maximum; a
     * random read costs only what it asked for. */
    bool sequential = off == s->next_seq ||
                      (s->buf_len && off >= s->buf_off && off <= s->buf_off + (int64_t)s->buf_len);
    if (sequential) {
        if (off > 0)
            s->window = s->window * 2 > readahead_max ? readahead_max : s->window * 2;
    } else {
        s->window = READAHEAD_START;
    }
    size_t want = sequential && s->window > len ? s->window : len;
    if ((int64_t)want > s->size - off)
        want = (size_t)(s->size - off);
    if (want > s->buf_cap) {
        free(s->buf);
        s->buf = xmalloc(want);
        s->buf_cap = want;
    }
    s->buf_len = 0;
    ssize_t n = fetch_range(s->url, off, want, s->size, s->buf, NULL);
    if (n < 0) {
        unlock(&s->lock);
        return n;
    }
    s->buf_off = off;
    s->buf_len = (size_t)n;
    size_t give = (size_t)n < len ? (size_t)n : len;
    memcpy(out, s->buf, give);
    s->next_seq = off + (int64_t)give;
    unlock(&s->lock);
    return (ssize_t)give;
}
