/* ledger: when zoomfs first saw each (path, content hash), kept across
 * mounts so that JSON files have stable mtimes that change exactly when the
 * content does (design §3).
 *
 * In memory: an array of entries and an open-addressing hash table of
 * indices into it. On disk: one line per entry, "<epoch> <sha256hex>
 * <path>\n", appended as entries are added. Each entry remembers when it was
 * last used; past max_entries the least recently used quarter is dropped and
 * the file is rewritten (temp file + rename) in order of use, so the order
 * survives a remount. One global ledger, guarded by one mutex. */
#include "zoomfs/ledger.h"

#include "zoomfs/log.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_ENTRIES 65536
#define HASH_HEX            64
#define NO_SLOT             SIZE_MAX

typedef struct {
    char *path;
    char hash[HASH_HEX + 1];
    int64_t first_seen;
    uint64_t last_used; /* a tick of the ledger's use counter */
} Entry;

static struct {
    pthread_mutex_t mu;
    char *file; /* NULL: memory only */
    int fd;     /* O_APPEND descriptor of file, or -1 */
    size_t max; /* entries kept */
    Entry *v;   /* entries, n used, cap allocated */
    size_t n, cap;
    size_t *slots; /* hash table of indices into v; nslots is a power of 2 */
    size_t nslots;
    uint64_t tick;
} L = {.mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .max = DEFAULT_MAX_ENTRIES};

/* ---- in memory -------------------------------------------------------- */

static uint64_t key_hash(const char *path, const char *hash)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL; /* separator no path byte equals */
    for (const char *p = hash; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h;
}

/* The slot holding (path, hash), or the empty slot where it would go. */
static size_t find_slot(const char *path, const char *hash)
{
    size_t mask = L.nslots - 1;
    for (size_t i = key_hash(path, hash) & mask;; i = (i + 1) & mask) {
        size_t e = L.slots[i];
        if (e == NO_SLOT || (strcmp(L.v[e].hash, hash) == 0 && strcmp(L.v[e].path, path) == 0))
            return i;
    }
}

/* Rebuilds the table for the current entries, at most half full. */
static void rehash(void)
{
    size_t want = 16;
    while (want < 2 * (L.n + 1))
        want *= 2;
    free(L.slots);
    L.slots = xmalloc(want * sizeof(*L.slots));
    L.nslots = want;
    for (size_t i = 0; i < want; i++)
        L.slots[i] = NO_SLOT;
    for (size_t e = 0; e < L.n; e++)
        L.slots[find_slot(L.v[e].path, L.v[e].hash)] = e;
}

static Entry *lookup(const char *path, const char *hash)
{
    if (L.nslots == 0)
        return NULL;
    size_t e = L.slots[find_slot(path, hash)];
    return e == NO_SLOT ? NULL : &L.v[e];
}

static Entry *insert(const char *path, const char *hash, int64_t first_seen)
{
    if (2 * (L.n + 1) > L.nslots)
        rehash();
    if (L.n == L.cap) {
        L.cap = L.cap ? 2 * L.cap : 256;
        L.v = xrealloc(L.v, L.cap * sizeof(*L.v));
    }
    Entry *e = &L.v[L.n];
    e->path = xstrdup(path);
    snprintf(e->hash, sizeof(e->hash), "%s", hash);
    e->first_seen = first_seen;
    e->last_used = ++L.tick;
    L.slots[find_slot(path, hash)] = L.n++;
    return e;
}

static void clear_entries(void)
{
    for (size_t i = 0; i < L.n; i++)
        free(L.v[i].path);
    free(L.v);
    free(L.slots);
    L.v = NULL;
    L.slots = NULL;
    L.n = L.cap = L.nslots = 0;
    L.tick = 0;
}

/* A line holds a path only if the path cannot break the line format. */
static bool storable(const char *path, const char *hash)
{
    if (!*path || strpbrk(path, "\n\r") || strlen(hash) != HASH_HEX)
        return false;
    return strspn(hash, "0123456789abcdef") == HASH_HEX;
}

static int by_last_used(const void *a, const void *b)
{
    const Entry *x = a, *y = b;
    return x->last_used < y->last_used ? -1 : x->last_used > y->last_used;
}

/* Keeps the `keep` most recently used entries, in order of use. */
static void drop_oldest(size_t keep)
{
    qsort(L.v, L.n, sizeof(*L.v), by_last_used);
    size_t drop = L.n > keep ? L.n - keep : 0;
    for (size_t i = 0; i < drop; i++)
        free(L.v[i].path);
    memmove(L.v, L.v + drop, (L.n - drop) * sizeof(*L.v));
    L.n -= drop;
    rehash();
}

/* ---- on disk ----------------------------------------------------------- */

#define LINE_FMT "%" PRId64 " %s %s\n"

static void append_entry(const Entry *e)
{
    if (L.fd < 0 || !storable(e->path, e->hash))
        return;
    char *line = xasprintf(LINE_FMT, e->first_seen, e->hash, e->path);
    size_t len = strlen(line);
    /* one write() with O_APPEND: lines of concurrent mounts do not mix */
    if (write(L.fd, line, len) != (ssize_t)len)
        log_warn("ledger: cannot append to %s: %s", L.file, strerror(errno));
    free(line);
}

/* Parses "<epoch> <hash> <path>" (newline stripped); false when malformed. */
static bool parse_line(char *line, int64_t *first_seen, char **hash, char **path)
{
    char *end;
    errno = 0;
    long long t = strtoll(line, &end, 10);
    if (errno || end == line || *end != ' ' || t < 0)
        return false;
    *hash = end + 1;
    if (strlen(*hash) < HASH_HEX + 2 || (*hash)[HASH_HEX] != ' ')
        return false;
    (*hash)[HASH_HEX] = '\0';
    *path = *hash + HASH_HEX + 1;
    *first_seen = t;
    return storable(*path, *hash);
}

