/* naming: stable, safe names for recording instance folders, recording files
 * and month folders, derived only from Zoom's fields (never listing order).
 *
 * A name is built as a stem plus an extension. When two items of one folder
 * get the same name, each of them gets "_" + the first 6 hex digits of a
 * SHA-256 of its identity (instance uuid; file id, else download_url) between
 * stem and extension; in the (astronomically rare) case that this still
 * clashes, the suffix grows. The stem budget always leaves room for the
 * 7-byte suffix, so adding it never cuts a name. */
#include "zoomfs/naming.h"

#include "zoomfs/strmap.h"
#include "zoomfs/util.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUFFIX_HEX      6                /* hex digits of the clash suffix */
#define SUFFIX_RESERVED (1 + SUFFIX_HEX) /* "_" + hex, always left free */
#define EXT_MAX         16               /* bytes of a sanitized extension */
#define RESERVED_NAME   "recording.json" /* the instance's own JSON file */
#define TIME_LEN        (sizeof("_00.00.00Z") - 1)
#define MAX_ROUNDS      80 /* enough to reach the whole-item key, then the index */

/* ---- UTF-8 and sanitizing ---------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1-4) with its code point in *cp,
 * or 0 when the bytes at s are not valid UTF-8 (overlong forms, surrogates
 * and values above U+10FFFF are invalid). */
