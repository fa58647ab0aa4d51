/*
 * auto_internal.h: what auto.c (the compiler's hooks, the per-thread call
 * stacks) and symbols.c (which function is at an address, and whether the
 * patterns trace it) share.
 *
 * The function table maps a function's address (what the compiler passes
 * to the hooks) to what is known of it. Readers never lock: a slot's
 * address is published (release) after its function, and a table that
 * grows is replaced whole, the old one kept readable. Writers hold the
 * symbols' lock. Every function of a shared object is entered at its first
 * traced call, so that the hooks find the others without resolving them.
 */
#ifndef OTELC_AUTO_INTERNAL_H
#define OTELC_AUTO_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTELC__AUTO_NOINSTR __attribute__((no_instrument_function))

typedef struct otelc__auto_fn {
    const char *name; /* the symbol */
    uint32_t name_len;
    bool traced;      /* the patterns let it make spans */
    const char *file; /* its source file, or NULL when not known */
} otelc__auto_fn_t;

typedef struct otelc__auto_slot {
    _Atomic uintptr_t addr; /* 0: free */
    const otelc__auto_fn_t *fn;
} otelc__auto_slot_t;

typedef struct otelc__auto_table {
    struct otelc__auto_table *older; /* replaced tables, kept (symbols.c) */
    unsigned shift;                  /* 64 - log2(number of slots) */
    uintptr_t mask;
    size_t used;
    otelc__auto_slot_t slot[];
} otelc__auto_table_t;

extern _Atomic(otelc__auto_table_t *) otelc__auto_table;

static inline OTELC__AUTO_NOINSTR size_t otelc__auto_hash(const otelc__auto_table_t *t,
                                                          uintptr_t addr)
{
    return (size_t)(((uint64_t)addr * 0x9E3779B97F4A7C15ull) >> t->shift);
}

/* The function at `addr`, or NULL when it is not known yet. Lock-free. */
static inline OTELC__AUTO_NOINSTR const otelc__auto_fn_t *otelc__auto_lookup(uintptr_t addr)
{
    const otelc__auto_table_t *t = atomic_load_explicit(&otelc__auto_table, memory_order_acquire);
    size_t i;

    if (t == NULL)
        return NULL;
    for (i = otelc__auto_hash(t, addr);; i = (i + 1) & t->mask) {
        uintptr_t a = atomic_load_explicit(&t->slot[i].addr, memory_order_acquire);
        if (a == addr)
            return t->slot[i].fn;
        if (a == 0)
            return NULL;
    }
}

/*
 * Reads the include and exclude patterns (comma lists, as the settings
 * give them; NULL or "" for none) and makes the table. Returns false when
 * memory is short (reported).
 */
bool otelc__auto_symbols_init(const char *include, const char *exclude);

/* The function at `addr`, reading the symbols of the object that holds it
 * if they are not read yet. Never NULL once initialised: an address no
 * symbol names gets an entry of its own ("0x..." in its object), traced or
 * not by the patterns. Takes the symbols' lock. */
const otelc__auto_fn_t *otelc__auto_resolve(uintptr_t addr);

/* Functions known, and of those traced. */
void otelc__auto_symbols_counts(uint64_t *functions, uint64_t *traced);

/* True when `name` (and `file`, NULL if unknown) is traced by the patterns. */
bool otelc__auto_pattern_traces(const char *name, const char *file);

/* For tests: forgets the settings, the functions and the calling thread's
 * stack (which must be empty), so that the next traced call reads the
 * settings of the otelc that runs then. Nothing is freed. */
void otelc__auto_reset(void);
void otelc__auto_symbols_reset(void);

#endif /* OTELC_AUTO_INTERNAL_H */
