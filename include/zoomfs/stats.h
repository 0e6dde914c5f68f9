/* stats: what .zoomfs/ shows — request counts by endpoint and status,
 * retries, rate-limit waits, cache hits, bytes streamed — and the ring of
 * the last Zoom error messages. Thread-safe; never touches the network. */
#ifndef ZOOMFS_STATS_H
#define ZOOMFS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    STAT_RETRIES,
    STAT_RATE_WAITS,
    STAT_TOKEN_RENEWALS,
    STAT_CACHE_HITS,
    STAT_CACHE_MISSES,
    STAT_BYTES_STREAMED,
    STAT_RANGE_REQUESTS,
    STAT_URL_RESOLVES,
    STAT_REFRESHES,
    STAT_PREFETCHED,
    STAT_RECORDING_READS, /* reads of recording files the kernel sent */
    STAT_WALKED_AHEAD,    /* user folders fetched ahead of a walk (walk.c) */
    STAT_READ_WAITS,      /* times a recording read waited for bytes on their way */
    STAT__COUNT
} StatCounter;

void stats_add(StatCounter c, int64_t n);
int64_t stats_get(StatCounter c);

/* Counts one finished request: route label ("GET /users/{userId}", a string
 * that lives as long as the process) and the final HTTP status (0 for a
 * transport failure). */
void stats_request(const char *route, long status);

/* Counts one refusal of operation op (a string literal) with errno err. */
void stats_refusal(const char *op, int err);

/* A value read each time .zoomfs/stats is: name (a string constant) and
 * how to read it (thread-safe). rss_bytes is always there. */
void stats_gauge(const char *name, int64_t (*read)(void));

/* Counts one cache lookup of a kind of value (a string that lives as long
 * as the process): a hit, or a miss. */
void stats_cache(const char *kind, bool hit);

/* Records an error line for .zoomfs/errors (and the log at warn level). */
void stats_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Renders the text of .zoomfs/stats or .zoomfs/errors; malloc'd. */
char *stats_render(size_t *len);
char *stats_render_errors(size_t *len);

#endif
