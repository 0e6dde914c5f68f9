/* fs: FUSE callbacks. Each one parses the path with tree, then asks node,
 * edit, scratch or stream; it returns 0 or -errno and nothing else. */
#include "zoomfs/fs.h"

#include "zoomfs/config.h"
#include "zoomfs/edit.h"
#include "zoomfs/log.h"
#include "zoomfs/node.h"
#include "zoomfs/notify.h"
#include "zoomfs/scratch.h"
#include "zoomfs/stream.h"
#include "zoomfs/tree.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

/* What an open file is. */
typedef enum { H_SNAPSHOT, H_STREAM, H_EDIT, H_SCRATCH } HandleKind;

typedef struct {
    HandleKind kind;
    char *data; /* H_SNAPSHOT: read-only JSON or .zoomfs text taken at open */
    size_t len;
    Stream *stream; /* H_STREAM */
    Edit *edit;     /* H_EDIT */
    char *path;     /* H_SCRATCH: scratch files are addressed by path */
} Handle;

static Handle *handle_of(struct fuse_file_info *fi)
{
    return (Handle *)(uintptr_t)fi->fh;
}

static int keep_handle(struct fuse_file_info *fi, Handle *h)
{
    fi->fh = (uint64_t)(uintptr_t)h;
    return 0;
}

/* Folders where editors and scripts may leave their own files. */
static bool scratch_allowed(NodeKind folder)
{
    return folder == NODE_USER || folder == NODE_MEETINGS || folder == NODE_WEBINARS;
}

/* Tells the kernel to forget what it cached about path (size, entry). */
static void forget_in_kernel(const char *path)
{
    struct fuse_context *ctx = fuse_get_context();
    if (ctx && ctx->fuse)
        fuse_invalidate_path(ctx->fuse, path);
}

/* Every change starts here: refused at once on a read-only mount. */
static int parse_for_change(const char *path, TreePath *tp)
{
    return cfg.read_only ? -EROFS : tree_parse(path, tp);
}

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *fc)
{
    /* O_TRUNC arrives with open, so "echo > m.json" is one open. */
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
        conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    fc->entry_timeout = cfg.attr_ttl;
    fc->attr_timeout = cfg.attr_ttl;
    fc->negative_timeout = cfg.attr_ttl < 2 ? cfg.attr_ttl : 2;
    fc->use_ino = 0;
    fc->hard_remove = 1;
    notify_ready(); /* the kernel has connected: the mount answers */
    return NULL;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    if (scratch_getattr(path, st) == 0)
        return 0;
    int64_t pending = edit_pending_size(path);
    if (pending >= 0) {
        memset(st, 0, sizeof(*st));
        st->st_mode = S_IFREG | (0666 & ~cfg.umask);
        st->st_nlink = 1;
        st->st_size = pending;
        st->st_uid = cfg.uid;
        st->st_gid = cfg.gid;
        st->st_mtime = st->st_ctime = st->st_atime = (time_t)wall_seconds();
        return 0;
    }
    TreePath tp;
    int rc = tree_parse(path, &tp);
    if (rc)
        return rc;
    return node_getattr(path, &tp, st);
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
    TreePath tp;
    int rc = tree_parse(path, &tp);
    if (rc)
        return rc;
    if (!tree_is_dir(tp.kind))
        return -ENOTDIR;
    filler(buf, ".", NULL, 0, 0);
    filler(buf, "..", NULL, 0, 0);
    DirFill d = {buf, filler};
    rc = node_readdir(&tp, add_entry, &d);
    if (rc == 0 && scratch_allowed(tp.kind)) {
        scratch_list(path, add_entry, &d);
        edit_list_pending(path, add_entry, &d);
    }
    return rc;
}

