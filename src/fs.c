/* fs: the low-level FUSE session: inodes to paths, requests to vfs calls,
 * and a worker that talks to the kernel outside the request handlers. */
#include "zoomfs/fs.h"

#include "zoomfs/cdn.h"
#include "zoomfs/inode.h"
#include "zoomfs/log.h"
#include "zoomfs/notify.h"
#include "zoomfs/op.h"
#include "zoomfs/stats.h"
#include "zoomfs/store.h"
#include "zoomfs/stream.h"
#include "zoomfs/util.h"
#include "zoomfs/vfs.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define UNKNOWN_INO 0xffffffffu /* in a listing, a child the kernel has not looked up */
#define WORKER_TICK 200         /* ms between the worker's rounds */
#define EVICT_BATCH 4096

static struct {
    struct fuse_session *se;
    InodeTable *inodes;
    FsConfig cfg;
    pthread_t worker;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    char **stale; /* paths whose kernel state is stale, for the worker */
    size_t nstale;
    bool stopping;
} F = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static volatile sig_atomic_t refresh_wanted;

/* ---- operations ---------------------------------------------------------- */

static __thread fuse_req_t current; /* the request this thread serves */

static bool interrupted(void)
{
    return current && fuse_req_interrupted(current);
}

static void begin(fuse_req_t req)
{
    current = req;
    op_begin();
    op_set_caller(fuse_req_ctx(req)->pid);
}

static void end(void)
{
    op_end();
    current = NULL;
}

/* Replies rc (0 or -errno) and ends the operation. */
static void reply_err(fuse_req_t req, int rc)
{
    end();
    fuse_reply_err(req, -rc);
}

/* The path of ino, or NULL after replying ENOENT (or ESTALE). */
static char *path_or_reply(fuse_req_t req, fuse_ino_t ino)
{
    char *path = inode_path(F.inodes, ino);
    if (!path)
        reply_err(req, -ESTALE);
    return path;
}

static char *child_or_reply(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    char *path = inode_child_path(F.inodes, parent, name);
    if (!path)
        reply_err(req, -ESTALE);
    return path;
}

/* For .zoomfs/stats. */
static int64_t inodes_now(void)
{
    return F.inodes ? (int64_t)inode_count(F.inodes) : 0;
}

/* ---- the worker: invalidations, eviction, the unmount, refresh ------------- */

/* vfs: the kernel's view of path is stale (a save, a new object). */
static void queue_stale(const char *path)
{
    lock(&F.lock);
    F.stale = xrealloc(F.stale, (F.nstale + 1) * sizeof(*F.stale));
    F.stale[F.nstale++] = xstrdup(path);
    pthread_cond_signal(&F.wake);
    unlock(&F.lock);
}

static void inval_path(const char *path)
{
    uint64_t ino = inode_of_path(F.inodes, path);
    if (ino)
        fuse_lowlevel_notify_inval_inode(F.se, ino, 0, 0);
    const char *slash = strrchr(path, '/');
    char *dir = xstrndup(path, slash && slash != path ? (size_t)(slash - path) : 1);
    uint64_t parent = slash ? inode_of_path(F.inodes, dir) : 0;
    if (parent)
        fuse_lowlevel_notify_inval_entry(F.se, parent, slash + 1, strlen(slash + 1));
    free(dir);
}

static void inval_inode(uint64_t ino, void *ctx)
{
    (void)ctx;
    fuse_lowlevel_notify_inval_inode(F.se, ino, 0, 0);
}

static void refresh(void)
{
    store_forget_all();
    cdn_forget_all();
    inode_each(F.inodes, inval_inode, NULL);
    stats_add(STAT_REFRESHES, 1);
    log_info("refresh: dropped every cached listing, object and CDN URL, and the kernel's "
             "cached attributes of %zu entries",
             inode_count(F.inodes));
}

/* The kernel forgets an entry it does not use once asked to: the table
 * (and the kernel's own caches) stay bounded however much is walked. */
static void evict(void)
{
    size_t max = F.cfg.max_inodes;
    if (max == 0 || inode_count(F.inodes) <= max)
        return;
    InodeVictim *v = xmalloc(EVICT_BATCH * sizeof(*v));
    size_t n = inode_victims(F.inodes, max - max / 10, v, EVICT_BATCH);
    for (size_t i = 0; i < n; i++) {
        fuse_lowlevel_notify_inval_entry(F.se, v[i].parent, v[i].name, strlen(v[i].name));
        free(v[i].name);
    }
    free(v);
}

