/* registrants: the registrants of meetings and webinars, listed by status. */
#include "zoomfs/registrants.h"

#include "zoomfs/jsonfile.h"
#include "zoomfs/log.h"
#include "zoomfs/naming.h"
#include "zoomfs/node.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* GET .../registrants answers one status at a time, approved when none is
 * asked for: a folder shows all three. */
static const char *const statuses[] = {"status=approved", "status=pending", "status=denied"};

/* Does the meeting (or webinar) id take registration? Zoom's settings say
 * so with approval_type 0 (approved at once) or 1 (approved by the host);
 * 2 is none, and then every registrant request is refused. */
static int takes_registration(const Entry *e, const char *id)
{
    JsonFile *f;
    int rc = node_series(e, id, &f);
    if (rc)
        return rc;
    json_t *series = json_file_value(f);
    cacheval_unref(&f->base);
    json_t *type = json_object_get(json_object_get(series, "settings"), "approval_type");
    bool yes =
        json_is_integer(type) && json_integer_value(type) >= 0 && json_integer_value(type) <= 1;
    json_decref(series);
    return yes ? 0 : -ENOENT;
}

/* Every registrant of meeting id, of each status (a new array), or -ENOENT
 * when it takes no registration. Zoom refusing the list (a missing scope,
 * no plan, registration turned off meanwhile, the meeting gone) also makes
 * the folder absent, for dir_ttl and logged once: a folder that cannot be
 * listed must not break a backup that walks the whole account. */
static int registrants_of(const Entry *e, const char *id, json_t **out)
{
    int rc = takes_registration(e, id);
    if (rc)
        return rc;
    const Row *list = node_row_near(e->tp.row, &registrant_list_ops);
    char *refused = store_key(list, id, "refused");
    if (store_has(refused)) {
        free(refused);
        return -ENOENT;
    }
    json_t *all = json_array();
    Ids ids = {.object = id};
    for (size_t i = 0; i < ARRAY_SIZE(statuses) && rc == 0; i++) {
        JsonVal *part;
        if ((rc = store_list(list, &ids, statuses[i], id, &part)) == 0) {
            json_array_extend(all, part->json);
            cacheval_unref(&part->base);
        }
    }
    if (rc == -EACCES || rc == -EINVAL || rc == -ENOENT) {
        JsonVal *mark = json_val_new(json_null());
        store_put(refused, &mark->base, store_dir_ttl_ms());
        cacheval_unref(&mark->base);
        char *once = xasprintf("%s %d", list->list, rc);
        if (store_first_time(once))
            log_info("%s: Zoom refused the registrants of %s (%s; see .zoomfs/errors): such "
                     "folders are left out",
                     list->list, id, strerror(-rc));
        free(once);
        rc = -ENOENT;
    }
    free(refused);
    if (rc)
        json_decref(all);
    else
        *out = all;
    return rc;
}

/* The registrant of e (a new reference into all), or NULL. */
static json_t *find_registrant(json_t *all, const char *id)
{
    size_t i;
    json_t *item;
    json_array_foreach(all, i, item)
    {
        const char *rid = json_string_value(json_object_get(item, "id"));
        if (rid && strcmp(rid, id) == 0)
            return json_incref(item);
    }
    return NULL;
}

/* ---- registrants/: the meetings that take registration ------------------- */

static int folder_getattr(const Entry *e, struct stat *st)
{
    return store_user_dir(e->tp.user, st);
}

static int folder_list(const Entry *e, NodeAdd add, void *ctx)
{
    const Row *folder = node_folder_row(e->tp.row);
    const Row *child = node_row_near(e->tp.row, &registrant_list_ops);
    JsonVal *list;
    int rc = node_listing(e, folder, &list);
    if (rc)
        return rc;
    size_t i;
    json_t *item;
    json_array_foreach(list->json, i, item)
    {
        char *id = node_id_text(item, "id");
        json_t *all = NULL;
        /* Knowing takes each meeting's GET, the one its file needs: fetched
         * ahead once a few have been (node_listed_object). */
        int one = id && tree_name_fits(child, id) ? registrants_of(e, id, &all) : -ENOENT;
        bool full = one == 0 && add(ctx, id, true);
        json_decref(all);
        free(id);
        if (one && one != -ENOENT)
            rc = one; /* Zoom could not say: the listing fails, it is not cut short */
        if (full || rc)
            break;
    }
    cacheval_unref(&list->base);
    return rc;
}

