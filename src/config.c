/* config: defaults, the private config file, credentials, validation. */
#include "zoomfs/config.h"

#include "zoomfs/log.h"
#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

Config cfg;

void config_defaults(Config *c)
{
    memset(c, 0, sizeof(*c));
    c->auth.api_url = xstrdup("https://api.zoom.us");
    c->auth.oauth_url = xstrdup("https://zoom.us");
    c->store.dir_ttl = 60;
    c->store.attr_ttl = 60;
    c->store.uid = getuid();
    c->store.gid = getgid();
    c->store.umask = 077;
    c->readahead_max = 8u << 20;
    /* One reader of the 8 MiB window holds at most 11 MiB of chunks (the
     * window and the chunks being read): four readers keep their whole
     * windows, more share 48 MiB. */
    c->readahead_total = 48u << 20;
    c->connect_timeout = 10;
    c->io_timeout = 30;
    c->retry_max = 5;
    c->retry_budget = 120;
    c->store.settled_ttl = 7 * 24 * 3600;
    c->max_inodes = 50000;
    c->prefetch = 8;
    c->op_timeout = 120;
    c->log_level = LOG_LVL_INFO;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int config_parse_text(const char *text, int (*set)(const char *, const char *, void *), void *ctx)
{
    char *copy = xstrdup(text);
    int lineno = 0, bad = 0;
    for (char *line = copy; line && !bad;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        lineno++;
        char *s = trim(line);
        if (*s && *s != '#') {
            char *eq = strchr(s, '=');
            if (!eq) {
                bad = lineno;
                break;
            }
            *eq = '\0';
            char *key = trim(s), *val = trim(eq + 1);
            size_t vl = strlen(val);
            if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
                val[vl - 1] = '\0';
                val++;
            }
            if (!*key || set(key, val, ctx) != 0)
                bad = lineno;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
    return bad;
}

static const char *const credential_keys[] = {"ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID",
                                              "ZOOM_CLIENT_SECRET", "ZOOM_ACCESS_TOKEN"};

static char **credential_slot(Config *c, const char *key)
{
    char **slots[] = {&c->auth.account_id, &c->auth.client_id, &c->auth.client_secret,
                      &c->auth.static_token};
    for (size_t i = 0; i < ARRAY_SIZE(credential_keys); i++) {
        /* The file may spell keys either way: ZOOM_CLIENT_ID or client_id. */
        const char *k = credential_keys[i];
        if (strcasecmp(key, k) == 0 || strcasecmp(key, k + 5) == 0)
            return slots[i];
    }
    return NULL;
}

static int set_from_file(const char *key, const char *value, void *ctx)
{
    Config *c = ctx;
    char **slot = credential_slot(c, key);
    if (!slot)
        return -1;
    if (!*slot && *value)
        *slot = xstrdup(value);
    return 0;
}

static char *default_config_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg)
        return xasprintf("%s/zoomfs/config", xdg);
    const char *home = getenv("HOME");
    if (home && *home)
        return xasprintf("%s/.config/zoomfs/config", home);
    return NULL;
}

static int load_file(Config *c, const char *path, bool must_exist, char *err, size_t errlen)
{
    /* O_NONBLOCK: a FIFO in its place must not hang the mount. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT && !must_exist)
            return 0;
        snprintf(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "config file %s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        /* as ssh does: secrets come only from a file of one's own */
        snprintf(err, errlen, "config file %s is owned by another user (uid %u); it holds secrets",
                 path, (unsigned)st.st_uid);
        close(fd);
        return -1;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        snprintf(err, errlen,
                 "config file %s is accessible by group or others (mode %03o); "
                 "it holds secrets: chmod 600 it",
                 path, (unsigned)(st.st_mode & 0777));
        close(fd);
        return -1;
    }
    StrBuf text;
    strbuf_init(&text);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0 && text.len < (1u << 20))
        strbuf_append(&text, buf, (size_t)n);
    close(fd);
    strbuf_append(&text, "", 0);
    int bad = config_parse_text(text.data, set_from_file, c);
    strbuf_free(&text);
    if (bad) {
        snprintf(err, errlen, "config file %s: line %d is not a known 'key = value'", path, bad);
        return -1;
    }
    return 0;
}

int config_load_credentials(Config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < ARRAY_SIZE(credential_keys); i++) {
        const char *v = getenv(credential_keys[i]);
        char **slot = credential_slot(c, credential_keys[i]);
        if (v && *v && !*slot)
            *slot = xstrdup(v);
    }
    bool explicit_path = c->config_path != NULL;
    char *path = explicit_path ? xstrdup(c->config_path) : default_config_path();
    int r = path ? load_file(c, path, explicit_path, err, errlen) : 0;
    free(path);
    return r;
}

int config_validate(const Config *c, char *err, size_t errlen)
{
    const char *urls[][2] = {{"api_url", c->auth.api_url}, {"oauth_url", c->auth.oauth_url}};
    for (size_t i = 0; i < ARRAY_SIZE(urls); i++) {
        if (!urlenc_scheme_allowed(urls[i][1])) {
            snprintf(err, errlen,
                     "%s=%s refused: use https:// (plain http:// is allowed only to a "
                     "loopback host)",
                     urls[i][0], urls[i][1]);
            return -1;
        }
    }
    bool s2s = c->auth.account_id && c->auth.client_id && c->auth.client_secret;
    if (!s2s && !c->auth.static_token) {
        snprintf(err, errlen,
                 "no credentials: set ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID and ZOOM_CLIENT_SECRET "
                 "(or ZOOM_ACCESS_TOKEN) in the environment or in the config file");
        return -1;
    }
    if (c->cafile && access(c->cafile, R_OK) != 0) {
        snprintf(err, errlen, "cafile %s cannot be read: %s", c->cafile, strerror(errno));
        return -1;
    }
    if (c->store.since) {
        int y, m;
        char tail;
        if (sscanf(c->store.since, "%4d-%2d%c", &y, &m, &tail) != 2 || m < 1 || m > 12 ||
            y < 2000) {
            snprintf(err, errlen, "since=%s: expected YYYY-MM", c->store.since);
            return -1;
        }
    }
    if (c->store.dir_ttl < 0 || c->store.attr_ttl < 0) {
        snprintf(err, errlen, "dir_ttl and attr_ttl must be 0 or more seconds");
        return -1;
    }
    return 0;
}

void config_free(Config *c)
{
    char **strings[] = {&c->auth.api_url,       &c->auth.oauth_url,    &c->cafile,
                        &c->config_path,        &c->auth.account_id,   &c->auth.client_id,
                        &c->auth.client_secret, &c->auth.static_token, &c->store.since,
                        &c->ledger_path};
    for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
        if (*strings[i] &&
            (strings[i] == &c->auth.client_secret || strings[i] == &c->auth.static_token))
            explicit_bzero(*strings[i], strlen(*strings[i]));
        free(*strings[i]);
        *strings[i] = NULL;
    }
}
