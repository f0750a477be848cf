/* The ws_client suite's tests that connect (see test_ws_client.c). */
#include "tests/unit/suites.h"

void ws_client_add_net_tests(Suite *s)
{
    (void)s;
}
