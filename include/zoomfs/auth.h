/* auth: the access token. Server-to-Server OAuth (account_credentials) with
 * one token for the process, renewed about a minute before it expires by a
 * single thread while the others wait; or a static token. The token
 * response's api_url is honoured. */
#ifndef ZOOMFS_AUTH_H
#define ZOOMFS_AUTH_H

#include <stddef.h>

/* Fetches the first token (so bad credentials fail the mount with a clear
 * message). Returns 0 or -errno with a one-line reason in err. */
int auth_init(char *err, size_t errlen);
void auth_cleanup(void);

/* A valid "Bearer …" header value, malloc'd (free it with auth_free, which
 * wipes it), whatever the token's length. Returns 0 or -errno. */
int auth_header(char **out);
void auth_free(char *header);

/* The token in header `used` was refused (401/124): forget it, so the next
 * auth_header() renews, unless another thread already did. Returns 0 when a
 * renewal is possible (S2S), -EACCES for a static token. */
int auth_reject(const char *used);

/* The URL of a REST path: the base ("https://api.zoom.us/v2", or the
 * token's region) followed by path. Malloc'd; safe while a renewal changes
 * the base. */
char *auth_api_url(const char *path);

#endif
