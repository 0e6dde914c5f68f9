/* Unit tests for jsonfile: rendering, parsing edited buffers, and the diff
 * that becomes a PATCH. */
#include "check.h"
#include "zoomfs/jsonfile.h"

#include <stdbool.h>
#include <stdlib.h>

static json_t *parse_ok(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        fprintf(stderr, "test fixture does not parse: %s\n", e.text);
    return v;
}

/* Renders the diff of two JSON texts compactly with sorted keys. */
static char *diff_text(const char *orig, const char *edited, const char *const *readonly)
{
    json_t *o = parse_ok(orig), *e = parse_ok(edited);
    json_t *d = jsonfile_diff(o, e, readonly);
    char *s = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    json_decref(e);
    json_decref(d);
    return s;
}

#define CHECK_DIFF(orig, edited, readonly, expected)                                               \
    do {                                                                                           \
        char *s_ = diff_text(orig, edited, readonly);                                              \
        CHECK_EQ_STR(s_, expected);                                                                \
        free(s_);                                                                                  \
    } while (0)

static void test_dotted_readonly(void)
{
    static const char *const ro[] = {"id", "settings.global_dial_in_numbers", "a.b.c", NULL};
    /* a read-only field inside an object is left out, its siblings are not */
    CHECK_DIFF("{\"id\":1,\"settings\":{\"global_dial_in_numbers\":[1],\"x\":1}}",
               "{\"id\":2,\"settings\":{\"global_dial_in_numbers\":[2],\"x\":2}}", ro,
               "{\"settings\":{\"x\":2}}");
    /* two levels down */
    CHECK_DIFF("{\"a\":{\"b\":{\"c\":1,\"d\":1}}}", "{\"a\":{\"b\":{\"c\":2,\"d\":1}}}", ro, "{}");
    /* an object that was not there before still loses its read-only fields */
    CHECK_DIFF("{}", "{\"settings\":{\"global_dial_in_numbers\":[],\"y\":true}}", ro,
               "{\"settings\":{\"y\":true}}");
    /* a prefix is not a path: "settingsX" and "a.bc" are not read-only */
    CHECK_DIFF("{}", "{\"settingsX\":1,\"a\":{\"bc\":1}}", ro,
               "{\"a\":{\"bc\":1},\"settingsX\":1}");

    json_t *body = parse_ok("{\"id\":5,\"topic\":\"t\",\"settings\":{\"global_dial_in_numbers\":"
                            "[],\"host_video\":true},\"a\":{\"b\":{\"c\":0}}}");
    jsonfile_drop(body, ro);
    char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_EQ_STR(s, "{\"a\":{\"b\":{}},\"settings\":{\"host_video\":true},\"topic\":\"t\"}");
    free(s);
    json_decref(body);
}

static void check_repair(const char *in, size_t len, const char *want, const char *file, int line)
{
    size_t n;
    char *out = jsonfile_repair(in, len, &n);
    bool ok = n == strlen(want) && memcmp(out, want, n) == 0;
    check_result(ok, file, line, "jsonfile_repair");
    if (!ok)
        fprintf(stderr, "    got      \"%.*s\"\n    expected \"%s\"\n", (int)n, out, want);
    free(out);
}

#define CHECK_REPAIR(in, want) check_repair(in, sizeof(in) - 1, want, __FILE__, __LINE__)

static void test_tolerant_load(void)
{
    /* valid text passes unchanged, pairs and other escapes too */
    CHECK_REPAIR("{\"a\":\"\\ud83d\\ude00 \\\\ud800 \\\" caf\xc3\xa9\"}",
                 "{\"a\":\"\\ud83d\\ude00 \\\\ud800 \\\" caf\xc3\xa9\"}");
    /* a lone surrogate escape, high or low */
    CHECK_REPAIR("{\"a\":\"x\\ud800y\"}", "{\"a\":\"x\\ufffdy\"}");
    CHECK_REPAIR("{\"a\":\"\\udc00\"}", "{\"a\":\"\\ufffd\"}");
    /* a backslash before a byte of no UTF-8 (found by fuzzing): the byte is
     * replaced, never kept raw behind the backslash */
    CHECK_REPAIR("{\"a\":\"x\\\xff\"}", "{\"a\":\"x\\\xef\xbf\xbd\"}");
    CHECK_REPAIR("{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\\ufffd\\u0041\"}");
    /* invalid UTF-8: a stray byte, a cut sequence, an overlong form, a
     * surrogate encoded in UTF-8 */
    CHECK_REPAIR("\"\xff\"", "\"\xef\xbf\xbd\"");
    CHECK_REPAIR("\"\xc3\"", "\"\xef\xbf\xbd\"");
    CHECK_REPAIR("\"\xc0\xaf\"", "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    CHECK_REPAIR("\"\xed\xa0\x80\"", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");

    /* an integer past int64 becomes a real (jansson refuses the document
     * otherwise); others, and numbers inside strings, stay as they are */
    CHECK_REPAIR("[9223372036854775807,9223372036854775808,-9223372036854775809,1e99,"
                 "\"99999999999999999999\",0.5,-3]",
                 "[9223372036854775807,9223372036854775808.0,-9223372036854775809.0,1e99,"
                 "\"99999999999999999999\",0.5,-3]");

    /* one bad string no longer hides its neighbours; \u0000 is kept */
    const char text[] = "{\"meetings\":[{\"topic\":\"a\xff"
                        "b\"},{\"topic\":\"\\ud800\"},"
                        "{\"topic\":\"n\\u0000l\"},{\"topic\":\"ok\"}]}";
    json_error_t e;
    CHECK(json_loadb(text, sizeof(text) - 1, 0, &e) == NULL);
    json_t *v = jsonfile_load_tolerant(text, sizeof(text) - 1, &e);
    json_t *list = json_object_get(v, "meetings");
    CHECK_EQ_INT(json_array_size(list), 4);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "topic")),
                 "a\xef\xbf\xbd"
                 "b");
    CHECK_EQ_INT(json_string_length(json_object_get(json_array_get(list, 2), "topic")), 3);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 3), "topic")), "ok");
    json_decref(v);
}

