/*
 * symbols.c: which function is at an address, and whether the patterns
 * trace it.
 *
 * At the first traced call into a shared object (the program counts as
 * one), the object's ELF symbol table is read from its file: every
 * function symbol goes into the function table (auto_internal.h) with its
 * name and, where known, its source file, and with the patterns' verdict.
 * The hooks then find every function of that object with a lookup.
 *
 * Source files: the symbol table names the file of the local (static)
 * symbols that follow each STT_FILE entry; the others take theirs from the
 * DWARF address ranges (.debug_aranges, which GCC writes with -g) and the
 * name of the compilation unit they point to. Nothing else of DWARF is read.
 *
 * Everything here runs on an application thread, once per object, under
 * one lock; nothing is freed (the table and the names live as long as the
 * process, and an old table stays readable when a bigger one replaces it).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "auto_internal.h"

#include <otelc/otelc.h>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Atomic(otelc__auto_table_t *) otelc__auto_table;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t n_functions, n_traced;

/* ---- memory kept for the life of the process ------------------------------------- */

/* Names, function entries and tables are never freed (a thread may still
 * read them), and stay reachable from here. */
typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    max_align_t data[];
} chunk_t;

static chunk_t *chunks;
static otelc__auto_table_t *retired_tables;

static OTELC__AUTO_NOINSTR void *arena_alloc(size_t n)
{
    chunk_t *c = chunks;

    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > 65536 ? n : 65536;
        c = malloc(sizeof(*c) + size);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->size = size;
        c->next = chunks;
        chunks = c;
    }
    c->used += n;
    return (char *)c->data + c->used - n;
}

static OTELC__AUTO_NOINSTR char *arena_strndup(const char *text, size_t len)
{
    char *out = arena_alloc(len + 1);

    if (out != NULL) {
        memcpy(out, text, len);
        out[len] = '\0';
    }
    return out;
}

/* ---- patterns -------------------------------------------------------------------- */

typedef struct pattern {
    bool file; /* "file:" prefix: matched against the source file */
    char *glob;
} pattern_t;

typedef struct pattern_list {
    pattern_t *item;
    size_t n;
} pattern_list_t;

static pattern_list_t includes, excludes;

/* Functions never traced, whatever the patterns: otelc's own (its inline
 * functions are compiled into the program) and the reserved names of the
 * C library's inline functions. */
static const char *const always_excluded[] = { "otelc_*", "__*" };

static OTELC__AUTO_NOINSTR bool parse_patterns(const char *text, pattern_list_t *out)
{
    size_t cap = 0;

    out->item = NULL;
    out->n = 0;
    while (text != NULL && *text != '\0') {
        const char *end = strchr(text, ',');
        size_t len = end != NULL ? (size_t)(end - text) : strlen(text);
        const char *p = text;

        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > 0) {
            pattern_t pat = { false, NULL };

            if (len > 5 && memcmp(p, "file:", 5) == 0) {
                pat.file = true;
                p += 5;
                len -= 5;
            }
            if (out->n == cap) {
                pattern_t *grown;
                cap = cap ? cap * 2 : 8;
                grown = realloc(out->item, cap * sizeof(*grown));
                if (grown == NULL)
                    return false;
                out->item = grown;
            }
            pat.glob = strndup(p, len);
            if (pat.glob == NULL)
                return false;
            out->item[out->n++] = pat;
        }
        text = end != NULL ? end + 1 : NULL;
    }
    return true;
}

static OTELC__AUTO_NOINSTR void free_patterns(pattern_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->item[i].glob);
    free(l->item);
    l->item = NULL;
    l->n = 0;
}

static OTELC__AUTO_NOINSTR bool pattern_matches(const pattern_t *p, const char *name,
                                                const char *file)
{
    const char *base;

    if (!p->file)
        return fnmatch(p->glob, name, 0) == 0;
    if (file == NULL)
        return false;
    if (fnmatch(p->glob, file, 0) == 0)
        return true;
    base = strrchr(file, '/');
    return base != NULL && fnmatch(p->glob, base + 1, 0) == 0;
}

static OTELC__AUTO_NOINSTR bool list_matches(const pattern_list_t *l, const char *name,
                                             const char *file)
{
    for (size_t i = 0; i < l->n; i++) {
        if (pattern_matches(&l->item[i], name, file))
            return true;
    }
    return false;
}

