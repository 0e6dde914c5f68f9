/* Unit tests for naming: sanitizing, instance folder and recording file
 * names (stable, unique, safe), month folders and time parsing. */
#include "check.h"
#include "zoomfs/naming.h"
#include "zoomfs/util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static json_t *parse_ok(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        fprintf(stderr, "test fixture does not parse: line %d: %s\n", e.line, e.text);
    return v;
}

/* True when s is valid UTF-8 (strict) and safe as a file name. */
static bool safe_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > NAMING_MAX || s[0] == '.')
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p == '/' || *p < 0x20 || *p == 0x7F)
            return false;
        size_t n = *p < 0x80             ? 1
                   : (*p & 0xE0) == 0xC0 ? 2
                   : (*p & 0xF0) == 0xE0 ? 3
                   : (*p & 0xF8) == 0xF0 ? 4
                                         : 0;
        if (n == 0 || (n == 2 && *p < 0xC2))
            return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

static const char *sanitized(const char *in, size_t max)
{
    static char out[NAMING_MAX + 1];
    naming_sanitize(in, out, sizeof(out), max);
    return out;
}

static void test_sanitize(void)
{
    CHECK_EQ_STR(sanitized("Weekly sync", 255), "Weekly sync");
    CHECK_EQ_STR(sanitized("a/b/c", 255), "a_b_c");
    CHECK_EQ_STR(sanitized("x\x01y\x1f"
                           "z\x7f",
                           255),
                 "x_y_z_");
    CHECK_EQ_STR(sanitized("..hidden", 255), "hidden");
    CHECK_EQ_STR(sanitized(" . .x.", 255), "x.");
    CHECK_EQ_STR(sanitized("...", 255), "_");
    CHECK_EQ_STR(sanitized("", 255), "_");
    CHECK_EQ_STR(sanitized(NULL, 255), "_");
    CHECK_EQ_STR(sanitized("  a \t\n  b  ", 255), "a b");
    CHECK_EQ_STR(sanitized("\tTeam\r\nSync\n", 255), "Team Sync");
    CHECK_EQ_STR(sanitized("Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xa5", 255),
                 "Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\xa5");
    /* invalid UTF-8: stray bytes, overlong '/', surrogate, truncated sequence */
    CHECK_EQ_STR(sanitized("a\xff"
                           "b",
                           255),
                 "a_b");
    CHECK_EQ_STR(sanitized("\xc0\xaf", 255), "__");
    CHECK_EQ_STR(sanitized("\xed\xa0\x80", 255), "___");
    CHECK_EQ_STR(sanitized("ab\xe6\x97", 255), "ab__");
    /* C1 control (U+0085 NEL) */
    CHECK_EQ_STR(sanitized("a\xc2\x85"
                           "b",
                           255),
                 "a_b");
    /* truncation never cuts a character, and trims what is left */
    CHECK_EQ_STR(sanitized("h\xc3\xa9llo", 2), "h");
    CHECK_EQ_STR(sanitized("h\xc3\xa9llo", 3), "h\xc3\xa9");
    CHECK_EQ_STR(sanitized("\xe6\x97\xa5\xe6\x9c\xac", 5), "\xe6\x97\xa5");
    CHECK_EQ_STR(sanitized("\xf0\x9f\x8e\xa5", 3), "_");
    CHECK_EQ_STR(sanitized("ab cd", 3), "ab");
    /* the output buffer bounds too */
    char small[4];
    naming_sanitize("abcdef", small, sizeof(small), 100);
    CHECK_EQ_STR(small, "abc");
}

/* ---- instances ---------------------------------------------------------- */

static NamedItem *find_item(NamedItem *v, size_t n, json_t *item)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].item == item)
            return &v[i];
    return NULL;
}

static bool all_distinct_and_safe(NamedItem *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!safe_name(v[i].name))
            return false;
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(v[i].name, v[j].name) == 0)
                return false;
    }
    return true;
}

