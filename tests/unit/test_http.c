/* Unit tests of http's pure parts: Content-Range as RFC 9110 has it (the
 * cases the fuzzer found read leniently are here for good). */
#include "check.h"
#include "zoomfs/http.h"

static void range_ok(const char *v, int64_t a, int64_t b, int64_t total)
{
    int64_t x = -7, y = -7, t = -7;
    CHECK_EQ_INT(http_parse_content_range(v, &x, &y, &t), 0);
    CHECK_EQ_INT(x, a);
    CHECK_EQ_INT(y, b);
    CHECK_EQ_INT(t, total);
}

static void test_content_range(void)
{
    range_ok("bytes 0-0/1", 0, 0, 1);
    range_ok("bytes 100-199/4294967296", 100, 199, 4294967296LL);
    range_ok("BYTES 0-9/*", 0, 9, -1);
    range_ok("bytes 0-9/10 ", 0, 9, 10);
    range_ok("bytes 0-9223372036854775806/9223372036854775807", 0, 9223372036854775806LL,
             9223372036854775807LL);
    range_ok("bytes 0-0/9223372036854775808", 0, 0, 9223372036854775807LL); /* at most int64 */
    range_ok("bytes 0-0/99999999999999999999999", 0, 0, 9223372036854775807LL);
    int64_t a, b, t;
    static const char *const bad[] = {NULL,
                                      "",
                                      "bytes",
                                      "bytes */10",
                                      "bytes 0-9",
                                      "bytes 0-9/",
                                      "bytes 9-0/10",
                                      "bytes 0-1/-5",
                                      "bytes 0-1/abc",
                                      "bytes 0-9/5",
                                      "bytes 0-9/9",
                                      "bytes -1-9/10",
                                      "bytes +0-9/10",
                                      "bytes  0-9/10",
                                      "bytes 0-9/10x",
                                      "bytes 99999999999999999999-0/5",
                                      "items 0-9/10",
                                      "bytes 0 -9/10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = http_parse_content_range(bad[i], &a, &b, &t);
        CHECK_EQ_INT(rc, -1);
        if (rc != -1)
            fprintf(stderr, "    accepted \"%s\"\n", bad[i] ? bad[i] : "(null)");
    }
}

int main(void)
{
    test_content_range();
    return CHECK_DONE("http");
}
