/* The main() every unit suite shares: run the suite, exit non-zero on any
 * failure (Check's closing line reports the counts). */
#ifndef MK_UNIT_MAIN_H
#define MK_UNIT_MAIN_H

#include <check.h>

#define MK_UNIT_MAIN(suite_fn)                                                 \
  int main(void)                                                               \
  {                                                                            \
    SRunner *sr = srunner_create(suite_fn());                                  \
    int failures;                                                              \
                                                                               \
    srunner_run_all(sr, CK_NORMAL);                                            \
    failures = srunner_ntests_failed(sr);                                      \
    srunner_free(sr);                                                          \
    return failures ? 1 : 0;                                                   \
  }

#endif
