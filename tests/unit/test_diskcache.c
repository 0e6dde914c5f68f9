/* Unit tests for diskcache: modes, round trips, age, keys that collide in
 * nothing, broken files removed, and a folder that is not ours refused. */
#include "check.h"
#include "zoomfs/diskcache.h"
#include "zoomfs/util.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/zoomfs-diskcache-XXXXXX";

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void break_every_file(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *p = xasprintf("%s/%s", dir, e->d_name);
        FILE *f = fopen(p, "w");
        if (f) {
            fputs("{\"key\": \"recordings u 2026-0", f); /* cut short by a crash */
            fclose(f);
        }
        free(p);
    }
    if (d)
        closedir(d);
}

static void test_round_trip(const char *dir)
{
    CHECK_EQ_INT(diskcache_open(dir), 0);
    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);

    json_t *v = json_pack("[{s:s}]", "uuid", "a/b==");
    diskcache_put("recordings u1 2026-01", v);
    json_t *back = diskcache_get("recordings u1 2026-01", 3600);
    CHECK(back && json_equal(back, v));
    json_decref(back);
    CHECK(diskcache_get("recordings u1 2026-02", 3600) == NULL);
    CHECK(diskcache_get("recordings u1 2026-01", 0) == NULL); /* trusted for 0 s */
    CHECK_EQ_INT(count_files(dir), 1);

    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char *p = xasprintf("%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
        free(p);
    }
    closedir(d);

    json_t *empty = json_array();
    diskcache_put("recordings u1 2026-01", empty); /* replaced, not added */
    json_decref(empty);
    CHECK_EQ_INT(count_files(dir), 1);
    diskcache_drop("recordings u1 2026-01");
    CHECK_EQ_INT(count_files(dir), 0);

    diskcache_put("k", v);
    break_every_file(dir);
    CHECK(diskcache_get("k", 3600) == NULL);
    CHECK_EQ_INT(count_files(dir), 0); /* removed, to be fetched again */
    json_decref(v);
    diskcache_close();
}

static void test_not_ours(const char *base)
{
    char *target = xasprintf("%s/elsewhere", base), *link = xasprintf("%s/link", base);
    CHECK(mkdir(target, 0700) == 0 && symlink(target, link) == 0);
    CHECK(diskcache_open(link) != 0);
    json_t *v = json_integer(1);
    diskcache_put("k", v); /* nothing is kept, quietly */
    CHECK(diskcache_get("k", 3600) == NULL);
    CHECK_EQ_INT(count_files(target), 0);
    json_decref(v);
    diskcache_close();
    free(target);
    free(link);
}

static void test_default_dir(void)
{
    setenv("XDG_CACHE_HOME", "/x", 1);
    char *d = diskcache_default_dir("ab/../c d");
    CHECK_EQ_STR(d, "/x/zoomfs/account-ab____c_d");
    free(d);
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/h", 1);
    d = diskcache_default_dir("Acc-1");
    CHECK_EQ_STR(d, "/h/.cache/zoomfs/account-Acc-1");
    free(d);
    CHECK(diskcache_default_dir("") == NULL);
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    char *dir = xasprintf("%s/a/b/account-x", tmpdir);
    test_round_trip(dir);
    test_not_ours(tmpdir);
    test_default_dir();
    free(dir);
    char *cmd = xasprintf("rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0);
    free(cmd);
    return CHECK_DONE("diskcache");
}
