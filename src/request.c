/* request: attempts, deadline, backoff, Retry-After, token renewal and POST
 * safety, for every kind of request. */
#include "zoomfs/request.h"

#include "zoomfs/jsonfile.h"
#include "zoomfs/log.h"
#include "zoomfs/op.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static RequestLimits limits = {.max_attempts = 5, .budget_s = 120, .io_timeout_s = 30};
static RequestSend transport = http_send;
static const RequestBearer *bearer_source;

/* Zoom's limits are the account's: a per-second 429 asks every call to
 * slow down, not only the one that met it. Every API call waits out the
 * pause it asked for (Retry-After), and from then on calls go at most at
 * three quarters of the rate that was getting through, a little faster
 * each second without a 429, unpaced after a minute without one.
 * A daily limit that ran out, or nearly (X-RateLimit-Remaining under 5% of
 * X-RateLimit-Limit), makes the account busy for a minute: work nobody asked
 * for yet (prefetch) waits for a reader to ask. */
#define LOW_BUDGET_MS 60000
#define PACE_WINDOW   256 /* sends remembered: the rate up to 256 a second */

static pthread_mutex_t pace_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t pause_until, busy_until; /* now_ms() clock */
static struct {
    int64_t sent[PACE_WINDOW]; /* times of the last sends, a ring */
    unsigned next;
    int rate;                  /* sends a second allowed; 0: unpaced */
    int64_t cut_at, raised_at; /* the last 429 and the last increase */
} pace;

void request_init(const RequestLimits *l)
{
    limits = *l;
    pthread_mutex_lock(&pace_lock);
    memset(&pace, 0, sizeof(pace));
    pause_until = busy_until = 0;
    pthread_mutex_unlock(&pace_lock);
}

void request_set_bearer(const RequestBearer *b)
{
    bearer_source = b;
}

static void release_bearer(char *header)
{
    if (header && bearer_source)
        bearer_source->release(header);
}

void request_set_transport(RequestSend send)
{
    transport = send ? send : http_send;
}

/* Exponential backoff with jitter, capped: 250 ms, 500 ms, 1 s, ... 8 s. */
static int64_t backoff_ms(int failures)
{
    int64_t base = 250LL << (failures < 6 ? failures : 5);
    return base / 2 + (int64_t)(random() % (base / 2 + 1));
}

char *request_zoom_message(const HttpResponse *resp, int *code)
{
    *code = 0;
    json_t *doc =
        resp->body.len ? jsonfile_load_tolerant(resp->body.data, resp->body.len, NULL) : NULL;
    *code = (int)json_integer_value(json_object_get(doc, "code"));
    const char *msg = json_string_value(json_object_get(doc, "message"));
    if (!msg) {
        json_decref(doc);
        return NULL;
    }
    StrBuf b;
    strbuf_init(&b);
    log_escape_into(&b, msg);
    json_t *errors = json_object_get(doc, "errors");
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        strbuf_append(&b, i ? "; " : " (", 2);
        log_escape_into(&b, json_string_value(json_object_get(e, "field")) ?: "?");
        strbuf_append(&b, ": ", 2);
        log_escape_into(&b, json_string_value(json_object_get(e, "message")) ?: "?");
    }
    if (json_array_size(errors))
        strbuf_append(&b, ")", 1);
    json_decref(doc);
    return strbuf_take(&b, NULL);
}

/* Why the call failed, in one line, with Zoom's own words where it gave
 * any and, when Zoom gave a code that errmap knows, what to do about it:
 * logged once and kept in .zoomfs/errors, or, for a quiet call, left in
 * c->reason for the caller. */
static void report(Call *c, const HttpResponse *resp, int err, bool ambiguous)
{
    if (c->quiet && c->reason)
        return; /* the judge's account is the caller's */
    const char *tail = ambiguous ? "; not retried, it may have taken effect in Zoom" : "";
    char *line;
    if (c->reason) {
        line = xasprintf("%s (%s)%s", c->reason, errmap_errno_name(err), tail);
    } else if (resp->neterr) {
        line = xasprintf("%s (%s)%s", resp->error ? resp->error : "transfer failed",
                         errmap_errno_name(err), tail);
    } else {
        int code = 0;
        char *msg = request_zoom_message(resp, &code);
        StrBuf ra;
        strbuf_init(&ra);
        if (resp->status == 429 && resp->retry_after) {
            strbuf_append(&ra, " (retry after ", 14);
            log_escape_into(&ra, resp->retry_after);
            strbuf_append(&ra, ")", 1);
        }
        char *hint = errmap_hint(c->route, resp->status, code, resp->ratelimit_type, msg);
        line = xasprintf("HTTP %ld code %d: %s%s (%s)%s%s%s", resp->status, code,
                         msg ? msg : "no message", ra.data ? ra.data : "", errmap_errno_name(err),
                         tail, hint ? "; hint: " : "", hint ? hint : "");
        free(hint);
        strbuf_free(&ra);
        free(msg);
    }
    free(c->reason);
    c->reason = NULL;
    if (c->quiet) {
        c->reason = line;
        return;
    }
    stats_error("%s: %s", c->what, line);
    free(line);
}

