/* recordings: the recordings/ part of the tree — month folders (one list
 * request per month, a UTC window), instance folders named by naming.c,
 * recording.json rendered from the month listing at no cost, recording
 * files with exact sizes, and their deletes (to Zoom's trash, or for good). */
#ifndef ZOOMFS_RECORDINGS_H
#define ZOOMFS_RECORDINGS_H

#include "zoomfs/kind.h"

extern const KindOps recordings_months_ops;   /* users/{user}/recordings/ */
extern const KindOps recordings_month_ops;    /* .../{month}/ */
extern const KindOps recordings_instance_ops; /* .../{instance}/ (rmdir: the whole recording) */
extern const KindOps recordings_json_ops;     /* .../recording.json */
extern const KindOps recordings_media_ops;    /* .../{file} */

/* ---- for the trash and the attendance files --------------------------- */

/* A month listing (one per user and month, cached, settled ones on disk). */
typedef struct MonthVal MonthVal;

/* The instance object tp->instance names in tp->month, with a reference
 * on its month (recordings_month_unref). */
int recordings_instance(const TreePath *tp, MonthVal **month, json_t **instance);
void recordings_month_unref(MonthVal *month);
/* Drops the listing of a user's month, in memory and on disk, and the
 * user's trash listing (what left the month went there, or came back). */
void recordings_forget(const char *user, const char *month);
/* Is a month settled (before the previous one)? And how long a value of a
 * settled month kept on disk under key is trusted (part of settled_ttl). */
bool recordings_settled(const char *month);
int64_t recordings_settled_age(const char *key);
/* The time in field a (else b) of obj, epoch seconds, or -1. */
int64_t recordings_time(const json_t *obj, const char *a, const char *b);
/* A file's file_size when Zoom gave a usable one, else -1. */
int64_t recordings_given_size(const json_t *file);

#endif
