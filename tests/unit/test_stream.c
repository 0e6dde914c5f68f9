/* Unit tests of stream (the chunks of an open recording file and its
 * read-ahead worker) through the fake client: the bytes, what is downloaded
 * and how often, readers served as bytes arrive, cut downloads, pinned
 * views and the unmount. */
#include "check.h"
#include "fake_client.h"

#include "zoomfs/op.h"
#include "zoomfs/stream.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KiB      ((size_t)1 << 10)
#define MiB      ((size_t)1 << 20)
#define URL      "https://zoom.example/rec/download/f"
#define CHUNK    (256 * KiB) /* stream.c's */
#define BATCH    (4 * MiB)   /* the most one read-ahead request asks for */
#define AHEAD    (2 * MiB)   /* -o readahead in these tests */
#define NSLOTS   (AHEAD / CHUNK + STREAM_VIEW_MAX + 4)
#define FILESIZE ((int64_t)(10 * MiB + 12345))

static bool same_bytes(const char *buf, int64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] != fake_byte(URL, off + (int64_t)i))
            return false;
    return true;
}

/* Reads [from, to) in reads of `step` bytes; true when every read
 * returned all its bytes, and the right ones. */
static bool read_all(Stream *s, int64_t from, int64_t to, size_t step)
{
    char *buf = xmalloc(step);
    bool ok = true;
    for (int64_t off = from; ok && off < to; off += (int64_t)step) {
        size_t want = to - off < (int64_t)step ? (size_t)(to - off) : step;
        ssize_t n = stream_read(s, buf, step, off);
        ok = n == (ssize_t)want && same_bytes(buf, off, want);
    }
    free(buf);
    return ok;
}

static int by_offset(const void *a, const void *b)
{
    int64_t x = ((const int64_t *)a)[0], y = ((const int64_t *)b)[0];
    return x < y ? -1 : x > y;
}

/* The bytes the downloads since the last fake_reset handed over cover
 * [0, size) exactly once, and none asked for more than max. Returns how
 * many downloads there were, -1 when not so. */
static int covered_once(int64_t size, size_t max)
{
    int n = 0;
    int64_t off;
    size_t len, got;
    while (fake_download_range(n, &off, &len, NULL))
        n++;
    int64_t(*r)[2] = xcalloc((size_t)n + 1, sizeof(*r));
    bool ok = true;
    for (int i = 0; i < n; i++) {
        fake_download_range(i, &r[i][0], &len, &got);
        r[i][1] = r[i][0] + (int64_t)got;
        ok &= len <= max;
    }
    qsort(r, (size_t)n, sizeof(*r), by_offset);
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        ok &= r[i][0] == at;
        at = r[i][1] < size ? r[i][1] : size;
    }
    ok &= at == size;
    free(r);
    return ok ? n : -1;
}

static void test_sequential_read_fetches_each_byte_once_in_large_requests(void)
{
    fake_reset();
    fake_file(URL, FILESIZE);
    Stream *s = stream_open(URL, FILESIZE);
    CHECK(read_all(s, 0, FILESIZE, 128 * KiB));
    stream_close(s);
    int n = covered_once(FILESIZE, BATCH);
    CHECK(n > 0);
    /* the window grows to 2 MiB and is topped up a half at a time: about
     * one request per MiB, a few small ones while it grows */
    CHECK(n <= 16);

    /* with the default 8 MiB window, requests of 4 MiB */
    stream_init(fake_client(), 8 * MiB);
    fake_reset();
    fake_file(URL, 64 * MiB);
    s = stream_open(URL, 64 * MiB);
    CHECK(read_all(s, 0, 64 * MiB, 128 * KiB));
    stream_close(s);
    n = covered_once(64 * MiB, BATCH);
    CHECK(n > 0 && n <= 24);
    stream_init(fake_client(), AHEAD);
}

