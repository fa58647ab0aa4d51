/*
 * shape.c: the table of call-site shapes (shape.h).
 *
 * Entries are made under a lock and published with a release store; they
 * never change afterwards (but for the pipeline's mask fields) and are never
 * freed, so records that name them and batches that point into them stay
 * valid for the life of the process, across shutdown, init and fork.
 */
#include "shape.h"

#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

const otelc__shape_t otelc__shape_none = {
    .sig = { UINT64_MAX, UINT64_MAX }, .n = UINT16_MAX, .name = "", .msg = ""
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
otelc__shape_t *_Atomic otelc__shapes[OTELC__SHAPES];
static uint32_t n_shapes = 1; /* under the lock; id 0 is never given */

/* True when a shape can describe the call: keys the compiler knows (their
 * length filled by the macros), values of the types a shaped record holds. */
static bool describable(const otelc_attr_t *attrs, size_t n)
{
    if (n > OTELC__SHAPE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        const otelc_attr_t *a = &attrs[i];
        if (a->key == NULL || a->key_len == 0 || a->key_len > 1024)
            return false;
        switch (a->type) {
        case OTELC_ATTR_STRING:
        case OTELC_ATTR_BOOL:
        case OTELC_ATTR_INT:
        case OTELC_ATTR_DOUBLE:
            break;
        default:
            return false;
        }
    }
    return true;
}

/* For read_only(): the address looked for, and whether a segment holds it. */
typedef struct ro_find {
    uintptr_t addr;
    size_t len;
    bool found;
} ro_find_t;

static int ro_segment(struct dl_phdr_info *info, size_t size, void *arg)
{
    ro_find_t *f = arg;
    (void)size;

    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) == 0 && f->addr >= lo &&
            f->addr - lo <= ph->p_memsz && ph->p_memsz - (f->addr - lo) >= f->len) {
            f->found = true;
            return 1;
        }
    }
    return 0;
}

/* True when `len` bytes at `p` lie in a read-only segment of an object
 * loaded in the process (where string literals are): they cannot change,
 * so a key there matches by its pointer. Walks the loader's list: once per
 * key of a site. */
static bool read_only(const void *p, size_t len)
{
    ro_find_t f = { (uintptr_t)p, len, false };

    dl_iterate_phdr(ro_segment, &f);
    return f.found;
}

const otelc__shape_t *otelc__shape_learn(const char *name, size_t name_len, const char *msg,
                                         size_t msg_len, const otelc_attr_t *attrs, size_t n)
{
    otelc__shape_t *s;
    size_t text = name_len + 1 + (msg ? msg_len + 1 : 0);
    char *p;

    if (!describable(attrs, n) || name_len > 4096 || (msg != NULL && msg_len > 65536))
        return &otelc__shape_none;
    for (size_t i = 0; i < n; i++)
        text += attrs[i].key_len + 1u;
    s = calloc(1, sizeof(*s) + text);
    if (s == NULL)
        return &otelc__shape_none;
    p = (char *)(s + 1);
    s->n = (uint16_t)n;
    s->name_len = (uint16_t)name_len;
    s->name = p;
    if (name_len)
        memcpy(p, name, name_len);
    p += name_len + 1;
    if (msg != NULL) {
        s->msg_src = msg;
        s->msg = p;
        s->msg_len = (uint32_t)msg_len;
        memcpy(p, msg, msg_len);
        p += msg_len + 1;
    }
    s->fixed = 0;
    for (size_t i = 0; i < n; i++) {
        s->tk[i] = otelc__shape_tk(&attrs[i]);
        s->keys[i] = p;
        s->src[i] = attrs[i].key;
        if (read_only(attrs[i].key, attrs[i].key_len))
            s->ro |= 1u << i;
        s->fixed += attrs[i].type == OTELC_ATTR_BOOL     ? 1
                    : attrs[i].type == OTELC_ATTR_STRING ? 4
                                                         : 8;
        memcpy(p, attrs[i].key, attrs[i].key_len);
        p += attrs[i].key_len + 1;
    }
    /* The macros' inline path (otelc/fast.h) matches keys and a log's
     * message by pointer alone: only literals' sites get it. */
    s->sig[0] = s->sig[1] = UINT64_MAX;
    if ((name != NULL || msg != NULL) && n <= OTELC__FAST_MAX && s->ro == (1u << n) - 1u) {
        s->sig[0] = n;
        s->sig[1] = 0;
        for (size_t i = 0; i < n; i++)
            s->sig[i / 4] |= OTELC__FAST_SIG(i, attrs[i].type, attrs[i].key_len);
    }
    pthread_mutex_lock(&lock);
    if (n_shapes >= OTELC__SHAPES) {
        pthread_mutex_unlock(&lock);
        free(s);
        return &otelc__shape_none;
    }
    s->id = n_shapes++;
    atomic_store_explicit(&otelc__shapes[s->id], s, memory_order_release);
    pthread_mutex_unlock(&lock);
    return s;
}

void otelc__shapes_fork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

void otelc__shapes_fork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

void otelc__shapes_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
}
