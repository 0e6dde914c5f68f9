/* request: attempts, deadline, backoff, Retry-After, token renewal and POST
 * safety, for every kind of request. */
#include "zoomfs/request.h"

#include "zoomfs/auth.h"
#include "zoomfs/jsonfile.h"
#include "zoomfs/log.h"
#include "zoomfs/op.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static RequestLimits limits = {.max_attempts = 5, .budget_s = 120, .io_timeout_s = 30};
static RequestSend transport = http_send;

void request_init(const RequestLimits *l)
{
    limits = *l;
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
        auth_free(a->bearer);
        if ((rc = auth_header(&a->bearer)) != 0)
            return rc;
        c->req.authorization = a->bearer;
    }
    transport(&c->req, resp);
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
        if (auth_reject(a->bearer) == 0)
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
        if ((*rc = op_sleep(wait)) == 0)
            return 1;
        ended(c, *rc);
        return 0;
    }
    if (m.action == ERRACT_RATE_WAIT)
        *rc = -EAGAIN;
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
    auth_free(a.bearer);
    if (!c->quiet || rc == 0) {
        free(c->reason);
        c->reason = NULL;
    }
    return rc;
}
