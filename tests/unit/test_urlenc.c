/* Unit tests for urlenc: percent-encoding, Zoom's UUID double encoding and
 * the http-only-to-loopback rule. */
#include "check.h"
#include "zoomfs/endpoint.h"
#include "zoomfs/urlenc.h"

#include <stdlib.h>

static void check_encoded(const char *in, const char *expected, char *(*fn)(const char *),
                          const char *file, int line)
{
    char *got = fn(in);
    int ok = strcmp(got, expected) == 0;
    check_result(ok, file, line, in);
    if (!ok)
        fprintf(stderr, "    got \"%s\", expected \"%s\"\n", got, expected);
    free(got);
}

#define CHECK_COMPONENT(in, out) check_encoded(in, out, urlenc_component, __FILE__, __LINE__)
#define CHECK_UUID(in, out)      check_encoded(in, out, urlenc_uuid_segment, __FILE__, __LINE__)

static void test_component(void)
{
    CHECK_COMPONENT("", "");
    CHECK_COMPONENT("AZaz09-._~", "AZaz09-._~");
    CHECK_COMPONENT("a b/c?d=e&f", "a%20b%2Fc%3Fd%3De%26f");
    CHECK_COMPONENT("user+tag@example.com", "user%2Btag%40example.com");
    CHECK_COMPONENT("%", "%25");
    CHECK_COMPONENT("caf\xc3\xa9", "caf%C3%A9");
    CHECK_COMPONENT("\x7f\x01", "%7F%01");
}

static void test_uuid(void)
{
    /* ordinary ids and uuids: once */
    CHECK_UUID("85746065432", "85746065432");
    CHECK_UUID("aDYlohsHRtCd4ii1uC2+hA==", "aDYlohsHRtCd4ii1uC2%2BhA%3D%3D");
    CHECK_UUID("L0AGOEPVR9m5WSOOs/d+FQ==", "L0AGOEPVR9m5WSOOs%2Fd%2BFQ%3D%3D");
    /* leading '/' or "//": twice */
    CHECK_UUID("/abc==", "%252Fabc%253D%253D");
    CHECK_UUID("ab//c", "ab%252F%252Fc");
    CHECK_UUID("/ajXp112QmuoKj4854875==", "%252FajXp112QmuoKj4854875%253D%253D");
}

static void test_scheme(void)
{
    CHECK(urlenc_scheme_allowed("https://api.zoom.us/v2"));
    CHECK(urlenc_scheme_allowed("HTTPS://zoom.us/oauth/token"));
    CHECK(urlenc_scheme_allowed("http://127.0.0.1:8080/v2"));
    CHECK(urlenc_scheme_allowed("http://127.5.6.7/"));
    CHECK(urlenc_scheme_allowed("http://localhost:9000"));
    CHECK(urlenc_scheme_allowed("http://LocalHost/v2"));
    CHECK(urlenc_scheme_allowed("http://[::1]:8080/v2"));
    CHECK(urlenc_scheme_allowed("http://[::1]"));
    CHECK(urlenc_scheme_allowed("HTTP://127.0.0.1?x=1"));

    CHECK(!urlenc_scheme_allowed(NULL));
    CHECK(!urlenc_scheme_allowed(""));
    CHECK(!urlenc_scheme_allowed("https://"));
    CHECK(!urlenc_scheme_allowed("ftp://127.0.0.1/"));
    CHECK(!urlenc_scheme_allowed("http://example.com/"));
    CHECK(!urlenc_scheme_allowed("http://127.0.0.1.evil.com/"));
    CHECK(!urlenc_scheme_allowed("http://localhost.evil.com/"));
    CHECK(!urlenc_scheme_allowed("http://user@evil/"));
    CHECK(!urlenc_scheme_allowed("http://127.0.0.1@evil.com/"));
    CHECK(!urlenc_scheme_allowed("http://localhost:80@evil.com/"));
    /* userinfo is refused even towards loopback: no credentials in URLs */
    CHECK(!urlenc_scheme_allowed("http://evil.com@localhost/"));
    CHECK(!urlenc_scheme_allowed("http://128.0.0.1/"));
    CHECK(!urlenc_scheme_allowed("http://127.1/"));
    CHECK(!urlenc_scheme_allowed("http://[::2]/"));
    CHECK(!urlenc_scheme_allowed("http://[::1/"));
    CHECK(!urlenc_scheme_allowed("http://[::1]evil.com/"));
    CHECK(!urlenc_scheme_allowed("http://localhost:80x/"));
    CHECK(!urlenc_scheme_allowed("http:///v2"));
    CHECK(!urlenc_scheme_allowed("httpx://localhost/"));
    CHECK(!urlenc_scheme_allowed("localhost:8080"));
}