bool otelc__auto_pattern_traces(const char *name, const char *file)
{
    for (size_t i = 0; i < sizeof(always_excluded) / sizeof(always_excluded[0]); i++) {
        if (fnmatch(always_excluded[i], name, 0) == 0)
            return false;
    }
    if (includes.n > 0 && !list_matches(&includes, name, file))
        return false;
    return !list_matches(&excludes, name, file);
}

/* ---- the table ------------------------------------------------------------------- */

static const otelc__auto_fn_t untraced = { "", 0, false, NULL };

static OTELC__AUTO_NOINSTR otelc__auto_table_t *table_new(unsigned log2)
{
    otelc__auto_table_t *t =
        calloc(1, sizeof(*t) + ((size_t)1 << log2) * sizeof(otelc__auto_slot_t));
    if (t == NULL)
        return NULL;
    t->shift = 64 - log2;
    t->mask = ((uintptr_t)1 << log2) - 1;
    return t;
}

/* Puts `fn` at `addr` (the lock held); an address already there keeps its
 * first function (aliases of one function). */
static OTELC__AUTO_NOINSTR void table_put(otelc__auto_table_t *t, uintptr_t addr,
                                          const otelc__auto_fn_t *fn)
{
    size_t i;

    for (i = otelc__auto_hash(t, addr);; i = (i + 1) & t->mask) {
        uintptr_t a = atomic_load_explicit(&t->slot[i].addr, memory_order_relaxed);
        if (a == addr)
            return;
        if (a == 0)
            break;
    }
    t->slot[i].fn = fn;
    atomic_store_explicit(&t->slot[i].addr, addr, memory_order_release);
    t->used++;
}

/* Room for `more` functions at half load at most: a bigger table with every
 * entry copied, published whole. */
static OTELC__AUTO_NOINSTR bool table_reserve(size_t more)
{
    otelc__auto_table_t *t = atomic_load_explicit(&otelc__auto_table, memory_order_relaxed);
    otelc__auto_table_t *bigger;
    unsigned log2 = 64 - t->shift;

    while (((size_t)1 << log2) < 2 * (t->used + more))
        log2++;
    if (log2 == 64 - t->shift)
        return true;
    bigger = table_new(log2);
    if (bigger == NULL)
        return false;
    for (size_t i = 0; i <= t->mask; i++) {
        uintptr_t a = atomic_load_explicit(&t->slot[i].addr, memory_order_relaxed);
        if (a != 0)
            table_put(bigger, a, t->slot[i].fn);
    }
    /* Readers holding the old table still find what it had. */
    t->older = retired_tables;
    retired_tables = t;
    atomic_store_explicit(&otelc__auto_table, bigger, memory_order_release);
    return true;
}

/* A function entry for the NUL-terminated `name` of `len` bytes, copied
 * (the lock held). */
static OTELC__AUTO_NOINSTR const otelc__auto_fn_t *fn_new(const char *name, size_t len,
                                                          const char *file)
{
    otelc__auto_fn_t *fn;
    char *copy;

    n_functions++;
    if (!otelc__auto_pattern_traces(name, file))
        return &untraced;
    fn = arena_alloc(sizeof(*fn));
    copy = arena_strndup(name, len);
    if (fn == NULL || copy == NULL)
        return &untraced;
    fn->name = copy;
    fn->name_len = (uint32_t)len;
    fn->traced = true;
    fn->file = file;
    n_traced++;
    return fn;
}

/* ---- DWARF: the source file of an address ---------------------------------------- */

typedef struct range {
    uint64_t lo, hi;
    const char *file;
} range_t;

typedef struct cursor {
    const uint8_t *p, *end;
    bool bad;
} cursor_t;

