/* kind: the code a row may need, as a table of function pointers (one set
 * per kind of node, filled in node.c and recordings.c and chosen by the rows
 * in rows.c). The dispatcher (vfs) calls them through the row of a path; a
 * row leaves a pointer NULL where the kind cannot do that. */
#ifndef ZOOMFS_KIND_H
#define ZOOMFS_KIND_H

#include "zoomfs/store.h"
#include "zoomfs/tree.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* A path of the mount and what it parsed to. */
typedef struct {
    const char *path;
    TreePath tp;
} Entry;

typedef NodeAddName NodeAdd;

/* What a recording file is: where to download it and its exact size. */
typedef struct {
    char *download_url;
    char *file_id;      /* NULL for files Zoom gives no id (CC, TIMELINE) */
    char *meeting_uuid; /* the instance */
    int64_t size;
    int64_t mtime;
} MediaInfo;
void media_info_free(MediaInfo *m);

struct KindOps {
    /* Attributes (folders, and files that are not JSON). */
    int (*getattr)(const Entry *e, struct stat *st);
    /* The children that come from Zoom (the fixed ones come from the rows). */
    int (*list)(const Entry *e, NodeAdd add, void *ctx);
    /* A JSON file's content: *out holds a reference. */
    int (*json)(const Entry *e, JsonFile **out);
    /* A recording file. */
    int (*media)(const Entry *e, MediaInfo *out);
    /* A file made in memory (.zoomfs/): malloc'd text. */
    int (*text)(const Entry *e, char **text, size_t *len);
    /* unlink of a file, rmdir of a folder. */
    int (*remove)(const Entry *e);
    /* mkdir. */
    int (*make)(const Entry *e);
    /* After a change of e: forget what it made stale (its object, the
     * listing that holds it). */
    void (*forget)(const Entry *e);
    /* A meeting or webinar (series) of the same folder changed or went:
     * forget what this kind keeps of it (its occurrences, its registrants). */
    void (*forget_series)(const Entry *series);
    /* Its extended attributes: a JSON object of names (without "user.zoom.")
     * to strings, a new reference. Never a secret or a download URL. */
    int (*xattrs)(const Entry *e, json_t **out);
    /* rename of a node to another place of the tree (to has parsed; it is
     * the kind's to refuse): mv out of the trash recovers. */
    int (*rename)(const Entry *from, const Entry *to);
};

#endif
