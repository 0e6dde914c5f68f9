/* auth: token fetch, renewal ahead of expiry, single flight, api_url. */
#include "zoomfs/auth.h"

#include "zoomfs/errmap.h"
#include "zoomfs/http.h"
#include "zoomfs/log.h"
#include "zoomfs/request.h"
#include "zoomfs/stats.h"
#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RENEW_MARGIN_MS 60000
#define TOKEN_ATTEMPTS  4

static AuthConfig conf;
static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t auth_cond = PTHREAD_COND_INITIALIZER;
static char *token;      /* "Bearer …" */
static int64_t renew_at; /* now_ms() clock: renew from then on */
static bool renewing;
static bool is_static;
static char *api_base;

int64_t auth_renew_margin_ms(int64_t lifetime_ms)
{
    /* A token that lives a minute or less would otherwise be renewed before
     * every request. */
    /* A token that lives a minute or less would otherwise be renewed before
     * every request. */
    int64_t quarter = lifetime_ms > 0 ? lifetime_ms / 4 : 0;
    return quarter < RENEW_MARGIN_MS ? quarter : RENEW_MARGIN_MS;
}

static void set_api_base(const char *url)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    free(api_base);
    api_base = xasprintf("%.*s/v2", (int)n, url);
}

char *auth_api_url(const char *path)
{
    lock(&auth_lock);
    char *url = xasprintf("%s%s", api_base, path);
    unlock(&auth_lock);
    return url;
}

static char *basic_credentials(void)
{
    char *plain = xasprintf("%s:%s", conf.client_id, conf.client_secret);
    size_t n = strlen(plain);
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (unsigned char *)plain, (int)n);
    explicit_bzero(plain, n);
    free(plain);
    char *header = xasprintf("Basic %s", out);
    explicit_bzero(out, strlen(out));
    free(out);
    return header;
}

static ErrMapping judge_token(Call *c, const HttpResponse *resp)
{
    ErrMapping m = errmap_token(resp->status);
    if (m.action != ERRACT_FAIL)
        return m;
    /* Zoom's token errors say {"reason": …, "error": …}. */
    json_t *doc = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
    const char *reason = json_string_value(json_object_get(doc, "reason"));
    const char *code = json_string_value(json_object_get(doc, "error"));
    free(c->reason);
    c->reason = xasprintf("authentication failed (HTTP %ld): %s%s%s%s", resp->status,
                          reason ? reason : "no reason given", code ? " (" : "", code ? code : "",
                          code ? ")" : "");
    json_decref(doc);
    return m;
}

/* Takes a successful token response. Returns 0 or -EIO with *err set. */
static int take_token(const HttpResponse *resp, const char *url, char **err)
{
    json_t *doc = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
    const char *access = json_string_value(json_object_get(doc, "access_token"));
    json_t *expires = json_object_get(doc, "expires_in");
    if (!access || !*access || !json_is_integer(expires) || json_integer_value(expires) <= 0) {
        *err = xasprintf("token response from %s lacks access_token or expires_in", url);
        json_decref(doc);
        return -EIO;
    }
    const char *region = json_string_value(json_object_get(doc, "api_url"));
    int64_t lifetime = json_integer_value(expires) * 1000;
    lock(&auth_lock);
    auth_free(token);
    token = xasprintf("Bearer %s", access);
    renew_at = now_ms() + lifetime - auth_renew_margin_ms(lifetime);
    if (region && *region && !conf.api_url_explicit) {
        if (urlenc_scheme_allowed(region))
            set_api_base(region);
        else
            log_warn("ignoring api_url from the token response: not https");
    }
    unlock(&auth_lock);
    stats_add(STAT_TOKEN_RENEWALS, 1);
    log_info("access token obtained, valid for %lld s", (long long)(lifetime / 1000));
    json_decref(doc);
    return 0;
}

/* One token request, with the usual retries. Returns 0 or -errno with a
 * malloc'd reason in *err. */
static int fetch_token(char **err)
{
    char *url = xasprintf("%s/oauth/token", conf.oauth_url);
    char *account = urlenc_component(conf.account_id);
    char *form = xasprintf("grant_type=account_credentials&account_id=%s", account);
    char *basic = basic_credentials();
    Call c = {.route = "POST /oauth/token",
              .what = "POST /oauth/token",
              .idempotent = true, /* another token is harmless; Zoom acted on nothing */
              .max_attempts = TOKEN_ATTEMPTS,
              .quiet = true,
              .judge = judge_token};
    http_request_init(&c.req, "POST", url);
    c.req.body = form;
    c.req.body_len = strlen(form);
    c.req.content_type = "application/x-www-form-urlencoded";
    c.req.authorization = basic;
    c.req.total_timeout = 60;
    HttpResponse resp;
    int rc = request_run(&c, &resp);
    if (rc == 0) {
        rc = take_token(&resp, url, err);
        http_response_free(&resp);
    } else if (c.reason && strncmp(c.reason, "authentication failed", 21) == 0) {
        *err = c.reason; /* Zoom's own refusal says it all */
    } else {
        *err = xasprintf("token request to %s failed: %s", url, c.reason ? c.reason : "?");
        free(c.reason);
    }
    auth_free(basic);
    free(form);
    free(account);
    free(url);
    return rc;
}

static const RequestBearer bearer = {
    .header = auth_header, .reject = auth_reject, .release = auth_free};

int auth_init(const AuthConfig *cfg, char **err)
{
    *err = NULL;
    conf = *cfg;
    request_set_bearer(&bearer);
    set_api_base(conf.api_url);
    bool s2s = conf.account_id && conf.client_id && conf.client_secret;
    if (!s2s && conf.static_token) {
        token = xasprintf("Bearer %s", conf.static_token);
        renew_at = INT64_MAX;
        is_static = true;
        return 0;
    }
    return fetch_token(err);
}

void auth_cleanup(void)
{
    auth_free(token);
    token = NULL;
    free(api_base);
    api_base = NULL;
}

void auth_free(char *header)
{
    if (header) {
        explicit_bzero(header, strlen(header));
        free(header);
    }
}

int auth_header(char **out)
{
    *out = NULL;
    lock(&auth_lock);
    for (;;) {
        if (token && (is_static || now_ms() < renew_at)) {
            *out = xstrdup(token);
            unlock(&auth_lock);
            return 0;
        }
        if (!renewing)
            break;
        pthread_cond_wait(&auth_cond, &auth_lock);
    }
    if (is_static) {
        unlock(&auth_lock);
        return -EACCES;
    }
    /* This thread renews; the others wait on auth_cond. */
    renewing = true;
    unlock(&auth_lock);
    char *err = NULL;
    int rc = fetch_token(&err);
    if (rc != 0)
        stats_error("%s", err);
    free(err);
    lock(&auth_lock);
    renewing = false;
    pthread_cond_broadcast(&auth_cond);
    if (rc == 0)
        *out = token ? xstrdup(token) : NULL;
    if (rc == 0 && !*out)
        rc = -EACCES;
    unlock(&auth_lock);
    return rc;
}

int auth_reject(const char *used)
{
    lock(&auth_lock);
    int rc = 0;
    if (is_static)
        rc = -EACCES;
    else if (token && used && strcmp(token, used) == 0)
        renew_at = 0; /* whoever asks next renews */
    unlock(&auth_lock);
    return rc;
}
