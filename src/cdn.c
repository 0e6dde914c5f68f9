/* cdn: download_url → signed CDN URL (remembered), checked Range GETs,
 * resume after a cut. */
#include "zoomfs/cdn.h"

#include "zoomfs/cache.h"
#include "zoomfs/errmap.h"
#include "zoomfs/http.h"
#include "zoomfs/log.h"
#include "zoomfs/request.h"
#include "zoomfs/stats.h"
#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Trusted for this long; a CDN URL that stops working earlier is resolved
 * again at once. */
#define CDN_URL_TTL_MS (10 * 60 * 1000)
#define MAX_RESOLVES   3

static Cache *cdn_urls;
static long io_timeout_s = 30;
static const char *const *trusted; /* hosts besides Zoom's that may get the token */

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

void cdn_init(int io_timeout, const char *const *trusted_urls)
{
    cdn_urls = cache_new(4096, 4u << 20);
    io_timeout_s = io_timeout;
    trusted = trusted_urls;
}

void cdn_cleanup(void)
{
    cache_free(cdn_urls);
    cdn_urls = NULL;
}

void cdn_forget_all(void)
{
    cache_drop_prefix(cdn_urls, "");
}

static bool is_html(const HttpResponse *r)
{
    return r->content_type && strncasecmp(r->content_type, "text/html", 9) == 0;
}

/* ---- download_url → CDN URL ------------------------------------------- */

static ErrMapping judge_download_url(Call *c, const HttpResponse *resp)
{
    ErrMapping m = errmap_download_url(resp->status, is_html(resp), resp->location != NULL);
    if (m.action != ERRACT_OK && (resp->status == 401 || is_html(resp))) {
        free(c->reason);
        c->reason = xasprintf("refused (HTTP %ld, %s)", resp->status,
                              is_html(resp) ? "an HTML page instead of the file" : "unauthorized");
    }
    return m;
}

/* Where a redirect may lead: https, or http to loopback. Anything else
 * (plain http elsewhere, file://, ftp://, credentials in the URL) would
 * fetch bytes that nothing vouches for, or leak. */
static bool cdn_url_allowed(const char *url)
{
    return urlenc_scheme_allowed(url);
}

static int count_resolve(Call *c)
{
    (void)c;
    stats_add(STAT_URL_RESOLVES, 1);
    return 0;
}

static CdnUrl *resolve_now(const char *download_url, const char *safe, int *err)
{
    char *what = xasprintf("download %s", safe);
    Call c = {.route = "GET download_url",
              .what = what,
              .bearer = true,
              .idempotent = true,
              .prepare = count_resolve,
              .judge = judge_download_url};
    http_request_init(&c.req, "GET", download_url);
    /* If the server sends the file itself, one byte is enough to learn it. */
    c.req.range_start = 0;
    c.req.range_end = 0;
    c.req.total_timeout = io_timeout_s * 2;
    HttpResponse resp;
    int rc = request_run(&c, &resp);
    CdnUrl *out = NULL;
    if (rc == 0) {
        const char *url = resp.status / 100 == 3 ? resp.location : download_url;
        if (!cdn_url_allowed(url)) {
            stats_error("%s: refused a redirect to a URL that is not https (nor http to "
                        "loopback)",
                        what);
            rc = -EACCES;
        } else {
            out = xcalloc(1, sizeof(*out));
            out->url = xstrdup(url);
            out->needs_auth = resp.status / 100 != 3;
            out->base.refs = 1;
            out->base.destroy = cdn_url_destroy;
            out->base.cost = sizeof(*out) + strlen(out->url);
            cache_put(cdn_urls, download_url, &out->base, CDN_URL_TTL_MS);
        }
        http_response_free(&resp);
    }
    free(what);
    *err = -rc;
    return out;
}

/* download_urls being resolved right now: a reader and the read-ahead worker
 * asking for the same file wait for one answer instead of asking twice. */
typedef struct Resolving {
    struct Resolving *next;
    const char *url;
} Resolving;

static pthread_mutex_t resolving_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t resolving_done = PTHREAD_COND_INITIALIZER;
static Resolving *resolving;

static bool being_resolved(const char *url)
{
    for (Resolving *r = resolving; r; r = r->next)
        if (strcmp(r->url, url) == 0)
            return true;
    return false;
}

static CdnUrl *resolve(const char *download_url, const char *safe, int *err)
{
    lock(&resolving_lock);
    for (;;) {
        CacheVal *cached = cache_get(cdn_urls, download_url);
        if (cached) {
            unlock(&resolving_lock);
            return (CdnUrl *)cached;
        }
        if (!being_resolved(download_url))
            break;
        pthread_cond_wait(&resolving_done, &resolving_lock);
    }
    Resolving mine = {.next = resolving, .url = download_url};
    resolving = &mine;
    unlock(&resolving_lock);
    CdnUrl *out = resolve_now(download_url, safe, err);
    lock(&resolving_lock);
    for (Resolving **p = &resolving; *p; p = &(*p)->next)
        if (*p == &mine) {
            *p = mine.next;
            break;
        }
    pthread_cond_broadcast(&resolving_done);
    unlock(&resolving_lock);
    return out;
}

/* ---- Range GETs --------------------------------------------------------- */