static OTELC__AUTO_NOINSTR uint64_t rd(cursor_t *c, size_t n)
{
    uint64_t v = 0;

    if (c->bad || (size_t)(c->end - c->p) < n) {
        c->bad = true;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += n;
    return v;
}

static OTELC__AUTO_NOINSTR uint64_t rd_uleb(cursor_t *c)
{
    uint64_t v = 0;
    unsigned shift = 0;

    while (!c->bad) {
        uint8_t b;
        if (c->p >= c->end) {
            c->bad = true;
            break;
        }
        b = *c->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if ((b & 0x80) == 0)
            break;
    }
    return v;
}

static OTELC__AUTO_NOINSTR void skip(cursor_t *c, uint64_t n)
{
    if (c->bad || (uint64_t)(c->end - c->p) < n)
        c->bad = true;
    else
        c->p += n;
}

typedef struct sections {
    const uint8_t *info, *abbrev, *str, *line_str, *aranges;
    size_t info_size, abbrev_size, str_size, line_str_size, aranges_size;
} sections_t;

/* A string at `off` of a string section, or NULL. */
static OTELC__AUTO_NOINSTR const char *section_str(const uint8_t *sec, size_t size, uint64_t off)
{
    if (sec == NULL || off >= size || memchr(sec + off, '\0', size - off) == NULL)
        return NULL;
    return (const char *)sec + off;
}

/* Reads a value of `form` (skipping it, or storing a string in *str). */
static OTELC__AUTO_NOINSTR void read_form(cursor_t *c, uint64_t form, unsigned offset_size,
                                          unsigned addr_size, const sections_t *s, const char **str)
{
    *str = NULL;
    switch (form) {
    case 0x01:
        skip(c, addr_size);
        break; /* addr */
    case 0x03:
        skip(c, rd(c, 2));
        break; /* block2 */
    case 0x04:
        skip(c, rd(c, 4));
        break; /* block4 */
    case 0x05:
        skip(c, 2);
        break; /* data2 */
    case 0x06:
        skip(c, 4);
        break; /* data4 */
    case 0x07:
        skip(c, 8);
        break;   /* data8 */
    case 0x08: { /* string */
        const uint8_t *z = memchr(c->p, '\0', (size_t)(c->end - c->p));
        if (c->bad || z == NULL) {
            c->bad = true;
            break;
        }
        *str = (const char *)c->p;
        c->p = z + 1;
        break;
    }
    case 0x09:
    case 0x18:
        skip(c, rd_uleb(c));
        break; /* block, exprloc */
    case 0x0a:
        skip(c, rd(c, 1));
        break; /* block1 */
    case 0x0b:
    case 0x0c:
    case 0x11:
    case 0x25:
    case 0x29:
        skip(c, 1);
        break;
    case 0x12:
    case 0x26:
    case 0x2a:
        skip(c, 2);
        break;
    case 0x27:
    case 0x2b:
        skip(c, 3);
        break;
    case 0x13:
    case 0x1c:
    case 0x28:
    case 0x2c:
        skip(c, 4);
        break;
    case 0x14:
    case 0x20:
    case 0x24:
        skip(c, 8);
        break;
    case 0x1e:
        skip(c, 16);
        break; /* data16 */
    case 0x0d:
    case 0x0f:
    case 0x15:
    case 0x1a:
    case 0x1b:
    case 0x22:
    case 0x23:
        (void)rd_uleb(c); /* LEB128s */
        break;
    case 0x0e: /* strp */
        *str = section_str(s->str, s->str_size, rd(c, offset_size));
        break;
    case 0x1f: /* line_strp */
        *str = section_str(s->line_str, s->line_str_size, rd(c, offset_size));
        break;
    case 0x10:
    case 0x17:
    case 0x1d:
        skip(c, offset_size);
        break;
    case 0x19:
    case 0x21:
        break; /* flag_present, implicit_const */
    default:
        c->bad = true;
        break; /* indirect and unknown forms */
    }
}

/* The name of the compilation unit at `off` of .debug_info, joined to its
 * directory when relative (kept), or NULL. */
static OTELC__AUTO_NOINSTR char *unit_name(const sections_t *s, uint64_t off)
{
    cursor_t c = { s->info, s->info + s->info_size, false }, a;
    unsigned offset_size = 4, addr_size = 8, version;
    uint64_t abbrev_off, code, len;
    const char *name = NULL, *dir = NULL;
    char *out = NULL;

    if (off >= s->info_size || s->abbrev == NULL)
        return NULL;
    c.p += off;
    len = rd(&c, 4);
    if (len == 0xffffffffu) {
        offset_size = 8;
        len = rd(&c, 8);
    }
    if (c.bad || len > (uint64_t)(c.end - c.p))
        return NULL;
    c.end = c.p + len;
    version = (unsigned)rd(&c, 2);
    if (version >= 5) {
        unsigned type = (unsigned)rd(&c, 1);
        addr_size = (unsigned)rd(&c, 1);
        abbrev_off = rd(&c, offset_size);
        if (type == 4 || type == 5) /* skeleton, split: a DWO id */
            skip(&c, 8);
    } else {
        abbrev_off = rd(&c, offset_size);
        addr_size = (unsigned)rd(&c, 1);
    }
    code = rd_uleb(&c);
    if (c.bad || abbrev_off >= s->abbrev_size || code == 0)
        return NULL;
    /* The abbreviation of the unit's first entry. */
    a = (cursor_t){ s->abbrev + abbrev_off, s->abbrev + s->abbrev_size, false };
    for (;;) {
        uint64_t this_code = rd_uleb(&a);
        if (a.bad || this_code == 0)
            return NULL;
        (void)rd_uleb(&a); /* tag */
        skip(&a, 1);       /* children */
        if (this_code == code)
            break;
        for (;;) {
            uint64_t at = rd_uleb(&a), form = rd_uleb(&a);
            if (form == 0x21)
                (void)rd_uleb(&a);
            if (a.bad)
                return NULL;
            if (at == 0 && form == 0)
                break;
        }
    }
    for (;;) {
        uint64_t at = rd_uleb(&a), form = rd_uleb(&a);
        const char *str;

        if (a.bad || (at == 0 && form == 0))
            break;
        if (form == 0x21)
            (void)rd_uleb(&a);
        read_form(&c, form, offset_size, addr_size, s, &str);
        if (c.bad)
            break;
        if (at == 0x03) /* DW_AT_name */
            name = str;
        else if (at == 0x1b) /* DW_AT_comp_dir */
            dir = str;
    }
    if (name == NULL)
        return NULL;
    if (name[0] == '/' || dir == NULL)
        return arena_strndup(name, strlen(name));
    out = arena_alloc(strlen(dir) + 1 + strlen(name) + 1);
    if (out != NULL)
        sprintf(out, "%s/%s", dir, name);
    return out;
}

static OTELC__AUTO_NOINSTR int range_cmp(const void *a, const void *b)
{
    const range_t *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The address ranges of .debug_aranges with their units' files, sorted;
 * `bias` added. */
static OTELC__AUTO_NOINSTR range_t *read_aranges(const sections_t *s, uint64_t bias, size_t *n_out)
{
    cursor_t c = { s->aranges, s->aranges + s->aranges_size, false };
    range_t *r = NULL;
    size_t n = 0, cap = 0;

    *n_out = 0;
    while (s->aranges != NULL && !c.bad && c.p < c.end) {
        const uint8_t *set = c.p, *set_end;
        unsigned offset_size = 4, addr_size;
        uint64_t len = rd(&c, 4), unit;
        char *file;

        if (len == 0xffffffffu) {
            offset_size = 8;
            len = rd(&c, 8);
        }
        if (c.bad || len > (uint64_t)(c.end - c.p))
            break;
        set_end = c.p + len;
        (void)rd(&c, 2); /* version */
        unit = rd(&c, offset_size);
        addr_size = (unsigned)rd(&c, 1);
        (void)rd(&c, 1); /* segment selector size */
        if (c.bad || (addr_size != 4 && addr_size != 8))
            break;
        /* Tuples start at a multiple of twice the address size. */
        while ((size_t)(c.p - set) % (2 * addr_size) != 0)
            c.p++;
        file = unit_name(s, unit);
        while (!c.bad && c.p + 2 * addr_size <= set_end) {
            uint64_t lo = rd(&c, addr_size), size = rd(&c, addr_size);
            if (lo == 0 && size == 0)
                break;
            if (file == NULL || size == 0)
                continue;
            if (n == cap) {
                range_t *grown;
                cap = cap ? cap * 2 : 64;
                grown = realloc(r, cap * sizeof(*r));
                if (grown == NULL)
                    break;
                r = grown;
            }
            r[n++] = (range_t){ bias + lo, bias + lo + size, file };
        }
        c.p = set_end;
    }
    if (n > 1)
        qsort(r, n, sizeof(*r), range_cmp);
    *n_out = n;
    return r;
}

static OTELC__AUTO_NOINSTR const char *range_file(const range_t *r, size_t n, uint64_t addr)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (addr < r[mid].lo)
            hi = mid;
        else if (addr >= r[mid].hi)
            lo = mid + 1;
        else
            return r[mid].file;
    }
    return NULL;
}

