/* A Zoom list answer body, as the API sends it, into the names zoomfs shows.
 * The bytes go through jsonfile_load_tolerant (what api.c does with every
 * answer); a "meetings" array (GET /users/{userId}/recordings) is named with
 * naming_instances and each instance's files with naming_files, a "users"
 * array (GET /users) with naming_users, and an object with
 * "recording_files" (GET /meetings/{meetingId}/recordings) with
 * naming_files. Every name must be one a file system can show without
 * surprise (naming.h): 1-255 bytes, valid UTF-8, no '/', no control or
 * spoofing character, no leading '.', unique within its folder, never
 * "recording.json" for a file; the same list in reverse order gives every
 * item the same name. jsonfile_repair must give valid UTF-8, change nothing
 * in a body that was valid already, and be idempotent. */
#include "fuzz.h"

#include "zoomfs/jsonfile.h"
#include "zoomfs/naming.h"

#include <jansson.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    return 0;
}

/* Control characters (C0, DEL, C1) and the characters that make a name look
 * other than it is: bidirectional marks, embeddings, overrides and isolates,
 * zero-width characters, line and paragraph separators, the BOM, U+FFFD. */
static bool forbidden(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF || cp == 0xFFFD;
}

static void check_name(const char *what, const char *name)
{
    size_t len = strnlen(name, NAMING_MAX + 1);
    FUZZ_CHECK(len >= 1 && len <= NAMING_MAX, "%s name of %zu bytes", what, len);
    FUZZ_CHECK(name[0] != '.', "%s name \"%s\" starts with '.'", what, name);
    FUZZ_CHECK(!strchr(name, '/'), "%s name \"%s\" holds '/'", what, name);
    FUZZ_CHECK(fuzz_utf8_valid(name, len), "%s name \"%s\" is not valid UTF-8", what, name);
    uint32_t cp;
    for (size_t i = 0, n; i < len; i += n) {
        n = fuzz_utf8_char((const unsigned char *)name + i, len - i, &cp);
        FUZZ_CHECK(!forbidden(cp), "%s name \"%s\" holds U+%04X", what, name, (unsigned)cp);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_result(const char *what, const NamedItem *items, size_t n, bool files)
{
    const char **names = malloc((n ? n : 1) * sizeof(*names));
    for (size_t i = 0; i < n; i++) {
        check_name(what, items[i].name);
        FUZZ_CHECK(!files || strcmp(items[i].name, "recording.json") != 0,
                   "a file is named recording.json");
        names[i] = items[i].name;
    }
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 1; i < n; i++)
        FUZZ_CHECK(strcmp(names[i - 1], names[i]) != 0, "two %s names \"%s\"", what, names[i]);
    free(names);
}

/* The array reversed (new references to the same items). */
static json_t *reversed(json_t *array)
{
    json_t *r = json_array();
    for (size_t i = json_array_size(array); i-- > 0;)
        json_array_append(r, json_array_get(array, i));
    return r;
}

/* Does item have a byte-identical twin in array? Twins may be told apart
 * by their place in the list (naming.c says so), so order-independence is
 * not asked of them. */
static bool has_twin(json_t *array, json_t *item)
{
    for (size_t i = 0; i < json_array_size(array); i++) {
        json_t *other = json_array_get(array, i);
        if (other != item && json_equal(other, item))
            return true;
    }
    return false;
}

/* Do two items of array share key's value but differ otherwise? Which of
 * them is kept (the first) then depends on the order. */
static bool key_differs(json_t *array, const char *key)
{
    for (size_t i = 0; key && i < json_array_size(array); i++) {
        json_t *a = json_array_get(array, i);
        const char *v = json_string_value(json_object_get(a, key));
        for (size_t j = i + 1; v && *v && j < json_array_size(array); j++) {
            json_t *b = json_array_get(array, j);
            const char *w = json_string_value(json_object_get(b, key));
            if (w && strcmp(v, w) == 0 && !json_equal(a, b))
                return true;
        }
    }
    return false;
}

/* Every item (of those in arrays, without a twin) has the same name in fwd
 * as in back. */
static void same_names(const char *what, json_t *const *arrays, size_t narrays,
                       const NamedItem *fwd, size_t n, const NamedItem *back, size_t rn)
{
    FUZZ_CHECK(rn == n, "%s: %zu names, %zu in reverse order", what, n, rn);
    for (size_t i = 0; i < n; i++) {
        bool twin = false;
        for (size_t a = 0; a < narrays; a++)
            twin |= has_twin(arrays[a], fwd[i].item);
        for (size_t j = 0; j < rn && !twin; j++)
            if (back[j].item == fwd[i].item)
                FUZZ_CHECK(strcmp(back[j].name, fwd[i].name) == 0,
                           "%s \"%s\" is \"%s\" in reverse order", what, fwd[i].name, back[j].name);
    }
}

/* Names listed in reverse order must be the same per item. */
static void check_order(const char *what, json_t *array, const NamedItem *fwd, size_t n,
                        NamedItem *(*name)(json_t *, size_t *), const char *key)
{
    if (json_array_size(array) > 64 || key_differs(array, key)) /* quadratic */
        return;
    json_t *rev = reversed(array);
    size_t rn;
    NamedItem *back = name(rev, &rn);
    same_names(what, &array, 1, fwd, n, back, rn);
    free(back);
    json_decref(rev);
}

/* The same for the files of an instance: both lists reversed. */
static void check_files_order(json_t *instance, const NamedItem *fwd, size_t n)
{
    json_t *arrays[] = {json_object_get(instance, "recording_files"),
                        json_object_get(instance, "participant_audio_files")};
    if (json_array_size(arrays[0]) + json_array_size(arrays[1]) > 64)
        return;
    json_t *copy = json_object();
    json_object_set_new(copy, "recording_files", reversed(arrays[0]));
    json_object_set_new(copy, "participant_audio_files", reversed(arrays[1]));
    size_t rn;
    NamedItem *back = naming_files(copy, &rn);
    same_names("file", arrays, 2, fwd, n, back, rn);
    free(back);
    json_decref(copy);
}

static void check_files(json_t *instance)
{
    size_t n;
    NamedItem *files = naming_files(instance, &n);
    check_result("file", files, n, true);
    check_files_order(instance, files, n);
    free(files);

    size_t len;
    char *text = jsonfile_render(instance, &len);
    FUZZ_CHECK(len >= 2 && text[len - 1] == '\n' && strcmp(text, "null\n") != 0,
               "recording.json did not render");
    FUZZ_CHECK(fuzz_utf8_valid(text, len), "recording.json is not valid UTF-8");
    free(text);
}

/* The repair, checked against root (what jsonfile_load_tolerant gave for
 * the same bytes, or NULL). Each repair walks the body byte by byte under
 * the coverage hooks: done twice only. */
static void check_repair(const uint8_t *data, size_t size, const json_t *root)
{
    size_t n1, n2;
    char *once = jsonfile_repair((const char *)data, size, &n1);
    FUZZ_CHECK(fuzz_utf8_valid(once, n1), "repair left invalid UTF-8");
    if (root) {
        FUZZ_CHECK(fuzz_utf8_valid(once, n1), "repair left invalid UTF-8 in a body that parses");
        char *dump = json_dumps(root, JSON_ENCODE_ANY);
        FUZZ_CHECK(dump, "json_dumps failed on a repaired body");
        FUZZ_CHECK(fuzz_utf8_valid(dump, strlen(dump)), "dump is not valid UTF-8");
        free(dump);
    }
    char *twice = jsonfile_repair(once, n1, &n2);
    FUZZ_CHECK(n1 == n2 && memcmp(once, twice, n1) == 0, "repair is not idempotent");
    free(twice);

    /* What is JSON once repaired must load (a number past int64, like the
     * file_size of 2^63 of the emulator's hostile set, included). */
    if (!root) {
        json_t *any = json_loadb(once, n1, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
        FUZZ_CHECK(!any, "a body that is JSON once repaired did not load");
        json_decref(any);
    }
    free(once);

    /* A body that was valid JSON already is read as it is. */
    json_t *strict = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    FUZZ_CHECK(!strict || (root && json_equal(strict, (json_t *)root)),
               "repair changed a valid body");
    json_decref(strict);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = jsonfile_load_tolerant((const char *)data, size, NULL);
    check_repair(data, size, root);
    if (!root)
        return 0;

    json_t *meetings = json_object_get(root, "meetings");
    if (json_is_array(meetings)) {
        size_t n;
        NamedItem *inst = naming_instances(meetings, &n);
        check_result("instance", inst, n, false);
        check_order("instance", meetings, inst, n, naming_instances, "uuid");
        for (size_t i = 0; i < n; i++)
            check_files(inst[i].item);
        free(inst);
    }
    json_t *users = json_object_get(root, "users");
    if (json_is_array(users)) {
        size_t n;
        NamedItem *u = naming_users(users, &n);
        check_result("user", u, n, false);
        check_order("user", users, u, n, naming_users, NULL);
        free(u);
    }
    if (json_is_object(root) && json_object_get(root, "recording_files"))
        check_files(root);
    json_decref(root);
    return 0;
}
