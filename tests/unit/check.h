/* check: the few assertions the unit tests need. Each failure prints
 * file:line and what differed; CHECK_DONE prints the summary line
 * "<name>: N passed, M failed" and gives main's exit status. */
#ifndef ZOOMFS_TEST_CHECK_H
#define ZOOMFS_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

static inline void check_result(int ok, const char *file, int line, const char *what)
{
    if (ok) {
        check_passed++;
        return;
    }
    check_failed++;
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
}

#define CHECK(cond) check_result(!!(cond), __FILE__, __LINE__, #cond)

#define CHECK_EQ_STR(actual, expected)                                                             \
    do {                                                                                           \
        const char *a_ = (actual), *e_ = (expected);                                               \
        int ok_ = a_ && e_ ? strcmp(a_, e_) == 0 : a_ == e_;                                       \
        check_result(ok_, __FILE__, __LINE__, #actual " == " #expected);                           \
        if (!ok_)                                                                                  \
            fprintf(stderr, "    got      \"%s\"\n    expected \"%s\"\n", a_ ? a_ : "(null)",      \
                    e_ ? e_ : "(null)");                                                           \
    } while (0)

#define CHECK_EQ_INT(actual, expected)                                                             \
    do {                                                                                           \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                            \
        check_result(a_ == e_, __FILE__, __LINE__, #actual " == " #expected);                      \
        if (a_ != e_)                                                                              \
            fprintf(stderr, "    got %lld, expected %lld\n", a_, e_);                              \
    } while (0)

#define CHECK_DONE(name)                                                                           \
    (printf("%s: %d passed, %d failed\n", (name), check_passed, check_failed), check_failed != 0)

#endif
