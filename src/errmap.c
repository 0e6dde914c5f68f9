/* errmap: the one table from what Zoom or the network said to what zoomfs
 * does next (give up, retry, refresh the token, wait out a rate limit) and
 * which errno the caller finally sees. Design §5; Zoom's codes from the API
 * notes §1.6-1.7, §2.4-2.5, §2.8. */
#include "zoomfs/errmap.h"

#include "zoomfs/naming.h"
#include "zoomfs/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Zoom error codes that change the mapping of their status. */
enum {
    ZOOM_NO_PRIVILEGE = 200,    /* 400: "No privilege." */
    ZOOM_TOKEN_INVALID = 124,   /* 401: invalid or expired access token */
    ZOOM_SCOPE_OLD = 4700,      /* 400: token lacks scopes (older form) */
    ZOOM_SCOPE = 4711,          /* 400: token lacks scopes */
    ZOOM_NOT_IN_ACCOUNT = 1010, /* 400: user does not belong to this account */
    ZOOM_NOT_HOST = 3003,       /* 400: you are not the meeting host */
};

static ErrMapping fail(int err)
{
    return (ErrMapping){.action = ERRACT_FAIL, .err = err};
}

static ErrMapping act(ErrAction action, int err)
{
    return (ErrMapping){.action = action, .err = err};
}

/* A 429 is a daily limit when Zoom says so in X-RateLimit-Type
 * ("Daily-limit") or, as for the per-user meeting limit that carries no such
 * header, in its message ("You have exceeded the daily rate limit ..."). */
static bool is_daily_limit(const char *ratelimit_type, const char *message)
{
    return (ratelimit_type && strcasestr(ratelimit_type, "daily")) ||
           (message && strcasestr(message, "daily"));
}

ErrMapping errmap_http(long status, int zoom_code, const char *ratelimit_type, const char *message)
{
    if (status >= 200 && status < 300)
        return act(ERRACT_OK, 0);
    if (status >= 500 && status < 600)
        return act(ERRACT_RETRY, EIO);
    switch (status) {
    case 400:
        /* A missing scope comes as 400 (not 401/403): a permission problem,
         * not bad input; refreshing the token would not help either. */
        if (zoom_code == ZOOM_SCOPE || zoom_code == ZOOM_SCOPE_OLD ||
            zoom_code == ZOOM_NO_PRIVILEGE)
            return fail(EACCES);
        /* Gone from this account, as far as this mount can see: like 404. */
        if (zoom_code == ZOOM_NOT_IN_ACCOUNT)
            return (ErrMapping){.action = ERRACT_FAIL, .err = ENOENT, .drop_cache = true};
        if (zoom_code == ZOOM_NOT_HOST)
            return fail(EACCES);
        return fail(EINVAL);
    case 401:
        if (zoom_code == ZOOM_TOKEN_INVALID)
            return act(ERRACT_REFRESH_TOKEN, EACCES);
        return fail(EACCES);
    case 403:
        return fail(EACCES);
    case 404:
        return (ErrMapping){.action = ERRACT_FAIL, .err = ENOENT, .drop_cache = true};
    case 409:
        return fail(EEXIST);
    case 413:
        return fail(EFBIG);
    case 429:
        if (is_daily_limit(ratelimit_type, message))
            return fail(EAGAIN);
        return act(ERRACT_RATE_WAIT, EAGAIN);
    default:
        return fail(EIO);
    }
}

ErrMapping errmap_token(long status)
{
    if (status >= 200 && status < 300)
        return act(ERRACT_OK, 0);
    if (status >= 500 || status == 429)
        return act(ERRACT_RETRY, EIO);
    return fail(EACCES);
}

ErrMapping errmap_download_url(long status, bool html, bool has_location)
{
    if (status >= 300 && status < 400 && has_location)
        return act(ERRACT_OK, 0);
    if (status == 401 || (html && status < 300))
        return act(ERRACT_REFRESH_TOKEN, EACCES);
    if (status >= 200 && status < 300)
        return act(ERRACT_OK, 0);
    return errmap_http(status, 0, NULL, NULL);
}

