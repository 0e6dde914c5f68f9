/* The mtime ledger (ledger.h) read from a file that may be anything: a
 * crash mid-write, another version's format, plain junk. The input's first
 * byte picks the bound (1-16 entries); the rest is written as the ledger
 * file. ledger_open loads it; then each of the first lines of the input,
 * read as "<epoch> <hash> <path>", is looked up twice (its own hash, then
 * the SHA-256 of the line as a new version of that path). Invariants: no
 * crash, no hang, no leak; a time is never negative; asking twice in a row
 * gives the same time (for a pair the file can hold: a path without a
 * newline, a 64-digit lowercase hex hash; any other gets no entry); and after ledger_close and
 * ledger_open again (a remount) the last pair asked for keeps its time, when it could be stored (a
 * path without a newline, a 64-digit lowercase hex hash). */
#include "fuzz.h"

#include "zoomfs/ledger.h"
#include "zoomfs/util.h"

#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#define MAX_QUERIES 6

static char *dir, *path;

static void cleanup(void)
{
    ledger_close();
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    dir = fuzz_tempdir("ledger");
    path = malloc(strlen(dir) + sizeof("/mtimes"));
    sprintf(path, "%s/mtimes", dir);
    atexit(cleanup);
    return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) != 0)
        abort();
}

static bool storable(const char *p, const char *hash)
{
    return *p && !strpbrk(p, "\n\r") && strlen(hash) >= 64 &&
           strspn(hash, "0123456789abcdef") >= 64;
}

/* Asks twice; returns the time. */
static int64_t ask(const char *p, const char *hash, int64_t now)
{
    int64_t t = ledger_mtime(p, hash, now);
    FUZZ_CHECK(t >= 0, "time %" PRId64 " for %s", t, p);
    int64_t again = ledger_mtime(p, hash, now + 1000);
    /* a pair no line can hold gets no entry: its time is "now" each time */
    FUZZ_CHECK(again == t || !storable(p, hash), "%s: %" PRId64 ", then %" PRId64, p, t, again);
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t max = 1 + data[0] % 16;
    data++, size--;
    write_file(data, size);
    int rc = ledger_open(path, max);
    FUZZ_CHECK(rc == 0, "ledger_open: %d", rc);

    char *text = fuzz_cstr(data, size);
    const char *last_path = NULL, *last_hash = NULL;
    int64_t last_t = -1, now = 1700000000;
    char sha[65];
    char *line = text;
    for (int q = 0; q < MAX_QUERIES && line; q++) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        /* "<epoch> <hash> <path>": the path and hash as the line has them */
        char *h = strchr(line, ' ');
        char *p = h ? strchr(h + 1, ' ') : NULL;
        if (p) {
            *h++ = '\0';
            *p++ = '\0';
            int64_t t = ask(p, h, now++);
            if (storable(p, h))
                last_path = p, last_hash = h, last_t = t;
            /* a new version of that path */
            sha256_hex(line, strlen(line), sha);
            t = ask(p, sha, now++);
            if (storable(p, sha)) {
                static char kept[65];
                memcpy(kept, sha, sizeof(kept));
                last_path = p, last_hash = kept, last_t = t;
            }
        }
        line = nl ? nl + 1 : NULL;
    }

    /* A remount: the ledger as the file now has it. */
    ledger_close();
    rc = ledger_open(path, max);
    FUZZ_CHECK(rc == 0, "ledger_open again: %d", rc);
    if (last_path) {
        int64_t t = ledger_mtime(last_path, last_hash, now + 5000);
        FUZZ_CHECK(t == last_t, "%s %.64s: %" PRId64 " before the remount, %" PRId64 " after",
                   last_path, last_hash, last_t, t);
    }
    ledger_close();
    free(text);
    return 0;
}
