/* notify: tells systemd how the mount is doing (sd_notify), for a unit with
 * Type=notify. READY=1 once the kernel has connected (the mount answers),
 * STOPPING=1 once it is gone. Without libsystemd at build time, or outside a
 * unit (no $NOTIFY_SOCKET), every call does nothing. */
#ifndef ZOOMFS_NOTIFY_H
#define ZOOMFS_NOTIFY_H

void notify_ready(void);
void notify_stopping(void);

#endif
