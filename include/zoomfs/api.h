/* api: the REST half of the production client (client.h): one call through
 * the request policy with Zoom's error table as the judge, and listings
 * through every page, guarded against pages that never end. Knows Zoom's
 * wire format; knows nothing of files. */
#ifndef ZOOMFS_API_H
#define ZOOMFS_API_H

#include <jansson.h>

void api_init(int io_timeout);

/* One call: route is the endpoint's template, which gives the method;
 * path is below the API base. body may be NULL. *out (when not NULL) gets
 * the parsed answer (NULL for an empty one). Returns 0 or -errno. */
int api_call(const char *route, const char *path, json_t *body, json_t **out);

#endif
