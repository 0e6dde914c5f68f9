/* check: zoomfs --check — one cheap read per area through the production
 * client, and a table of what works and what blocks it. */
#include "zoomfs/check.h"

#include "zoomfs/api.h"
#include "zoomfs/auth.h"
#include "zoomfs/client.h"
#include "zoomfs/errmap.h"
#include "zoomfs/http.h"
#include "zoomfs/log.h"
#include "zoomfs/naming.h"
#include "zoomfs/op.h"
#include "zoomfs/request.h"
#include "zoomfs/stats.h"
#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Months the download looks back for a recording when this one has none. */
#define LOOK_BACK_MONTHS 12

/* An answer that explains a failure. */
typedef struct {
    long status; /* 0: none came */
    NetError neterr;
    bool html;
    int code;      /* Zoom's, 0 when none */
    char *message; /* Zoom's, or curl's for a transport failure; escaped */
} Answer;

/* What went over the wire (request_set_transport): the scopes of the
 * token response, and the last other answer. Scope names and Zoom's
 * messages are kept, never a token. */
static char *token_scopes; /* NULL: no token response (a static token) */
static Answer last;

static void answer_free(Answer *a)
{
    free(a->message);
    memset(a, 0, sizeof(*a));
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

static void watch(const HttpRequest *req, HttpResponse *resp)
{
    http_send(req, resp);
    if (strcmp(req->method, "POST") == 0 && ends_with(req->url, "/oauth/token")) {
        if (resp->status != 200)
            return;
        json_t *doc = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, NULL);
        const char *scope = json_string_value(json_object_get(doc, "scope"));
        free(token_scopes);
        token_scopes = log_escape(scope ? scope : "");
        json_decref(doc);
        return;
    }
    answer_free(&last);
    last.status = resp->status;
    last.neterr = resp->neterr;
    last.html = resp->content_type && strncasecmp(resp->content_type, "text/html", 9) == 0;
    if (resp->neterr)
        last.message = log_escape(resp->error ? resp->error : "transfer failed");
    else if (resp->status >= 300)
        last.message = request_zoom_message(resp, &last.code);
}

void check_prepare(void)
{
    request_set_transport(watch);
}

/* ---- the areas ------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *route;
    bool required; /* reading works only when this does */
    /* What allows changes: the classic scope (or its non-admin form), or
     * every one of the granular scopes zoomfs's changes need. */
    const char *classic_write;
    const char *granular_write[5];
    /* the outcome */
    bool tried;
    int rc;
    const char *failed_route; /* the call that failed */
    char *note;               /* what was found, or why it was not tried */
    Answer why;               /* of a failure */
    char *fallback;           /* of a failure no answer explains: its log line */
} Area;

enum { USERS, SETTINGS, MEETINGS, WEBINARS, RECORDINGS, DOWNLOAD, NAREAS };

static Area areas[NAREAS] = {
    [USERS] = {.name = "users",
               .route = "GET /users",
               .required = true,
               .classic_write = "user:write:admin",
               .granular_write = {"user:write:user:admin", "user:update:user:admin"}},
    [SETTINGS] = {.name = "settings",
                  .route = "GET /users/{userId}/settings",
                  .required = false,
                  .classic_write = "user:write:admin",
                  .granular_write = {"user:update:settings:admin"}},
    [MEETINGS] = {.name = "meetings",
                  .route = "GET /users/{userId}/meetings",
                  .required = true,
                  .classic_write = "meeting:write:admin",
                  .granular_write = {"meeting:write:meeting:admin", "meeting:update:meeting:admin",
                                     "meeting:delete:meeting:admin"}},
    [WEBINARS] = {.name = "webinars",
                  .route = "GET /users/{userId}/webinars",
                  .required = false,
                  .classic_write = "webinar:write:admin",
                  .granular_write = {"webinar:write:webinar:admin", "webinar:update:webinar:admin",
                                     "webinar:delete:webinar:admin"}},
    [RECORDINGS] = {.name = "recordings",
                    .route = "GET /users/{userId}/recordings",
                    .required = true,
                    .classic_write = "recording:write:admin",
                    .granular_write = {"cloud_recording:delete:meeting_recording:admin",
                                       "cloud_recording:delete:recording_file:admin"}},
    [DOWNLOAD] = {.name = "download",
                  .route = "GET download_url",
                  .required = true,
                  .classic_write = NULL,
                  .granular_write = {NULL}},
};

