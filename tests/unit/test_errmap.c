/* Unit tests for errmap: the Zoom/network → action/errno table and
 * Retry-After parsing. */
#include "check.h"
#include "zoomfs/errmap.h"

#include <errno.h>

#define CHECK_MAP(m, act, e, drop)                                                                 \
    do {                                                                                           \
        ErrMapping m_ = (m);                                                                       \
        CHECK_EQ_INT(m_.action, act);                                                              \
        CHECK_EQ_INT(m_.err, e);                                                                   \
        CHECK_EQ_INT(m_.drop_cache, drop);                                                         \
    } while (0)

static void test_success(void)
{
    CHECK_MAP(errmap_http(200, 0, NULL, NULL), ERRACT_OK, 0, false);
    CHECK_MAP(errmap_http(201, 0, NULL, NULL), ERRACT_OK, 0, false);
    CHECK_MAP(errmap_http(204, 0, NULL, NULL), ERRACT_OK, 0, false);
}

static void test_auth(void)
{
    /* expired/invalid token: refresh once; EACCES if that does not help */
    CHECK_MAP(errmap_http(401, 124, NULL, "Access token is expired."), ERRACT_REFRESH_TOKEN, EACCES,
              false);
    CHECK_MAP(errmap_http(401, 0, NULL, NULL), ERRACT_FAIL, EACCES, false);
    CHECK_MAP(errmap_http(403, 403, NULL, NULL), ERRACT_FAIL, EACCES, false);
    /* missing scopes come as 400, and are a permission problem */
    CHECK_MAP(errmap_http(400, 4711, NULL, "Invalid access token, does not contain scopes:[x]"),
              ERRACT_FAIL, EACCES, false);
    CHECK_MAP(errmap_http(400, 4700, NULL, NULL), ERRACT_FAIL, EACCES, false);
    CHECK_MAP(errmap_http(400, 200, NULL, "No privilege."), ERRACT_FAIL, EACCES, false);
}

static void test_client_errors(void)
{
    CHECK_MAP(errmap_http(400, 300, NULL, "Validation Failed."), ERRACT_FAIL, EINVAL, false);
    CHECK_MAP(errmap_http(400, 3000, NULL, NULL), ERRACT_FAIL, EINVAL, false);
    CHECK_MAP(errmap_http(400, 1010, NULL, "User does not belong to this account"), ERRACT_FAIL,
              ENOENT, true);
    CHECK_MAP(errmap_http(400, 3003, NULL, "You are not the meeting host."), ERRACT_FAIL, EACCES,
              false);
    CHECK_MAP(errmap_http(400, 0, NULL, NULL), ERRACT_FAIL, EINVAL, false);
    CHECK_MAP(errmap_http(404, 1001, NULL, NULL), ERRACT_FAIL, ENOENT, true);
    CHECK_MAP(errmap_http(404, 3001, NULL, NULL), ERRACT_FAIL, ENOENT, true);
    CHECK_MAP(errmap_http(404, 3301, NULL, NULL), ERRACT_FAIL, ENOENT, true);
    CHECK_MAP(errmap_http(404, 0, NULL, NULL), ERRACT_FAIL, ENOENT, true);
    CHECK_MAP(errmap_http(409, 1005, NULL, NULL), ERRACT_FAIL, EEXIST, false);
    CHECK_MAP(errmap_http(413, 0, NULL, NULL), ERRACT_FAIL, EFBIG, false);
    CHECK_MAP(errmap_http(418, 0, NULL, NULL), ERRACT_FAIL, EIO, false);
    CHECK_MAP(errmap_http(302, 0, NULL, NULL), ERRACT_FAIL, EIO, false);
}

static void test_rate_limits(void)
{
    CHECK_MAP(errmap_http(429, 429, "QPS", "You have reached the maximum per-second rate limit"),
              ERRACT_RATE_WAIT, EAGAIN, false);
    CHECK_MAP(errmap_http(429, 429, NULL, NULL), ERRACT_RATE_WAIT, EAGAIN, false);
    CHECK_MAP(errmap_http(429, 429, "Daily-limit", NULL), ERRACT_FAIL, EAGAIN, false);
    CHECK_MAP(errmap_http(429, 429, "daily-LIMIT", NULL), ERRACT_FAIL, EAGAIN, false);
    /* the per-user meeting limit comes without X-RateLimit-Type */
    CHECK_MAP(errmap_http(429, 429, NULL,
                          "You have exceeded the daily rate limit (100) of Meeting Create/Update "
                          "API requests permitted for this particular user."),
              ERRACT_FAIL, EAGAIN, false);
}

