/* The master's pidfile: how `chorusd -s` and init scripts find a running node. */
#ifndef CHORUS_MASTER_PIDFILE_H
#define CHORUS_MASTER_PIDFILE_H
#include <sys/types.h>

/* Writes our pid; -EEXIST when a live master already owns the file. */
int pidfile_write(const char *path);
/* The pid in the file if that process is alive, else a negative errno. */
pid_t pidfile_read_live(const char *path);
void pidfile_remove(const char *path);

#endif
