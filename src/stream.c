/* stream: the chunks of an open recording file and the read-ahead worker
 * that fills them; the bytes come from the client's download. */
#include "zoomfs/stream.h"

#include "zoomfs/http.h"
#include "zoomfs/op.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bytes are held in aligned chunks so that the kernel's reads, which come
 * in parallel and out of order, find what an earlier read fetched. A chunk
 * is what a random read costs; read-ahead asks for many in one request. */
#define CHUNK     ((size_t)256 << 10)
#define BATCH_MAX 16 /* chunks (4 MiB) one read-ahead request asks for at most */
/* Slots beyond the read-ahead window: the chunks being read, and reads
 * that arrive a little late. More than a view holds, so that one read never
 * needs two chunks of the same slot. */
#define SPARE (STREAM_VIEW_MAX + 4)
/* A read that starts this far behind the end of the run of reads, or this
 * far after it, still continues it (the kernel's reads overtake each
 * other). */
#define SEQ_BEHIND    ((int64_t)2 << 20)
#define SEQ_AHEAD     ((int64_t)1 << 20)
#define WAIT_SLICE_MS 100 /* how often a waiting reader checks its operation */
/* The smallest read-ahead window a fair share of the budget cuts to: below
 * it, requests get too small to be worth a worker. */
#define SHARE_MIN 4

static const ZoomClient *client;
static size_t readahead_max;

/* Chunk memory of all streams together. A buffer for read-ahead is taken
 * only while `held` stays within `budget`; a reader's own fetch always gets
 * one (it must not fail or wait for memory). Once read-ahead is refused,
 * streams give back the chunks their readers are done with (give_back), so
 * held exceeds the budget by at most the chunks readers are reading now and
 * the one each read last; and the windows shrink to a fair share
 * (fair_window). Atomics, not a lock: touched once per buffer allocated or
 * freed, and once per read to see whether the budget is tight. */
static size_t budget = SIZE_MAX;
static size_t held, held_peak; /* bytes of chunk buffers allocated now, and at most */

/* Read-ahead workers outlive the files they serve by at most one request;
 * the unmount waits for them (and cuts their transfers short) before the
 * HTTP client goes away under them. */
static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t workers_gone = PTHREAD_COND_INITIALIZER;
static int workers; /* also read unlocked, atomically: the streams reading ahead */

/* The view armed on this thread (fs_read's), or NULL. */
static __thread StreamView *armed;

static int64_t held_now(void)
{
    return (int64_t)__atomic_load_n(&held, __ATOMIC_RELAXED);
}

static int64_t held_most(void)
{
    return (int64_t)__atomic_load_n(&held_peak, __ATOMIC_RELAXED);
}

void stream_init(const ZoomClient *c, size_t ra_max)
{
    client = c;
    readahead_max = ra_max < CHUNK ? CHUNK : ra_max;
    stats_gauge("readahead_bytes", held_now);
    stats_gauge("readahead_peak", held_most);
}

void stream_budget(size_t total)
{
    budget = total;
}

/* Counts one more chunk buffer: always for a reader's own fetch, for
 * read-ahead only while it fits in the budget. */
