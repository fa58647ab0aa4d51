/*
 * diag.c: otelc's own diagnostics on stderr, rate-limited per key.
 *
 * The rate-limit state is a small fixed table of keys. A diagnostic may come
 * from any thread, including the pipeline thread and a thread that is running
 * out of memory, so nothing here allocates: the table is static, the line is
 * formatted into a stack buffer and written with one write(2) so that lines
 * from several threads (and from the application's own stderr output) do not
 * interleave within a line.
 */
#include "diag.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Each key is printed at most once per interval. */
/* Reports of one key are at least this far apart (tests shorten it). */
static uint64_t diag_interval_ns = 10ull * 1000000000ull;

/* Distinct keys tracked at once. The SDK has a few dozen kinds of problems;
 * past this many, keys share one global slot (see slot_for()). */
#define DIAG_SLOTS 64

/* Keys are compared by content, on a copy of at most this many bytes plus a
 * hash of the whole key, so that a key in a reused buffer still works. */
#define DIAG_KEY_MAX 64

/* Longest line written, newline included; longer messages are cut with "...". */
#define DIAG_LINE_MAX 1024

typedef struct diag_slot {
    bool used;
    uint32_t hash;
    char key[DIAG_KEY_MAX];
    uint64_t last_ns;         /* when this key was last printed */
    unsigned long suppressed; /* reports dropped since then */
} diag_slot_t;

static pthread_mutex_t diag_lock = PTHREAD_MUTEX_INITIALIZER;
static diag_slot_t diag_slots[DIAG_SLOTS];
/* Shared by every key that finds no room in the table. */
static diag_slot_t diag_overflow_slot;

/* Read without the lock on every call, so that a filtered diagnostic costs
 * one load. */
static atomic_int diag_threshold = OTELC_DIAG_WARN;
static atomic_ulong diag_lines;

static const char *const diag_level_names[] = {
    [OTELC_DIAG_ERROR] = "error",
    [OTELC_DIAG_WARN] = "warning",
    [OTELC_DIAG_INFO] = "info",
    [OTELC_DIAG_DEBUG] = "debug",
};

void otelc__diag_set_level(int level)
{
    if (level < OTELC_DIAG_NONE)
        level = OTELC_DIAG_NONE;
    if (level > OTELC_DIAG_DEBUG)
        level = OTELC_DIAG_DEBUG;
    atomic_store_explicit(&diag_threshold, level, memory_order_relaxed);
}

