/* Helpers the unit tests share for driving real forked processes. */
#ifndef CHORUS_TESTS_FORK_SUPPORT_H
#define CHORUS_TESTS_FORK_SUPPORT_H

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

/* Exit code of a child, 128 + signal when it was killed. */
static inline int child_wait(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

static inline uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#endif
