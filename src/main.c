/* main: parse options, load credentials, get a first token, start FUSE. */
#include "zoomfs/api.h"
#include "zoomfs/auth.h"
#include "zoomfs/cdn.h"
#include "zoomfs/check.h"
#include "zoomfs/config.h"
#include "zoomfs/diskcache.h"
#include "zoomfs/edit.h"
#include "zoomfs/fs.h"
#include "zoomfs/http.h"
#include "zoomfs/ledger.h"
#include "zoomfs/log.h"
#include "zoomfs/node.h"
#include "zoomfs/notify.h"
#include "zoomfs/op.h"
#include "zoomfs/prefetch.h"
#include "zoomfs/recordings.h"
#include "zoomfs/request.h"
#include "zoomfs/rows.h"
#include "zoomfs/scratch.h"
#include "zoomfs/store.h"
#include "zoomfs/stream.h"
#include "zoomfs/util.h"
#include "zoomfs/vfs.h"
#include "zoomfs/walk.h"

#include <fuse_lowlevel.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Option values as fuse_opt_parse leaves them, before checking. */
static struct {
    char *api_url, *oauth_url, *cafile, *config, *since, *loglevel, *ledger, *metadata_cache;
    char *recording_delete;
    int dir_ttl, attr_ttl, ro;
    int uid, gid, umask, readahead, io_timeout, connect_timeout, op_timeout, settled_ttl;
    int readahead_total, max_inodes, prefetch, cache_mb, page_cache;
    int show_help, show_version, foreground, check;
    char *positional[2]; /* [SOURCE] MOUNTPOINT */
    int npositional;
} opt = {.dir_ttl = -1,
         .attr_ttl = -1,
         .uid = -1,
         .gid = -1,
         .umask = -1,
         .readahead = -1,
         .readahead_total = -1,
         .settled_ttl = -1,
         .max_inodes = -1,
         .prefetch = -1,
         .cache_mb = -1,
         .io_timeout = -1,
         .connect_timeout = -1,
         .op_timeout = -1};

#define OPT(t, p)                                                                                  \
    {                                                                                              \
        t, offsetof(typeof(opt), p), 1                                                             \
    }
enum { KEY_HELP, KEY_VERSION, KEY_FOREGROUND, KEY_RO, KEY_CHECK };

static const struct fuse_opt option_spec[] = {
    OPT("api_url=%s", api_url),
    OPT("oauth_url=%s", oauth_url),
    OPT("cafile=%s", cafile),
    OPT("config=%s", config),
    OPT("since=%s", since),
    OPT("loglevel=%s", loglevel),
    OPT("ledger=%s", ledger),
    OPT("metadata_cache=%s", metadata_cache),
    OPT("settled_ttl=%d", settled_ttl),
    OPT("max_inodes=%d", max_inodes),
    OPT("prefetch=%d", prefetch),
    OPT("cache_mb=%d", cache_mb),
    OPT("page_cache", page_cache),
    OPT("recording_delete=%s", recording_delete),
    OPT("dir_ttl=%d", dir_ttl),
    OPT("attr_ttl=%d", attr_ttl),
    OPT("uid=%d", uid),
    OPT("gid=%d", gid),
    OPT("umask=%o", umask),
    OPT("readahead=%d", readahead),
    OPT("readahead_total=%d", readahead_total),
    OPT("io_timeout=%d", io_timeout),
    OPT("connect_timeout=%d", connect_timeout),
    OPT("op_timeout=%d", op_timeout),
    FUSE_OPT_KEY("ro", KEY_RO),
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    FUSE_OPT_KEY("--check", KEY_CHECK),
    FUSE_OPT_KEY("-f", KEY_FOREGROUND),
    FUSE_OPT_KEY("-d", KEY_FOREGROUND),
    FUSE_OPT_KEY("debug", KEY_FOREGROUND),
    FUSE_OPT_END,
};

