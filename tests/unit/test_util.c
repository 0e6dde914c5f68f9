/* Unit tests for util: StrBuf growth, writes at offsets, resize, copy_range,
 * sha256_hex. */
#include "check.h"
#include "zoomfs/log.h"
#include "zoomfs/util.h"

#include <stdlib.h>

/* Zoom's messages and topics reach the log and .zoomfs/errors escaped: a
 * newline cannot forge a line, ESC cannot drive the terminal. */
static void test_log_escape(void)
{
    char *e = log_escape("Invalid field.\n12:00 zoomfs error: forged\x1b[2J\x7f ok é");
    CHECK_EQ_STR(e, "Invalid field.\\x0a12:00 zoomfs error: forged\\x1b[2J\\x7f ok é");
    free(e);
    e = log_escape("");
    CHECK_EQ_STR(e, "");
    free(e);
}

int main(void)
{
    test_log_escape();
    StrBuf b;
    strbuf_init(&b);
    char *empty = strbuf_take(&b, NULL);
    CHECK_EQ_STR(empty, ""); /* an untouched buffer is still a string */
    free(empty);

    strbuf_append(&b, "hello", 5);
    strbuf_appendf(&b, " %d", 42);
    CHECK_EQ_STR(b.data, "hello 42");
    CHECK_EQ_INT(b.len, 8);

    /* Writing past the end zero-fills the gap. */
    strbuf_write_at(&b, "X", 1, 10);
    CHECK_EQ_INT(b.len, 11);
    CHECK(b.data[8] == '\0' && b.data[9] == '\0' && b.data[10] == 'X');
    strbuf_write_at(&b, "J", 1, 0);
    CHECK(b.data[0] == 'J');

    strbuf_resize(&b, 3);
    CHECK_EQ_STR(b.data, "Jel");
    strbuf_resize(&b, 5);
    CHECK_EQ_INT(b.len, 5);
    CHECK(b.data[3] == '\0' && b.data[4] == '\0' && b.data[5] == '\0');
    strbuf_free(&b);

    char out[8];
    const char *data = "abcdef";
    CHECK_EQ_INT(copy_range(data, 6, out, 4, 0), 4);
    CHECK(memcmp(out, "abcd", 4) == 0);
    CHECK_EQ_INT(copy_range(data, 6, out, 8, 4), 2);
    CHECK(memcmp(out, "ef", 2) == 0);
    CHECK_EQ_INT(copy_range(data, 6, out, 8, 6), 0);
    CHECK_EQ_INT(copy_range(data, 6, out, 8, -1), 0);

    char hex[65];
    sha256_hex("abc", 3, hex);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    char *s = xasprintf("%s-%d", "x", 7);
    CHECK_EQ_STR(s, "x-7");
    free(s);
    return CHECK_DONE("test_util");
}
