/* stream: media reads. An open recording file is held in aligned chunks of
 * 256 KiB; a read is served from them, and a missing chunk is fetched by
 * the reading thread (one download for the chunks it lacks). While reads
 * are sequential a worker thread fetches a growing window ahead of the
 * reader in requests of up to 4 MiB, so the network and the reader overlap;
 * a reader waits only for the bytes it needs, not for a whole request.
 * Bytes come from the client's download (cdn.c in production), which never
 * hands over anything but the file's bytes. */
#ifndef ZOOMFS_STREAM_H
#define ZOOMFS_STREAM_H

#include "zoomfs/client.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

void stream_init(const ZoomClient *client, size_t readahead_max);
/* Bounds the chunk memory of all open streams together (no bound until
 * called): read-ahead gets buffers only while they fit, and windows shrink
 * to a fair share when they do not; a read's own chunks always get memory,
 * so reads never fail or wait for it. .zoomfs/stats shows readahead_bytes
 * (held now) and readahead_peak. */
void stream_budget(size_t total);
void stream_cleanup(void);

typedef struct Stream Stream;

/* size is the exact file size (reads past it return 0 bytes). */
Stream *stream_open(const char *download_url, int64_t size);
/* Reads up to len bytes at off into buf; returns the byte count or -errno.
 * The count is len unless the file ends first: never short before EOF. */
ssize_t stream_read(Stream *s, char *buf, size_t len, int64_t off);
void stream_close(Stream *s);

/* Reads without a copy, for the caller that hands the bytes to the kernel
 * itself (fs_read): while a view is armed on a thread, stream_read there
 * leaves buf alone and points view->iov at the bytes in the chunks, which
 * stay pinned (unchanged, not reused) until stream_view_release. A read
 * that is not of a stream, or that spans more than STREAM_VIEW_MAX chunks,
 * leaves view->n at 0 and fills buf as usual. */
#define STREAM_VIEW_MAX 8
typedef struct {
    struct iovec iov[STREAM_VIEW_MAX];
    int n; /* iov entries in use; 0: nothing pinned */
    Stream *s;
    int64_t first; /* the first chunk pinned */
} StreamView;
/* Arms v for this thread's next reads (NULL disarms). */
void stream_view_arm(StreamView *v);
/* After the reply: unpins what v points at. */
void stream_view_release(StreamView *v);

/* The size of a file Zoom gives no size for, from a one-byte range probe
 * (Content-Range total). Returns the size or -errno. */
int64_t stream_probe_size(const char *download_url);

#endif
