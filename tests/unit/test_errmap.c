/* Unit tests for errmap: the Zoom/network → action/errno table,
 * Retry-After parsing and the hints for an admin. */
#include "check.h"
#include "zoomfs/errmap.h"

#include <errno.h>
#include <stdlib.h>

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

/* errmap_hint's answer compared with expected (NULL: no hint). */
#define CHECK_HINT(expected, route, status, code, type, msg)                                       \
    do {                                                                                           \
        char *h_ = errmap_hint(route, status, code, type, msg);                                    \
        CHECK_EQ_STR(h_, expected);                                                                \
        free(h_);                                                                                  \
    } while (0)

#define CHECK_MISSING(expected, msg)                                                               \
    do {                                                                                           \
        char *s_ = errmap_missing_scopes(msg);                                                     \
        CHECK_EQ_STR(s_, expected);                                                                \
        free(s_);                                                                                  \
    } while (0)

static void test_missing_scopes(void)
{
    CHECK_MISSING("recording:read:admin",
                  "Invalid access token, does not contain scopes:[recording:read:admin].");
    CHECK_MISSING("user:write:admin, user:read:admin, user:read, user:write",
                  "Invalid access token, does not contain scopes:[user:write:admin, "
                  "user:read:admin, user:read, user:write].");
    CHECK_MISSING("cloud_recording:read:list_recording_files:admin",
                  "Invalid access token, does not contain "
                  "scopes:[cloud_recording:read:list_recording_files:admin]");
    /* the older 4700 forms */
    CHECK_MISSING("recording:write:admin, recording:read:admin",
                  "Invalid access token, does not contain scopes: [recording:write:admin, "
                  "recording:read:admin]");
    CHECK_MISSING("role:read:admin",
                  "Invalid access token, does not contain role:read:admin scope.");
    /* nothing named, or not scope names */
    CHECK_MISSING(NULL, "Invalid access token, does not contain scopes:[].");
    CHECK_MISSING(NULL, "Invalid access token, does not contain scopes.");
    CHECK_MISSING(NULL, "Invalid access token, does not contain scopes:[<b>bold</b>]");
    CHECK_MISSING(NULL, "Invalid access token.");
    CHECK_MISSING(NULL, NULL);
}

static void test_route_scope(void)
{
    CHECK_EQ_STR(errmap_route_scope("GET /users"), "user:read:admin");
    CHECK_EQ_STR(errmap_route_scope("GET /users/{userId}/settings"), "user:read:admin");
    CHECK_EQ_STR(errmap_route_scope("PATCH /users/{userId}/settings"), "user:write:admin");
    CHECK_EQ_STR(errmap_route_scope("GET /users/{userId}/meetings"), "meeting:read:admin");
    CHECK_EQ_STR(errmap_route_scope("DELETE /meetings/{meetingId}"), "meeting:write:admin");
    CHECK_EQ_STR(errmap_route_scope("GET /past_meetings/{meetingId}/participants"),
                 "meeting:read:admin");
    CHECK_EQ_STR(errmap_route_scope("GET /users/{userId}/webinars"), "webinar:read:admin");
    CHECK_EQ_STR(errmap_route_scope("POST /webinars/{webinarId}/registrants"),
                 "webinar:write:admin");
    CHECK_EQ_STR(errmap_route_scope("GET /users/{userId}/recordings"), "recording:read:admin");
    CHECK_EQ_STR(errmap_route_scope("GET /meetings/{meetingId}/recordings"),
                 "recording:read:admin");
    CHECK_EQ_STR(errmap_route_scope("PUT /meetings/{meetingId}/recordings/status"),
                 "recording:write:admin");
    CHECK_EQ_STR(errmap_route_scope("GET download_url"), "recording:read:admin");
    CHECK_EQ_STR(errmap_route_scope("POST /oauth/token"), NULL);
    CHECK_EQ_STR(errmap_route_scope("GET cdn"), NULL);
    CHECK_EQ_STR(errmap_route_scope(NULL), NULL);
}