static void test_instances(void)
{
    json_t *m = parse_ok("[{\"uuid\":\"uuid-a\",\"id\":85746065432,\"topic\":\"Weekly sync\","
                         "\"start_time\":\"2025-03-15T10:00:00Z\"},"
                         "{\"uuid\":\"uuid-b\",\"id\":85746065432,\"topic\":\"Weekly sync\","
                         "\"start_time\":\"2025-03-15T10:00:00Z\"},"
                         "{\"uuid\":\"uuid-c\",\"id\":85746065432,\"topic\":\"Weekly sync\","
                         "\"start_time\":\"2025-03-22T10:00:00Z\"},"
                         "{\"uuid\":\"uuid-d\",\"id\":123,\"topic\":\"../etc/pass\\u0001wd\","
                         "\"start_time\":\"2025-03-16T08:05:09Z\"},"
                         "{\"uuid\":\"uuid-e\",\"id\":124,\"start_time\":\"garbage\"},"
                         "\"not an object\","
                         "{\"uuid\":\"uuid-c\",\"id\":85746065432,\"topic\":\"Weekly sync\","
                         "\"start_time\":\"2025-03-22T10:00:00Z\"}]");
    size_t n = 0;
    NamedItem *v = naming_instances(m, &n);
    CHECK_EQ_INT(n, 5); /* the string and the repeated uuid-c are left out */
    CHECK(all_distinct_and_safe(v, n));
    if (n == 5) {
        /* two instances with the same start, topic and id: hash suffixes */
        CHECK_EQ_STR(v[0].name, "2025-03-15T10.00.00Z_Weekly sync_85746065432_97ed63");
        CHECK_EQ_STR(v[1].name, "2025-03-15T10.00.00Z_Weekly sync_85746065432_146a8e");
        CHECK_EQ_STR(v[2].name, "2025-03-22T10.00.00Z_Weekly sync_85746065432");
        CHECK_EQ_STR(v[3].name, "2025-03-16T08.05.09Z__etc_pass_wd_123");
        CHECK_EQ_STR(v[4].name, "unknown___124");
        CHECK(v[0].item == json_array_get(m, 0));
        CHECK(v[2].item == json_array_get(m, 2));
    }

    /* stable: the same instance keeps its name whatever the listing order */
    json_t *rev = json_array();
    for (size_t i = json_array_size(m); i-- > 0;)
        json_array_append(rev, json_array_get(m, i));
    size_t rn = 0;
    NamedItem *rv = naming_instances(rev, &rn);
    CHECK_EQ_INT(rn, n);
    for (size_t i = 0; i < n; i++) {
        NamedItem *r = find_item(rv, rn, v[i].item);
        if (i != 2) /* uuid-c: the reversed list keeps its other copy */
            CHECK(r && strcmp(r->name, v[i].name) == 0);
    }
    free(rv);
    json_decref(rev);
    free(v);
    json_decref(m);
}

static void test_instance_long_topic(void)
{
    /* 300 bytes of topic: "ab" then 2-byte characters; the topic budget is
     * odd (215 or 225 bytes), so a plain byte cut would split an "é" */
    char topic[301] = "ab";
    for (size_t i = 2; i + 2 <= 298; i += 2)
        memcpy(topic + i, "\xc3\xa9", 2);
    memcpy(topic + 298, "zz", 3);
    json_t *m = json_array();
    for (int i = 0; i < 2; i++)
        json_array_append_new(m, json_pack("{s:s, s:I, s:s, s:s}", "uuid", i ? "uuid-b" : "uuid-a",
                                           "id", (json_int_t)85746065432, "topic", topic,
                                           "start_time", "2025-03-15T10:00:00Z"));
    json_array_append_new(m,
                          json_pack("{s:s, s:I, s:s, s:s}", "uuid", "uuid-x", "id", (json_int_t)1,
                                    "topic", topic, "start_time", "2025-03-15T10:00:00Z"));
    size_t n = 0;
    NamedItem *v = naming_instances(m, &n);
    CHECK_EQ_INT(n, 3);
    CHECK(all_distinct_and_safe(v, n));
    for (size_t i = 0; i < n; i++) {
        CHECK(strlen(v[i].name) <= NAMING_MAX);
        CHECK(strlen(v[i].name) >= NAMING_MAX - 8); /* only cut as much as needed */
    }
    if (n == 3) {
        size_t l0 = strlen(v[0].name), l2 = strlen(v[2].name);
        CHECK(l0 > 7 && strcmp(v[0].name + l0 - 7, "_97ed63") == 0);
        CHECK(strncmp(v[0].name, "2025-03-15T10.00.00Z_ab\xc3\xa9", 25) == 0);
        CHECK(l2 > 2 && strcmp(v[2].name + l2 - 2, "_1") == 0); /* the id survives the cut */
    }
    free(v);
    json_decref(m);
}

