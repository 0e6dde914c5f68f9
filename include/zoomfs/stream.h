/* stream: media reads. An open recording file is held in aligned 1 MiB
 * chunks; a read is served from them, and a missing chunk is fetched by the
 * reading thread (one download of that chunk). While reads are sequential a
 * worker thread fetches a growing window ahead of the reader, so the network
 * and the reader overlap. Bytes come from the client's download (cdn.c in
 * production), which never hands over anything but the file's bytes. */
#ifndef ZOOMFS_STREAM_H
#define ZOOMFS_STREAM_H

#include "zoomfs/client.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

void stream_init(const ZoomClient *client, size_t readahead_max);
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