static void usage(const char *prog)
{
    printf("usage: %s [options] [SOURCE] MOUNTPOINT\n"
           "       %s --check [options]\n\n"
           "Mounts a Zoom account: users, meetings, webinars and cloud recordings as\n"
           "files and folders. SOURCE, which mount(8) passes for an /etc/fstab line, is\n"
           "ignored.\n\n"
           "Credentials come from the environment (ZOOM_ACCOUNT_ID, ZOOM_CLIENT_ID,\n"
           "ZOOM_CLIENT_SECRET, or ZOOM_ACCESS_TOKEN) or from the config file, never\n"
           "from the command line.\n\n"
           "zoomfs options:\n"
           "    -o api_url=URL          REST base (default https://api.zoom.us; /v2 is\n"
           "                            appended; the token's api_url wins when unset)\n"
           "    -o oauth_url=URL        OAuth base (default https://zoom.us)\n"
           "    -o cafile=PATH          trust this CA bundle (TLS is always verified)\n"
           "    -o config=PATH          credentials file (default ~/.config/zoomfs/config;\n"
           "                            must not be readable by group or others)\n"
           "    -o ro                   read-only: every change fails with EROFS\n"
           "    -o dir_ttl=SECONDS      how long listings are trusted (default 60)\n"
           "    -o attr_ttl=SECONDS     how long objects and attributes are trusted\n"
           "                            (default 60)\n"
           "    -o since=YYYY-MM        first recordings month (default: user's created_at)\n"
           "    -o uid=N,gid=N          owner of every file (default: the mounting user)\n"
           "    -o umask=M              octal umask (default 077: 0700 dirs, 0600 files)\n"
           "    -o readahead=BYTES      largest sequential read-ahead (default 8388608)\n"
           "    -o readahead_total=BYTES  read-ahead memory of all open recordings\n"
           "                            together; beyond it windows shrink (default\n"
           "                            50331648)\n"
           "    -o page_cache           recordings stay in the kernel's page cache: a\n"
           "                            second read is free and a shared mmap works,\n"
           "                            streaming is slower (default: they bypass it)\n"
           "    -o io_timeout=SECONDS   a request with no progress for this long fails\n"
           "                            (default 30)\n"
           "    -o connect_timeout=SECONDS  (default 10)\n"
           "    -o op_timeout=SECONDS   the longest any one operation (a read, a listing,\n"
           "                            a save) may take, retries included (default 120)\n"
           "    -o recording_delete=trash|delete  what rm does to recordings (default trash)\n"
           "    -o loglevel=LEVEL       error, warn, info (default) or debug\n"
           "    -o ledger=PATH|none     mtime ledger (default ~/.cache/zoomfs/mtimes)\n"
           "    -o metadata_cache=DIR|none  settled months kept across mounts (default\n"
           "                            ~/.cache/zoomfs/account-<id>/)\n"
           "    -o settled_ttl=SECONDS  how long a settled month is trusted (default 604800)\n"
           "    -o max_inodes=N         entries the kernel may hold before it is asked to\n"
           "                            forget the least recently used (default 50000)\n"
           "    -o cache_mb=N           memory for listings and objects, in MiB (default 24,\n"
           "                            at least 8)\n"
           "    -o prefetch=N           objects of a folder fetched at once once a reader\n"
           "                            stats them one by one, as ls -l does, and users'\n"
           "                            folders ahead of a walk across them (default 8;\n"
           "                            0: only what is asked for)\n"
           "    --check                 mount nothing: get a token, try one read of each\n"
           "                            area and print what works and which scopes to\n"
           "                            add (exit status 0 when reading works)\n"
           "    -f                      stay in the foreground, log to stderr\n"
           "    -V, --version           print the version\n\n",
           prog, prog);
}

static int process_arg(void *data, const char *arg, int key, struct fuse_args *outargs)
{
    (void)data, (void)outargs;
    switch (key) {
    case KEY_HELP:
        opt.show_help = 1;
        return fuse_opt_add_arg(outargs, "-h");
    case KEY_VERSION:
        opt.show_version = 1;
        return 0;
    case KEY_CHECK:
        opt.check = 1;
        return 0;
    case KEY_FOREGROUND:
        opt.foreground = 1;
        return 1;
    case KEY_RO:
        opt.ro = 1;
        return 1; /* the kernel should know too */
    case FUSE_OPT_KEY_NONOPT:
        /* mount(8) and fstab run "zoomfs SOURCE MOUNTPOINT -o …": the source
         * names nothing here, so only the last positional is kept. */
        if (opt.npositional == 2) {
            fprintf(stderr, "zoomfs: too many arguments: %s\n", arg);
            return -1;
        }
        opt.positional[opt.npositional++] = xstrdup(arg);
        return 0;
    default:
        return 1;
    }
}

static void take(char **dst, char *src)
{
    if (src) {
        free(*dst);
        *dst = src;
    }
}

