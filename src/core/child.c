/* See child.h. */
#include "core/child.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

static void on_signals(h2o_socket_t *sock, const char *err)
{
    child_watch_t *w = sock->data;
    (void)err;
    /* h2o has read the siginfo records into sock->input for us */
    size_t n = sock->input->size / sizeof(struct signalfd_siginfo);
    for (size_t i = 0; i < n; i++) {
        struct signalfd_siginfo si; /* h2o's buffer is not aligned for it */
        memcpy(&si, sock->input->bytes + i * sizeof(si), sizeof(si));
        if (si.ssi_signo == SIGUSR1) {
            if (log_reopen() != 0)
                log_warn(errno, "cannot reopen the log file");
            else
                log_info("log file reopened");
        }
        w->on_signal(w->data, &si);
    }
    h2o_buffer_consume(&sock->input, n * sizeof(struct signalfd_siginfo));
}

static void on_lifeline(h2o_socket_t *sock, const char *err)
{
    child_watch_t *w = sock->data;
    (void)err;
    h2o_buffer_consume(&sock->input, sock->input->size);
    h2o_socket_read_stop(sock); /* EOF stays readable: once is enough */
    w->on_orphan(w->data);
}

int child_watch_start(child_watch_t *w, h2o_evloop_t *loop, int lifeline_fd, child_signal_cb on_signal,
                      child_orphan_cb on_orphan, void *data)
{
    *w = (child_watch_t){.on_signal = on_signal, .on_orphan = on_orphan, .data = data};
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGHUP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -errno;
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    w->signals = h2o_evloop_socket_create(loop, fd, 0);
    w->signals->data = w;
    h2o_socket_read_start(w->signals, on_signals);
    w->lifeline = h2o_evloop_socket_create(loop, lifeline_fd, 0);
    w->lifeline->data = w;
    h2o_socket_read_start(w->lifeline, on_lifeline);
    return 0;
}

void child_watch_stop(child_watch_t *w)
{
    if (w->signals != NULL)
        h2o_socket_read_stop(w->signals);
    if (w->lifeline != NULL && h2o_socket_is_reading(w->lifeline))
        h2o_socket_read_stop(w->lifeline);
}

int control_send(int fd, control_type_t type)
{
    control_message_t msg = {.pid = (int32_t)getpid(), .type = (int32_t)type};
    ssize_t n;
    do {
        n = write(fd, &msg, sizeof(msg));
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(msg) ? 0 : -errno;
}