static void test_random_read_fetches_one_chunk(void)
{
    fake_reset();
    fake_file(URL, FILESIZE);
    Stream *s = stream_open(URL, FILESIZE);
    char buf[4096];
    CHECK_EQ_INT(stream_read(s, buf, sizeof(buf), 5 * MiB + 1000), sizeof(buf));
    CHECK(same_bytes(buf, 5 * MiB + 1000, sizeof(buf)));
    int64_t off;
    size_t len;
    CHECK_EQ_INT(fake_downloads(), 1);
    CHECK(fake_download_range(0, &off, &len, NULL) && off == 5 * MiB && len == CHUNK);
    /* more of that chunk is not fetched again (a second read near the
     * first counts as sequential: read-ahead fetches what follows) */
    CHECK_EQ_INT(stream_read(s, buf, sizeof(buf), 5 * MiB + 200000), sizeof(buf));
    CHECK(same_bytes(buf, 5 * MiB + 200000, sizeof(buf)));
    bool again = false;
    for (int i = 1; fake_download_range(i, &off, &len, NULL); i++)
        again |= off < (int64_t)(5 * MiB + CHUNK);
    CHECK(!again);
    /* a read across two chunks fetches both in one request */
    static char big[64 * KiB];
    CHECK_EQ_INT(stream_read(s, big, sizeof(big), 8 * MiB - 1000), sizeof(big));
    CHECK(same_bytes(big, 8 * MiB - 1000, sizeof(big)));
    bool both = false;
    for (int i = 1; fake_download_range(i, &off, &len, NULL); i++)
        both |= off == (int64_t)(8 * MiB - CHUNK) && len == 2 * CHUNK;
    CHECK(both);

    /* the end of the file: the last chunk is short, a read is not */
    CHECK_EQ_INT(stream_read(s, big, sizeof(big), FILESIZE - 100), 100);
    CHECK(same_bytes(big, FILESIZE - 100, 100));
    CHECK_EQ_INT(stream_read(s, big, sizeof(big), FILESIZE), 0);
    stream_close(s);
}

typedef struct {
    Stream *s;
    int64_t off;
    size_t len;
    ssize_t got;
    bool right;
    volatile bool done;
} Reader;

static void *reader_main(void *arg)
{
    Reader *r = arg;
    char *buf = xmalloc(r->len);
    r->got = stream_read(r->s, buf, r->len, r->off);
    r->right = r->got > 0 && same_bytes(buf, r->off, (size_t)r->got);
    free(buf);
    r->done = true;
    return NULL;
}

static void *read_all_main(void *arg)
{
    Reader *r = arg;
    r->right = read_all(r->s, r->off, r->off + (int64_t)r->len, 128 * KiB);
    r->done = true;
    return NULL;
}

static bool finishes_within(Reader *r, int64_t ms)
{
    for (int64_t until = now_ms() + ms; !r->done && now_ms() < until;)
        sleep_ms(5);
    return r->done;
}

static void test_reader_waits_for_its_bytes_not_for_the_request(void)
{
    fake_reset();
    fake_file(URL, FILESIZE);
    /* the worker's first request ([0, 768 KiB)) stops at 512 KiB */
    fake_gate_close(URL, 512 * KiB);
    Stream *s = stream_open(URL, FILESIZE);
    Reader r = {.s = s, .off = 0, .len = 128 * KiB};
    pthread_t t;
    pthread_create(&t, NULL, reader_main, &r);
    CHECK(finishes_within(&r, 5000));
    CHECK_EQ_INT(r.got, 128 * KiB);
    CHECK(r.right);
    CHECK_EQ_INT(fake_gate_waiting(), 1); /* the request is not over */
    CHECK_EQ_INT(fake_downloads(), 1);    /* and the reader did not ask again */
    fake_gate_open();
    pthread_join(t, NULL);
    CHECK(read_all(s, 128 * KiB, FILESIZE, 128 * KiB));
    stream_close(s);
    CHECK(covered_once(FILESIZE, BATCH) > 0);
}

static void test_cut_download_goes_on_from_the_byte_where_it_stopped(void)
{
    fake_reset();
    fake_file(URL, FILESIZE);
    fake_file_cut(URL, 300000, -EIO, 1);
    Stream *s = stream_open(URL, FILESIZE);
    CHECK(read_all(s, 0, FILESIZE, 128 * KiB));
    stream_close(s);
    CHECK(covered_once(FILESIZE, BATCH) > 0); /* nothing fetched twice */
    bool resumed = false;
    int64_t off;
    size_t len;
    for (int i = 0; fake_download_range(i, &off, &len, NULL); i++)
        resumed |= off == 300000;
    CHECK(resumed);
}

static void test_a_read_fails_only_when_its_own_fetch_fails(void)
{
    fake_reset();
    fake_file(URL, FILESIZE);
    /* the worker's request fails, the reader's own one then works */
    fake_file_cut(URL, MiB + 100, -EIO, 1);
    Stream *s = stream_open(URL, FILESIZE);
    CHECK(read_all(s, 0, 2 * MiB, 128 * KiB));
    stream_close(s);

    /* both fail: EIO, never a short count; the next read tries again */
    fake_reset();
    fake_file(URL, FILESIZE);
    fake_file_cut(URL, MiB + 100, -EIO, 2);
    s = stream_open(URL, FILESIZE);
    CHECK(read_all(s, 0, MiB, 128 * KiB));
    static char buf[128 * KiB];
    ssize_t n = stream_read(s, buf, sizeof(buf), MiB);
    CHECK_EQ_INT(n, -EIO);
    CHECK_EQ_INT(stream_read(s, buf, sizeof(buf), MiB), sizeof(buf));
    CHECK(same_bytes(buf, MiB, sizeof(buf)));
    stream_close(s);
}

