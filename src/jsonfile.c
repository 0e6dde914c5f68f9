/* jsonfile: a Zoom object as a file (pretty JSON, keys in Zoom's order, one
 * trailing newline), an edited file back into JSON, and the change between
 * the two that becomes one PATCH (design §4). */
#include "zoomfs/jsonfile.h"

#include "zoomfs/util.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RENDER_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)

/* ---- render ------------------------------------------------------------- */

static bool has_real(const json_t *v)
{
    if (json_is_real(v))
        return true;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (has_real(json_array_get(v, i)))
                return true;
    } else if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            if (has_real(item))
                return true;
        }
    }
    return false;
}

/* Numbers must survive render → parse unchanged, and should look as Zoom
 * wrote them: 0.1, not 0.10000000000000001. jansson applies one precision
 * to the whole document, so take the shortest of 15, 16, 17 significant
 * digits whose output parses back equal (17 always does). */
static char *dump_round_trip(const json_t *value)
{
    if (!has_real(value))
        return json_dumps(value, RENDER_FLAGS);
    for (int precision = 15; precision < 17; precision++) {
        char *s = json_dumps(value, RENDER_FLAGS | JSON_REAL_PRECISION(precision));
        if (!s)
            return NULL;
        json_t *back = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        bool same = back && json_equal(back, (json_t *)value);
        json_decref(back);
        if (same)
            return s;
        free(s);
    }
    return json_dumps(value, RENDER_FLAGS | JSON_REAL_PRECISION(17));
}

char *jsonfile_render(const json_t *value, size_t *len)
{
    char *s = value ? dump_round_trip(value) : NULL;
    StrBuf b;
    strbuf_init(&b);
    strbuf_appendf(&b, "%s\n", s ? s : "null");
    free(s);
    return strbuf_take(&b, len);
}

/* ---- what Zoom sends --------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 when it is not
 * one (overlong, a surrogate, past U+10FFFF, cut short). */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
    if (s[0] < 0x80)
        return 1;
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (len == 0 || s[0] > 0xF4 || len > n)
        return 0;
    uint32_t cp = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* The code unit of a "\uXXXX" escape at s (6 bytes available), or -1. */
static long escape_unit(const char *s, size_t n)
{
    if (n < 6 || s[0] != '\\' || s[1] != 'u')
        return -1;
    long v = 0;
    for (int i = 2; i < 6; i++) {
        int c = (unsigned char)s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t digits(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/* The length of the number at s (JSON's grammar), and whether it is an
 * integer that no int64 holds (jansson refuses those, and with them the
 * whole document). */
static size_t number(const char *s, size_t n, bool *too_big)
{
    size_t i = s[0] == '-', d = digits(s + i, n - i);
    size_t end = i + d;
    bool integer = true;
    if (end < n && s[end] == '.') {
        end += 1 + digits(s + end + 1, n - end - 1);
        integer = false;
    }
    if (end < n && (s[end] == 'e' || s[end] == 'E')) {
        end++;
        end += end < n && (s[end] == '+' || s[end] == '-');
        end += digits(s + end, n - end);
        integer = false;
    }
    const char *max = s[0] == '-' ? "9223372036854775808" : "9223372036854775807";
    while (d > 1 && s[i] == '0') { /* leading zeros: invalid JSON anyway, but not big */
        i++;
        d--;
    }
    *too_big = integer && (d > 19 || (d == 19 && strncmp(s + i, max, 19) > 0));
    return end;
}

void jsonfile_keep(json_t *obj, const char *const *keep)
{
    if (!keep || !json_is_object(obj))
        return;
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, key, v)
    {
        size_t i = 0;
        while (keep[i] && strcmp(keep[i], key) != 0)
            i++;
        if (!keep[i])
            json_object_del(obj, key);
    }
}

char *jsonfile_repair(const char *buf, size_t len, size_t *outlen)
{
    StrBuf out;
    strbuf_init(&out);
    bool in_string = false;
    for (size_t i = 0; i < len;) {
        const unsigned char *p = (const unsigned char *)buf + i;
        long unit = in_string ? escape_unit(buf + i, len - i) : -1;
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            long low = escape_unit(buf + i + 6, len - i - 6);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                strbuf_append(&out, buf + i, 12); /* a pair: as it is */
                i += 12;
            } else {
                strbuf_append(&out, "\\ufffd", 6);
                i += 6;
            }
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            strbuf_append(&out, "\\ufffd", 6);
            i += 6;
        } else if (!in_string && (p[0] == '-' || (p[0] >= '0' && p[0] <= '9'))) {
            bool too_big;
            size_t n = number(buf + i, len - i, &too_big);
            strbuf_append(&out, buf + i, n ? n : 1);
            if (too_big)
                strbuf_append(&out, ".0", 2); /* a real: the value survives, the document too */
            i += n ? n : 1;
        } else if (in_string && p[0] == '\\' && i + 1 < len && p[1] < 0x80) {
            strbuf_append(&out, buf + i, 2); /* any other escape, \\ and \" too */
            i += 2;
        } else {
            size_t n = utf8_valid(p, len - i);
            if (n == 0) {
                strbuf_append(&out, "\xef\xbf\xbd", 3);
                n = 1;
            } else {
                strbuf_append(&out, p, n);
            }
            in_string ^= p[0] == '"';
            i += n;
        }
    }
    return strbuf_take(&out, outlen);
}

