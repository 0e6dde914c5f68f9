/* util: allocation wrappers that abort on failure, a growable byte buffer,
 * clocks and lock helpers. Allocation failure is not a recoverable condition
 * for a filesystem daemon, so callers are not littered with impossible
 * branches. */
#ifndef ZOOMFS_UTIL_H
#define ZOOMFS_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated (the NUL is not counted). */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} StrBuf;

void strbuf_init(StrBuf *b);
void strbuf_append(StrBuf *b, const void *data, size_t len);
void strbuf_appendf(StrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_reset(StrBuf *b);
/* Hands the buffer to the caller (who frees it) and leaves b empty. */
char *strbuf_take(StrBuf *b, size_t *len);
void strbuf_free(StrBuf *b);

/* Milliseconds on the monotonic clock, and wall-clock seconds. */
int64_t now_ms(void);
int64_t wall_seconds(void);
void sleep_ms(int64_t ms);

/* Lowercase hex SHA-256 of data into out (65 bytes). */
void sha256_hex(const void *data, size_t len, char out[65]);

void lock(pthread_mutex_t *m);
void unlock(pthread_mutex_t *m);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
