/* endpoint: templates to paths. */
#include "zoomfs/endpoint.h"

#include "zoomfs/urlenc.h"
#include "zoomfs/util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void endpoint_method(const char *route, char out[8])
{
    size_t n = strcspn(route, " ");
    snprintf(out, 8, "%.*s", (int)(n < 7 ? n : 7), route);
}

/* The encoded value of one placeholder, or NULL. */
static char *placeholder(const char *name, size_t len, const Ids *ids)
{
    static const struct {
        const char *name;
        size_t offset;
        bool uuid; /* Zoom's rule for meeting UUIDs: twice when they start with / or hold // */
    } map[] = {
        {"userId", offsetof(Ids, user), false},      {"meetingId", offsetof(Ids, object), true},
        {"webinarId", offsetof(Ids, object), true},  {"meetingUUID", offsetof(Ids, object), true},
        {"recordingId", offsetof(Ids, file), false}, {"registrantId", offsetof(Ids, sub), false},
        {"occurrenceId", offsetof(Ids, sub), false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (strlen(map[i].name) != len || memcmp(map[i].name, name, len) != 0)
            continue;
        const char *v = *(const char *const *)((const char *)ids + map[i].offset);
        if (!v)
            return NULL;
        return map[i].uuid ? urlenc_uuid_segment(v) : urlenc_component(v);
    }
    return NULL;
}

char *endpoint_path(const char *route, const Ids *ids, const char *query)
{
    const char *p = strchr(route, ' ');
    p = p ? p + 1 : route;
    StrBuf b;
    strbuf_init(&b);
    while (*p) {
        const char *open = strchr(p, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!open || !close) {
            strbuf_append(&b, p, strlen(p));
            break;
        }
        strbuf_append(&b, p, (size_t)(open - p));
        char *v = placeholder(open + 1, (size_t)(close - open - 1), ids);
        if (!v) {
            strbuf_free(&b);
            return NULL;
        }
        strbuf_append(&b, v, strlen(v));
        free(v);
        p = close + 1;
    }
    if (query && *query) /* after the template's own query, if it has one */
        strbuf_appendf(&b, "%c%s", strchr(route, '?') ? '&' : '?', query);
    return strbuf_take(&b, NULL);
}
