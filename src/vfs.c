/* vfs: resolve, check, dispatch. Every operation finds what its path is in
 * one order (resolve), decides whether it may change it in one place
 * (may_change) and refuses in one place (refuse). */
#include "zoomfs/vfs.h"

#include "zoomfs/edit.h"
#include "zoomfs/errmap.h"
#include "zoomfs/log.h"
#include "zoomfs/node.h"
#include "zoomfs/op.h"
#include "zoomfs/scratch.h"
#include "zoomfs/stats.h"
#include "zoomfs/stream.h"
#include "zoomfs/util.h"
#include "zoomfs/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void (*invalidate)(const char *path);
static void (*refresh)(void);

void vfs_init(void (*inval)(const char *path), void (*refresh_all)(void))
{
    invalidate = inval;
    refresh = refresh_all;
}

static void forget_in_kernel(const char *path)
{
    if (invalidate)
        invalidate(path);
}

/* ---- resolve ------------------------------------------------------------ */

typedef enum {
    AT_NOTHING, /* no such path (rc says why) */
    AT_SCRATCH, /* an editor's or script's own file */
    AT_PENDING, /* a new *.json file not yet sent */
    AT_NODE,    /* a node of the tree (e.tp.row) */
    AT_OTHER,   /* a free name in a folder: .e.tp.parent is the folder */
} Where;

typedef struct {
    Where where;
    int rc; /* AT_NOTHING: the errno (negative) */
    Entry e;
} Resolved;

/* The flags of a row and all its ancestors. */
static unsigned chain_flags(const Row *row)
{
    unsigned flags = 0;
    for (const Row *r = row; r; r = r->kind == NODE_ROOT ? NULL : store_row(r->parent))
        flags |= r->flags;
    return flags;
}

/* What path is, in one order: scratch files, files being created, then the
 * tree (where a node exists only if its rows' conditions hold). */
static Where resolve(const char *path, Resolved *r)
{
    memset(r, 0, sizeof(*r));
    r->e.path = path;
    r->rc = store_parse(path, &r->e.tp);
    if (scratch_exists(path))
        return r->where = AT_SCRATCH;
    if (edit_pending_size(path) >= 0)
        return r->where = AT_PENDING;
    if (r->rc)
        return r->where = AT_NOTHING;
    const Row *row = r->e.tp.row ? r->e.tp.row : r->e.tp.parent;
    if (!node_present(chain_flags(row), &r->e)) {
        r->rc = -ENOENT;
        return r->where = AT_NOTHING;
    }
    return r->where = r->e.tp.row ? AT_NODE : AT_OTHER;
}

static bool is_dir(const Resolved *r)
{
    return r->where == AT_NODE && (r->e.tp.row->flags & ROW_DIR);
}

/* A folder where editors and scripts may leave their own files. */
static bool scratch_folder(const Row *folder)
{
    return folder && (folder->flags & ROW_SCRATCH);
}

/* ---- refusals ------------------------------------------------------------ */

/* Every refusal goes through here: logged (the first time for this op and
 * reason) and counted, so what zoomfs refuses can be found with grep. */
static int refuse(const char *op, const char *path, int err, const char *why)
{
    stats_refusal(op, err);
    char *key = xasprintf("%s %d %s", op, err, why);
    if (store_first_time(key))
        log_info("%s %s: refused (%s): %s", op, path, errmap_errno_name(err), why);
    else
        log_debug("%s %s: refused (%s): %s", op, path, errmap_errno_name(err), why);
    free(key);
    return -err;
}

static int read_only(const char *op, const char *path)
{
    return store_config()->read_only ? refuse(op, path, EROFS, "the mount is read-only (-o ro)")
                                     : 0;
}

/* May op change what r is? 0, or the refusal. */
static int may_change(const char *op, const Resolved *r)
{
    int rc = read_only(op, r->e.path);
    return rc ? rc : r->where == AT_NOTHING ? r->rc : 0;
}

/* ---- attributes and listings --------------------------------------------- */

static int node_getattr(const Entry *e, struct stat *st)
{
    const KindOps *ops = e->tp.row->ops;
    if (ops->getattr)
        return ops->getattr(e, st);
    JsonFile *f;
    int rc = ops->json(e, &f);
    if (rc == 0) {
        store_fill_file(st, (int64_t)f->len, f->mtime, e->tp.row->mode);
        cacheval_unref(&f->base);
    }
    return rc;
}

