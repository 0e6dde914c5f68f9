/* Unit tests of the one request policy (request.c) with the real auth and
 * api modules over a scripted transport: retries and their bounds,
 * Retry-After, renewing a refused token once, POST safety, a DELETE whose
 * answer was lost, daily limits and the operation deadline. */
#include "check.h"

#include "zoomfs/api.h"
#include "zoomfs/auth.h"
#include "zoomfs/op.h"
#include "zoomfs/request.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One scripted answer of the API (the token endpoint answers by itself). */
typedef struct {
    long status;
    NetError neterr;
    bool sent; /* with neterr: whether the request went out first */
    const char *body;
    const char *retry_after;
    const char *ratelimit_type;
    int64_t limit, remaining; /* X-RateLimit-Limit and -Remaining, 0: absent */
} Answer;

static Answer script[16];
static int nscript, next_answer;
static int api_sends, token_sends;
static char last_auth[64];
static size_t last_auth_len; /* the whole Authorization value's length */
static size_t token_padding; /* characters added to the tokens minted */
static char last_method[8];

static void set_script(const Answer *a, int n)
{
    if (n > 0)
        memcpy(script, a, (size_t)n * sizeof(*a));
    nscript = n;
    next_answer = 0;
    api_sends = 0;
}

static void fake_send(const HttpRequest *req, HttpResponse *resp)
{
    memset(resp, 0, sizeof(*resp));
    strbuf_init(&resp->body);
    resp->content_length = -1;
    if (strstr(req->url, "/oauth/token")) {
        token_sends++;
        resp->status = 200;
        resp->request_sent = true;
        strbuf_appendf(&resp->body, "{\"access_token\":\"tok%d", token_sends);
        for (size_t i = 0; i < token_padding; i++)
            strbuf_append(&resp->body, "x", 1);
        strbuf_appendf(&resp->body, "\",\"expires_in\":3600}");
        return;
    }
    api_sends++;
    snprintf(last_auth, sizeof(last_auth), "%s", req->authorization ? req->authorization : "");
    last_auth_len = req->authorization ? strlen(req->authorization) : 0;
    snprintf(last_method, sizeof(last_method), "%s", req->method);
    Answer a = next_answer < nscript ? script[next_answer++] : (Answer){.status = 200};
    resp->status = a.neterr ? 0 : a.status;
    resp->neterr = a.neterr;
    resp->request_sent = a.neterr ? a.sent : true;
    if (a.neterr)
        resp->error = xstrdup("scripted transport failure");
    if (a.body)
        strbuf_append(&resp->body, a.body, strlen(a.body));
    resp->retry_after = a.retry_after ? xstrdup(a.retry_after) : NULL;
    resp->ratelimit_type = a.ratelimit_type ? xstrdup(a.ratelimit_type) : NULL;
    resp->ratelimit_limit = a.limit ? a.limit : -1;
    resp->ratelimit_remaining = a.limit ? a.remaining : -1;
}

static const RequestLimits limits = {.max_attempts = 5, .budget_s = 120, .io_timeout_s = 30};

static int64_t timed_calls(int n)
{
    int64_t t0 = now_ms();
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), 0);
    return now_ms() - t0;
}

/* A per-second 429 paces every call after it at 3/4 of the rate that was
 * getting through; a daily budget running low makes the account busy. */
static void test_pacing_after_a_per_second_429(void)
{
    request_init(&limits); /* unpaced */
    set_script(NULL, 0);
    CHECK(timed_calls(8) < 500);
    Answer limited[] = {{.status = 429,
                         .body = "{\"code\":429,\"message\":\"per-second\"}",
                         .retry_after = "0",
                         .ratelimit_type = "QPS"}};
    set_script(limited, 1);
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), 0);
    /* 9 went in the last second: 6 a second from now on */
    CHECK(timed_calls(10) >= 800);
    CHECK_EQ_INT(api_sends, 12);
    request_init(&limits);
    CHECK(timed_calls(8) < 500);

    CHECK(!request_busy());
    Answer low[] = {{.status = 200, .limit = 30000, .remaining = 2000},  /* 6.7% left */
                    {.status = 200, .limit = 30000, .remaining = 1400}}; /* 4.7% */
    set_script(low, 2);
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), 0);
    CHECK(!request_busy());
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), 0);
    CHECK(request_busy());
    request_init(&limits);
    CHECK(!request_busy());
}

