/* urlenc: percent-encoding for URL paths and queries, and Zoom's rule for
 * meeting UUIDs in paths. Pure. */
#ifndef ZOOMFS_URLENC_H
#define ZOOMFS_URLENC_H

#include <stdbool.h>

/* Percent-encodes every byte except RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~). Returns a malloc'd string. */
char *urlenc_component(const char *s);

/* Encodes a meeting/webinar ID or UUID for use as one path segment. Zoom
 * requires a UUID that starts with '/' or contains "//" to be encoded twice;
 * any other value is encoded once. Returns a malloc'd string. */
char *urlenc_uuid_segment(const char *uuid);

/* True when url is http:// to a loopback host (127.0.0.0/8, ::1, localhost)
 * or https:// to anything. Plain http elsewhere is refused: credentials would
 * travel in clear. */
int urlenc_scheme_allowed(const char *url);

/* May the access token go to url? Only over https to Zoom's own domains
 * (zoom.us, zoomgov.com and their subdomains: the API, the regional and
 * vanity hosts, the download hosts) or to the host of a URL in trusted
 * (the api_url and oauth_url in use), or over http to this machine; never
 * with user:password@ in the URL. trusted is NULL-terminated (may be NULL). */
bool urlenc_token_allowed(const char *url, const char *const *trusted);

#endif
