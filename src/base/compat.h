/* Compiler attributes and portability shims for the whole tree.
 * Owns every compiler extension the project uses; nothing else spells __attribute__. */
#ifndef SB_BASE_COMPAT_H
#define SB_BASE_COMPAT_H

#if defined(__GNUC__) || defined(__clang__)
#define SB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SB_LIKELY(x) __builtin_expect(!!(x), 1)
#define SB_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SB_UNUSED __attribute__((unused))
#define SB_NODISCARD __attribute__((warn_unused_result))
#define SB_THREAD_LOCAL __thread
#else
#define SB_PRINTF(f, a)
#define SB_LIKELY(x) (x)
#define SB_UNLIKELY(x) (x)
#define SB_UNUSED
#define SB_NODISCARD
#define SB_THREAD_LOCAL _Thread_local
#endif

#define SB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SB_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#endif
