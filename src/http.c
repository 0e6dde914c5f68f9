/* http: libcurl share + per-thread easy handles; one attempt per call. */
#include "zoomfs/http.h"

#include "zoomfs/log.h"
#include "zoomfs/op.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Error bodies and small JSON answers are kept; a runaway body is cut. */
#define BODY_CAP (4u << 20)
/* libcurl's receive buffer for bodies that stream to a sink (recordings):
 * with its default 16 KiB, a recv() per 16 KiB (the sink is still handed
 * 16 KiB at a time). */
#define SINK_BUFFER (256L << 10)

static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
static pthread_key_t easy_key;
static char *ca_path;
static long connect_timeout_s = 10, io_timeout_s = 30;

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *u)
{
    (void)h, (void)access, (void)u;
    lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *u)
{
    (void)h, (void)u;
    unlock(&share_locks[data]);
}

static void easy_destroy(void *p)
{
    curl_easy_cleanup(p);
}

int http_init(const char *cafile, int connect_timeout, int io_timeout)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share_locks[i], NULL);
    share = curl_share_init();
    curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    pthread_key_create(&easy_key, easy_destroy);
    ca_path = cafile ? xstrdup(cafile) : NULL;
    connect_timeout_s = connect_timeout;
    io_timeout_s = io_timeout;
    return 0;
}

void http_thread_done(void)
{
    CURL *mine = share ? pthread_getspecific(easy_key) : NULL;
    if (mine) {
        curl_easy_cleanup(mine);
        pthread_setspecific(easy_key, NULL);
    }
}

void http_cleanup(void)
{
    if (!share)
        return; /* never started */
    CURL *mine = pthread_getspecific(easy_key);
    if (mine) {
        curl_easy_cleanup(mine);
        pthread_setspecific(easy_key, NULL);
    }
    curl_share_cleanup(share);
    share = NULL;
    free(ca_path);
    ca_path = NULL;
    curl_global_cleanup();
}

void http_request_init(HttpRequest *req, const char *method, const char *url)
{
    memset(req, 0, sizeof(*req));
    req->method = method;
    req->url = url;
    req->range_start = -1;
    req->range_end = -1;
}

typedef struct {
    const HttpRequest *req;
    HttpResponse *resp;
    CURL *easy;
} Transfer;

static char *header_value(const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name);
    if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return NULL;
    const char *v = line + nl + 1;
    const char *end = line + len;
    while (v < end && isspace((unsigned char)*v))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    return xstrndup(v, (size_t)(end - v));
}

static void set_header(char **slot, char *value)
{
    if (!value)
        return;
    free(*slot);
    *slot = value;
}

/* A header that is a count: anything else leaves the slot as it was. */
static void set_number(int64_t *slot, char *value)
{
    char *end;
    if (value) {
        errno = 0;
        long long n = strtoll(value, &end, 10);
        if (errno == 0 && end != value && *end == '\0' && n >= 0)
            *slot = n;
    }
    free(value);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    Transfer *t = ctx;
    HttpResponse *r = t->resp;
    size_t len = size * nmemb;
    if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a redirect or 100-continue): forget the old. */
        r->status = 0;
        free(r->content_type), r->content_type = NULL;
        free(r->content_range), r->content_range = NULL;
        r->content_length = -1;
        return len;
    }
    set_header(&r->content_type, header_value(data, len, "Content-Type"));
    set_header(&r->location, header_value(data, len, "Location"));
    set_header(&r->retry_after, header_value(data, len, "Retry-After"));
    set_header(&r->ratelimit_type, header_value(data, len, "X-RateLimit-Type"));
    set_header(&r->content_range, header_value(data, len, "Content-Range"));
    set_number(&r->ratelimit_limit, header_value(data, len, "X-RateLimit-Limit"));
    set_number(&r->ratelimit_remaining, header_value(data, len, "X-RateLimit-Remaining"));
    char *cl = header_value(data, len, "Content-Length");
    if (cl) {
        r->content_length = strtoll(cl, NULL, 10);
        free(cl);
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    Transfer *t = ctx;
    HttpResponse *r = t->resp;
    size_t len = size * nmemb;
    if (r->status == 0) /* the first bytes of this answer */
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r->status);
    r->body_started = true;
    r->body_bytes += (int64_t)len;
    if (t->req->sink && r->status >= 200 && r->status < 300) {
        size_t taken = t->req->sink(t->req->sink_ctx, r, data, len);
        if (taken < len)
            r->sink_stopped = true;
        return taken;
    }
    if (r->body.len + len > BODY_CAP)
        return 0;
    strbuf_append(&r->body, data, len);
    return len;
}

/* "Name: value" as one header line of whatever length; none for a NULL value. */
static struct curl_slist *append_header(struct curl_slist *list, const char *name,
                                        const char *value)
{
    if (!value)
        return list;
    char *line = xasprintf("%s: %s", name, value);
    struct curl_slist *out = curl_slist_append(list, line);
    explicit_bzero(line, strlen(line)); /* it may hold the token */
    free(line);
    if (!out)
        abort();
    return out;
}

static CURL *thread_easy(void)
{
    CURL *e = pthread_getspecific(easy_key);
    if (!e) {
        e = curl_easy_init();
        if (!e)
            abort();
        pthread_setspecific(easy_key, e);
    } else {
        curl_easy_reset(e);
    }
    return e;
}

