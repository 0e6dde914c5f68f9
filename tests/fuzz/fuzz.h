/* Helpers shared by the fuzz targets: quiet logging, a check that aborts
 * (so libFuzzer keeps the input), an independent strict UTF-8 check and a
 * NUL-terminated copy of the input. Header-only: each target is one file. */
#ifndef ZOOMFS_FUZZ_H
#define ZOOMFS_FUZZ_H

#include "zoomfs/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant the design promises: when it breaks, say which and abort(). */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond);           \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A check of a promise that src/ is known to break (each one names its
 * write-up in tests/fuzz/crashes/README.md): it aborts only with
 * ZOOMFS_FUZZ_STRICT=1 in the environment, so that the known bug does not
 * hide new ones while it waits for its fix. */
static inline bool fuzz_strict(void)
{
    static int strict = -1;
    if (strict < 0) {
        const char *v = getenv("ZOOMFS_FUZZ_STRICT");
        strict = v && strcmp(v, "1") == 0;
    }
    return strict;
}

#define FUZZ_CHECK_KNOWN(cond, ...)                                                                \
    do {                                                                                           \
        if (fuzz_strict())                                                                         \
            FUZZ_CHECK(cond, __VA_ARGS__);                                                         \
    } while (0)

/* The core logs warnings for bad input (to stderr in the foreground): keep
 * only errors, which would be worth seeing. */
static inline void fuzz_quiet_log(void)
{
    log_init(0, LOG_LVL_ERROR);
}

/* Decodes one UTF-8 character at s[0..n) (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF). Returns its length and code point, or
 * 0 when the bytes are not one. Written apart from the core's own decoders
 * so that the two check each other. */
static inline size_t fuzz_utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t len;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC0 && c <= 0xDF) {
        len = 2, min = 0x80, *cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, min = 0x800, *cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF7) {
        len = 4, min = 0x10000, *cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = *cp << 6 | (s[i] & 0x3Fu);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

static inline bool fuzz_utf8_valid(const char *s, size_t n)
{
    uint32_t cp;
    for (size_t i = 0, len; i < n; i += len)
        if ((len = fuzz_utf8_char((const unsigned char *)s + i, n - i, &cp)) == 0)
            return false;
    return true;
}

/* A new private directory under $TMPDIR (else /tmp) for a target's files,
 * "<TMPDIR>/zoomfs-fuzz-<name>.XXXXXX"; malloc'd. The caller removes what
 * it puts there. */
static inline char *fuzz_tempdir(const char *name)
{
    const char *base = getenv("TMPDIR");
    size_t n = strlen(base && *base ? base : "/tmp") + strlen(name) + 32;
    char *dir = malloc(n);
    if (!dir)
        abort();
    snprintf(dir, n, "%s/zoomfs-fuzz-%s.XXXXXX", base && *base ? base : "/tmp", name);
    if (!mkdtemp(dir)) {
        perror(dir);
        abort();
    }
    return dir;
}

/* data as a C string (it ends at its first NUL, as the callers' strings do). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* Splits data into at most max fields at each sep byte; the fields are C
 * strings in one malloc'd block (*block, to free), missing ones NULL.
 * Returns the field count. */
static inline size_t fuzz_fields(const uint8_t *data, size_t size, char sep, char **fields,
                                 size_t max, char **block)
{
    char *s = fuzz_cstr(data, size);
    size_t n = 0;
    for (size_t i = 0; i < max; i++)
        fields[i] = NULL;
    for (char *p = s; p && n < max;) {
        fields[n++] = p;
        char *end = n < max ? memchr(p, sep, (size_t)(s + size - p)) : NULL;
        if (end)
            *end++ = '\0';
        p = end;
    }
    *block = s;
    return n;
}

#endif