static bool budget_take(bool ahead)
{
    size_t now = __atomic_load_n(&held, __ATOMIC_RELAXED);
    do {
        if (ahead && now + CHUNK > budget)
            return false;
    } while (!__atomic_compare_exchange_n(&held, &now, now + CHUNK, true, __ATOMIC_RELAXED,
                                          __ATOMIC_RELAXED));
    now += CHUNK;
    size_t peak = __atomic_load_n(&held_peak, __ATOMIC_RELAXED);
    while (now > peak && !__atomic_compare_exchange_n(&held_peak, &peak, now, true,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    return true;
}

static void budget_put(void)
{
    __atomic_sub_fetch(&held, CHUNK, __ATOMIC_RELAXED);
}

/* Would read-ahead be refused a buffer now? */
static bool budget_tight(void)
{
    return __atomic_load_n(&held, __ATOMIC_RELAXED) + CHUNK > budget;
}

void stream_cleanup(void)
{
    op_stop_all();
    lock(&workers_lock);
    while (workers > 0)
        pthread_cond_wait(&workers_gone, &workers_lock);
    unlock(&workers_lock);
}

static void probe_write(void *ctx, size_t at, const char *data, size_t n)
{
    (void)at, (void)n;
    *(char *)ctx = data[0];
}

int64_t stream_probe_size(const char *download_url)
{
    char byte;
    DownloadSink to = {probe_write, &byte};
    int64_t total = -1;
    ssize_t n = client->download(download_url, 0, 1, -1, &to, &total);
    if (n < 0)
        return n;
    if (total < 0) {
        /* An empty file answers 416 or 200 with no body: size 0. */
        return n == 0 ? 0 : -EIO;
    }
    return total;
}

/* A chunk's bytes only grow while it holds one index: readers use
 * [0, filled) while a download writes after it, and a slot changes index
 * only when nobody fetches into it or reads from it. */
typedef struct {
    int64_t index; /* -1: empty */
    size_t len;    /* bytes of the file in it (less than CHUNK at the end) */
    size_t filled; /* bytes [0, filled) are in data */
    bool fetching; /* a download writes after filled, up to len */
    int pins;      /* views handing its bytes over right now */
    char *data;    /* CHUNK bytes, allocated on first use */
} Chunk;

/* Sequential readers are served from chunks that a worker thread fetched
 * ahead of them, so the network and the reader overlap; a random reader
 * fetches only the chunk it needs. Readers wait for bytes, not for whole
 * requests: each chunk can be read as soon as its bytes are in. */
struct Stream {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* bytes came, a fetch ended, a chunk was unpinned */
    pthread_cond_t work; /* the worker: more to fetch, a slot freed, closing */
    int refs;            /* the opener, the worker while it runs, each view */
    char *url;
    int64_t size;
    int64_t nindex; /* chunks in the file */
    Chunk *slots;   /* chunk i lives in slots[i % nslots] */
    size_t nslots;
    size_t max_ahead;   /* chunks */
    int64_t wake_at;    /* the first byte a waiting reader needs (INT64_MAX: none) */
    int waiting;        /* readers waiting on cond */
    int64_t ahead_next; /* the chunks [ahead_next, ahead_end) are the worker's */
    int64_t ahead_end;
    int64_t seq_end; /* end of the run of reads seen so far */
    int run;         /* how many reads in a row continued it */
    bool worker_running;
    bool worker_blocked; /* waits for a slot to be unpinned */
    bool closing;
    int64_t timed_out_at; /* now_ms() of a reader's last deadline, 0: none */
};

/* After a read gave up at its deadline the kernel tries again at once, page
 * by page, each a read of its own that a trickling CDN can just serve in
 * time: one read() would take minutes. Reads that need the network fail
 * at once for this long after a deadline instead, so the read() ends. */
#define TIMED_OUT_MS 1000

static Chunk *slot_of(const Stream *s, int64_t index)
{
    return &s->slots[(size_t)index % s->nslots];
}

static size_t chunk_len(const Stream *s, int64_t index)
{
    int64_t left = s->size - index * (int64_t)CHUNK;
    return left < (int64_t)CHUNK ? (size_t)left : CHUNK;
}

/* Chunk index's slot marked for this thread to fetch into, or NULL when
 * someone else fetches into it or reads another chunk from it, or when
 * read-ahead (ahead) would need a buffer the budget has no room for. Called
 * locked. */
static Chunk *claim(Stream *s, int64_t index, bool ahead)
{
    Chunk *c = slot_of(s, index);
    if (c->fetching || (c->index != index && c->pins))
        return NULL;
    if (c->index != index) {
        if (!c->data) {
            if (!budget_take(ahead))
                return NULL;
            c->data = xmalloc(CHUNK);
        }
        c->index = index;
        c->len = chunk_len(s, index);
        c->filled = 0;
    }
    c->fetching = true;
    return c;
}

/* Frees c's buffer, if it has one, back to the budget; c is then empty. */
static void drop_buffer(Chunk *c)
{
    if (!c->data)
        return;
    free(c->data);
    c->data = NULL;
    c->index = -1;
    budget_put();
}

/* One download into consecutive chunks. */
typedef struct {
    Stream *s;
    Chunk **batch;
    int64_t start; /* the file offset of the download's first byte */
} Fetch;

static void fetch_write(void *ctx, size_t at, const char *data, size_t n)
{
    Fetch *f = ctx;
    Stream *s = f->s;
    int64_t pos = f->start + (int64_t)at, end = pos + (int64_t)n;
    int64_t first = pos / (int64_t)CHUNK;
    /* Unlocked: only this thread writes after filled, and the slots keep
     * their chunks while they are being fetched. */
    for (int64_t p = pos; p < end;) {
        Chunk *c = f->batch[p / (int64_t)CHUNK - f->batch[0]->index];
        size_t in = (size_t)(p % (int64_t)CHUNK);
        size_t m = c->len - in < (size_t)(end - p) ? c->len - in : (size_t)(end - p);
        memcpy(c->data + in, data + (p - pos), m);
        p += (int64_t)m;
    }
    lock(&s->lock);
    for (int64_t i = first; i * (int64_t)CHUNK < end; i++) {
        Chunk *c = f->batch[i - f->batch[0]->index];
        int64_t upto = end - i * (int64_t)CHUNK;
        c->filled = upto < (int64_t)c->len ? (size_t)upto : c->len;
    }
    if (end >= s->wake_at) {
        s->wake_at = INT64_MAX;
        pthread_cond_broadcast(&s->cond);
    }
    unlock(&s->lock);
}

/* Downloads batch[0..n): consecutive chunks that this thread claimed, the
 * first from its filled bytes on, the others empty. Called locked; unlocks
 * during the transfer. Returns 0 when every chunk is full, else -errno;
 * whatever came stays (a later fetch goes on from there). */
static int fetch(Stream *s, Chunk **batch, size_t n)
{
    Fetch f = {.s = s,
               .batch = batch,
               .start = batch[0]->index * (int64_t)CHUNK + (int64_t)batch[0]->filled};
    size_t want = 0;
    for (size_t i = 0; i < n; i++)
        want += batch[i]->len;
    want -= batch[0]->filled;
    DownloadSink to = {fetch_write, &f};
    unlock(&s->lock);
    ssize_t got = client->download(s->url, f.start, want, s->size, &to, NULL);
    lock(&s->lock);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        batch[i]->fetching = false;
        if (batch[i]->filled < batch[i]->len)
            rc = got < 0 ? (int)got : -EIO; /* a short count: the size was wrong */
    }
    pthread_cond_broadcast(&s->cond);
    if (s->worker_blocked)
        pthread_cond_signal(&s->work);
    return rc;
}

static void stream_unref(Stream *s)
{
    lock(&s->lock);
    bool last = --s->refs == 0;
    unlock(&s->lock);
    if (!last)
        return;
    for (size_t i = 0; i < s->nslots; i++)
        drop_buffer(&s->slots[i]);
    free(s->slots);
    pthread_cond_destroy(&s->cond);
    pthread_cond_destroy(&s->work);
    pthread_mutex_destroy(&s->lock);
    free(s->url);
    free(s);
}

/* The next chunks the worker is to fetch, claimed: a run that one request
 * can carry. Returns how many (0: none to fetch, or the next slot is busy).
 * Called locked. */
static size_t take_batch(Stream *s, Chunk **batch)
{
    for (; s->ahead_next < s->ahead_end; s->ahead_next++) {
        Chunk *c = slot_of(s, s->ahead_next);
        if (c->index != s->ahead_next || (c->filled < c->len && !c->fetching))
            break; /* not there, nor on its way */
    }
    size_t n = 0;
    for (int64_t i = s->ahead_next; i < s->ahead_end && n < BATCH_MAX; i++) {
        Chunk *c = slot_of(s, i);
        /* A run ends before a chunk that has bytes: one request carries
         * one stretch of the file. */
        if (n > 0 && c->index == i && c->filled > 0)
            break;
        if (c->index == i && c->fetching)
            break;
        if (!(c = claim(s, i, true)))
            break;
        batch[n++] = c;
    }
    s->ahead_next += (int64_t)n;
    return n;
}

static void *ahead_worker(void *arg)
{
    Stream *s = arg;
    lock(&s->lock);
    for (;;) {
        Chunk *batch[BATCH_MAX];
        size_t n = 0;
        /* Wakes up now and then to notice an unmount even for a file that
         * was never closed (lazy unmount). */
        while (!s->closing && !op_stopping() && (n = take_batch(s, batch)) == 0) {
            s->worker_blocked = s->ahead_next < s->ahead_end;
            if (s->worker_blocked && s->waiting)
                pthread_cond_broadcast(&s->cond); /* readers get it themselves */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&s->work, &s->lock, &until);
        }
        s->worker_blocked = false;
        if (s->closing || op_stopping()) {
            for (size_t i = 0; i < n; i++)
                batch[i]->fetching = false;
            break;
        }
        op_begin(); /* each batch has the deadline of an operation */
        fetch(s, batch, n);
        op_end();
    }
    s->worker_running = false;
    pthread_cond_broadcast(&s->cond); /* readers waiting for it fetch themselves */
    unlock(&s->lock);
    stream_unref(s);
    http_thread_done();
    lock(&workers_lock);
    if (__atomic_sub_fetch(&workers, 1, __ATOMIC_RELAXED) == 0)
        pthread_cond_broadcast(&workers_gone);
    unlock(&workers_lock);
    return NULL;
}

