/* cdn: the download half of the production client (client.h). A
 * recording's download_url answers, with the token, a redirect to a signed
 * CDN URL; that URL is remembered while it works and resolved again when it
 * stops working, by one thread at a time per file. Each Range GET's answer
 * is checked (206 with the right Content-Range, or a 200 of the whole file
 * read from byte 0; never HTML) when its headers are in, before a byte is
 * handed over; the bytes then go to the caller as they arrive. A body cut
 * mid-way resumes at the byte where it stopped. The token goes only to
 * https hosts and loopback http, never to the CDN. */
#ifndef ZOOMFS_CDN_H
#define ZOOMFS_CDN_H

#include "zoomfs/client.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* trusted_urls: NULL-terminated URLs (the api_url and oauth_url in use)
 * whose hosts may get the token besides Zoom's own domains; it must live as
 * long as the module. */
void cdn_init(int io_timeout, const char *const *trusted_urls);
void cdn_cleanup(void);

/* See ZoomClient.download. */
ssize_t cdn_download(const char *download_url, int64_t off, size_t len, int64_t total,
                     const DownloadSink *to, int64_t *total_out);

/* Forget every remembered CDN URL (a refresh). */
void cdn_forget_all(void);

#endif
