/* log: stderr or syslog, with levels; URL scrubbing for secrets. */
#include "zoomfs/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "zoomfs/util.h"

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

void log_escape_into(StrBuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            strbuf_appendf(b, "\\x%02x", c);
        else
            strbuf_append(b, s, 1);
    }
}

char *log_escape(const char *s)
{
    StrBuf b;
    strbuf_init(&b);
    strbuf_append(&b, "", 0);
    log_escape_into(&b, s);
    return strbuf_take(&b, NULL);
}

void log_write(int level, const char *file, int line, const char *fmt, ...)
{
    /* As long as it is: a message from Zoom is never cut. */
    va_list ap;
    va_start(ap, fmt);
    char *raw = xvasprintf(fmt, ap);
    va_end(ap);
    /* What Zoom says (messages, topics) may hold newlines or ESC: one log
     * line stays one line, and no terminal is driven. */
    char *msg = log_escape(raw);
    free(raw);
    if (level < 0)
        level = 0;
    if (level > LOG_LVL_DEBUG)
        level = LOG_LVL_DEBUG;
    if (use_syslog) {
        static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
        syslog(prio[level], "%s", msg);
        free(msg);
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
    free(msg);
}

/* Query parameters whose values are credentials or signatures. */
static const char *const secret_params[] = {"access_token",
                                            "token",
                                            "signature",
                                            "sig",
                                            "policy",
                                            "key_pair_id",
                                            "Signature",
                                            "client_secret",
                                            "download_token",
                                            "zak",
                                            "download_access_token",
                                            "pwd",
                                            NULL};

static int is_secret_param(const char *name, size_t len)
{
    for (int i = 0; secret_params[i]; i++)
        if (strlen(secret_params[i]) == len && strncasecmp(name, secret_params[i], len) == 0)
            return 1;
    return 0;
}

char *log_scrub_url(const char *url)
{
    StrBuf out;
    strbuf_init(&out);
    const char *q = strchr(url, '?');
    size_t head = q ? (size_t)(q - url) + 1 : strlen(url);
    strbuf_append(&out, url, head);
    for (const char *p = q ? q + 1 : ""; *p;) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq && is_secret_param(p, (size_t)(eq - p))) {
            strbuf_append(&out, p, (size_t)(eq + 1 - p));
            strbuf_append(&out, "***", 3);
        } else {
            strbuf_append(&out, p, (size_t)(end - p));
        }
        if (amp)
            strbuf_append(&out, "&", 1);
        p = amp ? amp + 1 : end;
    }
    return strbuf_take(&out, NULL);
}
