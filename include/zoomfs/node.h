/* node: the kinds of nodes that follow the common patterns — fixed folders,
 * the users folder, a user's folder, folders listed by an endpoint, JSON
 * objects fetched by one — and the changes Zoom takes (PATCH, POST,
 * DELETE), all driven by the rows' endpoints. recordings.c has the kinds
 * that need more code. */
#ifndef ZOOMFS_NODE_H
#define ZOOMFS_NODE_H

#include "zoomfs/kind.h"

#include <jansson.h>

extern const KindOps node_root_ops;   /* "/" */
extern const KindOps node_meta_ops;   /* .zoomfs/ */
extern const KindOps node_text_ops;   /* .zoomfs/{name} */
extern const KindOps node_users_ops;  /* users/: every user; mkdir invites */
extern const KindOps node_user_ops;   /* users/{user}/ */
extern const KindOps node_folder_ops; /* a folder listed by the row's endpoint */
extern const KindOps node_object_ops; /* a JSON object of a user (user.json, settings.json) */
extern const KindOps node_listed_ops; /* a JSON object listed in its folder (meetings, webinars) */

/* Does a node whose rows (itself and its ancestors) carry these flags exist
 * for this path's user? Pending users have no settings, meetings, webinars
 * or recordings; only users with the add-on have webinars. */
bool node_present(unsigned flags, const Entry *e);

/* Saves edited over original as one PATCH of what changed (nothing when
 * nothing did); *fresh gets the object as Zoom now holds it. */
int node_patch(const Entry *e, const json_t *original, const json_t *edited, json_t **fresh);

/* A new file in folder (a row with ROW_NEW_JSON) of kind child: one POST.
 * *new_id gets the created object's id (malloc'd), *created Zoom's answer. */
int node_post(const Entry *folder, const Row *child, const json_t *edited, char **new_id,
              json_t **created);

/* .zoomfs/refresh: a file whose write is an action (vfs drops every cache). */
bool node_is_trigger(const Entry *e);
/* For the kinds that hang off a listed object (registrants.c,
 * occurrences.c): */

/* An id as Zoom sent it in item's field (an int64, or a string), as text;
 * NULL when the item has none. Malloc'd. */
char *node_id_text(const json_t *item, const char *field);

/* The listing of folder (meetings/, webinars/) of e's user, cached. */
int node_listing(const Entry *e, const Row *folder, JsonVal **out);

/* The object e names, when list (a listing, or a series' occurrences) has
 * it under field: e->tp.id, or for an occurrence (series: its meeting's id)
 * e->tp.sub. Fetched by e's row's get endpoint and cached; once a reader
 * has asked for a few of the list's objects one by one, the rest are
 * fetched ahead. */
int node_listed_object(const Entry *e, JsonVal *list, const char *field, const char *series,
                       JsonFile **out);

/* The folder listed by an endpoint (meetings/, webinars/) that row is in. */
const Row *node_folder_row(const Row *row);

/* The row of kind ops in the same listed folder as near (the registrants
 * rows of meetings/ belong together, those of webinars/ too). */
const Row *node_row_near(const Row *near, const KindOps *ops);

/* The meeting (or webinar) id of the folder e is in, as its own file shows
 * it (the same request and cache). */
int node_series(const Entry *e, const char *id, JsonFile **out);

/* The names of .zoomfs/. */
extern const char *const node_meta_names[];

#endif
