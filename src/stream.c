/* stream: the chunks of an open recording file and the read-ahead worker
 * that fills them; the bytes come from the client's download. */
#include "zoomfs/stream.h"

#include "zoomfs/http.h"
#include "zoomfs/op.h"
#include "zoomfs/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bytes are held in aligned chunks so that the kernel's reads, which come
 * in parallel and out of order, find what an earlier read fetched. */
#define CHUNK     ((size_t)1 << 20)
#define BATCH_MAX 4 /* chunks one read-ahead request asks for at most */

static const ZoomClient *client;
static size_t readahead_max;

/* Read-ahead workers outlive the files they serve by at most one request;
 * the unmount waits for them (and cuts their transfers short) before the
 * HTTP client goes away under them. */
static pthread_mutex_t workers_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t workers_gone = PTHREAD_COND_INITIALIZER;
static int workers;

void stream_init(const ZoomClient *c, size_t ra_max)
{
    client = c;
    readahead_max = ra_max < CHUNK ? CHUNK : ra_max;
}

void stream_cleanup(void)
{
    op_stop_all();
    lock(&workers_lock);
    while (workers > 0)
        pthread_cond_wait(&workers_gone, &workers_lock);
    unlock(&workers_lock);
}

int64_t stream_probe_size(const char *download_url)
{
    char byte;
    char *parts[] = {&byte};
    int64_t total = -1;
    ssize_t n = client->download(download_url, 0, 1, -1, parts, 1, &total);
    if (n < 0)
        return n;
    if (total < 0) {
        /* An empty file answers 416 or 200 with no body: size 0. */
        return n == 0 ? 0 : -EIO;
    }
    return total;
}

typedef enum { CHUNK_EMPTY, CHUNK_WANTED, CHUNK_FETCHING, CHUNK_READY, CHUNK_FAILED } ChunkState;

typedef struct {
    int64_t index;
    ChunkState state;
    size_t len;
    uint64_t used; /* LRU stamp */
    int err;
    char *data; /* CHUNK bytes, allocated on first use */
} Chunk;

/* Sequential readers are served from chunks that a worker thread fetched
 * ahead of them, so the network and the reader overlap; a random reader
 * fetches only the chunk it needs. */
struct Stream {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int refs; /* the opener and, while it runs, the worker */
    char *url;
    int64_t size;
    Chunk *chunks;
    size_t nchunks;
    size_t max_ahead; /* chunks */
    uint64_t clock;
    int64_t seq_end; /* end of the run of reads seen so far */
    int run;         /* how many reads in a row continued it */
    bool worker_running;
    bool closing;
};

static size_t chunk_len(const Stream *s, int64_t index)
{
    int64_t start = index * (int64_t)CHUNK;
    int64_t left = s->size - start;
    return left < (int64_t)CHUNK ? (size_t)left : CHUNK;
}

static Chunk *find_chunk(Stream *s, int64_t index)
{
    for (size_t i = 0; i < s->nchunks; i++)
        if (s->chunks[i].state != CHUNK_EMPTY && s->chunks[i].index == index)
            return &s->chunks[i];
    return NULL;
}

/* A slot for index: an empty one, else the least recently used that nobody
 * is filling. NULL when every slot is being filled. Called locked. */
static Chunk *claim_chunk(Stream *s, int64_t index, ChunkState state)
{
    Chunk *victim = NULL;
    for (size_t i = 0; i < s->nchunks; i++) {
        Chunk *c = &s->chunks[i];
        if (c->state == CHUNK_FETCHING)
            continue;
        if (c->state == CHUNK_EMPTY) {
            victim = c;
            break;
        }
        if (!victim || c->used < victim->used)
            victim = c;
    }
    if (!victim)
        return NULL;
    if (!victim->data)
        victim->data = xmalloc(CHUNK);
    victim->index = index;
    victim->state = state;
    victim->len = 0;
    victim->err = 0;
    victim->used = ++s->clock;
    return victim;
}

static void stream_unref(Stream *s)
{
    lock(&s->lock);
    bool last = --s->refs == 0;
    unlock(&s->lock);
    if (!last)
        return;
    for (size_t i = 0; i < s->nchunks; i++)
        free(s->chunks[i].data);
    free(s->chunks);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->url);
    free(s);
}

/* The lowest wanted chunk and the wanted ones right after it, marked
 * FETCHING. Returns how many (0: none wanted). Called locked. */
static size_t take_batch(Stream *s, Chunk **batch)
{
    Chunk *first = NULL;
    for (size_t i = 0; i < s->nchunks; i++)
        if (s->chunks[i].state == CHUNK_WANTED && (!first || s->chunks[i].index < first->index))
            first = &s->chunks[i];
    if (!first)
        return 0;
    size_t n = 0;
    for (Chunk *c = first; c && c->state == CHUNK_WANTED && n < BATCH_MAX;
         c = find_chunk(s, first->index + (int64_t)n)) {
        c->state = CHUNK_FETCHING;
        batch[n++] = c;
    }
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
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&s->cond, &s->lock, &until);
        }
        if (s->closing || op_stopping()) {
            for (size_t i = 0; i < n; i++)
                batch[i]->state = CHUNK_WANTED;
            break;
        }
        int64_t off = batch[0]->index * (int64_t)CHUNK;
        size_t want = 0;
        char *parts[BATCH_MAX];
        for (size_t i = 0; i < n; i++) {
            want += chunk_len(s, batch[i]->index);
            parts[i] = batch[i]->data;
        }
        unlock(&s->lock);
        /* Straight into the chunks: only this thread touches them while
         * they are FETCHING. */
        op_begin(); /* each batch has the deadline of an operation */
        ssize_t got = client->download(s->url, off, want, s->size, parts, CHUNK, NULL);
        op_end();
        lock(&s->lock);
        size_t at = 0;
        for (size_t i = 0; i < n; i++) {
            Chunk *c = batch[i];
            size_t len = chunk_len(s, c->index);
            if (got >= 0 && (size_t)got >= at + len) {
                c->len = len;
                c->state = CHUNK_READY;
            } else {
                c->state = CHUNK_FAILED;
                c->err = got < 0 ? (int)-got : EIO;
            }
            at += len;
        }
        pthread_cond_broadcast(&s->cond);
    }
    s->worker_running = false;
    unlock(&s->lock);
    stream_unref(s);
    http_thread_done();
    lock(&workers_lock);
    if (--workers == 0)
        pthread_cond_broadcast(&workers_gone);
    unlock(&workers_lock);
    return NULL;
}