/* The numbers: -1 (or 0 where 0 means nothing) is "not given". */
static void apply_numbers(void)
{
    if (opt.dir_ttl >= 0)
        cfg.store.dir_ttl = opt.dir_ttl;
    if (opt.attr_ttl >= 0)
        cfg.store.attr_ttl = opt.attr_ttl;
    if (opt.uid >= 0)
        cfg.store.uid = (uid_t)opt.uid;
    if (opt.gid >= 0)
        cfg.store.gid = (gid_t)opt.gid;
    if (opt.umask >= 0)
        cfg.store.umask = (mode_t)(opt.umask & 0777);
    if (opt.readahead > 0)
        cfg.readahead_max = (size_t)opt.readahead;
    if (opt.readahead_total >= 0)
        cfg.readahead_total = (size_t)opt.readahead_total;
    if (opt.io_timeout > 0)
        cfg.io_timeout = opt.io_timeout;
    if (opt.connect_timeout > 0)
        cfg.connect_timeout = opt.connect_timeout;
    if (opt.op_timeout > 0)
        cfg.op_timeout = opt.op_timeout;
    if (opt.settled_ttl >= 0)
        cfg.store.settled_ttl = opt.settled_ttl;
    if (opt.max_inodes >= 0)
        cfg.max_inodes = (size_t)opt.max_inodes;
    if (opt.cache_mb >= 0)
        cfg.store.cache_mb = opt.cache_mb < 8 ? 8 : opt.cache_mb > 4096 ? 4096 : opt.cache_mb;
    if (opt.prefetch >= 0)
        cfg.prefetch = opt.prefetch > 64 ? 64 : opt.prefetch;
}

static int apply_options(char *err, size_t errlen)
{
    take(&cfg.auth.api_url, opt.api_url);
    cfg.auth.api_url_explicit = opt.api_url != NULL;
    take(&cfg.auth.oauth_url, opt.oauth_url);
    take(&cfg.cafile, opt.cafile);
    take(&cfg.config_path, opt.config);
    take(&cfg.store.since, opt.since);
    take(&cfg.ledger_path, opt.ledger);
    cfg.store.read_only = opt.ro;
    cfg.foreground = opt.foreground;
    apply_numbers();
    if (opt.recording_delete) {
        if (strcmp(opt.recording_delete, "delete") == 0)
            cfg.store.recording_delete_permanent = true;
        else if (strcmp(opt.recording_delete, "trash") != 0) {
            snprintf(err, errlen, "recording_delete=%s: expected trash or delete",
                     opt.recording_delete);
            return -1;
        }
        free(opt.recording_delete);
    }
    if (opt.loglevel) {
        int lvl = log_level_parse(opt.loglevel);
        free(opt.loglevel);
        if (lvl < 0) {
            snprintf(err, errlen, "loglevel: expected error, warn, info or debug");
            return -1;
        }
        cfg.log_level = lvl;
    }
    return 0;
}

static int open_ledger(void)
{
    if (cfg.ledger_path && strcmp(cfg.ledger_path, "none") == 0)
        return ledger_open(NULL, 100000);
    char *path = cfg.ledger_path ? xstrdup(cfg.ledger_path) : ledger_default_path();
    int rc = ledger_open(path, 100000);
    if (rc)
        log_warn("mtime ledger %s unavailable (%s); mtimes will not survive a remount",
                 path ? path : "(no home)", strerror(-rc));
    free(path);
    return rc ? ledger_open(NULL, 100000) : 0;
}

/* The client floor: libcurl, the request policy, the token. Returns 0, or 1
 * with the reason printed (wrong credentials fail here, before the mount,
 * with Zoom's own words). */
static int start_client(void)
{
    if (http_init(cfg.cafile, cfg.connect_timeout, cfg.io_timeout) != 0) {
        fprintf(stderr, "zoomfs: cannot initialise libcurl\n");
        return 1;
    }
    RequestLimits limits = {.max_attempts = cfg.retry_max,
                            .budget_s = cfg.retry_budget,
                            .io_timeout_s = cfg.io_timeout};
    request_init(&limits);
    op_init(cfg.op_timeout);
    api_init(cfg.io_timeout);
    static const char *trusted[3];
    trusted[0] = cfg.auth.api_url;
    trusted[1] = cfg.auth.oauth_url;
    cdn_init(cfg.io_timeout, trusted);
    char *err = NULL;
    if (auth_init(&cfg.auth, &err) != 0) {
        fprintf(stderr, "zoomfs: %s\n", err ? err : "authentication failed");
        free(err);
        return 1;
    }
    return 0;
}