/* ---- files -------------------------------------------------------------- */

static const char *instance_json =
    "{\"uuid\":\"uuid-a\",\"id\":85746065432,\"topic\":\"Weekly sync\","
    "\"recording_files\":["
    /* 0: paused and resumed: two of the same type, different starts */
    "{\"id\":\"file-1\",\"file_type\":\"MP4\",\"file_extension\":\"MP4\",\"file_size\":100,"
    "\"recording_type\":\"shared_screen_with_speaker_view\",\"status\":\"completed\","
    "\"recording_start\":\"2025-03-15T10:31:12Z\",\"download_url\":\"https://zoom.us/rec/1\"},"
    /* 1 */
    "{\"id\":\"file-3\",\"file_type\":\"MP4\",\"file_extension\":\"MP4\",\"file_size\":100,"
    "\"recording_type\":\"shared_screen_with_speaker_view\",\"status\":\"completed\","
    "\"recording_start\":\"2025-03-15T11:02:00Z\",\"download_url\":\"https://zoom.us/rec/3\"},"
    /* 2: CC and TIMELINE have no id, status, size or recording_type */
    "{\"file_type\":\"CC\",\"file_extension\":\"VTT\","
    "\"recording_start\":\"2025-03-15T10:31:12Z\","
    "\"download_url\":\"https://zoom.us/rec/download/cc1\"},"
    /* 3 */
    "{\"file_type\":\"TIMELINE\",\"file_extension\":\"JSON\","
    "\"recording_start\":\"2025-03-15T10:31:12Z\",\"download_url\":\"https://zoom.us/rec/tl\"},"
    /* still processing: left out */
    "{\"id\":\"file-p\",\"file_type\":\"\",\"file_extension\":\"\",\"file_size\":0,"
    "\"recording_start\":\"2025-03-15T10:31:12Z\",\"recording_end\":\"\"},"
    "{\"id\":\"file-q\",\"file_type\":\"M4A\",\"file_extension\":\"M4A\",\"file_size\":0,"
    "\"status\":\"processing\",\"recording_type\":\"audio_only\","
    "\"recording_start\":\"2025-03-15T10:31:12Z\"},"
    /* 4 */
    "{\"id\":\"file-t\",\"file_type\":\"TRANSCRIPT\",\"file_extension\":\"VTT\",\"file_size\":9,"
    "\"recording_type\":\"audio_transcript\",\"status\":\"completed\","
    "\"recording_start\":\"2025-03-15T10:31:12Z\"},"
    /* 5: no file_extension: the file type gives it */
    "{\"id\":\"file-c\",\"file_type\":\"CHAT\",\"file_size\":9,\"recording_type\":\"chat_file\","
    "\"status\":\"completed\",\"recording_start\":\"2025-03-15T10:31:12Z\"},"
    /* 6: would be called recording.json, which is reserved */
    "{\"id\":\"rec-json\",\"file_type\":\"SUMMARY\",\"file_extension\":\"JSON\","
    "\"recording_type\":\"recording\",\"status\":\"completed\"}"
    "],"
    "\"participant_audio_files\":["
    /* 7 */
    "{\"id\":\"pa-1\",\"file_name\":\"Ann / Smith\",\"file_type\":\"M4A\",\"file_size\":5,"
    "\"status\":\"completed\",\"recording_start\":\"2025-03-15T10:31:12Z\"},"
    /* 8 */
    "{\"id\":\"pa-2\",\"file_type\":\"M4A\",\"file_size\":5,\"status\":\"completed\","
    "\"recording_start\":\"2025-03-15T10:31:13Z\"}"
    "]}";

