/* occurrences: the occurrences of recurring meetings and webinars, each a
 * file of its own. */
#include "zoomfs/occurrences.h"

#include "zoomfs/log.h"
#include "zoomfs/naming.h"
#include "zoomfs/node.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Zoom's spec, PATCH /meetings/{meetingId}, query occurrence_id: "Support
 * change of agenda, start_time, duration, settings: {host_video,
 * participant_video, join_before_host, mute_upon_entry, waiting_room,
 * watermark, auto_recording}". */
const char *const occurrence_meeting_fields[] = {"agenda",
                                                 "duration",
                                                 "settings.auto_recording",
                                                 "settings.host_video",
                                                 "settings.join_before_host",
                                                 "settings.mute_upon_entry",
                                                 "settings.participant_video",
                                                 "settings.waiting_room",
                                                 "settings.watermark",
                                                 "start_time",
                                                 NULL};

/* PATCH /webinars/{webinarId}: "agenda, start_time, duration, settings:
 * {host_video, panelist_video, hd_video, watermark, auto_recording}"; the
 * webinar's settings call the second panelists_video. */
const char *const occurrence_webinar_fields[] = {"agenda",
                                                 "duration",
                                                 "settings.auto_recording",
                                                 "settings.hd_video",
                                                 "settings.host_video",
                                                 "settings.panelists_video",
                                                 "settings.watermark",
                                                 "start_time",
                                                 NULL};

/* Recurring with fixed times: meetings of type 8, webinars of type 9 (the
 * other types have no occurrences). */
static bool has_occurrences(const json_t *item)
{
    json_int_t type = json_integer_value(json_object_get(item, "type"));
    return type == 8 || type == 9;
}

/* The listing's entry for meeting id, if it recurs with fixed times (a
 * reference into list), else NULL. */
static json_t *recurring(JsonVal *list, const char *id)
{
    size_t i;
    json_t *item;
    json_array_foreach(list->json, i, item)
    {
        char *text = node_id_text(item, "id");
        bool same = text && strcmp(text, id) == 0;
        free(text);
        if (same)
            return has_occurrences(item) ? item : NULL;
    }
    return NULL;
}

/* The occurrences of meeting id that Zoom has not cancelled, from its GET
 * (the one its own file needs), kept as long as that is. */
static int occurrences_of(const Entry *e, const char *id, JsonVal **out)
{
    const Row *row = node_row_near(e->tp.row, &occurrence_list_ops);
    char *key = store_key(row, id, NULL);
    if ((*out = (JsonVal *)store_get(key))) {
        free(key);
        return 0;
    }
    JsonFile *f;
    int rc = node_series(e, id, &f);
    if (rc == 0) {
        json_t *series = json_file_value(f);
        cacheval_unref(&f->base);
        json_t *live = json_array();
        size_t i;
        json_t *o;
        json_array_foreach(json_object_get(series, "occurrences"), i, o)
        {
            const char *status = json_string_value(json_object_get(o, "status"));
            if (!status || strcmp(status, "deleted") != 0)
                json_array_append(live, o);
        }
        json_decref(series);
        *out = json_val_new(live);
        store_put(key, &(*out)->base, store_attr_ttl_ms());
    }
    free(key);
    return rc;
}

/* ---- occurrences/: the recurring meetings ----------------------------------- */

static int folder_getattr(const Entry *e, struct stat *st)
{
    return store_user_dir(e->tp.user, st);
}

/* Listed from the folder's listing alone (its type says which recur): no
 * request of its own. */
static int folder_list(const Entry *e, NodeAdd add, void *ctx)
{
    const Row *child = node_row_near(e->tp.row, &occurrence_list_ops);
    JsonVal *list;
    int rc = node_listing(e, node_folder_row(e->tp.row), &list);
    if (rc)
        return rc;
    size_t i;
    json_t *item;
    json_array_foreach(list->json, i, item)
    {
        char *id = has_occurrences(item) ? node_id_text(item, "id") : NULL;
        bool full = id && tree_name_fits(child, id) && add(ctx, id, true);
        free(id);
        if (full)
            break;
    }
    cacheval_unref(&list->base);
    return 0;
}

const KindOps occurrences_folder_ops = {.getattr = folder_getattr, .list = folder_list};

/* ---- occurrences/{id}/: one meeting's ------------------------------------- */

