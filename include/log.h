/* log.h - one line per event on stderr, with a UTC timestamp; safe from any thread. */
#ifndef MODERATORD_LOG_H
#define MODERATORD_LOG_H

/* Writes "2024-01-02T03:04:05.678Z message\n" in one write(2), so lines from different threads never
 * interleave. Control characters in the message (e.g. from a client's URL) are shown as '?'. */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
