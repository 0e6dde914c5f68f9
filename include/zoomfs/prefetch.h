/* prefetch: work done ahead of the requests that will ask for it — the
 * objects of a listing fetched N at a time once a reader starts to stat
 * them one by one (ls -l, rsync, find -size). A batch is a count and a
 * function of an index: its items run in order on a small pool of worker
 * threads, each as an operation of its own (op.h: a deadline, cut at the
 * unmount). A batch costs the same memory for 10 items or 10,000. */
#ifndef ZOOMFS_PREFETCH_H
#define ZOOMFS_PREFETCH_H

#include <stdbool.h>
#include <stddef.h>

/* workers: how many items run at once (0: none, batches are dropped);
 * hold (may be NULL): while it says true, items are skipped instead of run
 * (the account is near its rate limit: what is left is for readers). */
void prefetch_init(int workers, bool (*hold)(void));
/* Drops what has not started, waits for what has, stops the workers. */
void prefetch_cleanup(void);

/* Runs run(arg, i) for i = 0 .. n-1; done(arg) once every item has run or
 * been dropped. Returns false (and calls done at once) when the pool is off
 * or has too many batches waiting. */
bool prefetch_batch(size_t n, void (*run)(void *arg, size_t i), void *arg, void (*done)(void *arg));

#endif
