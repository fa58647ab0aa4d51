/*
 * sanitizers.h: UNDER_ASAN and UNDER_TSAN are 1 in builds with that
 * sanitizer (gcc defines __SANITIZE_*__, clang answers __has_feature), so
 * tests can scale their work or skip what a sanitizer cannot follow.
 */
#ifndef OTELC_TEST_SANITIZERS_H
#define OTELC_TEST_SANITIZERS_H

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#endif /* OTELC_TEST_SANITIZERS_H */