static void test_files(void)
{
    json_t *inst = parse_ok(instance_json);
    size_t n = 0;
    NamedItem *v = naming_files(inst, &n);
    CHECK_EQ_INT(n, 9);
    CHECK(all_distinct_and_safe(v, n));
    if (n == 9) {
        CHECK_EQ_STR(v[0].name, "shared_screen_with_speaker_view_10.31.12Z.mp4");
        CHECK_EQ_STR(v[1].name, "shared_screen_with_speaker_view_11.02.00Z.mp4");
        CHECK_EQ_STR(v[2].name, "cc_10.31.12Z.vtt");
        CHECK_EQ_STR(v[3].name, "timeline_10.31.12Z.json");
        CHECK_EQ_STR(v[4].name, "audio_transcript_10.31.12Z.vtt");
        CHECK_EQ_STR(v[5].name, "chat_file_10.31.12Z.chat");
        CHECK_EQ_STR(v[6].name, "recording_2d5833.json");
        CHECK_EQ_STR(v[7].name, "participant_Ann _ Smith_10.31.12Z.m4a");
        CHECK_EQ_STR(v[8].name, "participant_10.31.13Z.m4a");
        json_t *files = json_object_get(inst, "recording_files");
        CHECK(v[2].item == json_array_get(files, 2));
        CHECK(v[4].item == json_array_get(files, 6));
    }
    free(v);
    json_decref(inst);
}

static void test_file_clashes(void)
{
    /* same type, same start: suffix from the id, or from download_url
     * when there is no id (CC) */
    json_t *inst = parse_ok("{\"recording_files\":["
                            "{\"id\":\"file-1\",\"file_type\":\"MP4\",\"file_extension\":\"MP4\","
                            "\"recording_type\":\"speaker_view\",\"status\":\"completed\","
                            "\"recording_start\":\"2025-03-15T10:31:12Z\"},"
                            "{\"id\":\"file-2\",\"file_type\":\"MP4\",\"file_extension\":\"MP4\","
                            "\"recording_type\":\"speaker_view\",\"status\":\"completed\","
                            "\"recording_start\":\"2025-03-15T10:31:12Z\"},"
                            "{\"file_type\":\"CC\",\"file_extension\":\"VTT\",\"recording_start\":"
                            "\"2025-03-15T10:31:12Z\","
                            "\"download_url\":\"https://zoom.us/rec/download/cc1\"},"
                            "{\"file_type\":\"CC\",\"file_extension\":\"VTT\",\"recording_start\":"
                            "\"2025-03-15T10:31:12Z\","
                            "\"download_url\":\"https://zoom.us/rec/download/cc2\"}]}");
    size_t n = 0;
    NamedItem *v = naming_files(inst, &n);
    CHECK_EQ_INT(n, 4);
    CHECK(all_distinct_and_safe(v, n));
    if (n == 4) {
        CHECK_EQ_STR(v[0].name, "speaker_view_10.31.12Z_c2bb3c.mp4");
        CHECK_EQ_STR(v[1].name, "speaker_view_10.31.12Z_69453e.mp4");
        CHECK_EQ_STR(v[2].name, "cc_10.31.12Z_5691bb.vtt");
        CHECK_EQ_STR(v[3].name, "cc_10.31.12Z_8f593f.vtt");
    }
    free(v);

    /* the order of the listing does not change any name */
    json_t *files = json_object_get(inst, "recording_files");
    json_t *first = json_incref(json_array_get(files, 0));
    json_array_remove(files, 0);
    json_array_append_new(files, first);
    v = naming_files(inst, &n);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK_EQ_STR(v[3].name, "speaker_view_10.31.12Z_c2bb3c.mp4");
        CHECK_EQ_STR(v[0].name, "speaker_view_10.31.12Z_69453e.mp4");
    }
    free(v);

    /* no files, or no arrays at all */
    json_t *empty = parse_ok("{\"recording_files\":[]}");
    v = naming_files(empty, &n);
    CHECK_EQ_INT(n, 0);
    free(v);
    json_decref(empty);
    json_decref(inst);
}

