/* attendance: participants.json and polls.json in each recorded meeting's
 * instance folder, from Zoom's past meeting reports (GET
 * /past_meetings/{uuid}/participants, every page in one array, and
 * .../polls, shown only when the meeting had polls). Listed by the instance
 * folder only when they answer; settled months' answers kept on disk; a
 * refusal of the whole area turns it off for the mount. */
#ifndef ZOOMFS_ATTENDANCE_H
#define ZOOMFS_ATTENDANCE_H

#include "zoomfs/kind.h"

extern const KindOps attendance_ops; /* .../{instance}/participants.json, polls.json */

#endif
