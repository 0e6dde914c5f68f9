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
#include <unistd.h>

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t counters[STAT__COUNT];
static const char *const counter_names[STAT__COUNT] = {
    "retries",      "rate_limit_waits", "token_renewals",  "cache_hits",
    "cache_misses", "bytes_streamed",   "range_requests",  "download_url_resolves",
    "refreshes",    "prefetched",       "recording_reads", "walked_ahead",
    "read_waits",
};

/* Counts by a label and a number: requests by route and status, refusals
 * by operation and errno, cache lookups by kind. Labels are the callers'
 * string constants (route templates of the rows, names of operations). */
typedef struct {
    const char *label;
    long code;
    int64_t count;
} Tally;

#define TALLY_MAX 256
typedef struct {
    Tally t[TALLY_MAX];
    size_t n;
} Tallies;

static Tallies requests, refusals, lookups;

#define GAUGE_MAX 8
static struct {
    const char *name;
    int64_t (*read)(void);
} gauges[GAUGE_MAX];
static size_t ngauges;

void stats_gauge(const char *name, int64_t (*read)(void))
{
    lock(&stats_lock);
    size_t i = 0;
    while (i < ngauges && strcmp(gauges[i].name, name) != 0)
        i++;
    if (i < GAUGE_MAX) {
        gauges[i].name = name;
        gauges[i].read = read;
        ngauges += i == ngauges;
    }
    unlock(&stats_lock);
}

/* Resident memory: the second field of /proc/self/statm, in pages. */
static int64_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "re");
    long long size, resident = -1;
    if (f) {
        if (fscanf(f, "%lld %lld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static void tally(Tallies *ts, const char *label, long code)
{
    lock(&stats_lock);
    size_t i;
    for (i = 0; i < ts->n; i++)
        if (ts->t[i].code == code && strcmp(ts->t[i].label, label) == 0)
            break;
    if (i == ts->n && ts->n < TALLY_MAX)
        ts->t[ts->n++] = (Tally){.label = label, .code = code};
    if (i < ts->n)
        ts->t[i].count++;
    unlock(&stats_lock);
}

#define ERROR_RING 100
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
    tally(&requests, route, status);
}

void stats_refusal(const char *op, int err)
{
    tally(&refusals, op, err);
}

void stats_cache(const char *kind, bool hit)
{
    tally(&lookups, kind, hit);
}

void stats_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    log_warn("%s", msg);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    char *safe = log_escape(msg);
    char *line = xasprintf("%s %s\n", stamp, safe);
    free(safe);
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
    strbuf_appendf(&b, "rss_bytes %lld\n", (long long)rss_bytes());
    lock(&stats_lock);
    size_t n = ngauges;
    unlock(&stats_lock);
    for (size_t i = 0; i < n; i++) /* read outside stats_lock: readers take their own */
        strbuf_appendf(&b, "%s %lld\n", gauges[i].name, (long long)gauges[i].read());
    lock(&stats_lock);
    for (size_t i = 0; i < requests.n; i++)
        strbuf_appendf(&b, "request %s %ld %lld\n", requests.t[i].label, requests.t[i].code,
                       (long long)requests.t[i].count);
    for (size_t i = 0; i < lookups.n; i++)
        strbuf_appendf(&b, "cache %s %s %lld\n", lookups.t[i].label,
                       lookups.t[i].code ? "hits" : "misses", (long long)lookups.t[i].count);
    for (size_t i = 0; i < refusals.n; i++)
        strbuf_appendf(&b, "refused %s %s %lld\n", refusals.t[i].label,
                       errmap_errno_name((int)refusals.t[i].code), (long long)refusals.t[i].count);
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
