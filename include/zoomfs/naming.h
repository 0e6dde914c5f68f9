/* naming: the names zoomfs gives to recording folders and files, and the
 * month folders. Names are derived from Zoom's fields, never from listing
 * order, so they are stable across runs. Every name is safe: no '/', no NUL,
 * no control characters, no leading '.', at most 255 bytes, valid UTF-8 not
 * cut inside a character. Pure: no I/O. */
#ifndef ZOOMFS_NAMING_H
#define ZOOMFS_NAMING_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NAMING_MAX 255

/* Makes s safe as (part of) a file name into out (outlen bytes, at most
 * max_bytes of content): '/', control characters and NUL-like bytes become
 * '_', invalid UTF-8 bytes become '_', leading dots are dropped, runs of
 * whitespace collapse to one space, trimmed. An empty result becomes "_". */
void naming_sanitize(const char *s, char *out, size_t outlen, size_t max_bytes);

/* One name chosen for an item of a Zoom list. */
typedef struct {
    char name[NAMING_MAX + 1];
    json_t *item; /* borrowed from the input array */
} NamedItem;

/* Names the instance folders of one month listing (the "meetings" array of
 * GET /users/{id}/recordings). Each folder is
 *   <start_time as 2025-03-15T10.00.00Z>_<sanitized topic>_<meeting id>
 * and names stay unique: a clash gets a short suffix derived from the
 * instance uuid. Returns a malloc'd array (count in *n) in input order. */
NamedItem *naming_instances(json_t *meetings, size_t *n);

/* Names the user folders of the users listing: each user's email, made safe
 * (control and spoofing characters replaced, at most 255 bytes); two users
 * listed with one email get a suffix from their id. Returns a malloc'd
 * array in input order (users without an email are left out). */
NamedItem *naming_users(json_t *users, size_t *n);

/* Names the files of one recording instance: every complete entry of
 * recording_files[] and participant_audio_files[] (entries whose file_type is
 * empty, or whose status is not "completed" when a status is given, are left
 * out: still processing). Name shape:
 *   <recording_type (or file_type), lowercase>_<HH.MM.SS>Z.<extension>
 * using recording_start's UTC time of day and file_extension (or file_type)
 * in lowercase; participant audio files are
 *   participant_<sanitized file_name>_<HH.MM.SS>Z.<extension>.
 * "recording.json" is reserved. A clash gets a short suffix from the file's
 * id (or a hash of its download_url). Returns a malloc'd array in input
 * order, count in *n. */
NamedItem *naming_files(json_t *instance, size_t *n);

/* Month folders for a user: "YYYY-MM" from the month of `created_at` (ISO
 * time string; or `since` "YYYY-MM" when non-NULL, which wins) to the month
 * of `now`, oldest first. Returns a malloc'd array of 8-byte strings, count
 * in *n; an unparsable start yields only the current month. */
char (*naming_months(const char *created_at, const char *since, time_t now, size_t *n))[8];

/* "YYYY-MM" → from/to dates "YYYY-MM-01" and the month's last day. Returns 0,
 * or -1 when month is not a valid YYYY-MM. */
int naming_month_range(const char *month, char from[11], char to[11]);

/* Parses an ISO-8601 UTC time ("2025-03-15T10:00:00Z") to epoch seconds;
 * returns -1 when it cannot. */
int64_t naming_parse_time(const char *iso);

#endif
