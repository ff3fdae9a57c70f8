/* log.h - one line per event on stderr, with a UTC timestamp; safe from any thread. */
#ifndef MODERATORD_LOG_H
#define MODERATORD_LOG_H

/* Writes "2024-01-02T03:04:05.678Z message\n" in one write(2), so lines from different threads never
 * interleave. Control characters in the message (e.g. from a client's URL) are shown as '?'.
 * The event is at level info: dropped when the level is set lower. */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Levels, most severe first; events above the set level are dropped (default LOGL_INFO). */
typedef enum { LOGL_ERROR = 0, LOGL_WARNING, LOGL_INFO, LOGL_DEBUG } log_level;

void log_set_level(log_level level);
int log_enabled(log_level level);
/* "error", "warning", "info", "debug"; -1 for another name. */
int log_level_from_name(const char *name);
const char *log_level_name(log_level level);
/* Like log_msg at a given level; error and warning events start "error: " / "warning: ". */
void log_at(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
