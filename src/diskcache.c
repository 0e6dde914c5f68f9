/* diskcache: settled listings kept on disk, one JSON file per key. */
#include "zoomfs/diskcache.h"

#include "zoomfs/log.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *folder; /* NULL: nothing on disk */

/* mkdir -p, each level 0700. */
static int make_dirs(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = -errno;
        if (end)
            break;
        *s = '/';
    }
    free(p);
    return rc;
}

int diskcache_open(const char *dir)
{
    diskcache_close();
    if (!dir)
        return 0;
    int rc = make_dirs(dir);
    struct stat st;
    if (rc == 0 && (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()))
        rc = -EPERM; /* a symlink, or someone else's folder */
    if (rc == 0 && (st.st_mode & 077) && chmod(dir, 0700) != 0)
        rc = -errno;
    if (rc) {
        log_warn("metadata cache %s unavailable (%s): settled months are listed again after a "
                 "remount",
                 dir, strerror(-rc));
        return rc;
    }
    folder = xstrdup(dir);
    return 0;
}

void diskcache_close(void)
{
    free(folder);
    folder = NULL;
}

char *diskcache_default_dir(const char *account_id)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *base = xdg && *xdg     ? xasprintf("%s/zoomfs", xdg)
                 : home && *home ? xasprintf("%s/.cache/zoomfs", home)
                                 : NULL;
    if (!base || !account_id || !*account_id) {
        free(base);
        return NULL;
    }
    char *safe = xstrdup(account_id);
    for (char *c = safe; *c; c++)
        if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') && !(*c >= '0' && *c <= '9') &&
            *c != '-' && *c != '_')
            *c = '_';
    char *dir = xasprintf("%s/account-%s", base, safe);
    free(safe);
    free(base);
    return dir;
}

static char *file_of(const char *key)
{
    char hash[65];
    sha256_hex(key, strlen(key), hash);
    return xasprintf("%s/%.32s.json", folder, hash);
}

json_t *diskcache_get(const char *key, int64_t max_age)
{
    if (!folder)
        return NULL;
    char *file = file_of(key);
    json_t *doc = json_load_file(file, JSON_ALLOW_NUL, NULL);
    json_t *value = NULL;
    const char *stored = json_string_value(json_object_get(doc, "key"));
    json_t *saved = json_object_get(doc, "saved");
    if (doc ? !stored || strcmp(stored, key) != 0 || !json_is_integer(saved) ||
                  !json_object_get(doc, "value")
            : access(file, F_OK) == 0) {
        unlink(file); /* not ours, or broken: fetched again */
    } else if (doc && wall_seconds() - json_integer_value(saved) < max_age) {
        value = json_incref(json_object_get(doc, "value"));
    }
    json_decref(doc);
    free(file);
    return value;
}

void diskcache_put(const char *key, const json_t *value)
{
    if (!folder)
        return;
    char *file = file_of(key);
    char *tmp = xasprintf("%s.XXXXXX", file);
    json_t *doc = json_pack("{s:s, s:I, s:O}", "key", key, "saved", (json_int_t)wall_seconds(),
                            "value", value);
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    bool ok = fd >= 0 && json_dumpfd(doc, fd, JSON_COMPACT) == 0 && fsync(fd) == 0;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, file) != 0) {
        log_warn("metadata cache: cannot write %s: %s", file, strerror(errno));
        if (fd >= 0)
            unlink(tmp);
    }
    json_decref(doc);
    free(tmp);
    free(file);
}

void diskcache_drop(const char *key)
{
    if (!folder)
        return;
    char *file = file_of(key);
    unlink(file);
    free(file);
}