/* ---- ELF ------------------------------------------------------------------------- */

typedef struct object {
    uintptr_t bias;
    char path[512];
    bool found;
    uintptr_t addr; /* the address sought */
} object_t;

static OTELC__AUTO_NOINSTR int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    object_t *o = arg;

    (void)size;
    for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t start = info->dlpi_addr + ph->p_vaddr;

        if (ph->p_type == PT_LOAD && o->addr >= start && o->addr < start + ph->p_memsz) {
            o->bias = info->dlpi_addr;
            snprintf(o->path, sizeof(o->path), "%s",
                     info->dlpi_name != NULL && info->dlpi_name[0] != '\0' ? info->dlpi_name
                                                                           : "/proc/self/exe");
            o->found = true;
            return 1;
        }
    }
    return 0;
}

/* The objects whose symbols were read, by load address. */
static uintptr_t *objects_read;
static size_t n_objects_read, cap_objects_read;

static OTELC__AUTO_NOINSTR bool object_was_read(uintptr_t bias)
{
    for (size_t i = 0; i < n_objects_read; i++) {
        if (objects_read[i] == bias)
            return true;
    }
    return false;
}

static OTELC__AUTO_NOINSTR void mark_read(uintptr_t bias)
{
    if (n_objects_read == cap_objects_read) {
        size_t cap = cap_objects_read ? cap_objects_read * 2 : 16;
        uintptr_t *grown = realloc(objects_read, cap * sizeof(*grown));
        if (grown == NULL)
            return;
        objects_read = grown;
        cap_objects_read = cap;
    }
    objects_read[n_objects_read++] = bias;
}