json_t *jsonfile_load_tolerant(const char *buf, size_t len, json_error_t *err)
{
    size_t n;
    char *fixed = jsonfile_repair(buf, len, &n);
    json_t *v = json_loadb(fixed, n, JSON_ALLOW_NUL, err);
    free(fixed);
    return v;
}

/* ---- parse -------------------------------------------------------------- */

json_t *jsonfile_parse(const char *buf, size_t len, char *err, size_t errlen)
{
    json_error_t e;
    /* Duplicate keys are refused: which of the two would be meant? */
    json_t *v =
        json_loadb(buf ? buf : "", buf ? len : 0, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
    if (!v) {
        if (err && errlen)
            snprintf(err, errlen, "line %d, column %d: %s", e.line, e.column, e.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        if (err && errlen)
            snprintf(err, errlen, "not a JSON object");
        return NULL;
    }
    return v;
}

/* ---- diff --------------------------------------------------------------- */

/* Two numbers are equal when they have the same value, whatever their JSON
 * spelling: 30 and 30.0 are the same duration, and a PATCH for a change no
 * one made (jansson's json_equal() calls them different) is one too many.
 * Compared exactly: a real equals an integer only if it is integral and in
 * range, so large ids are not rounded through a double. */
static bool numbers_equal(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b))
        return json_integer_value(a) == json_integer_value(b);
    if (json_is_real(a) && json_is_real(b))
        return json_real_value(a) == json_real_value(b);
    const json_t *i = json_is_integer(a) ? a : b, *r = json_is_integer(a) ? b : a;
    double d = json_real_value(r);
    /* the int64 range is [-2^63, 2^63) */
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != (double)(json_int_t)d)
        return false;
    return (json_int_t)d == json_integer_value(i);
}

static bool values_equal(const json_t *a, const json_t *b);

static bool objects_equal(const json_t *a, const json_t *b)
{
    const char *key;
    json_t *va;
    if (json_object_size(a) != json_object_size(b))
        return false;
    json_object_foreach((json_t *)a, key, va)
    {
        json_t *vb = json_object_get(b, key);
        if (!vb || !values_equal(va, vb))
            return false;
    }
    return true;
}

static bool arrays_equal(const json_t *a, const json_t *b)
{
    if (json_array_size(a) != json_array_size(b))
        return false;
    for (size_t i = 0; i < json_array_size(a); i++)
        if (!values_equal(json_array_get(a, i), json_array_get(b, i)))
            return false;
    return true;
}

static bool values_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return numbers_equal(a, b);
    if (json_typeof(a) != json_typeof(b))
        return false;
    if (json_is_object(a))
        return objects_equal(a, b);
    if (json_is_array(a))
        return arrays_equal(a, b);
    return json_equal((json_t *)a, (json_t *)b); /* strings, true, false, null */
}

static bool is_readonly(const char *key, const char *const *readonly)
{
    for (; readonly && *readonly; readonly++)
        if (strcmp(key, *readonly) == 0)
            return true;
    return false;
}

/* The entries of a dotted list that lie below key, without "key.": what is
 * read-only inside the object under key. Malloc'd (NULL when none). */
static const char **below(const char *key, const char *const *readonly)
{
    size_t n = 0, kl = strlen(key);
    for (const char *const *r = readonly; r && *r; r++)
        n += strncmp(*r, key, kl) == 0 && (*r)[kl] == '.';
    if (n == 0)
        return NULL;
    const char **sub = xcalloc(n + 1, sizeof(*sub));
    n = 0;
    for (const char *const *r = readonly; r && *r; r++)
        if (strncmp(*r, key, kl) == 0 && (*r)[kl] == '.')
            sub[n++] = *r + kl + 1;
    return sub;
}

json_t *jsonfile_diff(const json_t *original, const json_t *edited, const char *const *readonly)
{
    json_t *change = json_object();
    const char *key;
    json_t *ev;
    json_object_foreach((json_t *)edited, key, ev)
    {
        if (is_readonly(key, readonly))
            continue;
        json_t *ov = json_object_get(original, key);
        if (json_is_object(ov) && json_is_object(ev)) {
            const char **sub = below(key, readonly);
            json_t *part = jsonfile_diff(ov, ev, sub);
            free(sub);
            if (json_object_size(part) > 0)
                json_object_set_new(change, key, part);
            else
                json_decref(part);
        } else if (!ov || !values_equal(ov, ev)) {
            json_t *copy = json_deep_copy(ev);
            const char **sub = below(key, readonly);
            jsonfile_drop(copy, sub);
            free(sub);
            json_object_set_new(change, key, copy);
        }
    }
    return change;
}

void jsonfile_drop(json_t *obj, const char *const *readonly)
{
    if (!json_is_object(obj))
        return;
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, key, v)
    {
        if (is_readonly(key, readonly)) {
            json_object_del(obj, key);
        } else if (json_is_object(v)) {
            const char **sub = below(key, readonly);
            jsonfile_drop(v, sub);
            free(sub);
        }
    }
}
