/* http: the process's one libcurl setup. A share handle (DNS, TLS sessions,
 * connections) and one easy handle per thread give keep-alive and reuse;
 * connect and low-speed timeouts bound every transfer; TLS verification is
 * always on. One call here is one attempt: retries, tokens and Zoom's error
 * table live in api (and stream), which know what is safe to repeat. */
#ifndef ZOOMFS_HTTP_H
#define ZOOMFS_HTTP_H

#include "zoomfs/errmap.h"
#include "zoomfs/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HttpResponse HttpResponse;

typedef struct {
    const char *method; /* "GET", "HEAD", "POST", "PATCH", "PUT", "DELETE" */
    const char *url;
    const char *body; /* may be NULL */
    size_t body_len;
    const char *content_type;  /* of body */
    const char *authorization; /* full header value ("Bearer …"); never logged */
    int64_t range_start;       /* -1: no Range header */
    int64_t range_end;         /* inclusive; -1 with range_start >= 0: open-ended */
    bool follow_redirects;
    long total_timeout; /* seconds for the whole transfer, 0: none (streams) */
    /* Where a 2xx body goes. When NULL it is collected in the response.
     * resp has the status and headers of the answer the bytes belong to.
     * Returning less than n aborts the transfer (the response then says so). */
    size_t (*sink)(void *ctx, const HttpResponse *resp, const char *data, size_t n);
    void *sink_ctx;
} HttpRequest;

struct HttpResponse {
    long status;       /* 0 when no response was received */
    NetError neterr;   /* transport failure class, NETERR_NONE when a status came */
    bool sink_stopped; /* the sink asked to stop: not an error of the network */
    bool body_started; /* some response body bytes arrived (for POST safety) */
    bool request_sent; /* the request may have reached the server */
    StrBuf body;       /* the body (or, with a sink, a non-2xx body), capped */
    int64_t body_bytes;
    char *content_type;
    char *location;
    char *retry_after;
    char *ratelimit_type;
    int64_t ratelimit_limit;     /* X-RateLimit-Limit, or -1 */
    int64_t ratelimit_remaining; /* X-RateLimit-Remaining, or -1 */
    char *content_range;
    int64_t content_length; /* -1 when unknown */
    char *error;            /* curl's message on transport failure, else NULL */
};

int http_init(const char *cafile, int connect_timeout, int io_timeout);
void http_cleanup(void);
/* A thread that is about to end lets go of its connection state now (its
 * own easy handle), before anyone waiting for it cleans up the rest. */
void http_thread_done(void);

void http_request_init(HttpRequest *req, const char *method, const char *url);
void http_send(const HttpRequest *req, HttpResponse *resp);
void http_response_free(HttpResponse *resp);

/* Parses "bytes a-b/total" ("*" total gives -1). Returns 0 or -1. */
int http_parse_content_range(const char *v, int64_t *a, int64_t *b, int64_t *total);

#endif