static void test_hints(void)
{
    const char *rec = "GET /users/{userId}/recordings";
    /* 4711: the scope Zoom names */
    CHECK_HINT("scope recording:read:admin missing; add it to the app in the Marketplace", rec, 400,
               4711, NULL, "Invalid access token, does not contain scopes:[recording:read:admin].");
    /* several listed (any one will do): the read scope zoomfs needs, not the
     * write scope Zoom lists first */
    CHECK_HINT("scope recording:read:admin missing; add it to the app in the Marketplace", rec, 400,
               4711, NULL,
               "Invalid access token, does not contain scopes:[recording:write:admin, "
               "recording:read:admin, recording:read, recording:write].");
    CHECK_HINT("scope recording:write:admin missing; add it to the app in the Marketplace",
               "DELETE /meetings/{meetingId}/recordings", 400, 4711, NULL,
               "Invalid access token, does not contain scopes:[recording:write:admin, "
               "recording:write].");
    /* granular: Zoom's name */
    CHECK_HINT("scope cloud_recording:read:list_user_recordings:admin missing; add it to the app "
               "in the Marketplace",
               rec, 400, 4711, NULL,
               "Invalid access token, does not contain "
               "scopes:[cloud_recording:read:list_user_recordings:admin].");
    /* the older code, and no list at all: zoomfs's own knowledge */
    CHECK_HINT("scope recording:write:admin missing; add it to the app in the Marketplace",
               "PATCH /meetings/{meetingId}/recordings", 400, 4700, NULL,
               "Invalid access token, does not contain scopes: [recording:write:admin]");
    CHECK_HINT("scope meeting:read:admin missing; add it to the app in the Marketplace",
               "GET /users/{userId}/meetings", 400, 4711, NULL, "Invalid access token.");
    CHECK_HINT("a scope is missing: add the one this call needs to the app in the Marketplace",
               NULL, 400, 4711, NULL, NULL);
    /* the code table */
    CHECK_HINT("access token refused (an S2S token is renewed once first): expired, or the app "
               "deactivated in the Marketplace?",
               "GET /users", 401, 124, NULL, "Invalid access token.");
    CHECK_HINT("no privilege: the account's plan, an add-on or the user's role does not allow "
               "this",
               "GET /past_meetings/{meetingId}/participants", 400, 200, NULL, "No privilege.");
    CHECK_HINT("Zoom refused a value: the message names the field", "PATCH /meetings/{meetingId}",
               400, 300, NULL, "Validation Failed. (duration: Invalid field.)");
    CHECK_HINT("user not in the account (deleted, or never in it)", "GET /users/{userId}", 404,
               1001, NULL, "User does not exist: x.");
    CHECK_HINT("user not in this account", "GET /users/{userId}/meetings", 400, 1010, NULL, NULL);
    CHECK_HINT("meeting gone: deleted, or ended and expired", "GET /meetings/{meetingId}", 404,
               3001, NULL, "Meeting 1 is not found or has expired.");
    /* rate limits: per second (after the waits), daily (by header or message) */
    CHECK_HINT("rate limit: Zoom still refused after the waits; fewer parallel requests help",
               "GET /users", 429, 429, "QPS", "You have reached the maximum per-second rate limit");
    CHECK_HINT("daily rate limit: calls of this kind fail until Zoom resets it at 00:00 UTC",
               "GET /users", 429, 429, "Daily-limit", NULL);
    CHECK_HINT("daily rate limit: calls of this kind fail until Zoom resets it at 00:00 UTC",
               "PATCH /meetings/{meetingId}", 429, 0, NULL,
               "You have exceeded the daily rate limit (100) of Meeting Create/Update API "
               "requests permitted for this particular user.");
    /* no hint for what the table does not know */
    CHECK_HINT(NULL, "GET /users", 400, 0, NULL, NULL);
    CHECK_HINT(NULL, "GET /users", 500, 0, NULL, "Internal error");
    CHECK_HINT(NULL, "POST /users", 409, 1005, NULL, "Email has already been used.");
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
    test_missing_scopes();
    test_route_scope();
    test_hints();
    return CHECK_DONE("test_errmap");
}
