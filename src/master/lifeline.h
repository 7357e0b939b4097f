/* How children notice that the master died (even by SIGKILL): a pipe whose
 * write end only the master keeps; EOF on the read end means it is gone. */
#ifndef CHORUS_MASTER_LIFELINE_H
#define CHORUS_MASTER_LIFELINE_H
#include <sys/types.h>

typedef struct {
    int read_fd;
    int write_fd;
} lifeline_t;

int lifeline_create(lifeline_t *lifeline);
/* In a freshly forked child: drop the write end, ask for SIGTERM when the
 * master dies, and return -1 if it already did before we could ask. */
int lifeline_attach_child(lifeline_t *lifeline, pid_t master_pid);

#endif
