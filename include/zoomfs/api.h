/* api: Zoom's endpoints as functions that return jansson values. Knows Zoom
 * (tokens, pagination, month windows, UUID encoding, the error table,
 * retries); knows nothing of FUSE. Every function returns 0 or -errno; on
 * failure Zoom's message is in the log and in .zoomfs/errors. */
#ifndef ZOOMFS_API_H
#define ZOOMFS_API_H

#include <jansson.h>
#include <stdbool.h>

/* One call. route is the endpoint's label for stats ("GET /users/{userId}");
 * path is below the API base ("/users/abc?status=active"). body may be NULL.
 * Idempotent methods are retried within the bounds; POST never is once it
 * may have reached Zoom. *out gets the parsed body (NULL for an empty one). */
int api_call(const char *route, const char *method, const char *path, json_t *body, json_t **out);

/* GET a list endpoint through every page (page_size 300). path may already
 * carry a query. *items gets a new array of all entries of array_key. */
int api_list_all(const char *route, const char *path, const char *array_key, json_t **items);

/* The id to put in a user's URLs: "id", or the email for pending users. */
const char *api_user_key(const json_t *user);

int api_list_users(json_t **users); /* active, inactive and pending */
int api_get_user(const char *user_key, json_t **user);
int api_get_settings(const char *user_key, json_t **settings);
int api_list_meetings(const char *user_key, json_t **meetings);
int api_get_meeting(const char *meeting_id, json_t **meeting);
int api_list_webinars(const char *user_key, json_t **webinars);
int api_get_webinar(const char *webinar_id, json_t **webinar);
/* Recording instances of one month: from/to are "YYYY-MM-DD" inside it. */
int api_list_recordings(const char *user_key, const char *from, const char *to, json_t **instances);

/* "/meetings/%s" with id encoded as one path segment (UUIDs twice where
 * Zoom wants that). Returns a malloc'd path. */
char *api_object_path(const char *fmt, const char *id);

#endif
