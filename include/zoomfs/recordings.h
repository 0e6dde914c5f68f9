/* recordings: the recordings/ part of the tree — month folders (one list
 * request per month, a UTC window), instance folders named by naming.c,
 * recording.json rendered from the month listing at no cost, recording
 * files with exact sizes, and their deletes (to Zoom's trash, or for good). */
#ifndef ZOOMFS_RECORDINGS_H
#define ZOOMFS_RECORDINGS_H

#include "zoomfs/kind.h"

extern const KindOps recordings_months_ops;   /* users/{user}/recordings/ */
extern const KindOps recordings_month_ops;    /* .../{month}/ */
extern const KindOps recordings_instance_ops; /* .../{instance}/ (rmdir: the whole recording) */
extern const KindOps recordings_json_ops;     /* .../recording.json */
extern const KindOps recordings_media_ops;    /* .../{file} */

#endif
