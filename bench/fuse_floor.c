/* fuse_floor: the FUSE protocol's own price, with nothing behind it.
 *
 * A read-only file system of one file, "/file", whose bytes are a buffer
 * in memory. Its files are read the way zoomfs reads a recording: direct_io
 * (the reader's own reads arrive), 1 MiB st_blksize, each read answered
 * with one fuse_reply_buf from memory that is already there, on libfuse's
 * multi-threaded loop. Whatever reading it costs is what any FUSE file
 * system on this machine pays on top of getting its bytes: the request's
 * round trip and the kernel's copy into the reader's buffer.
 * compare_read.sh reads it alone, and beside a curl of the same size, to
 * bound what a FUSE reader of a network file can reach here.
 *
 *   fuse_floor MOUNTPOINT BYTES      (stays in the foreground)
 */
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_INO 2
#define BLKSIZE  (1 << 20)

static char *bytes;
static size_t nbytes;

static void file_stat(fuse_ino_t ino, struct stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    if (ino == FUSE_ROOT_ID) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
    } else {
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = (off_t)nbytes;
        st->st_blksize = BLKSIZE;
    }
}

static void floor_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    if (parent != FUSE_ROOT_ID || strcmp(name, "file") != 0) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct fuse_entry_param e = {.ino = FILE_INO, .attr_timeout = 3600, .entry_timeout = 3600};
    file_stat(FILE_INO, &e.attr);
    fuse_reply_entry(req, &e);
}

static void floor_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    struct stat st;
    file_stat(ino, &st);
    fuse_reply_attr(req, &st, 3600);
}

static void floor_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    if (ino != FILE_INO) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    fi->direct_io = 1;
    fuse_reply_open(req, fi);
}

static void floor_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    (void)ino, (void)fi;
    size_t at = (size_t)off < nbytes ? (size_t)off : nbytes;
    size_t n = size < nbytes - at ? size : nbytes - at;
    fuse_reply_buf(req, bytes + at, n);
}

static const struct fuse_lowlevel_ops ops = {
    .lookup = floor_lookup,
    .getattr = floor_getattr,
    .open = floor_open,
    .read = floor_read,
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MOUNTPOINT BYTES\n", argv[0]);
        return 2;
    }
    char *end;
    nbytes = strtoull(argv[2], &end, 10);
    bytes = *end == '\0' ? malloc(nbytes ? nbytes : 1) : NULL;
    if (!bytes) {
        fprintf(stderr, "fuse_floor: bad size or no memory: %s\n", argv[2]);
        return 2;
    }
    memset(bytes, 0x5a, nbytes); /* every page there before the first read */

    char *fargv[] = {argv[0], "-o", "fsname=fuse_floor,ro", NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
    struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
    if (!se || fuse_session_mount(se, argv[1]) != 0) {
        fprintf(stderr, "fuse_floor: cannot mount %s\n", argv[1]);
        return 1;
    }
    fuse_set_signal_handlers(se);
    struct fuse_loop_config lc = {.clone_fd = 0, .max_idle_threads = 10};
    int rc = fuse_session_loop_mt(se, &lc);
    fuse_remove_signal_handlers(se);
    fuse_session_unmount(se);
    fuse_session_destroy(se);
    free(bytes);
    return rc != 0;
}