static void test_retries_then_success(void)
{
    Answer a[] = {{.status = 503}, {.status = 502}, {.status = 200, .body = "{\"ok\":1}"}};
    set_script(a, 3);
    int64_t retries = stats_get(STAT_RETRIES);
    json_t *out = NULL;
    CHECK_EQ_INT(api_call("GET /users/{userId}", "/users/u1", NULL, &out), 0);
    CHECK_EQ_INT(api_sends, 3);
    CHECK_EQ_INT(stats_get(STAT_RETRIES) - retries, 2);
    CHECK(json_integer_value(json_object_get(out, "ok")) == 1);
    json_decref(out);
    /* bounded: five failures and it gives up with EIO */
    Answer busy[] = {{.status = 503}, {.status = 503}, {.status = 503},
                     {.status = 503}, {.status = 503}, {.status = 200}};
    set_script(busy, 6);
    CHECK_EQ_INT(api_call("GET /users/{userId}", "/users/u1", NULL, NULL), -EIO);
    CHECK_EQ_INT(api_sends, 5);
}

static void test_retry_after_is_waited_out(void)
{
    Answer a[] = {{.status = 429,
                   .body = "{\"code\":429,\"message\":\"per-second\"}",
                   .retry_after = "1",
                   .ratelimit_type = "QPS"},
                  {.status = 200}};
    set_script(a, 2);
    int64_t t0 = now_ms();
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), 0);
    int64_t waited = now_ms() - t0;
    CHECK_EQ_INT(api_sends, 2);
    CHECK(waited >= 1000);
    CHECK(waited < 5000);
    /* a daily limit is not waited out: EAGAIN at once */
    Answer daily[] = {{.status = 429,
                       .body = "{\"code\":429,\"message\":\"daily\"}",
                       .retry_after = "2099-01-01T00:00:00Z",
                       .ratelimit_type = "Daily-limit"}};
    set_script(daily, 1);
    t0 = now_ms();
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), -EAGAIN);
    CHECK_EQ_INT(api_sends, 1);
    CHECK(now_ms() - t0 < 1000);
}

static void test_token_renewed_once_on_401(void)
{
    Answer a[] = {
        {.status = 401, .body = "{\"code\":124,\"message\":\"Access token is expired.\"}"},
        {.status = 200}};
    set_script(a, 2);
    int tokens = token_sends;
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), 0);
    CHECK_EQ_INT(api_sends, 2);
    CHECK_EQ_INT(token_sends - tokens, 1);
    char want[32];
    snprintf(want, sizeof(want), "Bearer tok%d", token_sends);
    CHECK_EQ_STR(last_auth, want); /* the resend carries the new token */
    /* refused again with the new one: EACCES, no loop */
    Answer twice[] = {
        {.status = 401, .body = "{\"code\":124,\"message\":\"Invalid access token.\"}"},
        {.status = 401, .body = "{\"code\":124,\"message\":\"Invalid access token.\"}"},
        {.status = 200}};
    set_script(twice, 3);
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), -EACCES);
    CHECK_EQ_INT(api_sends, 2);
    /* a missing scope is 400/4711: not a token problem, no renewal */
    Answer scope[] = {{.status = 400,
                       .body = "{\"code\":4711,\"message\":\"Invalid access token, does not "
                               "contain scopes:[user:read:admin].\"}"}};
    set_script(scope, 1);
    tokens = token_sends;
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), -EACCES);
    CHECK_EQ_INT(token_sends, tokens);
}

static void test_post_is_never_sent_twice(void)
{
    json_t *body = json_pack("{s:s}", "topic", "T");
    /* a 5xx: Zoom may have acted */
    Answer a[] = {{.status = 503}, {.status = 201, .body = "{\"id\":1}"}};
    set_script(a, 2);
    CHECK_EQ_INT(api_call("POST /users/{userId}/meetings", "/users/u1/meetings", body, NULL), -EIO);
    CHECK_EQ_INT(api_sends, 1);
    /* cut after the request went out: the same */
    Answer cut[] = {{.neterr = NETERR_RESET, .sent = true}, {.status = 201}};
    set_script(cut, 2);
    CHECK_EQ_INT(api_call("POST /users/{userId}/meetings", "/users/u1/meetings", body, NULL), -EIO);
    CHECK_EQ_INT(api_sends, 1);
    /* a connection that never opened sent nothing: that one may go again */
    Answer refused[] = {{.neterr = NETERR_CONNECT, .sent = false}, {.status = 201}};
    set_script(refused, 2);
    CHECK_EQ_INT(api_call("POST /users/{userId}/meetings", "/users/u1/meetings", body, NULL), 0);
    CHECK_EQ_INT(api_sends, 2);
    /* a 429 says Zoom did nothing: waited out and sent again */
    Answer limited[] = {{.status = 429, .body = "{\"code\":429}", .retry_after = "0"},
                        {.status = 201}};
    set_script(limited, 2);
    CHECK_EQ_INT(api_call("POST /users/{userId}/meetings", "/users/u1/meetings", body, NULL), 0);
    CHECK_EQ_INT(api_sends, 2);
    json_decref(body);
}