static void skip(Area *a, const char *why)
{
    free(a->note);
    a->note = xstrdup(why);
}

/* The last line of .zoomfs/errors without its time: the failure line the
 * mount would log. */
static char *last_error_line(void)
{
    char *all = stats_render_errors(NULL);
    size_t n = strlen(all);
    while (n && all[n - 1] == '\n')
        all[--n] = '\0';
    const char *line = strrchr(all, '\n');
    line = line ? line + 1 : all;
    const char *text = strchr(line, ' ');
    char *out = *line ? xstrdup(text ? text + 1 : line) : NULL;
    free(all);
    return out;
}

/* Does this answer say why a call failed? */
static bool explains(const Answer *w)
{
    return w->neterr || w->html || w->status >= 300;
}

/* Keeps what explains a failure of area a's call of route with rc. */
static void failed(Area *a, const char *route, int rc)
{
    a->rc = rc;
    a->failed_route = route;
    answer_free(&a->why);
    a->why = last;
    memset(&last, 0, sizeof(last));
    if (!explains(&a->why)) {
        free(a->fallback);
        a->fallback = last_error_line();
    }
}

/* One GET through the client, as the mount sends it. Returns the answer,
 * or NULL with the failure kept in a. */
static json_t *get(Area *a, const char *route, const char *path)
{
    json_t *doc = NULL;
    answer_free(&last);
    op_begin();
    int rc = api_call(route, path, NULL, &doc);
    op_end();
    a->tried = true;
    if (rc == 0 && !json_is_object(doc)) {
        stats_error("GET %s: the answer is not a JSON object", path);
        rc = -EIO;
    }
    if (rc) {
        json_decref(doc);
        failed(a, route, rc);
        return NULL;
    }
    a->rc = 0;
    return doc;
}

/* "<what>: N" from a listing's total_records, or "" when it has none. */
static char *count_note(const json_t *doc, const char *what)
{
    json_t *total = json_object_get(doc, "total_records");
    if (!json_is_integer(total))
        return xstrdup("");
    return xasprintf("%s: %" JSON_INTEGER_FORMAT, what, json_integer_value(total));
}

/* An item's id (an integer or a string) as text, or NULL. */
static char *id_text(const json_t *item)
{
    json_t *id = json_object_get(item, "id");
    if (json_is_string(id))
        return xstrdup(json_string_value(id));
    if (json_is_integer(id))
        return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(id));
    return NULL;
}

/* The first item of a listing, read on its own as the mount reads it
 * (with granular scopes that is another scope than the listing's):
 * route with path_fmt ("/meetings/%s") given its encoded id. */
static void get_first(Area *a, const json_t *list, const char *key, const char *route,
                      const char *path_fmt)
{
    char *id = id_text(json_array_get(json_object_get(list, key), 0));
    if (!id)
        return;
    char *enc = urlenc_component(id);
    char *path = xasprintf(path_fmt, enc);
    json_decref(get(a, route, path));
    free(path);
    free(enc);
    free(id);
}

/* ---- the first active user ------------------------------------------------ */

typedef struct {
    char *id;         /* for paths, encoded */
    char *email;      /* escaped, for the report */
    char *created_at; /* may be NULL */
} User;

