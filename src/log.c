/* log: stderr or syslog, with levels; URL scrubbing for secrets. */
#include "zoomfs/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

int log_level = LOG_LVL_INFO;
static int use_syslog;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_init(int to_syslog, int level)
{
    use_syslog = to_syslog;
    log_level = level;
    if (use_syslog)
        openlog("zoomfs", LOG_PID, LOG_DAEMON);
}

int log_level_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return (int)i;
    if (strcasecmp(name, "warning") == 0)
        return LOG_LVL_WARN;
    return -1;
}

void log_write(int level, const char *file, int line, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (level < 0)
        level = 0;
    if (level > LOG_LVL_DEBUG)
        level = LOG_LVL_DEBUG;
    if (use_syslog) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        syslog(prio[level], "%s", msg);
        return;
    }
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%02d:%02d:%02d.%03ld zoomfs %s: %s", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, level_names[level], msg);
    if (log_level >= LOG_LVL_DEBUG)
        fprintf(stderr, " [%s:%d]", base, line);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&log_lock);
}

/* Query parameters whose values are credentials or signatures. */
static const char *const secret_params[] = {
    "access_token", "token",         "signature",      "sig", "policy", "key_pair_id",
    "Signature",    "client_secret", "download_token", "zak", NULL};

static int is_secret_param(const char *name, size_t len)
{
    for (int i = 0; secret_params[i]; i++)
        if (strlen(secret_params[i]) == len && strncasecmp(name, secret_params[i], len) == 0)
            return 1;
    return 0;
}

void log_scrub_url(const char *url, char *out, size_t outlen)
{
    if (!outlen)
        return;
    size_t o = 0;
    const char *q = strchr(url, '?');
    size_t head = q ? (size_t)(q - url) + 1 : strlen(url);
    for (size_t i = 0; i < head && o + 1 < outlen; i++)
        out[o++] = url[i];
    if (q) {
        const char *p = q + 1;
        while (*p && o + 1 < outlen) {
            const char *amp = strchr(p, '&');
            const char *end = amp ? amp : p + strlen(p);
            const char *eq = memchr(p, '=', (size_t)(end - p));
            int secret = eq && is_secret_param(p, (size_t)(eq - p));
            const char *copy_end = secret ? eq + 1 : end;
            for (const char *c = p; c < copy_end && o + 1 < outlen; c++)
                out[o++] = *c;
            if (secret)
                for (const char *c = "***"; *c && o + 1 < outlen; c++)
                    out[o++] = *c;
            if (amp && o + 1 < outlen)
                out[o++] = '&';
            p = amp ? amp + 1 : end;
        }
    }
    out[o] = '\0';
}