static void test_server_and_net(void)
{
    CHECK_MAP(errmap_http(500, 0, NULL, NULL), ERRACT_RETRY, EIO, false);
    CHECK_MAP(errmap_http(503, 0, NULL, NULL), ERRACT_RETRY, EIO, false);
    CHECK_MAP(errmap_http(599, 0, NULL, NULL), ERRACT_RETRY, EIO, false);
    CHECK_MAP(errmap_net(NETERR_NONE), ERRACT_OK, 0, false);
    CHECK_MAP(errmap_net(NETERR_TIMEOUT), ERRACT_RETRY, ETIMEDOUT, false);
    CHECK_MAP(errmap_net(NETERR_RESET), ERRACT_RETRY, EIO, false);
    CHECK_MAP(errmap_net(NETERR_CONNECT), ERRACT_RETRY, EIO, false);
    CHECK_MAP(errmap_net(NETERR_OTHER), ERRACT_FAIL, EIO, false);
    /* TLS failures are never retried */
    CHECK_EQ_INT(errmap_net(NETERR_TLS).action, ERRACT_FAIL);
    CHECK(errmap_net(NETERR_TLS).err != 0);
}

static void test_retry_after(void)
{
    const time_t now = 1590883200 - 90; /* 2020-05-30T23:58:30Z */
    CHECK_EQ_INT(errmap_retry_after_ms("3", now), 3000);
    CHECK_EQ_INT(errmap_retry_after_ms(" 0 ", now), 0);
    CHECK_EQ_INT(errmap_retry_after_ms("120", now), 120000);
    /* HTTP-date: IMF-fixdate and the two obsolete forms */
    CHECK_EQ_INT(errmap_retry_after_ms("Sun, 31 May 2020 00:00:00 GMT", now), 90000);
    CHECK_EQ_INT(errmap_retry_after_ms("Sunday, 31-May-20 00:00:00 GMT", now), 90000);
    CHECK_EQ_INT(errmap_retry_after_ms("Sun May 31 00:00:00 2020", now), 90000);
    /* ISO-8601, as Zoom sends for daily limits */
    CHECK_EQ_INT(errmap_retry_after_ms("2020-05-31T00:00:00Z", now), 90000);
    CHECK_EQ_INT(errmap_retry_after_ms("2020-05-31T00:01:00Z", now), 150000);
    /* a time in the past: no wait, never negative */
    CHECK_EQ_INT(errmap_retry_after_ms("2020-05-30T00:00:00Z", now), 0);
    CHECK_EQ_INT(errmap_retry_after_ms("Sat, 30 May 2020 00:00:00 GMT", now), 0);
    /* garbage */
    CHECK_EQ_INT(errmap_retry_after_ms(NULL, now), -1);
    CHECK_EQ_INT(errmap_retry_after_ms("", now), -1);
    CHECK_EQ_INT(errmap_retry_after_ms("-3", now), -1);
    CHECK_EQ_INT(errmap_retry_after_ms("3s", now), -1);
    CHECK_EQ_INT(errmap_retry_after_ms("soon", now), -1);
    CHECK_EQ_INT(errmap_retry_after_ms("Sun, 31 Foo 2020 00:00:00 GMT", now), -1);
    CHECK_EQ_INT(errmap_retry_after_ms("Sun, 31 May 2020 00:00:00 GMT trailing", now), -1);
    CHECK_EQ_INT(errmap_retry_after_ms("2020-02-30T00:00:00Z", now), -1);
}

static void test_errno_names(void)
{
    CHECK_EQ_STR(errmap_errno_name(ENOENT), "ENOENT");
    CHECK_EQ_STR(errmap_errno_name(EACCES), "EACCES");
    CHECK_EQ_STR(errmap_errno_name(ETIMEDOUT), "ETIMEDOUT");
    CHECK_EQ_STR(errmap_errno_name(0), "OK");
    CHECK(errmap_errno_name(99999) != NULL);
}

int main(void)
{
    test_success();
    test_auth();
    test_client_errors();
    test_rate_limits();
    test_server_and_net();
    test_retry_after();
    test_errno_names();
    return CHECK_DONE("test_errmap");
}
