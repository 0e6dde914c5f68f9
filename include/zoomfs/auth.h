/* auth: the access token. Server-to-Server OAuth (account_credentials) with
 * one token for the process, renewed ahead of its expiry by a single thread
 * while the others wait; or a static token. The token response's api_url is
 * honoured. Token requests go through request_run like every other. */
#ifndef ZOOMFS_AUTH_H
#define ZOOMFS_AUTH_H

#include "zoomfs/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fetches the first token (so bad credentials fail the mount with a clear
 * message). Returns 0 or -errno; *err gets a malloc'd one-line reason. The
 * strings of cfg must outlive the module. */
int auth_init(const AuthConfig *cfg, char **err);
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

/* How long before expiry a token of this lifetime is renewed: a minute, as
 * Zoom's own SDK does, or a quarter of a short life (never less than zero). */
int64_t auth_renew_margin_ms(int64_t lifetime_ms);

#endif