static int list_getattr(const Entry *e, struct stat *st)
{
    JsonVal *list;
    int rc = node_listing(e, node_folder_row(e->tp.row), &list);
    if (rc)
        return rc;
    json_t *item = recurring(list, e->tp.id);
    if (item)
        store_fill_dir(
            st, naming_parse_time(json_string_value(json_object_get(item, "created_at")) ?: ""));
    cacheval_unref(&list->base);
    return item ? 0 : -ENOENT;
}

static int list_list(const Entry *e, NodeAdd add, void *ctx)
{
    struct stat st;
    int rc = list_getattr(e, &st);
    JsonVal *list;
    if (rc || (rc = occurrences_of(e, e->tp.id, &list)) != 0)
        return rc;
    const Row *child = node_row_near(e->tp.row, &occurrence_ops);
    size_t i;
    json_t *o;
    json_array_foreach(list->json, i, o)
    {
        char *id = node_id_text(o, "occurrence_id");
        char *name = id ? xasprintf("%s.json", id) : NULL;
        bool full = name && tree_name_fits(child, name) && add(ctx, name, false);
        free(name);
        free(id);
        if (full)
            break;
    }
    cacheval_unref(&list->base);
    return 0;
}

static void forget_series(const Entry *series);

const KindOps occurrence_list_ops = {
    .getattr = list_getattr, .list = list_list, .forget_series = forget_series};

/* ---- occurrences/{id}/{sub}.json -------------------------------------------- */

/* GET /meetings/{id}?occurrence_id=: the meeting as that occurrence has it. */
static int occurrence_json(const Entry *e, JsonFile **out)
{
    JsonVal *list;
    int rc = occurrences_of(e, e->tp.id, &list);
    if (rc == 0) {
        rc = node_listed_object(e, list, "occurrence_id", e->tp.id, out);
        cacheval_unref(&list->base);
    }
    return rc;
}

/* After a change of one occurrence: it, the series' occurrences and the
 * listing that shows the series. */
static void occurrence_forget(const Entry *e)
{
    char *value = xasprintf("%s/%s", e->tp.id, e->tp.sub);
    char *key = store_key(e->tp.row, value, NULL);
    store_drop(key);
    free(key);
    free(value);
    store_drop_row(node_row_near(e->tp.row, &occurrence_list_ops), e->tp.id);
    const Row *folder = node_folder_row(e->tp.row);
    size_t n;
    const Row *rows = store_rows(&n);
    for (size_t i = 0; i < n; i++)
        if (rows[i].parent == folder->kind && rows[i].ops == &node_listed_ops)
            store_drop_row(&rows[i], e->tp.id);
    UserRef u;
    if (store_user(e->tp.user, &u) == 0)
        store_drop_row(folder, u.key);
    user_ref_drop(&u);
}

/* rm: Zoom cancels that occurrence; the series stays. */
static int occurrence_remove(const Entry *e)
{
    JsonVal *list;
    int rc = occurrences_of(e, e->tp.id, &list);
    if (rc)
        return rc;
    bool listed = false;
    size_t i;
    json_t *o;
    json_array_foreach(list->json, i, o)
    {
        char *id = node_id_text(o, "occurrence_id");
        listed = listed || (id && strcmp(id, e->tp.sub) == 0);
        free(id);
    }
    cacheval_unref(&list->base);
    if (!listed)
        return -ENOENT;
    Ids ids = {.object = e->tp.id, .sub = e->tp.sub};
    rc = store_send(e->tp.row->del, &ids, NULL, NULL, NULL);
    if (rc == 0 || rc == -ENOENT)
        occurrence_forget(e);
    if (rc == 0)
        log_info("rm %s: occurrence %s of %s cancelled; the series stays", e->path, e->tp.sub,
                 e->tp.id);
    return rc;
}

const KindOps occurrence_ops = {
    .json = occurrence_json, .remove = occurrence_remove, .forget = occurrence_forget};

static void forget_series(const Entry *series)
{
    const Row *list = node_row_near(series->tp.row, &occurrence_list_ops);
    const Row *one = node_row_near(series->tp.row, &occurrence_ops);
    if (list)
        store_drop_row(list, series->tp.id);
    /* Keyed by meeting and occurrence together: all of them go. */
    if (one)
        store_drop_row(one, NULL);
}
