/* Unit tests for tree: every row of the table, placeholders, scratch names
 * and paths that can be nothing. */
#include "check.h"
#include "zoomfs/rows.h"
#include "zoomfs/tree.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void check_kind(const char *path, NodeKind kind, NodeKind parent, const char *file, int line)
{
    TreePath tp;
    int rc = rows_parse(path, &tp);
    check_result(rc == 0 && tp.kind == kind && tp.parent_kind == parent, file, line, path);
    if (rc != 0 || tp.kind != kind || tp.parent_kind != parent)
        fprintf(stderr, "    rc %d kind %s parent %s, expected %s in %s\n", rc,
                tree_kind_name(tp.kind), tree_kind_name(tp.parent_kind), tree_kind_name(kind),
                tree_kind_name(parent));
}

#define CHECK_KIND(path, kind, parent) check_kind(path, kind, parent, __FILE__, __LINE__)

static void test_rows(void)
{
    CHECK_KIND("/", NODE_ROOT, NODE_ROOT);
    CHECK_KIND("/.zoomfs", NODE_META, NODE_ROOT);
    CHECK_KIND("/.zoomfs/stats", NODE_META_FILE, NODE_META);
    CHECK_KIND("/users", NODE_USERS, NODE_ROOT);
    CHECK_KIND("/users/a@b.com", NODE_USER, NODE_USERS);
    CHECK_KIND("/users/a@b.com/user.json", NODE_USER_JSON, NODE_USER);
    CHECK_KIND("/users/a@b.com/settings.json", NODE_SETTINGS_JSON, NODE_USER);
    CHECK_KIND("/users/a@b.com/meetings", NODE_MEETINGS, NODE_USER);
    CHECK_KIND("/users/a@b.com/meetings/81234567890.json", NODE_MEETING_JSON, NODE_MEETINGS);
    CHECK_KIND("/users/a@b.com/webinars", NODE_WEBINARS, NODE_USER);
    CHECK_KIND("/users/a@b.com/webinars/9123.json", NODE_WEBINAR_JSON, NODE_WEBINARS);
    CHECK_KIND("/users/a@b.com/recordings", NODE_RECORDINGS, NODE_USER);
    CHECK_KIND("/users/a@b.com/recordings/2025-03", NODE_MONTH, NODE_RECORDINGS);
    CHECK_KIND("/users/a@b.com/recordings/2025-03/2025-03-15T10.00.00Z_Standup_811", NODE_INSTANCE,
               NODE_MONTH);
    CHECK_KIND("/users/a@b.com/recordings/2025-03/x/recording.json", NODE_RECORDING_JSON,
               NODE_INSTANCE);
    CHECK_KIND("/users/a@b.com/recordings/2025-03/x/audio_only_10.00.00Z.m4a", NODE_MEDIA,
               NODE_INSTANCE);
    CHECK_KIND("/users/a@b.com/meetings/registrants", NODE_MEETING_REGISTRANTS, NODE_MEETINGS);
    CHECK_KIND("/users/a@b.com/meetings/registrants/812", NODE_MEETING_REGISTRANT_LIST,
               NODE_MEETING_REGISTRANTS);
    CHECK_KIND("/users/a@b.com/meetings/registrants/812/9tbo-DiH_Q.json",
               NODE_MEETING_REGISTRANT_JSON, NODE_MEETING_REGISTRANT_LIST);
    CHECK_KIND("/users/a@b.com/webinars/registrants/9/x.json", NODE_WEBINAR_REGISTRANT_JSON,
               NODE_WEBINAR_REGISTRANT_LIST);
    CHECK_KIND("/users/a@b.com/meetings/occurrences", NODE_MEETING_OCCURRENCES, NODE_MEETINGS);
    CHECK_KIND("/users/a@b.com/meetings/occurrences/812/1648194360000.json",
               NODE_MEETING_OCCURRENCE_JSON, NODE_MEETING_OCCURRENCE_LIST);
    CHECK_KIND("/users/a@b.com/webinars/occurrences/9", NODE_WEBINAR_OCCURRENCE_LIST,
               NODE_WEBINAR_OCCURRENCES);
}

/* Every row of the real table, whatever rows are added: a path made from
 * its pattern parses back to its kind, under its parent's kind. */
static void test_every_pattern_parses(void)
{
    static const char *const values[][2] = {
        {"{user}", "a@b.com"},  {"{id}", "123"},
        {"{month}", "2025-03"}, {"{instance}", "2025-03-15T10.00.00Z_x_1"},
        {"{name}", "f.mp4"},    {"{sub}", "1741209600000"}};
    for (size_t i = 0; i < nrows; i++) {
        char *path = xasprintf("/%s", rows[i].pattern);
        for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
            const char *value = values[k][1];
            if (k == 4 && rows[i].parent == NODE_META)
                value = "stats";
            char *at;
            while ((at = strstr(path, values[k][0]))) {
                *at = '\0';
                char *next = xasprintf("%s%s%s", path, value, at + strlen(values[k][0]));
                free(path);
                path = next;
            }
        }
        check_kind(path, rows[i].kind, rows[i].parent, __FILE__, __LINE__);
        free(path);
    }
}