int vfs_getattr(const char *path, struct stat *st)
{
    Resolved r;
    switch (resolve(path, &r)) {
    case AT_SCRATCH:
        return scratch_getattr(path, st);
    case AT_PENDING:
        store_fill_file(st, edit_pending_size(path), wall_seconds(), 0666);
        return 0;
    case AT_NODE:
        walk_saw(&r.e, false);
        return node_getattr(&r.e, st);
    case AT_OTHER:
        return -ENOENT;
    case AT_NOTHING:
        break;
    }
    return r.rc;
}

int vfs_readdir(const char *path, NodeAdd add, void *ctx)
{
    Resolved r;
    if (resolve(path, &r) != AT_NODE)
        return r.where == AT_NOTHING ? r.rc : -ENOTDIR;
    const Row *row = r.e.tp.row;
    if (!(row->flags & ROW_DIR))
        return -ENOTDIR;
    walk_saw(&r.e, true);
    /* Fixed children come from the rows, those from Zoom from the kind. */
    size_t ntable;
    const Row *table = store_rows(&ntable);
    for (size_t i = 0; i < ntable; i++) {
        const char *name;
        if (table[i].parent != row->kind || &table[i] == row ||
            !tree_fixed_name(&table[i], &name) || (table[i].flags & ROW_UNLISTED))
            continue;
        if (table[i].flags & (ROW_USER_ID | ROW_WEBINAR) && !node_present(table[i].flags, &r.e))
            continue;
        char *child = xasprintf("%s/%s", strcmp(path, "/") ? path : "", name);
        bool hidden = store_hidden(child);
        free(child);
        if (!hidden && add(ctx, name, table[i].flags & ROW_DIR))
            return 0;
    }
    int rc = row->ops->list ? row->ops->list(&r.e, add, ctx) : 0;
    if (rc == 0 && scratch_folder(row)) {
        scratch_list(path, add, ctx);
        edit_list_pending(path, add, ctx);
    }
    return rc;
}

int vfs_visit(const char *path, NodeAdd add, void *ctx)
{
    struct stat st;
    return add ? vfs_readdir(path, add, ctx) : vfs_getattr(path, &st);
}

/* ---- open files ------------------------------------------------------------- */

typedef enum { H_SNAPSHOT, H_STREAM, H_EDIT, H_SCRATCH, H_TRIGGER } HandleKind;

struct Handle {
    HandleKind kind;
    char *data; /* H_SNAPSHOT: read-only JSON or .zoomfs text taken at open */
    size_t len;
    Stream *stream; /* H_STREAM */
    Edit *edit;     /* H_EDIT */
    char *path;     /* H_SCRATCH: scratch files are addressed by path */
    bool written;   /* H_TRIGGER: acts at flush once something was written */
};

static Handle *handle_new(HandleKind kind)
{
    Handle *h = xcalloc(1, sizeof(*h));
    h->kind = kind;
    return h;
}

static Handle *scratch_handle(const char *path)
{
    Handle *h = handle_new(H_SCRATCH);
    h->path = xstrdup(path);
    return h;
}

static int open_for_writing(const Resolved *r, int flags, Handle **h, unsigned *hints)
{
    if (node_is_trigger(&r->e)) { /* echo 1 > .zoomfs/refresh, even under -o ro */
        *h = handle_new(H_TRIGGER);
        *hints = VFS_DIRECT_IO;
        return 0;
    }
    int rc = may_change("open for writing", r);
    if (rc)
        return rc;
    if (!r->e.tp.row->patch)
        return refuse("open for writing", r->e.path, EACCES, "Zoom takes no change to it");
    JsonFile *current;
    rc = r->e.tp.row->ops->json(&r->e, &current);
    if (rc)
        return rc;
    *h = handle_new(H_EDIT);
    (*h)->edit = edit_open(&r->e, current, flags & O_TRUNC);
    cacheval_unref(&current->base);
    *hints = VFS_DIRECT_IO;
    return 0;
}

