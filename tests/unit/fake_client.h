/* fake_client: an in-memory Zoom behind the client seam (client.h), for
 * unit tests of the middle of zoomfs without FUSE, root or a network.
 * Objects and listings are JSON texts keyed by request path; every call is
 * logged; failures can be injected by path prefix; recording files are
 * bytes computed from their URL and offset. */
#ifndef ZOOMFS_FAKE_CLIENT_H
#define ZOOMFS_FAKE_CLIENT_H

#include "zoomfs/client.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

const ZoomClient *fake_client(void);
void fake_reset(void);

/* GET path answers this object. */
void fake_object(const char *path, const char *json);
/* A list endpoint (path with its query, without paging) answers these
 * entries (a JSON array). */
void fake_list(const char *path, const char *json_array);
/* The next send to path answers rc and, when rc is 0, this JSON (may be
 * NULL: an empty answer). Without one, a send answers 0 and nothing. */
void fake_answer(const char *path, int rc, const char *json);
/* The next `times` calls whose path starts with prefix fail with rc. */
void fake_fail(const char *prefix, int rc, int times);

/* How many calls were made for route (the endpoint template), and the
 * body (compact JSON with sorted keys, malloc'd; NULL when none) and path
 * of the last one. */
int fake_calls(const char *route);
int fake_calls_total(void);
char *fake_last_body(const char *route);
const char *fake_last_path(const char *route);

/* A recording file: download(url) serves size bytes, byte i being
 * fake_byte(url, i). Downloads touching [from, ...) fail with rc. */
void fake_file(const char *url, int64_t size);
void fake_file_fails_from(const char *url, int64_t from, int rc);
unsigned char fake_byte(const char *url, int64_t i);
int fake_downloads(void);
/* The i-th download (from 0, in the order they began): the offset and
 * length it asked for and (got may be NULL) the bytes it handed over so
 * far. false past the last one. */
bool fake_download_range(int i, int64_t *off, size_t *len, size_t *got);
/* The next `times` downloads of url that cover byte `at` hand over the
 * bytes before it, then fail with rc (a transfer cut for good). */
void fake_file_cut(const char *url, int64_t at, int rc, int times);
/* Downloads of url stop at byte `at` (having handed over what came before)
 * until the gate opens; at the unmount they fail with -EINTR.
 * fake_gate_waiting: how many wait there now. */
void fake_gate_close(const char *url, int64_t at);
void fake_gate_open(void);
int fake_gate_waiting(void);

#endif
