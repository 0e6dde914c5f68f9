/* config: everything zoomfs was told at start — mount options, credentials
 * from the environment or a private config file — checked once. Secrets are
 * never accepted on the command line. */
#ifndef ZOOMFS_CONFIG_H
#define ZOOMFS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What auth needs: endpoints and credentials (never logged). */
typedef struct {
    /* api_url gets "/v2" appended; the token response's api_url replaces it
     * unless the user set api_url explicitly. */
    char *api_url;
    bool api_url_explicit;
    char *oauth_url;
    char *account_id;
    char *client_id;
    char *client_secret;
    char *static_token; /* used when the S2S credentials are not all there */
} AuthConfig;

/* What the middle (store and the kinds of nodes) needs. */
typedef struct {
    bool read_only;
    bool recording_delete_permanent;
    int dir_ttl;     /* seconds listings are trusted */
    int attr_ttl;    /* seconds objects and attributes are trusted */
    int settled_ttl; /* seconds a settled month kept on disk is trusted */
    int cache_mb;    /* the object cache's bound in MiB (0: the default) */
    char *since;     /* "YYYY-MM": first month folder, overrides created_at */
    uid_t uid;
    gid_t gid;
    mode_t umask;
} StoreConfig;

typedef struct {
    AuthConfig auth;
    StoreConfig store;
    char *cafile;
    char *config_path;
    size_t readahead_max; /* bytes */
    size_t max_inodes;    /* entries the kernel may hold before it is asked to forget */
    int prefetch;         /* objects of a listing fetched at once ahead of the reader */
    int connect_timeout;  /* seconds */
    int io_timeout;       /* seconds without progress before a request fails */
    int retry_max;        /* attempts per idempotent request */
    int retry_budget;     /* seconds all attempts of one request may take */
    int op_timeout;       /* seconds one operation (read, listing, save) may take */
    char *ledger_path;    /* NULL: default under the cache dir; "none": memory only */
    /* bytes the chunks of all open recordings together may hold for read-ahead */
    size_t readahead_total;
    int log_level;
    bool foreground;
} Config;

extern Config cfg;

/* Fills defaults (uid/gid of the caller, umask 077, TTLs, endpoints). */
void config_defaults(Config *c);

/* Parses "key = value" lines (comments with '#', blank lines ignored, values
 * may be quoted). Calls set(key, value, ctx) for each; returns 0, or the
 * 1-based number of the first malformed line. */
int config_parse_text(const char *text, int (*set)(const char *key, const char *value, void *ctx),
                      void *ctx);

/* Loads credentials: environment first (ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID,
 * ZOOM_CLIENT_SECRET, ZOOM_ACCESS_TOKEN), then the config file for keys the
 * environment left unset. The file must not be readable by group or others.
 * Returns 0, or -1 with a one-line reason in err. */
int config_load_credentials(Config *c, char *err, size_t errlen);

/* Checks the whole configuration (URLs allowed, credentials present, values
 * in range). Returns 0, or -1 with a one-line reason in err. */
int config_validate(const Config *c, char *err, size_t errlen);

void config_free(Config *c);

#endif
