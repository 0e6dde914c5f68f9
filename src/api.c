/* api: the REST half of the production client — one call through the
 * request policy with Zoom's error table as the judge, and listings through
 * every page with a guard against pages that never end. */
#include "zoomfs/api.h"

#include "zoomfs/auth.h"
#include "zoomfs/cdn.h"
#include "zoomfs/client.h"
#include "zoomfs/endpoint.h"
#include "zoomfs/errmap.h"
#include "zoomfs/http.h"
#include "zoomfs/jsonfile.h"
#include "zoomfs/log.h"
#include "zoomfs/request.h"
#include "zoomfs/stats.h"
#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE 300
/* A listing is never cut: past this many pages it is an error. 400 pages
 * are 120,000 entries, more than any user's month or an account's users. */
#define MAX_PAGES 400
/* ... nor is one whose pages add up to more JSON than this. */
#define MAX_LISTING_BYTES ((size_t)128 << 20)

static long io_timeout_s = 30;

void api_init(int io_timeout)
{
    io_timeout_s = io_timeout;
}

static ErrMapping judge_api(Call *c, const HttpResponse *resp)
{
    (void)c;
    int code = 0;
    char *msg = request_zoom_message(resp, &code);
    ErrMapping m = errmap_http(resp->status, code, resp->ratelimit_type, msg);
    free(msg);
    return m;
}

/* api_call that also tells how many bytes the answer had. */
static int call(const char *route, const char *path, json_t *body, json_t **out, size_t *bytes)
{
    if (out)
        *out = NULL;
    char method[8];
    endpoint_method(route, method);
    char *url = auth_api_url(path);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    char *what = xasprintf("%s %s", method, path);
    Call c = {.route = route,
              .what = what,
              .bearer = true,
              .idempotent = strcmp(method, "POST") != 0,
              .gone_is_done = strcmp(method, "DELETE") == 0,
              .judge = judge_api};
    http_request_init(&c.req, method, url);
    c.req.body = payload;
    c.req.body_len = payload ? strlen(payload) : 0;
    c.req.content_type = payload ? "application/json" : NULL;
    c.req.total_timeout = io_timeout_s * 4;
    HttpResponse resp;
    int rc = request_run(&c, &resp);
    if (bytes)
        *bytes = rc == 0 ? resp.body.len : 0;
    if (rc == 0 && resp.body.len && out) {
        json_error_t e;
        *out = jsonfile_load_tolerant(resp.body.data, resp.body.len, &e);
        if (!*out) {
            stats_error("%s: HTTP %ld with a body that is not JSON (%s)", what, resp.status,
                        e.text);
            rc = -EIO;
        }
    }
    if (rc == 0)
        http_response_free(&resp);
    free(what);
    free(payload);
    free(url);
    return rc;
}

int api_call(const char *route, const char *path, json_t *body, json_t **out)
{
    return call(route, path, body, out, NULL);
}

static int api_get(const char *route, const char *path, json_t **out)
{
    int rc = api_call(route, path, NULL, out);
    if (rc == 0 && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        stats_error("GET %s: the answer is not a JSON object", path);
        rc = -EIO;
    }
    return rc;
}

static int api_send(const char *route, const char *path, json_t *body, json_t **out)
{
    return api_call(route, path, body, out);
}

/* The pages a listing may take: what total_records announces, and a little
 * more for entries added while paging. */
static int pages_allowed(const json_t *first_page)
{
    json_t *total = json_object_get(first_page, "total_records");
    if (!json_is_integer(total) || json_integer_value(total) < 0)
        return MAX_PAGES;
    json_int_t pages = json_integer_value(total) / PAGE_SIZE + 2;
    return pages < MAX_PAGES ? (int)pages : MAX_PAGES;
}

static bool seen_before(char **seen, int n, const char *token)
{
    for (int i = 0; i < n; i++)
        if (strcmp(seen[i], token) == 0)
            return true;
    return false;
}

/* One page of a listing (after the page whose next_page_token is token, or
 * the first): its document and its list. Returns 0 or -errno. */
static int get_page(const char *route, const char *path, const char *token, const char *key,
                    json_t **doc, size_t *bytes)
{
    const char *sep = strchr(path, '?') ? "&" : "?";
    char *enc = token ? urlenc_component(token) : NULL;
    char *page_path =
        enc ? xasprintf("%s%spage_size=%d&next_page_token=%s", path, sep, PAGE_SIZE, enc)
            : xasprintf("%s%spage_size=%d", path, sep, PAGE_SIZE);
    int rc = call(route, page_path, NULL, doc, bytes);
    free(page_path);
    free(enc);
    /* Only an empty array is an empty listing: an empty body, {} or a list
     * under another name must never empty a folder. */
    if (rc == 0 && !json_is_array(json_object_get(*doc, key))) {
        stats_error("GET %s: the answer has no \"%s\" list; the listing is not trusted", path, key);
        json_decref(*doc);
        *doc = NULL;
        rc = -EIO;
    }
    return rc;
}

/* Why the next page must not be asked for, or NULL. */
static const char *runaway(int page, int allowed, size_t bytes, char **seen, int nseen,
                           const char *next)
{
    if (page + 1 >= allowed)
        return "more pages than the listing announced";
    if (bytes > MAX_LISTING_BYTES)
        return "a listing larger than 128 MiB";
    return seen_before(seen, nseen, next) ? "a page token that came before" : NULL;
}

static int api_list(const char *route, const char *path, const char *array_key,
                    const char *const *keep, json_t **items)
{
    *items = json_array();
    char **seen = xcalloc(MAX_PAGES, sizeof(*seen));
    int nseen = 0, allowed = MAX_PAGES, rc = 0;
    size_t total = 0;
    for (int page = 0; rc == 0; page++) {
        json_t *doc = NULL;
        size_t bytes = 0;
        if ((rc = get_page(route, path, nseen ? seen[nseen - 1] : NULL, array_key, &doc, &bytes)))
            break;
        total += bytes;
        if (page == 0)
            allowed = pages_allowed(doc);
        json_t *page_items = json_object_get(doc, array_key);
        size_t i;
        json_t *item;
        json_array_foreach(page_items, i, item)
        {
            jsonfile_keep(item, keep);
        }
        json_array_extend(*items, page_items);
        const char *next = json_string_value(json_object_get(doc, "next_page_token"));
        bool more = next && *next;
        const char *why = more ? runaway(page, allowed, total, seen, nseen, next) : NULL;
        if (why) {
            stats_error("GET %s: %s after %d pages; stopped, the listing is not trusted", path, why,
                        page + 1);
            rc = -EIO;
        } else if (more) {
            seen[nseen++] = xstrdup(next);
        }
        json_decref(doc);
        if (!more)
            break;
    }
    for (int i = 0; i < nseen; i++)
        free(seen[i]);
    free(seen);
    if (rc) {
        json_decref(*items);
        *items = NULL;
    }
    return rc;
}

static const ZoomClient production = {
    .get = api_get,
    .list = api_list,
    .send = api_send,
    .download = cdn_download,
    .busy = request_busy,
};

const ZoomClient *zoom_client(void)
{
    return &production;
}
