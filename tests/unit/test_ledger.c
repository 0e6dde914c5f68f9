/* Unit tests for ledger: first-seen times, persistence across close/open,
 * file and directory modes, the bound, and concurrent use. */
#include "check.h"
#include "zoomfs/ledger.h"
#include "zoomfs/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/zoomfs-ledger-XXXXXX";

static const char *hash_of(const char *content)
{
    static char out[8][65];
    static int next;
    char *h = out[next++ % 8];
    sha256_hex(content, strlen(content), h);
    return h;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = 0, c;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_persistence(const char *file)
{
    const char *a = "users/ann@example.com/meetings/85746065432.json";
    const char *b = "users/ann@example.com/a file with spaces.json";
    CHECK_EQ_INT(ledger_open(file, 100), 0);

    struct stat st;
    CHECK(stat(file, &st) == 0 && (st.st_mode & 0777) == 0600);
    char *dir = xstrdup(file);
    *strrchr(dir, '/') = '\0';
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    free(dir);

    CHECK_EQ_INT(ledger_mtime(a, hash_of("v1"), 1000), 1000);
    CHECK_EQ_INT(ledger_mtime(a, hash_of("v1"), 2000), 1000); /* unchanged: same time */
    CHECK_EQ_INT(ledger_mtime(a, hash_of("v2"), 3000), 3000); /* edited: new time */
    CHECK_EQ_INT(ledger_mtime(a, hash_of("v2"), 4000), 3000);
    CHECK_EQ_INT(ledger_mtime(b, hash_of("v1"), 5000), 5000); /* the path is part of the key */
    CHECK_EQ_INT(ledger_mtime("bad\npath", hash_of("v1"), 6000), 6000);
    CHECK_EQ_INT(ledger_mtime("bad\npath", hash_of("v1"), 7000), 7000); /* no entry */
    CHECK_EQ_INT(count_lines(file), 3);
    ledger_close();

    /* after a remount, the same content keeps its time */
    CHECK_EQ_INT(ledger_open(file, 100), 0);
    CHECK_EQ_INT(ledger_mtime(a, hash_of("v1"), 9000), 1000);
    CHECK_EQ_INT(ledger_mtime(a, hash_of("v2"), 9000), 3000);
    CHECK_EQ_INT(ledger_mtime(b, hash_of("v1"), 9000), 5000);
    CHECK_EQ_INT(ledger_mtime("bad\npath", hash_of("v1"), 9000), 9000);
    CHECK_EQ_INT(ledger_mtime(a, hash_of("v3"), 9500), 9500);
    ledger_close();

    /* the line format */
    FILE *f = fopen(file, "r");
    char line[512] = "";
    CHECK(f && fgets(line, sizeof(line), f));
    if (f)
        fclose(f);
    char expected[512];
    snprintf(expected, sizeof(expected), "1000 %s %s\n", hash_of("v1"), a);
    CHECK_EQ_STR(line, expected);
}

static void test_bad_lines(const char *file)
{
    char text[1024];
    const char *h = hash_of("x");
    snprintf(text, sizeof(text),
             "garbage\n"
             "12 nothex users/x.json\n"
             "500 %s users/dup.json\n"
             "700 %s users/dup.json\n"
             "-5 %s users/neg.json\n"
             "800 %s \n"
             "900 %s users/ok.json",
             h, h, h, h, h); /* the last line has no newline */
    write_file(file, text);
    CHECK_EQ_INT(ledger_open(file, 100), 0);
    CHECK_EQ_INT(ledger_mtime("users/dup.json", h, 9999), 500); /* earliest wins */
    CHECK_EQ_INT(ledger_mtime("users/ok.json", h, 9999), 900);
    CHECK_EQ_INT(ledger_mtime("users/neg.json", h, 9999), 9999);
    ledger_close();
    /* rewritten without the bad and duplicate lines (+1 new: neg.json) */
    CHECK_EQ_INT(count_lines(file), 3);
}

/* A file whose only flaw is a last line without its newline (found by
 * fuzzing: the next entry ran into it and was lost after a remount). */
static void test_last_line_without_newline(const char *file)
{
    const char *h = hash_of("y");
    char text[256];
    snprintf(text, sizeof(text), "900 %s users/ok.json", h);
    write_file(file, text);
    CHECK_EQ_INT(ledger_open(file, 100), 0);
    CHECK_EQ_INT(ledger_mtime("users/ok.json", h, 9999), 900);
    CHECK_EQ_INT(ledger_mtime("users/new.json", h, 1000), 1000);
    ledger_close();
    CHECK_EQ_INT(count_lines(file), 2);
    CHECK_EQ_INT(ledger_open(file, 100), 0);
    CHECK_EQ_INT(ledger_mtime("users/ok.json", h, 9999), 900);
    CHECK_EQ_INT(ledger_mtime("users/new.json", h, 9999), 1000);
    ledger_close();
}

/* Pairs no line can hold (a path with a newline) never push a stored one
 * out at the bound (found by fuzzing). */
static void test_memory_only_entries_go_first(const char *file)
{
    const char *h = hash_of("z");
    unlink(file);
    CHECK_EQ_INT(ledger_open(file, 4), 0);
    CHECK_EQ_INT(ledger_mtime("users/kept.json", h, 100), 100);
    char path[32];
    for (int i = 0; i < 8; i++) {
        snprintf(path, sizeof(path), "users/a\nb%d.json", i);
        ledger_mtime(path, h, 200 + i);
    }
    CHECK_EQ_INT(ledger_mtime("users/kept.json", h, 999), 100);
    ledger_close();
    CHECK_EQ_INT(ledger_open(file, 4), 0);
    CHECK_EQ_INT(ledger_mtime("users/kept.json", h, 999), 100);
    ledger_close();
}

static void test_bound(const char *file)
{
    const size_t max = 8;
    char path[64];
    int worst = 0;
    unlink(file);
    CHECK_EQ_INT(ledger_open(file, max), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(path, sizeof(path), "users/u/meetings/%d.json", i);
        CHECK_EQ_INT(ledger_mtime(path, hash_of("c"), 1000 + i), 1000 + i);
        /* users/u/user.json is read all the time: recently used, kept */
        CHECK_EQ_INT(ledger_mtime("users/u/user.json", hash_of("u"), 5000 + i), 5000);
        int lines = count_lines(file);
        worst = lines > worst ? lines : worst;
    }
    CHECK(worst <= (int)max);
    ledger_close();
    CHECK(count_lines(file) <= (int)max);

    CHECK_EQ_INT(ledger_open(file, max), 0);
    CHECK_EQ_INT(ledger_mtime("users/u/user.json", hash_of("u"), 9000), 5000);
    CHECK_EQ_INT(ledger_mtime("users/u/meetings/39.json", hash_of("c"), 9000), 1039);
    CHECK_EQ_INT(ledger_mtime("users/u/meetings/0.json", hash_of("c"), 9000), 9000); /* dropped */
    ledger_close();

    /* a file over the bound (say, from a larger max before) is cut at open */
    CHECK_EQ_INT(ledger_open(file, 2), 0);
    ledger_close();
    CHECK(count_lines(file) <= 2);
}

static void test_memory_only(void)
{
    CHECK_EQ_INT(ledger_open(NULL, 4), 0);
    CHECK_EQ_INT(ledger_mtime("a", hash_of("1"), 10), 10);
    CHECK_EQ_INT(ledger_mtime("a", hash_of("1"), 20), 10);
    for (int i = 0; i < 10; i++)
        ledger_mtime("b", hash_of(i % 2 ? "odd" : "even"), 30 + i);
    CHECK_EQ_INT(ledger_mtime("b", hash_of("even"), 99), 30);
    ledger_close();
    /* closed: forgotten */
    CHECK_EQ_INT(ledger_mtime("a", hash_of("1"), 50), 50);
    ledger_close();
}

static void test_open_failure(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/plainfile", tmpdir);
    write_file(path, "x");
    snprintf(path, sizeof(path), "%s/plainfile/sub/mtimes", tmpdir);
    CHECK(ledger_open(path, 10) < 0);
    /* still usable, in memory */
    CHECK_EQ_INT(ledger_mtime("a", hash_of("1"), 10), 10);
    CHECK_EQ_INT(ledger_mtime("a", hash_of("1"), 20), 10);
    ledger_close();
}

static void test_default_path(void)
{
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    setenv("HOME", "/home/ann", 1);
    char *p = ledger_default_path();
    CHECK_EQ_STR(p, "/x/cache/zoomfs/mtimes");
    free(p);
    setenv("XDG_CACHE_HOME", "relative", 1); /* ignored, as the XDG spec says */
    p = ledger_default_path();
    CHECK_EQ_STR(p, "/home/ann/.cache/zoomfs/mtimes");
    free(p);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    p = ledger_default_path();
    CHECK(p == NULL);
    free(p);
}

static void *hammer(void *arg)
{
    int id = *(int *)arg;
    char path[64], hash[65];
    int bad = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(path, sizeof(path), "users/%d/%d.json", id, i % 300);
        sha256_hex(path, strlen(path), hash);
        int64_t t = ledger_mtime(path, hash, 100 + i);
        bad += t < 100 || t > 100 + i;
    }
    return (void *)(intptr_t)bad;
}

