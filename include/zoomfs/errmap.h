/* errmap: the one table that turns what Zoom (or the network) said into what
 * zoomfs does next and which errno the caller sees. Pure: no I/O. */
#ifndef ZOOMFS_ERRMAP_H
#define ZOOMFS_ERRMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

typedef enum {
    ERRACT_OK = 0,        /* success: nothing to do */
    ERRACT_FAIL,          /* give up now with .err */
    ERRACT_RETRY,         /* transient: retry with backoff if the request is idempotent */
    ERRACT_REFRESH_TOKEN, /* token expired/invalid: renew once and retry */
    ERRACT_RATE_WAIT,     /* per-second rate limit: wait (Retry-After) and retry */
    ERRACT_RESOLVE,       /* the URL went stale (an expired signed CDN URL): resolve it again */
} ErrAction;

typedef struct {
    ErrAction action;
    int err;         /* positive errno to return when giving up (0 on success) */
    bool drop_cache; /* the resource is gone: forget cached state about it */
} ErrMapping;

/* Transport-level failure classes (before any HTTP status was received). */
typedef enum {
    NETERR_NONE = 0,
    NETERR_TIMEOUT, /* connect or low-speed timeout */
    NETERR_RESET,   /* connection reset / closed mid-response */
    NETERR_CONNECT, /* could not connect */
    NETERR_TLS,     /* certificate or TLS failure: never retried */
    NETERR_OTHER,
} NetError;

/* Maps an HTTP response. zoom_code is the "code" field of Zoom's JSON error
 * body (0 when absent). ratelimit_type is the X-RateLimit-Type header value
 * (NULL when absent); message is Zoom's "message" (NULL when absent). */
ErrMapping errmap_http(long status, int zoom_code, const char *ratelimit_type, const char *message);

/* The token endpoint (POST /oauth/token): wrong credentials are final
 * (EACCES); a busy or failing server is worth another try. */
ErrMapping errmap_token(long status);

/* The first hop of a download: GET download_url with the token, redirects
 * not followed. A redirect with a Location, or the file itself (2xx, not
 * HTML), is the answer; 401 or Zoom's HTML sign-in page (which it sends
 * with status 200) means the token was refused. */
ErrMapping errmap_download_url(long status, bool html, bool has_location);

/* The CDN's answer to a Range GET. is_range: the response carries exactly
 * the bytes asked for. A refusal (401, 403, 404, 410, HTML) means the signed
 * URL went stale: resolve download_url again. A 2xx that is not the range
 * is never handed to a reader (EIO). */
ErrMapping errmap_cdn(long status, bool html, bool is_range);

/* Maps a transport failure: retryable ones give ERRACT_RETRY with err set to
 * what to return once retries are exhausted (ETIMEDOUT, EIO, ...). */
ErrMapping errmap_net(NetError e);

/* Parses a Retry-After value: delta seconds ("3"), an HTTP-date
 * ("Sun, 31 May 2020 00:00:00 GMT") or an ISO-8601 UTC time
 * ("2020-05-31T00:00:00Z"). Returns milliseconds to wait from `now`
 * (never negative), or -1 when the value cannot be parsed. */
int64_t errmap_retry_after_ms(const char *value, time_t now);

/* For an admin reading the log: what to do about a failure that Zoom
 * explained with its code (the "code" of its JSON error body) or a 429,
 * e.g. "scope recording:read:admin missing; add it to the app in the
 * Marketplace" for 4711. route is the endpoint's template ("GET
 * /users/{userId}/recordings"; may be NULL): it names the scope when
 * Zoom's message lists none or several. Malloc'd; NULL when there is no
 * hint for the code. */
char *errmap_hint(const char *route, long status, int zoom_code, const char *ratelimit_type,
                  const char *message);

/* The scopes a 4711/4700 message says the token lacks ("Invalid access
 * token, does not contain scopes:[a, b]." gives "a, b"), NULL when it names
 * none. Zoom lists the scopes that would each allow the call. Malloc'd. */
char *errmap_missing_scopes(const char *message);

/* The classic admin scope zoomfs needs for a route: "GET
 * /users/{userId}/recordings" needs recording:read:admin, "PATCH
 * /meetings/{meetingId}" meeting:write:admin, "GET download_url"
 * recording:read:admin. NULL for routes outside the REST API. */
const char *errmap_route_scope(const char *route);

/* Short human name of an errno for log lines ("ENOENT"). */
const char *errmap_errno_name(int err);

#endif
