/* fs: the fuse_operations table. Each callback turns FUSE's arguments into
 * a vfs call inside an operation (its deadline, its interrupt) and returns
 * 0 or -errno; what a path is and what may happen to it is vfs's business. */
#include "zoomfs/fs.h"

#include "zoomfs/notify.h"
#include "zoomfs/op.h"
#include "zoomfs/vfs.h"

#include <fuse.h>
#include <stdint.h>
#include <string.h>

static const FsConfig *conf;

static Handle *handle_of(const struct fuse_file_info *fi)
{
    return (Handle *)(uintptr_t)fi->fh;
}

static void keep_handle(struct fuse_file_info *fi, Handle *h, unsigned hints)
{
    fi->fh = (uint64_t)(uintptr_t)h;
    fi->direct_io = (hints & VFS_DIRECT_IO) != 0;
    fi->keep_cache = (hints & VFS_KEEP_CACHE) != 0;
}

static bool interrupted(void)
{
    return fuse_interrupted() != 0;
}

/* Tells the kernel to forget what it cached about path (size, entry). */
static void forget_in_kernel(const char *path)
{
    struct fuse_context *ctx = fuse_get_context();
    if (ctx && ctx->fuse)
        fuse_invalidate_path(ctx->fuse, path);
}

/* Every callback runs as one operation: a deadline, and an end on Ctrl-C. */
#define OP(call)                                                                                   \
    ({                                                                                             \
        op_begin();                                                                                \
        __typeof__(call) r_ = (call);                                                              \
        op_end();                                                                                  \
        r_;                                                                                        \
    })

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *fc)
{
    /* O_TRUNC arrives with open, so "echo > m.json" is one open. */
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
        conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    fc->entry_timeout = conf->attr_ttl;
    fc->attr_timeout = conf->attr_ttl;
    fc->negative_timeout = conf->attr_ttl < 2 ? conf->attr_ttl : 2;
    fc->use_ino = 0;
    fc->hard_remove = 1;
    op_set_interrupt_check(interrupted);
    vfs_init(forget_in_kernel);
    notify_ready(); /* the kernel has connected: the mount answers */
    return NULL;
}

static void fs_destroy(void *data)
{
    (void)data;
    /* The unmount: transfers still running end now. */
    op_stop_all();
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    return OP(vfs_getattr(path, st));
}

typedef struct {
    void *buf;
    fuse_fill_dir_t filler;
} DirFill;

static int add_entry(void *ctx, const char *name, bool is_dir)
{
    DirFill *d = ctx;
    struct stat st = {.st_mode = is_dir ? S_IFDIR : S_IFREG};
    return d->filler(d->buf, name, &st, 0, 0);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    (void)offset, (void)fi, (void)flags;
    DirFill d = {buf, filler};
    filler(buf, ".", NULL, 0, 0);
    filler(buf, "..", NULL, 0, 0);
    return OP(vfs_readdir(path, add_entry, &d));
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
    Handle *h = NULL;
    unsigned hints = 0;
    int rc = OP(vfs_open(path, fi->flags, &h, &hints));
    if (rc == 0)
        keep_handle(fi, h, hints);
    return rc;
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    Handle *h = NULL;
    unsigned hints = 0;
    int rc = OP(vfs_create(path, mode, fi->flags, &h, &hints));
    if (rc == 0)
        keep_handle(fi, h, hints);
    return rc;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    return (int)OP(vfs_read(handle_of(fi), buf, size, off));
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)path;
    return (int)OP(vfs_write(handle_of(fi), buf, size, off));
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    return OP(vfs_truncate(path, size, fi ? handle_of(fi) : NULL));
}

/* Sends an edit; the result is what close() (or fsync()) returns: the
 * kernel drops release's. */
static int fs_flush(const char *path, struct fuse_file_info *fi)
{
    return OP(vfs_flush(path, handle_of(fi)));
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    return OP(vfs_flush(path, handle_of(fi)));
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    vfs_release(handle_of(fi));
    return 0;
}

static int fs_unlink(const char *path)
{
    return OP(vfs_unlink(path));
}

static int fs_rmdir(const char *path)
{
    return OP(vfs_rmdir(path));
}

static int fs_mkdir(const char *path, mode_t mode)
{
    return OP(vfs_mkdir(path, mode));
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
    return OP(vfs_rename(from, to, flags));
}

static int fs_symlink(const char *target, const char *path)
{
    return OP(vfs_symlink(target, path));
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
    return vfs_readlink(path, buf, size);
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    (void)fi;
    return OP(vfs_chmod(path, mode));
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    (void)fi;
    return OP(vfs_chown(path, uid, gid));
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    (void)tv, (void)fi;
    return OP(vfs_utimens(path));
}

static int fs_setxattr(const char *path, const char *name, const char *value, size_t size,
                       int flags)
{
    (void)value, (void)size, (void)flags;
    return vfs_setxattr(path, name);
}

static int fs_statfs(const char *path, struct statvfs *sv)
{
    (void)path;
    return vfs_statfs(sv);
}

static const struct fuse_operations operations = {
    .init = fs_init,
    .destroy = fs_destroy,
    .getattr = fs_getattr,
    .readdir = fs_readdir,
    .open = fs_open,
    .create = fs_create,
    .read = fs_read,
    .write = fs_write,
    .truncate = fs_truncate,
    .flush = fs_flush,
    .fsync = fs_fsync,
    .release = fs_release,
    .unlink = fs_unlink,
    .rmdir = fs_rmdir,
    .mkdir = fs_mkdir,
    .rename = fs_rename,
    .symlink = fs_symlink,
    .readlink = fs_readlink,
    .chmod = fs_chmod,
    .chown = fs_chown,
    .utimens = fs_utimens,
    .setxattr = fs_setxattr,
    .statfs = fs_statfs,
};

const struct fuse_operations *fs_operations(const FsConfig *c)
{
    conf = c;
    return &operations;
}