static int open_for_writing(const char *path, const TreePath *tp, struct fuse_file_info *fi)
{
    if (cfg.read_only)
        return -EROFS;
    if (!node_resource(tp->kind))
        return -EACCES; /* recordings and recording.json are read-only */
    JsonFile *current;
    int rc = node_json(path, tp, &current);
    if (rc)
        return rc;
    Handle *h = xcalloc(1, sizeof(*h));
    h->kind = H_EDIT;
    h->edit = edit_open(path, tp, current, fi->flags & O_TRUNC);
    cacheval_unref(&current->base);
    fi->direct_io = 1;
    return keep_handle(fi, h);
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
    bool writing = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
    if (scratch_exists(path)) {
        if (writing && cfg.read_only)
            return -EROFS;
        if (fi->flags & O_TRUNC)
            scratch_truncate(path, 0);
        Handle *h = xcalloc(1, sizeof(*h));
        h->kind = H_SCRATCH;
        h->path = xstrdup(path);
        fi->direct_io = 1;
        return keep_handle(fi, h);
    }
    TreePath tp;
    int rc = tree_parse(path, &tp);
    if (rc)
        return rc;
    if (tree_is_dir(tp.kind))
        return -EISDIR;
    if (writing)
        return open_for_writing(path, &tp, fi);

    Handle *h = xcalloc(1, sizeof(*h));
    switch (tp.kind) {
    case NODE_MEDIA: {
        MediaInfo m;
        rc = node_media(&tp, &m);
        if (rc)
            break;
        h->kind = H_STREAM;
        h->stream = stream_open(m.download_url, m.size);
        media_info_free(&m);
        /* Recording files never change: the page cache may keep them. */
        fi->keep_cache = 1;
        break;
    }
    case NODE_META_FILE:
        h->kind = H_SNAPSHOT;
        h->data = node_meta(tp.name, &h->len);
        rc = h->data ? 0 : -ENOENT;
        fi->direct_io = 1; /* its length changes from one read to the next */
        break;
    case NODE_OTHER:
        rc = -ENOENT;
        break;
    default: {
        JsonFile *f;
        rc = node_json(path, &tp, &f);
        if (rc)
            break;
        h->kind = H_SNAPSHOT;
        h->data = xmalloc(f->len);
        memcpy(h->data, f->text, f->len);
        h->len = f->len;
        cacheval_unref(&f->base);
        /* The object may have changed in Zoom since the kernel last saw its
         * size: each open reads what it sees, not a stale page cache. */
        fi->direct_io = 1;
        break;
    }
    }
    if (rc) {
        free(h->data);
        free(h);
        return rc;
    }
    return keep_handle(fi, h);
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    TreePath tp;
    int rc = parse_for_change(path, &tp);
    if (rc)
        return rc;
    /* An object that exists (vim writing m.json again after moving it
     * aside) is an edit of it, never a new one. */
    if (node_resource(tp.kind)) {
        struct stat st;
        if (node_getattr(path, &tp, &st) == 0) {
            if (fi->flags & O_EXCL)
                return -EEXIST;
            return open_for_writing(path, &tp, fi);
        }
    }
    Handle *h = xcalloc(1, sizeof(*h));
    fi->direct_io = 1;
    if (edit_is_new_resource_name(tp.parent, tp.name)) {
        h->kind = H_EDIT;
        h->edit = edit_create(path, &tp);
        return keep_handle(fi, h);
    }
    if (!scratch_allowed(tp.parent)) {
        free(h);
        return -EPERM;
    }
    rc = scratch_create(path, mode, fi->flags & O_EXCL);
    if (rc) {
        free(h);
        return rc;
    }
    h->kind = H_SCRATCH;
    h->path = xstrdup(path);
    return keep_handle(fi, h);
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    Handle *h = handle_of(fi);
    switch (h->kind) {
    case H_STREAM:
        return (int)stream_read(h->stream, buf, size, off);
    case H_EDIT:
        return (int)edit_read(h->edit, buf, size, off);
    case H_SCRATCH:
        return (int)scratch_read(h->path, buf, size, off);
    case H_SNAPSHOT:
        break;
    }
    return (int)copy_range(h->data, h->len, buf, size, off);
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)path;
    Handle *h = handle_of(fi);
    if (h->kind == H_EDIT)
        return (int)edit_write(h->edit, buf, size, off);
    if (h->kind == H_SCRATCH)
        return (int)scratch_write(h->path, buf, size, off);
    return -EBADF;
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    if (fi) {
        Handle *h = handle_of(fi);
        if (h->kind == H_EDIT)
            return edit_truncate(h->edit, size);
        if (h->kind == H_SCRATCH)
            return scratch_truncate(h->path, size);
    }
    if (scratch_exists(path))
        return scratch_truncate(path, size);
    if (cfg.read_only)
        return -EROFS;
    /* Cutting a JSON file outside an open would leave a broken object in
     * between: only sizes that change nothing are accepted. */
    struct stat st;
    int rc = fs_getattr(path, &st, NULL);
    if (rc)
        return rc;
    return st.st_size == size ? 0 : -EPERM;
}

/* Sends an edit; the result is what close() (or fsync()) returns. */
static int commit(const char *path, Handle *h)
{
    if (h->kind != H_EDIT)
        return 0;
    bool moved = false;
    int rc = edit_commit(h->edit, &moved);
    if (rc == 0 || moved)
        forget_in_kernel(path);
    return rc;
}

static int fs_flush(const char *path, struct fuse_file_info *fi)
{
    return commit(path, handle_of(fi));
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    return commit(path, handle_of(fi));
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    Handle *h = handle_of(fi);
    stream_close(h->stream);
    edit_free(h->edit);
    free(h->data);
    free(h->path);
    free(h);
    return 0;
}

static int fs_unlink(const char *path)
{
    if (cfg.read_only)
        return -EROFS;
    if (scratch_unlink(path) == 0)
        return 0;
    TreePath tp;
    int rc = tree_parse(path, &tp);
    if (rc)
        return rc;
    switch (tp.kind) {
    case NODE_MEETING_JSON:
    case NODE_WEBINAR_JSON:
        return node_delete_object(&tp);
    case NODE_MEDIA:
        return node_delete_media(&tp);
    case NODE_RECORDING_JSON: {
        struct stat st;
        rc = node_getattr(path, &tp, &st);
        if (rc == 0)
            node_hide(path);
        return rc;
    }
    case NODE_OTHER:
        return -ENOENT;
    default:
        return -EPERM;
    }
}