Stream *stream_open(const char *download_url, int64_t size)
{
    Stream *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_cond_init(&s->work, NULL);
    s->refs = 1;
    s->url = xstrdup(download_url);
    s->size = size;
    s->nindex = (size + (int64_t)CHUNK - 1) / (int64_t)CHUNK;
    s->max_ahead = readahead_max / CHUNK;
    s->nslots = s->max_ahead + SPARE;
    s->slots = xcalloc(s->nslots, sizeof(Chunk));
    for (size_t i = 0; i < s->nslots; i++)
        s->slots[i].index = -1;
    s->wake_at = INT64_MAX;
    return s;
}

void stream_close(Stream *s)
{
    if (!s)
        return;
    /* A worker in the middle of a fetch finishes on its own (bounded by the
     * request timeouts) and frees the stream; close does not wait for it. */
    lock(&s->lock);
    s->closing = true;
    pthread_cond_broadcast(&s->work);
    unlock(&s->lock);
    stream_unref(s);
}

/* The most chunks s may fetch ahead: max_ahead, or less when the budget
 * shared equally among the streams reading ahead (those with a worker) is
 * less; SHARE_MIN at least (the budget still has the last word). */
static size_t fair_window(const Stream *s)
{
    size_t streams = (size_t)__atomic_load_n(&workers, __ATOMIC_RELAXED) + !s->worker_running;
    size_t share = budget / CHUNK / streams;
    if (share < SHARE_MIN)
        share = SHARE_MIN;
    return share < s->max_ahead ? share : s->max_ahead;
}

