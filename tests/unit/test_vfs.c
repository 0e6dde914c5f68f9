/* Unit tests of the middle of zoomfs (vfs, node, recordings, edit, store,
 * stream) through the fake client: listings, the save cycle, POST safety,
 * deletes and the chunk state machine, without FUSE, root or a network. */
#include "check.h"
#include "fake_client.h"

#include "zoomfs/edit.h"
#include "zoomfs/ledger.h"
#include "zoomfs/node.h"
#include "zoomfs/recordings.h"
#include "zoomfs/rows.h"
#include "zoomfs/scratch.h"
#include "zoomfs/store.h"
#include "zoomfs/stream.h"
#include "zoomfs/util.h"
#include "zoomfs/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ALICE    "/users/alice@example.com"
#define MEETINGS ALICE "/meetings"
#define MONTH    ALICE "/recordings/2025-03"
#define INSTANCE MONTH "/2025-03-15T10.00.00Z_Standup_81234567890"
#define MP4_URL  "https://zoom.example/rec/download/mp4"
#define CC_URL   "https://zoom.example/rec/download/cc"

static const char *const instance_json =
    "{\"uuid\":\"abc/=\",\"id\":81234567890,\"topic\":\"Standup\",\"start_time\":"
    "\"2025-03-15T10:00:00Z\",\"recording_files\":["
    "{\"id\":\"f1\",\"file_type\":\"MP4\",\"file_extension\":\"MP4\",\"file_size\":3000000,"
    "\"recording_type\":\"speaker_view\",\"recording_start\":\"2025-03-15T10:00:00Z\","
    "\"recording_end\":\"2025-03-15T10:30:00Z\",\"status\":\"completed\",\"download_url\":"
    "\"" MP4_URL "\"},"
    "{\"file_type\":\"CC\",\"file_extension\":\"VTT\",\"recording_start\":\"2025-03-15T10:00:00Z\","
    "\"recording_end\":\"2025-03-15T10:30:00Z\",\"download_url\":\"" CC_URL "\"}]}";

static void setup(bool read_only)
{
    store_cleanup();
    fake_reset();
    StoreConfig sc = {.dir_ttl = 60,
                      .attr_ttl = 60,
                      .read_only = read_only,
                      .since = "2025-01",
                      .uid = getuid(),
                      .gid = getgid(),
                      .umask = 077};
    store_init(fake_client(), &sc, rows, nrows);
    scratch_init(getuid(), getgid(), 077);
    stream_init(fake_client(), 2u << 20);
    vfs_init(NULL, NULL);

    fake_list("/users?status=active",
              "[{\"id\":\"u1\",\"email\":\"alice@example.com\",\"created_at\":"
              "\"2025-01-10T00:00:00Z\"}]");
    fake_list("/users?status=inactive", "[]");
    fake_list("/users?status=pending", "[{\"email\":\"p@example.com\",\"status\":\"pending\"}]");
    fake_object("/users/u1", "{\"id\":\"u1\",\"email\":\"alice@example.com\"}");
    fake_object("/users/p%40example.com", "{\"email\":\"p@example.com\"}");
    fake_object("/users/u1/settings", "{\"feature\":{\"webinar\":false},\"in_meeting\":{}}");
    fake_list("/users/u1/meetings", "[{\"id\":81234567890,\"type\":2},{\"id\":81234567891,"
                                    "\"type\":8,\"created_at\":\"2025-02-01T00:00:00Z\"},"
                                    "{\"id\":\"x/y\",\"type\":8}]");
    /* the first takes registration (approval_type 1), the second recurs */
    fake_object("/meetings/81234567890", "{\"id\":81234567890,\"topic\":\"A\",\"join_url\":\"j\","
                                         "\"settings\":{\"x\":1,\"approval_type\":1}}");
    fake_object("/meetings/81234567891",
                "{\"id\":81234567891,\"topic\":\"B\",\"type\":8,\"settings\":{\"approval_type\":2},"
                "\"occurrences\":[{\"occurrence_id\":\"1740000000000\",\"status\":\"available\"},"
                "{\"occurrence_id\":\"1740604800000\",\"status\":\"deleted\"},"
                "{\"occurrence_id\":\"1741209600000\",\"status\":\"available\"}]}");
    fake_object("/meetings/81234567891?occurrence_id=1740000000000",
                "{\"id\":81234567891,\"topic\":\"B\",\"agenda\":\"\",\"duration\":30,"
                "\"settings\":{\"approval_type\":2,\"waiting_room\":false}}");
    fake_list("/meetings/81234567890/registrants?status=approved",
              "[{\"id\":\"r1\",\"email\":\"a@example.org\",\"status\":\"approved\","
              "\"create_time\":\"2025-02-03T00:00:00Z\"}]");
    fake_list("/meetings/81234567890/registrants?status=pending",
              "[{\"id\":\"r-2_x\",\"email\":\"b@example.org\",\"status\":\"pending\","
              "\"create_time\":\"2025-02-05T00:00:00Z\"}]");
    fake_list("/meetings/81234567890/registrants?status=denied",
              "[{\"id\":\"r/3\",\"status\":\"denied\"}]");
    char *month = xasprintf("[%s]", instance_json);
    fake_list("/users/u1/recordings?from=2025-03-01&to=2025-03-31", month);
    free(month);
    fake_file(MP4_URL, 3000000);
    fake_file(CC_URL, 12345);
}