static bool check_users(User *u)
{
    Area *a = &areas[USERS];
    json_t *doc = get(a, a->route, "/users?status=active&page_size=1");
    if (!doc)
        return false;
    json_t *first = json_array_get(json_object_get(doc, "users"), 0);
    char *text = id_text(first);
    if (text) {
        const char *email = json_string_value(json_object_get(first, "email"));
        const char *created = json_string_value(json_object_get(first, "created_at"));
        u->id = urlenc_component(text);
        u->email = log_escape(email ? email : text);
        u->created_at = created ? xstrdup(created) : NULL;
        char *count = count_note(doc, "active users");
        a->note =
            xasprintf("%s%sthe calls below are about %s", count, *count ? "; " : "", u->email);
        free(count);
        get_first(a, doc, "users", "GET /users/{userId}", "/users/%s");
    } else {
        a->note = xstrdup("no active user: nothing more to try");
    }
    free(text);
    json_decref(doc);
    return u->id != NULL;
}

/* Returns whether the user has the webinar add-on: 1, 0, or -1 unknown. */
static int check_settings(const User *u)
{
    Area *a = &areas[SETTINGS];
    char *path = xasprintf("/users/%s/settings", u->id);
    json_t *doc = get(a, a->route, path);
    free(path);
    if (!doc)
        return -1;
    int webinar = json_is_true(json_object_get(json_object_get(doc, "feature"), "webinar"));
    a->note = xasprintf("webinar add-on: %s", webinar ? "yes" : "no");
    json_decref(doc);
    return webinar;
}

/* A user's meetings or webinars (what), and the first of them. */
static void check_list(Area *a, const User *u, const char *what, const char *get_route,
                       const char *get_fmt)
{
    char *path = xasprintf("/users/%s/%s?page_size=1", u->id, what);
    json_t *doc = get(a, a->route, path);
    free(path);
    if (doc) {
        a->note = count_note(doc, what);
        get_first(a, doc, what, get_route, get_fmt);
    }
    json_decref(doc);
}

/* ---- recordings and one download ------------------------------------------ */

typedef struct {
    char *url;  /* download_url */
    char *what; /* "an MP4 file of 2025-06-03T10:00:00Z", escaped */
} FileRef;

/* The first file of a recordings page that can be downloaded. */
static bool find_file(const json_t *doc, FileRef *f)
{
    size_t i, j;
    json_t *inst, *file;
    json_array_foreach(json_object_get(doc, "meetings"), i, inst)
    {
        json_array_foreach(json_object_get(inst, "recording_files"), j, file)
        {
            const char *url = json_string_value(json_object_get(file, "download_url"));
            const char *status = json_string_value(json_object_get(file, "status"));
            const char *type = json_string_value(json_object_get(file, "file_type"));
            const char *start = json_string_value(json_object_get(file, "recording_start"));
            if (!url || !*url || !type || !*type || (status && strcmp(status, "completed") != 0))
                continue;
            char *t = log_escape(type), *s = log_escape(start ? start : "?");
            f->url = xstrdup(url);
            f->what = xasprintf("first byte of the %s file recorded at %s", t, s);
            free(t);
            free(s);
            return true;
        }
    }
    return false;
}

/* A month's recordings, first page of one. */
static json_t *month_recordings(Area *a, const User *u, const char *month)
{
    char from[11], to[11];
    if (naming_month_range(month, from, to) != 0)
        return NULL;
    char *path = xasprintf("/users/%s/recordings?from=%s&to=%s&page_size=1", u->id, from, to);
    json_t *doc = get(a, areas[RECORDINGS].route, path);
    free(path);
    return doc;
}

static void check_recordings(const User *u, FileRef *f)
{
    Area *a = &areas[RECORDINGS];
    size_t n = 0;
    char(*months)[8] = naming_months(u->created_at, NULL, time(NULL), &n);
    json_t *doc = month_recordings(a, u, months[n - 1]);
    if (doc) {
        a->note = count_note(doc, "recordings this month");
        /* The download needs a file: this month's, or an earlier one (a
         * failure to list those is the download's). */
        bool found = find_file(doc, f);
        for (size_t k = 2; !found && k <= n && k <= LOOK_BACK_MONTHS + 1; k++) {
            json_decref(doc);
            if (!(doc = month_recordings(&areas[DOWNLOAD], u, months[n - k])))
                break;
            found = find_file(doc, f);
        }
        if (!found && !areas[DOWNLOAD].rc) {
            areas[DOWNLOAD].tried = false;
            skip(&areas[DOWNLOAD], "no recording file to try in the months looked at");
        }
    }
    json_decref(doc);
    free(months);
}

