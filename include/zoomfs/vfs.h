/* vfs: the filesystem's operations on paths, without FUSE. Each operation
 * resolves its path the same way (a scratch file, then a file being
 * created, then the tree), checks whether it may change something in one
 * place, refuses in one place (logged once, counted in .zoomfs/stats), and
 * hands the rest to the row's kind ops. fs.c only adapts FUSE's calls. */
#ifndef ZOOMFS_VFS_H
#define ZOOMFS_VFS_H

#include "zoomfs/kind.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

typedef struct Handle Handle;

/* What the kernel should know of an open file. */
enum {
    VFS_DIRECT_IO = 1 << 0,  /* no page cache: each read asks */
    VFS_KEEP_CACHE = 1 << 1, /* the content never changes: keep cached pages */
    VFS_MEDIA = 1 << 2,      /* a recording's bytes, streamed from the CDN */
};

/* invalidate(path): the kernel's cached attributes and entry for path are
 * stale (a save, a rename onto it); refresh(): drop every cache (a write
 * to .zoomfs/refresh). Either may be NULL. */
void vfs_init(void (*invalidate)(const char *path), void (*refresh)(void));

int vfs_getattr(const char *path, struct stat *st);
int vfs_readdir(const char *path, NodeAdd add, void *ctx);
/* A stat of path (add NULL) whose answer is not wanted, or a listing: what
 * it costs is then cached (walk.h's WalkVisit). */
int vfs_visit(const char *path, NodeAdd add, void *ctx);
int vfs_open(const char *path, int flags, Handle **h, unsigned *hints);
int vfs_create(const char *path, mode_t mode, int flags, Handle **h, unsigned *hints);
ssize_t vfs_read(Handle *h, char *buf, size_t size, off_t off);
ssize_t vfs_write(Handle *h, const char *buf, size_t size, off_t off);
/* h may be NULL (truncate of a path). */
int vfs_truncate(const char *path, off_t size, Handle *h);
/* close() and fsync(): sends what an edit changed; the result is what the
 * writer sees. */
int vfs_flush(const char *path, Handle *h);
void vfs_release(Handle *h);
int vfs_unlink(const char *path);
int vfs_rmdir(const char *path);
int vfs_mkdir(const char *path, mode_t mode);
/* flags: RENAME_NOREPLACE, RENAME_EXCHANGE */
int vfs_rename(const char *from, const char *to, unsigned flags);
int vfs_symlink(const char *target, const char *path);
int vfs_readlink(const char *path, char *buf, size_t size);
int vfs_chmod(const char *path, mode_t mode);
int vfs_chown(const char *path, uid_t uid, gid_t gid);
int vfs_utimens(const char *path);
int vfs_setxattr(const char *path, const char *name);
/* Extended attributes (user.zoom.*), with the getxattr/listxattr size rules:
 * size 0 asks for the length; a buffer too small is -ERANGE. Returns the
 * length or -errno (-ENODATA: no such attribute). */
ssize_t vfs_getxattr(const char *path, const char *name, char *buf, size_t size);
ssize_t vfs_listxattr(const char *path, char *buf, size_t size);
int vfs_statfs(struct statvfs *sv);

#endif