static void test_render(void)
{
    json_t *v = parse_ok("{\"topic\":\"Caf\xc3\xa9 / sync\",\"id\":85746065432,\"a\":[1,2],"
                         "\"settings\":{\"x\":true},\"d\":0.1,\"e\":{}}");
    size_t len = 0;
    char *s = jsonfile_render(v, &len);
    CHECK_EQ_STR(s, "{\n"
                    "  \"topic\": \"Caf\xc3\xa9 / sync\",\n"
                    "  \"id\": 85746065432,\n"
                    "  \"a\": [\n"
                    "    1,\n"
                    "    2\n"
                    "  ],\n"
                    "  \"settings\": {\n"
                    "    \"x\": true\n"
                    "  },\n"
                    "  \"d\": 0.1,\n"
                    "  \"e\": {}\n"
                    "}\n");
    CHECK_EQ_INT(len, strlen(s));

    /* what is rendered parses back to the same value */
    char err[128];
    json_t *back = jsonfile_parse(s, len, err, sizeof(err));
    CHECK(back && json_equal(back, v));
    json_decref(back);
    free(s);
    json_decref(v);

    /* a real that needs all 17 digits still round-trips exactly */
    json_t *r = json_pack("{s:f}", "x", 0.30000000000000004);
    s = jsonfile_render(r, &len);
    back = jsonfile_parse(s, len, err, sizeof(err));
    CHECK(back && json_real_value(json_object_get(back, "x")) == 0.30000000000000004);
    json_decref(back);
    json_decref(r);
    free(s);

    /* a real stays a real */
    r = json_pack("{s:f}", "duration", 30.0);
    s = jsonfile_render(r, NULL);
    CHECK_EQ_STR(s, "{\n  \"duration\": 30.0\n}\n");
    json_decref(r);
    free(s);
}

static void test_parse(void)
{
    char err[128] = "";
    const char text[] = "{\"topic\": \"x\"}garbage-after-the-NUL";
    json_t *v = jsonfile_parse(text, strlen("{\"topic\": \"x\"}"), err, sizeof(err));
    CHECK(json_is_object(v));
    CHECK_EQ_STR(json_string_value(json_object_get(v, "topic")), "x");
    json_decref(v);

    CHECK(jsonfile_parse("[1, 2]", 6, err, sizeof(err)) == NULL);
    CHECK_EQ_STR(err, "not a JSON object");
    CHECK(jsonfile_parse("42", 2, err, sizeof(err)) == NULL);
    CHECK_EQ_STR(err, "not a JSON object");

    const char bad[] = "{\n  \"topic\": \"x\",\n  \"duration\": ,\n}\n";
    CHECK(jsonfile_parse(bad, strlen(bad), err, sizeof(err)) == NULL);
    CHECK(strncmp(err, "line 3, column ", 15) == 0);

    CHECK(jsonfile_parse("", 0, err, sizeof(err)) == NULL);
    CHECK(strncmp(err, "line ", 5) == 0);
    CHECK(jsonfile_parse("{\"a\":1} {", 9, err, sizeof(err)) == NULL);
    CHECK(jsonfile_parse("{\"a\":1,\"a\":2}", 13, err, sizeof(err)) == NULL);
}

