/*
 * Per-process logging.
 *
 * Every process owns its log file (master.log, worker-N.log, ...), opened
 * with O_APPEND so that a line is one write(2) and processes that share a
 * file (a worker slot across generations) never interleave inside a line.
 * The state is process-wide by nature: it is set once after fork and only
 * the owning process touches it.  A failed write is dropped silently: the
 * logger has nobody left to tell, and a full disk must not stop serving.
 */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

typedef struct {
    char process[32];
    char path[512];
    int fd;
    bool file_enabled, file_json;
    log_level_t file_level;
    bool console_enabled, console_json;
    log_level_t console_level;
} log_state_t;

static log_state_t log_state = {
    .process = "chorusd",
    .fd = -1,
    .console_enabled = true,
    .console_level = LOG_INFO,
};

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *name, log_level_t *level)
{
    static const char *const upper[] = {"ERROR", "WARN", "INFO", "DEBUG"};
    for (int i = LOG_ERROR; i <= LOG_DEBUG; i++) {
        if (strcasecmp(name, upper[i]) == 0) {
            *level = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

const char *log_directory(const config_log_t *settings)
{
    return settings->file_location[0] != '\0' ? settings->file_location : "./logs";
}

static int open_file(void)
{
    int fd = open(log_state.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (log_state.fd >= 0)
        close(log_state.fd);
    log_state.fd = fd;
    return 0;
}

int log_open(const config_log_t *settings, const char *process)
{
    snprintf(log_state.process, sizeof(log_state.process), "%s", process);
    log_state.console_enabled = settings->enable_console;
    log_state.console_json = settings->console_json;
    log_state.file_enabled = settings->enable_file;
    log_state.file_json = settings->file_json;
    if (log_level_parse(settings->console_level, &log_state.console_level) != 0)
        log_state.console_level = LOG_INFO;
    if (log_level_parse(settings->file_level, &log_state.file_level) != 0)
        log_state.file_level = LOG_INFO;
    if (!log_state.file_enabled) {
        log_close();
        return 0;
    }
    const char *dir = log_directory(settings);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -errno;
    snprintf(log_state.path, sizeof(log_state.path), "%s/%s.log", dir, process);
    return open_file();
}

int log_reopen(void)
{
    if (!log_state.file_enabled)
        return 0;
    return open_file();
}

void log_close(void)
{
    if (log_state.fd >= 0)
        close(log_state.fd);
    log_state.fd = -1;
}

bool log_enabled(log_level_t level)
{
    return (log_state.file_enabled && log_state.fd >= 0 && level <= log_state.file_level) ||
           (log_state.console_enabled && level <= log_state.console_level);
}

/* Appends `s` to `out` as the inside of a JSON string. */
static size_t escape_json(char *out, size_t cap, size_t n, const char *s)
{
    for (; *s != '\0' && n + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    return n;
}

static size_t format_line(char *out, size_t cap, bool json, log_level_t level, const char *msg)
{
    struct timespec ts;
    struct tm tm;
    char when[40];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t w = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof(when) - w, ".%03ldZ", ts.tv_nsec / 1000000);

    size_t n;
    if (!json) {
        n = (size_t)snprintf(out, cap, "%s %-5s [%s %d] %s\n", when, level_names[level], log_state.process,
                             (int)getpid(), msg);
        if (n >= cap) {
            n = cap - 1;
            out[n - 1] = '\n';
        }
        return n;
    }
    n = (size_t)snprintf(out, cap, "{\"timestamp\":\"%s\",\"level\":\"%s\",\"process\":\"%s\",\"pid\":%d,\"msg\":\"",
                         when, level_names[level], log_state.process, (int)getpid());
    n = escape_json(out, cap - 3, n, msg);
    out[n++] = '"';
    out[n++] = '}';
    out[n++] = '\n';
    return n;
}

void log_write(log_level_t level, int err, const char *fmt, ...)
{
    char msg[LOG_LINE_MAX / 2], line[LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (err != 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s (%d)", strerror(err < 0 ? -err : err), err < 0 ? -err : err);

    bool to_file = log_state.file_enabled && log_state.fd >= 0 && level <= log_state.file_level;
    bool to_console = log_state.console_enabled && level <= log_state.console_level;
    if (!to_file && !to_console && !(log_state.fd < 0 && level <= LOG_ERROR))
        return;
    if (to_file) {
        size_t len = format_line(line, sizeof(line), log_state.file_json, level, msg);
        if (write(log_state.fd, line, len) < 0) {
            /* nowhere left to report it */
        }
    }
    if (to_console || (!to_file && level <= LOG_ERROR)) {
        size_t len = format_line(line, sizeof(line), log_state.console_json, level, msg);
        if (write(STDERR_FILENO, line, len) < 0) {
            /* nowhere left to report it */
        }
    }
}
