/* tree: matches paths against the row table's patterns. */
#include "zoomfs/tree.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Placeholders: {user} any name; {id} digits; {sub} letters, digits, '-'
 * and '_' (a registrant's id, an occurrence's); either may be followed by a
 * fixed suffix ({id}.json); {month} YYYY-MM; {instance} and {name} any name.
 * The first matching row wins, so fixed names come before placeholders in
 * the table. */

static const char *const kind_names[] = {
    "root",          "meta",     "meta-file",      "users",    "user",         "user.json",
    "settings.json", "meetings", "meeting.json",   "webinars", "webinar.json", "recordings",
    "month",         "instance", "recording.json", "media",    "other",
};

/* The kinds after NODE_OTHER. */
static const struct {
    NodeKind kind;
    const char *name;
} later_kinds[] = {
    {NODE_PARTICIPANTS_JSON, "participants.json"},
    {NODE_POLLS_JSON, "polls.json"},
    {NODE_TRASH, "trash"},
    {NODE_TRASH_MONTH, "trash-month"},
    {NODE_TRASH_INSTANCE, "trash-instance"},
    {NODE_TRASH_JSON, "trash-recording.json"},
    {NODE_TRASH_MEDIA, "trash-media"},
    {NODE_MEETING_REGISTRANTS, "meeting-registrants"},
    {NODE_MEETING_REGISTRANT_LIST, "meeting-registrant-list"},
    {NODE_MEETING_REGISTRANT_JSON, "meeting-registrant.json"},
    {NODE_WEBINAR_REGISTRANTS, "webinar-registrants"},
    {NODE_WEBINAR_REGISTRANT_LIST, "webinar-registrant-list"},
    {NODE_WEBINAR_REGISTRANT_JSON, "webinar-registrant.json"},
    {NODE_MEETING_OCCURRENCES, "meeting-occurrences"},
    {NODE_MEETING_OCCURRENCE_LIST, "meeting-occurrence-list"},
    {NODE_MEETING_OCCURRENCE_JSON, "meeting-occurrence.json"},
    {NODE_WEBINAR_OCCURRENCES, "webinar-occurrences"},
    {NODE_WEBINAR_OCCURRENCE_LIST, "webinar-occurrence-list"},
    {NODE_WEBINAR_OCCURRENCE_JSON, "webinar-occurrence.json"},
};

const char *tree_kind_name(NodeKind k)
{
    if ((size_t)k < sizeof(kind_names) / sizeof(kind_names[0]))
        return kind_names[k];
    for (size_t i = 0; i < sizeof(later_kinds) / sizeof(later_kinds[0]); i++)
        if (later_kinds[i].kind == k)
            return later_kinds[i].name;
    return "?";
}

const Row *tree_row(const Row *rows, size_t nrows, NodeKind kind)
{
    for (size_t i = 0; i < nrows; i++)
        if (rows[i].kind == kind)
            return &rows[i];
    return NULL;
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

/* s (n bytes) is an id of the placeholder's kind, then suffix (sl bytes). */
static bool is_id_with(const char *s, size_t n, bool digits_only, const char *suffix, size_t sl)
{
    if (n <= sl || memcmp(s + n - sl, suffix, sl) != 0)
        return false;
    for (size_t i = 0; i < n - sl; i++) {
        char c = s[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
        if (!((c >= '0' && c <= '9') || (!digits_only && letter)))
            return false;
    }
    return true;
}

static void copy_name(char *dst, const char *s, size_t n)
{
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static bool pattern_is(const char *pat, size_t plen, const char *what)
{
    return plen == strlen(what) && memcmp(pat, what, plen) == 0;
}

/* Matches one path component against one pattern component. */
static bool match_component(const char *pat, size_t plen, const char *s, size_t n, TreePath *out)
{
    if (plen == 0 || pat[0] != '{')
        return plen == n && memcmp(pat, s, n) == 0;
    if (pattern_is(pat, plen, "{user}")) {
        copy_name(out->user, s, n);
        return true;
    }
    bool id = plen >= 4 && memcmp(pat, "{id}", 4) == 0;
    if (id || (plen >= 5 && memcmp(pat, "{sub}", 5) == 0)) {
        size_t head = id ? 4 : 5, sl = plen - head;
        if (!is_id_with(s, n, id, pat + head, sl))
            return false;
        copy_name(id ? out->id : out->sub, s, n - sl);
        return true;
    }
    if (pattern_is(pat, plen, "{month}")) {
        if (!is_month(s, n))
            return false;
        copy_name(out->month, s, n);
        return true;
    }
    if (pattern_is(pat, plen, "{instance}")) {
        copy_name(out->instance, s, n);
        return true;
    }
    return pattern_is(pat, plen, "{name}");
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

bool tree_name_fits(const Row *row, const char *name)
{
    const char *last = strrchr(row->pattern, '/');
    last = last ? last + 1 : row->pattern;
    size_t n = strlen(name);
    if (n == 0 || n >= TREE_NAME_MAX || strchr(name, '/'))
        return false;
    TreePath scratch;
    return match_component(last, strlen(last), name, n, &scratch);
}

bool tree_fixed_name(const Row *row, const char **name)
{
    const char *last = strrchr(row->pattern, '/');
    last = last ? last + 1 : row->pattern;
    if (!*last || strchr(last, '{'))
        return false;
    *name = last;
    return true;
}

/* Parses the first n components of path. */
static int parse_parts(const Row *rows, size_t nrows, const char *parts[], const size_t lens[],
                       int n, TreePath *out)
{
    for (size_t r = 0; r < nrows; r++) {
        TreePath t = *out;
        if (match_row(rows[r].pattern, parts, lens, n, &t)) {
            *out = t;
            out->row = &rows[r];
            out->kind = rows[r].kind;
            out->parent = tree_row(rows, nrows, rows[r].parent);
            out->parent_kind = rows[r].parent;
            return 0;
        }
    }
    /* No row: a name in a folder (an editor's swap file, sed's temporary)
     * is still a valid path, of no kind. */
    if (n == 0)
        return -ENOENT;
    TreePath up = *out;
    /* Below a name of no kind (no row) there is nothing either. */
    if (parse_parts(rows, nrows, parts, lens, n - 1, &up) != 0 || !up.row ||
        !(up.row->flags & ROW_DIR))
        return -ENOENT;
    char name[TREE_NAME_MAX];
    snprintf(name, sizeof(name), "%s", out->name);
    *out = up;
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->parent = up.row;
    out->parent_kind = up.kind;
    out->row = NULL;
    out->kind = NODE_OTHER;
    return 0;
}

int tree_parse(const Row *rows, size_t nrows, const char *path, TreePath *out)
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
    return parse_parts(rows, nrows, parts, lens, n, out);
}
