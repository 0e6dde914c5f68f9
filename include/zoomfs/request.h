/* request: the one request policy. Every request zoomfs sends (REST calls,
 * the token, download_url hops, CDN ranges) runs through request_run, which
 * owns the attempts, the deadline, backoff with jitter, Retry-After,
 * renewing a refused token once, and POST safety (a request that may have
 * reached the server is never sent again unless it is idempotent). What a
 * response means is the caller's judge (errmap_http for the API,
 * errmap_cdn for the CDN); every errno decision lives in errmap. */
#ifndef ZOOMFS_REQUEST_H
#define ZOOMFS_REQUEST_H

#include "zoomfs/errmap.h"
#include "zoomfs/http.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Call Call;
struct Call {
    const char *route; /* label for .zoomfs/stats: "GET /users/{userId}" */
    const char *what;  /* for log lines, no secret in it: "GET /users/abc" */
    HttpRequest req;   /* the request; prepare may adjust it per attempt */
    bool bearer;       /* send the access token (renewed once when refused) */
    bool idempotent;   /* may be sent again after it may have reached the server */
    int max_attempts;  /* 0: the configured default */
    int max_resolves;  /* ERRACT_RESOLVE answers tolerated */
    bool gone_is_done; /* a DELETE: a 404 after an attempt that may have reached the
                          server means that attempt did it */
    bool quiet;        /* the caller reports failures: request_run leaves the
                          line it would have logged in .reason (caller frees) */
    /* Before each attempt: set what changes (a range after progress, a
     * fresh URL). Returns 0, or -errno to give up with. */
    int (*prepare)(Call *c);
    /* What a response means. */
    ErrMapping (*judge)(Call *c, const HttpResponse *resp);
    /* ERRACT_RESOLVE: the URL went stale; forget it before the next try. */
    void (*stale)(Call *c);
    /* Did this attempt move the transfer forward (bytes kept)? Progress
     * resets the count of failures, so a long download that is cut now and
     * then still finishes. */
    bool (*progressed)(Call *c, const HttpResponse *resp);
    char *reason; /* a judge's own account of a failure (malloc'd) */
    void *ctx;
};

/* The bounds of every request, from the configuration. */
typedef struct {
    int max_attempts; /* per request */
    int budget_s;     /* seconds all attempts of one request may take */
    int io_timeout_s; /* seconds of no progress before one attempt fails */
} RequestLimits;

/* Sets the bounds; calls go unpaced from here (see request.c). */
void request_init(const RequestLimits *limits);

/* Where Authorization values come from: auth.c registers itself at init
 * (request stays below auth). header: a valid "Bearer …" value, malloc'd,
 * freed with release; reject: that value was refused, returns 0 when a
 * renewed one may be tried. */
typedef struct {
    int (*header)(char **out);
    int (*reject)(const char *used);
    void (*release)(char *header);
} RequestBearer;
void request_set_bearer(const RequestBearer *bearer);

/* The transport: http_send in production; unit tests put their own. */
typedef void (*RequestSend)(const HttpRequest *req, HttpResponse *resp);
void request_set_transport(RequestSend send);

/* Runs the call. Returns 0 with the final (successful) response in *resp,
 * which the caller frees, or -errno (resp freed). The reason for a failure
 * is logged once and kept in .zoomfs/errors. */
int request_run(Call *c, HttpResponse *resp);

/* The account is near a rate limit (a daily one ran out or nearly, per
 * X-RateLimit-Remaining): work no reader asked for yet should wait. */
bool request_busy(void);

/* Zoom's error body as one line: "Validation Failed. (duration: Invalid
 * field.)" — its message and each field error, control characters escaped.
 * Malloc'd; NULL when the body has no message. */
char *request_zoom_message(const HttpResponse *resp, int *code);

#endif
