/* check: "zoomfs --check", the first thing an admin runs. Without mounting,
 * with the token a mount would get, it prints the REST base in use, the
 * scopes the token carries, and a table: for each area (users, settings,
 * meetings, webinars, recordings, a recording download) whether one cheap
 * read works, or what blocks it (a missing scope with the scope to add in
 * the Marketplace, or the errno and Zoom's message); and whether the token
 * carries the scopes for changes. Every call goes through the production
 * client (api_call, zoom_client()->download), so it fails exactly as the
 * mount would. Nothing secret is printed. */
#ifndef ZOOMFS_CHECK_H
#define ZOOMFS_CHECK_H

/* Before the client starts (before auth_init): watch the requests, to learn
 * the scopes of the token response and why a call failed. */
void check_prepare(void);

/* The check, once the client has its first token. Prints the report on
 * stdout. Returns the exit status: 0 when users, meetings and recordings
 * (and a recording's bytes, when there is one) can be read, 2 otherwise. */
int check_run(void);

#endif
