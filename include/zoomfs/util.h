/* util: allocation wrappers that abort on failure, a growable byte buffer,
 * clocks and lock helpers. Allocation failure is not a recoverable condition
 * for a filesystem daemon, so callers are not littered with impossible
 * branches. */
#ifndef ZOOMFS_UTIL_H
#define ZOOMFS_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* FNV-1a of a string: for hash tables, not for anything secret. */
uint64_t hash_string(const char *s);

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
/* Grows (zero-filled) or shrinks the content to exactly size bytes. */
void strbuf_resize(StrBuf *b, size_t size);
/* Writes len bytes at off, growing the buffer (zero-filled) as needed. */
void strbuf_write_at(StrBuf *b, const void *data, size_t len, size_t off);

/* Copies what [off, off + len) of data[0..size) holds into out; returns the
 * byte count (0 at or past the end). For read() of in-memory files. */
size_t copy_range(const char *data, size_t size, char *out, size_t len, int64_t off);
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