const KindOps registrants_folder_ops = {.getattr = folder_getattr, .list = folder_list};

/* ---- registrants/{id}/: one meeting's --------------------------------------- */

static int list_getattr(const Entry *e, struct stat *st)
{
    json_t *all;
    int rc = registrants_of(e, e->tp.id, &all);
    if (rc)
        return rc;
    /* Dated from the latest registration. */
    int64_t latest = -1;
    size_t i;
    json_t *item;
    json_array_foreach(all, i, item)
    {
        int64_t t =
            naming_parse_time(json_string_value(json_object_get(item, "create_time")) ?: "");
        latest = t > latest ? t : latest;
    }
    json_decref(all);
    store_fill_dir(st, latest);
    return 0;
}

static int list_list(const Entry *e, NodeAdd add, void *ctx)
{
    json_t *all;
    int rc = registrants_of(e, e->tp.id, &all);
    if (rc)
        return rc;
    const Row *child = node_row_near(e->tp.row, &registrant_ops);
    size_t i;
    json_t *item;
    json_array_foreach(all, i, item)
    {
        const char *id = json_string_value(json_object_get(item, "id"));
        char *name = id ? xasprintf("%s.json", id) : NULL;
        if (name && !tree_name_fits(child, name)) {
            if (store_first_time(name))
                log_warn("%s: left out a registrant whose id cannot be a file name: %s", e->path,
                         name);
            free(name);
            name = NULL;
        }
        bool full = name && add(ctx, name, false);
        free(name);
        if (full)
            break;
    }
    json_decref(all);
    return 0;
}

static void forget_series(const Entry *series);

const KindOps registrant_list_ops = {
    .getattr = list_getattr, .list = list_list, .forget_series = forget_series};

/* ---- registrants/{id}/{sub}.json ------------------------------------------- */

/* As the listing has it: a registrant costs no request of its own. */
static int registrant_json(const Entry *e, JsonFile **out)
{
    json_t *all;
    int rc = registrants_of(e, e->tp.id, &all);
    if (rc)
        return rc;
    json_t *item = find_registrant(all, e->tp.sub);
    json_decref(all);
    if (!item)
        return -ENOENT;
    size_t len;
    char *now = jsonfile_render(item, &len);
    char *key = store_key(e->tp.row, e->path, NULL);
    JsonFile *f = (JsonFile *)store_get(key);
    if (f && (len != f->len || memcmp(now, f->text, len) != 0)) {
        cacheval_unref(&f->base);
        f = NULL;
    }
    if (!f) {
        f = json_file_new(e->path, json_incref(item));
        store_put(key, &f->base, store_dir_ttl_ms());
    }
    free(key);
    free(now);
    json_decref(item);
    *out = f;
    return 0;
}

static void registrant_forget(const Entry *e)
{
    store_drop_row(node_row_near(e->tp.row, &registrant_list_ops), e->tp.id);
    char *key = store_key(e->tp.row, e->path, NULL);
    store_drop(key);
    free(key);
}

/* rm: the whole registration, every occurrence it was for. */
static int registrant_remove(const Entry *e)
{
    JsonFile *f;
    int rc = registrant_json(e, &f);
    if (rc)
        return rc;
    cacheval_unref(&f->base);
    Ids ids = {.object = e->tp.id, .sub = e->tp.sub};
    rc = store_send(e->tp.row->del, &ids, NULL, NULL, NULL);
    if (rc == 0 || rc == -ENOENT)
        registrant_forget(e);
    return rc;
}

const KindOps registrant_ops = {
    .json = registrant_json, .remove = registrant_remove, .forget = registrant_forget};

static void forget_series(const Entry *series)
{
    const Row *list = node_row_near(series->tp.row, &registrant_list_ops);
    if (list)
        store_drop_row(list, series->tp.id);
}
