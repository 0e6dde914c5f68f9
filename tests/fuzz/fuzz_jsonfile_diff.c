/* An edited JSON file back into a change (jsonfile.h). The input is two
 * texts, the original and the edited object, split at the first NUL byte
 * (no NUL: the two halves). Both go through jsonfile_parse as a saved file
 * does. Invariants: the diff of an object with itself is empty; the diff
 * holds only keys of the edited object, never a read-only field; applied to
 * the original it gives an object whose diff with the edited one is empty;
 * jsonfile_drop removes every read-only field; what jsonfile_render shows
 * parses back (jsonfile_parse) to the same value. */
#include "fuzz.h"

#include "zoomfs/jsonfile.h"

#include <jansson.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    return 0;
}

/* Read-only fields of the kinds of the tree look like these. */
static const char *const readonly[] = {
    "id", "uuid", "created_at", "settings.global_dial_in_numbers", "settings.a.b", NULL};

static json_t *parse(const char *buf, size_t len)
{
    char err[160];
    json_t *v = jsonfile_parse(buf, len, err, sizeof(err));
    FUZZ_CHECK(v || memchr(err, '\0', sizeof(err)), "no reason given");
    FUZZ_CHECK(!v || json_is_object(v), "not an object");
    return v;
}

static void check_render(const json_t *v)
{
    size_t len;
    char *text = jsonfile_render(v, &len);
    FUZZ_CHECK(len > 0 && text[len - 1] == '\n' && strlen(text) == len, "render");
    json_t *back = parse(text, len);
    FUZZ_CHECK(back && json_equal(back, (json_t *)v), "render does not parse back:\n%s", text);
    json_decref(back);
    free(text);
}

/* Is the dotted path present in obj? */
static bool has_path(const json_t *obj, const char *path)
{
    const char *dot = strchr(path, '.');
    if (!dot)
        return json_object_get(obj, path) != NULL;
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
    const json_t *sub = json_object_get(obj, key);
    return json_is_object(sub) && has_path(sub, dot + 1);
}

/* original with the change applied as a PATCH is: objects merged field by
 * field, anything else replaced. */
static void apply(json_t *obj, const json_t *change)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)change, key, v)
    {
        json_t *cur = json_object_get(obj, key);
        if (json_is_object(cur) && json_is_object(v))
            apply(cur, v);
        else
            json_object_set_new(obj, key, json_deep_copy(v));
    }
}

static void check_diff(const json_t *orig, const json_t *edited)
{
    json_t *self = jsonfile_diff(orig, orig, NULL);
    FUZZ_CHECK(json_object_size(self) == 0, "diff of an object with itself is not empty");
    json_decref(self);

    json_t *d = jsonfile_diff(orig, edited, NULL);
    const char *key;
    json_t *v;
    json_object_foreach(d, key, v)
    {
        FUZZ_CHECK(json_object_get(edited, key), "diff has \"%s\", which edited has not", key);
    }
    json_t *patched = json_deep_copy(orig);
    apply(patched, d);
    json_t *rest = jsonfile_diff(patched, edited, NULL);
    FUZZ_CHECK(json_object_size(rest) == 0, "the diff applied does not give the edited object");
    json_decref(rest);
    json_decref(patched);
    json_decref(d);

    json_t *ro = jsonfile_diff(orig, edited, readonly);
    for (const char *const *r = readonly; *r; r++)
        FUZZ_CHECK(!has_path(ro, *r), "diff holds read-only \"%s\"", *r);
    json_decref(ro);

    json_t *copy = json_deep_copy(edited);
    jsonfile_drop(copy, readonly);
    for (const char *const *r = readonly; *r; r++)
        FUZZ_CHECK(!has_path(copy, *r), "drop left \"%s\"", *r);
    json_decref(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    const char *nul = memchr(buf, '\0', size);
    size_t half = nul ? (size_t)(nul - buf) : size / 2;
    size_t rest = nul ? half + 1 : half;
    json_t *orig = parse(buf, half);
    json_t *edited = parse(buf + rest, size - rest);
    if (orig)
        check_render(orig);
    if (edited)
        check_render(edited);
    if (orig && edited) {
        check_diff(orig, edited);
        check_diff(edited, orig);
    }
    json_decref(orig);
    json_decref(edited);
    return 0;
}