/* A sequential read of chunks [first, last]: the worker is to fetch them
 * (the reader waits for their bytes) and the window after them, which
 * doubles with each read in a row up to fair_window. It is asked for more
 * only once half the window (or a batch) is missing, so that its requests
 * stay large. Called locked. */
static void read_ahead(Stream *s, int64_t first, int64_t last)
{
    size_t window = (size_t)1 << (s->run < 16 ? s->run : 16);
    size_t most = fair_window(s);
    if (window > most)
        window = most;
    int64_t end = last + 1 + (int64_t)window;
    if (end > s->nindex)
        end = s->nindex;
    if (s->ahead_next < first)
        s->ahead_next = first; /* what the reader skipped is not wanted */
    if (s->ahead_end < s->ahead_next)
        s->ahead_end = s->ahead_next;
    size_t step = window / 2 < BATCH_MAX ? window / 2 : BATCH_MAX;
    if (end - s->ahead_end < (int64_t)(step ? step : 1) && end < s->nindex)
        return;
    if (end <= s->ahead_end || s->closing)
        return;
    s->ahead_end = end;
    if (!s->worker_running) {
        if (op_stopping())
            return;
        pthread_t t;
        s->refs++;
        lock(&workers_lock);
        __atomic_add_fetch(&workers, 1, __ATOMIC_RELAXED);
        unlock(&workers_lock);
        if (pthread_create(&t, NULL, ahead_worker, s) != 0) {
            s->refs--;
            lock(&workers_lock);
            __atomic_sub_fetch(&workers, 1, __ATOMIC_RELAXED);
            unlock(&workers_lock);
            return; /* no read-ahead: reads still work */
        }
        pthread_detach(t);
        s->worker_running = true;
    }
    pthread_cond_signal(&s->work);
}