static NetError classify(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return NETERR_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return NETERR_CONNECT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
        return NETERR_TLS;
    /* A connection that answers garbage (bytes left over from an answer
     * that sent more than its Content-Length): libcurl drops it, and
     * another try goes over a new one. */
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return NETERR_RESET;
    default:
        return NETERR_OTHER;
    }
}

/* Aborts a transfer whose operation ended (deadline, Ctrl-C, unmount):
 * libcurl calls this about once a second even while no byte moves. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ctx, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return op_check() != 0;
}

/* What every transfer shares: the connection pool, timeouts, TLS always
 * verified, and where headers and bytes go. */
static void set_transfer(CURL *e, const HttpRequest *req, Transfer *t)
{
    curl_easy_setopt(e, CURLOPT_SHARE, share);
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, connect_timeout_s);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, io_timeout_s);
    if (req->total_timeout > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT, req->total_timeout);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_path)
        curl_easy_setopt(e, CURLOPT_CAINFO, ca_path);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "zoomfs/" ZOOMFS_VERSION);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, req->follow_redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    if (req->sink)
        curl_easy_setopt(e, CURLOPT_BUFFERSIZE, SINK_BUFFER);
}

static void set_method(CURL *e, const HttpRequest *req)
{
    /* libcurl silently resends a request whose reused connection turns out
     * dead; a POST must never be sent twice, so it gets its own. */
    if (strcmp(req->method, "POST") == 0)
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
        /* A body only where there is one: Zoom's DELETEs take none, so they
         * carry no Content-Type and no Content-Length. A POST always sends
         * its (possibly empty) body. */
        if (req->body || strcmp(req->method, "POST") == 0) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(req->body ? req->body_len : 0));
        }
    }
}

static struct curl_slist *request_headers(const HttpRequest *req)
{
    /* Header lines are as long as their values: a token is a JWT of 600 to
     * 2,000+ characters, and nothing from outside is cut. */
    struct curl_slist *headers = append_header(NULL, "Authorization", req->authorization);
    if (req->body)
        headers = append_header(headers, "Content-Type", req->content_type);
    headers = append_header(headers, "Accept", "application/json");
    /* No "Expect: 100-continue" round trip for small JSON bodies ("Name:"
     * with nothing after the colon removes a header of libcurl's own). */
    struct curl_slist *out = curl_slist_append(headers, "Expect:");
    if (!out)
        abort();
    return out;
}

void http_send(const HttpRequest *req, HttpResponse *resp)
{
    memset(resp, 0, sizeof(*resp));
    strbuf_init(&resp->body);
    resp->content_length = -1;
    resp->ratelimit_limit = resp->ratelimit_remaining = -1;
    CURL *e = thread_easy();
    Transfer t = {.req = req, .resp = resp, .easy = e};
    set_transfer(e, req, &t);
    set_method(e, req);
    struct curl_slist *headers = request_headers(req);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    char range[48]; /* two int64 values: at most 41 bytes */
    if (req->range_start >= 0) {
        if (req->range_end >= 0)
            snprintf(range, sizeof(range), "%" PRId64 "-%" PRId64, req->range_start,
                     req->range_end);
        else
            snprintf(range, sizeof(range), "%" PRId64 "-", req->range_start);
        curl_easy_setopt(e, CURLOPT_RANGE, range);
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);

    CURLcode rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp->status);
    long sent = 0;
    curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &sent);
    resp->request_sent = sent > 0;
    if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && resp->sink_stopped)) {
        /* resp->status may still hold the status line of a response whose
         * body was cut: callers look at neterr first. */
        resp->neterr = classify(rc);
        resp->error = xstrdup(errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(headers);
}

void http_response_free(HttpResponse *r)
{
    strbuf_free(&r->body);
    free(r->content_type);
    free(r->location);
    free(r->retry_after);
    free(r->ratelimit_type);
    free(r->content_range);
    free(r->error);
    memset(r, 0, sizeof(*r));
}

/* Digits at *s as a non-negative int64 (no sign, no space); advances *s.
 * Past INT64_MAX: INT64_MAX when saturate, else -1. Returns -1 when there
 * are none. */
static int64_t digits_value(const char **s, bool saturate)
{
    int64_t v = 0;
    const char *p = *s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (INT64_MAX - (*p - '0')) / 10) {
            if (!saturate)
                return -1;
            v = INT64_MAX;
            continue;
        }
        if (v != INT64_MAX)
            v = v * 10 + (*p - '0');
    }
    if (p == *s)
        return -1;
    *s = p;
    return v;
}

int http_parse_content_range(const char *v, int64_t *a, int64_t *b, int64_t *total)
{
    /* RFC 9110: "bytes first-last/complete", complete "*" when unknown;
     * last below complete. Anything else is no answer to a Range. */
    if (!v || strncasecmp(v, "bytes ", 6) != 0)
        return -1;
    const char *p = v + 6;
    int64_t x = digits_value(&p, false), y = -1, t = -1;
    if (x < 0 || *p++ != '-' || (y = digits_value(&p, false)) < x || *p++ != '/')
        return -1;
    /* A total past int64 (a hostile or broken server) is the most a size
     * can say: the bytes that exist are still served. */
    if (*p == '*')
        p++;
    else if ((t = digits_value(&p, true)) <= y)
        return -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return -1;
    *a = x;
    *b = y;
    *total = t;
    return 0;
}
