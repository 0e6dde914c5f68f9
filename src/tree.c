/* tree: the table of path patterns and the parser that matches them. */
#include "zoomfs/tree.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Placeholders: {user} any name; {id}.json digits then ".json"; {month}
 * YYYY-MM; {instance} and {name} any name. First matching row wins, so
 * fixed names come before placeholders. */
static const struct {
    const char *pattern;
    NodeKind kind;
    const char *endpoints; /* for readers of this table: what serves the node */
} rows[] = {
    {"", NODE_ROOT, "-"},
    {".zoomfs", NODE_META, "-"},
    {".zoomfs/{name}", NODE_META_FILE, "stats, errors, version: from memory"},
    {"users", NODE_USERS, "GET /users?status=active|inactive|pending; mkdir: POST /users"},
    {"users/{user}", NODE_USER, "-"},
    {"users/{user}/user.json", NODE_USER_JSON, "GET, PATCH /users/{id}"},
    {"users/{user}/settings.json", NODE_SETTINGS_JSON, "GET, PATCH /users/{id}/settings"},
    {"users/{user}/meetings", NODE_MEETINGS, "GET, POST /users/{id}/meetings"},
    {"users/{user}/meetings/{id}.json", NODE_MEETING_JSON, "GET, PATCH, DELETE /meetings/{id}"},
    {"users/{user}/webinars", NODE_WEBINARS, "GET, POST /users/{id}/webinars"},
    {"users/{user}/webinars/{id}.json", NODE_WEBINAR_JSON, "GET, PATCH, DELETE /webinars/{id}"},
    {"users/{user}/recordings", NODE_RECORDINGS, "no request: months from created_at"},
    {"users/{user}/recordings/{month}", NODE_MONTH, "GET /users/{id}/recordings?from&to"},
    {"users/{user}/recordings/{month}/{instance}", NODE_INSTANCE,
     "DELETE /meetings/{uuid}/recordings"},
    {"users/{user}/recordings/{month}/{instance}/recording.json", NODE_RECORDING_JSON,
     "from the month listing"},
    {"users/{user}/recordings/{month}/{instance}/{name}", NODE_MEDIA,
     "download_url (Range GET); DELETE /meetings/{uuid}/recordings/{fileId}"},
};

static const char *const kind_names[] = {
    "root",          "meta",     "meta-file",      "users",    "user",         "user.json",
    "settings.json", "meetings", "meeting.json",   "webinars", "webinar.json", "recordings",
    "month",         "instance", "recording.json", "media",    "other",
};

const char *tree_kind_name(NodeKind k)
{
    return (size_t)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

bool tree_is_dir(NodeKind k)
{
    switch (k) {
    case NODE_ROOT:
    case NODE_META:
    case NODE_USERS:
    case NODE_USER:
    case NODE_MEETINGS:
    case NODE_WEBINARS:
    case NODE_RECORDINGS:
    case NODE_MONTH:
    case NODE_INSTANCE:
        return true;
    default:
        return false;
    }
}

static bool is_month(const char *s, size_t n)
{
    if (n != 7 || s[4] != '-')
        return false;
    for (size_t i = 0; i < 7; i++)
        if (i != 4 && !isdigit((unsigned char)s[i]))
            return false;
    int m = (s[5] - '0') * 10 + (s[6] - '0');
    return m >= 1 && m <= 12;
}

static bool is_id_json(const char *s, size_t n)
{
    if (n <= 5 || memcmp(s + n - 5, ".json", 5) != 0)
        return false;
    for (size_t i = 0; i < n - 5; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

static void copy_name(char *dst, const char *s, size_t n)
{
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* Matches one path component against one pattern component. */
static bool match_component(const char *pat, size_t plen, const char *s, size_t n, TreePath *out)
{
    if (plen == 0 || pat[0] != '{')
        return plen == n && memcmp(pat, s, n) == 0;
    if (plen == 6 && memcmp(pat, "{user}", 6) == 0) {
        copy_name(out->user, s, n);
        return true;
    }
    if (plen == 9 && memcmp(pat, "{id}.json", 9) == 0) {
        if (!is_id_json(s, n))
            return false;
        copy_name(out->id, s, n - 5);
        return true;
    }
    if (plen == 7 && memcmp(pat, "{month}", 7) == 0) {
        if (!is_month(s, n))
            return false;
        copy_name(out->month, s, n);
        return true;
    }
    if (plen == 10 && memcmp(pat, "{instance}", 10) == 0) {
        copy_name(out->instance, s, n);
        return true;
    }
    return plen == 6 && memcmp(pat, "{name}", 6) == 0;
}

/* Splits p into at most max components; returns their count or -1. */
static int split(const char *p, const char *parts[], size_t lens[], int max)
{
    int n = 0;
    while (*p == '/')
        p++;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (n == max)
            return -1;
        parts[n] = p;
        lens[n++] = len;
        p += len;
        while (*p == '/')
            p++;
    }
    return n;
}

#define MAX_DEPTH 8

static bool match_row(const char *pattern, const char *parts[], const size_t lens[], int n,
                      TreePath *out)
{
    const char *pp[MAX_DEPTH];
    size_t pl[MAX_DEPTH];
    int pn = split(pattern, pp, pl, MAX_DEPTH);
    if (pn != n)
        return false;
    for (int i = 0; i < n; i++)
        if (!match_component(pp[i], pl[i], parts[i], lens[i], out))
            return false;
    return true;
}

int tree_parse(const char *path, TreePath *out)
{
    memset(out, 0, sizeof(*out));
    const char *parts[MAX_DEPTH];
    size_t lens[MAX_DEPTH];
    int n = split(path, parts, lens, MAX_DEPTH);
    if (n < 0)
        return -ENOENT;
    for (int i = 0; i < n; i++)
        if (lens[i] >= TREE_NAME_MAX)
            return -ENAMETOOLONG;
    if (n > 0)
        copy_name(out->name, parts[n - 1], lens[n - 1]);

    NodeKind parent = NODE_ROOT;
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        TreePath t = *out;
        if (match_row(rows[r].pattern, parts, lens, n, &t)) {
            *out = t;
            out->kind = rows[r].kind;
            /* The parent is the row that matches one component less. */
            TreePath up;
            if (n > 0) {
                char parent_path[8 * TREE_NAME_MAX];
                size_t len = (size_t)(parts[n - 1] - path);
                snprintf(parent_path, sizeof(parent_path), "%.*s", (int)len, path);
                if (tree_parse(parent_path, &up) == 0)
                    parent = up.kind;
            }
            out->parent = parent;
            return 0;
        }
    }
    /* No row: a scratch name in a folder whose children are JSON resources
     * (an editor's swap file, sed's temporary) is still a valid path. */
    if (n > 0) {
        char parent_path[8 * TREE_NAME_MAX];
        snprintf(parent_path, sizeof(parent_path), "%.*s", (int)(parts[n - 1] - path), path);
        TreePath up;
        if (tree_parse(parent_path, &up) == 0 && tree_is_dir(up.kind)) {
            TreePath keep = up;
            *out = keep;
            copy_name(out->name, parts[n - 1], lens[n - 1]);
            out->kind = NODE_OTHER;
            out->parent = up.kind;
            return 0;
        }
    }
    return -ENOENT;
}