/* Waits on cond until byte `need` of the file came (or a fetch ended, or a
 * slot was freed), or for a slice of time at most. Returns 0, or -errno
 * when the reader's operation ended (interrupted, past its deadline, the
 * unmount): a reader waiting for the worker notices Ctrl-C too. Called
 * locked. */
static int wait_for(Stream *s, int64_t need)
{
    if (need < s->wake_at)
        s->wake_at = need;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += WAIT_SLICE_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    s->waiting++;
    stats_add(STAT_READ_WAITS, 1);
    pthread_cond_timedwait(&s->cond, &s->lock, &until);
    s->waiting--;
    return op_check();
}

static void unpin(Stream *s, int64_t first, size_t n)
{
    for (size_t i = 0; i < n; i++)
        slot_of(s, first + (int64_t)i)->pins--;
    if (s->waiting)
        pthread_cond_broadcast(&s->cond);
    if (s->worker_blocked)
        pthread_cond_signal(&s->work);
}

/* Will the worker fetch chunk index, without waiting for anyone? */
static bool worker_brings(const Stream *s, int64_t index)
{
    return s->worker_running && !s->worker_blocked && index >= s->ahead_next &&
           index < s->ahead_end;
}

/* Will the worker fetch chunk index, or is a download writing into it? */
static bool on_its_way(const Stream *s, int64_t index)
{
    const Chunk *c = slot_of(s, index);
    return (c->index == index && c->fetching) || worker_brings(s, index);
}

/* Chunk index with bytes [0, need) in place, pinned; fetched by this thread
 * (with the chunks after it up to `last` that are missing too, in one
 * request) when nobody has it or is getting it. `end` is where the read
 * ends in the file. Returns it, NULL with *err set, or NULL with *err 0
 * when this thread would have to wait for a slot while it holds pins (the
 * caller lets them go and starts again). Called locked. */
static Chunk *get_chunk(Stream *s, int64_t index, size_t need, int64_t last, int64_t end,
                        bool holding, int *err)
{
    int rc = 0;
    for (;;) {
        Chunk *c = slot_of(s, index);
        if (c->index == index && c->filled >= need) {
            c->pins++;
            return c;
        }
        if (s->timed_out_at && now_ms() - s->timed_out_at < TIMED_OUT_MS) {
            rc = -ETIMEDOUT;
            break;
        }
        if (on_its_way(s, index)) {
            /* When the rest of the read is on its way too, one wake-up once
             * all of it is in, not one per chunk: the reply waits for all
             * of it anyway. */
            int64_t until = index * (int64_t)CHUNK + (int64_t)need;
            if (end > until && on_its_way(s, last))
                until = end;
            if ((rc = wait_for(s, until)) != 0)
                break;
            continue;
        }
        if (c->index != index && (c->fetching || c->pins)) {
            if (holding) {
                *err = 0;
                return NULL;
            }
            if ((rc = wait_for(s, INT64_MAX)) != 0)
                break;
            continue;
        }
        /* Missing, or what came of it is not enough and nobody goes on: ours. */
        Chunk *batch[STREAM_VIEW_MAX + 1];
        size_t n = 0;
        batch[n++] = claim(s, index, false);
        for (int64_t i = index + 1; i <= last && n < STREAM_VIEW_MAX + 1; i++) {
            Chunk *d = slot_of(s, i);
            if (d->index == i && (d->filled > 0 || d->fetching))
                break;
            if (!(d = claim(s, i, false)))
                break;
            batch[n++] = d;
        }
        if ((rc = fetch(s, batch, n)) != 0 && c->filled < need)
            break;
    }
    *err = -rc;
    return NULL;
}

/* Pins the chunks holding [off, off + len) (within the file, at most
 * STREAM_VIEW_MAX chunks) and points v at them. Returns 0 or -errno. */
