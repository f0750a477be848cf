/* main() for an app built as a one-process program (build/examples/hello): the same source
 * that becomes app.so for the prefork server. */
#include "web/app_main.h"

extern const tp_app_entry TP_APP_SYMBOL;

int main(int argc, char **argv)
{
    return tp_app_main(&TP_APP_SYMBOL, argc, argv);
}
