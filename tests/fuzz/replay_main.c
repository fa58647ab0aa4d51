/*
 * replay_main.c: a main() for the fuzz targets when they are not linked with
 * libFuzzer, so that every build (gcc, ASan+UBSan, TSan) runs them in CTest.
 *
 *     fuzz_<target>_replay <corpus dir or file>...
 *
 * Each seed is run as it is, then OTELC_FUZZ_ITERS (default 20000) inputs
 * are made from the seeds by a few random edits (bit flips, byte changes,
 * truncations, insertions, duplicated and spliced pieces). The generator is
 * seeded with a constant, so a failure repeats on every run; the input that
 * failed is written to ./replay-crash-<program name> as the program dies.
 *
 * Every input is copied into a heap block of exactly its size, as libFuzzer
 * does, so that ASan reports a parser that reads one byte too far.
 */
#include "fuzz_check.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Inputs grow by insertions and splices, which stop at this size. */
#define REPLAY_MAX_INPUT 16384
#define REPLAY_MAX_SEEDS 4096

typedef struct seed {
    uint8_t *data;
    size_t size;
} seed_t;

static seed_t seeds[REPLAY_MAX_SEEDS];
static size_t n_seeds;

/* splitmix64: small, fast and the same everywhere, which is all we need. */
static uint64_t rng_state = 0x6f74656c63667a7aULL;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A number in [0, n); n > 0. */
static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}

