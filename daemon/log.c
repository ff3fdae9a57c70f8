/* log.c - timestamped one-line events on stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_current = LOGL_INFO;

static const char *const log_names[] = {"error", "warning", "info", "debug"};

void log_set_level(log_level level) { atomic_store(&log_current, (int)level); }

int log_enabled(log_level level) { return (int)level <= atomic_load(&log_current); }

int log_level_from_name(const char *name)
{
    for (int i = 0; i <= LOGL_DEBUG; i++)
        if (name && strcmp(name, log_names[i]) == 0)
            return i;
    return -1;
}

const char *log_level_name(log_level level)
{
    return (unsigned)level <= LOGL_DEBUG ? log_names[level] : "info";
}

static void log_write(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void log_write(const char *prefix, const char *fmt, va_list ap)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ldZ %s", ts.tv_nsec / 1000000, prefix);

    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    size_t end = m < 0 ? n : (n + (size_t)m < sizeof line - 1 ? n + (size_t)m : sizeof line - 2);
    /* A line is one event: a newline or escape sequence from a client must not forge another. */
    for (size_t i = n; i < end; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[end++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, end);
    (void)w; /* nowhere left to report a failed log write */
}

void log_msg(const char *fmt, ...)
{
    if (!log_enabled(LOGL_INFO))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_write("", fmt, ap);
    va_end(ap);
}

void log_at(log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log_write(level == LOGL_ERROR ? "error: " : level == LOGL_WARNING ? "warning: " : "", fmt, ap);
    va_end(ap);
}
