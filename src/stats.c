/* stats: counters and the error ring behind .zoomfs/. */
#include "zoomfs/stats.h"

#include "zoomfs/errmap.h"
#include "zoomfs/log.h"
#include "zoomfs/util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t counters[STAT__COUNT];
static const char *const counter_names[STAT__COUNT] = {
    "retries",      "rate_limit_waits", "token_renewals", "cache_hits",
    "cache_misses", "bytes_streamed",   "range_requests", "download_url_resolves",
};

#define MAX_ROUTES 128
static struct {
    char route[96];
    long status;
    int64_t count;
} routes[MAX_ROUTES];
static size_t nroutes;

/* Refusals by operation and errno: "what zoomfs refuses" in numbers. */
#define MAX_REFUSALS 64
static struct {
    const char *op; /* a string literal of vfs */
    int err;
    int64_t count;
} refusals[MAX_REFUSALS];
static size_t nrefusals;

#define ERROR_RING 64
static char *errors[ERROR_RING];
static size_t errors_next;

void stats_add(StatCounter c, int64_t n)
{
    __atomic_add_fetch(&counters[c], n, __ATOMIC_RELAXED);
}

int64_t stats_get(StatCounter c)
{
    return __atomic_load_n(&counters[c], __ATOMIC_RELAXED);
}

void stats_request(const char *route, long status)
{
    lock(&stats_lock);
    size_t i;
    for (i = 0; i < nroutes; i++)
        if (routes[i].status == status && strcmp(routes[i].route, route) == 0)
            break;
    if (i == nroutes && nroutes < MAX_ROUTES) {
        snprintf(routes[i].route, sizeof(routes[i].route), "%s", route);
        routes[i].status = status;
        nroutes++;
    }
    if (i < nroutes)
        routes[i].count++;
    unlock(&stats_lock);
}

void stats_refusal(const char *op, int err)
{
    lock(&stats_lock);
    size_t i;
    for (i = 0; i < nrefusals; i++)
        if (refusals[i].err == err && strcmp(refusals[i].op, op) == 0)
            break;
    if (i == nrefusals && nrefusals < MAX_REFUSALS) {
        refusals[i].op = op;
        refusals[i].err = err;
        nrefusals++;
    }
    if (i < nrefusals)
        refusals[i].count++;
    unlock(&stats_lock);
}

void stats_error(const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;
    log_warn("%s", msg);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *line = xasprintf("%s %s\n", stamp, msg);
    free(msg);
    lock(&stats_lock);
    free(errors[errors_next]);
    errors[errors_next] = line;
    errors_next = (errors_next + 1) % ERROR_RING;
    unlock(&stats_lock);
}

char *stats_render(size_t *len)
{
    StrBuf b;
    strbuf_init(&b);
    for (int i = 0; i < STAT__COUNT; i++)
        strbuf_appendf(&b, "%s %lld\n", counter_names[i], (long long)stats_get((StatCounter)i));
    lock(&stats_lock);
    for (size_t i = 0; i < nroutes; i++)
        strbuf_appendf(&b, "request %s %ld %lld\n", routes[i].route, routes[i].status,
                       (long long)routes[i].count);
    for (size_t i = 0; i < nrefusals; i++)
        strbuf_appendf(&b, "refused %s %s %lld\n", refusals[i].op,
                       errmap_errno_name(refusals[i].err), (long long)refusals[i].count);
    unlock(&stats_lock);
    return strbuf_take(&b, len);
}

char *stats_render_errors(size_t *len)
{
    StrBuf b;
    strbuf_init(&b);
    lock(&stats_lock);
    for (size_t k = 0; k < ERROR_RING; k++) {
        const char *line = errors[(errors_next + k) % ERROR_RING];
        if (line)
            strbuf_append(&b, line, strlen(line));
    }
    unlock(&stats_lock);
    return strbuf_take(&b, len);
}