/* The first byte is all a check needs: kept nowhere. */
static void discard(void *ctx, size_t at, const char *data, size_t n)
{
    (void)ctx, (void)at, (void)data, (void)n;
}

static void check_download(const FileRef *f)
{
    Area *a = &areas[DOWNLOAD];
    DownloadSink sink = {.write = discard};
    int64_t total = -1;
    answer_free(&last);
    op_begin();
    ssize_t got = zoom_client()->download(f->url, 0, 1, -1, &sink, &total);
    op_end();
    a->tried = true;
    if (got == 1) {
        a->rc = 0;
        a->note = xstrdup(f->what);
    } else {
        failed(a, a->route, got < 0 ? (int)got : -EIO);
    }
}

/* ---- scopes for changes --------------------------------------------------- */

static bool has_scope(const char *s)
{
    size_t n = strlen(s);
    for (const char *p = token_scopes; p && (p = strstr(p, s)); p++)
        if ((p == token_scopes || p[-1] == ' ' || p[-1] == ',') &&
            (!p[n] || p[n] == ' ' || p[n] == ','))
            return true;
    return false;
}

/* Granular scopes have names beyond x:read, x:write and their :admin form. */
static bool granular_token(void)
{
    for (const char *p = token_scopes; p && *p; p += strcspn(p, " ,")) {
        p += strspn(p, " ,");
        size_t n = strcspn(p, " ,");
        if (!n)
            break;
        char *s = xstrndup(p, n);
        char *second = strchr(s, ':');
        bool classic =
            second && (strncmp(second, ":read", 5) == 0 || strncmp(second, ":write", 6) == 0);
        if (classic) {
            char *rest = second + (second[1] == 'r' ? 5 : 6);
            classic = !*rest || strcmp(rest, ":admin") == 0 || strcmp(rest, ":master") == 0;
        }
        free(s);
        if (!classic)
            return true;
    }
    return false;
}

/* "OK", "partly", "no", "?" (scopes unknown) or "-" (nothing to change);
 * *missing gets what to add (malloc'd) unless OK. */
static const char *changes(const Area *a, char **missing)
{
    *missing = NULL;
    if (!a->classic_write)
        return "-";
    if (!token_scopes)
        return "?";
    char *plain = xstrndup(a->classic_write, strlen(a->classic_write) - strlen(":admin"));
    bool classic = has_scope(a->classic_write) || has_scope(plain);
    free(plain);
    if (classic)
        return "OK";
    if (!granular_token()) {
        *missing = xstrdup(a->classic_write);
        return "no";
    }
    StrBuf b;
    strbuf_init(&b);
    size_t have = 0, n = 0;
    for (; n < ARRAY_SIZE(a->granular_write) && a->granular_write[n]; n++) {
        if (has_scope(a->granular_write[n]))
            have++;
        else
            strbuf_appendf(&b, "%s%s", b.len ? ", " : "", a->granular_write[n]);
    }
    if (have == n) {
        strbuf_free(&b);
        return "OK";
    }
    *missing = strbuf_take(&b, NULL);
    return have ? "partly" : "no";
}

/* ---- the report ----------------------------------------------------------- */

