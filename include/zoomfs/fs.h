/* fs: the fuse_operations table. Thin: parse the path, ask node (or stream)
 * for the answer, return 0 or -errno. */
#ifndef ZOOMFS_FS_H
#define ZOOMFS_FS_H

#include <fuse.h>

const struct fuse_operations *fs_operations(void);

#endif
