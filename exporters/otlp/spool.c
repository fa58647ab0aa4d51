/*
 * spool.c: encoded OTLP requests on disk, while the backend does not take
 * them (otlp_internal.h has the layout of the directory and the files).
 *
 * Writers never take a lock: a file is written under a .tmp name and
 * renamed when whole. The one reader per signal and directory (in a process,
 * the exporter's sender thread) holds flock() on .<signal>.lock while it
 * sends a file, so two processes sharing the directory do not send one file
 * twice.
 */
#include "otlp_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "OTELCSP1"
#define HEADER_SIZE 32u
#define MAX_BODY (1u << 30)

struct otelc__spool {
    char *dir;
    const char *suffix; /* ".traces.otlp" or ".logs.otlp" */
    otelc_signal_t signal;
    uint64_t max_bytes;
    int lock_fd;
    atomic_uint seq;
    /* Files of this signal waiting, as this process counts them: those
     * found at open, plus those written, less those removed. Files another
     * process writes later are found by the sender's periodic look. */
    atomic_long pending;
};

/* The bytes of spool files in the directory, as this process counts them:
 * every signal's, every process's (a scan at open), less what was sent. */
static _Atomic uint64_t spool_bytes;
static pthread_once_t scan_once = PTHREAD_ONCE_INIT;
static const char *scan_dir;

/* ---- CRC-32 (IEEE, the one of gzip and PNG) ------------------------------ */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;

    pthread_once(&crc_once, crc_init);
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- the directory ------------------------------------------------------- */

static bool is_spool_name(const char *name)
{
    size_t n = strlen(name);

    return n > 5 && strcmp(name + n - 5, ".otlp") == 0 && name[0] >= '0' && name[0] <= '9';
}

static bool is_tmp_name(const char *name)
{
    size_t n = strlen(name);

    return n > 4 && strcmp(name + n - 4, ".tmp") == 0 && name[0] >= '0' && name[0] <= '9';
}

/* Counts what is there; removes the .tmp files of dead writers (a .tmp of a
 * live process is left: its pid is in the name). */
static void scan(void)
{
    DIR *d = opendir(scan_dir);
    struct dirent *de;
    uint64_t total = 0;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        char p[4096];
        struct stat st;

        if (snprintf(p, sizeof(p), "%s/%s", scan_dir, de->d_name) >= (int)sizeof(p))
            continue;
        if (is_tmp_name(de->d_name)) {
            const char *dash = strchr(de->d_name, '-');
            long pid = dash != NULL ? strtol(dash + 1, NULL, 10) : 0;

            if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH)
                (void)unlink(p);
            continue;
        }
        if (is_spool_name(de->d_name) && stat(p, &st) == 0)
            total += (uint64_t)st.st_size;
    }
    closedir(d);
    atomic_fetch_add(&spool_bytes, total);
}

uint64_t otelc__spool_bytes(void)
{
    return atomic_load(&spool_bytes);
}

/* The files of s's signal in its directory. */
static size_t count_files(otelc__spool_t *s)
{
    DIR *d = opendir(s->dir);
    struct dirent *de;
    size_t n = 0, sl = strlen(s->suffix);

    if (d == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);

        n += l > sl && strcmp(de->d_name + l - sl, s->suffix) == 0 && is_spool_name(de->d_name);
    }
    closedir(d);
    return n;
}

otelc__spool_t *otelc__spool_open(const char *dir, otelc_signal_t signal, uint64_t max_bytes)
{
    otelc__spool_t *s;
    char p[4096];

    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.spool",
                   "OTLP exporter: cannot make the spool directory %s: %s; no spool", dir,
                   strerror(errno));
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        free(s);
        return NULL;
    }
    s->signal = signal;
    s->suffix = signal == OTELC_SIGNAL_TRACES ? ".traces.otlp" : ".logs.otlp";
    s->max_bytes = max_bytes;
    snprintf(p, sizeof(p), "%s/.%s.lock", dir, signal == OTELC_SIGNAL_TRACES ? "traces" : "logs");
    s->lock_fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0) {
        otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.spool",
                   "OTLP exporter: cannot open %s: %s; no spool", p, strerror(errno));
        free(s->dir);
        free(s);
        return NULL;
    }
    /* One directory per process is counted (the setting is one). */
    scan_dir = s->dir;
    pthread_once(&scan_once, scan);
    atomic_store(&s->pending, (long)count_files(s));
    return s;
}