/* A symlink where the ledger goes, or a ledger others may write, is
 * refused: zoomfs carries on in memory and touches nothing. */
static void test_refuses_links_and_shared_files(void)
{
    char link[300], target[300], shared[300];
    snprintf(link, sizeof(link), "%s/link-mtimes", tmpdir);
    snprintf(target, sizeof(target), "%s/victim", tmpdir);
    snprintf(shared, sizeof(shared), "%s/shared-mtimes", tmpdir);
    /* dangling: root must not create the target */
    CHECK_EQ_INT(symlink(target, link), 0);
    CHECK(ledger_open(link, 100) != 0);
    CHECK(access(target, F_OK) != 0);
    CHECK_EQ_INT(ledger_mtime("p", hash_of("x"), 5), 5); /* in memory still */
    ledger_close();
    /* to an existing file: it gets no line */
    write_file(target, "keep\n");
    CHECK(ledger_open(link, 100) != 0);
    ledger_mtime("p", hash_of("x"), 5);
    ledger_close();
    CHECK_EQ_INT(count_lines(target), 1);
    /* a ledger that group or others may write */
    write_file(shared, "");
    chmod(shared, 0666);
    CHECK(ledger_open(shared, 100) != 0);
    ledger_mtime("p", hash_of("y"), 6);
    ledger_close();
    CHECK_EQ_INT(count_lines(shared), 0);
}

static void test_threads(const char *file)
{
    unlink(file);
    CHECK_EQ_INT(ledger_open(file, 500), 0);
    pthread_t th[4];
    int ids[4] = {0, 1, 2, 3};
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, hammer, &ids[i]);
    intptr_t bad = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        bad += (intptr_t)r;
    }
    CHECK_EQ_INT(bad, 0);
    ledger_close();
    CHECK(count_lines(file) <= 500);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char file[256];
    snprintf(file, sizeof(file), "%s/cache/zoomfs/mtimes", tmpdir);
    test_persistence(file);
    test_bad_lines(file);
    test_last_line_without_newline(file);
    test_memory_only_entries_go_first(file);
    test_bound(file);
    test_memory_only();
    test_open_failure();
    test_threads(file);
    test_refuses_links_and_shared_files();
    test_default_path(); /* last: it changes the environment */

    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return CHECK_DONE("test_ledger");
}