/* A read-only open of a node: a snapshot of its text, or a stream. */
static int open_node(const Entry *e, Handle **h, unsigned *hints)
{
    const KindOps *ops = e->tp.row->ops;
    int rc;
    if (ops->media) {
        MediaInfo m;
        rc = ops->media(e, &m);
        if (rc == 0) {
            *h = handle_new(H_STREAM);
            (*h)->stream = stream_open(m.download_url, m.size);
            (*h)->path = xstrdup(e->path);
            /* Recording files never change: where the page cache holds
             * them (fs.c decides), it may keep them across opens. */
            *hints = VFS_KEEP_CACHE | VFS_MEDIA;
        }
        media_info_free(&m);
        return rc;
    }
    if (ops->text) {
        char *text;
        size_t len;
        rc = ops->text(e, &text, &len);
        if (rc == 0) {
            *h = handle_new(H_SNAPSHOT);
            (*h)->data = text;
            (*h)->len = len;
            *hints = VFS_DIRECT_IO; /* its length changes from one read to the next */
        }
        return rc;
    }
    JsonFile *f;
    rc = ops->json(e, &f);
    if (rc == 0) {
        *h = handle_new(H_SNAPSHOT);
        (*h)->data = xmalloc(f->len ? f->len : 1);
        memcpy((*h)->data, f->text, f->len);
        (*h)->len = f->len;
        cacheval_unref(&f->base);
        /* The object may have changed in Zoom since the kernel last saw its
         * size: each open reads what it sees, not a stale page cache. */
        *hints = VFS_DIRECT_IO;
    }
    return rc;
}

int vfs_open(const char *path, int flags, Handle **h, unsigned *hints)
{
    bool writing = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    Resolved r;
    *hints = 0;
    switch (resolve(path, &r)) {
    case AT_SCRATCH:
        if (writing && read_only("open for writing", path))
            return -EROFS;
        if (flags & O_TRUNC)
            scratch_truncate(path, 0);
        *h = scratch_handle(path);
        *hints = VFS_DIRECT_IO;
        return 0;
    case AT_NODE:
        if (is_dir(&r))
            return -EISDIR;
        return writing ? open_for_writing(&r, flags, h, hints) : open_node(&r.e, h, hints);
    case AT_PENDING:
        /* A new file is written through the open that created it. */
        return writing ? refuse("open for writing", path, EACCES, "a new file not yet sent")
                       : -ENOENT;
    case AT_OTHER:
        return -ENOENT;
    case AT_NOTHING:
        break;
    }
    return r.rc;
}

int vfs_create(const char *path, mode_t mode, int flags, Handle **h, unsigned *hints)
{
    Resolved r;
    resolve(path, &r);
    int rc = may_change("create", &r);
    if (rc)
        return rc;
    *hints = VFS_DIRECT_IO;
    if (r.where == AT_NODE && !is_dir(&r) && (r.e.tp.row->patch || edit_is_new_object(&r.e.tp))) {
        /* An object that exists (vim writing m.json again after moving it
         * aside) is an edit of it, never a new one; one Zoom takes no
         * change to (a registrant) is refused. */
        struct stat st;
        if (node_getattr(&r.e, &st) == 0)
            return (flags & O_EXCL) ? -EEXIST : open_for_writing(&r, flags, h, hints);
    }
    if (r.where != AT_SCRATCH && edit_is_new_object(&r.e.tp)) {
        *h = handle_new(H_EDIT);
        (*h)->edit = edit_create(&r.e);
        return 0;
    }
    if (r.where == AT_NODE || !scratch_folder(r.e.tp.parent))
        return refuse("create", path, EPERM, "no files of one's own in this folder");
    if ((rc = scratch_create(path, mode, flags & O_EXCL)) == 0)
        *h = scratch_handle(path);
    return rc;
}

ssize_t vfs_read(Handle *h, char *buf, size_t size, off_t off)
{
    switch (h->kind) {
    case H_STREAM: {
        stats_add(STAT_RECORDING_READS, 1);
        ssize_t n = stream_read(h->stream, buf, size, off);
        Resolved r;
        if (n == -ENOENT && resolve(h->path, &r) == AT_NODE && r.e.tp.row->ops->forget)
            r.e.tp.row->ops->forget(&r.e); /* gone from Zoom: its listing is stale */
        return n;
    }
    case H_EDIT:
        return edit_read(h->edit, buf, size, off);
    case H_SCRATCH:
        return scratch_read(h->path, buf, size, off);
    case H_TRIGGER:
        return 0;
    case H_SNAPSHOT:
        break;
    }
    return (ssize_t)copy_range(h->data, h->len, buf, size, off);
}