int otelc__diag_level(void)
{
    return atomic_load_explicit(&diag_threshold, memory_order_relaxed);
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* FNV-1a over the whole key. */
static uint32_t key_hash(const char *key)
{
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h;
}

static bool slot_matches(const diag_slot_t *slot, const char *key, uint32_t hash)
{
    return slot->used && slot->hash == hash && strncmp(slot->key, key, DIAG_KEY_MAX - 1) == 0;
}

/*
 * Finds the slot of `key`, or claims one. Open addressing from the hash, so a
 * lookup usually touches one slot. A slot whose key was last printed more
 * than an interval ago and has nothing suppressed carries no state worth
 * keeping and may be taken by another key. When every slot is busy, the key
 * shares the overflow slot: the SDK then prints at most one line per
 * interval for all such keys, which is the point of a rate limit.
 * Called with diag_lock held.
 */
static diag_slot_t *slot_for(const char *key, uint64_t now)
{
    uint32_t hash = key_hash(key);
    diag_slot_t *reusable = NULL;

    for (unsigned i = 0; i < DIAG_SLOTS; i++) {
        diag_slot_t *slot = &diag_slots[(hash + i) % DIAG_SLOTS];

        if (slot_matches(slot, key, hash))
            return slot;
        if (!slot->used) {
            /* Keys are never removed but by a reset, so an empty slot ends
             * the probe sequence: the key is not further along. */
            if (reusable == NULL)
                reusable = slot;
            break;
        }
        if (reusable == NULL && slot->suppressed == 0 && now - slot->last_ns >= diag_interval_ns)
            reusable = slot;
    }
    if (reusable == NULL)
        return &diag_overflow_slot;
    /* A reused slot may sit before the key's first empty slot in its probe
     * sequence; that is harmless, since lookups scan until an empty slot. */
    reusable->used = true;
    reusable->hash = hash;
    snprintf(reusable->key, sizeof(reusable->key), "%s", key);
    reusable->last_ns = 0;
    reusable->suppressed = 0;
    /* last_ns == 0 with used set means "never printed"; see may_print(). */
    return reusable;
}

/*
 * Decides under the lock whether this report is printed. On yes, stores in
 * *suppressed how many reports of the key were dropped since the last line.
 */
static bool may_print(const char *key, unsigned long *suppressed)
{
    uint64_t now;
    bool print = false;
    diag_slot_t *slot;

    pthread_mutex_lock(&diag_lock);
    /* Read under the lock: a time read before it could be older than the
     * one another thread stored meanwhile, and the difference would wrap
     * around to "long ago" and print the key twice. */
    now = monotonic_ns();
    slot = slot_for(key, now);
    if (slot->last_ns == 0 || now - slot->last_ns >= diag_interval_ns) {
        *suppressed = slot->suppressed;
        slot->suppressed = 0;
        /* The monotonic clock may read 0 only in theory; 1 keeps "printed". */
        slot->last_ns = now != 0 ? now : 1;
        print = true;
    } else {
        slot->suppressed++;
    }
    pthread_mutex_unlock(&diag_lock);
    return print;
}

/*
 * The escaped form of the character at s[0] (of `n` bytes left) into
 * `out` (room for 8 bytes); returns its length and stores in *used how many
 * input bytes it stands for. `backslash` escapes '\\' too.
 */
static size_t escape_char(const unsigned char *s, size_t n, bool backslash, char *out, size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned c = s[0];

    *used = 1;
    if (c == '\n' || c == '\r' || c == '\t') {
        out[0] = '\\';
        out[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        return 2;
    }
    if (c == '\\' && backslash) {
        out[0] = out[1] = '\\';
        return 2;
    }
    /* C1 controls in UTF-8 (0xC2 0x80..0x9F): U+009B is a terminal's CSI. */
    if (c == 0xc2 && n >= 2 && s[1] >= 0x80 && s[1] <= 0x9f) {
        *used = 2;
        c = s[1];
    } else if (c >= 0x20 && c != 0x7f) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[c >> 4];
    out[3] = hex[c & 15];
    return 4;
}

/* Escapes s[0, n) into dst[0, cap) (cap > 3); returns the bytes written,
 * without a NUL. When the whole does not fit, writes the characters that fit
 * before a "..." and then the "...". */
static size_t escape_into(char *dst, size_t cap, const char *s, size_t n, bool backslash)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = 0, total = 0, i, used;
    bool cut;
    char e[8];

    for (i = 0; i < n && total <= cap; i += used)
        total += escape_char(p + i, n - i, backslash, e, &used);
    cut = total > cap;
    if (cut)
        cap -= 3;
    for (i = 0; i < n; i += used) {
        size_t k = escape_char(p + i, n - i, backslash, e, &used);

        if (len + k > cap)
            break;
        memcpy(dst + len, e, k);
        len += k;
    }
    if (cut) {
        memcpy(dst + len, "...", 3);
        len += 3;
    }
    return len;
}

const char *otelc__diag_escape(const char *s, size_t n, char *buf, size_t size)
{
    size_t len;

    if (buf == NULL || size == 0)
        return "";
    if (s == NULL || size < 8) {
        buf[0] = '\0';
        return buf;
    }
    len = escape_into(buf, size - 1, s, n, true);
    buf[len] = '\0';
    return buf;
}

static void write_line(const char *buf, size_t len)
{
    ssize_t n;

    /* One write per line. A short write to stderr (a full pipe in
     * non-blocking mode) loses the rest of the line; retrying could block
     * the caller, which diagnostics must never do. */
    do {
        n = write(STDERR_FILENO, buf, len);
    } while (n < 0 && errno == EINTR);
}

OTELC__PRINTF(3, 0) static void vdiag(int level, const char *key, const char *fmt, va_list ap)
{
    char line[DIAG_LINE_MAX], msg[DIAG_LINE_MAX];
    unsigned long suppressed = 0;
    size_t len, msg_len;
    int n;
    int saved_errno = errno;

    if (level <= OTELC_DIAG_NONE || level > otelc__diag_level() || fmt == NULL)
        return;
    if (level > OTELC_DIAG_DEBUG)
        level = OTELC_DIAG_DEBUG;
    if (!may_print(key != NULL ? key : "", &suppressed))
        goto out;

    n = snprintf(line, sizeof(line), "otelc: %s: ", diag_level_names[level]);
    len = (size_t)n;

    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    msg_len = n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    /* Whatever a message embeds (a name, a path, a value from the
     * environment), it stays one line of text: a control character in it is
     * written as an escape, never as itself. Room is left for the newline. */
    len += escape_into(line + len, sizeof(line) - len - 1, msg, msg_len, false);

    if (suppressed > 0 && len < sizeof(line)) {
        n = snprintf(line + len, sizeof(line) - len, " (%lu similar suppressed)", suppressed);
        if (n > 0)
            len += (size_t)n;
    }

    /* Room for the newline: a cut line ends in "..." so that the reader
     * knows it was cut. */
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 5;
        memcpy(line + len, "...", 3);
        len += 3;
    }
    line[len++] = '\n';

    write_line(line, len);
    atomic_fetch_add_explicit(&diag_lines, 1, memory_order_relaxed);
out:
    /* A diagnostic must not change errno under the code that reports it. */
    errno = saved_errno;
}

