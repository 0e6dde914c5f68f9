/* tree: the shape of the mount as one table of rows (rows.c), and the pure
 * parser that says which row a path names. A row holds everything about one
 * kind of node: its path pattern, its parent, whether it is a folder, its
 * mode, the Zoom endpoints that serve it, the fields Zoom does not take back,
 * and function pointers only where a kind needs code of its own. No I/O
 * here: tree_parse only reads the table. */
#ifndef ZOOMFS_TREE_H
#define ZOOMFS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

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
    NODE_MONTH,          /* users/{user}/recordings/{month}/ */
    NODE_INSTANCE,       /* .../{month}/{instance}/ */
    NODE_RECORDING_JSON, /* .../{instance}/recording.json */
    NODE_MEDIA,          /* .../{instance}/{name} */
    NODE_OTHER,          /* a name in a folder that holds no such resource */
    /* .../{instance}/participants.json and polls.json */
    NODE_PARTICIPANTS_JSON,
    NODE_POLLS_JSON,
    /* users/{user}/recordings/.trash/, its {month}/, {instance}/, and in
     * those recording.json and {name} */
    NODE_TRASH,
    NODE_TRASH_MONTH,
    NODE_TRASH_INSTANCE,
    NODE_TRASH_JSON,
    NODE_TRASH_MEDIA,
    /* Registrants and occurrences: one folder of each in meetings/ and in
     * webinars/, a folder per meeting (or webinar) in it, a file per item. */
    NODE_MEETING_REGISTRANTS,     /* .../meetings/registrants/ */
    NODE_MEETING_REGISTRANT_LIST, /* .../meetings/registrants/{id}/ */
    NODE_MEETING_REGISTRANT_JSON, /* .../meetings/registrants/{id}/{sub}.json */
    NODE_WEBINAR_REGISTRANTS,     /* .../webinars/registrants/ */
    NODE_WEBINAR_REGISTRANT_LIST, /* .../webinars/registrants/{id}/ */
    NODE_WEBINAR_REGISTRANT_JSON, /* .../webinars/registrants/{id}/{sub}.json */
    NODE_MEETING_OCCURRENCES,     /* .../meetings/occurrences/ */
    NODE_MEETING_OCCURRENCE_LIST, /* .../meetings/occurrences/{id}/ */
    NODE_MEETING_OCCURRENCE_JSON, /* .../meetings/occurrences/{id}/{sub}.json */
    NODE_WEBINAR_OCCURRENCES,     /* .../webinars/occurrences/ */
    NODE_WEBINAR_OCCURRENCE_LIST, /* .../webinars/occurrences/{id}/ */
    NODE_WEBINAR_OCCURRENCE_JSON, /* .../webinars/occurrences/{id}/{sub}.json */
} NodeKind;

/* Conditions and abilities of a row. */
enum {
    ROW_DIR = 1 << 0,      /* a folder */
    ROW_USER_ID = 1 << 1,  /* exists only for users Zoom gave an id (not pending ones) */
    ROW_WEBINAR = 1 << 2,  /* exists only for users with the webinar add-on */
    ROW_SCRATCH = 1 << 3,  /* a folder where editors and scripts may keep their own files */
    ROW_NEW_JSON = 1 << 4, /* a folder where a new *.json file becomes a POST */
    ROW_MOVABLE = 1 << 5,  /* rsync --remove-source-files may remove it (recordings): of
                              the rest, a copy tool's unlink is refused, only rm deletes */
    ROW_UNLISTED = 1 << 6, /* a fixed name its folder's listing leaves out: the folder's
                              kind lists it when it exists (or never: .trash) */
};

typedef struct KindOps KindOps; /* kind.h: the code a row needs */

typedef struct Row {
    NodeKind kind;
    const char *pattern; /* below the mount; {user} {id} {id}.json {sub}.json {month}
                            {instance} {name} */
    NodeKind parent;
    unsigned flags;
    mode_t mode; /* before the umask; a file is writable only where Zoom takes changes */
    /* Zoom's endpoints as "METHOD /path/{param}" templates: the same text
     * names the route in .zoomfs/stats and builds the request's path. */
    const char *list; /* a folder's listing */
    const char *list_key;
    const char *const *list_fields; /* of each listed item, what is kept (NULL: all) */
    const char *get;
    const char *patch;
    const char *post; /* what a new file (or mkdir) of this kind becomes; in the
                         trash, the request that recovers it */
    const char *del;
    const char *const *readonly_patch; /* fields Zoom returns but takes in no PATCH */
    const char *const *readonly_post;  /* ... nor in a POST */
    const KindOps *ops;
    /* Where a PATCH takes only some fields (one occurrence of a series): the
     * dotted paths it may carry; a change to any other is refused. NULL:
     * any field but the read-only ones. */
    const char *const *patch_only;
    /* The field of a POST's answer that holds the new object's id (NULL:
     * "id"; a new registrant's is "registrant_id"). */
    const char *post_id;
} Row;

#define TREE_NAME_MAX 256

typedef struct {
    const Row *row;    /* NULL for NODE_OTHER */
    const Row *parent; /* the containing folder's row (the root's own for "/") */
    NodeKind kind;
    NodeKind parent_kind;
    char user[TREE_NAME_MAX];     /* {user}: the email */
    char id[TREE_NAME_MAX];       /* {id} of a meeting or webinar, without .json */
    char month[8];                /* {month}: YYYY-MM */
    char instance[TREE_NAME_MAX]; /* {instance} folder name */
    char name[TREE_NAME_MAX];     /* the last component */
    char sub[TREE_NAME_MAX];      /* {sub}: a registrant's or an occurrence's id */
} TreePath;

/* Parses an absolute path ("/users/a@b.c/meetings/123.json") against the
 * table. Returns 0, or -ENOENT when no node can have that path (too deep, a
 * name that cannot be a child of its folder), -ENAMETOOLONG for an over-long
 * name. A name that fits no row but lives in a folder gives NODE_OTHER with
 * .parent set. */
int tree_parse(const Row *rows, size_t nrows, const char *path, TreePath *out);

/* The row of a kind, or NULL. */
const Row *tree_row(const Row *rows, size_t nrows, NodeKind kind);

/* Can name (one component) be a child of row's kind: does it match the
 * last component of the row's pattern? */
bool tree_name_fits(const Row *row, const char *name);

/* Does a pattern component stand for a fixed name ("user.json")? */
bool tree_fixed_name(const Row *row, const char **name);

const char *tree_kind_name(NodeKind k);

#endif