static void test_hostile_names(void)
{
    /* spoofing: an RTL override and zero-width characters do not reach a
     * name, nor U+FFFD (what invalid UTF-8 became), nor a NUL Zoom sent */
    CHECK_EQ_STR(sanitized("invoice\xe2\x80\xaegpj.exe", 255), "invoice_gpj.exe");
    CHECK_EQ_STR(sanitized("a\xe2\x80\x8b"
                           "b\xef\xbb\xbf",
                           255),
                 "a_b_");
    CHECK_EQ_STR(sanitized("bad\xef\xbf\xbd", 255), "bad_");
    json_t *inst = parse_ok("{\"recording_files\":["
                            "{\"id\":\"same\",\"file_type\":\"MP4\",\"file_extension\":\"MP4\","
                            "\"recording_type\":\"speaker_view\",\"file_size\":1,"
                            "\"recording_start\":\"2025-03-15T10:31:12Z\"},"
                            "{\"id\":\"same\",\"file_type\":\"MP4\",\"file_extension\":\"MP4\","
                            "\"recording_type\":\"speaker_view\",\"file_size\":2,"
                            "\"recording_start\":\"2025-03-15T10:31:12Z\"}]}");
    size_t n = 0;
    NamedItem *v = naming_files(inst, &n);
    CHECK_EQ_INT(n, 2);
    CHECK(all_distinct_and_safe(v, n));
    char first[NAMING_MAX + 1];
    snprintf(first, sizeof(first), "%s", n ? v[0].name : "");
    free(v);
    /* two files with one id: their content, not their place, names them */
    json_t *files = json_object_get(inst, "recording_files");
    json_t *f0 = json_incref(json_array_get(files, 0));
    json_array_remove(files, 0);
    json_array_append_new(files, f0);
    v = naming_files(inst, &n);
    CHECK(n == 2 && strcmp(v[1].name, first) == 0);
    free(v);
    json_decref(inst);

    /* users: duplicate emails, a 312-byte email, control characters */
    char longmail[400];
    memset(longmail, 'x', 300);
    snprintf(longmail + 300, sizeof(longmail) - 300, "@example.com");
    char *users = xasprintf("[{\"id\":\"a\",\"email\":\"dup@example.com\"},"
                            "{\"id\":\"b\",\"email\":\"dup@example.com\"},"
                            "{\"id\":\"c\",\"email\":\"%s\"},"
                            "{\"id\":\"d\",\"email\":\"es\\u001bc\\nnl@example.com\"},"
                            "{\"id\":\"e\",\"email\":\"..\"},{\"id\":\"f\"}]",
                            longmail);
    json_t *list = parse_ok(users);
    free(users);
    v = naming_users(list, &n);
    CHECK_EQ_INT(n, 5); /* no email, no folder */
    CHECK(all_distinct_and_safe(v, n));
    if (n == 5) {
        CHECK(strncmp(v[0].name, "dup@example.com_", 16) == 0);
        CHECK(strncmp(v[1].name, "dup@example.com_", 16) == 0);
        CHECK(strlen(v[2].name) <= 255);
        CHECK_EQ_STR(v[3].name, "es_c nl@example.com"); /* whitespace is one space */
        CHECK_EQ_STR(v[4].name, "_");
    }
    free(v);
    json_decref(list);
}

/* ---- months and time ------------------------------------------------------ */

static void test_months(void)
{
    const time_t now = 1739188800; /* 2025-02-10T12:00:00Z */
    size_t n = 0;
    char(*m)[8] = naming_months("2024-11-20T09:00:00Z", NULL, now, &n);
    CHECK_EQ_INT(n, 4);
    if (n == 4) {
        CHECK_EQ_STR(m[0], "2024-11");
        CHECK_EQ_STR(m[1], "2024-12");
        CHECK_EQ_STR(m[2], "2025-01");
        CHECK_EQ_STR(m[3], "2025-02");
    }
    free(m);
    /* since wins over created_at */
    m = naming_months("2020-01-01T00:00:00Z", "2025-01", now, &n);
    CHECK_EQ_INT(n, 2);
    if (n == 2)
        CHECK_EQ_STR(m[0], "2025-01");
    free(m);
    /* the month is taken in UTC: this is still December */
    m = naming_months("2024-12-31T23:30:00Z", NULL, now, &n);
    CHECK_EQ_INT(n, 3);
    free(m);
    m = naming_months("2025-01-01T01:00:00+02:00", NULL, now, &n);
    CHECK_EQ_INT(n, 3);
    free(m);
    /* unparsable, or in the future: the current month only */
    m = naming_months("yesterday", NULL, now, &n);
    CHECK_EQ_INT(n, 1);
    if (n == 1)
        CHECK_EQ_STR(m[0], "2025-02");
    free(m);
    m = naming_months(NULL, "2025-13", now, &n);
    CHECK_EQ_INT(n, 1);
    free(m);
    m = naming_months("2026-01-01T00:00:00Z", NULL, now, &n);
    CHECK_EQ_INT(n, 1);
    free(m);
    /* a long history crosses years correctly */
    m = naming_months("2019-06-01T07:58:03Z", NULL, now, &n);
    CHECK_EQ_INT(n, 69);
    if (n == 69) {
        CHECK_EQ_STR(m[6], "2019-12");
        CHECK_EQ_STR(m[7], "2020-01");
        CHECK_EQ_STR(m[68], "2025-02");
    }
    free(m);
}