void otelc__spool_close(otelc__spool_t *s)
{
    if (s == NULL)
        return;
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->dir);
    free(s);
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

bool otelc__spool_put(otelc__spool_t *s, const uint8_t *body, size_t len, uint32_t records,
                      bool json)
{
    uint8_t h[HEADER_SIZE];
    char tmp[4096], final[4096];
    struct timespec ts;
    uint64_t ns, size = HEADER_SIZE + (uint64_t)len;
    unsigned seq = atomic_fetch_add(&s->seq, 1);
    int fd, n;

    if (atomic_load(&spool_bytes) + size > s->max_bytes) {
        otelc_diag(OTELC_DIAG_WARN, "exporter.otlp.spool.full",
                   "OTLP exporter: the spool %s is full (%llu of %llu bytes); %u records dropped",
                   s->dir, (unsigned long long)atomic_load(&spool_bytes),
                   (unsigned long long)s->max_bytes, records);
        return false;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    n = snprintf(final, sizeof(final), "%s/%020llu-%ld-%06u%s", s->dir, (unsigned long long)ns,
                 (long)getpid(), seq % 1000000u, s->suffix);
    if (n < 0 || (size_t)n + 5 >= sizeof(final))
        return false;
    memcpy(tmp, final, (size_t)n);
    memcpy(tmp + n, ".tmp", 5);

    memcpy(h, MAGIC, 8);
    put32(h + 8, (uint32_t)s->signal | (json ? 0x100u : 0u));
    put32(h + 12, records);
    put32(h + 16, (uint32_t)len);
    put32(h + 20, 0);
    put32(h + 24, crc32_of(body, len));
    put32(h + 28, crc32_of(h, 28));

    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || !write_all(fd, h, sizeof(h)) || !write_all(fd, body, len) || fsync(fd) != 0 ||
        close(fd) != 0 || rename(tmp, final) != 0) {
        int err = errno;

        if (fd >= 0)
            (void)close(fd);
        (void)unlink(tmp);
        otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.spool.write",
                   "OTLP exporter: cannot write the spool file %s: %s; %u records dropped", final,
                   strerror(err), records);
        return false;
    }
    atomic_fetch_add(&spool_bytes, size);
    atomic_fetch_add(&s->pending, 1);
    return true;
}

/* Reads and checks the file at `path`; why says what is wrong. */
static bool read_checked(const char *path, otelc__spool_item_t *item, otelc_signal_t *signal,
                         uint32_t *records_if_known, char *why, size_t why_size)
{
    uint8_t h[HEADER_SIZE];
    struct stat st;
    uint32_t len, flags;
    uint8_t *body = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t r;

    *records_if_known = 0;
    if (fd < 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        return false;
    }
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)HEADER_SIZE ||
        read(fd, h, sizeof(h)) != (ssize_t)sizeof(h) || memcmp(h, MAGIC, 8) != 0 ||
        get32(h + 28) != crc32_of(h, 28)) {
        snprintf(why, why_size, "not a spool file, or its header is damaged");
        close(fd);
        return false;
    }
    flags = get32(h + 8);
    len = get32(h + 16);
    *records_if_known = get32(h + 12);
    if ((flags & 0xff) != OTELC_SIGNAL_TRACES && (flags & 0xff) != OTELC_SIGNAL_LOGS) {
        snprintf(why, why_size, "an unknown signal");
        close(fd);
        return false;
    }
    if (len > MAX_BODY || (uint64_t)st.st_size != HEADER_SIZE + (uint64_t)len) {
        snprintf(why, why_size, "%llu bytes where the header says %llu (written in part?)",
                 (unsigned long long)st.st_size, (unsigned long long)(HEADER_SIZE + len));
        close(fd);
        return false;
    }
    body = malloc(len > 0 ? len : 1);
    if (body == NULL) {
        snprintf(why, why_size, "out of memory");
        close(fd);
        return false;
    }
    for (size_t done = 0; done < len; done += (size_t)r) {
        r = read(fd, body + done, len - done);
        if (r < 0 && errno == EINTR) {
            r = 0;
            continue;
        }
        if (r <= 0) {
            snprintf(why, why_size, "%s", r < 0 ? strerror(errno) : "shorter than its header says");
            free(body);
            close(fd);
            return false;
        }
    }
    close(fd);
    if (crc32_of(body, len) != get32(h + 24)) {
        snprintf(why, why_size, "its content does not match its checksum");
        free(body);
        return false;
    }
    snprintf(item->path, sizeof(item->path), "%s", path);
    item->body = body;
    item->len = len;
    item->records = get32(h + 12);
    item->json = (flags & 0x100u) != 0;
    *signal = (otelc_signal_t)(flags & 0xff);
    return true;
}