/* How long to wait before the next attempt: what the server asked for
 * (Retry-After: seconds or a date), else backoff with jitter. */
static int64_t wait_ms(const HttpResponse *resp, int failures)
{
    int64_t ra = resp->retry_after ? errmap_retry_after_ms(resp->retry_after, time(NULL)) : -1;
    return ra >= 0 ? ra + (int64_t)(random() % 250) : backoff_ms(failures);
}

/* ---- pacing shared by every call ---------------------------------------- */

/* Sends in the last second. Called with pace_lock held. */
static int pace_recent(int64_t now, int64_t *oldest)
{
    int n = 0;
    *oldest = now;
    for (int i = 0; i < PACE_WINDOW; i++) {
        int64_t t = pace.sent[i];
        if (t && t > now - 1000) {
            n++;
            *oldest = t < *oldest ? t : *oldest;
        }
    }
    return n;
}

/* How long this send must wait for the paced rate (0: go now, counted as
 * sent). */
static int64_t pace_slot(void)
{
    pthread_mutex_lock(&pace_lock);
    int64_t now = now_ms(), oldest, wait = 0;
    if (pace.rate && now - pace.cut_at > 60000)
        pace.rate = 0; /* a minute without a 429 */
    if (pace.rate && now - pace.raised_at >= 1000) {
        pace.rate++;
        pace.raised_at = now;
    }
    if (pace.rate && pace_recent(now, &oldest) >= pace.rate)
        wait = oldest + 1000 - now;
    if (wait <= 0) {
        pace.sent[pace.next++ % PACE_WINDOW] = now;
        wait = 0;
    }
    pthread_mutex_unlock(&pace_lock);
    return wait;
}

/* A per-second 429: pace at 3/4 of what went through (once a second, as
 * the calls in flight meet it together). */
static void pace_cut(void)
{
    pthread_mutex_lock(&pace_lock);
    int64_t now = now_ms(), oldest;
    if (now - pace.cut_at >= 1000) {
        int got = pace_recent(now, &oldest) * 3 / 4;
        int rate = got > 0 ? got : 1;
        pace.rate = pace.rate && pace.rate < rate ? pace.rate : rate;
        pace.raised_at = now;
    }
    pace.cut_at = now;
    pthread_mutex_unlock(&pace_lock);
}

static void pace_extend(int64_t *slot, int64_t until)
{
    pthread_mutex_lock(&pace_lock);
    if (until > *slot)
        *slot = until;
    pthread_mutex_unlock(&pace_lock);
}

static int64_t pace_read(const int64_t *slot)
{
    pthread_mutex_lock(&pace_lock);
    int64_t v = *slot;
    pthread_mutex_unlock(&pace_lock);
    return v;
}

bool request_busy(void)
{
    return now_ms() < pace_read(&busy_until);
}

static void pace_learn(const HttpResponse *resp)
{
    if (resp->ratelimit_limit > 0 && resp->ratelimit_remaining >= 0 &&
        resp->ratelimit_remaining * 20 < resp->ratelimit_limit)
        pace_extend(&busy_until, now_ms() + LOW_BUDGET_MS);
}

/* The state of one call across its attempts. */
typedef struct {
    int max_attempts;
    int64_t deadline;
    int failures, resolves;
    bool renewed;    /* the token was renewed once already */
    bool maybe_done; /* an attempt may have reached the server and acted */
    char *bearer;    /* the Authorization value of the last attempt */
} Attempts;

/* The operation ended (deadline, Ctrl-C, unmount): say so once. */
static int ended(const Call *c, int rc)
{
    if (!c->quiet)
        op_report(c->what, rc);
    return rc;
}

