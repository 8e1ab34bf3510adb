/* Log line formatting: wall-clock time, level, subsystem, thread context, message.
 * One fputs per line so concurrent threads do not interleave within a line. */
#include "base/log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/err.h"

int sb_log_level_current = SB_LOG_INFO;
static FILE *log_file;
static SB_THREAD_LOCAL char log_ctx[97];

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};

void sb_log_set_level(enum sb_log_level level)
{
	sb_log_level_current = (int)level;
}

int sb_log_parse_level(const char *name, enum sb_log_level *out)
{
	for (size_t i = 0; i < SB_ARRAY_LEN(level_names); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum sb_log_level)i;
			return 0;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		*out = SB_LOG_WARN;
		return 0;
	}
	return SB_EINVAL;
}

void sb_log_set_file(FILE *f)
{
	log_file = f;
}

void sb_log_ctx_set(struct sb_slice ctx)
{
	sb_slice_copy(ctx, log_ctx, sizeof(log_ctx));
}

void sb_log_ctx_clear(void)
{
	log_ctx[0] = '\0';
}

void sb_log_write(enum sb_log_level level, const char *subsys, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %-5s %-6s ", tm.tm_hour,
			 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level_names[level], subsys);
	if (n < 0)
		return;
	size_t off = (size_t)n;
	if (log_ctx[0] && off < sizeof(line)) {
		n = snprintf(line + off, sizeof(line) - off, "[%s] ", log_ctx);
		if (n > 0)
			off += (size_t)n;
	}
	if (off < sizeof(line)) {
		va_list ap;
		va_start(ap, fmt);
		n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
		va_end(ap);
		if (n > 0)
			off += (size_t)n;
	}
	if (off > sizeof(line) - 2)
		off = sizeof(line) - 2;
	line[off++] = '\n';
	line[off] = '\0';
	fputs(line, log_file ? log_file : stderr);
	fflush(log_file ? log_file : stderr);
}