static void test_view_points_into_the_chunks(void)
{
    fake_reset();
    fake_file(URL, FILESIZE);
    Stream *s = stream_open(URL, FILESIZE);
    static char buf[300 * KiB];
    memset(buf, 0x5a, sizeof(buf));
    StreamView v;
    stream_view_arm(&v);
    CHECK_EQ_INT(stream_read(s, buf, sizeof(buf), 200 * KiB), sizeof(buf));
    stream_view_arm(NULL);
    CHECK_EQ_INT(v.n, 2);
    CHECK_EQ_INT(v.iov[0].iov_len, CHUNK - 200 * KiB);
    CHECK_EQ_INT(v.iov[1].iov_len, 300 * KiB - (CHUNK - 200 * KiB));
    CHECK(same_bytes(v.iov[0].iov_base, 200 * KiB, v.iov[0].iov_len));
    CHECK(same_bytes(v.iov[1].iov_base, CHUNK, v.iov[1].iov_len));
    bool untouched = true;
    for (size_t i = 0; i < sizeof(buf); i++)
        untouched &= buf[i] == 0x5a;
    CHECK(untouched);
    stream_view_release(&v);
    CHECK_EQ_INT(v.n, 0);
    /* a read longer than a view holds is copied */
    size_t big = (STREAM_VIEW_MAX + 1) * CHUNK;
    char *copy = xmalloc(big);
    stream_view_arm(&v);
    CHECK_EQ_INT(stream_read(s, copy, big, 0), big);
    stream_view_arm(NULL);
    CHECK_EQ_INT(v.n, 0);
    CHECK(same_bytes(copy, 0, big));
    free(copy);
    stream_close(s);
}

static void test_pinned_chunk_is_not_reused(void)
{
    fake_reset();
    fake_file(URL, FILESIZE);
    Stream *s = stream_open(URL, FILESIZE);
    char buf[4096];
    StreamView v;
    stream_view_arm(&v);
    CHECK_EQ_INT(stream_read(s, buf, sizeof(buf), 0), sizeof(buf));
    stream_view_arm(NULL);
    CHECK_EQ_INT(v.n, 1);
    /* another reader goes through the whole file: chunk NSLOTS wants the
     * pinned chunk's slot, and waits for it */
    Reader r = {.s = s, .off = 0, .len = (size_t)FILESIZE};
    pthread_t t;
    pthread_create(&t, NULL, read_all_main, &r);
    CHECK(!finishes_within(&r, 300));
    CHECK(same_bytes(v.iov[0].iov_base, 0, v.iov[0].iov_len));
    stream_view_release(&v);
    CHECK(finishes_within(&r, 10000));
    pthread_join(t, NULL);
    CHECK(r.right);
    stream_close(s);
    CHECK(FILESIZE > (int64_t)(NSLOTS * CHUNK));
}

static void test_parallel_readers_get_the_right_bytes(void)
{
    fake_reset();
    fake_file(URL, 16 * MiB);
    Stream *s = stream_open(URL, 16 * MiB);
    /* four threads, each a quarter of the file, at the same time */
    Reader r[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (Reader){.s = s, .off = (int64_t)i * 4 * (int64_t)MiB, .len = 4 * MiB};
        pthread_create(&t[i], NULL, read_all_main, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(r[i].right);
    }
    stream_close(s);
}

/* Last: the unmount (op_stop_all) cannot be undone. */
static void test_unmount_ends_waiting_reads_and_workers(void)
{
    fake_reset();
    fake_file(URL, FILESIZE);
    fake_gate_close(URL, 512 * KiB);
    Stream *s = stream_open(URL, FILESIZE);
    CHECK(read_all(s, 0, 256 * KiB, 128 * KiB));
    Reader r = {.s = s, .off = 512 * KiB, .len = 128 * KiB};
    pthread_t t;
    pthread_create(&t, NULL, reader_main, &r);
    CHECK(!finishes_within(&r, 100)); /* its bytes are behind the gate */
    stream_cleanup();                 /* cuts transfers, waits for the workers */
    CHECK(finishes_within(&r, 5000));
    pthread_join(t, NULL);
    CHECK_EQ_INT(r.got, -EINTR);
    stream_close(s);
}

int main(void)
{
    stream_init(fake_client(), AHEAD);
    test_sequential_read_fetches_each_byte_once_in_large_requests();
    test_random_read_fetches_one_chunk();
    test_reader_waits_for_its_bytes_not_for_the_request();
    test_cut_download_goes_on_from_the_byte_where_it_stopped();
    test_a_read_fails_only_when_its_own_fetch_fails();
    test_view_points_into_the_chunks();
    test_pinned_chunk_is_not_reused();
    test_parallel_readers_get_the_right_bytes();
    test_unmount_ends_waiting_reads_and_workers();
    fake_reset();
    return CHECK_DONE("stream");
}
