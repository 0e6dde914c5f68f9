/* walk: what a walk across the users' folders asked of one user, asked
 * ahead of it of the users after. */
#include "zoomfs/walk.h"

#include "zoomfs/op.h"
#include "zoomfs/prefetch.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What the walk asked under one user's folder, as paths below it: the
 * kinds that cost a request per user, whoever the user is. */
#define MAX_SEEN 400 /* two for each month of ten years, and the rest */

typedef enum {
    SEEN_STAT,          /* a stat of it */
    SEEN_LIST,          /* a listing of it */
    SEEN_EACH,          /* a stat of each file of its listing (ls -l, rsync in meetings/) */
    SEEN_EACH_DIR,      /* a listing of each folder of its listing (a month's instances) */
    SEEN_EACH_DIR_EACH, /* a stat of each file of each of its folders (occurrences) */
} SeenHow;

/* The stats and listings a walk is followed by: those that cost requests
 * for every user, whoever the user is. Those of kinds with `up` > 0 are
 * kept as what they are of: the folder that holds them (1), or the one
 * that holds that (2). */
static const struct {
    NodeKind kind;
    bool list;
    SeenHow how;
    int up;
} followed[] = {
    {NODE_USER, true, SEEN_LIST, 0}, /* the settings, for webinars/ */
    {NODE_USER_JSON, false, SEEN_STAT, 0},
    {NODE_SETTINGS_JSON, false, SEEN_STAT, 0},
    {NODE_MEETINGS, true, SEEN_LIST, 0},
    {NODE_WEBINARS, true, SEEN_LIST, 0},
    {NODE_MEETING_JSON, false, SEEN_EACH, 1},
    {NODE_WEBINAR_JSON, false, SEEN_EACH, 1},
    {NODE_MEETING_REGISTRANT_LIST, true, SEEN_EACH_DIR, 1},
    {NODE_WEBINAR_REGISTRANT_LIST, true, SEEN_EACH_DIR, 1},
    {NODE_MEETING_OCCURRENCE_JSON, false, SEEN_EACH_DIR_EACH, 2},
    {NODE_WEBINAR_OCCURRENCE_JSON, false, SEEN_EACH_DIR_EACH, 2},
    {NODE_MONTH, true, SEEN_LIST, 0},
    {NODE_INSTANCE, true, SEEN_EACH_DIR, 1}, /* participants.json, polls.json */
};

typedef struct {
    char *below; /* "user.json", "recordings/2026-11"; "" for the folder itself */
    SeenHow how;
} Seen;

typedef struct {
    Seen *seen;
    size_t n;
} Profile;

static struct {
    pthread_mutex_t lock;
    size_t ahead;
    WalkVisit visit;
    char *user;        /* the folder the walk is in; NULL before the first */
    size_t position;   /* its position among the users (store_users_index) */
    int64_t since_ms;  /* when the walk went into it */
    Profile seen;      /* what the walk asked in it so far */
    size_t fetched_to; /* the users before this position were handed out */
} W = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* A prefetch worker replaying a walk: what it asks is not the walk's. */
static __thread bool replaying;

/* array (n items in it) with room for one more: it doubles when full. */
static void *room_for_one_more(void *array, size_t n, size_t size)
{
    if ((n & (n - 1)) == 0) /* 0, 1, 2, 4, ...: full */
        array = xrealloc(array, (n ? 2 * n : 1) * size);
    return array;
}

static void profile_free(Profile *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->seen[i].below);
    free(p->seen);
    *p = (Profile){0};
}

void walk_init(int ahead, WalkVisit visit)
{
    W.ahead = ahead > 0 ? (size_t)ahead : 0;
    W.visit = W.ahead ? visit : NULL;
}

void walk_cleanup(void)
{
    lock(&W.lock);
    free(W.user);
    W.user = NULL;
    profile_free(&W.seen);
    W.visit = NULL;
    unlock(&W.lock);
}

/* ---- replaying a walk for the users ahead of it ---------------------------- */

typedef struct {
    Profile profile;
    char **users; /* folder names */
    size_t n;
    WalkVisit visit;
} Replay;

static int add_nothing(void *ctx, const char *name, bool is_dir)
{
    (void)ctx, (void)name, (void)is_dir;
    return 0;
}

typedef struct {
    char **names;
    size_t n;
} Names;

typedef struct {
    Names names;
    bool dirs; /* the folders of a listing, or its files */
} Collect;

static int add_name(void *ctx, const char *name, bool is_dir)
{
    Collect *c = ctx;
    Names *f = &c->names;
    if (is_dir == c->dirs) {
        f->names = room_for_one_more(f->names, f->n, sizeof(char *));
        f->names[f->n++] = xstrdup(name);
    }
    return 0;
}

/* What `how` asks of the children of folder path (SEEN_EACH...), one after
 * another: the walk's own pace, on one worker of the pool. */
static void visit_each(WalkVisit visit, const char *path, SeenHow how)
{
    Collect c = {.dirs = how != SEEN_EACH};
    visit(path, add_name, &c);
    for (size_t i = 0; i < c.names.n; i++) {
        char *child = xasprintf("%s/%s", path, c.names.names[i]);
        if (op_check() == 0 && how == SEEN_EACH_DIR_EACH)
            visit_each(visit, child, SEEN_EACH);
        else if (op_check() == 0 &&
                 visit(child, how == SEEN_EACH_DIR ? add_nothing : NULL, NULL) == 0)
            stats_add(STAT_PREFETCHED, 1);
        free(child);
        free(c.names.names[i]);
    }
    free(c.names.names);
}