static void test_delete_whose_answer_was_lost(void)
{
    /* the first DELETE did it, its answer was lost; the retry finds nothing */
    Answer a[] = {
        {.neterr = NETERR_RESET, .sent = true},
        {.status = 404, .body = "{\"code\":3001,\"message\":\"Meeting 1 is not found\"}"}};
    set_script(a, 2);
    CHECK_EQ_INT(api_call("DELETE /meetings/{meetingId}", "/meetings/1", NULL, NULL), 0);
    CHECK_EQ_INT(api_sends, 2);
    CHECK_EQ_STR(last_method, "DELETE");
    /* a plain 404 is still ENOENT */
    Answer b[] = {
        {.status = 404, .body = "{\"code\":3001,\"message\":\"Meeting 1 is not found\"}"}};
    set_script(b, 1);
    CHECK_EQ_INT(api_call("DELETE /meetings/{meetingId}", "/meetings/1", NULL, NULL), -ENOENT);
}

static void test_renewal_margin(void)
{
    /* a minute ahead, as Zoom's SDK; a quarter of a short life */
    CHECK_EQ_INT(auth_renew_margin_ms(3600000), 60000);
    CHECK_EQ_INT(auth_renew_margin_ms(62000), 15500);
    CHECK_EQ_INT(auth_renew_margin_ms(30000), 7500);
    CHECK_EQ_INT(auth_renew_margin_ms(0), 0);
}

/* A token of any length goes out whole (Zoom's are JWTs of 600 to 2,000+
 * characters; a fixed 4 KiB buffer once cut longer ones). */
static void test_a_long_token_is_sent_whole(void)
{
    token_padding = 20000;
    Answer refused[] = {
        {.status = 401, .body = "{\"code\":124,\"message\":\"Access token is expired.\"}"},
        {.status = 200}};
    set_script(refused, 2);
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), 0);
    char head[32];
    snprintf(head, sizeof(head), "Bearer tok%d", token_sends);
    CHECK(strncmp(last_auth, head, strlen(head)) == 0);
    CHECK_EQ_INT(last_auth_len, strlen(head) + 20000);
    token_padding = 0;
}

static void test_operation_deadline(void)
{
    op_init(1);
    Answer busy[] = {{.status = 503, .retry_after = "0"},
                     {.status = 503, .retry_after = "0"},
                     {.status = 503, .retry_after = "3"},
                     {.status = 503}};
    set_script(busy, 4);
    op_begin();
    int64_t t0 = now_ms();
    CHECK_EQ_INT(api_call("GET /users", "/users", NULL, NULL), -ETIMEDOUT);
    CHECK(now_ms() - t0 < 2500);
    op_end();
    op_init(0);
}

int main(void)
{
    request_set_transport(fake_send);
    request_init(&limits);
    AuthConfig ac = {.oauth_url = "https://zoom.example",
                     .api_url = "https://api.zoom.example",
                     .account_id = "a",
                     .client_id = "c",
                     .client_secret = "s"};
    char *err = NULL;
    CHECK_EQ_INT(auth_init(&ac, &err), 0);
    free(err);
    CHECK_EQ_INT(token_sends, 1);
    test_retries_then_success();
    test_retry_after_is_waited_out();
    test_pacing_after_a_per_second_429();
    test_token_renewed_once_on_401();
    test_post_is_never_sent_twice();
    test_delete_whose_answer_was_lost();
    test_a_long_token_is_sent_whole();
    test_operation_deadline();
    test_renewal_margin();
    auth_cleanup();
    return CHECK_DONE("test_request");
}
