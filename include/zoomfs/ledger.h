/* ledger: a small persistent record of when zoomfs first saw each version of
 * a JSON file, so that mtimes are stable across remounts and change exactly
 * when the content changes. Zoom has no updated_at for most objects.
 * Key: the file's path in the tree and the SHA-256 of its content. Stored as
 * one line per entry in a file (mode 0600) under the cache directory;
 * bounded (oldest entries dropped past the limit). Thread-safe. */
#ifndef ZOOMFS_LEDGER_H
#define ZOOMFS_LEDGER_H

#include <stddef.h>
#include <stdint.h>

/* Opens (creating as needed) the ledger file at path; path NULL keeps the
 * ledger in memory only. max_entries bounds it. Returns 0 or -errno. */
int ledger_open(const char *path, size_t max_entries);
void ledger_close(void);

/* The first-seen time (epoch seconds) of this content at this path. A new
 * (path, hash) pair is recorded with `now` and appended to the file; a pair
 * no line can hold (a path with a newline, a hash that is not 64 hex digits)
 * is not recorded: `now` each time. */
int64_t ledger_mtime(const char *path, const char *content_sha256_hex, int64_t now);

/* The default ledger path: $XDG_CACHE_HOME/zoomfs/mtimes, else
 * $HOME/.cache/zoomfs/mtimes. Returns a malloc'd string or NULL. */
char *ledger_default_path(void);

#endif
