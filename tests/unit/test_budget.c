/* Unit tests of the read-ahead memory budget (stream_budget) through the
 * fake client: many streams read at once within it, a reader's own fetch
 * never waits for memory, one reader keeps its whole window, and every
 * buffer is counted back when the streams close. */
#include "check.h"
#include "fake_client.h"

#include "zoomfs/stats.h"
#include "zoomfs/stream.h"
#include "zoomfs/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KiB      ((size_t)1 << 10)
#define MiB      ((size_t)1 << 20)
#define URL      "https://zoom.example/rec/download/f"
#define CHUNK    (256 * KiB) /* stream.c's */
#define STEP     (128 * KiB) /* each reader's reads */
#define AHEAD    (2 * MiB)   /* -o readahead in these tests */
#define FILESIZE ((int64_t)(6 * MiB + 12345))
#define READERS  8

/* A line "name N" of .zoomfs/stats. */
static long long stat_of(const char *name)
{
    size_t len;
    char *text = stats_render(&len);
    long long v = -1;
    size_t n = strlen(name);
    for (char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, name, n) == 0 && line[n] == ' ')
            v = atoll(line + n + 1);
    free(text);
    return v;
}

/* Streams free their chunks when the last reference goes, the worker's
 * perhaps a moment after the close. */
static long long held_after_close(void)
{
    for (int64_t until = now_ms() + 5000; stat_of("readahead_bytes") != 0 && now_ms() < until;)
        sleep_ms(5);
    return stat_of("readahead_bytes");
}

typedef struct {
    Stream *s;
    bool right;
} Reader;

static void *read_whole(void *arg)
{
    Reader *r = arg;
    char *buf = xmalloc(STEP);
    r->right = true;
    for (int64_t off = 0; r->right && off < FILESIZE; off += (int64_t)STEP) {
        size_t want = FILESIZE - off < (int64_t)STEP ? (size_t)(FILESIZE - off) : STEP;
        ssize_t n = stream_read(r->s, buf, STEP, off);
        r->right = n == (ssize_t)want;
        for (size_t i = 0; r->right && i < want; i++)
            r->right = (unsigned char)buf[i] == fake_byte(URL, off + (int64_t)i);
    }
    free(buf);
    return NULL;
}

/* Readers of their own streams, all at once; true when each got every
 * byte right. */
static bool read_in_parallel(int n)
{
    Stream *s[READERS];
    Reader r[READERS];
    pthread_t t[READERS];
    for (int i = 0; i < n; i++) {
        s[i] = stream_open(URL, FILESIZE);
        r[i] = (Reader){.s = s[i]};
        pthread_create(&t[i], NULL, read_whole, &r[i]);
    }
    bool ok = true;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        ok &= r[i].right;
        stream_close(s[i]);
    }
    return ok;
}

/* First: readahead_peak is the most since the start. */
static void test_parallel_readers_stay_within_the_budget(void)
{
    fake_reset();
    fake_file(URL, FILESIZE);
    stream_budget(2 * MiB);
    CHECK(read_in_parallel(READERS));
    /* Read-ahead stays within the budget; beyond it only what readers
     * fetch for themselves: a reader of 128 KiB at a time holds its
     * chunk and the one it read last (which the next read may go on in). */
    long long peak = stat_of("readahead_peak");
    CHECK(peak >= (long long)(2 * MiB) - (long long)CHUNK);
    CHECK(peak <= (long long)(2 * MiB + READERS * 2 * CHUNK));
    CHECK_EQ_INT(held_after_close(), 0);
}

static void test_reads_work_without_read_ahead(void)
{
    /* No room at all: every read fetches its own chunk, each once. */
    fake_reset();
    fake_file(URL, FILESIZE);
    stream_budget(0);
    CHECK(read_in_parallel(1));
    CHECK_EQ_INT(fake_downloads(), (FILESIZE + (int64_t)CHUNK - 1) / (int64_t)CHUNK);
    CHECK(read_in_parallel(3));
    CHECK_EQ_INT(held_after_close(), 0);
}

static void test_a_stream_that_holds_the_budget_does_not_stop_others(void)
{
    /* One stream filled the budget with its window and its reader went
     * away without closing: another still reads, with chunks of its own. */
    fake_reset();
    fake_file(URL, FILESIZE);
    stream_budget(AHEAD);
    Stream *idle = stream_open(URL, FILESIZE);
    char buf[STEP];
    for (int64_t off = 0; off < (int64_t)MiB; off += (int64_t)STEP)
        CHECK_EQ_INT(stream_read(idle, buf, STEP, off), STEP);
    /* its worker fills its window (7 chunks: it is topped up half a window
     * at a time), most of the budget */
    long long most = (long long)(AHEAD - 2 * CHUNK);
    for (int64_t until = now_ms() + 5000; stat_of("readahead_bytes") < most && now_ms() < until;)
        sleep_ms(5);
    CHECK(stat_of("readahead_bytes") >= most);
    CHECK(read_in_parallel(2));
    stream_close(idle);
    CHECK_EQ_INT(held_after_close(), 0);
}

static void test_one_reader_keeps_its_whole_window(void)
{
    /* With room to spare the budget changes nothing: the window grows to
     * -o readahead and nothing is given back (the slots reuse buffers). */
    fake_reset();
    fake_file(URL, FILESIZE);
    stream_budget(48 * MiB);
    Stream *s = stream_open(URL, FILESIZE);
    Reader r = {.s = s};
    read_whole(&r);
    CHECK(r.right);
    long long held = stat_of("readahead_bytes");
    CHECK(held >= (long long)(AHEAD + CHUNK));
    stream_close(s);
    CHECK_EQ_INT(held_after_close(), 0);
}

int main(void)
{
    stream_init(fake_client(), AHEAD);
    test_parallel_readers_stay_within_the_budget();
    test_reads_work_without_read_ahead();
    test_a_stream_that_holds_the_budget_does_not_stop_others();
    test_one_reader_keeps_its_whole_window();
    stream_cleanup();
    fake_reset();
    return CHECK_DONE("budget");
}