/* One download in progress: where its bytes go and how far it got. */
typedef struct {
    const char *download_url;
    const char *safe; /* the URL as logs may show it */
    int64_t start;    /* first byte asked for */
    size_t len;
    int64_t total; /* the file's size, -1 unknown */
    const DownloadSink *to;
    size_t done;    /* bytes handed over by earlier attempts */
    size_t got;     /* bytes the current attempt handed over after done */
    bool checked;   /* the current attempt's answer carries the bytes asked for */
    int64_t learnt; /* total from the answer (a size probe) */
    CdnUrl *cdn;    /* the URL of the current attempt */
    char *bearer;   /* for a server that serves download_url itself */
} Download;

static bool response_is_range(const HttpResponse *r, int64_t a, int64_t total);

/* The body of a 2xx answer: checked once its headers are in, so that
 * nothing but the file's bytes ever reaches the caller, then handed over as
 * it arrives (libcurl's buffer is the only copy before the caller's). */
static size_t sink_write(void *ctx, const HttpResponse *resp, const char *data, size_t n)
{
    Download *d = ctx;
    if (!d->checked) {
        if (!response_is_range(resp, d->start + (int64_t)d->done, d->total))
            return 0; /* stops it; judge_range says why */
        d->checked = true;
    }
    size_t cap = d->len - d->done - d->got;
    size_t take = n < cap ? n : cap;
    if (take) {
        /* counted before the caller can see them: a reader that has its
         * bytes finds them in .zoomfs/stats */
        stats_add(STAT_BYTES_STREAMED, (int64_t)take);
        d->to->write(d->to->ctx, d->done + d->got, data, take);
    }
    d->got += take;
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

static int prepare_range(Call *c)
{
    Download *d = c->ctx;
    cacheval_unref(d->cdn ? &d->cdn->base : NULL);
    d->cdn = NULL;
    int err = EIO;
    if (!(d->cdn = resolve(d->download_url, d->safe, &err)))
        return -err;
    c->req.url = d->cdn->url;
    c->bearer = d->cdn->needs_auth;
    c->req.range_start = d->start + (int64_t)d->done;
    c->req.range_end = d->start + (int64_t)d->len - 1;
    d->got = 0;
    d->checked = false;
    stats_add(STAT_RANGE_REQUESTS, 1);
    return 0;
}

/* Keeps what a valid answer brought; returns whether it was valid. */
static bool keep_bytes(Download *d, const HttpResponse *resp)
{
    if (resp->status / 100 != 2 || !response_is_range(resp, d->start + (int64_t)d->done, d->total))
        return false;
    if (resp->status == 206) {
        int64_t a, b;
        http_parse_content_range(resp->content_range, &a, &b, &d->learnt);
    } else {
        d->learnt = resp->content_length;
    }
    d->done += d->got;
    return true;
}

static ErrMapping judge_range(Call *c, const HttpResponse *resp)
{
    Download *d = c->ctx;
    bool valid = keep_bytes(d, resp);
    ErrMapping m = errmap_cdn(resp->status, is_html(resp), valid);
    if (m.action == ERRACT_FAIL && resp->status / 100 == 2) {
        free(c->reason);
        c->reason =
            xasprintf("answer is not the bytes asked for (HTTP %ld, range %lld-%lld); "
                      "not handed to the reader",
                      resp->status, (long long)c->req.range_start, (long long)c->req.range_end);
    }
    return m;
}

/* A cut transfer: keep the bytes that came, resume after them. */
static bool range_progressed(Call *c, const HttpResponse *resp)
{
    Download *d = c->ctx;
    return resp->neterr && d->got > 0 && keep_bytes(d, resp);
}

static void range_stale(Call *c)
{
    Download *d = c->ctx;
    cache_drop(cdn_urls, d->download_url);
}

ssize_t cdn_download(const char *download_url, int64_t off, size_t len, int64_t total,
                     const DownloadSink *to, int64_t *total_out)
{
    char *safe = log_scrub_url(download_url);
    if (!urlenc_token_allowed(download_url, trusted)) {
        stats_error("download %s: refused: the access token goes only over https to Zoom's hosts "
                    "(or http to this machine), never with credentials in the URL",
                    safe);
        free(safe);
        return -EACCES;
    }
    char *what = xasprintf("download %s", safe);
    Download d = {.download_url = download_url,
                  .safe = safe,
                  .start = off,
                  .len = len,
                  .total = total,
                  .to = to,
                  .learnt = -1};
    int rc = 0;
    while (d.done < len && rc == 0) {
        size_t before = d.done;
        Call c = {.route = "GET cdn",
                  .what = what,
                  .idempotent = true,
                  .max_resolves = MAX_RESOLVES,
                  .prepare = prepare_range,
                  .judge = judge_range,
                  .progressed = range_progressed,
                  .stale = range_stale,
                  .ctx = &d};
        http_request_init(&c.req, "GET", download_url);
        c.req.sink = sink_write;
        c.req.sink_ctx = &d;
        HttpResponse resp;
        rc = request_run(&c, &resp);
        if (rc == 0)
            http_response_free(&resp);
        /* A short 206 asks for the rest; an answer with nothing in it is
         * the end of the file (a size probe of an empty file). */
        if (rc == 0 && (d.done == before || total_out))
            break;
    }
    cacheval_unref(d.cdn ? &d.cdn->base : NULL);
    free(what);
    free(safe);
    if (total_out)
        *total_out = d.learnt;
    return rc ? rc : (ssize_t)d.done;
}
