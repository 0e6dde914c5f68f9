/* auth: token fetch, proactive renewal, single flight, api_url. */
#include "zoomfs/auth.h"

#include "zoomfs/config.h"
#include "zoomfs/http.h"
#include "zoomfs/log.h"
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

/* Renew when this little lifetime is left, as Zoom's own SDK does. */
#define RENEW_MARGIN_MS 60000
#define TOKEN_ATTEMPTS  4

static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t auth_cond = PTHREAD_COND_INITIALIZER;
static char *token;        /* "Bearer …" */
static int64_t expires_at; /* now_ms() clock */
static bool renewing;
static char *api_base;

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
    char *plain = xasprintf("%s:%s", cfg.client_id, cfg.client_secret);
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

/* One token request. Returns 0, -EAGAIN for a transient failure worth
 * another try, or another -errno with the reason in err. */
static int fetch_token_once(char *err, size_t errlen)
{
    char *url = xasprintf("%s/oauth/token", cfg.oauth_url);
    char *account = urlenc_component(cfg.account_id);
    char *form = xasprintf("grant_type=account_credentials&account_id=%s", account);
    char *basic = basic_credentials();
    HttpRequest req;
    http_request_init(&req, "POST", url);
    req.body = form;
    req.body_len = strlen(form);
    req.content_type = "application/x-www-form-urlencoded";
    req.authorization = basic;
    req.total_timeout = 60;
    HttpResponse resp;
    http_send(&req, &resp);
    explicit_bzero(basic, strlen(basic));
    free(basic);
    free(form);
    free(account);
    stats_request("POST /oauth/token", resp.neterr ? 0 : resp.status);

    int rc = 0;
    json_t *doc = NULL;
    if (resp.neterr) {
        snprintf(err, errlen, "token request to %s failed: %s", url, resp.error);
        rc = resp.neterr == NETERR_TLS ? -EACCES : -EAGAIN;
        goto out;
    }
    doc = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, NULL);
    if (resp.status != 200) {
        const char *reason = json_string_value(json_object_get(doc, "reason"));
        const char *code = json_string_value(json_object_get(doc, "error"));
        snprintf(err, errlen, "authentication failed (HTTP %ld): %s%s%s%s", resp.status,
                 reason ? reason : "no reason given", code ? " (" : "", code ? code : "",
                 code ? ")" : "");
        rc = resp.status >= 500 || resp.status == 429 ? -EAGAIN : -EACCES;
        goto out;
    }
    const char *access = json_string_value(json_object_get(doc, "access_token"));
    json_t *expires = json_object_get(doc, "expires_in");
    if (!access || !*access || !json_is_integer(expires)) {
        snprintf(err, errlen, "token response from %s lacks access_token or expires_in", url);
        rc = -EIO;
        goto out;
    }
    const char *region = json_string_value(json_object_get(doc, "api_url"));
    lock(&auth_lock);
    if (token)
        explicit_bzero(token, strlen(token));
    free(token);
    token = xasprintf("Bearer %s", access);
    expires_at = now_ms() + json_integer_value(expires) * 1000;
    if (region && *region && !cfg.api_url_explicit) {
        if (urlenc_scheme_allowed(region))
            set_api_base(region);
        else
            log_warn("ignoring api_url from the token response: not https");
    }
    unlock(&auth_lock);
    stats_add(STAT_TOKEN_RENEWALS, 1);
    log_info("access token obtained, valid for %lld s", (long long)json_integer_value(expires));
out:
    json_decref(doc);
    http_response_free(&resp);
    free(url);
    return rc;
}

static int fetch_token(char *err, size_t errlen)
{
    int rc = -EAGAIN;
    for (int attempt = 0; attempt < TOKEN_ATTEMPTS && rc == -EAGAIN; attempt++) {
        if (attempt)
            sleep_ms(500LL << attempt);
        rc = fetch_token_once(err, errlen);
    }
    return rc == -EAGAIN ? -EIO : rc;
}

int auth_init(char *err, size_t errlen)
{
    set_api_base(cfg.api_url);
    if (cfg.static_token && !(cfg.account_id && cfg.client_id && cfg.client_secret)) {
        token = xasprintf("Bearer %s", cfg.static_token);
        expires_at = INT64_MAX;
        return 0;
    }
    return fetch_token(err, errlen);
}

void auth_cleanup(void)
{
    if (token)
        explicit_bzero(token, strlen(token));
    free(token);
    token = NULL;
    free(api_base);
    api_base = NULL;
}

static bool is_static(void)
{
    return expires_at == INT64_MAX;
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
        bool fresh = token && (is_static() || now_ms() < expires_at - RENEW_MARGIN_MS);
        if (fresh) {
            *out = xstrdup(token);
            unlock(&auth_lock);
            return 0;
        }
        if (!renewing)
            break;
        pthread_cond_wait(&auth_cond, &auth_lock);
    }
    if (is_static()) {
        unlock(&auth_lock);
        return -EACCES;
    }
    /* This thread renews; the others wait on auth_cond. */
    renewing = true;
    unlock(&auth_lock);
    char err[512];
    int rc = fetch_token(err, sizeof(err));
    if (rc != 0)
        stats_error("%s", err);
    lock(&auth_lock);
    renewing = false;
    pthread_cond_broadcast(&auth_cond);
    if (rc == 0 && token)
        *out = xstrdup(token);
    else if (rc == 0)
        rc = -EACCES;
    unlock(&auth_lock);
    return rc;
}

int auth_reject(const char *used)
{
    lock(&auth_lock);
    int rc = 0;
    if (is_static()) {
        rc = -EACCES;
    } else if (token && strcmp(token, used) == 0) {
        /* Expire it; whoever asks next renews. */
        expires_at = 0;
    }
    unlock(&auth_lock);
    return rc;
}