static int read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t size = 0, cap = 0, got;
    int rc = -1;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    do {
        if (size == cap) {
            uint8_t *grown;
            cap = cap ? 2 * cap : 4096;
            grown = realloc(buf, cap);
            if (grown == NULL)
                goto done;
            buf = grown;
        }
        got = fread(buf + size, 1, cap - size, f);
        size += got;
    } while (got > 0);
    if (ferror(f) || n_seeds == REPLAY_MAX_SEEDS) {
        fprintf(stderr, "%s: cannot read, or too many seeds\n", path);
        goto done;
    }
    seeds[n_seeds].data = buf;
    seeds[n_seeds].size = size;
    n_seeds++;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    fclose(f);
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads every regular file of `dir`, in name order so that runs repeat. */
static int read_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (d == NULL) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            char **grown;
            cap = cap ? 2 * cap : 64;
            grown = realloc(names, cap * sizeof(*names));
            if (grown == NULL) {
                rc = -1;
                break;
            }
            names = grown;
        }
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (names[n] == NULL) {
            rc = -1;
            break;
        }
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            rc = read_file(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

/*
 * The input being run, written out only when the program dies: the target's
 * abort() raises SIGABRT, and the sanitizers call their death callback
 * before they exit. Without a sanitizer a SIGSEGV is caught too; with one,
 * its own SIGSEGV handler must stay in place to report the bug.
 */
static char crash_path[256];
static const uint8_t *current_data;
static size_t current_size;

extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* Async-signal-safe: open, write and close only. */
static void save_current(void)
{
    static const char msg[] = "replay: the failing input is in ";
    int fd;

    if (current_data == NULL)
        return;
    fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    for (size_t done = 0; done < current_size;) {
        ssize_t w = write(fd, current_data + done, current_size - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    close(fd);
    (void)!write(2, msg, sizeof(msg) - 1);
    (void)!write(2, crash_path, strlen(crash_path));
    (void)!write(2, "\n", 1);
    current_data = NULL;
}

static void on_fatal_signal(int sig)
{
    save_current();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_crash_handlers(void)
{
    signal(SIGABRT, on_fatal_signal);
    if (__sanitizer_set_death_callback != NULL) {
        __sanitizer_set_death_callback(save_current);
    } else {
        signal(SIGSEGV, on_fatal_signal);
        signal(SIGBUS, on_fatal_signal);
        signal(SIGFPE, on_fatal_signal);
    }
}

/* Runs one input from a heap block of exactly its size. */
static void run(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size > 0 ? size : 1);

    if (copy == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    if (size > 0)
        memcpy(copy, data, size);
    current_data = copy;
    current_size = size;
    (void)LLVMFuzzerTestOneInput(copy, size);
    current_data = NULL;
    free(copy);
}

/* Characters that parsers of text care about; a random byte rarely is one. */
static const char interesting[] = "-,;=%@ \t\r\n.0123456789abcdefABCDEF\x00\x7f\x80\xbf\xc3\xff";

/* Applies one random edit to buf[0 .. *size), which has room for REPLAY_MAX_INPUT. */
static void mutate_once(uint8_t *buf, size_t *size)
{
    size_t n = *size, at, len;

    switch (rng_below(8)) {
    case 0: /* flip a bit */
        if (n > 0)
            buf[rng_below(n)] ^= (uint8_t)(1u << rng_below(8));
        break;
    case 1: /* set a byte to something random */
        if (n > 0)
            buf[rng_below(n)] = (uint8_t)rng_next();
        break;
    case 2: /* set a byte to something interesting */
        if (n > 0)
            buf[rng_below(n)] = (uint8_t)interesting[rng_below(sizeof(interesting) - 1)];
        break;
    case 3: /* truncate */
        if (n > 0)
            *size = rng_below(n + 1);
        break;
    case 4: /* insert a few bytes */
        len = 1 + rng_below(8);
        if (n + len > REPLAY_MAX_INPUT)
            break;
        at = rng_below(n + 1);
        memmove(buf + at + len, buf + at, n - at);
        for (size_t i = 0; i < len; i++)
            buf[at + i] = (rng_next() & 1)
                              ? (uint8_t)interesting[rng_below(sizeof(interesting) - 1)]
                              : (uint8_t)rng_next();
        *size = n + len;
        break;
    case 5: /* erase a piece */
        if (n == 0)
            break;
        at = rng_below(n);
        len = 1 + rng_below(n - at);
        memmove(buf + at, buf + at + len, n - at - len);
        *size = n - len;
        break;
    case 6: /* duplicate a piece in place (grows lists and repeats keys) */
        if (n == 0)
            break;
        at = rng_below(n);
        len = 1 + rng_below(n - at);
        if (n + len > REPLAY_MAX_INPUT)
            break;
        memmove(buf + at + len, buf + at, n - at);
        *size = n + len;
        break;
    default: { /* splice: a piece of another seed at a random place */
        const seed_t *s = &seeds[rng_below(n_seeds)];
        size_t from;
        if (s->size == 0)
            break;
        from = rng_below(s->size);
        len = 1 + rng_below(s->size - from);
        if (n + len > REPLAY_MAX_INPUT)
            break;
        at = rng_below(n + 1);
        memmove(buf + at + len, buf + at, n - at);
        memcpy(buf + at, s->data + from, len);
        *size = n + len;
        break;
    }
    }
}

int main(int argc, char **argv)
{
    static uint8_t buf[REPLAY_MAX_INPUT];
    const char *iters_env = getenv("OTELC_FUZZ_ITERS");
    unsigned long iters = 20000;
    const char *slash = strrchr(argv[0], '/');

    snprintf(crash_path, sizeof(crash_path), "replay-crash-%s",
             slash != NULL ? slash + 1 : argv[0]);
    if (argc < 2) {
        fprintf(stderr, "usage: %s <corpus dir or file>...\n", argv[0]);
        return 2;
    }
    if (iters_env != NULL && iters_env[0] != '\0')
        iters = strtoul(iters_env, NULL, 10);
    install_crash_handlers();

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            return 1;
        }
        if ((S_ISDIR(st.st_mode) ? read_dir(argv[i]) : read_file(argv[i])) != 0)
            return 1;
    }
    if (n_seeds == 0) {
        fprintf(stderr, "%s: no seeds found\n", argv[0]);
        return 1;
    }

    /* The seeds as they are. */
    for (size_t i = 0; i < n_seeds; i++)
        run(seeds[i].data, seeds[i].size);

    /* Then mutations of them; an empty input once, as libFuzzer starts. */
    run(buf, 0);
    for (unsigned long it = 0; it < iters; it++) {
        const seed_t *s = &seeds[rng_below(n_seeds)];
        size_t size = s->size < REPLAY_MAX_INPUT ? s->size : REPLAY_MAX_INPUT;
        size_t edits = 1 + rng_below(4);

        memcpy(buf, s->data, size);
        for (size_t e = 0; e < edits; e++)
            mutate_once(buf, &size);
        run(buf, size);
    }
    printf("%s: %zu seeds, %lu mutations: ok\n", argv[0], n_seeds, iters);
    for (size_t i = 0; i < n_seeds; i++)
        free(seeds[i].data);
    return 0;
}
