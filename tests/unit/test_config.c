/* Unit tests for config: the key = value parser, the private file rule,
 * credentials from the environment, URL and value checks. */
#include "check.h"
#include "zoomfs/config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char keys[8][32];
    char values[8][64];
    int n;
} Seen;

static int remember(const char *key, const char *value, void *ctx)
{
    Seen *s = ctx;
    if (s->n == 8 || strcmp(key, "reject") == 0)
        return -1;
    snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
    snprintf(s->values[s->n], sizeof(s->values[0]), "%s", value);
    s->n++;
    return 0;
}

static void test_parse_text(void)
{
    Seen s = {0};
    CHECK_EQ_INT(
        config_parse_text("# comment\n\n  a = 1 \nb=\"two words\"\nc = 'x'\n", remember, &s), 0);
    CHECK_EQ_INT(s.n, 3);
    CHECK_EQ_STR(s.keys[0], "a");
    CHECK_EQ_STR(s.values[0], "1");
    CHECK_EQ_STR(s.values[1], "two words");
    CHECK_EQ_STR(s.values[2], "x");

    Seen t = {0};
    CHECK_EQ_INT(config_parse_text("a = 1\n\nno equals here\n", remember, &t), 3);
    Seen u = {0};
    CHECK_EQ_INT(config_parse_text("ok = 1\nreject = 2\n", remember, &u), 2);
}

static char *write_file(const char *dir, const char *text, mode_t mode)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/config", dir);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    chmod(path, mode);
    return path;
}

static void test_credentials_file(void)
{
    char dir[] = "/tmp/zoomfs-config-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    unsetenv("ZOOM_ACCOUNT_ID");
    unsetenv("ZOOM_CLIENT_ID");
    unsetenv("ZOOM_CLIENT_SECRET");
    unsetenv("ZOOM_ACCESS_TOKEN");
    char err[512];
    Config c;

    config_defaults(&c);
    c.config_path = strdup(write_file(
        dir, "ZOOM_ACCOUNT_ID = acct\nclient_id = cid\nZOOM_CLIENT_SECRET = s3cret\n", 0600));
    CHECK_EQ_INT(config_load_credentials(&c, err, sizeof(err)), 0);
    CHECK_EQ_STR(c.auth.account_id, "acct");
    CHECK_EQ_STR(c.auth.client_id, "cid");
    CHECK_EQ_STR(c.auth.client_secret, "s3cret");
    CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
    config_free(&c);

    /* Readable by others: refused, and the reason says so. */
    config_defaults(&c);
    c.config_path = strdup(write_file(dir, "ZOOM_CLIENT_SECRET = s3cret\n", 0644));
    CHECK_EQ_INT(config_load_credentials(&c, err, sizeof(err)), -1);
    CHECK(strstr(err, "chmod 600") != NULL);
    CHECK(c.auth.client_secret == NULL);
    config_free(&c);

    /* The environment wins over the file. */
    setenv("ZOOM_CLIENT_SECRET", "from-env", 1);
    config_defaults(&c);
    c.config_path = strdup(write_file(dir, "ZOOM_CLIENT_SECRET = from-file\n", 0600));
    CHECK_EQ_INT(config_load_credentials(&c, err, sizeof(err)), 0);
    CHECK_EQ_STR(c.auth.client_secret, "from-env");
    config_free(&c);
    unsetenv("ZOOM_CLIENT_SECRET");

    /* Unknown keys are an error, with the line number. */
    config_defaults(&c);
    c.config_path = strdup(write_file(dir, "ZOOM_CLIENT_ID = x\npassword = y\n", 0600));
    CHECK_EQ_INT(config_load_credentials(&c, err, sizeof(err)), -1);
    CHECK(strstr(err, "line 2") != NULL);
    config_free(&c);

    /* An explicit file that does not exist is an error. */
    config_defaults(&c);
    c.config_path = strdup("/nonexistent/zoomfs/config");
    CHECK_EQ_INT(config_load_credentials(&c, err, sizeof(err)), -1);
    config_free(&c);

    /* Owned by another user (root too refuses it, as ssh does). */
    config_defaults(&c);
    c.config_path = strdup(write_file(dir, "ZOOM_CLIENT_SECRET = s3cret\n", 0600));
    if (chown(c.config_path, 65534, 65534) == 0) {
        CHECK_EQ_INT(config_load_credentials(&c, err, sizeof(err)), -1);
        CHECK(strstr(err, "another user") != NULL);
    }
    config_free(&c);

    char path[300];
    snprintf(path, sizeof(path), "%s/config", dir);
    unlink(path);

    /* A FIFO in its place fails at once instead of hanging the mount. */
    char fifo[300];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    CHECK_EQ_INT(mkfifo(fifo, 0600), 0);
    config_defaults(&c);
    c.config_path = strdup(fifo);
    CHECK_EQ_INT(config_load_credentials(&c, err, sizeof(err)), -1);
    CHECK(strstr(err, "not a regular file") != NULL);
    config_free(&c);
    unlink(fifo);
    rmdir(dir);
}

static void test_validate(void)
{
    char err[512];
    Config c;
    config_defaults(&c);
    CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
    CHECK(strstr(err, "no credentials") != NULL);
    c.auth.static_token = strdup("tok");
    CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0);

    free(c.auth.api_url);
    c.auth.api_url = strdup("http://example.com");
    CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
    CHECK(strstr(err, "api_url=http://example.com refused") != NULL);
    free(c.auth.api_url);
    c.auth.api_url = strdup("http://127.0.0.1:8080");
    CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0);

    c.store.since = strdup("2025-13");
    CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), -1);
    free(c.store.since);
    c.store.since = strdup("2025-03");
    CHECK_EQ_INT(config_validate(&c, err, sizeof(err)), 0);
    config_free(&c);
}

int main(void)
{
    test_parse_text();
    test_credentials_file();
    test_validate();
    return CHECK_DONE("test_config");
}
