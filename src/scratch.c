/* scratch: in-memory files for editors and scripts; never sent to Zoom. */
#include "zoomfs/scratch.h"

#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Scratch {
    struct Scratch *next;
    char *path;
    StrBuf data; /* the content, or a symlink's target */
    mode_t mode;
    bool symlink; /* emacs locks a file it edits with a symlink .#name */
    int64_t mtime;
} Scratch;

static uid_t owner;
static gid_t group;
static mode_t umask_bits = 077;

void scratch_init(uid_t uid, gid_t gid, mode_t umask)
{
    owner = uid;
    group = gid;
    umask_bits = umask;
}

/* Few and short-lived: a list is enough. */
static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static Scratch *files;

static Scratch **find(const char *path)
{
    Scratch **p = &files;
    while (*p && strcmp((*p)->path, path) != 0)
        p = &(*p)->next;
    return p;
}

/* Bytes all scratch files hold: they live in memory, so together they are
 * bounded too (ENOSPC past SCRATCH_TOTAL, which statfs reports). Locked. */
static size_t total;

static void scratch_free(Scratch *s)
{
    total -= s->data.len;
    free(s->path);
    strbuf_free(&s->data);
    free(s);
}

static Scratch *add_locked(const char *path, mode_t mode)
{
    Scratch *s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(path);
    strbuf_init(&s->data);
    s->mode = mode & 07777;
    s->mtime = wall_seconds();
    s->next = files;
    files = s;
    return s;
}

int scratch_create(const char *path, mode_t mode, bool exclusive)
{
    lock(&scratch_lock);
    Scratch **p = find(path);
    int rc = 0;
    if (*p && exclusive)
        rc = -EEXIST;
    else if (*p)
        strbuf_reset(&(*p)->data);
    else
        add_locked(path, mode);
    unlock(&scratch_lock);
    return rc;
}

bool scratch_exists(const char *path)
{
    lock(&scratch_lock);
    bool yes = *find(path) != NULL;
    unlock(&scratch_lock);
    return yes;
}

int scratch_getattr(const char *path, struct stat *st)
{
    lock(&scratch_lock);
    Scratch *s = *find(path);
    if (s) {
        memset(st, 0, sizeof(*st));
        st->st_mode = s->symlink ? S_IFLNK | 0777 : S_IFREG | (s->mode & ~umask_bits & 0777);
        st->st_nlink = 1;
        st->st_size = (off_t)s->data.len;
        st->st_blocks = (blkcnt_t)((s->data.len + 511) / 512);
        st->st_uid = owner;
        st->st_gid = group;
        st->st_mtime = st->st_ctime = st->st_atime = (time_t)s->mtime;
    }
    unlock(&scratch_lock);
    return s ? 0 : -ENOENT;
}

ssize_t scratch_read(const char *path, char *buf, size_t len, off_t off)
{
    lock(&scratch_lock);
    Scratch *s = *find(path);
    ssize_t n = -ENOENT;
    if (s)
        n = (ssize_t)copy_range(s->data.data, s->data.len, buf, len, off);
    unlock(&scratch_lock);
    return n;
}

ssize_t scratch_write(const char *path, const char *buf, size_t len, off_t off)
{
    if (off < 0 || (size_t)off + len > SCRATCH_MAX)
        return -EFBIG;
    lock(&scratch_lock);
    Scratch *s = *find(path);
    if (!s) {
        unlock(&scratch_lock);
        return -ENOENT;
    }
    size_t grown = (size_t)off + len > s->data.len ? (size_t)off + len - s->data.len : 0;
    if (total + grown > SCRATCH_TOTAL) {
        unlock(&scratch_lock);
        return -ENOSPC;
    }
    strbuf_write_at(&s->data, buf, len, (size_t)off);
    total += grown;
    s->mtime = wall_seconds();
    unlock(&scratch_lock);
    return (ssize_t)len;
}