static void *worker(void *arg)
{
    (void)arg;
    lock(&F.lock);
    while (!F.stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WORKER_TICK * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&F.wake, &F.lock, &until);
        char **stale = F.stale;
        size_t n = F.nstale;
        F.stale = NULL;
        F.nstale = 0;
        unlock(&F.lock);
        /* The unmount: whatever still transfers ends now. */
        if (fuse_session_exited(F.se))
            op_stop_all();
        for (size_t i = 0; i < n; i++) {
            inval_path(stale[i]);
            free(stale[i]);
        }
        free(stale);
        if (refresh_wanted) {
            refresh_wanted = 0;
            refresh();
        }
        evict();
        lock(&F.lock);
    }
    unlock(&F.lock);
    return NULL;
}

void fs_request_refresh(void)
{
    refresh_wanted = 1;
}

/* A write to .zoomfs/refresh is done when the caches are: the worker drops
 * them (it may talk to the kernel, a request handler may not) and this
 * waits for it, so the next command sees Zoom as it is now. */
static void refresh_and_wait(void)
{
    int64_t before = stats_get(STAT_REFRESHES), until = now_ms() + 5000;
    lock(&F.lock);
    refresh_wanted = 1;
    pthread_cond_signal(&F.wake);
    unlock(&F.lock);
    while (stats_get(STAT_REFRESHES) == before && now_ms() < until && op_sleep(10) == 0)
        ;
}

static void on_sighup(int sig)
{
    (void)sig;
    refresh_wanted = 1;
}

/* ---- entries and attributes ------------------------------------------------- */

static int getattr_path(const char *path, uint64_t ino, struct stat *st)
{
    int rc = vfs_getattr(path, st);
    st->st_ino = ino;
    return rc;
}

/* Answers a new entry (lookup, mkdir, symlink) for name in parent. */
static void reply_entry(fuse_req_t req, fuse_ino_t parent, const char *name, const char *path)
{
    struct fuse_entry_param e = {0};
    int rc = vfs_getattr(path, &e.attr);
    if (rc == -ENOENT) {
        /* A name that is not there, remembered briefly by the kernel. */
        e.entry_timeout = F.cfg.attr_ttl < 2 ? F.cfg.attr_ttl : 2;
        end();
        fuse_reply_entry(req, &e);
        return;
    }
    if (rc)
        return reply_err(req, rc);
    e.ino = inode_learn(F.inodes, parent, name);
    if (!e.ino)
        return reply_err(req, -ESTALE);
    e.attr.st_ino = e.ino;
    e.attr_timeout = e.entry_timeout = F.cfg.attr_ttl;
    end();
    if (fuse_reply_entry(req, &e) != 0)
        inode_forget(F.inodes, e.ino, 1); /* the kernel did not get it */
    if (F.cfg.max_inodes && inode_count(F.inodes) > F.cfg.max_inodes)
        pthread_cond_signal(&F.wake);
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    begin(req);
    char *path = child_or_reply(req, parent, name);
    if (path)
        reply_entry(req, parent, name, path);
    free(path);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t n)
{
    inode_forget(F.inodes, ino, n);
    fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *list)
{
    for (size_t i = 0; i < count; i++)
        inode_forget(F.inodes, list[i].ino, list[i].nlookup);
    fuse_reply_none(req);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    begin(req);
    char *path = path_or_reply(req, ino);
    if (!path)
        return;
    struct stat st;
    int rc = getattr_path(path, ino, &st);
    free(path);
    if (rc)
        return reply_err(req, rc);
    end();
    fuse_reply_attr(req, &st, F.cfg.attr_ttl);
}

/* What is open (files and listings), so that what the kernel never
 * released (a reader killed mid-read, then the unmount) is freed at the end. */
typedef struct Open {
    struct Open *prev, *next;
    void (*close)(struct Open *o);
} Open;

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static Open open_list = {.prev = &open_list, .next = &open_list};

static void track(Open *o, void (*close)(Open *o))
{
    o->close = close;
    lock(&open_lock);
    o->next = open_list.next;
    o->prev = &open_list;
    open_list.next->prev = o;
    open_list.next = o;
    unlock(&open_lock);
}

static void untrack(Open *o)
{
    lock(&open_lock);
    o->prev->next = o->next;
    o->next->prev = o->prev;
    unlock(&open_lock);
}

