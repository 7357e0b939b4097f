/* Pidfile handling.  A stale file (its process gone) is replaced; a live one
 * means another master runs with this config, and starting a second would
 * fight it for the ports, so that is refused. */
#include "master/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A zombie is dead for our purposes: it holds no port and can get no signal
 * (it lingers where nothing reaps orphans, e.g. a container without init). */
static bool is_zombie(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

pid_t pidfile_read_live(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -errno;
    long pid = 0;
    int n = fscanf(f, "%ld", &pid);
    fclose(f);
    if (n != 1 || pid <= 0)
        return -EINVAL;
    if ((kill((pid_t)pid, 0) != 0 && errno == ESRCH) || is_zombie((pid_t)pid))
        return -ESRCH;
    return (pid_t)pid;
}

int pidfile_write(const char *path)
{
    pid_t other = pidfile_read_live(path);
    if (other > 0 && other != getpid())
        return -EEXIST;
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    int err = 0;
    if (write(fd, buf, (size_t)len) != len)
        err = -errno;
    if (close(fd) != 0 && err == 0)
        err = -errno;
    if (err == 0 && rename(tmp, path) != 0)
        err = -errno;
    if (err != 0)
        unlink(tmp);
    return err;
}

void pidfile_remove(const char *path)
{
    if (pidfile_read_live(path) == getpid())
        unlink(path);
}