static void test_diff(void)
{
    static const char *const ro[] = {"id", "uuid", "created_at", NULL};
    const char *meeting = "{\"id\":1,\"uuid\":\"u\",\"topic\":\"A\",\"duration\":30,"
                          "\"tracking_fields\":[{\"field\":\"f\",\"value\":\"v\"}],"
                          "\"settings\":{\"mute_upon_entry\":false,\"host_video\":true,"
                          "\"approved_or_denied_countries_or_regions\":{\"enable\":false,"
                          "\"method\":\"approve\"}}}";

    /* nothing changed → empty */
    CHECK_DIFF(meeting, meeting, ro, "{}");
    /* a scalar change */
    CHECK_DIFF(meeting,
               "{\"id\":1,\"uuid\":\"u\",\"topic\":\"B\",\"duration\":30,"
               "\"tracking_fields\":[{\"field\":\"f\",\"value\":\"v\"}],"
               "\"settings\":{\"mute_upon_entry\":false,\"host_video\":true}}",
               ro, "{\"topic\":\"B\"}");
    /* a nested settings change carries only the changed field, at depth */
    CHECK_DIFF(meeting,
               "{\"settings\":{\"mute_upon_entry\":true,\"host_video\":true,"
               "\"approved_or_denied_countries_or_regions\":{\"enable\":true,"
               "\"method\":\"approve\"}}}",
               ro,
               "{\"settings\":{\"approved_or_denied_countries_or_regions\":{\"enable\":true},"
               "\"mute_upon_entry\":true}}");
    /* arrays are compared and sent whole */
    CHECK_DIFF(meeting, "{\"tracking_fields\":[{\"field\":\"f\",\"value\":\"w\"}]}", ro,
               "{\"tracking_fields\":[{\"field\":\"f\",\"value\":\"w\"}]}");
    CHECK_DIFF("{\"a\":[1,2,3]}", "{\"a\":[1,2]}", NULL, "{\"a\":[1,2]}");
    CHECK_DIFF("{\"a\":[1,2]}", "{\"a\":[1,2]}", NULL, "{}");
    /* absent keys are left alone: a partial object is a partial update */
    CHECK_DIFF(meeting, "{}", ro, "{}");
    CHECK_DIFF(meeting, "{\"duration\":45}", ro, "{\"duration\":45}");
    /* keys new to the object are part of the change */
    CHECK_DIFF(meeting, "{\"agenda\":\"x\"}", ro, "{\"agenda\":\"x\"}");
    /* readonly keys never are; only at the top level */
    CHECK_DIFF(meeting, "{\"id\":2,\"uuid\":\"v\",\"created_at\":\"now\",\"topic\":\"A\"}", ro,
               "{}");
    CHECK_DIFF("{\"settings\":{\"id\":1}}", "{\"settings\":{\"id\":2}}", ro,
               "{\"settings\":{\"id\":2}}");
    /* type changes are changes */
    CHECK_DIFF("{\"a\":{\"b\":1}}", "{\"a\":null}", NULL, "{\"a\":null}");
    CHECK_DIFF("{\"a\":\"1\"}", "{\"a\":1}", NULL, "{\"a\":1}");
    CHECK_DIFF("{\"a\":1}", "{\"a\":{\"b\":1}}", NULL, "{\"a\":{\"b\":1}}");
    /* a nested object with nothing changed is left out */
    CHECK_DIFF("{\"s\":{\"a\":1},\"t\":2}", "{\"s\":{\"a\":1},\"t\":3}", NULL, "{\"t\":3}");
    /* numbers compare by value: 30 and 30.0 are the same */
    CHECK_DIFF("{\"duration\":30}", "{\"duration\":30.0}", NULL, "{}");
    CHECK_DIFF("{\"duration\":30.0}", "{\"duration\":30}", NULL, "{}");
    CHECK_DIFF("{\"a\":[30]}", "{\"a\":[30.0]}", NULL, "{}");
    CHECK_DIFF("{\"duration\":30}", "{\"duration\":30.5}", NULL, "{\"duration\":30.5}");
    /* ... exactly: no rounding through a double for large integers */
    CHECK_DIFF("{\"id\":9007199254740993}", "{\"id\":9007199254740992.0}", NULL,
               "{\"id\":9007199254740992.0}");
    CHECK_DIFF("{\"a\":1e300}", "{\"a\":1}", NULL, "{\"a\":1}");
    /* original missing entirely: everything is new */
    json_t *e = parse_ok("{\"a\":1}");
    json_t *d = jsonfile_diff(NULL, e, NULL);
    CHECK(json_equal(d, e));
    json_decref(d);
    json_decref(e);
}

static void test_keep(void)
{
    static const char *const keep[] = {"id", "email", NULL};
    json_t *u = json_pack("{s:s, s:s, s:s, s:{s:i}}", "id", "u1", "email", "a@b.c", "pic_url",
                          "https://x", "custom", "n", 1);
    jsonfile_keep(u, keep);
    char *dump = json_dumps(u, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK_EQ_STR(dump, "{\"email\":\"a@b.c\",\"id\":\"u1\"}");
    free(dump);
    jsonfile_keep(u, NULL); /* keeps all */
    CHECK_EQ_INT(json_object_size(u), 2);
    json_decref(u);
}

int main(void)
{
    test_keep();
    test_render();
    test_dotted_readonly();
    test_tolerant_load();
    test_parse();
    test_diff();
    return CHECK_DONE("test_jsonfile");
}