/* Loads the file; a (path, hash) seen twice keeps its earliest time. Returns
 * the number of lines that did not become a new entry, plus one when the
 * last line has no newline (a write cut short, or an edit): the file is then
 * rewritten, else the next line appended would run into it. */
static size_t load(FILE *f)
{
    char *line = NULL;
    size_t cap = 0, wasted = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        else
            wasted++;
        int64_t t;
        char *hash, *path;
        if (!parse_line(line, &t, &hash, &path)) {
            wasted++;
            continue;
        }
        Entry *e = lookup(path, hash);
        if (!e) {
            insert(path, hash, t);
            continue;
        }
        e->last_used = ++L.tick;
        if (t < e->first_seen)
            e->first_seen = t;
        wasted++;
    }
    free(line);
    return wasted;
}

/* Opens the ledger file itself, never what a symlink points to (a dangling
 * one would make root create its target; another user's file would get our
 * lines), and only a regular file of ours that nobody else may write.
 * Returns a descriptor or -errno. */
static int open_checked(int flags)
{
    int fd = open(L.file, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (fd < 0)
        return -errno;
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_uid != geteuid())
        why = "owned by another user";
    else if (st.st_mode & 022)
        why = "writable by group or others";
    if (why) {
        log_warn("ledger: refusing %s: %s", L.file, why);
        close(fd);
        return -EPERM;
    }
    return fd;
}

static int open_append(void)
{
    L.fd = open_checked(O_WRONLY | O_APPEND | O_CREAT);
    return L.fd < 0 ? L.fd : 0;
}

/* Rewrites the file with the entries in memory: temp file, fsync, rename. */
static void rewrite(void)
{
    if (!L.file)
        return;
    char *tmp = xasprintf("%s.XXXXXX", L.file);
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        log_warn("ledger: cannot rewrite %s: %s", L.file, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(tmp);
        return;
    }
    for (size_t i = 0; i < L.n; i++)
        if (storable(L.v[i].path, L.v[i].hash))
            fprintf(f, LINE_FMT, L.v[i].first_seen, L.v[i].hash, L.v[i].path);
    bool ok = fflush(f) == 0 && fsync(fd) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, L.file) != 0) {
        log_warn("ledger: cannot rewrite %s: %s", L.file, strerror(errno));
        unlink(tmp);
    } else if (L.fd >= 0) {
        close(L.fd); /* the old file is gone: append to the new one */
        open_append();
    }
    free(tmp);
}

/* Past the bound, keep the most recently used three quarters: rewriting the
 * file on every new entry once full would cost O(n) each time. */
static void compact(void)
{
    if (L.n > L.max)
        drop_oldest(L.max - L.max / 4);
    rewrite();
}

/* mkdir -p of the directory part of path, mode 0700. */
static int make_parent_dirs(const char *path)
{
    char *dir = xstrdup(path);
    int rc = 0;
    for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        *p = '/';
    }
    free(dir);
    return rc;
}

/* ---- API --------------------------------------------------------------- */

/* Stops persisting; what is in memory stays. */
static void detach_file(void)
{
    if (L.fd >= 0)
        close(L.fd);
    L.fd = -1;
    free(L.file);
    L.file = NULL;
}

static void close_locked(void)
{
    detach_file();
    clear_entries();
    L.max = DEFAULT_MAX_ENTRIES;
}

int ledger_open(const char *path, size_t max_entries)
{
    lock(&L.mu);
    close_locked();
    L.max = max_entries ? max_entries : DEFAULT_MAX_ENTRIES;
    rehash();
    int rc = 0;
    if (path) {
        L.file = xstrdup(path);
        rc = make_parent_dirs(path);
        int fd = rc == 0 ? open_checked(O_RDONLY) : -ENOENT;
        if (fd < 0 && fd != -ENOENT)
            rc = fd;
        FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
        if (fd >= 0 && !f)
            close(fd);
        if (f) {
            size_t wasted = load(f);
            fclose(f);
            if (L.n > L.max || wasted > 0) /* also drops duplicate and bad lines */
                compact();
        }
        if (rc == 0)
            rc = open_append();
        if (rc != 0) { /* carry on in memory */
            log_warn("ledger: cannot open %s: %s", path, strerror(-rc));
            detach_file();
        }
    }
    unlock(&L.mu);
    return rc;
}

void ledger_close(void)
{
    lock(&L.mu);
    close_locked();
    unlock(&L.mu);
}

int64_t ledger_mtime(const char *path, const char *content_sha256_hex, int64_t now)
{
    if (!path || !content_sha256_hex)
        return now;
    char hash[HASH_HEX + 1]; /* the key is the first 64 characters */
    snprintf(hash, sizeof(hash), "%s", content_sha256_hex);
    /* A pair no line can hold (a path with a newline: zoomfs's own names
     * never have one) gets no entry: kept in memory only, it would take a
     * place in the bound from one the file keeps (found by fuzzing). */
    if (!storable(path, hash))
        return now;
    lock(&L.mu);
    Entry *e = lookup(path, hash);
    int64_t t;
    if (e) {
        e->last_used = ++L.tick;
        t = e->first_seen;
    } else {
        e = insert(path, hash, now);
        t = e->first_seen;
        append_entry(e);
        if (L.n > L.max)
            compact(); /* e is not valid after this */
    }
    unlock(&L.mu);
    return t;
}

char *ledger_default_path(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') /* the XDG spec: relative values are ignored */
        return xasprintf("%s/zoomfs/mtimes", xdg);
    const char *home = getenv("HOME");
    if (home && home[0])
        return xasprintf("%s/.cache/zoomfs/mtimes", home);
    return NULL;
}
