/* diskcache: what zoomfs knows of settled data, kept on disk across mounts:
 * the listings of settled months of recordings (months before the previous
 * one, which Zoom no longer changes on its own) and the sizes probed for
 * their files. One folder per account under the cache dir (mode 0700); each
 * value is a JSON file of its own, written to a temporary name and renamed,
 * so a crash leaves the old value or the new one; a value that does not
 * parse is removed and fetched again, never fatal. Thread-safe. */
#ifndef ZOOMFS_DISKCACHE_H
#define ZOOMFS_DISKCACHE_H

#include <jansson.h>
#include <stdint.h>

/* Opens (creating it, mode 0700) the folder dir; NULL keeps nothing on
 * disk. Returns 0 or -errno (then nothing is kept either). */
int diskcache_open(const char *dir);
void diskcache_close(void);

/* The folder for an account: $XDG_CACHE_HOME/zoomfs/<account>/, else
 * $HOME/.cache/zoomfs/<account>/ (the account id made safe as a name).
 * Malloc'd, or NULL. */
char *diskcache_default_dir(const char *account_id);

/* The value kept under key if it is less than max_age seconds old (so 0
 * trusts nothing): a new reference, or NULL. */
json_t *diskcache_get(const char *key, int64_t max_age);
/* Keeps value (not taken) under key, stamped now. */
void diskcache_put(const char *key, const json_t *value);
void diskcache_drop(const char *key);

#endif