ssize_t vfs_write(Handle *h, const char *buf, size_t size, off_t off)
{
    if (h->kind == H_TRIGGER) {
        h->written = true;
        return (ssize_t)size;
    }
    if (h->kind == H_EDIT)
        return edit_write(h->edit, buf, size, off);
    if (h->kind == H_SCRATCH)
        return scratch_write(h->path, buf, size, off);
    return -EBADF;
}

int vfs_truncate(const char *path, off_t size, Handle *h)
{
    if (h && h->kind == H_EDIT)
        return edit_truncate(h->edit, size);
    if (h && h->kind == H_SCRATCH)
        return scratch_truncate(h->path, size);
    Resolved r;
    if (resolve(path, &r) == AT_SCRATCH)
        return scratch_truncate(path, size);
    if ((h && h->kind == H_TRIGGER) || (r.where == AT_NODE && node_is_trigger(&r.e)))
        return 0; /* the shell's O_TRUNC before echo writes */
    int rc = may_change("truncate", &r);
    if (rc)
        return rc;
    /* Cutting a JSON file outside an open would leave a broken object in
     * between: only sizes that change nothing are accepted. */
    struct stat st;
    if ((rc = vfs_getattr(path, &st)) != 0)
        return rc;
    return st.st_size == size ? 0 : refuse("truncate", path, EPERM, "only within an open file");
}

int vfs_flush(const char *path, Handle *h)
{
    if (h->kind == H_TRIGGER && h->written && refresh) {
        h->written = false;
        refresh();
    }
    if (h->kind != H_EDIT)
        return 0;
    bool moved = false;
    int rc = edit_commit(h->edit, &moved);
    if (rc == 0 || moved)
        forget_in_kernel(path);
    return rc;
}

void vfs_release(Handle *h)
{
    stream_close(h->stream);
    edit_free(h->edit);
    free(h->data);
    free(h->path);
    free(h);
}

/* ---- removals and folders ---------------------------------------------------- */

/* unlink and rmdir: what the row's kind does to remove it. */
/* rsync --remove-source-files and rclone move remove each file they copied:
 * a recording, moved out of the cloud, but not a meeting, which would be
 * deleted for having been backed up. Only an rm, an editor or a script
 * deletes those. */
static bool caller_moves_files(void)
{
    static const char *const movers[] = {"rsync", "rclone"};
    int pid = op_caller();
    if (pid <= 0)
        return false;
    char file[32], comm[32] = "";
    snprintf(file, sizeof(file), "/proc/%d/comm", pid);
    FILE *f = fopen(file, "re");
    if (f) {
        if (!fgets(comm, sizeof(comm), f))
            comm[0] = '\0';
        fclose(f);
    }
    comm[strcspn(comm, "\n")] = '\0';
    for (size_t i = 0; i < sizeof(movers) / sizeof(movers[0]); i++)
        if (strcmp(comm, movers[i]) == 0)
            return true;
    return false;
}

static int remove_node(const char *op, const char *path, bool dir)
{
    Resolved r;
    resolve(path, &r);
    int rc = may_change(op, &r);
    if (rc)
        return rc;
    if (!dir && r.where == AT_SCRATCH)
        return scratch_unlink(path);
    if (r.where != AT_NODE)
        return dir ? -ENOTDIR : -ENOENT;
    if (dir != is_dir(&r))
        return dir ? -ENOTDIR : -EISDIR;
    if (!r.e.tp.row->ops->remove)
        return refuse(op, path, EPERM, "Zoom has no removal for it");
    if (!(r.e.tp.row->flags & ROW_MOVABLE) && caller_moves_files())
        return refuse(op, path, EPERM,
                      "a copy tool removes recordings only (rsync --remove-source-files); rm "
                      "it to delete it in Zoom");
    return r.e.tp.row->ops->remove(&r.e);
}

