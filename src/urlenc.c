/* urlenc: percent-encoding for URL paths and queries, Zoom's double-encoding
 * rule for meeting UUIDs (API notes §2.3), and the check that keeps
 * credentials off plain http except to this machine. */
#include "zoomfs/urlenc.h"

#include "zoomfs/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 3986 unreserved, ASCII only (isalnum() would follow the locale). */
static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

char *urlenc_component(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    s = s ? s : "";
    char *out = xmalloc(3 * strlen(s) + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 0xF];
        }
    }
    *o = '\0';
    return out;
}

char *urlenc_uuid_segment(const char *uuid)
{
    char *once = urlenc_component(uuid);
    if (!uuid || (uuid[0] != '/' && !strstr(uuid, "//")))
        return once;
    char *twice = urlenc_component(once);
    free(once);
    return twice;
}

/* True when host (with its length; IPv6 without brackets) names this
 * machine: localhost, 127.0.0.0/8 as a plain dotted quad, or ::1. */
static bool loopback_host(const char *host, size_t len, bool bracketed)
{
    char buf[64];
    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, host, len);
    buf[len] = '\0';
    if (bracketed) {
        struct in6_addr a6;
        return inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    if (strcasecmp(buf, "localhost") == 0)
        return true;
    /* inet_pton takes exactly four decimal parts: not "127.1", "0x7f.0.0.1"
     * or "127.0.0.1.evil.com", which other parsers read differently. */
    struct in_addr a4;
    return inet_pton(AF_INET, buf, &a4) == 1 && ((const unsigned char *)&a4.s_addr)[0] == 127;
}

static bool valid_port(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)p[i]))
            return false;
    return len <= 5;
}

/* Checks the authority (host[:port]) of an http URL. Userinfo ("user@")
 * is refused outright: "http://127.0.0.1@evil.com" goes to evil.com. */
static bool loopback_authority(const char *auth, size_t len)
{
    if (memchr(auth, '@', len))
        return false;
    if (len > 0 && auth[0] == '[') {
        const char *close = memchr(auth, ']', len);
        if (!close)
            return false;
        size_t rest = len - (size_t)(close + 1 - auth);
        if (rest > 0 && (close[1] != ':' || !valid_port(close + 2, rest - 1)))
            return false;
        return loopback_host(auth + 1, (size_t)(close - auth - 1), true);
    }
    const char *colon = memchr(auth, ':', len);
    size_t host_len = colon ? (size_t)(colon - auth) : len;
    if (colon && !valid_port(colon + 1, len - host_len - 1))
        return false;
    return loopback_host(auth, host_len, false);
}

int urlenc_scheme_allowed(const char *url)
{
    static const char https[] = "https://", http[] = "http://";
    if (!url)
        return 0;
    if (strncasecmp(url, https, strlen(https)) == 0) {
        /* any host, as long as there is one and no credentials come with it */
        const char *auth = url + strlen(https);
        size_t len = strcspn(auth, "/?#");
        return len > 0 && !memchr(auth, '@', len);
    }
    if (strncasecmp(url, http, strlen(http)) != 0)
        return 0;
    const char *auth = url + strlen(http);
    return loopback_authority(auth, strcspn(auth, "/?#"));
}

/* The host of an http(s) URL, lowercase, malloc'd; NULL when there is none. */
static char *url_host(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    p += 3;
    size_t len = strcspn(p, "/?#");
    const char *at = memchr(p, '@', len);
    if (at) {
        len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t host = p[0] == '[' ? strcspn(p, "]") + (p[strcspn(p, "]")] == ']') : strcspn(p, ":");
    if (host > len)
        host = len;
    char *out = xstrndup(p, host);
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return out;
}

/* host is domain or below it ("us06web.zoom.us" under "zoom.us"). */
static bool within(const char *host, const char *domain)
{
    size_t h = strlen(host), d = strlen(domain);
    return h == d ? strcmp(host, domain) == 0
                  : h > d && host[h - d - 1] == '.' && strcmp(host + h - d, domain) == 0;
}

bool urlenc_token_allowed(const char *url, const char *const *trusted)
{
    static const char *const zoom[] = {"zoom.us", "zoomgov.com", NULL};
    if (!urlenc_scheme_allowed(url))
        return false;
    if (strncasecmp(url, "http://", 7) == 0)
        return true; /* loopback: urlenc_scheme_allowed says so */
    char *host = url_host(url);
    bool ok = false;
    for (const char *const *d = zoom; host && *d && !ok; d++)
        ok = within(host, *d);
    for (const char *const *t = trusted; host && t && *t && !ok; t++) {
        char *th = url_host(*t);
        ok = th && strcmp(th, host) == 0;
        free(th);
    }
    free(host);
    return ok;
}
