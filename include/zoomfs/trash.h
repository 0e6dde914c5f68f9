/* trash: users/{user}/recordings/.trash/ — Zoom's trash in month folders
 * named as in recordings/; not in the listing of recordings/, there when
 * named. mv back to where it was recovers (one request); rm and rmdir
 * delete for good, only under -o recording_delete=delete. */
#ifndef ZOOMFS_TRASH_H
#define ZOOMFS_TRASH_H

#include "zoomfs/kind.h"

extern const KindOps trash_ops;          /* .trash/ */
extern const KindOps trash_month_ops;    /* .trash/{month}/ */
extern const KindOps trash_instance_ops; /* .trash/{month}/{instance}/ */
extern const KindOps trash_json_ops;     /* .../recording.json */
extern const KindOps trash_media_ops;    /* .../{name} */

#endif
