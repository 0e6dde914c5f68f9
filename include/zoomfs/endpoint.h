/* endpoint: the rows' endpoint templates ("PATCH /meetings/{meetingId}")
 * turned into request paths. The template is also the route's name in
 * .zoomfs/stats, so an endpoint is spelled exactly once. Pure. */
#ifndef ZOOMFS_ENDPOINT_H
#define ZOOMFS_ENDPOINT_H

/* What fills the placeholders: {userId} the user's key (id, or email for
 * pending users); {meetingId}, {webinarId}, {meetingUUID} the object's id
 * or an instance's UUID (encoded twice where Zoom wants that); {recordingId}
 * a recording file's id; {registrantId} a registrant's id, {occurrenceId}
 * an occurrence's (a template may hold one in its query:
 * "GET /meetings/{meetingId}?occurrence_id={occurrenceId}"). */
typedef struct {
    const char *user;
    const char *object;
    const char *file;
    const char *sub;
} Ids;

/* The path of route for ids, below the API base, followed by query (may be
 * NULL or ""; without its '?'). Malloc'd, or NULL when a placeholder has no
 * value. */
char *endpoint_path(const char *route, const Ids *ids, const char *query);

/* The method of a route ("GET") into out. */
void endpoint_method(const char *route, char out[8]);

#endif
