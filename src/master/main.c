/*
 * chorusd's command line, in nginx's manner:
 *   chorusd -c FILE          run in the foreground
 *   chorusd -d -c FILE       run as a daemon (pidfile: ProcessSettings.PidFile)
 *   chorusd -t -c FILE       check the config, print every problem, exit 0/1
 *   chorusd -s SIGNAL -c F   reload|stop|quit|reopen the running master
 *   chorusd -v               print the version
 * The config is loaded and validated here, before anything starts, so that
 * a bad config fails the command that was given it, on its terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/tls.h"
#include "core/version.h"
#include "master/master.h"
#include "master/pidfile.h"

#define DEFAULT_CONFIG CHORUS_SYSCONFDIR "/chorus/config.json"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: chorusd [-c FILE] [-d] [-t] [-s reload|stop|quit|reopen] [-v]\n"
            "  -c FILE  config file (default %s)\n"
            "  -d       run as a daemon\n"
            "  -t       check the config and exit\n"
            "  -s SIG   send SIG to the running master (via ProcessSettings.PidFile)\n"
            "  -v       print the version and exit\n",
            DEFAULT_CONFIG);
}

static int load_config(const char *path, config_t *config, config_errors_t *errors, bool quiet_ok)
{
    char tls_error[512];
    if (config_load(path, config, errors) == 0) {
        if (tls_check(&config->service, tls_error, sizeof(tls_error)) == 0) {
            if (!quiet_ok)
                printf("chorusd: the configuration file %s syntax is ok\n", path);
            return 0;
        }
        fprintf(stderr, "chorusd: %s: %s\n", path, tls_error);
        fprintf(stderr, "chorusd: configuration file %s test failed\n", path);
        config_free(config);
        return -1;
    }
    for (size_t i = 0; i < errors->count; i++)
        fprintf(stderr, "chorusd: %s: %s\n", path, errors->lines[i]);
    if (errors->dropped > 0)
        fprintf(stderr, "chorusd: %s: %zu more problems\n", path, errors->dropped);
    fprintf(stderr, "chorusd: configuration file %s test failed\n", path);
    return -1;
}

static int send_signal(const char *name, const config_t *config)
{
    static const struct {
        const char *name;
        int sig;
    } table[] = {{"reload", SIGHUP}, {"stop", SIGTERM}, {"quit", SIGQUIT}, {"reopen", SIGUSR1}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(name, table[i].name) != 0)
            continue;
        pid_t pid = pidfile_read_live(config->process.pid_file);
        if (pid < 0) {
            fprintf(stderr, "chorusd: no running master found through %s: %s\n", config->process.pid_file,
                    strerror(-pid));
            return 1;
        }
        if (kill(pid, table[i].sig) != 0) {
            fprintf(stderr, "chorusd: kill(%d): %s\n", (int)pid, strerror(errno));
            return 1;
        }
        return 0;
    }
    fprintf(stderr, "chorusd: unknown signal \"%s\" (reload, stop, quit, reopen)\n", name);
    return 1;
}

/* Detaches from the terminal.  The launching process waits for the master's
 * "listening" byte, so `chorusd -d` fails visibly when the start fails. */
static int daemonize(int *ready_fd)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close(fds[1]);
        char c;
        ssize_t n = read(fds[0], &c, 1);
        _exit(n == 1 ? 0 : 1);
    }
    close(fds[0]);
    if (setsid() < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    umask(022);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(null, STDERR_FILENO);
        if (null > STDERR_FILENO)
            close(null);
    }
    *ready_fd = fds[1];
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = DEFAULT_CONFIG, *signal_name = NULL;
    bool test = false, daemon = false;
    int opt;
    while ((opt = getopt(argc, argv, "c:dts:vh")) != -1) {
        switch (opt) {
        case 'c': path = optarg; break;
        case 'd': daemon = true; break;
        case 't': test = true; break;
        case 's': signal_name = optarg; break;
        case 'v': printf("chorusd %s (Mattermost API %s)\n", CHORUS_VERSION, CHORUS_API_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 1;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 1;
    }
    config_t config;
    config_errors_t notes; /* on success: the unknown keys, for the log */
    if (load_config(path, &config, &notes, !test) != 0)
        return 1;
    if (test) {
        config_free(&config);
        return 0;
    }
    if (signal_name != NULL) {
        int rc = send_signal(signal_name, &config);
        config_free(&config);
        return rc;
    }
    int ready_fd = -1;
    if (daemon && daemonize(&ready_fd) != 0) {
        perror("chorusd: cannot daemonize");
        return 1;
    }
    return master_run(&config, &notes, ready_fd);
}
