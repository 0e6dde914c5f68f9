/* fs: the fuse_operations table. Thin: each callback runs one vfs call as
 * an operation (deadline, interrupt) and returns 0 or -errno. */
#ifndef ZOOMFS_FS_H
#define ZOOMFS_FS_H

#include <fuse.h>

typedef struct {
    int attr_ttl; /* seconds the kernel may trust entries and attributes */
} FsConfig;

const struct fuse_operations *fs_operations(const FsConfig *cfg);

#endif