static void replay_run(void *arg, size_t i)
{
    Replay *r = arg;
    replaying = true;
    for (size_t k = 0; k < r->profile.n && op_check() == 0; k++) {
        const Seen *s = &r->profile.seen[k];
        char *path = xasprintf("/users/%s%s%s", r->users[i], *s->below ? "/" : "", s->below);
        /* Errors are the walk's to meet and report when it gets there. */
        if (s->how >= SEEN_EACH)
            visit_each(r->visit, path, s->how);
        else
            r->visit(path, s->how == SEEN_LIST ? add_nothing : NULL, NULL);
        free(path);
    }
    replaying = false;
    stats_add(STAT_WALKED_AHEAD, 1);
}

static void replay_done(void *arg)
{
    Replay *r = arg;
    profile_free(&r->profile);
    for (size_t i = 0; i < r->n; i++)
        free(r->users[i]);
    free(r->users);
    free(r);
}

/* ---- following the walk ---------------------------------------------------- */

/* The walk went into the folder of the user at position `at`. Called
 * locked; takes last (what it asked in the folder before). */
static void went_into(const Users *users, size_t at, Profile last)
{
    int64_t now = now_ms(), step = now - W.since_ms;
    /* The next folder, or the one after: rsync puts a name before another
     * that it is the start of ("a@b.com.au" before "a@b.com"). */
    bool going_on = W.user && at > W.position && at <= W.position + 2;
    free(W.user);
    W.user = xstrdup(store_users_name(users, at));
    W.position = at;
    W.since_ms = now;
    if (!going_on) {
        W.fetched_to = at + 1;
        profile_free(&last);
        return;
    }
    /* What is fetched for a user n folders ahead is asked for about n
     * steps later; past its ttl it would be fetched twice. A walk slowed by
     * the bytes it copies is not fetched ahead of at all. */
    int64_t ttl =
        store_attr_ttl_ms() < store_dir_ttl_ms() ? store_attr_ttl_ms() : store_dir_ttl_ms();
    size_t window = W.ahead;
    while (window > 0 && (int64_t)window * step > ttl / 2)
        window--;
    size_t count = store_users_count(users);
    size_t from = W.fetched_to > at + 1 ? W.fetched_to : at + 1;
    size_t to = at + 1 + window < count ? at + 1 + window : count;
    if (last.n == 0 || to <= from) {
        profile_free(&last);
        return;
    }
    Replay *r = xcalloc(1, sizeof(*r));
    r->profile = last;
    r->visit = W.visit;
    r->n = to - from;
    r->users = xcalloc(r->n, sizeof(*r->users));
    for (size_t i = from; i < to; i++)
        r->users[i - from] = xstrdup(store_users_name(users, i));
    W.fetched_to = to;
    prefetch_batch(to - from, replay_run, r, replay_done);
}

static void note(const char *below, SeenHow how)
{
    for (size_t i = 0; i < W.seen.n; i++)
        if (W.seen.seen[i].how == how && strcmp(W.seen.seen[i].below, below) == 0)
            return;
    if (W.seen.n == MAX_SEEN)
        return;
    W.seen.seen = room_for_one_more(W.seen.seen, W.seen.n, sizeof(Seen));
    W.seen.seen[W.seen.n++] = (Seen){xstrdup(below), how};
}

static int follow_index(NodeKind k, bool list)
{
    for (size_t i = 0; i < ARRAY_SIZE(followed); i++)
        if (followed[i].kind == k && followed[i].list == list)
            return (int)i;
    return -1;
}

void walk_saw(const Entry *e, bool list)
{
    static const char users_dir[] = "/users/";
    int f = W.visit && !replaying ? follow_index(e->tp.kind, list) : -1;
    if (f < 0 || strncmp(e->path, users_dir, sizeof(users_dir) - 1) != 0)
        return;
    const char *user = e->tp.user;
    const char *below = e->path + sizeof(users_dir) - 1 + strlen(user);
    below += *below == '/';
    Users *users = NULL;
    /* Held by the listing of the folder the walk is in: no request. */
    if (e->tp.kind == NODE_USER && store_users(&users) != 0)
        return;
    lock(&W.lock);
    if (users && W.visit && (!W.user || strcmp(W.user, user) != 0)) {
        size_t at = store_users_index(users, user);
        Profile last = W.seen;
        W.seen = (Profile){0};
        if (at != SIZE_MAX)
            went_into(users, at, last);
        else
            profile_free(&last);
    }
    if (W.user && strcmp(W.user, user) == 0) {
        size_t len = strlen(below);
        for (int up = followed[f].up; up > 0 && len > 0; up--)
            while (len > 0 && below[--len] != '/')
                ;
        if (len > 0 || followed[f].up == 0) {
            char *of = xstrndup(below, len);
            note(of, followed[f].how);
            free(of);
        }
    }
    unlock(&W.lock);
    store_users_drop(users);
}