static void print_failure(const Area *a)
{
    const Answer *w = &a->why;
    const char *route = a->failed_route;
    if (w->neterr) {
        printf("    %s: %s\n", route, w->message ? w->message : "transfer failed");
    } else if (w->html) {
        printf("    %s: HTTP %ld, an HTML page instead of the %s (Zoom's sign-in page: the token "
               "was refused)\n",
               route, w->status, a == &areas[DOWNLOAD] ? "file" : "answer");
    } else if (explains(w)) {
        printf("    %s: HTTP %ld code %d: %s\n", route, w->status, w->code,
               w->message ? w->message : "no message");
    } else if (a->fallback) {
        printf("    %s\n", a->fallback);
    }
    if (w->code == 4711 || w->code == 4700) {
        char *listed = errmap_missing_scopes(w->message);
        if (listed)
            printf("    missing scope%s (Zoom): %s\n", strchr(listed, ',') ? ", any of" : "",
                   listed);
        free(listed);
    }
    char *hint = NULL;
    if (w->html && a == &areas[DOWNLOAD])
        hint = xasprintf("the token may not download recordings: add %s to the app in the "
                         "Marketplace",
                         errmap_route_scope(route));
    else if (explains(w) && !w->html)
        hint = errmap_hint(route, w->status, w->code, NULL, w->message);
    if (hint)
        printf("    hint: %s\n", hint);
    free(hint);
}

static void print_columns(const char *area, const char *read, const char *changes, const char *note)
{
    if (note && *note)
        printf("%-11s %-8s %-8s %s\n", area, read, changes, note);
    else
        printf("%-11s %-8s %s\n", area, read, changes);
}

static void print_row(const Area *a)
{
    char *missing;
    const char *chg = changes(a, &missing);
    const char *read = a->tried ? errmap_errno_name(-a->rc) : "skipped";
    print_columns(a->name, read, chg, a->note);
    if (a->tried && a->rc)
        print_failure(a);
    if (missing)
        printf("    changes: add %s to the app in the Marketplace\n", missing);
    free(missing);
}

static void print_scopes(void)
{
    if (!token_scopes)
        printf("scopes      (not known: a ZOOM_ACCESS_TOKEN comes without a token response)\n");
    else
        printf("scopes      %s\n", *token_scopes ? token_scopes : "(none in the token response)");
}

/* One cheap read of each area, in order: a user first, then what needs one. */
static void try_areas(User *u, FileRef *f)
{
    if (check_users(u)) {
        int webinar = check_settings(u);
        check_list(&areas[MEETINGS], u, "meetings", "GET /meetings/{meetingId}", "/meetings/%s");
        if (webinar == 0)
            skip(&areas[WEBINARS], "no webinar add-on: nothing to list");
        else
            check_list(&areas[WEBINARS], u, "webinars", "GET /webinars/{webinarId}",
                       "/webinars/%s");
        check_recordings(u, f);
        if (f->url)
            check_download(f);
    }
    for (int i = SETTINGS; i < NAREAS; i++)
        if (!areas[i].tried && !areas[i].note)
            skip(&areas[i], !u->id && areas[USERS].rc ? "users cannot be listed"
                            : !u->id                  ? "no user to try"
                                                      : "recordings cannot be listed");
}

int check_run(void)
{
    char *base = auth_api_url("");
    printf("api_url     %s\n", base);
    free(base);
    print_scopes();
    printf("\n");

    User u = {0};
    FileRef f = {0};
    try_areas(&u, &f);
    print_columns("AREA", "READ", "CHANGES", NULL);
    StrBuf blocked;
    strbuf_init(&blocked);
    for (int i = 0; i < NAREAS; i++) {
        print_row(&areas[i]);
        if (areas[i].required && areas[i].tried && areas[i].rc)
            strbuf_appendf(&blocked, "%s%s", blocked.len ? ", " : "", areas[i].name);
    }
    printf("\n");
    if (blocked.len)
        printf("reading is blocked (%s): see the hints above, then run zoomfs --check again\n",
               blocked.data);
    else
        printf("reading works: users, meetings and recordings can be read\n");
    int rc = blocked.len ? 2 : 0;
    strbuf_free(&blocked);

    for (int i = 0; i < NAREAS; i++) {
        free(areas[i].note);
        free(areas[i].fallback);
        answer_free(&areas[i].why);
    }
    answer_free(&last);
    free(token_scopes);
    token_scopes = NULL;
    free(f.url);
    free(f.what);
    free(u.id);
    free(u.email);
    free(u.created_at);
    request_set_transport(NULL);
    fflush(stdout);
    return rc;
}