ErrMapping errmap_cdn(long status, bool html, bool is_range)
{
    if (html || status == 401 || status == 403 || status == 404 || status == 410)
        return act(ERRACT_RESOLVE, EACCES);
    if (status >= 200 && status < 300)
        return is_range ? act(ERRACT_OK, 0) : fail(EIO);
    if (status == 429 || status >= 500)
        return act(ERRACT_RETRY, EIO);
    return fail(EIO);
}

ErrMapping errmap_net(NetError e)
{
    switch (e) {
    case NETERR_NONE:
        return act(ERRACT_OK, 0);
    case NETERR_TIMEOUT:
        return act(ERRACT_RETRY, ETIMEDOUT);
    case NETERR_RESET:
        /* EIO, not ECONNRESET: to a program reading a file a broken
         * transfer is an I/O error (design §5: "then EIO"). */
        return act(ERRACT_RETRY, EIO);
    case NETERR_CONNECT:
        /* EIO rather than EHOSTUNREACH: "could not connect" covers DNS
         * failures and refused connections too, where "No route to host"
         * would mislead; the log line says what happened. */
        return act(ERRACT_RETRY, EIO);
    case NETERR_TLS:
        /* Never retried: a certificate that does not verify will not verify
         * on the next try, and retrying could hand credentials to whoever
         * is in the middle. EACCES: zoomfs refuses to talk to that peer,
         * a permanent, trust-related refusal rather than a transient I/O
         * error the caller might loop on. */
        return fail(EACCES);
    case NETERR_OTHER:
    default:
        return fail(EIO);
    }
}

/* ---- Retry-After -------------------------------------------------------- */

typedef struct {
    int y, mon, d, h, mi, s;
    char month[4];
} HttpDate;

/* Each form must match whole: %n lands on the end of the string. */
static bool scan_imf_fixdate(const char *s, HttpDate *t)
{
    char wday[16];
    int end = -1;
    return sscanf(s, "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", wday, &t->d, t->month, &t->y,
                  &t->h, &t->mi, &t->s, &end) == 7 &&
           end > 0 && s[end] == '\0';
}

static bool scan_rfc850(const char *s, HttpDate *t)
{
    char wday[16];
    int end = -1;
    if (sscanf(s, "%15[A-Za-z], %2d-%3[A-Za-z]-%2d %2d:%2d:%2d GMT%n", wday, &t->d, t->month, &t->y,
               &t->h, &t->mi, &t->s, &end) != 7 ||
        end <= 0 || s[end] != '\0')
        return false;
    t->y += t->y < 70 ? 2000 : 1900; /* two-digit year */
    return true;
}

static bool scan_asctime(const char *s, HttpDate *t)
{
    char wday[16];
    int end = -1;
    return sscanf(s, "%15[A-Za-z] %3s %2d %2d:%2d:%2d %4d%n", wday, t->month, &t->d, &t->h, &t->mi,
                  &t->s, &t->y, &end) == 7 &&
           end > 0 && s[end] == '\0';
}

/* An HTTP-date (RFC 7231 §7.1.1.1): IMF-fixdate "Sun, 06 Nov 1994 08:49:37
 * GMT", and the obsolete forms recipients must still accept, RFC 850
 * "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994".
 * Returns epoch seconds or -1. */
static int64_t parse_http_date(const char *s)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    HttpDate t = {0};
    if (!scan_imf_fixdate(s, &t) && !scan_rfc850(s, &t) && !scan_asctime(s, &t))
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(months) && !t.mon; i++)
        if (strcasecmp(t.month, months[i]) == 0)
            t.mon = (int)i + 1;
    if (!t.mon)
        return -1;
    char iso[80]; /* naming_parse_time validates every field */
    snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ", t.y, t.mon, t.d, t.h, t.mi, t.s);
    return naming_parse_time(iso);
}