/* A listing as one sorted, comma-separated string. */
typedef struct {
    char *names[64];
    size_t n;
} Names;

static int add_name(void *ctx, const char *name, bool is_dir)
{
    (void)is_dir;
    Names *l = ctx;
    if (l->n < 64)
        l->names[l->n++] = xstrdup(name);
    return 0;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *listing(const char *path, int *rc)
{
    Names l = {0};
    *rc = vfs_readdir(path, add_name, &l);
    qsort(l.names, l.n, sizeof(char *), cmp);
    StrBuf b;
    strbuf_init(&b);
    for (size_t i = 0; i < l.n; i++) {
        strbuf_appendf(&b, "%s%s", i ? "," : "", l.names[i]);
        free(l.names[i]);
    }
    return strbuf_take(&b, NULL);
}

#define CHECK_LISTING(path, expected)                                                              \
    do {                                                                                           \
        int rc_;                                                                                   \
        char *s_ = listing(path, &rc_);                                                            \
        CHECK_EQ_INT(rc_, 0);                                                                      \
        CHECK_EQ_STR(s_, expected);                                                                \
        free(s_);                                                                                  \
    } while (0)

static void test_readdir(void)
{
    setup(false);
    CHECK_LISTING("/", ".zoomfs,users");
    CHECK_LISTING("/users", "alice@example.com,p@example.com");
    /* an invitation has no id: nothing but its user object */
    CHECK_LISTING("/users/p@example.com", "user.json");
    struct stat st;
    CHECK_EQ_INT(vfs_getattr("/users/p@example.com/settings.json", &st), -ENOENT);
    CHECK_EQ_INT(fake_calls("GET /users/{userId}/settings"), 0);
    /* no webinar add-on: no webinars folder */
    CHECK_LISTING(ALICE, "meetings,recordings,settings.json,user.json");
    /* an id that cannot be a file name is left out */
    CHECK_LISTING(MEETINGS, "81234567890.json,81234567891.json,occurrences,registrants");
    /* every month from -o since to now */
    int rc;
    char *months = listing(ALICE "/recordings", &rc);
    CHECK_EQ_INT(rc, 0);
    CHECK(strncmp(months, "2025-01,2025-02,2025-03,", 24) == 0);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char last[32];
    snprintf(last, sizeof(last), ",%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
    CHECK(strlen(months) >= strlen(last) &&
          strcmp(months + strlen(months) - strlen(last), last) == 0);
    CHECK_EQ_INT(strlen(months), 8 * ((tm.tm_year + 1900 - 2025) * 12 + tm.tm_mon + 1) - 1);
    free(months);
    CHECK_EQ_INT(fake_calls("GET /users/{userId}/recordings"), 0); /* months cost nothing */
    CHECK_LISTING(MONTH, "2025-03-15T10.00.00Z_Standup_81234567890");
    CHECK_LISTING(INSTANCE, "cc_10.00.00Z.vtt,recording.json,"
                            "speaker_view_10.00.00Z.mp4");
    CHECK_EQ_INT(fake_calls("GET /users/{userId}/recordings"), 1);
    CHECK_EQ_STR(fake_last_path("GET /users/{userId}/recordings"),
                 "/users/u1/recordings?from=2025-03-01&to=2025-03-31");

    /* sizes: given, or probed for a file Zoom gives none */
    CHECK_EQ_INT(vfs_getattr(INSTANCE "/speaker_view_10.00.00Z.mp4", &st), 0);
    CHECK_EQ_INT(st.st_size, 3000000);
    CHECK_EQ_INT(st.st_mode & 0777, 0400);
    CHECK_EQ_INT(vfs_getattr(INSTANCE "/cc_10.00.00Z.vtt", &st), 0);
    CHECK_EQ_INT(st.st_size, 12345);
    /* a meeting file: its rendered size, writable */
    CHECK_EQ_INT(vfs_getattr(MEETINGS "/81234567890.json", &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK(st.st_size > 20);
}

/* Writes text into path as an editor would (open with O_TRUNC, write,
 * close); returns close()'s result. */
static int save(const char *path, const char *text, int flush_times)
{
    Handle *h;
    unsigned hints;
    int rc = vfs_open(path, O_WRONLY | O_TRUNC, &h, &hints);
    if (rc)
        rc = vfs_create(path, 0600, O_WRONLY | O_CREAT | O_TRUNC, &h, &hints);
    if (rc)
        return rc;
    CHECK_EQ_INT(vfs_write(h, text, strlen(text), 0), (long long)strlen(text));
    for (int i = 0; i < flush_times; i++)
        rc = vfs_flush(path, h);
    vfs_release(h);
    return rc;
}

static void test_patch_sends_only_what_changed(void)
{
    setup(false);
    const char *path = MEETINGS "/81234567890.json";
    /* the id and join_url are read-only; settings.x changed deep inside */
    CHECK_EQ_INT(
        save(path, "{\"id\":1,\"topic\":\"B\",\"join_url\":\"k\",\"settings\":{\"x\":2}}", 2), 0);
    CHECK_EQ_INT(fake_calls("PATCH /meetings/{meetingId}"), 1);
    char *body = fake_last_body("PATCH /meetings/{meetingId}");
    CHECK_EQ_STR(body, "{\"settings\":{\"x\":2},\"topic\":\"B\"}");
    free(body);
    CHECK_EQ_STR(fake_last_path("PATCH /meetings/{meetingId}"), "/meetings/81234567890");
    /* the same content again: no difference, nothing sent */
    fake_reset();
    setup(false);
    CHECK_EQ_INT(save(path,
                      "{\"id\":81234567890,\"topic\":\"A\",\"join_url\":\"j\",\"settings\":"
                      "{\"x\":1}}",
                      1),
                 0);
    CHECK_EQ_INT(fake_calls("PATCH /meetings/{meetingId}"), 0);
    /* invalid JSON: EINVAL at close, nothing sent */
    CHECK_EQ_INT(save(path, "{\"topic\": ", 1), -EINVAL);
    CHECK_EQ_INT(fake_calls("PATCH /meetings/{meetingId}"), 0);
    /* a read-only mount refuses before anything */
    setup(true);
    Handle *h;
    unsigned hints;
    CHECK_EQ_INT(vfs_open(path, O_WRONLY, &h, &hints), -EROFS);
    CHECK_EQ_INT(vfs_unlink(path), -EROFS);
    CHECK_EQ_INT(fake_calls_total() > 0 ? fake_calls("PATCH /meetings/{meetingId}") : 0, 0);
}

static void test_post_once_never_resent(void)
{
    setup(false);
    const char *path = MEETINGS "/new.json";
    /* Zoom's answer is lost: the meeting may exist now. */
    fake_answer("/users/u1/meetings", -EIO, NULL);
    CHECK_EQ_INT(save(path, "{\"topic\":\"T\",\"id\":5}", 3), -EIO);
    CHECK_EQ_INT(fake_calls("POST /users/{userId}/meetings"), 1);
    char *body = fake_last_body("POST /users/{userId}/meetings");
    CHECK_EQ_STR(body, "{\"topic\":\"T\"}"); /* the id is Zoom's to give */
    free(body);
    /* a POST that works: the file takes the new id as its name */
    setup(false);
    fake_answer("/users/u1/meetings", 0, "{\"id\":81299999999,\"topic\":\"T\"}");
    CHECK_EQ_INT(save(path, "{\"topic\":\"T\"}", 2), 0);
    CHECK_EQ_INT(fake_calls("POST /users/{userId}/meetings"), 1);
}

static void test_deletes(void)
{
    setup(false);
    CHECK_EQ_INT(vfs_unlink(MEETINGS "/81234567891.json"), 0);
    CHECK_EQ_INT(fake_calls("DELETE /meetings/{meetingId}"), 1);
    CHECK_EQ_STR(fake_last_path("DELETE /meetings/{meetingId}"), "/meetings/81234567891");
    /* a recording file goes to the trash by its id, under its instance's UUID */
    CHECK_EQ_INT(vfs_unlink(INSTANCE "/speaker_view_10.00.00Z.mp4"), 0);
    CHECK_EQ_INT(fake_calls("DELETE /meetings/{meetingId}/recordings/{recordingId}"), 1);
    CHECK_EQ_STR(fake_last_path("DELETE /meetings/{meetingId}/recordings/{recordingId}"),
                 "/meetings/abc%2F%3D/recordings/f1?action=trash");
    /* the instance folder: one request for all of it */
    setup(false);
    CHECK_EQ_INT(vfs_rmdir(INSTANCE), 0);
    CHECK_EQ_INT(fake_calls("DELETE /meetings/{meetingId}/recordings"), 1);
    CHECK_EQ_STR(fake_last_path("DELETE /meetings/{meetingId}/recordings"),
                 "/meetings/abc%2F%3D/recordings?action=trash");
    /* what Zoom has no removal for is refused, and nothing is sent */
    int before = fake_calls_total();
    CHECK_EQ_INT(vfs_unlink(ALICE "/user.json"), -EPERM);
    CHECK_EQ_INT(vfs_rmdir(MEETINGS), -EPERM);
    CHECK_EQ_INT(fake_calls_total(), before);
}

/* A read spans a chunk boundary and the later chunk fails: the reader gets
 * EIO, never a short count (which FUSE would take for the end of file). */
static void test_read_never_short_before_eof(void)
{
    setup(false);
    Handle *h;
    unsigned hints;
    const char *path = INSTANCE "/speaker_view_10.00.00Z.mp4";
    char *buf = xmalloc(128 * 1024);
    fake_file_fails_from(MP4_URL, 1 << 20, -EIO);
    CHECK_EQ_INT(vfs_open(path, O_RDONLY, &h, &hints), 0);
    CHECK(hints & VFS_KEEP_CACHE);
    /* a whole read, the right bytes */
    CHECK_EQ_INT(vfs_read(h, buf, 4096, 1000), 4096);
    bool same = true;
    for (int i = 0; i < 4096; i++)
        same &= (unsigned char)buf[i] == fake_byte(MP4_URL, 1000 + i);
    CHECK(same);
    CHECK_EQ_INT(vfs_read(h, buf, 128 * 1024, (1 << 20) - 64 * 1024), -EIO);
    /* up to the end of the file is not short */
    fake_file_fails_from(MP4_URL, 1LL << 40, 0);
    CHECK_EQ_INT(vfs_read(h, buf, 128 * 1024, 3000000 - 1000), 1000);
    CHECK_EQ_INT(vfs_read(h, buf, 128 * 1024, 3000000), 0);
    free(buf);
    vfs_release(h);
}

/* Editors' and scripts' own files live in memory: bounded in total. */
static void test_scratch_space_is_bounded(void)
{
    setup(false);
    size_t chunk = 8u << 20;
    char *buf = xcalloc(1, chunk);
    struct statvfs before, after;
    vfs_statfs(&before);
    int rc = 0, files = 0;
    for (; files < 10 && rc == 0; files++) {
        char *path = xasprintf(MEETINGS "/t%d", files);
        Handle *h = NULL;
        unsigned hints;
        rc = vfs_create(path, 0600, O_WRONLY | O_CREAT, &h, &hints);
        for (size_t off = 0; rc == 0 && off < 2 * chunk; off += chunk) {
            ssize_t n = vfs_write(h, buf, chunk, (off_t)off);
            rc = n < 0 ? (int)n : 0;
        }
        if (h)
            vfs_release(h);
        free(path);
    }
    CHECK_EQ_INT(rc, -ENOSPC);
    CHECK_EQ_INT(files, 5); /* 4 files of 16 MiB fit in 64 MiB */
    vfs_statfs(&after);
    CHECK(before.f_bfree == before.f_blocks && after.f_bfree == 0);
    free(buf);
    scratch_cleanup();
}

#define TRASH ALICE "/recordings/.trash"
#define PAST  "/past_meetings/abc%2F%3D"

/* The trash: both of Zoom's listings merged by instance, in month folders,
 * never in the listing of recordings/; mv back to where it was is one
 * recover, anywhere else nothing. */
static void test_trash(void)
{
    setup(false);
    /* trashed whole: the MP4; trashed alone later: a second MP4 of the same
     * instance, and one of an instance of another month */
    fake_list(
        "/users/u1/recordings?trash=true&trash_type=meeting_recordings",
        "[{\"uuid\":\"abc/=\",\"id\":81234567890,\"topic\":\"Standup\",\"start_time\":"
        "\"2025-03-15T10:00:00Z\",\"recording_files\":[{\"id\":\"f1\",\"file_type\":\"MP4\","
        "\"file_extension\":\"MP4\",\"file_size\":3000000,\"recording_type\":\"speaker_view\","
        "\"recording_start\":\"2025-03-15T10:00:00Z\",\"recording_end\":"
        "\"2025-03-15T10:30:00Z\",\"status\":\"completed\",\"deleted_time\":"
        "\"2025-04-01T00:00:00Z\",\"download_url\":\"" MP4_URL "\"},"
        "{\"file_type\":\"CC\",\"file_extension\":\"VTT\",\"recording_start\":"
        "\"2025-03-15T10:00:00Z\",\"download_url\":\"" CC_URL "\"}]}]");
    fake_list("/users/u1/recordings?trash=true&trash_type=recording_file",
              "[{\"uuid\":\"abc/=\",\"id\":81234567890,\"topic\":\"Standup\",\"start_time\":"
              "\"2025-03-15T10:00:00Z\",\"recording_files\":[{\"id\":\"f2\",\"file_type\":\"MP4\","
              "\"file_extension\":\"MP4\",\"file_size\":5,\"recording_type\":\"gallery_view\","
              "\"recording_start\":\"2025-03-15T10:00:00Z\",\"status\":\"completed\","
              "\"download_url\":\"u2\"}]},"
              "{\"uuid\":\"x\",\"id\":1,\"topic\":\"T\",\"start_time\":\"2025-02-01T09:00:00Z\","
              "\"recording_files\":[]}]");
    int rc;
    char *months = listing(ALICE "/recordings", &rc);
    CHECK(strstr(months, ".trash") == NULL);
    free(months);
    CHECK_EQ_INT(fake_calls("GET /users/{userId}/recordings"), 0);
    CHECK_LISTING(TRASH, "2025-02,2025-03");
    CHECK_EQ_INT(fake_calls("GET /users/{userId}/recordings"), 2); /* both kinds, once */
    const char *tinst = TRASH "/2025-03/2025-03-15T10.00.00Z_Standup_81234567890";
    char path[512];
    /* the CC file has no size (nor id): in recording.json, not a file */
    snprintf(path, sizeof(path), "%s", tinst);
    CHECK_LISTING(path, "gallery_view_10.00.00Z.mp4,recording.json,speaker_view_10.00.00Z.mp4");
    struct stat st;
    snprintf(path, sizeof(path), "%s/speaker_view_10.00.00Z.mp4", tinst);
    CHECK_EQ_INT(vfs_getattr(path, &st), 0);
    CHECK_EQ_INT(st.st_size, 3000000);
    CHECK_EQ_INT(st.st_mtime, 1742034600); /* recording_end */
    Handle *h;
    unsigned hints;
    CHECK_EQ_INT(vfs_open(path, O_RDONLY, &h, &hints), -EACCES);
    CHECK_EQ_INT(fake_downloads(), 0);
    /* rm in the trash: for good, so not without -o recording_delete=delete */
    CHECK_EQ_INT(vfs_unlink(path), -EPERM);
    CHECK_EQ_INT(vfs_rmdir(tinst), -EPERM);
    /* mv anywhere but where it was: nothing sent */
    CHECK_EQ_INT(vfs_rename(tinst, ALICE "/recordings/2025-02/x", 0), -EPERM);
    CHECK_EQ_INT(vfs_rename(tinst, MONTH "/other", 0), -EPERM);
    CHECK_EQ_INT(vfs_rename(path, MONTH "/other/speaker_view_10.00.00Z.mp4", 0), -EPERM);
    CHECK_EQ_INT(fake_calls("PUT /meetings/{meetingUUID}/recordings/status") +
                     fake_calls("PUT /meetings/{meetingId}/recordings/{recordingId}/status") +
                     fake_calls("DELETE /meetings/{meetingId}/recordings") +
                     fake_calls("DELETE /meetings/{meetingId}/recordings/{recordingId}"),
                 0);
    /* one file back */
    CHECK_EQ_INT(vfs_rename(path, INSTANCE "/speaker_view_10.00.00Z.mp4", 0), 0);
    CHECK_EQ_INT(fake_calls("PUT /meetings/{meetingId}/recordings/{recordingId}/status"), 1);
    CHECK_EQ_STR(fake_last_path("PUT /meetings/{meetingId}/recordings/{recordingId}/status"),
                 "/meetings/abc%2F%3D/recordings/f1/status");
    /* the whole folder back: one request, and both listings asked again */
    CHECK_EQ_INT(vfs_rename(tinst, INSTANCE, 0), 0);
    CHECK_EQ_INT(fake_calls("PUT /meetings/{meetingUUID}/recordings/status"), 1);
    char *body = fake_last_body("PUT /meetings/{meetingUUID}/recordings/status");
    CHECK_EQ_STR(body, "{\"action\":\"recover\"}");
    free(body);
    CHECK_LISTING(MONTH, "2025-03-15T10.00.00Z_Standup_81234567890");
    CHECK_LISTING(TRASH, "2025-02,2025-03");
    /* the trash again after each recovery (2 + 2), the month once */
    CHECK_EQ_INT(fake_calls("GET /users/{userId}/recordings"), 2 + 2 + 1 + 2);
}

/* participants.json and polls.json: shown when Zoom has them, every page
 * in one array; one request per meeting; a refusal turns the area off. */
static void test_attendance(void)
{
    setup(false);
    fake_list(PAST "/participants", "[{\"id\":\"\",\"name\":\"Ana\",\"user_email\":\"\"}]");
    fake_object(PAST "/polls", "{\"id\":81234567890,\"questions\":[]}");
    CHECK_LISTING(INSTANCE, "cc_10.00.00Z.vtt,participants.json,recording.json,"
                            "speaker_view_10.00.00Z.mp4");
    CHECK_LISTING(INSTANCE, "cc_10.00.00Z.vtt,participants.json,recording.json,"
                            "speaker_view_10.00.00Z.mp4");
    CHECK_EQ_INT(fake_calls("GET /past_meetings/{meetingId}/participants"), 1);
    CHECK_EQ_INT(fake_calls("GET /past_meetings/{meetingId}/polls"), 1);
    struct stat st;
    CHECK_EQ_INT(vfs_getattr(INSTANCE "/polls.json", &st), -ENOENT); /* no questions */
    CHECK_EQ_INT(vfs_getattr(INSTANCE "/participants.json", &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0400);
    Handle *h;
    unsigned hints;
    char buf[256];
    CHECK_EQ_INT(vfs_open(INSTANCE "/participants.json", O_RDONLY, &h, &hints), 0);
    ssize_t n = vfs_read(h, buf, sizeof(buf) - 1, 0);
    vfs_release(h);
    CHECK_EQ_INT(n, st.st_size);
    buf[n > 0 ? n : 0] = '\0';
    CHECK_EQ_STR(buf, "{\n  \"participants\": [\n    {\n      \"id\": \"\",\n      \"name\": "
                      "\"Ana\",\n      \"user_email\": \"\"\n    }\n  ]\n}\n");
    /* rm: nothing sent, hidden */
    int before = fake_calls_total();
    CHECK_EQ_INT(vfs_unlink(INSTANCE "/participants.json"), 0);
    CHECK_EQ_INT(fake_calls_total(), before);
    CHECK_EQ_INT(vfs_getattr(INSTANCE "/participants.json", &st), -ENOENT);

    /* missing scope: off for the mount, asked once */
    setup(false);
    fake_fail("/past_meetings", -EACCES, 100);
    CHECK_LISTING(INSTANCE, "cc_10.00.00Z.vtt,recording.json,speaker_view_10.00.00Z.mp4");
    store_forget_all();
    CHECK_LISTING(INSTANCE, "cc_10.00.00Z.vtt,recording.json,speaker_view_10.00.00Z.mp4");
    CHECK_EQ_INT(fake_calls("GET /past_meetings/{meetingId}/participants"), 1);
    CHECK_EQ_INT(fake_calls("GET /past_meetings/{meetingId}/polls"), 1);
}

#define REGS ALICE "/meetings/registrants/81234567890"

static void test_registrants(void)
{
    setup(false);
    /* only the meeting that takes registration; knowing costs its GET */
    CHECK_LISTING(ALICE "/meetings/registrants", "81234567890");
    CHECK_EQ_INT(fake_calls("GET /meetings/{meetingId}"), 2);
    /* every status, one list each; an id that cannot be a name left out */
    CHECK_LISTING(REGS, "r-2_x.json,r1.json");
    CHECK_EQ_INT(fake_calls("GET /meetings/{meetingId}/registrants"), 3);
    struct stat st;
    CHECK_EQ_INT(vfs_getattr(ALICE "/meetings/registrants/81234567891", &st), -ENOENT);
    CHECK_EQ_INT(vfs_getattr(REGS, &st), 0);
    CHECK_EQ_INT(st.st_mtime, 1738713600); /* the latest registration */
    /* a registrant: as listed, read-only, no request of its own */
    CHECK_EQ_INT(vfs_getattr(REGS "/r1.json", &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0400);
    Handle *h;
    unsigned hints;
    CHECK_EQ_INT(vfs_open(REGS "/r1.json", O_RDONLY, &h, &hints), 0);
    char buf[512];
    ssize_t n = vfs_read(h, buf, sizeof(buf), 0);
    vfs_release(h);
    CHECK_EQ_INT(n, st.st_size);
    CHECK(n > 0 && memmem(buf, (size_t)n, "\"a@example.org\"", 15) != NULL);
    CHECK_EQ_INT(fake_calls("GET /meetings/{meetingId}/registrants"), 3);
    /* no change is taken: not by open, nor by a save over it */
    int before = fake_calls_total();
    CHECK_EQ_INT(vfs_open(REGS "/r1.json", O_WRONLY, &h, &hints), -EACCES);
    CHECK_EQ_INT(vfs_create(REGS "/r1.json", 0600, O_WRONLY | O_CREAT | O_TRUNC, &h, &hints),
                 -EACCES);
    CHECK_EQ_INT(fake_calls_total(), before);

    /* a new file: one POST, without what Zoom gives; named by registrant_id */
    fake_answer("/meetings/81234567890/registrants", 0,
                "{\"id\":81234567890,\"registrant_id\":\"new1\",\"topic\":\"A\"}");
    CHECK_EQ_INT(save(REGS "/new.json",
                      "{\"email\":\"c@example.org\",\"first_name\":\"C\",\"id\":\"r9\","
                      "\"status\":\"approved\",\"create_time\":\"x\",\"join_url\":\"j\"}",
                      2),
                 0);
    CHECK_EQ_INT(fake_calls("POST /meetings/{meetingId}/registrants"), 1);
    CHECK_EQ_STR(fake_last_path("POST /meetings/{meetingId}/registrants"),
                 "/meetings/81234567890/registrants");
    char *body = fake_last_body("POST /meetings/{meetingId}/registrants");
    CHECK_EQ_STR(body, "{\"email\":\"c@example.org\",\"first_name\":\"C\"}");
    free(body);
    /* the lists were dropped: read again */
    CHECK_LISTING(REGS, "r-2_x.json,r1.json");
    CHECK_EQ_INT(fake_calls("GET /meetings/{meetingId}/registrants"), 6);

    /* rm: the registration */
    CHECK_EQ_INT(vfs_unlink(REGS "/r1.json"), 0);
    CHECK_EQ_STR(fake_last_path("DELETE /meetings/{meetingId}/registrants/{registrantId}"),
                 "/meetings/81234567890/registrants/r1");
    CHECK_EQ_INT(vfs_unlink(REGS "/nobody.json"), -ENOENT);
    CHECK_EQ_INT(fake_calls("DELETE /meetings/{meetingId}/registrants/{registrantId}"), 1);

    /* Zoom refusing the list (a missing scope): the folder is absent, and
     * not asked again within dir_ttl */
    setup(false);
    fake_fail("/meetings/81234567890/registrants", -EACCES, 1);
    CHECK_LISTING(ALICE "/meetings/registrants", "");
    CHECK_EQ_INT(vfs_getattr(REGS, &st), -ENOENT);
    CHECK_EQ_INT(fake_calls("GET /meetings/{meetingId}/registrants"), 1);
    /* a failure that says nothing of the folder fails the listing */
    setup(false);
    fake_fail("/meetings/81234567890/registrants", -EIO, 1);
    int rc;
    free(listing(ALICE "/meetings/registrants", &rc));
    CHECK_EQ_INT(rc, -EIO);
}

#define OCCS ALICE "/meetings/occurrences/81234567891"

static void test_occurrences(void)
{
    setup(false);
    /* the recurring meetings, from the listing's types: no request more */
    CHECK_LISTING(ALICE "/meetings/occurrences", "81234567891");
    CHECK_EQ_INT(fake_calls("GET /meetings/{meetingId}"), 0);
    struct stat st;
    CHECK_EQ_INT(vfs_getattr(ALICE "/meetings/occurrences/81234567890", &st), -ENOENT);
    /* the occurrences Zoom has not cancelled */
    CHECK_LISTING(OCCS, "1740000000000.json,1741209600000.json");
    CHECK_EQ_INT(vfs_getattr(OCCS "/1740604800000.json", &st), -ENOENT);
    CHECK_EQ_INT(vfs_getattr(OCCS "/1740000000000.json", &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    const char *route = "GET /meetings/{meetingId}?occurrence_id={occurrenceId}";
    CHECK_EQ_STR(fake_last_path(route), "/meetings/81234567891?occurrence_id=1740000000000");

    /* a save: one PATCH of that occurrence, of what changed */
    const char *patch = "PATCH /meetings/{meetingId}?occurrence_id={occurrenceId}";
    CHECK_EQ_INT(save(OCCS "/1740000000000.json",
                      "{\"id\":81234567891,\"topic\":\"B\",\"agenda\":\"Only this one\","
                      "\"duration\":30,\"settings\":{\"approval_type\":2,\"waiting_room\":true}}",
                      2),
                 0);
    CHECK_EQ_INT(fake_calls(patch), 1);
    CHECK_EQ_STR(fake_last_path(patch), "/meetings/81234567891?occurrence_id=1740000000000");
    char *body = fake_last_body(patch);
    CHECK_EQ_STR(body, "{\"agenda\":\"Only this one\",\"settings\":{\"waiting_room\":true}}");
    free(body);
    CHECK_EQ_INT(fake_calls("PATCH /meetings/{meetingId}"), 0);
    /* what one occurrence cannot take: refused whole, nothing sent */
    setup(false);
    CHECK_EQ_INT(save(OCCS "/1740000000000.json",
                      "{\"topic\":\"Renamed\",\"duration\":45,\"settings\":{\"approval_type\":0}}",
                      1),
                 -EINVAL);
    CHECK_EQ_INT(fake_calls(patch), 0);

    /* rm: that occurrence is cancelled, the series stays */
    CHECK_EQ_INT(vfs_unlink(OCCS "/1741209600000.json"), 0);
    const char *del = "DELETE /meetings/{meetingId}?occurrence_id={occurrenceId}";
    CHECK_EQ_STR(fake_last_path(del), "/meetings/81234567891?occurrence_id=1741209600000");
    CHECK_EQ_INT(fake_calls("DELETE /meetings/{meetingId}"), 0);
    CHECK_EQ_INT(vfs_unlink(OCCS "/1740604800000.json"), -ENOENT); /* cancelled already */
    CHECK_EQ_INT(fake_calls(del), 1);
}

/* An object Zoom answers 404 for, though a cached listing names it: gone
 * at once, left out of the listing, not asked again until a refresh. */
static void test_a_404_is_remembered_until_a_refresh(void)
{
    setup(false);
    const char *path = MEETINGS "/81234567890.json";
    int rc;
    char *names = listing(MEETINGS, &rc);
    CHECK(rc == 0 && strstr(names, "81234567890.json"));
    free(names);
    fake_fail("/meetings/81234567890", -ENOENT, 1);
    struct stat st;
    CHECK_EQ_INT(vfs_getattr(path, &st), -ENOENT);
    CHECK_EQ_INT(vfs_getattr(path, &st), -ENOENT);
    CHECK_EQ_INT(fake_calls("GET /meetings/{meetingId}"), 1);
    names = listing(MEETINGS, &rc);
    CHECK(rc == 0 && !strstr(names, "81234567890.json") && strstr(names, "81234567891.json"));
    free(names);
    store_forget_all();
    CHECK_EQ_INT(vfs_getattr(path, &st), 0);
    CHECK_EQ_INT(fake_calls("GET /meetings/{meetingId}"), 2);
}

int main(void)
{
    ledger_open(NULL, 1000);
    test_readdir();
    test_patch_sends_only_what_changed();
    test_post_once_never_resent();
    test_deletes();
    test_read_never_short_before_eof();
    test_scratch_space_is_bounded();
    test_trash();
    test_attendance();
    test_registrants();
    test_occurrences();
    test_a_404_is_remembered_until_a_refresh();
    stream_cleanup();
    store_cleanup();
    scratch_cleanup();
    ledger_close();
    fake_reset();
    return CHECK_DONE("test_vfs");
}
