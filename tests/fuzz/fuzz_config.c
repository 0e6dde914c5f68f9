/* The config file (config.h): "key = value" lines, comments, quotes. Twice:
 * config_parse_text with a callback that checks what it is handed (a key
 * that is not empty, holds no '=' and no blank at either end; neither key
 * nor value holds a newline) and refuses keys starting with 'x', and
 * config_load_credentials reading the input from a private temp file with
 * the real callback, then config_validate and config_free. The first
 * malformed line's number is 0 or a line of the text. */
#include "fuzz.h"

#include "zoomfs/config.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir, *path;

static void cleanup(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    /* Credentials come from the environment first: none here. */
    static const char *const env[] = {"ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET",
                                      "ZOOM_ACCESS_TOKEN"};
    for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
        unsetenv(env[i]);
    dir = fuzz_tempdir("config");
    path = malloc(strlen(dir) + sizeof("/config"));
    sprintf(path, "%s/config", dir);
    atexit(cleanup);
    return 0;
}

typedef struct {
    int calls;
} Seen;

static bool blank_at_ends(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[n - 1]));
}

static int on_pair(const char *key, const char *value, void *ctx)
{
    Seen *seen = ctx;
    seen->calls++;
    FUZZ_CHECK(*key, "an empty key");
    FUZZ_CHECK(!strchr(key, '=') && !strchr(key, '\n') && !blank_at_ends(key), "key \"%s\"", key);
    FUZZ_CHECK(!strchr(value, '\n'), "value \"%s\" holds a newline", value);
    return key[0] == 'x' ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    int lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    Seen seen = {0};
    int bad = config_parse_text(text, on_pair, &seen);
    FUZZ_CHECK(bad >= 0 && bad <= lines, "line %d of %d", bad, lines);
    FUZZ_CHECK(seen.calls <= lines, "%d calls for %d lines", seen.calls, lines);

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) != 0)
        abort();
    Config c;
    config_defaults(&c);
    c.config_path = strdup(path);
    char err[512] = "";
    if (config_load_credentials(&c, err, sizeof(err)) == 0)
        (void)config_validate(&c, err, sizeof(err));
    FUZZ_CHECK(memchr(err, '\0', sizeof(err)), "err not terminated");
    config_free(&c);
    free(text);
    return 0;
}