static void test_token_allowed(void)
{
    static const char *const trusted[] = {"https://api.example.org", NULL};
    /* Zoom's hosts, any subdomain, and the api_url in use */
    CHECK(urlenc_token_allowed("https://zoom.us/rec/download/x", trusted));
    CHECK(urlenc_token_allowed("https://us06web.ZOOM.us/rec/download/x", trusted));
    CHECK(urlenc_token_allowed("https://acme.zoomgov.com:443/rec/download/x", trusted));
    CHECK(urlenc_token_allowed("https://api.example.org/rec/x", trusted));
    CHECK(urlenc_token_allowed("http://127.0.0.1:8080/rec/download/x", NULL));
    /* anything else: another https host, look-alikes, plain http, credentials */
    CHECK(!urlenc_token_allowed("https://files.example.net/rec/download/x", trusted));
    CHECK(!urlenc_token_allowed("https://evilzoom.us/x", trusted));
    CHECK(!urlenc_token_allowed("https://zoom.us.evil.com/x", trusted));
    CHECK(!urlenc_token_allowed("https://zoom.us@evil.com/x", trusted));
    CHECK(!urlenc_token_allowed("https://user:pass@zoom.us/x", trusted));
    CHECK(!urlenc_token_allowed("http://203.0.113.7/rec/download/x", trusted));
    CHECK(!urlenc_token_allowed("http://user:pass@127.0.0.1:9/rec/download/x", trusted));
    CHECK(!urlenc_token_allowed("file:///etc/passwd", trusted));
    CHECK(!urlenc_token_allowed("ftp://zoom.us/x", trusted));
    /* where a redirect may lead (no token goes there) */
    CHECK(urlenc_scheme_allowed("https://ssrweb.zoom.us/cmr/x?Signature=1"));
    CHECK(!urlenc_scheme_allowed("https://u:p@cdn.example/x"));
}

/* endpoint_path: placeholders, UUIDs encoded twice when Zoom wants, a query
 * after the template's own. */
static void test_endpoint_path(void)
{
    Ids ids = {.user = "a@b.c", .object = "/ab==", .file = "f 1", .sub = "17"};
    char *p = endpoint_path("GET /meetings/{meetingId}/recordings/{recordingId}", &ids, NULL);
    CHECK_EQ_STR(p, "/meetings/%252Fab%253D%253D/recordings/f%201");
    free(p);
    p = endpoint_path("GET /users/{userId}/recordings", &ids, "from=2025-03-01&to=2025-03-31");
    CHECK_EQ_STR(p, "/users/a%40b.c/recordings?from=2025-03-01&to=2025-03-31");
    free(p);
    Ids meeting = {.object = "81234567890", .sub = "1741209600000"};
    p = endpoint_path("DELETE /meetings/{meetingId}?occurrence_id={occurrenceId}", &meeting,
                      "schedule_for_reminder=false");
    CHECK_EQ_STR(p,
                 "/meetings/81234567890?occurrence_id=1741209600000&schedule_for_reminder=false");
    free(p);
    Ids none = {0};
    CHECK(endpoint_path("GET /users/{userId}", &none, NULL) == NULL);
}

int main(void)
{
    test_endpoint_path();
    test_component();
    test_uuid();
    test_scheme();
    test_token_allowed();
    return CHECK_DONE("test_urlenc");
}