static void close_leftovers(void)
{
    while (open_list.next != &open_list) {
        Open *o = open_list.next;
        untrack(o);
        o->close(o);
    }
}

/* An open file: its vfs handle and its inode (kept while it is open). */
typedef struct {
    Open open;
    Handle *h;
    fuse_ino_t ino;
} File;

static void file_close(Open *o)
{
    File *f = (File *)o;
    vfs_release(f->h);
    inode_closed(F.inodes, f->ino);
    free(f);
}

static Handle *handle_of(const struct fuse_file_info *fi)
{
    return fi ? ((File *)(uintptr_t)fi->fh)->h : NULL;
}

/* chmod, chown, truncate and touch, in the order tools expect. */
static int setattr_path(const char *path, const struct stat *a, int set, Handle *h)
{
    int rc = 0;
    if (set & FUSE_SET_ATTR_MODE)
        rc = vfs_chmod(path, a->st_mode);
    if (!rc && (set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
        rc = vfs_chown(path, (set & FUSE_SET_ATTR_UID) ? a->st_uid : (uid_t)-1,
                       (set & FUSE_SET_ATTR_GID) ? a->st_gid : (gid_t)-1);
    if (!rc && (set & FUSE_SET_ATTR_SIZE))
        rc = vfs_truncate(path, a->st_size, h);
    if (!rc && (set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)))
        rc = vfs_utimens(path);
    return rc;
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    begin(req);
    char *path = path_or_reply(req, ino);
    if (!path)
        return;
    struct stat st;
    int rc = setattr_path(path, attr, to_set, handle_of(fi));
    if (rc == 0)
        rc = getattr_path(path, ino, &st);
    free(path);
    if (rc)
        return reply_err(req, rc);
    end();
    fuse_reply_attr(req, &st, F.cfg.attr_ttl);
}

/* ---- names ----------------------------------------------------------------- */

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
    begin(req);
    char *path = path_or_reply(req, ino);
    if (!path)
        return;
    char buf[PATH_MAX + 1];
    int rc = vfs_readlink(path, buf, sizeof(buf));
    free(path);
    if (rc)
        return reply_err(req, rc);
    end();
    fuse_reply_readlink(req, buf);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    begin(req);
    char *path = child_or_reply(req, parent, name);
    if (!path)
        return;
    int rc = vfs_mkdir(path, mode);
    if (rc)
        reply_err(req, rc);
    else
        reply_entry(req, parent, name, path);
    free(path);
}

static void fs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    begin(req);
    char *path = child_or_reply(req, parent, name);
    if (!path)
        return;
    int rc = vfs_symlink(link, path);
    if (rc)
        reply_err(req, rc);
    else
        reply_entry(req, parent, name, path);
    free(path);
}

/* unlink and rmdir. */
static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
                         int (*remove)(const char *path))
{
    begin(req);
    char *path = child_or_reply(req, parent, name);
    if (!path)
        return;
    int rc = remove(path);
    if (rc == 0)
        inode_unlink(F.inodes, parent, name);
    free(path);
    reply_err(req, rc);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    remove_entry(req, parent, name, vfs_unlink);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    remove_entry(req, parent, name, vfs_rmdir);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
    begin(req);
    char *from = child_or_reply(req, parent, name);
    char *to = from ? child_or_reply(req, newparent, newname) : NULL;
    int rc = to ? vfs_rename(from, to, flags) : 0;
    if (to && rc == 0)
        inode_move(F.inodes, parent, name, newparent, newname);
    if (to)
        reply_err(req, rc);
    free(from);
    free(to);
}

/* ---- files -------------------------------------------------------------------- */

