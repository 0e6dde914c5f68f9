/* op: the operation a thread is serving — a FUSE request, or a read-ahead
 * fetch — with its deadline (-o op_timeout=), and the two ways it ends early:
 * an interrupt (Ctrl-C on the reader: FUSE sends INTERRUPT) and the unmount.
 * Requests check it between attempts, while they wait and while bytes flow,
 * so no reader is held past its deadline, Ctrl-C returns within a second and
 * the unmount cuts every transfer at once. */
#ifndef ZOOMFS_OP_H
#define ZOOMFS_OP_H

#include <stdbool.h>
#include <stdint.h>

/* timeout_s: the deadline of every operation (0: none). */
void op_init(int timeout_s);

/* This thread starts serving an operation: its deadline starts now. */
void op_begin(void);
/* The process whose request this thread serves (0: none, or not known). */
void op_set_caller(int pid);
int op_caller(void);
void op_end(void);

/* How fs learns whether the FUSE request of this thread was interrupted
 * (fuse_interrupted); NULL when none. Keeps fuse.h out of this floor. */
void op_set_interrupt_check(bool (*interrupted)(void));

/* The unmount: every operation, everywhere, ends now. */
void op_stop_all(void);
bool op_stopping(void);

/* 0 while the operation may go on; -EINTR when it was interrupted or the
 * mount is going away; -ETIMEDOUT past its deadline. */
int op_check(void);

/* Sleeps ms (in short slices); returns op_check() early when it fails. */
int op_sleep(int64_t ms);

/* Logs, once per operation, why it ended early ("what": the request). */
void op_report(const char *what, int rc);

#endif
