/* tornado-prefork's testing helpers (tornado.testing): the one header an app's tests include,
 * after <check.h> for the TP_EXPECT_LOG / TP_ASSERT_* macros. See docs/testing.md. */
#ifndef TP_TESTING_H
#define TP_TESTING_H

#include "tp.h"
#include "web/testing/testing.h"

/* The app.so entry TP_APP defines in the app's source, for tp_http_test_start. */
extern const tp_app_entry TP_APP_SYMBOL;
#define TP_TEST_APP_ENTRY (&TP_APP_SYMBOL)

#ifdef CHECK_H
/* ExpectLog as a block: the statement after it runs once with the capture on; the test fails
 * afterwards if no line matched regex at level (0: any). Do not leave the block with break,
 * return or goto (the capture would stay on). */
#define TP_EXPECT_LOG(regex, level) TP_EXPECT_LOG_IF(regex, level, true)
/* The same with Tornado's required=false: no failure when nothing matched. */
#define TP_EXPECT_LOG_IF(regex, level, required)                                                   \
    for (int tp__once = 1; tp__once;)                                                              \
        for (tp_expect_log *tp__el = tp_expect_log_begin(regex, level, required);                  \
             tp__once && (tp__el || (ck_abort_msg("ExpectLog: bad regex %s", regex), 0));          \
             tp__once = 0, ck_assert_msg(tp_expect_log_end(tp__el) == 0,                           \
                                         "did not get expected log message matching %s", regex))
#endif

#endif