static void keep_file(struct fuse_file_info *fi, Handle *h, unsigned hints, fuse_ino_t ino)
{
    File *f = xcalloc(1, sizeof(*f));
    f->h = h;
    f->ino = ino;
    inode_opened(F.inodes, ino);
    track(&f->open, file_close);
    fi->fh = (uint64_t)(uintptr_t)f;
    /* A recording's bytes go from the reply straight to the reader: one
     * kernel copy fewer, and a backup does not fill the page cache with
     * videos it reads once. -o page_cache keeps them there instead (a
     * second read is free, a shared mmap works). */
    if (!F.cfg.page_cache && (hints & VFS_MEDIA))
        hints = VFS_DIRECT_IO;
    fi->direct_io = (hints & VFS_DIRECT_IO) != 0;
    fi->keep_cache = (hints & VFS_KEEP_CACHE) != 0;
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    begin(req);
    char *path = path_or_reply(req, ino);
    if (!path)
        return;
    Handle *h = NULL;
    unsigned hints = 0;
    int rc = vfs_open(path, fi->flags, &h, &hints);
    free(path);
    if (rc)
        return reply_err(req, rc);
    keep_file(fi, h, hints, ino);
    end();
    if (fuse_reply_open(req, fi) != 0) { /* the opener is gone */
        File *f = (File *)(uintptr_t)fi->fh;
        untrack(&f->open);
        file_close(&f->open);
    }
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
    begin(req);
    char *path = child_or_reply(req, parent, name);
    if (!path)
        return;
    Handle *h = NULL;
    unsigned hints = 0;
    struct fuse_entry_param e = {0};
    int rc = vfs_create(path, mode, fi->flags, &h, &hints);
    if (rc == 0 && (rc = vfs_getattr(path, &e.attr)) != 0)
        vfs_release(h);
    free(path);
    if (rc == 0 && !(e.ino = inode_learn(F.inodes, parent, name))) {
        vfs_release(h);
        rc = -ESTALE;
    }
    if (rc)
        return reply_err(req, rc);
    e.attr.st_ino = e.ino;
    e.attr_timeout = e.entry_timeout = F.cfg.attr_ttl;
    keep_file(fi, h, hints, e.ino);
    end();
    fuse_reply_create(req, &e, fi);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)ino;
    begin(req);
    /* A recording's bytes go to the kernel straight from the chunks that
     * hold them (one writev); anything else is copied into buf. */
    StreamView view;
    stream_view_arm(&view);
    char *buf = xmalloc(size ? size : 1);
    ssize_t n = vfs_read(handle_of(fi), buf, size, off);
    stream_view_arm(NULL);
    end();
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else if (view.n)
        fuse_reply_iov(req, view.iov, view.n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
    stream_view_release(&view);
    free(buf);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    (void)ino;
    begin(req);
    ssize_t n = vfs_write(handle_of(fi), buf, size, off);
    end();
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else
        fuse_reply_write(req, (size_t)n);
}

/* close() and fsync(): an edit is sent now, and what Zoom answered is what
 * the writer sees (the kernel drops release's answer). */
static void commit(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    begin(req);
    char *path = path_or_reply(req, ino);
    if (!path)
        return;
    int rc = vfs_flush(path, handle_of(fi));
    free(path);
    reply_err(req, rc);
}

static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    commit(req, ino, fi);
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    commit(req, ino, fi);
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    File *f = (File *)(uintptr_t)fi->fh;
    untrack(&f->open);
    file_close(&f->open);
    fuse_reply_err(req, 0);
}

/* ---- folders -------------------------------------------------------------------- */

/* A listing taken at opendir: readdir hands it out from any offset. */
typedef struct {
    Open open;
    fuse_ino_t ino;
    char **names;
    bool *dirs;
    size_t n, cap;
} Dir;

static int dir_add(void *ctx, const char *name, bool is_dir)
{
    Dir *d = ctx;
    if (d->n == d->cap) {
        d->cap = d->cap ? 2 * d->cap : 64;
        d->names = xrealloc(d->names, d->cap * sizeof(*d->names));
        d->dirs = xrealloc(d->dirs, d->cap * sizeof(*d->dirs));
    }
    d->names[d->n] = xstrdup(name);
    d->dirs[d->n++] = is_dir;
    return 0;
}

static void dir_free(Dir *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->names[i]);
    free(d->names);
    free(d->dirs);
    free(d);
}

static void dir_close(Open *o)
{
    Dir *d = (Dir *)o;
    inode_closed(F.inodes, d->ino);
    dir_free(d);
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    begin(req);
    char *path = path_or_reply(req, ino);
    if (!path)
        return;
    Dir *d = xcalloc(1, sizeof(*d));
    d->ino = ino;
    dir_add(d, ".", true);
    dir_add(d, "..", true);
    int rc = vfs_readdir(path, dir_add, d);
    free(path);
    if (rc) {
        dir_free(d);
        return reply_err(req, rc);
    }
    inode_opened(F.inodes, ino);
    track(&d->open, dir_close);
    fi->fh = (uint64_t)(uintptr_t)d;
    end();
    fuse_reply_open(req, fi);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    (void)ino;
    Dir *d = (Dir *)(uintptr_t)fi->fh;
    char *buf = xmalloc(size);
    size_t used = 0;
    for (size_t i = off > 0 ? (size_t)off : 0; i < d->n; i++) {
        uint64_t child = i < 2 ? 0 : inode_find(F.inodes, d->ino, d->names[i]);
        struct stat st = {.st_ino = child ? child : UNKNOWN_INO,
                          .st_mode = d->dirs[i] ? S_IFDIR : S_IFREG};
        size_t n = fuse_add_direntry(req, buf + used, size - used, d->names[i], &st, (off_t)i + 1);
        if (n > size - used)
            break;
        used += n;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    Dir *d = (Dir *)(uintptr_t)fi->fh;
    untrack(&d->open);
    dir_close(&d->open);
    fuse_reply_err(req, 0);
}

/* ---- the rest ---------------------------------------------------------------- */

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    struct statvfs sv;
    vfs_statfs(&sv);
    fuse_reply_statfs(req, &sv);
}

