/* Compiler attributes and portability shims for the whole tree.
 * Owns every compiler extension the project uses; nothing else spells __attribute__. */
#ifndef SB_BASE_COMPAT_H
#define SB_BASE_COMPAT_H

#if defined(__GNUC__) || defined(__clang__)
#define SB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SB_LIKELY(x)	__builtin_expect(!!(x), 1)
#define SB_UNLIKELY(x)	__builtin_expect(!!(x), 0)
#define SB_UNUSED	__attribute__((unused))
#define SB_NODISCARD	__attribute__((warn_unused_result))
#define SB_THREAD_LOCAL __thread
#define SB_CTZ64(x)	__builtin_ctzll(x) /* x != 0 */
#define SB_CTZ32(x)	__builtin_ctz(x)   /* x != 0 */
#define SB_CLZ64(x)	__builtin_clzll(x) /* x != 0 */
#else
#define SB_PRINTF(f, a)
#define SB_LIKELY(x)   (x)
#define SB_UNLIKELY(x) (x)
#define SB_UNUSED
#define SB_NODISCARD
#define SB_THREAD_LOCAL _Thread_local
static inline int sb__ctz64(unsigned long long x)
{
	int n = 0;
	while (!(x & 1)) {
		x >>= 1;
		n++;
	}
	return n;
}
static inline int sb__clz64(unsigned long long x)
{
	int n = 0;
	while (!(x >> 63)) {
		x <<= 1;
		n++;
	}
	return n;
}
#define SB_CTZ64(x)	sb__ctz64(x)
#define SB_CTZ32(x)	sb__ctz64(x)
#define SB_CLZ64(x)	sb__clz64(x)
#endif

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) &&                                    \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define SB_BIG_ENDIAN 1
#else
#define SB_BIG_ENDIAN 0
#endif

#define SB_ARRAY_LEN(a)			   (sizeof(a) / sizeof((a)[0]))
#define SB_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
