/* registrants: meetings/registrants/ and webinars/registrants/ — a folder
 * per meeting (or webinar) that takes registration, holding one file per
 * registrant of every status (approved, pending, denied) as Zoom lists
 * them. A new file is one POST (a registration), rm one DELETE; Zoom takes
 * no change to a registrant (its status has a PUT of its own), so the files
 * are read-only. */
#ifndef ZOOMFS_REGISTRANTS_H
#define ZOOMFS_REGISTRANTS_H

#include "zoomfs/kind.h"

extern const KindOps registrants_folder_ops; /* registrants/: the meetings that take them */
extern const KindOps registrant_list_ops;    /* registrants/{id}/: one meeting's */
extern const KindOps registrant_ops;         /* registrants/{id}/{sub}.json */

/* The meeting (or webinar) of series (its own file) changed: what was known
 * of its registrants is stale. */

#endif
