/* log: one place that writes log lines, to stderr in the foreground or to
 * syslog otherwise. Levels are ordered; a line below the current level costs
 * one comparison. Callers must never pass a secret; URLs go through
 * log_scrub_url() first (http does this). */
#ifndef ZOOMFS_LOG_H
#define ZOOMFS_LOG_H

#include "zoomfs/util.h"

#include <stddef.h>

enum LogLevel { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern int log_level;

void log_init(int to_syslog, int level);
/* Parses "error", "warn", "info", "debug"; returns -1 when unknown. */
int log_level_parse(const char *name);
void log_write(int level, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* s with control characters (newlines, ESC, ...) written as \xNN: what
 * came from outside cannot forge log lines or drive a terminal. */
char *log_escape(const char *s);
void log_escape_into(StrBuf *b, const char *s);

/* url with the value of any access_token, token, signature or similar
 * query parameter replaced by "***"; malloc'd, whatever its length. */
char *log_scrub_url(const char *url);

#define lprintf(level, ...)                                                                        \
    do {                                                                                           \
        if ((level) <= log_level)                                                                  \
            log_write((level), __FILE__, __LINE__, __VA_ARGS__);                                   \
    } while (0)

#define log_error(...) lprintf(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  lprintf(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  lprintf(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) lprintf(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