int vfs_unlink(const char *path)
{
    return remove_node("unlink", path, false);
}

int vfs_rmdir(const char *path)
{
    return remove_node("rmdir", path, true);
}

int vfs_mkdir(const char *path, mode_t mode)
{
    (void)mode;
    Resolved r;
    resolve(path, &r);
    int rc = may_change("mkdir", &r);
    if (rc)
        return rc;
    if (r.where != AT_NODE || !r.e.tp.row->ops->make)
        return refuse("mkdir", path, EPERM, "no folders of one's own here");
    struct stat st;
    if (node_getattr(&r.e, &st) == 0)
        return -EEXIST;
    return r.e.tp.row->ops->make(&r.e);
}

/* ---- rename ------------------------------------------------------------------ */

/* sed -i, "jq … > t && mv t m.json": the scratch content is the new version
 * of the object (or a new one). */
static int save_scratch_onto(const char *from, const Resolved *dst)
{
    char *data;
    size_t len;
    if (scratch_content(from, &data, &len) != 0)
        return -ENOENT;
    int rc = edit_save(&dst->e, data, len);
    free(data);
    if (rc == 0) {
        scratch_unlink(from);
        forget_in_kernel(dst->e.path);
    }
    return rc;
}

/* The names editors give the backup of a file they save (vim with
 * backupcopy=no, emacs): "m.json~". Any other rename of a Zoom object
 * would leave a copy here and the object in Zoom: refused. */
static bool is_backup_name(const char *name, const char *backup)
{
    size_t n = strlen(name);
    return strncmp(backup, name, n) == 0 && strcmp(backup + n, "~") == 0;
}

int vfs_rename(const char *from, const char *to, unsigned flags)
{
    Resolved src, dst;
    resolve(from, &src);
    resolve(to, &dst);
    int rc = read_only("rename", from);
    if (rc)
        return rc;
    if (flags & RENAME_EXCHANGE)
        return refuse("rename", from, EINVAL, "no exchange of two names");
    if (dst.rc)
        return dst.rc;
    struct stat st;
    if ((flags & RENAME_NOREPLACE) && vfs_getattr(to, &st) == 0)
        return -EEXIST;
    bool onto_object =
        (dst.where == AT_NODE && dst.e.tp.row->patch) || edit_is_new_object(&dst.e.tp);
    if (src.where == AT_SCRATCH) {
        if (onto_object)
            return save_scratch_onto(from, &dst);
        if (dst.e.tp.kind != NODE_OTHER || !scratch_folder(dst.e.tp.parent))
            return refuse("rename", to, EPERM, "not a place for a file of one's own");
        return scratch_rename(from, to);
    }
    if (src.rc)
        return src.rc;
    if (src.where == AT_NODE && src.e.tp.row->patch && dst.e.tp.kind == NODE_OTHER &&
        scratch_folder(dst.e.tp.parent) && is_backup_name(src.e.tp.name, dst.e.tp.name)) {
        /* vim moving m.json aside as a backup: the backup gets a copy and
         * nothing changes in Zoom; writing m.json again is an edit. */
        JsonFile *f;
        if ((rc = src.e.tp.row->ops->json(&src.e, &f)) != 0)
            return rc;
        scratch_put(to, f->text, f->len, 0600);
        cacheval_unref(&f->base);
        return 0;
    }
    if (src.where == AT_NODE && src.e.tp.row->ops->rename) {
        /* mv out of the trash: the kind says where its nodes may go. */
        if ((rc = src.e.tp.row->ops->rename(&src.e, &dst.e)) == -EPERM)
            return refuse("rename", from, EPERM, "from the trash only back to where it was");
        if (rc == 0) { /* the folders it left may be gone */
            char *dir = xstrndup(from, (size_t)(strrchr(from, '/') - from));
            forget_in_kernel(dir);
            *strrchr(dir, '/') = '\0';
            forget_in_kernel(dir);
            free(dir);
        }
        return rc;
    }
    return refuse("rename", from, EPERM, "Zoom objects keep their names");
}

/* ---- the rest -------------------------------------------------------------- */

