/* api: Zoom endpoints, retries and the error table applied. */
#include "zoomfs/api.h"

#include "zoomfs/auth.h"
#include "zoomfs/config.h"
#include "zoomfs/errmap.h"
#include "zoomfs/http.h"
#include "zoomfs/log.h"
#include "zoomfs/stats.h"
#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE_SIZE 300
#define MAX_PAGES 10000

static bool is_idempotent(const char *method)
{
    return strcmp(method, "POST") != 0;
}

/* Exponential backoff with jitter, capped: 250 ms, 500 ms, 1 s, ... 8 s. */
static int64_t backoff_ms(int attempt)
{
    int64_t base = 250LL << (attempt < 6 ? attempt : 5);
    return base / 2 + (int64_t)(random() % (base / 2 + 1));
}

/* "Validation Failed. (duration: Invalid field.; topic: ...)" */
static void describe_zoom_error(const json_t *doc, char *out, size_t outlen)
{
    const char *msg = json_string_value(json_object_get(doc, "message"));
    int n = snprintf(out, outlen, "%s", msg ? msg : "no message");
    json_t *errors = json_object_get(doc, "errors");
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        if ((size_t)n >= outlen)
            break;
        n += snprintf(out + n, outlen - (size_t)n, "%s%s: %s", i ? "; " : " (",
                      json_string_value(json_object_get(e, "field")) ?: "?",
                      json_string_value(json_object_get(e, "message")) ?: "?");
        if (i + 1 == json_array_size(errors) && (size_t)n < outlen)
            n += snprintf(out + n, outlen - (size_t)n, ")");
    }
}

int api_call(const char *route, const char *method, const char *path, json_t *body, json_t **out)
{
    if (out)
        *out = NULL;
    char *url = auth_api_url(path);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    bool idempotent = is_idempotent(method);
    bool renewed = false;
    int64_t deadline = now_ms() + (int64_t)cfg.retry_budget * 1000;
    int rc = -EIO;
    char *bearer = NULL;

    for (int attempt = 0;; attempt++) {
        auth_free(bearer);
        bearer = NULL;
        rc = auth_header(&bearer);
        if (rc)
            break;
        HttpRequest req;
        http_request_init(&req, method, url);
        req.authorization = bearer;
        req.body = payload;
        req.body_len = payload ? strlen(payload) : 0;
        req.content_type = payload ? "application/json" : NULL;
        req.total_timeout = cfg.io_timeout * 4;
        HttpResponse resp;
        http_send(&req, &resp);
        stats_request(route, resp.neterr ? 0 : resp.status);

        bool last_try = attempt + 1 >= cfg.retry_max;
        int64_t wait = backoff_ms(attempt);
        if (resp.neterr) {
            ErrMapping m = errmap_net(resp.neterr);
            rc = -m.err;
            if (!idempotent && resp.request_sent) {
                stats_error("%s %s: %s after the request was sent; not retried, it may "
                            "have taken effect in Zoom",
                            method, path, resp.error);
                rc = -EIO;
            } else if (m.action == ERRACT_RETRY && !last_try && now_ms() + wait < deadline) {
                log_info("%s %s: %s; retrying in %lld ms", method, path, resp.error,
                         (long long)wait);
                http_response_free(&resp);
                stats_add(STAT_RETRIES, 1);
                sleep_ms(wait);
                continue;
            } else {
                stats_error("%s %s: %s (%s)", method, path, resp.error, errmap_errno_name(m.err));
            }
            http_response_free(&resp);
            break;
        }

        json_t *doc = resp.body.len ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
        int code = (int)json_integer_value(json_object_get(doc, "code"));
        const char *message = json_string_value(json_object_get(doc, "message"));
        ErrMapping m = errmap_http(resp.status, code, resp.ratelimit_type, message);
        if (m.action == ERRACT_OK) {
            if (resp.body.len && !doc && out) {
                stats_error("%s %s: HTTP %ld with a body that is not JSON", method, path,
                            resp.status);
                rc = -EIO;
            } else {
                rc = 0;
                if (out)
                    *out = json_incref(doc);
            }
        } else if (m.action == ERRACT_REFRESH_TOKEN && !renewed) {
            /* Zoom did not act on a request it refused for its token, so even
             * a POST may be sent again, once. */
            renewed = true;
            json_decref(doc);
            http_response_free(&resp);
            if (auth_reject(bearer) != 0) {
                stats_error("%s %s: access token refused (code %d) and cannot be renewed", method,
                            path, code);
                rc = -EACCES;
                break;
            }
            log_info("%s %s: token refused (code %d), renewing", method, path, code);
            continue;
        } else if (m.action == ERRACT_RATE_WAIT && !last_try) {
            int64_t ra =
                resp.retry_after ? errmap_retry_after_ms(resp.retry_after, time(NULL)) : -1;
            if (ra >= 0)
                wait = ra + (int64_t)(random() % 250);
            if (now_ms() + wait < deadline) {
                log_info("%s %s: rate limited; waiting %lld ms", method, path, (long long)wait);
                stats_add(STAT_RATE_WAITS, 1);
                json_decref(doc);
                http_response_free(&resp);
                sleep_ms(wait);
                continue;
            }
            rc = -EAGAIN;
        } else if (m.action == ERRACT_RETRY && idempotent && !last_try &&
                   now_ms() + wait < deadline) {
            log_info("%s %s: HTTP %ld; retrying in %lld ms", method, path, resp.status,
                     (long long)wait);
            stats_add(STAT_RETRIES, 1);
            json_decref(doc);
            http_response_free(&resp);
            sleep_ms(wait);
            continue;
        } else {
            rc = -(m.err ? m.err : EIO);
        }
        if (rc != 0) {
            char detail[768];
            describe_zoom_error(doc, detail, sizeof(detail));
            if (m.action == ERRACT_RETRY && !idempotent)
                stats_error("%s %s: HTTP %ld: %s; not retried, it may have taken effect in "
                            "Zoom",
                            method, path, resp.status, detail);
            else if (resp.status == 429 && resp.retry_after)
                stats_error("%s %s: HTTP 429 code %d: %s (retry after %s) (%s)", method, path, code,
                            detail, resp.retry_after, errmap_errno_name(-rc));
            else
                stats_error("%s %s: HTTP %ld code %d: %s (%s)", method, path, resp.status, code,
                            detail, errmap_errno_name(-rc));
        }
        json_decref(doc);
        http_response_free(&resp);
        break;
    }
    auth_free(bearer);
    free(payload);
    free(url);
    return rc;
}