Stream *stream_open(const char *download_url, int64_t size)
{
    Stream *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->refs = 1;
    s->url = xstrdup(download_url);
    s->size = size;
    s->max_ahead = readahead_max / CHUNK ? readahead_max / CHUNK : 1;
    s->nchunks = 2 * s->max_ahead + 4;
    s->chunks = xcalloc(s->nchunks, sizeof(Chunk));
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
    pthread_cond_broadcast(&s->cond);
    unlock(&s->lock);
    stream_unref(s);
}

/* Asks the worker for the chunks after `last`. Called locked. */
static void read_ahead(Stream *s, int64_t last)
{
    size_t ahead = (size_t)1 << (s->run < 6 ? s->run : 6);
    if (ahead > s->max_ahead)
        ahead = s->max_ahead;
    bool asked = false;
    for (size_t k = 1; k <= ahead; k++) {
        int64_t index = last + (int64_t)k;
        if (index * (int64_t)CHUNK >= s->size)
            break;
        if (find_chunk(s, index))
            continue;
        if (!claim_chunk(s, index, CHUNK_WANTED))
            break;
        asked = true;
    }
    if (!asked || s->closing)
        return;
    if (!s->worker_running) {
        if (op_stopping())
            return;
        pthread_t t;
        s->refs++;
        lock(&workers_lock);
        workers++;
        unlock(&workers_lock);
        if (pthread_create(&t, NULL, ahead_worker, s) != 0) {
            s->refs--;
            lock(&workers_lock);
            workers--;
            unlock(&workers_lock);
            return; /* no read-ahead: reads still work */
        }
        pthread_detach(t);
        s->worker_running = true;
    }
    pthread_cond_broadcast(&s->cond);
}

/* The chunk with this index, fetched by this thread if nobody has it or is
 * getting it. Returns it READY, or NULL with *err set. Called locked. */
static Chunk *get_chunk(Stream *s, int64_t index, int *err)
{
    for (;;) {
        Chunk *c = find_chunk(s, index);
        if (c && c->state == CHUNK_READY)
            return c;
        if (c && c->state == CHUNK_FETCHING) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        /* Missing, failed in the worker, or wanted but not started: ours. */
        if (c)
            c->state = CHUNK_FETCHING;
        else if (!(c = claim_chunk(s, index, CHUNK_FETCHING))) {
            pthread_cond_wait(&s->cond, &s->lock);
            continue;
        }
        size_t len = chunk_len(s, index);
        unlock(&s->lock);
        char *parts[] = {c->data};
        ssize_t n =
            client->download(s->url, index * (int64_t)CHUNK, len, s->size, parts, CHUNK, NULL);
        lock(&s->lock);
        if (n >= 0 && (size_t)n == len) {
            c->len = len;
            c->state = CHUNK_READY;
        } else {
            c->state = CHUNK_FAILED;
            c->err = n < 0 ? (int)-n : EIO;
        }
        pthread_cond_broadcast(&s->cond);
        if (c->state == CHUNK_FAILED) {
            *err = c->err;
            c->state = CHUNK_EMPTY;
            return NULL;
        }
        return c;
    }
}

ssize_t stream_read(Stream *s, char *out, size_t len, int64_t off)
{
    if (off >= s->size || len == 0)
        return 0;
    if ((int64_t)len > s->size - off)
        len = (size_t)(s->size - off);
    lock(&s->lock);
    /* Parallel kernel reads arrive a little out of order: a read near the
     * end of the run continues it. */
    bool sequential = off >= s->seq_end - 2 * (int64_t)CHUNK && off <= s->seq_end + (int64_t)CHUNK;
    s->run = sequential ? s->run + 1 : 0;
    if (!sequential || off + (int64_t)len > s->seq_end)
        s->seq_end = off + (int64_t)len;
    size_t done = 0;
    int err = 0;
    int64_t first = off / (int64_t)CHUNK, last = (off + (int64_t)len - 1) / (int64_t)CHUNK;
    if (sequential)
        read_ahead(s, last);
    for (int64_t index = first; index <= last; index++) {
        Chunk *c = get_chunk(s, index, &err);
        if (!c)
            break;
        c->used = ++s->clock;
        int64_t start = index * (int64_t)CHUNK;
        int64_t from = off + (int64_t)done - start;
        size_t n = c->len - (size_t)from;
        if (n > len - done)
            n = len - done;
        memcpy(out + done, c->data + from, n);
        done += n;
    }
    unlock(&s->lock);
    /* Every byte asked for up to the end of the file, or an error: a short
     * count would be taken for the end of the file (FUSE shrinks the size
     * it caches, and sha256sum, dd or tar would end "successfully"). */
    return err ? -err : (ssize_t)done;
}