/* Delta seconds: digits only. Returns seconds or -1. */
static int64_t parse_seconds(const char *s)
{
    if (!isdigit((unsigned char)*s) || strlen(s) > 12)
        return -1;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    return strtoll(s, NULL, 10);
}

int64_t errmap_retry_after_ms(const char *value, time_t now)
{
    if (!value)
        return -1;
    while (isspace((unsigned char)*value))
        value++;
    char buf[64];
    size_t len = strlen(value);
    while (len > 0 && isspace((unsigned char)value[len - 1]))
        len--;
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, value, len);
    buf[len] = '\0';

    int64_t secs = parse_seconds(buf);
    if (secs >= 0)
        return secs * 1000;
    int64_t when = naming_parse_time(buf);
    if (when < 0)
        when = parse_http_date(buf);
    if (when < 0)
        return -1;
    return when > (int64_t)now ? (when - (int64_t)now) * 1000 : 0;
}

/* ---- errno names -------------------------------------------------------- */

#define E(x)                                                                                       \
    {                                                                                              \
        x, #x                                                                                      \
    }
static const struct {
    int err;
    const char *name;
} errno_names[] = {
    {0, "OK"},    E(EPERM),        E(ENOENT),     E(EINTR),     E(EIO),          E(EBADF),
    E(EAGAIN),    E(ENOMEM),       E(EACCES),     E(EFAULT),    E(EBUSY),        E(EEXIST),
    E(EXDEV),     E(ENODEV),       E(ENOTDIR),    E(EISDIR),    E(EINVAL),       E(ENFILE),
    E(EMFILE),    E(EFBIG),        E(ENOSPC),     E(ESPIPE),    E(EROFS),        E(EMLINK),
    E(ERANGE),    E(ENAMETOOLONG), E(ENOSYS),     E(ENOTEMPTY), E(ENODATA),      E(EPROTO),
    E(ENOTSUP),   E(ECONNREFUSED), E(ECONNRESET), E(ETIMEDOUT), E(EHOSTUNREACH), E(ENETUNREACH),
    E(ECANCELED), E(EOVERFLOW),
};
#undef E

const char *errmap_errno_name(int err)
{
    for (size_t i = 0; i < ARRAY_SIZE(errno_names); i++)
        if (errno_names[i].err == err)
            return errno_names[i].name;
    return "E?";
}

/* ---- hints for an admin ------------------------------------------------- */

/* A scope name as Zoom writes them: "recording:read:admin",
 * "cloud_recording:read:list_recording_files:admin". */
static bool scope_char(char ch)
{
    return islower((unsigned char)ch) || isdigit((unsigned char)ch) || ch == '_' || ch == ':' ||
           ch == '-' || ch == '.';
}

/* Appends the scope names of s[0, n) (separated by commas or blanks) to b,
 * joined by ", ". Returns false when something else is in there. */
static bool append_scopes(StrBuf *b, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (s[i] == ',' || s[i] == ' '))
            i++;
        size_t start = i;
        while (i < n && scope_char(s[i]))
            i++;
        if (i == start)
            return i == n;
        if (i < n && s[i] != ',' && s[i] != ' ')
            return false;
        if (b->len)
            strbuf_append(b, ", ", 2);
        strbuf_append(b, s + start, i - start);
    }
    return true;
}

char *errmap_missing_scopes(const char *message)
{
    const char *p = message ? strstr(message, "does not contain") : NULL;
    if (!p)
        return NULL;
    p += strlen("does not contain");
    StrBuf b;
    strbuf_init(&b);
    const char *open = strchr(p, '['), *close = open ? strchr(open, ']') : NULL;
    bool ok;
    if (open && close) {
        /* "…does not contain scopes:[a, b]" (4711) or "scopes: [a, b]" (4700) */
        ok = append_scopes(&b, open + 1, (size_t)(close - open - 1));
    } else {
        /* "…does not contain role:read:admin scope." */
        while (*p == ' ')
            p++;
        const char *end = strstr(p, " scope");
        ok = end && end > p && append_scopes(&b, p, (size_t)(end - p));
    }
    if (!ok || !b.len) {
        strbuf_free(&b);
        return NULL;
    }
    return strbuf_take(&b, NULL);
}

