/* scratch: files that are not Zoom resources — an editor's swap and backup
 * files, sed's temporary file, `jq … > t` — kept in memory, in the folder
 * they were made in, for the life of the mount. Never sent to Zoom. */
#ifndef ZOOMFS_SCRATCH_H
#define ZOOMFS_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Scratch files are held in memory: one may not grow past SCRATCH_MAX
 * (EFBIG), all together not past SCRATCH_TOTAL (ENOSPC). */
#define SCRATCH_MAX   (16u << 20)
#define SCRATCH_TOTAL (64u << 20)

/* Owner and mode bits of the files, as for the rest of the mount. */
void scratch_init(uid_t uid, gid_t gid, mode_t umask);
int scratch_create(const char *path, mode_t mode, bool exclusive);
int scratch_getattr(const char *path, struct stat *st); /* -ENOENT when none */
bool scratch_exists(const char *path);
ssize_t scratch_read(const char *path, char *buf, size_t len, off_t off);
ssize_t scratch_write(const char *path, const char *buf, size_t len, off_t off);
int scratch_truncate(const char *path, off_t size);
int scratch_chmod(const char *path, mode_t mode);
int scratch_unlink(const char *path);
/* Symbolic links, only as scratch files (emacs's lock .#name -> user@host). */
int scratch_symlink(const char *path, const char *target);
int scratch_readlink(const char *path, char *buf, size_t size);
/* Moves a scratch file to another scratch name, replacing any there. */
int scratch_rename(const char *from, const char *to);
/* A copy of the content (malloc'd) and its length. */
int scratch_content(const char *path, char **data, size_t *len);
/* Puts content under path (creating or replacing the scratch file). */
void scratch_put(const char *path, const char *data, size_t len, mode_t mode);
/* Calls add() for every scratch file directly inside dir. */
void scratch_list(const char *dir, int (*add)(void *ctx, const char *name, bool is_dir), void *ctx);
void scratch_cleanup(void);
/* What they hold, and how much they may: for statfs. */
void scratch_space(size_t *used, size_t *limit);

#endif