/* A section's bytes, or NULL when it lies outside the file. */
static OTELC__AUTO_NOINSTR const uint8_t *section_at(const uint8_t *map, size_t size,
                                                     const Elf64_Shdr *sh, size_t *len)
{
    if (sh->sh_type == SHT_NOBITS || sh->sh_offset > size || sh->sh_size > size - sh->sh_offset)
        return NULL;
    *len = sh->sh_size;
    return map + sh->sh_offset;
}

/* Enters every function symbol of the object into the table. */
static OTELC__AUTO_NOINSTR void read_symbols(const object_t *o)
{
    int fd = open(o->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    void *mapping = MAP_FAILED;
    const uint8_t *map;
    const Elf64_Ehdr *eh;
    const Elf64_Shdr *sh, *symtab = NULL;
    const char *shstr = NULL;
    size_t size = 0, shstr_size = 0;
    sections_t dw = { 0 };
    range_t *ranges = NULL;
    size_t n_ranges = 0;

    mark_read(o->bias);
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr))
        goto out;
    size = (size_t)st.st_size;
    mapping = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapping == MAP_FAILED)
        goto out;
    map = mapping;
    eh = (const Elf64_Ehdr *)map;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
        (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > size - eh->e_shoff)
        goto out;
    sh = (const Elf64_Shdr *)(map + eh->e_shoff);
    if (eh->e_shstrndx < eh->e_shnum)
        shstr = (const char *)section_at(map, size, &sh[eh->e_shstrndx], &shstr_size);
    for (size_t i = 0; i < eh->e_shnum; i++) {
        const char *name = "";

        if (sh[i].sh_type == SHT_SYMTAB || (sh[i].sh_type == SHT_DYNSYM && symtab == NULL))
            symtab = &sh[i];
        if (shstr != NULL && sh[i].sh_name < shstr_size &&
            memchr(shstr + sh[i].sh_name, '\0', shstr_size - sh[i].sh_name) != NULL)
            name = shstr + sh[i].sh_name;
        if (strcmp(name, ".debug_info") == 0)
            dw.info = section_at(map, size, &sh[i], &dw.info_size);
        else if (strcmp(name, ".debug_abbrev") == 0)
            dw.abbrev = section_at(map, size, &sh[i], &dw.abbrev_size);
        else if (strcmp(name, ".debug_str") == 0)
            dw.str = section_at(map, size, &sh[i], &dw.str_size);
        else if (strcmp(name, ".debug_line_str") == 0)
            dw.line_str = section_at(map, size, &sh[i], &dw.line_str_size);
        else if (strcmp(name, ".debug_aranges") == 0)
            dw.aranges = section_at(map, size, &sh[i], &dw.aranges_size);
    }
    if (symtab == NULL || symtab->sh_link >= eh->e_shnum)
        goto out;
    if (dw.info != NULL && dw.aranges != NULL)
        ranges = read_aranges(&dw, o->bias, &n_ranges);
    {
        size_t sym_size = 0, str_size = 0, n;
        const Elf64_Sym *sym = (const Elf64_Sym *)section_at(map, size, symtab, &sym_size);
        const char *str = (const char *)section_at(map, size, &sh[symtab->sh_link], &str_size);
        const char *unit_file = NULL;

        if (sym == NULL || str == NULL || str_size == 0 || str[str_size - 1] != '\0')
            goto out;
        n = sym_size / sizeof(Elf64_Sym);
        if (!table_reserve(n))
            goto out;
        for (size_t i = 0; i < n; i++) {
            unsigned type = ELF64_ST_TYPE(sym[i].st_info);
            const char *name = sym[i].st_name < str_size ? str + sym[i].st_name : "";
            const char *file;
            uint64_t addr;

            if (type == STT_FILE) {
                /* Kept as long as the process: a copy, not the mapping. */
                unit_file = name[0] != '\0' ? arena_strndup(name, strlen(name)) : NULL;
                continue;
            }
            if (type != STT_FUNC || sym[i].st_shndx == SHN_UNDEF || sym[i].st_value == 0 ||
                name[0] == '\0')
                continue;
            addr = o->bias + sym[i].st_value;
            file = range_file(ranges, n_ranges, addr);
            if (file == NULL && ELF64_ST_BIND(sym[i].st_info) == STB_LOCAL)
                file = unit_file;
            if (otelc__auto_lookup((uintptr_t)addr) == NULL)
                table_put(atomic_load_explicit(&otelc__auto_table, memory_order_relaxed),
                          (uintptr_t)addr, fn_new(name, strlen(name), file));
        }
    }
