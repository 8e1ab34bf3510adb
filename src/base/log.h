/* Leveled logging with a subsystem tag and a per-thread context (Call-ID or room).
 * The level is checked before arguments are evaluated, so disabled logs cost one compare. */
#ifndef SB_BASE_LOG_H
#define SB_BASE_LOG_H

#include <stdio.h>

#include "base/compat.h"
#include "base/slice.h"

enum sb_log_level { SB_LOG_ERROR, SB_LOG_WARN, SB_LOG_INFO, SB_LOG_DEBUG, SB_LOG_TRACE };

extern int sb_log_level_current;

void sb_log_set_level(enum sb_log_level level);
/* "error", "warn", "info", "debug", "trace"; returns 0 or SB_EINVAL. */
int sb_log_parse_level(const char *name, enum sb_log_level *out);
/* Where lines go (default stderr). */
void sb_log_set_file(FILE *f);
/* Context printed on every line of this thread until cleared (copied, truncated to 96 bytes). */
void sb_log_ctx_set(struct sb_slice ctx);
void sb_log_ctx_clear(void);

void sb_log_write(enum sb_log_level level, const char *subsys, const char *fmt, ...)
    SB_PRINTF(3, 4);

#define SB_LOG(level, subsys, ...)                                                                 \
	do {                                                                                       \
		if (SB_UNLIKELY((int)(level) <= sb_log_level_current))                             \
			sb_log_write((level), (subsys), __VA_ARGS__);                              \
	} while (0)

#define SB_ERROR(subsys, ...) SB_LOG(SB_LOG_ERROR, subsys, __VA_ARGS__)
#define SB_WARN(subsys, ...)  SB_LOG(SB_LOG_WARN, subsys, __VA_ARGS__)
#define SB_INFO(subsys, ...)  SB_LOG(SB_LOG_INFO, subsys, __VA_ARGS__)
#define SB_DEBUG(subsys, ...) SB_LOG(SB_LOG_DEBUG, subsys, __VA_ARGS__)
#define SB_TRACE(subsys, ...) SB_LOG(SB_LOG_TRACE, subsys, __VA_ARGS__)

#endif