/* Sends one attempt. Returns 0, or -errno when it could not be sent. */
static int attempt(Call *c, Attempts *a, HttpResponse *resp)
{
    int rc;
    if ((rc = op_check()) != 0)
        return ended(c, rc);
    if (c->prepare && (rc = c->prepare(c)) != 0)
        return rc;
    if (c->bearer) {
        release_bearer(a->bearer);
        a->bearer = NULL;
        if (!bearer_source)
            return -EACCES; /* no credentials were set up */
        if ((rc = bearer_source->header(&a->bearer)) != 0)
            return rc;
        c->req.authorization = a->bearer;
    }
    for (int64_t wait = 1; c->bearer && wait > 0;) {
        int64_t pause = pace_read(&pause_until) - now_ms();
        wait = pause > 0 ? pause : pace_slot();
        if (wait > 0 && now_ms() + wait >= a->deadline)
            wait = 0; /* the deadline comes first: try once more */
        if (wait > 0 && (rc = op_sleep(wait)) != 0)
            return ended(c, rc);
    }
    transport(&c->req, resp);
    pace_learn(resp);
    stats_request(c->route, resp->neterr ? 0 : resp->status);
    return (rc = op_check()) != 0 ? ended(c, rc) : 0; /* a transfer cut for this */
}

/* After a failed attempt: 1 to try again, or 0 with *rc to give up. */
static int again(Call *c, Attempts *a, HttpResponse *resp, ErrMapping m, int *rc)
{
    bool progressed = c->progressed && c->progressed(c, resp);
    if (progressed)
        a->failures = 0;
    *rc = -(m.err ? m.err : EIO);
    if (m.action == ERRACT_REFRESH_TOKEN && c->bearer && !a->renewed) {
        /* Zoom did not act on a request it refused for its token: even a
         * POST may go again, once. */
        a->renewed = true;
        log_info("%s: token refused, renewing", c->what);
        if (bearer_source && bearer_source->reject(a->bearer) == 0)
            return 1;
    }
    if (m.action == ERRACT_RESOLVE && c->stale && a->resolves++ < c->max_resolves) {
        log_info("%s: HTTP %ld; resolving the URL again", c->what, resp->status);
        c->stale(c);
        return 1;
    }
    bool transient = m.action == ERRACT_RETRY || m.action == ERRACT_RATE_WAIT;
    /* A 429 says Zoom did nothing; a 5xx or a cut transfer does not. */
    bool ambiguous =
        m.action == ERRACT_RETRY && !c->idempotent && (resp->request_sent || !resp->neterr);
    int64_t wait = wait_ms(resp, a->failures);
    if (transient && !ambiguous && (progressed || ++a->failures < a->max_attempts) &&
        now_ms() + wait < a->deadline) {
        if (!c->quiet)
            log_info("%s: %s; retrying in %lld ms", c->what,
                     resp->neterr ? (resp->error ? resp->error : "transfer failed") : "server busy",
                     (long long)wait);
        stats_add(m.action == ERRACT_RATE_WAIT ? STAT_RATE_WAITS : STAT_RETRIES, 1);
        if (m.action == ERRACT_RATE_WAIT && c->bearer) {
            pace_extend(&pause_until, now_ms() + wait);
            pace_cut();
        }
        if ((*rc = op_sleep(wait)) == 0)
            return 1;
        ended(c, *rc);
        return 0;
    }
    if (m.action == ERRACT_RATE_WAIT) {
        *rc = -EAGAIN;
        pace_extend(&busy_until, now_ms() + LOW_BUDGET_MS);
    }
    report(c, resp, -*rc, ambiguous);
    return 0;
}

int request_run(Call *c, HttpResponse *resp)
{
    Attempts a = {.max_attempts = c->max_attempts > 0 ? c->max_attempts : limits.max_attempts,
                  .deadline = now_ms() + (int64_t)limits.budget_s * 1000};
    int rc;
    memset(resp, 0, sizeof(*resp));
    while ((rc = attempt(c, &a, resp)) == 0) {
        ErrMapping m = resp->neterr ? errmap_net(resp->neterr) : c->judge(c, resp);
        if (m.action == ERRACT_FAIL && m.err == ENOENT && c->gone_is_done && a.maybe_done) {
            log_info("%s: 404 after an attempt whose answer was lost: that attempt did it",
                     c->what);
            m.action = ERRACT_OK;
        }
        if (m.action == ERRACT_OK)
            break;
        a.maybe_done |= resp->request_sent && m.action == ERRACT_RETRY;
        if (!again(c, &a, resp, m, &rc))
            break;
        http_response_free(resp);
    }
    if (rc != 0)
        http_response_free(resp);
    c->req.authorization = NULL;
    release_bearer(a.bearer);
    if (!c->quiet || rc == 0) {
        free(c->reason);
        c->reason = NULL;
    }
    return rc;
}