out:
    free(ranges); /* the file names stay, in the arena */
    if (mapping != MAP_FAILED)
        munmap(mapping, size);
    if (fd >= 0)
        close(fd);
}

const otelc__auto_fn_t *otelc__auto_resolve(uintptr_t addr)
{
    const otelc__auto_fn_t *fn;
    object_t o;

    pthread_mutex_lock(&lock);
    fn = otelc__auto_lookup(addr);
    if (fn != NULL || atomic_load_explicit(&otelc__auto_table, memory_order_relaxed) == NULL)
        goto out;
    memset(&o, 0, sizeof(o));
    o.addr = addr;
    dl_iterate_phdr(find_object, &o);
    if (o.found && !object_was_read(o.bias)) {
        read_symbols(&o);
        fn = otelc__auto_lookup(addr);
    }
    if (fn == NULL && table_reserve(1)) {
        /* No symbol of its own (a stripped object): the dynamic symbol, or
         * the address in its object. */
        Dl_info info;
        char name[96];

        if (dladdr((void *)addr, &info) != 0 && info.dli_sname != NULL &&
            (uintptr_t)info.dli_saddr == addr) {
            snprintf(name, sizeof(name), "%s", info.dli_sname);
        } else {
            snprintf(name, sizeof(name), "0x%llx", (unsigned long long)(addr - o.bias));
        }
        fn = fn_new(name, strlen(name), NULL);
        table_put(atomic_load_explicit(&otelc__auto_table, memory_order_relaxed), addr, fn);
    }
out:
    pthread_mutex_unlock(&lock);
    return fn != NULL ? fn : &untraced;
}

bool otelc__auto_symbols_init(const char *include, const char *exclude)
{
    bool ok = false;

    pthread_mutex_lock(&lock);
    if (atomic_load_explicit(&otelc__auto_table, memory_order_relaxed) != NULL) {
        ok = true;
        goto out;
    }
    free_patterns(&includes);
    free_patterns(&excludes);
    if (!parse_patterns(include, &includes) || !parse_patterns(exclude, &excludes))
        goto out;
    {
        otelc__auto_table_t *t = table_new(12);
        if (t == NULL)
            goto out;
        atomic_store_explicit(&otelc__auto_table, t, memory_order_release);
    }
    ok = true;
out:
    pthread_mutex_unlock(&lock);
    return ok;
}

void otelc__auto_symbols_counts(uint64_t *functions, uint64_t *traced)
{
    pthread_mutex_lock(&lock);
    *functions = n_functions;
    *traced = n_traced;
    pthread_mutex_unlock(&lock);
}

void otelc__auto_symbols_reset(void)
{
    otelc__auto_table_t *t;

    pthread_mutex_lock(&lock);
    t = atomic_load_explicit(&otelc__auto_table, memory_order_relaxed);
    if (t != NULL) {
        t->older = retired_tables;
        retired_tables = t;
    }
    atomic_store_explicit(&otelc__auto_table, NULL, memory_order_release);
    n_objects_read = 0;
    n_functions = n_traced = 0;
    pthread_mutex_unlock(&lock);
}
