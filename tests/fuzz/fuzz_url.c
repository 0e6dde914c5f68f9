/* URL building and the token's gate (endpoint.h, urlenc.h). The input is
 * lines: a route template ("PATCH /meetings/{meetingId}"; "#N" picks the
 * N-th endpoint of the real row table), the user, object, file and sub ids
 * (a line that is not there is NULL), a query, a URL, and up to two trusted
 * URLs. Invariants: a component is encoded into unreserved characters and
 * %XX only and decodes back to itself; a UUID is encoded twice exactly when
 * it starts with '/' or holds "//"; endpoint_path is the template with each
 * placeholder replaced by its encoded id (NULL when an id is missing or a
 * placeholder unknown), so an id never adds a '/', '?' or '#'; a URL with
 * '@' in its authority never gets the token, nor plain http to a host other
 * than this machine, nor https to a host other than Zoom's or a trusted
 * one. */
#include "fuzz.h"

#include "zoomfs/endpoint.h"
#include "zoomfs/rows.h"
#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <strings.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    return 0;
}

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static bool upper_hex(unsigned char c)
{
    return isdigit(c) || (c >= 'A' && c <= 'F');
}

/* Only unreserved characters and %XX; decoded into out (strlen(s) + 1). */
static bool decode(const char *s, char *out)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '%' && upper_hex((unsigned char)s[1]) && upper_hex((unsigned char)s[2])) {
            unsigned v;
            sscanf(s + 1, "%2X", &v);
            *out++ = (char)v;
            s += 2;
        } else if (c < 0x80 && unreserved(c)) {
            *out++ = (char)c;
        } else {
            return false;
        }
    }
    *out = '\0';
    return true;
}

static void check_component(const char *s)
{
    char *enc = urlenc_component(s);
    char *back = xmalloc(strlen(enc) + 1);
    FUZZ_CHECK(decode(enc, back), "\"%s\" encoded as \"%s\"", s, enc);
    FUZZ_CHECK(strcmp(back, s ? s : "") == 0, "\"%s\" → \"%s\" → \"%s\"", s, enc, back);
    free(back);
    free(enc);

    char *seg = urlenc_uuid_segment(s);
    char *once = urlenc_component(s);
    bool twice = s && (s[0] == '/' || strstr(s, "//"));
    char *want = twice ? urlenc_component(once) : xstrdup(once);
    FUZZ_CHECK(strcmp(seg, want) == 0, "uuid \"%s\" → \"%s\", not \"%s\"", s, seg, want);
    free(want);
    free(once);
    free(seg);
}

/* endpoint_path as its header describes it, built apart. */
static char *expected_path(const char *route, const Ids *ids, const char *query)
{
    static const struct {
        const char *name;
        int field; /* 0 user, 1 object, 2 file, 3 sub */
        bool uuid;
    } map[] = {{"userId", 0, false},      {"meetingId", 1, true},    {"webinarId", 1, true},
               {"meetingUUID", 1, true},  {"recordingId", 2, false}, {"registrantId", 3, false},
               {"occurrenceId", 3, false}};
    const char *values[] = {ids->user, ids->object, ids->file, ids->sub};
    const char *p = strchr(route, ' ');
    p = p ? p + 1 : route;
    StrBuf b;
    strbuf_init(&b);
    for (;;) {
        const char *open = strchr(p, '{'), *close = open ? strchr(open, '}') : NULL;
        if (!close) {
            strbuf_append(&b, p, strlen(p));
            break;
        }
        strbuf_append(&b, p, (size_t)(open - p));
        size_t len = (size_t)(close - open - 1);
        char *v = NULL;
        for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && !v; i++) {
            if (strlen(map[i].name) != len || strncmp(map[i].name, open + 1, len) != 0)
                continue;
            if (!values[map[i].field])
                break;
            v = map[i].uuid ? urlenc_uuid_segment(values[map[i].field])
                            : urlenc_component(values[map[i].field]);
        }
        if (!v) {
            strbuf_free(&b);
            return NULL;
        }
        strbuf_append(&b, v, strlen(v));
        free(v);
        p = close + 1;
    }
    if (query && *query)
        strbuf_appendf(&b, "%c%s", strchr(route, '?') ? '&' : '?', query);
    return strbuf_take(&b, NULL);
}

static size_t count_of(const char *s, const char *set)
{
    size_t n = 0;
    for (; *s; s++)
        n += strchr(set, *s) != NULL;
    return n;
}

static void check_endpoint(const char *route, const Ids *ids, const char *query, bool real)
{
    char method[8];
    endpoint_method(route, method);
    size_t mlen = strcspn(route, " ");
    FUZZ_CHECK(strlen(method) == (mlen < 7 ? mlen : 7) &&
                   strncmp(method, route, strlen(method)) == 0,
               "method \"%s\" of \"%s\"", method, route);

    char *got = endpoint_path(route, ids, query);
    char *want = expected_path(route, ids, query);
    FUZZ_CHECK((!got && !want) || (got && want && strcmp(got, want) == 0),
               "\"%s\" gave \"%s\", not \"%s\"", route, got ? got : "(null)",
               want ? want : "(null)");
    if (got && real && !(query && *query)) {
        /* a real template: the ids add no segment, query or fragment */
        const char *tpl = strchr(route, ' ') + 1;
        FUZZ_CHECK(count_of(got, "/?#") == count_of(tpl, "/?#"), "\"%s\" gave \"%s\"", route, got);
    }
    free(got);
    free(want);
}

