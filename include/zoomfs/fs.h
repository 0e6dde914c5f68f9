/* fs: the low-level FUSE session. Each request becomes a vfs call on a path
 * (built from the inode table) inside an operation (deadline, interrupt),
 * and its answer goes back to the kernel. A worker thread outside the
 * request handlers tells the kernel what changed (after a save, a refresh)
 * and asks it to forget the least recently used entries, so the inode table
 * stays bounded however much of the tree is walked; it also notices the
 * unmount and cuts every transfer short. */
#ifndef ZOOMFS_FS_H
#define ZOOMFS_FS_H

#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    int attr_ttl;      /* seconds the kernel may trust entries and attributes */
    size_t max_inodes; /* past this the kernel is asked to forget entries */
    size_t readahead;  /* bytes of kernel read-ahead to ask for */
    bool page_cache;   /* recordings stay in the kernel's page cache */
} FsConfig;

/* Mounts and serves until unmounted or stopped by a signal (SIGTERM,
 * SIGINT). SIGHUP drops every cache instead. args holds libfuse's options
 * and the mount point. Returns the exit status: 0 for a clean end. */
int fs_run(struct fuse_args *args, const FsConfig *cfg);

/* Drops every cache, as SIGHUP or a write to .zoomfs/refresh do. */
void fs_request_refresh(void);

#endif