static size_t utf8_char(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    /* lead byte → length, payload bits, smallest code point of that length */
    static const struct {
        unsigned char mask, value, bits;
        uint32_t min;
    } forms[] = {{0xE0, 0xC0, 0x1F, 0x80}, {0xF0, 0xE0, 0x0F, 0x800}, {0xF8, 0xF0, 0x07, 0x10000}};
    size_t len = 0;
    uint32_t min = 0;
    for (size_t f = 0; f < ARRAY_SIZE(forms) && !len; f++) {
        if ((s[0] & forms[f].mask) == forms[f].value) {
            len = f + 2;
            min = forms[f].min;
            *cp = s[0] & forms[f].bits;
        }
    }
    if (!len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0; /* also catches the terminating NUL */
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

/* Longest prefix of s (valid UTF-8) of at most max bytes that does not end
 * inside a character. */
static size_t utf8_prefix_len(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

static bool is_space(uint32_t cp)
{
    return cp == ' ' || (cp >= '\t' && cp <= '\r');
}

/* C0 controls, DEL and C1 controls; and what makes a name look other than it
 * is: bidirectional overrides, embeddings and isolates, zero-width
 * characters, line separators, the BOM, and U+FFFD (what invalid UTF-8 from
 * Zoom was replaced with). */
static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C ||
           (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
           (cp >= 0x2060 && cp <= 0x2069) || cp == 0xFEFF || cp == 0xFFFD;
}

void naming_sanitize(const char *s, char *out, size_t outlen, size_t max_bytes)
{
    if (outlen == 0)
        return;
    size_t limit = max_bytes < outlen - 1 ? max_bytes : outlen - 1;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    char *tmp = xmalloc(strlen((const char *)p) + 1);
    size_t n = 0;
    bool pending_space = false;

    while (*p) {
        uint32_t cp = 0;
        size_t len = utf8_char(p, &cp);
        bool lead = n == 0; /* nothing kept yet: leading dots and spaces go */
        if (len > 0 && is_space(cp)) {
            pending_space = !lead;
        } else if (len > 0 && lead && cp == '.') {
            /* dropped */
        } else {
            if (pending_space)
                tmp[n++] = ' ';
            pending_space = false;
            if (len == 0 || is_control(cp) || cp == '/') {
                tmp[n++] = '_';
            } else {
                memcpy(tmp + n, p, len);
                n += len;
            }
        }
        p += len ? len : 1;
    }
    tmp[n] = '\0';

    n = utf8_prefix_len(tmp, limit);
    while (n > 0 && tmp[n - 1] == ' ')
        n--;
    if (n == 0 && limit > 0)
        tmp[n++] = '_';
    memcpy(out, tmp, n);
    out[n] = '\0';
    free(tmp);
}

static void ascii_lower(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x80)
            *s = (char)tolower((unsigned char)*s);
}

/* ---- time ------------------------------------------------------------- */

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly `digits` decimal digits at *s, advancing it. */
static bool read_num(const char **s, int digits, int *out)
{
    int v = 0;
    for (int i = 0; i < digits; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return false;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += digits;
    *out = v;
    return true;
}

static bool expect(const char **s, char c)
{
    if (**s != c)
        return false;
    (*s)++;
    return true;
}

/* Parses "YYYY-MM" at *s (advancing it); years 1970-9999. */
static bool read_month(const char **s, int *year, int *month)
{
    return read_num(s, 4, year) && expect(s, '-') && read_num(s, 2, month) && *year >= 1970 &&
           *month >= 1 && *month <= 12;
}

/* Time zone designator: "Z", "+HH:MM", "-HH:MM" or "+HHMM"; offset in s. */
static bool read_zone(const char **s, int *offset)
{
    if (**s == 'Z' || **s == 'z') {
        (*s)++;
        *offset = 0;
        return true;
    }
    if (**s != '+' && **s != '-')
        return false;
    int sign = **s == '-' ? -1 : 1, hh, mm;
    (*s)++;
    if (!read_num(s, 2, &hh))
        return false;
    if (**s == ':')
        (*s)++;
    if (!read_num(s, 2, &mm) || hh > 23 || mm > 59)
        return false;
    *offset = sign * (hh * 3600 + mm * 60);
    return true;
}

int64_t naming_parse_time(const char *iso)
{
    if (!iso)
        return -1;
    const char *s = iso;
    int y, mo, d, h, mi, sec, offset;
    if (!read_month(&s, &y, &mo) || !expect(&s, '-') || !read_num(&s, 2, &d))
        return -1;
    if (*s != 'T' && *s != 't' && *s != ' ')
        return -1;
    s++;
    if (!read_num(&s, 2, &h) || !expect(&s, ':') || !read_num(&s, 2, &mi) || !expect(&s, ':') ||
        !read_num(&s, 2, &sec))
        return -1;
    if (*s == '.' && isdigit((unsigned char)s[1])) /* fraction: ignored */
        for (s++; isdigit((unsigned char)*s); s++)
            ;
    if (!read_zone(&s, &offset) || *s != '\0')
        return -1;
    if (d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return -1;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return t < 0 ? -1 : t;
}

/* Formats an ISO time with fmt (strftime, UTC) into out; false when the time
 * does not parse. */
static bool format_time(const char *iso, const char *fmt, char *out, size_t outlen)
{
    int64_t t = naming_parse_time(iso);
    if (t < 0)
        return false;
    time_t tt = (time_t)t;
    struct tm tm;
    return gmtime_r(&tt, &tm) && strftime(out, outlen, fmt, &tm) > 0;
}

/* ---- months ------------------------------------------------------------ */

int naming_month_range(const char *month, char from[11], char to[11])
{
    const char *s = month;
    int y, m;
    if (!s || !read_month(&s, &y, &m) || *s != '\0')
        return -1;
    snprintf(from, 11, "%04d-%02d-01", y, m);
    snprintf(to, 11, "%04d-%02d-%02d", y, m, days_in_month(y, m));
    return 0;
}

/* Month index (year * 12 + month - 1) of an ISO time or a "YYYY-MM..."
 * prefix; -1 when neither parses. */
static int64_t month_index(const char *s, bool whole_time)
{
    if (!s)
        return -1;
    if (whole_time) {
        int64_t t = naming_parse_time(s);
        time_t tt = (time_t)t;
        struct tm tm;
        if (t >= 0 && gmtime_r(&tt, &tm))
            return (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon;
    }
    int y, m;
    if (!read_month(&s, &y, &m) || (*s != '\0' && *s != '-'))
        return -1;
    return (int64_t)y * 12 + m - 1;
}

char (*naming_months(const char *created_at, const char *since, time_t now, size_t *n))[8]
{
    struct tm tm;
    gmtime_r(&now, &tm);
    int64_t last = (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon;
    int64_t first = since && *since ? month_index(since, false) : month_index(created_at, true);
    if (first < 0 || first > last)
        first = last;

    size_t count = (size_t)(last - first + 1);
    char(*months)[8] = xcalloc(count, sizeof(*months));
    for (size_t i = 0; i < count; i++) {
        int64_t m = first + (int64_t)i;
        snprintf(months[i], sizeof(months[i]), "%04u-%02u", (unsigned)((uint64_t)m / 12) % 10000u,
                 (unsigned)((uint64_t)m % 12) + 1u);
    }
    *n = count;
    return months;
}

/* ---- unique names ------------------------------------------------------ */

/* A name in the making: stem + [suffix] + ext; key is the hex SHA-256 the
 * clash suffix is taken from; level is the suffix length in hex digits (0:
 * none). */
typedef struct {
    char stem[2 * NAMING_MAX]; /* may run long: compose() cuts it to fit */
    char ext[EXT_MAX + 2];
    char key[65];
    int level;
    bool whole; /* key is the hash of the whole item: its identity fields clashed */
} Draft;

static void whole_item_key(const json_t *item, char out[65])
{
    char *dump = json_dumps(item, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    sha256_hex(dump ? dump : "", dump ? strlen(dump) : 0, out);
    free(dump);
}

static void compose(NamedItem *out, const Draft *d, size_t index)
{
    char suffix[96] = "";
    if (d->level > 64) /* byte-identical items: which gets which is all the same */
        snprintf(suffix, sizeof(suffix), "_%.*s_%zu", SUFFIX_HEX, d->key, index);
    else if (d->level > 0)
        snprintf(suffix, sizeof(suffix), "_%.*s", d->level, d->key);
    size_t room = NAMING_MAX - strlen(suffix) - strlen(d->ext);
    int stem = (int)utf8_prefix_len(d->stem, room);
    snprintf(out->name, sizeof(out->name), "%.*s%s%s", stem, d->stem, suffix, d->ext);
}

static int cmp_name(const void *a, const void *b)
{
    const NamedItem *x = *(const NamedItem *const *)a, *y = *(const NamedItem *const *)b;
    return strcmp(x->name, y->name);
}

/* Marks in clash[] every item whose name another item shares, or that is
 * the reserved name. Returns whether any was marked. */
static bool mark_clashes(NamedItem *items, size_t n, const char *reserved, bool *clash)
{
    NamedItem **sorted = xmalloc(n * sizeof(*sorted));
    for (size_t i = 0; i < n; i++)
        sorted[i] = &items[i];
    qsort(sorted, n, sizeof(*sorted), cmp_name);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        bool same_prev = i > 0 && strcmp(sorted[i]->name, sorted[i - 1]->name) == 0;
        bool same_next = i + 1 < n && strcmp(sorted[i]->name, sorted[i + 1]->name) == 0;
        bool is_reserved = reserved && strcmp(sorted[i]->name, reserved) == 0;
        clash[sorted[i] - items] = same_prev || same_next || is_reserved;
        any |= clash[sorted[i] - items];
    }
    free(sorted);
    return any;
}

/* Composes every name, lengthening the suffix of clashing ones until all
 * names are distinct. */
static void finish_names(NamedItem *items, Draft *drafts, size_t n, const char *reserved)
{
    bool *clash = xcalloc(n, sizeof(*clash));
    for (int round = 0; round < MAX_ROUNDS; round++) {
        for (size_t i = 0; i < n; i++)
            compose(&items[i], &drafts[i], i);
        if (!mark_clashes(items, n, reserved, clash))
            break;
        for (size_t i = 0; i < n; i++) {
            if (!clash[i])
                continue;
            drafts[i].level = drafts[i].level ? drafts[i].level + 2 : SUFFIX_HEX;
            if (drafts[i].level > 64 && !drafts[i].whole) {
                /* Two items with one id (a Zoom bug): their content tells them
                 * apart, never their place in the listing. */
                whole_item_key(items[i].item, drafts[i].key);
                drafts[i].whole = true;
                drafts[i].level = SUFFIX_HEX;
            }
        }
    }
    free(clash);
}

/* ---- field helpers ----------------------------------------------------- */

static const char *str_field(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* The clash key of an item: SHA-256 of the first identity field present,
 * else of the item's canonical JSON. */
static void item_key(json_t *item, const char *const *fields, char out[65])
{
    for (; *fields; fields++) {
        const char *v = str_field(item, *fields);
        if (v) {
            sha256_hex(v, strlen(v), out);
            return;
        }
    }
    whole_item_key(item, out);
}

/* A free-text field (a topic, a participant's name) as a C string: a NUL
 * that Zoom sent as \u0000 becomes a control character, which sanitizing
 * turns into '_', instead of ending the text. Malloc'd, or NULL. */
static char *free_text(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    size_t n = json_string_length(v);
    if (!json_is_string(v) || n == 0)
        return NULL;
    char *s = xmalloc(n + 1); /* not strndup: it would stop at the first NUL */
    memcpy(s, json_string_value(v), n);
    s[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!s[i])
            s[i] = '\x01';
    return s;
}

/* ---- instances --------------------------------------------------------- */

static void instance_id(json_t *item, char *out, size_t outlen)
{
    json_t *id = json_object_get(item, "id");
    if (json_is_integer(id))
        snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
    else if (json_is_string(id))
        naming_sanitize(json_string_value(id), out, outlen, outlen - 1);
    else
        snprintf(out, outlen, "unknown");
}

static void instance_draft(json_t *item, Draft *d)
{
    static const char *const key_fields[] = {"uuid", NULL};
    char start[32], id[64], topic[NAMING_MAX + 1];
    if (!format_time(str_field(item, "start_time"), "%Y-%m-%dT%H.%M.%SZ", start, sizeof(start)))
        snprintf(start, sizeof(start), "unknown");
    instance_id(item, id, sizeof(id));
    size_t budget = NAMING_MAX - SUFFIX_RESERVED - strlen(start) - strlen(id) - 2;
    char *text = free_text(item, "topic");
    naming_sanitize(text, topic, sizeof(topic), budget);
    free(text);
    snprintf(d->stem, sizeof(d->stem), "%s_%s_%s", start, topic, id);
    d->ext[0] = '\0';
    d->level = 0;
    item_key(item, key_fields, d->key);
}

NamedItem *naming_instances(json_t *meetings, size_t *n)
{
    size_t total = json_array_size(meetings), count = 0;
    NamedItem *items = xcalloc(total, sizeof(*items));
    Draft *drafts = xcalloc(total, sizeof(*drafts));
    /* One instance listed twice (pages overlapping) gets one folder. */
    StrMap *seen = strmap_new(NULL);
    for (size_t i = 0; i < total; i++) {
        json_t *item = json_array_get(meetings, i);
        const char *uuid = str_field(item, "uuid");
        if (!json_is_object(item) || (uuid && !strmap_put(seen, uuid, NULL)))
            continue;
        items[count].item = item;
        instance_draft(item, &drafts[count++]);
    }
    strmap_free(seen);
    finish_names(items, drafts, count, NULL);
    free(drafts);
    *n = count;
    return items;
}

NamedItem *naming_users(json_t *users, size_t *n)
{
    static const char *const key_fields[] = {"id", "email", NULL};
    size_t total = json_array_size(users), count = 0;
    NamedItem *items = xcalloc(total, sizeof(*items));
    Draft *drafts = xcalloc(total, sizeof(*drafts));
    for (size_t i = 0; i < total; i++) {
        json_t *user = json_array_get(users, i);
        char *email = free_text(user, "email");
        if (email) {
            items[count].item = user;
            naming_sanitize(email, drafts[count].stem, sizeof(drafts[count].stem),
                            NAMING_MAX - SUFFIX_RESERVED);
            item_key(user, key_fields, drafts[count++].key);
        }
        free(email);
    }
    finish_names(items, drafts, count, NULL);
    free(drafts);
    *n = count;
    return items;
}

/* ---- files ------------------------------------------------------------- */

/* Complete files only: a file_type of "" (or none) or a status other than
 * "completed" means Zoom is still processing it. */
static bool file_complete(const json_t *f)
{
    const char *status = json_string_value(json_object_get(f, "status"));
    return json_is_object(f) && str_field(f, "file_type") &&
           (!status || strcmp(status, "completed") == 0);
}

/* ".<extension>" from file_extension, else file_type, lowercase. */
static void file_ext(const json_t *f, char *out)
{
    const char *ext = str_field(f, "file_extension");
    out[0] = '.';
    naming_sanitize(ext ? ext : str_field(f, "file_type"), out + 1, EXT_MAX + 1, EXT_MAX);
    ascii_lower(out);
}

static void file_draft(json_t *f, bool participant, Draft *d)
{
    static const char *const key_fields[] = {"id", "download_url", NULL};
    char when[16] = "", label[NAMING_MAX + 1] = "";
    /* "_10.31.12Z"; left out when Zoom gave no usable start */
    if (!format_time(str_field(f, "recording_start"), "_%H.%M.%SZ", when, sizeof(when)))
        when[0] = '\0';
    file_ext(f, d->ext);
    size_t prefix = participant ? strlen("participant_") : 0;
    size_t budget = NAMING_MAX - SUFFIX_RESERVED - TIME_LEN - strlen(d->ext) - prefix;

    if (participant) {
        char *name = free_text(f, "file_name");
        if (name) {
            label[0] = '_';
            naming_sanitize(name, label + 1, sizeof(label) - 1, budget - 1);
        }
        free(name);
        snprintf(d->stem, sizeof(d->stem), "participant%s%s", label, when);
    } else {
        const char *type = str_field(f, "recording_type");
        naming_sanitize(type ? type : str_field(f, "file_type"), label, sizeof(label), budget);
        ascii_lower(label);
        snprintf(d->stem, sizeof(d->stem), "%s%s", label, when);
    }
    d->level = 0;
    item_key(f, key_fields, d->key);
}

NamedItem *naming_files(json_t *instance, size_t *n)
{
    static const char *const lists[] = {"recording_files", "participant_audio_files"};
    json_t *arrays[2];
    size_t total = 0, count = 0;
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        arrays[l] = json_object_get(instance, lists[l]);
        total += json_array_size(arrays[l]);
    }
    NamedItem *items = xcalloc(total, sizeof(*items));
    Draft *drafts = xcalloc(total, sizeof(*drafts));
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
        for (size_t i = 0; i < json_array_size(arrays[l]); i++) {
            json_t *f = json_array_get(arrays[l], i);
            if (!file_complete(f))
                continue;
            items[count].item = f;
            file_draft(f, l == 1, &drafts[count++]);
        }
    }
    finish_names(items, drafts, count, RESERVED_NAME);
    free(drafts);
    *n = count;
    return items;
}