/* The authority of an http(s) URL: after "://", up to '/', '?' or '#'. */
static bool authority(const char *url, const char **a, size_t *len)
{
    const char *p = strstr(url, "://");
    if (!p)
        return false;
    *a = p + 3;
    *len = strcspn(*a, "/?#");
    return true;
}

/* The host of an authority without userinfo, lowercase; malloc'd. */
static char *host_of(const char *a, size_t len)
{
    const char *at = memchr(a, '@', len);
    if (at) {
        len -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    /* "[v6]" up to its ']'; a '[' never closed is no valid host at all
     * (libcurl refuses the URL): the whole authority, as urlenc reads it */
    const char *close = a[0] == '[' ? memchr(a, ']', len) : NULL;
    size_t h = a[0] == '[' ? (close ? (size_t)(close - a) + 1 : len) : strcspn(a, ":");
    if (h > len)
        h = len;
    char *out = xmalloc(h + 1);
    for (size_t i = 0; i < h; i++)
        out[i] = (char)tolower((unsigned char)a[i]);
    out[h] = '\0';
    return out;
}

static bool is_loopback(const char *host)
{
    char buf[80];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        struct in6_addr a6;
        return inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    struct in_addr a4;
    return strcmp(host, "localhost") == 0 ||
           (inet_pton(AF_INET, host, &a4) == 1 && ((const unsigned char *)&a4.s_addr)[0] == 127);
}

static bool under(const char *host, const char *domain)
{
    size_t h = strlen(host), d = strlen(domain);
    return strcmp(host, domain) == 0 ||
           (h > d && host[h - d - 1] == '.' && strcmp(host + h - d, domain) == 0);
}

static void check_url(const char *url, const char *const *trusted)
{
    int scheme_ok = urlenc_scheme_allowed(url);
    bool token_ok = urlenc_token_allowed(url, trusted);
    const char *a;
    size_t len;
    if (scheme_ok) {
        bool https = strncasecmp(url, "https://", 8) == 0;
        FUZZ_CHECK(https || strncasecmp(url, "http://", 7) == 0, "scheme of \"%s\"", url);
        FUZZ_CHECK(authority(url, &a, &len) && len > 0 && !memchr(a, '@', len),
                   "\"%s\" allowed with '@' or no host", url);
        char *host = host_of(a, len);
        FUZZ_CHECK(https || is_loopback(host), "plain http to \"%s\" (%s)", host, url);
        free(host);
    }
    if (!token_ok)
        return;
    FUZZ_CHECK(scheme_ok, "the token may go to \"%s\", a URL refused", url);
    if (strncasecmp(url, "https://", 8) != 0)
        return; /* http: loopback, checked above */
    authority(url, &a, &len);
    char *host = host_of(a, len);
    bool ok = under(host, "zoom.us") || under(host, "zoomgov.com");
    for (const char *const *t = trusted; t && *t && !ok; t++) {
        const char *ta;
        size_t tlen;
        if (authority(*t, &ta, &tlen)) {
            char *th = host_of(ta, tlen);
            ok = strcmp(th, host) == 0;
            free(th);
        }
    }
    FUZZ_CHECK(ok, "the token may go to \"%s\" (host \"%s\")", url, host);
    free(host);
}

/* The n-th endpoint template of the row table. */
static const char *real_route(unsigned long n)
{
    const char *all[5 * 32];
    size_t count = 0;
    for (size_t r = 0; r < nrows && count + 5 <= sizeof(all) / sizeof(all[0]); r++) {
        const char *e[] = {rows[r].list, rows[r].get, rows[r].patch, rows[r].post, rows[r].del};
        for (size_t i = 0; i < 5; i++)
            if (e[i])
                all[count++] = e[i];
    }
    return count ? all[n % count] : "GET /users";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *block, *f[10];
    size_t n = fuzz_fields(data, size, '\n', f, 10, &block);
    (void)n;
    for (int i = 1; i <= 5; i++)
        check_component(f[i]);

    bool real = f[0] && f[0][0] == '#';
    const char *route = real ? real_route(strtoul(f[0] + 1, NULL, 10)) : f[0] ? f[0] : "";
    Ids ids = {.user = f[1], .object = f[2], .file = f[3], .sub = f[4]};
    check_endpoint(route, &ids, f[5], real);

    const char *trusted[] = {f[7], f[8], NULL};
    if (f[6])
        check_url(f[6], f[7] ? trusted : NULL);
    /* the line of a query or an id is a URL too */
    for (int i = 0; i <= 5; i++)
        if (f[i])
            check_url(f[i], NULL);
    free(block);
    return 0;
}
