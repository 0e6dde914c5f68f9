/* occurrences: meetings/occurrences/ and webinars/occurrences/ — a folder
 * per recurring meeting (or webinar) with fixed times, holding one file per
 * occurrence Zoom has not cancelled. A file is the meeting as that
 * occurrence has it (GET ?occurrence_id=); saving it is one PATCH of that
 * occurrence, of the few fields Zoom takes for one; rm cancels it (DELETE
 * ?occurrence_id=). */
#ifndef ZOOMFS_OCCURRENCES_H
#define ZOOMFS_OCCURRENCES_H

#include "zoomfs/kind.h"

extern const KindOps occurrences_folder_ops; /* occurrences/: the recurring meetings */
extern const KindOps occurrence_list_ops;    /* occurrences/{id}/: one meeting's */
extern const KindOps occurrence_ops;         /* occurrences/{id}/{sub}.json */

/* What a PATCH of one occurrence may carry (Zoom's spec, the occurrence_id
 * parameter of PATCH /meetings/{meetingId} and /webinars/{webinarId}). */
extern const char *const occurrence_meeting_fields[];
extern const char *const occurrence_webinar_fields[];

/* The meeting (or webinar) of series (its own file) changed: every
 * occurrence shows it, so what was known of them is stale. */

#endif
