/* tree: which node of the mount a path names. The mapping from paths to
 * Zoom is one table (tree.c), read top to bottom. Pure: no I/O. */
#ifndef ZOOMFS_TREE_H
#define ZOOMFS_TREE_H

#include <stdbool.h>

typedef enum {
    NODE_ROOT,
    NODE_META,           /* .zoomfs/ */
    NODE_META_FILE,      /* .zoomfs/{name} */
    NODE_USERS,          /* users/ */
    NODE_USER,           /* users/{user}/ */
    NODE_USER_JSON,      /* users/{user}/user.json */
    NODE_SETTINGS_JSON,  /* users/{user}/settings.json */
    NODE_MEETINGS,       /* users/{user}/meetings/ */
    NODE_MEETING_JSON,   /* users/{user}/meetings/{id}.json */
    NODE_WEBINARS,       /* users/{user}/webinars/ */
    NODE_WEBINAR_JSON,   /* users/{user}/webinars/{id}.json */
    NODE_RECORDINGS,     /* users/{user}/recordings/ */
    NODE_MONTH,          /* users/{user}/recordings/{YYYY-MM}/ */
    NODE_INSTANCE,       /* .../{YYYY-MM}/{instance}/ */
    NODE_RECORDING_JSON, /* .../{instance}/recording.json */
    NODE_MEDIA,          /* .../{instance}/{file} */
    NODE_OTHER,          /* a name in a folder that holds no such resource */
} NodeKind;

#define TREE_NAME_MAX 256

typedef struct {
    NodeKind kind;
    NodeKind parent;              /* kind of the containing folder */
    char user[TREE_NAME_MAX];     /* {user}: the email */
    char id[TREE_NAME_MAX];       /* {id} of a meeting or webinar, without .json */
    char month[8];                /* {YYYY-MM} */
    char instance[TREE_NAME_MAX]; /* {instance} folder name */
    char name[TREE_NAME_MAX];     /* the last component */
} TreePath;

/* Parses an absolute path ("/users/a@b.c/meetings/123.json"). Returns 0, or
 * -ENOENT when no node of the tree can have that path (too deep, a name that
 * cannot be a child of its folder), -ENAMETOOLONG for an over-long name.
 * A name that fits no row but lives in a folder that may hold scratch
 * files gives NODE_OTHER with .parent set. */
int tree_parse(const char *path, TreePath *out);

bool tree_is_dir(NodeKind k);
const char *tree_kind_name(NodeKind k);

#endif
