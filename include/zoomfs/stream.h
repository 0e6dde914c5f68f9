/* stream: media reads. Each read becomes an HTTP Range request for the bytes
 * asked for (plus a growing readahead window while reads are sequential) on
 * the CDN URL that the file's download_url redirects to. The CDN URL is
 * remembered while it works and resolved again when it stops working. A
 * response that is not the file (an HTML page, a wrong range or length) is
 * never handed to the reader; a body cut mid-way resumes where it stopped,
 * within the retry bounds. */
#ifndef ZOOMFS_STREAM_H
#define ZOOMFS_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void stream_init(size_t readahead_max);
void stream_cleanup(void);

typedef struct Stream Stream;

/* size is the exact file size (reads past it return 0 bytes). */
Stream *stream_open(const char *download_url, int64_t size);
/* Reads up to len bytes at off into buf; returns the byte count or -errno. */
ssize_t stream_read(Stream *s, char *buf, size_t len, int64_t off);
void stream_close(Stream *s);

/* The size of a file Zoom gives no size for, from a one-byte range probe
 * (Content-Range total). Returns the size or -errno. */
int64_t stream_probe_size(const char *download_url);

#endif