static void check_range(const char *month, const char *from, const char *to, const char *file,
                        int line)
{
    char f[11] = "", t[11] = "";
    int rc = naming_month_range(month, f, t);
    check_result(rc == 0 && strcmp(f, from) == 0 && strcmp(t, to) == 0, file, line, month);
    if (rc != 0 || strcmp(f, from) != 0 || strcmp(t, to) != 0)
        fprintf(stderr, "    got rc %d, %s..%s\n", rc, f, t);
}
#define CHECK_RANGE(m, f, t) check_range(m, f, t, __FILE__, __LINE__)

static void test_month_range(void)
{
    CHECK_RANGE("2025-01", "2025-01-01", "2025-01-31");
    CHECK_RANGE("2025-02", "2025-02-01", "2025-02-28");
    CHECK_RANGE("2024-02", "2024-02-01", "2024-02-29");
    CHECK_RANGE("2000-02", "2000-02-01", "2000-02-29");
    CHECK_RANGE("2100-02", "2100-02-01", "2100-02-28");
    CHECK_RANGE("2025-04", "2025-04-01", "2025-04-30");
    CHECK_RANGE("2025-12", "2025-12-01", "2025-12-31");
    char f[11], t[11];
    CHECK_EQ_INT(naming_month_range("2025-13", f, t), -1);
    CHECK_EQ_INT(naming_month_range("2025-00", f, t), -1);
    CHECK_EQ_INT(naming_month_range("2025-1", f, t), -1);
    CHECK_EQ_INT(naming_month_range("2025-01-01", f, t), -1);
    CHECK_EQ_INT(naming_month_range("", f, t), -1);
    CHECK_EQ_INT(naming_month_range(NULL, f, t), -1);
}

static void test_parse_time(void)
{
    CHECK_EQ_INT(naming_parse_time("2025-03-15T10:00:00Z"), 1742032800);
    CHECK_EQ_INT(naming_parse_time("1970-01-01T00:00:00Z"), 0);
    CHECK_EQ_INT(naming_parse_time("2000-02-29T23:59:59Z"), 951868799);
    CHECK_EQ_INT(naming_parse_time("2025-03-15T10:00:00.123Z"), 1742032800);
    CHECK_EQ_INT(naming_parse_time("2025-03-15T12:00:00+02:00"), 1742032800);
    CHECK_EQ_INT(naming_parse_time("2025-03-15T05:30:00-0430"), 1742032800);
    CHECK_EQ_INT(naming_parse_time("2025-03-15T10:00:00"), -1); /* no zone: not UTC */
    CHECK_EQ_INT(naming_parse_time("2025-02-29T10:00:00Z"), -1);
    CHECK_EQ_INT(naming_parse_time("2025-03-15T24:00:00Z"), -1);
    CHECK_EQ_INT(naming_parse_time("2025-03-15T10:00:00Zx"), -1);
    CHECK_EQ_INT(naming_parse_time(""), -1);
    CHECK_EQ_INT(naming_parse_time(NULL), -1);
}

int main(void)
{
    test_sanitize();
    test_instances();
    test_instance_long_topic();
    test_files();
    test_file_clashes();
    test_hostile_names();
    test_months();
    test_month_range();
    test_parse_time();
    return CHECK_DONE("test_naming");
}
