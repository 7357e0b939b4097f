/* The runner every unit test's main() shares: runs the suite (Check's fork
 * mode: a crashing test fails alone) and turns the outcome into an exit
 * status automake's harness reads. */
#ifndef CHORUS_TESTS_CHECK_MAIN_H
#define CHORUS_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