/* The middle: what zoomfs knows of Zoom, and the files made in memory. */
static void start_middle(void)
{
    open_ledger();
    char *dir = opt.metadata_cache && strcmp(opt.metadata_cache, "none") == 0 ? NULL
                : opt.metadata_cache ? xstrdup(opt.metadata_cache)
                                     : diskcache_default_dir(cfg.auth.account_id);
    diskcache_open(dir);
    free(dir);
    store_init(zoom_client(), &cfg.store, rows, nrows);
    scratch_init(cfg.store.uid, cfg.store.gid, cfg.store.umask);
    stream_init(zoom_client(), cfg.readahead_max);
    stream_budget(cfg.readahead_total);
    prefetch_init(cfg.prefetch, zoom_client()->busy);
    walk_init(cfg.prefetch, vfs_visit);
}

static void stop_all(void)
{
    stream_cleanup();
    scratch_cleanup();
    prefetch_cleanup();
    walk_cleanup();
    store_cleanup();
    cdn_cleanup();
    ledger_close();
    diskcache_close();
    free(opt.metadata_cache);
    auth_cleanup();
    http_cleanup();
    config_free(&cfg);
}

/* Secrets must never be typed where ps and shell history can see them: any
 * argument naming one is refused before libfuse sees it (libfuse would print
 * an option it does not know, value and all). Returns the key found, or
 * NULL. */
static const char *secret_on_command_line(int argc, char *argv[])
{
    static const char *const keys[] = {"client_secret", "client_id", "account_id", "access_token"};
    for (int i = 1; i < argc; i++)
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
            for (const char *p = argv[i]; (p = strcasestr(p, keys[k])); p++)
                if (p[strlen(keys[k])] == '=')
                    return keys[k];
    return NULL;
}

/* Parses the command line into opt and args. Returns -1 (go on), or the
 * exit status when there is nothing to mount (--version, --help, errors). */
static int parse_command_line(struct fuse_args *args, const char *prog)
{
    if (fuse_opt_parse(args, &opt, option_spec, process_arg) != 0)
        return 1;
    if (opt.npositional > 0)
        fuse_opt_add_arg(args, opt.positional[opt.npositional - 1]);
    for (int i = 0; i < opt.npositional; i++)
        free(opt.positional[i]);
    /* libfuse 3.14 prints a warning about its own default (-1) for this
     * unless it is set; a later -o max_idle_threads= from the user wins. */
    fuse_opt_insert_arg(args, 1, "-omax_idle_threads=10");
    if (opt.show_version) {
        printf("zoomfs %s\n", ZOOMFS_VERSION);
        return 0;
    }
    if (opt.show_help) {
        usage(prog);
        fuse_cmdline_help();
        fuse_lowlevel_help();
        return 0;
    }
    return -1;
}

int main(int argc, char *argv[])
{
    /* Few malloc arenas: FUSE's threads each taking one would keep memory
     * the caches let go of. */
    mallopt(M_ARENA_MAX, 2);
    const char *secret = secret_on_command_line(argc, argv);
    if (secret) {
        fprintf(stderr,
                "zoomfs: '%s' is not accepted on the command line (it would show in ps and shell "
                "history); use the environment or the config file\n",
                secret);
        return 1;
    }
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    config_defaults(&cfg);
    int rc = parse_command_line(&args, argv[0]);
    /* --check prints a report: its log goes to stderr, errors only unless asked. */
    bool quiet_check = opt.check && !opt.loglevel;
    char err[512];
    if (rc < 0 && (apply_options(err, sizeof(err)) != 0 ||
                   config_load_credentials(&cfg, err, sizeof(err)) != 0 ||
                   config_validate(&cfg, err, sizeof(err)) != 0)) {
        fprintf(stderr, "zoomfs: %s\n", err);
        rc = 1;
    }
    if (rc < 0) {
        log_init(!cfg.foreground && !opt.check, quiet_check ? LOG_LVL_ERROR : cfg.log_level);
        if (opt.check)
            check_prepare();
        rc = start_client();
    }
    if (rc == 0 && opt.check && !opt.show_version && !opt.show_help) {
        rc = check_run();
    } else if (rc == 0 && !opt.show_version && !opt.show_help) {
        start_middle();
        FsConfig fc = {.attr_ttl = cfg.store.attr_ttl,
                       .max_inodes = cfg.max_inodes,
                       .readahead = cfg.readahead_max,
                       .page_cache = opt.page_cache != 0};
        rc = fs_run(&args, &fc);
        notify_stopping();
    }
    stop_all();
    fuse_opt_free_args(&args);
    return rc;
}