/* getxattr and listxattr: size 0 asks how long the answer is. */
static void reply_xattr(fuse_req_t req, ssize_t n, const char *buf, size_t size)
{
    end();
    if (n < 0)
        fuse_reply_err(req, (int)-n);
    else if (size == 0)
        fuse_reply_xattr(req, (size_t)n);
    else
        fuse_reply_buf(req, buf, (size_t)n);
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    begin(req);
    char *path = path_or_reply(req, ino);
    if (!path)
        return;
    char *buf = size ? xmalloc(size) : NULL;
    reply_xattr(req, vfs_getxattr(path, name, buf, size), buf, size);
    free(buf);
    free(path);
}

static void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    begin(req);
    char *path = path_or_reply(req, ino);
    if (!path)
        return;
    char *buf = size ? xmalloc(size) : NULL;
    reply_xattr(req, vfs_listxattr(path, buf, size), buf, size);
    free(buf);
    free(path);
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
    (void)value, (void)size, (void)flags;
    begin(req);
    char *path = path_or_reply(req, ino);
    if (path)
        reply_err(req, vfs_setxattr(path, name));
    free(path);
}

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    /* O_TRUNC arrives with open, so "echo > m.json" is one open. */
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
        conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    /* A listing costs nothing per entry; readdirplus would make it cost
     * a request per entry. */
    conn->want &= ~(unsigned)(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
    /* With -o page_cache, recordings are read by the kernel's read-ahead
     * (without it they are direct_io: the reader's own reads arrive). The
     * kernel offers the read-ahead of the mount's bdi (128 KiB unless
     * /sys/class/bdi/<dev>/read_ahead_kb says more) and keeps the smaller
     * of that and this: -o readahead can make the kernel's reads smaller,
     * not larger. Larger ones (up to max_write, 1 MiB, which libfuse gives
     * as max_pages) measured no faster: the 128 KiB reads pipeline better
     * with the chunks the stream hands out as they arrive. */
    if (F.cfg.readahead && F.cfg.readahead < conn->max_readahead)
        conn->max_readahead = (unsigned)F.cfg.readahead;
    notify_ready(); /* the kernel has connected: the mount answers */
}

static void fs_destroy(void *userdata)
{
    (void)userdata;
    op_stop_all(); /* the unmount: transfers still running end now */
}

static const struct fuse_lowlevel_ops ops = {
    .init = fs_init,
    .destroy = fs_destroy,
    .lookup = fs_lookup,
    .forget = fs_forget,
    .forget_multi = fs_forget_multi,
    .getattr = fs_getattr,
    .setattr = fs_setattr,
    .readlink = fs_readlink,
    .mkdir = fs_mkdir,
    .unlink = fs_unlink,
    .rmdir = fs_rmdir,
    .symlink = fs_symlink,
    .rename = fs_rename,
    .open = fs_open,
    .read = fs_read,
    .write = fs_write,
    .flush = fs_flush,
    .release = fs_release,
    .fsync = fs_fsync,
    .opendir = fs_opendir,
    .readdir = fs_readdir,
    .releasedir = fs_releasedir,
    .statfs = fs_statfs,
    .setxattr = fs_setxattr,
    .getxattr = fs_getxattr,
    .listxattr = fs_listxattr,
    .create = fs_create,
};

/* ---- the session --------------------------------------------------------------- */

