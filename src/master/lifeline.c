/*
 * Master-death detection, two ways, as PostgreSQL's postmaster does:
 * - the lifeline pipe: the master holds the only write end, so its death
 *   (any death) makes the read end readable with EOF; event loops watch it;
 * - PR_SET_PDEATHSIG=SIGTERM, for a child blocked outside its loop.
 * The race where the master dies before prctl() is closed by comparing
 * getppid() with the master's pid afterwards.
 */
#include "master/lifeline.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

int lifeline_create(lifeline_t *lifeline)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -errno;
    lifeline->read_fd = fds[0];
    lifeline->write_fd = fds[1];
    return 0;
}

int lifeline_attach_child(lifeline_t *lifeline, pid_t master_pid)
{
    if (lifeline->write_fd >= 0)
        close(lifeline->write_fd);
    lifeline->write_fd = -1;
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
        return -errno;
    if (getppid() != master_pid)
        return -1;
    return 0;
}
