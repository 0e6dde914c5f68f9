/* notify: READY=1 and STOPPING=1 for systemd, when built with libsystemd. */
#include "zoomfs/notify.h"

#include "zoomfs/log.h"

#ifdef HAVE_LIBSYSTEMD
#include <string.h>
#include <systemd/sd-daemon.h>

static void notify_send(const char *state)
{
    /* 0: not under systemd (no $NOTIFY_SOCKET), which is fine. */
    int rc = sd_notify(0, state);
    if (rc < 0)
        log_warn("sd_notify(%s): %s", state, strerror(-rc));
}
#else
static void notify_send(const char *state)
{
    (void)state;
}
#endif

void notify_ready(void)
{
    notify_send("READY=1\nSTATUS=Mounted");
}

void notify_stopping(void)
{
    notify_send("STOPPING=1\nSTATUS=Unmounted");
}