const char *errmap_route_scope(const char *route)
{
    /* In this order: /meetings/{meetingId}/recordings is about recordings,
     * /users/{userId}/meetings about meetings. */
    static const struct {
        const char *word, *read, *write;
    } areas[] = {
        {"recordings", "recording:read:admin", "recording:write:admin"},
        {"download_url", "recording:read:admin", NULL},
        {"webinars", "webinar:read:admin", "webinar:write:admin"},
        {"meetings", "meeting:read:admin", "meeting:write:admin"},
        {"/users", "user:read:admin", "user:write:admin"},
    };
    const char *path = route ? strchr(route, ' ') : NULL;
    if (!path)
        return NULL;
    bool read = strncmp(route, "GET ", 4) == 0;
    for (size_t i = 0; i < ARRAY_SIZE(areas); i++)
        if (strstr(path, areas[i].word))
            return read ? areas[i].read : areas[i].write;
    return NULL;
}

/* Whether list ("a, b, c") names scope. */
static bool listed_has(const char *list, const char *scope)
{
    size_t n = strlen(scope);
    for (const char *p = list; (p = strstr(p, scope)); p++)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || !p[n]))
            return true;
    return false;
}

/* 4711/4700: the scope to add. Of those Zoom lists (any one will do), the
 * one zoomfs asks for on this route when it is among them (the least that
 * works: a read scope for a read), else the first. */
static char *scope_hint(const char *route, const char *message)
{
    char *listed = errmap_missing_scopes(message);
    const char *ours = errmap_route_scope(route);
    char *pick = NULL;
    if (listed && !(ours && listed_has(listed, ours)))
        pick = xstrndup(listed, strcspn(listed, ","));
    else if (ours)
        pick = xstrdup(ours);
    free(listed);
    if (!pick)
        return xstrdup("a scope is missing: add the one this call needs to the app in the "
                       "Marketplace");
    char *hint = xasprintf("scope %s missing; add it to the app in the Marketplace", pick);
    free(pick);
    return hint;
}

static const struct {
    int code;
    const char *hint;
} code_hints[] = {
    {ZOOM_TOKEN_INVALID,
     "access token refused (an S2S token is renewed once first): expired, or the app "
     "deactivated in the Marketplace?"},
    {ZOOM_NO_PRIVILEGE, "no privilege: the account's plan, an add-on or the user's role does "
                        "not allow this"},
    {300, "Zoom refused a value: the message names the field"},
    {1001, "user not in the account (deleted, or never in it)"},
    {ZOOM_NOT_IN_ACCOUNT, "user not in this account"},
    {3000, "Zoom cannot act on this meeting now (started, or a wrong occurrence)"},
    {3001, "meeting gone: deleted, or ended and expired"},
    {ZOOM_NOT_HOST, "only the host (or an admin scope) may change this meeting"},
    {3161, "this user may not host or schedule meetings (user type or account settings)"},
    {3301, "no cloud recording for this meeting (deleted, or not recorded)"},
};

char *errmap_hint(const char *route, long status, int zoom_code, const char *ratelimit_type,
                  const char *message)
{
    if (status == 429 || zoom_code == 429) {
        if (is_daily_limit(ratelimit_type, message))
            return xstrdup("daily rate limit: calls of this kind fail until Zoom resets it at "
                           "00:00 UTC");
        return xstrdup("rate limit: Zoom still refused after the waits; fewer parallel "
                       "requests help");
    }
    if (zoom_code == ZOOM_SCOPE || zoom_code == ZOOM_SCOPE_OLD)
        return scope_hint(route, message);
    for (size_t i = 0; i < ARRAY_SIZE(code_hints); i++)
        if (code_hints[i].code == zoom_code)
            return xstrdup(code_hints[i].hint);
    return NULL;
}
