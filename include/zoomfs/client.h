/* client: the seam between the filesystem and Zoom. The middle of zoomfs
 * (store, node, recordings, edit, stream) talks to Zoom only through this
 * table of functions, given at start-up: production fills it with api.c
 * (REST) and cdn.c (recording downloads); the unit tests with
 * tests/unit/fake_client.c (in-memory JSON and failure injection), so the
 * middle is tested without FUSE, root or a network. */
#ifndef ZOOMFS_CLIENT_H
#define ZOOMFS_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where a download's bytes go: write(ctx, at, data, n) gets bytes
 * [off + at, off + at + n) of the file, at growing from 0 without a gap or
 * a repeat, each only after the answer that carries it was checked to be
 * the file's bytes. Bytes it got stay valid when the download later fails. */
typedef struct {
    void (*write)(void *ctx, size_t at, const char *data, size_t n);
    void *ctx;
} DownloadSink;

typedef struct ZoomClient {
    /* GET of one object. route is the endpoint's template ("GET
     * /users/{userId}"), path the expanded path below the API base, with
     * its query if any. *out gets a JSON object. Returns 0 or -errno. */
    int (*get)(const char *route, const char *path, json_t **out);
    /* Every page of a list endpoint: *items gets all entries of array_key,
     * of each only the fields named in keep (NULL-terminated) when keep is
     * not NULL: dropped page by page, so 10,000 users never sit in memory
     * with all their fields at once.
     * A missing key, a repeated page token or pages past what the listing
     * announced are errors (-EIO), never a short listing. */
    int (*list)(const char *route, const char *path, const char *array_key, const char *const *keep,
                json_t **items);
    /* A change: PATCH, POST, PUT or DELETE, as the route says. body may be
     * NULL; *out (when not NULL) gets the answer or NULL when it had none.
     * A POST that may have reached Zoom is never sent twice. */
    int (*send)(const char *route, const char *path, json_t *body, json_t **out);
    /* Bytes [off, off + len) of a recording file, handed to `to` in order
     * as they arrive. total is its exact size, or -1 when unknown (then
     * *total_out learns it). Returns the byte count fetched (len, unless
     * the file ends first) or -errno; never wrong bytes. */
    ssize_t (*download)(const char *download_url, int64_t off, size_t len, int64_t total,
                        const DownloadSink *to, int64_t *total_out);
    /* Zoom is near a rate limit for this account: fetching ahead of
     * readers should wait. */
    bool (*busy)(void);
} ZoomClient;

/* The production client (api.c and cdn.c). */
const ZoomClient *zoom_client(void);

#endif