static int pin_range(Stream *s, int64_t off, size_t len, StreamView *v)
{
    int64_t first = off / (int64_t)CHUNK, last = (off + (int64_t)len - 1) / (int64_t)CHUNK;
    lock(&s->lock);
    /* Parallel kernel reads arrive a little out of order: a read near the
     * end of the run continues it. */
    bool sequential = off >= s->seq_end - SEQ_BEHIND && off <= s->seq_end + SEQ_AHEAD;
    s->run = sequential ? s->run + 1 : 0;
    if (!sequential || off + (int64_t)len > s->seq_end)
        s->seq_end = off + (int64_t)len;
    if (sequential)
        read_ahead(s, first, last);
    else
        s->ahead_next = s->ahead_end = last + 1; /* a seek: what was ahead is not */
    int err = 0;
    size_t n = 0;
    for (int64_t index = first; index <= last;) {
        int64_t start = index * (int64_t)CHUNK;
        size_t need = off + (int64_t)len - start < (int64_t)chunk_len(s, index)
                          ? (size_t)(off + (int64_t)len - start)
                          : chunk_len(s, index);
        Chunk *c = get_chunk(s, index, need, last, off + (int64_t)len, n > 0, &err);
        if (!c) {
            unpin(s, first, n);
            n = 0;
            if (err || (err = -wait_for(s, INT64_MAX)) != 0)
                break;
            index = first; /* the pins went while waiting for a slot */
            continue;
        }
        size_t from = index == first ? (size_t)(off - start) : 0;
        v->iov[n].iov_base = c->data + from;
        v->iov[n].iov_len = need - from;
        n++;
        index++;
    }
    if (!err) {
        v->s = s;
        v->first = first;
        v->n = (int)n;
        s->refs++;
    } else if (err == ETIMEDOUT) {
        s->timed_out_at = now_ms();
    }
    unlock(&s->lock);
    return -err;
}

/* When the budget is tight: frees the buffers of s's chunks that are no
 * longer wanted, so that other streams can read ahead — those behind chunk
 * `from` (where a read just ended; it may go on in that chunk) and those
 * past the read-ahead window (left by a seek). A late read of a freed chunk
 * fetches it again. With room in the budget the buffers stay for the slots
 * to reuse, as without a budget. Called locked. */
static void give_back(Stream *s, int64_t from)
{
    if (!budget_tight())
        return;
    int64_t to = s->ahead_end > from ? s->ahead_end : from + 1;
    for (size_t i = 0; i < s->nslots; i++) {
        Chunk *c = &s->slots[i];
        if (!c->pins && !c->fetching && (c->index < from || c->index >= to))
            drop_buffer(c);
    }
}

void stream_view_release(StreamView *v)
{
    if (!v || v->n == 0)
        return;
    Stream *s = v->s;
    lock(&s->lock);
    unpin(s, v->first, (size_t)v->n);
    give_back(s, v->first + v->n - 1);
    unlock(&s->lock);
    v->n = 0;
    stream_unref(s);
}

void stream_view_arm(StreamView *v)
{
    if (v)
        v->n = 0;
    armed = v;
}

ssize_t stream_read(Stream *s, char *out, size_t len, int64_t off)
{
    if (off >= s->size || len == 0)
        return 0;
    if ((int64_t)len > s->size - off)
        len = (size_t)(s->size - off);
    int64_t first = off / (int64_t)CHUNK, last = (off + (int64_t)len - 1) / (int64_t)CHUNK;
    if (armed && armed->n == 0 && last - first < STREAM_VIEW_MAX) {
        int rc = pin_range(s, off, len, armed);
        return rc ? rc : (ssize_t)len;
    }
    /* Copied out as many chunks as a view holds at a time, so that a read
     * may be of any length. */
    size_t done = 0;
    while (done < len) {
        int64_t at = off + (int64_t)done;
        size_t n = STREAM_VIEW_MAX * CHUNK - (size_t)(at % (int64_t)CHUNK);
        if (n > len - done)
            n = len - done;
        StreamView v = {0};
        int rc = pin_range(s, at, n, &v);
        if (rc)
            return rc;
        for (int i = 0; i < v.n; i++) {
            memcpy(out + done, v.iov[i].iov_base, v.iov[i].iov_len);
            done += v.iov[i].iov_len;
        }
        stream_view_release(&v);
    }
    /* Every byte asked for up to the end of the file, or an error: a short
     * count would be taken for the end of the file (FUSE shrinks the size
     * it caches, and sha256sum, dd or tar would end "successfully"). */
    return (ssize_t)done;
}
