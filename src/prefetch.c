/* prefetch: a pool of workers taking items of batches in order. */
#include "zoomfs/prefetch.h"

#include "zoomfs/op.h"
#include "zoomfs/util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* Listings waiting beyond this many are not worth fetching ahead: the
 * reader will have asked for them itself by the time a worker is free. */
#define MAX_BATCHES 64

typedef struct Batch {
    size_t n, next, running;
    void (*run)(void *arg, size_t i);
    void *arg;
    void (*done)(void *arg);
    struct Batch *later;
} Batch;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;
    pthread_t *threads;
    int workers, started;
    bool stopping;
    bool (*hold)(void);
    Batch *first, *last;
    size_t batches;
} P = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

/* Called with the lock held: the batch has no more items to hand out. */
static void unlink_first(void)
{
    P.first = P.first->later;
    if (!P.first)
        P.last = NULL;
    P.batches--;
}

static void *worker(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&P.lock);
    for (;;) {
        while (!P.first && !P.stopping)
            pthread_cond_wait(&P.work, &P.lock);
        if (P.stopping)
            break;
        Batch *b = P.first;
        size_t i = b->next++;
        b->running++;
        if (b->next == b->n)
            unlink_first();
        pthread_mutex_unlock(&P.lock);
        if (!(P.hold && P.hold())) {
            op_begin();
            b->run(b->arg, i);
            op_end();
        }
        pthread_mutex_lock(&P.lock);
        /* The last item out of a batch handed out in full frees it. */
        if (--b->running == 0 && b->next == b->n) {
            pthread_mutex_unlock(&P.lock);
            b->done(b->arg);
            free(b);
            pthread_mutex_lock(&P.lock);
        }
    }
    pthread_mutex_unlock(&P.lock);
    return NULL;
}

void prefetch_init(int workers, bool (*hold)(void))
{
    P.workers = workers > 0 ? workers : 0;
    P.hold = hold;
    P.stopping = false;
}

void prefetch_cleanup(void)
{
    pthread_mutex_lock(&P.lock);
    P.stopping = true;
    pthread_cond_broadcast(&P.work);
    /* Batches no worker touched yet are dropped here; one that is partly
     * handed out is finished (done) by its last running item. */
    Batch *b = P.first;
    while (b) {
        Batch *later = b->later;
        b->next = b->n;
        if (b->running == 0) {
            b->done(b->arg);
            free(b);
        }
        b = later;
    }
    P.first = P.last = NULL;
    P.batches = 0;
    pthread_mutex_unlock(&P.lock);
    for (int i = 0; i < P.started; i++)
        pthread_join(P.threads[i], NULL);
    free(P.threads);
    P.threads = NULL;
    P.started = 0;
}

bool prefetch_batch(size_t n, void (*run)(void *arg, size_t i), void *arg, void (*done)(void *arg))
{
    pthread_mutex_lock(&P.lock);
    bool take = n > 0 && P.workers > 0 && !P.stopping && P.batches < MAX_BATCHES;
    if (take) {
        Batch *b = xcalloc(1, sizeof(*b));
        *b = (Batch){.n = n, .run = run, .arg = arg, .done = done};
        if (P.last)
            P.last->later = b;
        else
            P.first = b;
        P.last = b;
        P.batches++;
        /* Workers start with the first batch: a mount that never lists
         * anything big has no idle threads. */
        if (!P.threads)
            P.threads = xcalloc((size_t)P.workers, sizeof(*P.threads));
        while (P.started < P.workers &&
               pthread_create(&P.threads[P.started], NULL, worker, NULL) == 0)
            P.started++;
        pthread_cond_broadcast(&P.work);
    }
    pthread_mutex_unlock(&P.lock);
    if (!take)
        done(arg);
    return take;
}
