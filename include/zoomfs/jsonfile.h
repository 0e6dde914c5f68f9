/* jsonfile: how a Zoom object looks as a file, and how an edited file turns
 * back into a change. Pure: no I/O. */
#ifndef ZOOMFS_JSONFILE_H
#define ZOOMFS_JSONFILE_H

#include <jansson.h>
#include <stddef.h>

/* Renders value as zoomfs shows it: pretty JSON, 2-space indent, keys in the
 * order Zoom sent them, UTF-8 kept as is, one trailing newline. Returns a
 * malloc'd NUL-terminated string and its length in *len. */
char *jsonfile_render(const json_t *value, size_t *len);

/* Parses what Zoom sent, tolerating what real data holds: a \u0000 escape is
 * kept (JSON_ALLOW_NUL), and an invalid UTF-8 sequence or a lone surrogate
 * escape becomes U+FFFD, so that one bad string does not hide a whole
 * listing. Returns a new reference or NULL (err says why). */
json_t *jsonfile_load_tolerant(const char *buf, size_t len, json_error_t *err);

/* Drops every member of obj (an object) not named in keep (NULL-terminated;
 * NULL keeps all). */
void jsonfile_keep(json_t *obj, const char *const *keep);

/* The repair jsonfile_load_tolerant makes, on its own: buf with every
 * invalid UTF-8 sequence and every lone surrogate escape replaced by
 * U+FFFD. Malloc'd; *outlen gets its length. */
char *jsonfile_repair(const char *buf, size_t len, size_t *outlen);

/* Parses an edited buffer (not necessarily NUL-terminated). Only a JSON object
 * is accepted. Returns a new reference, or NULL with a one-line reason
 * ("line 3, column 5: unexpected token", "not a JSON object") in err. */
json_t *jsonfile_parse(const char *buf, size_t len, char *err, size_t errlen);

/* The change that turns `original` into `edited`: fields of edited whose value
 * differs from original, compared recursively for objects (a nested object
 * carries only its changed fields), arrays and scalars compared whole. A key
 * that is absent from edited is left as it is (not part of the change).
 * Fields named in `readonly` (a NULL-terminated list of dotted paths,
 * "settings.global_dial_in_numbers", may be NULL) are never part of it.
 * Returns a new object, empty when nothing differs. */
json_t *jsonfile_diff(const json_t *original, const json_t *edited, const char *const *readonly);

/* Removes the fields named in readonly (dotted paths) from obj, at any depth:
 * what a POST must not carry. */
void jsonfile_drop(json_t *obj, const char *const *readonly);

#endif