int scratch_truncate(const char *path, off_t size)
{
    if (size < 0 || (size_t)size > SCRATCH_MAX)
        return -EFBIG;
    lock(&scratch_lock);
    Scratch *s = *find(path);
    int rc = s ? 0 : -ENOENT;
    if (s && (size_t)size > s->data.len && total + ((size_t)size - s->data.len) > SCRATCH_TOTAL)
        rc = -ENOSPC;
    if (rc == 0) {
        total = total - s->data.len + (size_t)size;
        strbuf_resize(&s->data, (size_t)size);
        s->mtime = wall_seconds();
    }
    unlock(&scratch_lock);
    return rc;
}

int scratch_chmod(const char *path, mode_t mode)
{
    lock(&scratch_lock);
    Scratch *s = *find(path);
    if (s)
        s->mode = mode & 07777;
    unlock(&scratch_lock);
    return s ? 0 : -ENOENT;
}

int scratch_symlink(const char *path, const char *target)
{
    lock(&scratch_lock);
    int rc = -EEXIST;
    if (!*find(path)) {
        Scratch *s = add_locked(path, 0777);
        s->symlink = true;
        strbuf_append(&s->data, target, strlen(target));
        rc = 0;
    }
    unlock(&scratch_lock);
    return rc;
}

int scratch_readlink(const char *path, char *buf, size_t size)
{
    lock(&scratch_lock);
    Scratch *s = *find(path);
    int rc = s ? (s->symlink ? 0 : -EINVAL) : -ENOENT;
    if (rc == 0 && size > 0)
        snprintf(buf, size, "%s", s->data.data ? s->data.data : "");
    unlock(&scratch_lock);
    return rc;
}

int scratch_unlink(const char *path)
{
    lock(&scratch_lock);
    Scratch **p = find(path);
    Scratch *s = *p;
    if (s) {
        *p = s->next;
        scratch_free(s);
    }
    unlock(&scratch_lock);
    return s ? 0 : -ENOENT;
}

int scratch_rename(const char *from, const char *to)
{
    lock(&scratch_lock);
    Scratch **p = find(from);
    Scratch *s = *p;
    if (s) {
        *p = s->next;
        Scratch **q = find(to);
        if (*q) {
            Scratch *old = *q;
            *q = old->next;
            scratch_free(old);
        }
        free(s->path);
        s->path = xstrdup(to);
        s->next = files;
        files = s;
    }
    unlock(&scratch_lock);
    return s ? 0 : -ENOENT;
}

int scratch_content(const char *path, char **data, size_t *len)
{
    lock(&scratch_lock);
    Scratch *s = *find(path);
    if (s) {
        *data = xmalloc(s->data.len + 1);
        memcpy(*data, s->data.data ? s->data.data : "", s->data.len);
        (*data)[s->data.len] = '\0';
        *len = s->data.len;
    }
    unlock(&scratch_lock);
    return s ? 0 : -ENOENT;
}

void scratch_put(const char *path, const char *data, size_t len, mode_t mode)
{
    lock(&scratch_lock);
    Scratch *s = *find(path);
    if (!s)
        s = add_locked(path, mode);
    total -= s->data.len;
    strbuf_reset(&s->data);
    strbuf_append(&s->data, data, len);
    total += len;
    s->mtime = wall_seconds();
    unlock(&scratch_lock);
}

void scratch_list(const char *dir, int (*add)(void *ctx, const char *name, bool is_dir), void *ctx)
{
    size_t dl = strlen(dir);
    lock(&scratch_lock);
    for (Scratch *s = files; s; s = s->next) {
        const char *p = s->path;
        if (strncmp(p, dir, dl) == 0 && (dl == 1 || p[dl] == '/')) {
            const char *name = p + (dl == 1 ? 1 : dl + 1);
            if (*name && !strchr(name, '/'))
                add(ctx, name, false);
        }
    }
    unlock(&scratch_lock);
}

void scratch_cleanup(void)
{
    lock(&scratch_lock);
    while (files) {
        Scratch *s = files;
        files = s->next;
        scratch_free(s);
    }
    unlock(&scratch_lock);
}

void scratch_space(size_t *used, size_t *limit)
{
    lock(&scratch_lock);
    *used = total;
    unlock(&scratch_lock);
    *limit = SCRATCH_TOTAL;
}
