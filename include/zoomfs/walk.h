/* walk: fetching ahead of a walk across the users' folders. rsync -a,
 * find, ls -R and du go into one user's folder after another, and each
 * costs a few requests sent one after another as the walk meets them
 * (settings.json, user.json, the meetings listing, the months). Once the
 * walk has gone on from one user's folder to the next, what it asked of
 * the last user is asked of the users after it, on the prefetch workers, so
 * that those requests run side by side: the same requests, not more. */
#ifndef ZOOMFS_WALK_H
#define ZOOMFS_WALK_H

#include "zoomfs/kind.h"

#include <stdbool.h>

/* How the walk's requests are made again for another user: a stat of path
 * (add NULL) or a listing of it, each name handed to add, through the
 * filesystem's own operations, so that what is fetched is kept where the
 * walk will look. */
typedef int (*WalkVisit)(const char *path, NodeAdd add, void *ctx);

/* ahead: how many users the walk is fetched ahead of at most (0: off). */
void walk_init(int ahead, WalkVisit visit);
/* Forgets the walk (after the prefetch workers stopped). */
void walk_cleanup(void);

/* The filesystem served a stat (list false) or a listing of e. */
void walk_saw(const Entry *e, bool list);

#endif