static void test_placeholders(void)
{
    TreePath tp;
    CHECK_EQ_INT(rows_parse("//users//a@b.com/meetings/123.json", &tp), 0);
    CHECK_EQ_STR(tp.user, "a@b.com");
    CHECK_EQ_STR(tp.id, "123");
    CHECK_EQ_STR(tp.name, "123.json");
    CHECK_EQ_INT(rows_parse("/users/u/recordings/2024-12/inst/f.mp4", &tp), 0);
    CHECK_EQ_STR(tp.month, "2024-12");
    CHECK_EQ_STR(tp.instance, "inst");
    CHECK_EQ_STR(tp.name, "f.mp4");
    CHECK_EQ_INT(rows_parse("/users/u/meetings/occurrences/812/1648194360000.json", &tp), 0);
    CHECK_EQ_STR(tp.id, "812");
    CHECK_EQ_STR(tp.sub, "1648194360000");
    CHECK_EQ_INT(rows_parse("/users/u/webinars/registrants/9/9tboDiHUQAeOnbmudzWa5g.json", &tp), 0);
    CHECK_EQ_STR(tp.id, "9");
    CHECK_EQ_STR(tp.sub, "9tboDiHUQAeOnbmudzWa5g");
    CHECK_EQ_STR(tree_kind_name(tp.kind), "webinar-registrant.json");
}

static void test_scratch_and_invalid(void)
{
    /* Names that are no resource, in folders that hold resources. */
    CHECK_KIND("/users/u/meetings/new.json", NODE_OTHER, NODE_MEETINGS);
    CHECK_KIND("/users/u/meetings/.123.json.swp", NODE_OTHER, NODE_MEETINGS);
    CHECK_KIND("/users/u/meetings/sedAb12Cd", NODE_OTHER, NODE_MEETINGS);
    CHECK_KIND("/users/u/meetings/123.json~", NODE_OTHER, NODE_MEETINGS);
    CHECK_KIND("/users/u/4913", NODE_OTHER, NODE_USER);
    CHECK_KIND("/users/u/recordings/2025-13", NODE_OTHER, NODE_RECORDINGS);
    CHECK_KIND("/users/u/recordings/march", NODE_OTHER, NODE_RECORDINGS);
    CHECK_KIND("/hello", NODE_OTHER, NODE_ROOT);
    /* a folder of one meeting is named by its id, digits only; its files by
     * an id of letters, digits, - and _ */
    CHECK_KIND("/users/u/meetings/registrants/abc", NODE_OTHER, NODE_MEETING_REGISTRANTS);
    CHECK_KIND("/users/u/meetings/occurrences/812/.1.json.swp", NODE_OTHER,
               NODE_MEETING_OCCURRENCE_LIST);
    CHECK_KIND("/users/u/meetings/registrants/812/a.b.json", NODE_OTHER,
               NODE_MEETING_REGISTRANT_LIST);
    CHECK_KIND("/users/u/meetings/registrants/812/.json", NODE_OTHER, NODE_MEETING_REGISTRANT_LIST);
    CHECK_KIND("/users/u/meetings/registrants/812/sedAb12Cd", NODE_OTHER,
               NODE_MEETING_REGISTRANT_LIST);

    TreePath tp;
    /* Under a file there is nothing. */
    CHECK_EQ_INT(rows_parse("/users/u/user.json/x", &tp), -ENOENT);
    CHECK_EQ_INT(rows_parse("/users/u/recordings/2025-03/i/f.mp4/deeper", &tp), -ENOENT);
    CHECK_EQ_INT(rows_parse("/a/b/c/d/e/f/g/h/i", &tp), -ENOENT);
    /* Nor under a name of no kind (found by fuzzing: it read a NULL row). */
    CHECK_EQ_INT(rows_parse("/hello/world", &tp), -ENOENT);
    CHECK_EQ_INT(rows_parse("/users/u/meetings/new.json/x", &tp), -ENOENT);
    char longname[400];
    memset(longname, 'x', sizeof(longname));
    memcpy(longname, "/users/", 7);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_EQ_INT(rows_parse(longname, &tp), -ENAMETOOLONG);
}

static bool is_dir(NodeKind k)
{
    const Row *r = tree_row(rows, nrows, k);
    return r && (r->flags & ROW_DIR);
}

static void test_dirs(void)
{
    CHECK(is_dir(NODE_INSTANCE));
    CHECK(is_dir(NODE_MONTH));
    CHECK(!is_dir(NODE_MEDIA));
    CHECK(!is_dir(NODE_MEETING_JSON));
    CHECK(!is_dir(NODE_OTHER));
    /* a copy tool's unlink never removes a registrant or an occurrence */
    for (NodeKind k = NODE_MEETING_REGISTRANTS; k <= NODE_WEBINAR_OCCURRENCE_JSON; k++)
        CHECK(tree_row(rows, nrows, k) && !(tree_row(rows, nrows, k)->flags & ROW_MOVABLE));
}

int main(void)
{
    test_rows();
    test_every_pattern_parses();
    test_placeholders();
    test_scratch_and_invalid();
    test_dirs();
    return CHECK_DONE("test_tree");
}
