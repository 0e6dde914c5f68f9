/* Two headers whose values come from the network: Content-Range (a CDN's
 * answer to a Range GET, http_parse_content_range) and Retry-After (a 429 or
 * 503, errmap_retry_after_ms). The input is one header value; the first
 * line, when there are two, is a "now" in epoch seconds for Retry-After.
 * Invariants: a parsed range is 0 <= a <= b with a total of -1 ("*") or
 * more than b; a wait is -1 (unparsable) or >= 0, and a delta-seconds value waits
 * exactly that long; UBSan watches the arithmetic on huge numbers. */
#include "fuzz.h"

#include "zoomfs/errmap.h"
#include "zoomfs/http.h"

#include <ctype.h>
#include <inttypes.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    return 0;
}

/* 9999-12-31T23:59:59Z: the latest time any Retry-After form can name. */
#define LAST_TIME INT64_C(253402300799)

static void check_range(const char *v)
{
    int64_t a = 7, b = 7, total = 7;
    int rc = http_parse_content_range(v, &a, &b, &total);
    FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
    if (rc != 0)
        return;
    FUZZ_CHECK(a >= 0 && a <= b, "\"%s\" gave %" PRId64 "-%" PRId64, v, a, b);
    /* RFC 9110 §14.4: the total is "*" or digits, and greater than the
     * last byte's position. */
    FUZZ_CHECK(total == -1 || total > b, "\"%s\" gave a total of %" PRId64, v, total);
}

static void check_retry_after(const char *v, time_t now)
{
    int64_t ms = errmap_retry_after_ms(v, now);
    FUZZ_CHECK(ms == -1 || ms >= 0, "\"%s\" gave %" PRId64, v, ms);
    /* delta-seconds (digits, blanks around): exactly that many seconds */
    const char *p = v;
    while (isspace((unsigned char)*p))
        p++;
    size_t digits = strspn(p, "0123456789");
    const char *q = p + digits;
    while (isspace((unsigned char)*q))
        q++;
    if (digits > 0 && digits <= 12 && *q == '\0')
        FUZZ_CHECK(ms == strtoll(p, NULL, 10) * 1000, "\"%s\" gave %" PRId64 " ms", v, ms);
    /* a date: never longer than from now to the year 9999 */
    if (digits == 0 && ms >= 0)
        FUZZ_CHECK(ms <= (LAST_TIME - (int64_t)now) * 1000 + 1000,
                   "\"%s\" gave %" PRId64 " ms at %" PRId64, v, ms, (int64_t)now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    check_range(s);
    check_retry_after(s, (time_t)1700000000);

    /* "now\nvalue": now as the first line says, within what time(NULL) gives */
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        int64_t now = (int64_t)(strtoull(s, NULL, 10) % (uint64_t)(LAST_TIME + 1));
        check_range(nl + 1);
        check_retry_after(nl + 1, (time_t)now);
    }
    free(s);
    return 0;
}