int vfs_symlink(const char *target, const char *path)
{
    Resolved r;
    resolve(path, &r);
    int rc = may_change("symlink", &r);
    if (rc)
        return rc;
    if (r.e.tp.kind != NODE_OTHER || !scratch_folder(r.e.tp.parent) || edit_is_new_object(&r.e.tp))
        return refuse("symlink", path, EPERM, "symbolic links only as scratch files");
    return scratch_symlink(path, target);
}

int vfs_readlink(const char *path, char *buf, size_t size)
{
    return scratch_readlink(path, buf, size);
}

int vfs_chmod(const char *path, mode_t mode)
{
    if (scratch_exists(path))
        return scratch_chmod(path, mode);
    struct stat st;
    int rc = vfs_getattr(path, &st);
    if (rc)
        return rc;
    /* Editors and sed -i set the mode a file already has: fine. */
    return (st.st_mode & 07777) == (mode & 07777)
               ? 0
               : refuse("chmod", path, EPERM, "modes follow what Zoom allows");
}

int vfs_chown(const char *path, uid_t uid, gid_t gid)
{
    struct stat st;
    int rc = vfs_getattr(path, &st);
    if (rc)
        return rc;
    bool same_uid = uid == (uid_t)-1 || uid == st.st_uid;
    bool same_gid = gid == (gid_t)-1 || gid == st.st_gid;
    return same_uid && same_gid ? 0 : refuse("chown", path, EPERM, "owners follow -o uid=,gid=");
}

int vfs_utimens(const char *path)
{
    /* Zoom keeps no times we could set; rsync and cp -p ask anyway. */
    struct stat st;
    return vfs_getattr(path, &st);
}

/* ---- extended attributes ------------------------------------------------------ */

#define XATTR_PREFIX "user.zoom."

static int node_xattrs(const char *path, json_t **out)
{
    Resolved r;
    *out = NULL;
    if (resolve(path, &r) != AT_NODE)
        return r.where == AT_SCRATCH ? 0 : -ENOENT;
    return r.e.tp.row->ops->xattrs ? r.e.tp.row->ops->xattrs(&r.e, out) : 0;
}

static ssize_t xattr_reply(const char *data, size_t len, char *buf, size_t size)
{
    if (size == 0)
        return (ssize_t)len;
    if (len > size)
        return -ERANGE;
    memcpy(buf, data, len);
    return (ssize_t)len;
}

ssize_t vfs_getxattr(const char *path, const char *name, char *buf, size_t size)
{
    json_t *x;
    int rc = node_xattrs(path, &x);
    if (rc)
        return rc;
    const char *key =
        strncmp(name, XATTR_PREFIX, strlen(XATTR_PREFIX)) == 0 ? name + strlen(XATTR_PREFIX) : NULL;
    json_t *v = key ? json_object_get(x, key) : NULL;
    ssize_t n = v ? xattr_reply(json_string_value(v), json_string_length(v), buf, size) : -ENODATA;
    json_decref(x);
    return n;
}

ssize_t vfs_listxattr(const char *path, char *buf, size_t size)
{
    json_t *x;
    int rc = node_xattrs(path, &x);
    if (rc)
        return rc;
    StrBuf names;
    strbuf_init(&names);
    const char *key;
    json_t *v;
    json_object_foreach(x, key, v)
    {
        strbuf_appendf(&names, "%s%s", XATTR_PREFIX, key);
        strbuf_append(&names, "", 1); /* each name ends in a NUL */
    }
    ssize_t n = xattr_reply(names.data ? names.data : "", names.len, buf, size);
    strbuf_free(&names);
    json_decref(x);
    return n;
}

int vfs_setxattr(const char *path, const char *name)
{
    (void)name;
    return refuse("setxattr", path, ENOTSUP, "no extended attributes can be set");
}

int vfs_statfs(struct statvfs *sv)
{
    /* Answered from memory: df must never wait for Zoom. */
    memset(sv, 0, sizeof(*sv));
    sv->f_bsize = 4096;
    sv->f_frsize = 4096;
    sv->f_namemax = 255;
    /* The room there is: what editors' and scripts' own files may still
     * take (they live in memory). Zoom's objects take none of it. */
    size_t used, limit;
    scratch_space(&used, &limit);
    sv->f_blocks = limit / 4096;
    sv->f_bfree = sv->f_bavail = (limit - used) / 4096;
    return 0;
}