void otelc__diag(int level, const char *key, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(level, key, fmt, ap);
    va_end(ap);
}

/* The same, for exporters and other components built as libraries of
 * their own, which see only the public API. */
void otelc_diag(int level, const char *key, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vdiag(level, key, fmt, ap);
    va_end(ap);
}

const char *otelc_diag_escape(const char *s, size_t n, char *buf, size_t size)
{
    return otelc__diag_escape(s, n, buf, size);
}

size_t otelc__misuse_null_list(const char *key, const char *function, const char *what,
                               size_t n)
{
    otelc__diag(OTELC_DIAG_WARN, key,
                "%s: %s given as NULL with a count of %zu; read as none", function, what, n);
    return 0;
}

/* Forgets every key and also zeroes the line count, so that a test can
 * count the lines of one step from zero. */
void otelc__diag_reset(void)
{
    pthread_mutex_lock(&diag_lock);
    memset(diag_slots, 0, sizeof(diag_slots));
    memset(&diag_overflow_slot, 0, sizeof(diag_overflow_slot));
    atomic_store_explicit(&diag_lines, 0, memory_order_relaxed);
    pthread_mutex_unlock(&diag_lock);
}

unsigned long otelc__diag_count(void)
{
    return atomic_load_explicit(&diag_lines, memory_order_relaxed);
}

void otelc__diag_set_interval_ms(uint64_t ms)
{
    pthread_mutex_lock(&diag_lock);
    diag_interval_ns = ms * 1000000ull;
    pthread_mutex_unlock(&diag_lock);
}

/* fork(): the child must not inherit the lock held by a thread that does
 * not exist there. */
void otelc__diag_fork_prepare(void)
{
    pthread_mutex_lock(&diag_lock);
}

void otelc__diag_fork_parent(void)
{
    pthread_mutex_unlock(&diag_lock);
}

void otelc__diag_fork_child(void)
{
    pthread_mutex_unlock(&diag_lock);
}