static int serve(struct fuse_cmdline_opts *o)
{
    struct sigaction hup = {.sa_handler = on_sighup};
    sigemptyset(&hup.sa_mask);
    sigaction(SIGHUP, &hup, NULL); /* after libfuse's: SIGHUP refreshes, it does not unmount */
    op_set_interrupt_check(interrupted);
    vfs_init(queue_stale, refresh_and_wait);
    F.stopping = false;
    pthread_create(&F.worker, NULL, worker, NULL);
    struct fuse_loop_config lc = {.clone_fd = o->clone_fd, .max_idle_threads = o->max_idle_threads};
    int rc = o->singlethread ? fuse_session_loop(F.se) : fuse_session_loop_mt(F.se, &lc);
    lock(&F.lock);
    F.stopping = true;
    pthread_cond_signal(&F.wake);
    unlock(&F.lock);
    pthread_join(F.worker, NULL);
    close_leftovers();
    for (size_t i = 0; i < F.nstale; i++)
        free(F.stale[i]);
    free(F.stale);
    F.stale = NULL;
    F.nstale = 0;
    /* Ended by a signal (SIGTERM, SIGINT) or by the unmount (the kernel
     * then answers ENODEV): a clean end. */
    return rc < 0 && rc != -ENODEV ? 1 : 0;
}

/* Whether -o allow_other was given. */
static bool allows_others(const struct fuse_args *args)
{
    for (int i = 1; i < args->argc; i++)
        for (const char *p = args->argv[i]; (p = strstr(p, "allow_other")); p++)
            if ((p == args->argv[i] || p[-1] == ',' || p[-1] == 'o') &&
                (p[11] == '\0' || p[11] == ','))
                return true;
    return false;
}

/* A mount point zoomfs must not take: one that is already a zoomfs mount
 * (a second one would hide the first), or the remains of one that died.
 * Returns the reason, or NULL. */
static const char *unusable_mount_point(const char *mountpoint)
{
    struct statvfs sv; /* goes to the filesystem, past any cached attributes */
    if (statvfs(mountpoint, &sv) != 0 && errno == ENOTCONN)
        return "it is the mount of a zoomfs that died (killed?); run 'fusermount3 -uz' on it first";
    char *real = realpath(mountpoint, NULL);
    FILE *f = real ? fopen("/proc/self/mountinfo", "re") : NULL;
    char *line = NULL;
    size_t cap = 0;
    bool taken = false;
    while (f && !taken && getline(&line, &cap, f) > 0) {
        /* "36 35 0:40 / /mnt/zoom rw,relatime shared:1 - fuse.zoomfs zoomfs rw,..." */
        char mp[4096], type[64];
        const char *dash = strstr(line, " - ");
        taken = dash && sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 &&
                sscanf(dash + 3, "%63s", type) == 1 && strcmp(mp, real) == 0 &&
                strcmp(type, "fuse.zoomfs") == 0;
    }
    free(line);
    if (f)
        fclose(f);
    free(real);
    return taken ? "it is already a zoomfs mount; unmount it first (fusermount3 -u)" : NULL;
}

int fs_run(struct fuse_args *args, const FsConfig *cfg)
{
    if (allows_others(args)) {
        /* Other users reach Zoom with this mount's token: the kernel must
         * at least check the modes. */
        fuse_opt_add_arg(args, "-odefault_permissions");
        log_info("allow_other: other local users act with this mount's Zoom token, within "
                 "the files' modes (default_permissions)");
    }
    struct fuse_cmdline_opts o;
    if (fuse_parse_cmdline(args, &o) != 0)
        return 1;
    if (!o.mountpoint) {
        fprintf(stderr, "zoomfs: no mount point given\n");
        return 1;
    }
    const char *why = unusable_mount_point(o.mountpoint);
    if (why) {
        fprintf(stderr, "zoomfs: %s: %s\n", o.mountpoint, why);
        free(o.mountpoint);
        return 1;
    }
    F.cfg = *cfg;
    F.inodes = inode_table_new();
    stats_gauge("inodes", inodes_now);
    int rc = 1;
    F.se = fuse_session_new(args, &ops, sizeof(ops), NULL);
    if (F.se && fuse_set_signal_handlers(F.se) == 0) {
        if (fuse_session_mount(F.se, o.mountpoint) == 0) {
            fuse_daemonize(o.foreground);
            rc = serve(&o);
            fuse_session_unmount(F.se);
        }
        fuse_remove_signal_handlers(F.se);
    }
    if (F.se)
        fuse_session_destroy(F.se);
    F.se = NULL;
    inode_table_free(F.inodes);
    F.inodes = NULL;
    free(o.mountpoint);
    return rc;
}