static int fs_rmdir(const char *path)
{
    TreePath tp;
    int rc = parse_for_change(path, &tp);
    if (rc)
        return rc;
    if (tp.kind == NODE_INSTANCE)
        return node_delete_instance(&tp);
    return tree_is_dir(tp.kind) ? -EPERM : -ENOTDIR;
}

static int fs_mkdir(const char *path, mode_t mode)
{
    (void)mode;
    TreePath tp;
    int rc = parse_for_change(path, &tp);
    if (rc)
        return rc;
    if (tp.kind != NODE_USER)
        return -EPERM;
    struct stat st;
    if (node_getattr(path, &tp, &st) == 0)
        return -EEXIST;
    return node_create_user(tp.user);
}

static bool is_resource_target(const TreePath *tp)
{
    return node_resource(tp->kind) || edit_is_new_resource_name(tp->parent, tp->name);
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
    if (cfg.read_only)
        return -EROFS;
    if (flags & RENAME_EXCHANGE)
        return -EINVAL;
    TreePath src, dst;
    int rc = tree_parse(to, &dst);
    if (rc)
        return rc;
    if (flags & RENAME_NOREPLACE) {
        struct stat st;
        if (fs_getattr(to, &st, NULL) == 0)
            return -EEXIST;
    }
    if (scratch_exists(from)) {
        if (is_resource_target(&dst)) {
            /* sed -i, "jq … > t && mv t m.json": the scratch content is the
             * new version of the object. */
            char *data;
            size_t len;
            if (scratch_content(from, &data, &len) != 0)
                return -ENOENT;
            if (!node_resource(dst.kind))
                dst.kind = dst.parent == NODE_WEBINARS ? NODE_WEBINAR_JSON : NODE_MEETING_JSON;
            rc = edit_save(to, &dst, data, len);
            free(data);
            if (rc == 0) {
                scratch_unlink(from);
                forget_in_kernel(to);
            }
            return rc;
        }
        return scratch_allowed(dst.parent) ? scratch_rename(from, to) : -EPERM;
    }
    rc = tree_parse(from, &src);
    if (rc)
        return rc;
    if (node_resource(src.kind) && dst.kind == NODE_OTHER && scratch_allowed(dst.parent)) {
        /* vim moving m.json aside as a backup: the backup gets a copy and
         * nothing changes in Zoom; writing m.json again is an edit. */
        JsonFile *f;
        rc = node_json(from, &src, &f);
        if (rc)
            return rc;
        scratch_put(to, f->text, f->len, 0600);
        cacheval_unref(&f->base);
        return 0;
    }
    return -EPERM;
}

static int fs_symlink(const char *target, const char *path)
{
    TreePath tp;
    int rc = parse_for_change(path, &tp);
    if (rc)
        return rc;
    if (tp.kind != NODE_OTHER || !scratch_allowed(tp.parent))
        return -EPERM;
    return scratch_symlink(path, target);
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
    return scratch_readlink(path, buf, size);
}

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    (void)fi;
    if (scratch_exists(path))
        return scratch_chmod(path, mode);
    struct stat st;
    int rc = fs_getattr(path, &st, NULL);
    if (rc)
        return rc;
    /* Editors and sed -i set the mode a file already has: fine. */
    return (st.st_mode & 07777) == (mode & 07777) ? 0 : -EPERM;
}

static int fs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
    (void)fi;
    struct stat st;
    int rc = fs_getattr(path, &st, NULL);
    if (rc)
        return rc;
    bool same_uid = uid == (uid_t)-1 || uid == st.st_uid;
    bool same_gid = gid == (gid_t)-1 || gid == st.st_gid;
    return same_uid && same_gid ? 0 : -EPERM;
}

static int fs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    (void)tv, (void)fi;
    /* Zoom keeps no times we could set; rsync and cp -p ask anyway. */
    struct stat st;
    return fs_getattr(path, &st, NULL);
}

static int fs_setxattr(const char *path, const char *name, const char *value, size_t size,
                       int flags)
{
    (void)path, (void)name, (void)value, (void)size, (void)flags;
    return -ENOTSUP;
}

static int fs_statfs(const char *path, struct statvfs *sv)
{
    (void)path;
    /* Answered from memory: df must never wait for Zoom. */
    memset(sv, 0, sizeof(*sv));
    sv->f_bsize = 4096;
    sv->f_frsize = 4096;
    sv->f_namemax = 255;
    return 0;
}

static const struct fuse_operations operations = {
    .init = fs_init,
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

const struct fuse_operations *fs_operations(void)
{
    return &operations;
}