bool otelc__spool_read_file(const char *path, otelc__spool_item_t *item, otelc_signal_t *signal,
                            char *why, size_t why_size)
{
    uint32_t known;

    return read_checked(path, item, signal, &known, why, why_size);
}

/* The oldest file name of the signal, into `name`; false when none. */
static bool oldest(otelc__spool_t *s, char *name, size_t size)
{
    DIR *d = opendir(s->dir);
    struct dirent *de;
    bool found = false;
    size_t sl = strlen(s->suffix);

    if (d == NULL)
        return false;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);

        if (n <= sl || n >= size || strcmp(de->d_name + n - sl, s->suffix) != 0 ||
            !is_spool_name(de->d_name))
            continue;
        if (!found || strcmp(de->d_name, name) < 0) {
            memcpy(name, de->d_name, n + 1);
            found = true;
        }
    }
    closedir(d);
    return found;
}

bool otelc__spool_pending(otelc__spool_t *s)
{
    return s != NULL && atomic_load(&s->pending) > 0;
}

static void forget(otelc__spool_t *s, const char *path)
{
    struct stat st;

    if (stat(path, &st) == 0 && unlink(path) == 0) {
        uint64_t size = (uint64_t)st.st_size, have = atomic_load(&spool_bytes);

        /* Another process may have counted it out of the same directory. */
        while (!atomic_compare_exchange_weak(&spool_bytes, &have, have > size ? have - size : 0))
            ;
    }
    if (atomic_fetch_sub(&s->pending, 1) <= 0)
        atomic_store(&s->pending, 0);
}

bool otelc__spool_peek(otelc__spool_t *s, otelc__spool_item_t *item, uint64_t *corrupt_records)
{
    char name[256], path[4096], why[160];

    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return false; /* another process is sending this signal's files */
    while (oldest(s, name, sizeof(name))) {
        if (atomic_load(&s->pending) <= 0)
            atomic_store(&s->pending, 1); /* another process's file */
        otelc_signal_t sig;
        uint32_t known;

        snprintf(path, sizeof(path), "%s/%s", s->dir, name);
        if (read_checked(path, item, &sig, &known, why, sizeof(why)) && sig == s->signal)
            return true; /* the lock is held until done() or release() */
        otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.spool.corrupt",
                   "OTLP exporter: spool file %s skipped and removed: %s", path, why);
        *corrupt_records += known;
        forget(s, path);
    }
    atomic_store(&s->pending, 0);
    (void)flock(s->lock_fd, LOCK_UN);
    return false;
}

void otelc__spool_done(otelc__spool_t *s, otelc__spool_item_t *item)
{
    forget(s, item->path);
    otelc__spool_release(s, item);
}

void otelc__spool_release(otelc__spool_t *s, otelc__spool_item_t *item)
{
    free(item->body);
    item->body = NULL;
    item->len = 0;
    if (s != NULL)
        (void)flock(s->lock_fd, LOCK_UN);
}
