/*
 * Logging: one file per process in LogSettings.FileLocation (master.log,
 * worker-0.log, ...), plus the console when EnableConsole.  Each target has
 * its own level and format (JSON lines or "time level [process pid] msg").
 */
#ifndef CHORUS_CORE_LOG_H
#define CHORUS_CORE_LOG_H

#include <stdbool.h>
#include "core/config.h"

typedef enum { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level_t;

/* Sets up logging for this process, named `process` ("master", "worker-3").
 * Opens <dir>/<process>.log when file logging is on.  Returns 0, or -errno
 * (logging then still goes to the console, and stderr if that is off). */
int log_open(const config_log_t *settings, const char *process);
/* Reopens the file (USR1, after logrotate moved it). */
int log_reopen(void);
void log_close(void);
/* The log directory a config resolves to ("" means ./logs). */
const char *log_directory(const config_log_t *settings);
int log_level_parse(const char *name, log_level_t *level);
bool log_enabled(log_level_t level);

/* `err`, when non-zero, is an errno appended as ": strerror (err)". */
void log_write(log_level_t level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error(err, ...) log_write(LOG_ERROR, (err), __VA_ARGS__)
#define log_warn(err, ...)  log_write(LOG_WARN, (err), __VA_ARGS__)
#define log_info(...)       log_write(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...)                            \
    do {                                          \
        if (log_enabled(LOG_DEBUG))               \
            log_write(LOG_DEBUG, 0, __VA_ARGS__); \
    } while (0)

#endif