int api_list_all(const char *route, const char *path, const char *array_key, json_t **items)
{
    *items = json_array();
    char *token = NULL;
    int rc = 0;
    for (int page = 0; page < MAX_PAGES; page++) {
        const char *sep = strchr(path, '?') ? "&" : "?";
        char *page_path;
        if (token) {
            char *enc = urlenc_component(token);
            page_path = xasprintf("%s%spage_size=%d&next_page_token=%s", path, sep, PAGE_SIZE, enc);
            free(enc);
        } else {
            page_path = xasprintf("%s%spage_size=%d", path, sep, PAGE_SIZE);
        }
        json_t *doc = NULL;
        rc = api_call(route, "GET", page_path, NULL, &doc);
        free(page_path);
        if (rc)
            break;
        json_t *list = json_object_get(doc, array_key);
        if (list && !json_is_array(list)) {
            stats_error("GET %s: \"%s\" is not a list", path, array_key);
            json_decref(doc);
            rc = -EIO;
            break;
        }
        json_array_extend(*items, list ? list : json_array());
        const char *next = json_string_value(json_object_get(doc, "next_page_token"));
        free(token);
        token = next && *next ? xstrdup(next) : NULL;
        json_decref(doc);
        if (!token)
            break;
    }
    free(token);
    if (rc) {
        json_decref(*items);
        *items = NULL;
    }
    return rc;
}

const char *api_user_key(const json_t *user)
{
    const char *id = json_string_value(json_object_get(user, "id"));
    return id && *id ? id : json_string_value(json_object_get(user, "email"));
}

int api_list_users(json_t **users)
{
    /* GET /users returns one status at a time; a user of any status is
     * still a user an admin wants to see. */
    static const char *const statuses[] = {"active", "inactive", "pending"};
    *users = json_array();
    for (size_t i = 0; i < ARRAY_SIZE(statuses); i++) {
        char *path = xasprintf("/users?status=%s", statuses[i]);
        json_t *part = NULL;
        int rc = api_list_all("GET /users", path, "users", &part);
        free(path);
        if (rc) {
            json_decref(*users);
            *users = NULL;
            return rc;
        }
        json_array_extend(*users, part);
        json_decref(part);
    }
    return 0;
}

char *api_object_path(const char *fmt, const char *id)
{
    char *enc = urlenc_uuid_segment(id);
    char *path = xasprintf(fmt, enc);
    free(enc);
    return path;
}

/* GET of one object whose id goes in the path. */
static int get_object(const char *route, const char *fmt, const char *id, json_t **out)
{
    char *path = api_object_path(fmt, id);
    int rc = api_call(route, "GET", path, NULL, out);
    free(path);
    if (rc == 0 && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        stats_error("%s: answer is not a JSON object", route);
        rc = -EIO;
    }
    return rc;
}

int api_get_user(const char *user_key, json_t **user)
{
    return get_object("GET /users/{userId}", "/users/%s", user_key, user);
}

int api_get_settings(const char *user_key, json_t **settings)
{
    return get_object("GET /users/{userId}/settings", "/users/%s/settings", user_key, settings);
}

int api_get_meeting(const char *meeting_id, json_t **meeting)
{
    return get_object("GET /meetings/{meetingId}", "/meetings/%s", meeting_id, meeting);
}

int api_get_webinar(const char *webinar_id, json_t **webinar)
{
    return get_object("GET /webinars/{webinarId}", "/webinars/%s", webinar_id, webinar);
}

static int list_of_user(const char *route, const char *fmt, const char *user_key, const char *key,
                        json_t **out)
{
    char *enc = urlenc_component(user_key);
    char *path = xasprintf(fmt, enc);
    int rc = api_list_all(route, path, key, out);
    free(path);
    free(enc);
    return rc;
}

int api_list_meetings(const char *user_key, json_t **meetings)
{
    return list_of_user("GET /users/{userId}/meetings", "/users/%s/meetings", user_key, "meetings",
                        meetings);
}

int api_list_webinars(const char *user_key, json_t **webinars)
{
    return list_of_user("GET /users/{userId}/webinars", "/users/%s/webinars", user_key, "webinars",
                        webinars);
}

int api_list_recordings(const char *user_key, const char *from, const char *to, json_t **instances)
{
    char *enc = urlenc_component(user_key);
    char *path = xasprintf("/users/%s/recordings?from=%s&to=%s", enc, from, to);
    int rc = api_list_all("GET /users/{userId}/recordings", path, "meetings", instances);
    free(path);
    free(enc);
    return rc;
}
