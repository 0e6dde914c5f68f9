/* op: per-thread deadline, interrupts and the unmount. */
#include "zoomfs/op.h"

#include "zoomfs/errmap.h"
#include "zoomfs/stats.h"
#include "zoomfs/util.h"

#include <errno.h>

#define SLICE_MS 100

static int64_t timeout_ms;
static bool (*interrupted)(void);
static bool stopping;

static __thread int64_t deadline; /* now_ms() clock; 0: not in an operation */
static __thread bool reported;
static __thread int caller;

void op_init(int timeout_s)
{
    timeout_ms = (int64_t)timeout_s * 1000;
}

void op_begin(void)
{
    deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    reported = false;
}

void op_set_caller(int pid)
{
    caller = pid;
}

int op_caller(void)
{
    return caller;
}

void op_end(void)
{
    deadline = 0;
    caller = 0;
}

void op_set_interrupt_check(bool (*check)(void))
{
    interrupted = check;
}

void op_stop_all(void)
{
    __atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
}

bool op_stopping(void)
{
    return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

int op_check(void)
{
    if (op_stopping() || (interrupted && interrupted()))
        return -EINTR;
    if (deadline && now_ms() >= deadline)
        return -ETIMEDOUT;
    return 0;
}

int op_sleep(int64_t ms)
{
    int64_t until = now_ms() + ms;
    int rc;
    while ((rc = op_check()) == 0) {
        int64_t left = until - now_ms();
        if (left <= 0)
            break;
        sleep_ms(left < SLICE_MS ? left : SLICE_MS);
    }
    return rc;
}

void op_report(const char *what, int rc)
{
    if (reported || op_stopping())
        return;
    reported = true;
    if (rc == -ETIMEDOUT)
        stats_error("%s: gave up: the operation took longer than op_timeout (%s)", what,
                    errmap_errno_name(ETIMEDOUT));
    else
        stats_error("%s: interrupted (%s)", what, errmap_errno_name(-rc));
}
