/*
 * context.c: the thread's context stack, and the scopes that change it:
 * correlation ids, bound fields, baggage, attached contexts; capture for
 * hand-off to other threads; inject/extract for other processes.
 *
 * Every scope pushes a frame that records the views it replaced, and popping
 * restores them, so scopes nest in any combination. The views point either
 * into the thread's own buffers (which grow and shrink like a stack) or into
 * an attached context, which the frame keeps a reference to.
 */
#include "tls.h"
#include "diag.h"
#include "propagation_int.h"

#include <stdlib.h>
#include <string.h>

struct otelc_context {
    _Atomic uint32_t refs;
    otelc_span_context_t span;
    uint32_t tracestate_len, corr_len, bound_len, bound_n, bag_len;
    char *tracestate, *corr, *bag;
    unsigned char *bound;
    /* the strings and bound attributes follow */
};

static const otelc_token_t no_token = { 0, 0 };

/* ---- frames ------------------------------------------------------------------- */

static void save_views(const otelc__thread_t *t, otelc__saved_views_t *s)
{
    s->corr = t->corr;
    s->corr_len = t->corr_len;
    s->bound = t->bound;
    s->bound_len = t->bound_len;
    s->bound_n = t->bound_n;
    s->bag = t->bag;
    s->bag_len = t->bag_len;
    s->corr_top = t->corr_top;
    s->bound_top = t->bound_top;
    s->bag_top = t->bag_top;
}

static void restore_views(otelc__thread_t *t, const otelc__saved_views_t *s)
{
    otelc__fast_stale(); /* the views change (tls.h) */
    t->corr = s->corr;
    t->corr_len = s->corr_len;
    t->bound = s->bound;
    t->bound_len = s->bound_len;
    t->bound_n = s->bound_n;
    t->bag = s->bag;
    t->bag_len = s->bag_len;
    t->corr_top = s->corr_top;
    t->bound_top = s->bound_top;
    t->bag_top = s->bag_top;
}

/* Pushes a non-span frame that keeps the current span context. */
static otelc__frame_t *push_frame(otelc__thread_t *t, int kind)
{
    otelc__frame_t *f;

    if (t->depth >= OTELC__MAX_DEPTH) {
        otelc__diag(OTELC_DIAG_WARN, "context.depth",
                    "more than %d nested scopes on one thread: a scope was ignored",
                    OTELC__MAX_DEPTH);
        return NULL;
    }
    f = &t->frames[t->depth];
    if (t->depth > 0) {
        const otelc__frame_t *below = &t->frames[t->depth - 1];
        f->span = below->span;
        f->tracestate = below->tracestate;
        f->tracestate_len = below->tracestate_len;
    } else {
        memset(&f->span, 0, sizeof(f->span));
        f->tracestate = NULL;
        f->tracestate_len = 0;
    }
    f->kind = (uint8_t)kind;
    f->owns_span = 0;
    f->ctx = NULL;
    f->serial = ++t->serial;
    save_views(t, &f->saved);
    t->depth++;
    otelc__fast_cur(t);
    otelc__fast_stale(); /* the caller changes the views (tls.h) */
    return f;
}

void otelc__frames_pop_to(otelc__thread_t *t, uint32_t depth)
{
    while (t->depth >= depth && t->depth > 0) {
        otelc__frame_t *f = &t->frames[--t->depth];
        if (f->kind == OTELC__FRAME_SPAN)
            continue;
        restore_views(t, &f->saved);
        if (f->owns_span) {
            f->owns_span = 0;
            if ((f->owned.flags & 1u) != 0 && otelc__running())
                otelc__span_end_raw(t, &f->owned, otelc__now_raw(), 0);
        }
        if (f->ctx != NULL) {
            otelc_context_release(f->ctx);
            f->ctx = NULL;
        }
    }
    otelc__fast_cur(t);
}

static otelc_token_t token_of(const otelc__thread_t *t)
{
    otelc_token_t tok = { t->depth, t->frames[t->depth - 1].serial };
    return tok;
}

static void end_token(otelc_token_t tok)
{
    otelc__thread_t *t = otelc__tls;

    if (tok.depth == 0 || t == NULL || (t = otelc__thread_enter(-1)) == NULL)
        return;
    if (tok.depth > t->depth || t->frames[tok.depth - 1].serial != tok.serial)
        goto out; /* already ended (or ended with an enclosing span) */
    if (tok.depth != t->depth)
        otelc__diag(OTELC_DIAG_WARN, "context.order",
                    "a scope ended while scopes started inside it were still open; "
                    "they were closed with it");
    otelc__frames_pop_to(t, tok.depth);
out:
    otelc__thread_leave(t);
}

/* ---- current context ------------------------------------------------------------ */

otelc_span_context_t otelc_current_span_context(void)
{
    otelc__thread_t *t = otelc__tls;
    otelc_span_context_t z;

    if (t != NULL && t->depth > 0)
        return t->frames[t->depth - 1].span;
    memset(&z, 0, sizeof(z));
    return z;
}

const char *otelc_current_correlation_id(void)
{
    otelc__thread_t *t = otelc__tls;
    return t != NULL && t->corr_len > 0 ? t->corr : NULL;
}

/* ---- capture and attach ------------------------------------------------------------ */

static otelc_context_t *capture(const otelc__thread_t *t);

otelc_context_t *otelc_context_capture(void)
{
    otelc__thread_t *t;
    otelc_context_t *c;

    if (!otelc__running() || (t = otelc__thread_enter(-1)) == NULL)
        return NULL;
    c = capture(t);
    otelc__thread_leave(t);
    return c;
}

static otelc_context_t *capture(const otelc__thread_t *t)
{
    otelc_context_t *c;
    const otelc__frame_t *top;
    size_t ts_len, size;
    char *p;

    top = t->depth > 0 ? &t->frames[t->depth - 1] : NULL;
    ts_len = top ? top->tracestate_len : 0;
    size = sizeof(*c) + ts_len + 1 + t->corr_len + 1 + t->bag_len + 1 + t->bound_len;
    c = malloc(size);
    if (c == NULL)
        return NULL;
    atomic_init(&c->refs, 1);
    if (top)
        c->span = top->span;
    else
        memset(&c->span, 0, sizeof(c->span));
    p = (char *)(c + 1);
    c->tracestate = p;
    c->tracestate_len = (uint32_t)ts_len;
    if (ts_len)
        memcpy(p, top->tracestate, ts_len);
    p[ts_len] = 0;
    p += ts_len + 1;
    c->corr = p;
    c->corr_len = t->corr_len;
    if (t->corr_len)
        memcpy(p, t->corr, t->corr_len);
    p[t->corr_len] = 0;
    p += t->corr_len + 1;
    c->bag = p;
    c->bag_len = t->bag_len;
    if (t->bag_len)
        memcpy(p, t->bag, t->bag_len);
    p[t->bag_len] = 0;
    p += t->bag_len + 1;
    c->bound = (unsigned char *)p;
    c->bound_len = t->bound_len;
    c->bound_n = t->bound_n;
    if (t->bound_len)
        memcpy(p, t->bound, t->bound_len);
    return c;
}

otelc_context_t *otelc_context_retain(otelc_context_t *ctx)
{
    if (ctx != NULL)
        atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
    return ctx;
}

void otelc_context_release(otelc_context_t *ctx)
{
    if (ctx != NULL && atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) == 1)
        free(ctx);
}

otelc_span_context_t otelc_context_span(const otelc_context_t *ctx)
{
    otelc_span_context_t z;
    if (ctx != NULL)
        return ctx->span;
    memset(&z, 0, sizeof(z));
    return z;
}

otelc_token_t otelc_context_attach(otelc_context_t *ctx)
{
    otelc__thread_t *t;
    otelc__frame_t *f;

    if (ctx == NULL || !otelc__running() || (t = otelc__thread_enter(-1)) == NULL)
        return no_token;
    f = push_frame(t, OTELC__FRAME_ATTACH);
    if (f == NULL) {
        otelc__thread_leave(t);
        return no_token;
    }
    f->ctx = otelc_context_retain(ctx);
    f->span = ctx->span;
    f->tracestate = ctx->tracestate;
    f->tracestate_len = (uint16_t)ctx->tracestate_len;
    t->corr = ctx->corr_len ? ctx->corr : NULL;
    t->corr_len = ctx->corr_len;
    t->bound = ctx->bound;
    t->bound_len = ctx->bound_len;
    t->bound_n = ctx->bound_n;
    t->bag = ctx->bag;
    t->bag_len = ctx->bag_len;
    otelc__thread_leave(t);
    return token_of(t);
}

void otelc_context_detach(otelc_token_t token)
{
    end_token(token);
}

/* ---- correlation ------------------------------------------------------------------ */

static otelc_token_t baggage_push(otelc__thread_t *t, otelc__frame_t *f, const char *name,
                                  const char *value);

static otelc_token_t correlation_begin(otelc__thread_t *t, const char *id, size_t len);

otelc_token_t otelc_correlation_begin(const char *id, size_t len)
{
    otelc__thread_t *t;
    otelc_token_t tok;

    if (id == NULL || !otelc__running() || (t = otelc__thread_enter(-1)) == NULL)
        return no_token;
    tok = correlation_begin(t, id, len);
    otelc__thread_leave(t);
    return tok;
}

static otelc_token_t correlation_begin(otelc__thread_t *t, const char *id, size_t len)
{
    otelc__frame_t *f;
    size_t room;

    if (len == OTELC_NUL_TERMINATED)
        len = strlen(id);
    if (len > OTELC_CORRELATION_ID_MAX) {
        otelc__diag(OTELC_DIAG_WARN, "correlation.long",
                    "a correlation id of %zu bytes was cut to %d", len, OTELC_CORRELATION_ID_MAX);
        len = otelc__utf8_cut(id, len, OTELC_CORRELATION_ID_MAX);
    }
    room = OTELC__CORR_BUF - t->corr_top;
    if (len + 1 > room) {
        otelc__diag(OTELC_DIAG_WARN, "correlation.nesting",
                    "correlation scopes nested too deeply: a scope was ignored");
        return no_token;
    }
    f = push_frame(t, OTELC__FRAME_CORRELATION);
    if (f == NULL)
        return no_token;
    memcpy(t->corr_buf + t->corr_top, id, len);
    t->corr_buf[t->corr_top + len] = 0;
    t->corr = t->corr_buf + t->corr_top;
    t->corr_len = (uint32_t)len;
    t->corr_top += (uint32_t)len + 1;
    /* Baggage carries the id to other processes. */
    {
        char value[OTELC_CORRELATION_ID_MAX + 1];
        memcpy(value, t->corr, len + 1);
        baggage_push(t, f, "correlation.id", value);
    }
    /* With no trace yet, the scope starts one: a root span that lives as
     * long as the scope, so that everything inside shares a trace. */
    if (!otelc_span_context_is_valid(&f->span)) {
        otelc_span_options_t o = { 0 };
        o.name = "correlation";
        o.name_len = OTELC_NUL_TERMINATED;
        o.root = true;
        o.no_activate = true;
        otelc_attr_t a = OTELC_STRN("correlation.id", t->corr, len);
        o.attrs = &a;
        o.n_attrs = 1;
        f->owned = otelc__span_start_in(t, &o);
        f->owns_span = 1;
        f->span = f->owned.ctx;
        f->tracestate = NULL;
        f->tracestate_len = 0;
    }
    return token_of(t);
}

void otelc_correlation_end(otelc_token_t token)
{
    end_token(token);
}

/* ---- bound fields ------------------------------------------------------------------ */

otelc_token_t otelc_bind_begin(const otelc_attr_t *attrs, size_t n_attrs)
{
    otelc__thread_t *t;
    otelc__frame_t *f;
    uint16_t kept;
    size_t len;

    n_attrs = OTELC__LIST_LEN(attrs, n_attrs, "otelc_bind_begin", "attributes");
    if (!otelc__running() || (t = otelc__thread_enter(-1)) == NULL)
        return no_token;
    len = otelc__attrs_measure(attrs, n_attrs, 1024, 1024, &kept);
    f = push_frame(t, OTELC__FRAME_BIND);
    if (f == NULL) {
        otelc__thread_leave(t);
        return no_token;
    }
    /* The view must be contiguous: when it is not at the top of our own
     * buffer (it points into an attached context), copy it there first. */
    if (t->bound_len > t->bound_top || t->bound != t->bound_buf + (t->bound_top - t->bound_len)) {
        if (t->bound_top + t->bound_len > OTELC__BOUND_BUF)
            goto full;
        if (t->bound_len > 0) /* an extracted context has no bound fields (NULL) */
            memmove(t->bound_buf + t->bound_top, t->bound, t->bound_len);
        t->bound = t->bound_buf + t->bound_top;
        t->bound_top += t->bound_len;
    }
    if (t->bound_top + len > OTELC__BOUND_BUF)
        goto full;
    otelc__attrs_encode(t->bound_buf + t->bound_top, attrs, n_attrs, 1024, 1024);
    t->bound_top += (uint32_t)len;
    t->bound_len += (uint32_t)len;
    t->bound_n += kept;
    otelc__thread_leave(t);
    return token_of(t);
full:
    otelc__diag(OTELC_DIAG_WARN, "bind.full",
                "more than %d bytes of bound fields on one thread: a bind was ignored",
                OTELC__BOUND_BUF);
    otelc__thread_leave(t);
    return token_of(t); /* the frame restores the views when it ends */
}

void otelc_bind_end(otelc_token_t token)
{
    end_token(token);
}

/* ---- baggage ---------------------------------------------------------------------- */

static otelc_token_t baggage_push(otelc__thread_t *t, otelc__frame_t *f, const char *name,
                                  const char *value)
{
    size_t out_len = 0, room;
    otelc_status_t st;

    if (t->bag_buf == NULL) {
        t->bag_buf = malloc(OTELC__BAGGAGE_BUF);
        if (t->bag_buf == NULL)
            return token_of(t);
    }
    room = OTELC__BAGGAGE_BUF - t->bag_top;
    if (room < OTELC_BAGGAGE_MAX + 1) {
        otelc__diag(OTELC_DIAG_WARN, "baggage.nesting",
                    "baggage scopes nested too deeply: an entry was not set");
        return token_of(t);
    }
    st = otelc_baggage_put(t->bag ? t->bag : "", t->bag_len, name, value, t->bag_buf + t->bag_top,
                           room, &out_len);
    if (st != OTELC_OK) {
        otelc__diag(OTELC_DIAG_WARN, "baggage.put", "baggage entry '%s' not set: %s", name,
                    otelc_status_str(st));
        return token_of(t);
    }
    (void)f;
    t->bag = t->bag_buf + t->bag_top;
    t->bag_len = (uint32_t)out_len;
    t->bag_top += (uint32_t)out_len + 1;
    return token_of(t);
}

otelc_token_t otelc_baggage_begin(const char *name, const char *value)
{
    otelc__thread_t *t;
    otelc__frame_t *f;

    otelc_token_t tok = no_token;

    if (name == NULL || !otelc__running() || (t = otelc__thread_enter(-1)) == NULL)
        return no_token;
    f = push_frame(t, OTELC__FRAME_BAGGAGE);
    if (f != NULL)
        tok = baggage_push(t, f, name, value ? value : "");
    otelc__thread_leave(t);
    return tok;
}

void otelc_baggage_end(otelc_token_t token)
{
    end_token(token);
}

long otelc_baggage_get(const char *name, char *out, size_t out_size)
{
    otelc__thread_t *t = otelc__tls;

    if (name == NULL || t == NULL || t->bag_len == 0)
        return -1;
    return otelc_baggage_lookup(t->bag, t->bag_len, name, out, out_size);
}

/* ---- crossing processes ---------------------------------------------------------- */

void otelc_inject(otelc_setter_fn set, void *carrier)
{
    otelc__thread_t *t = otelc__tls;
    const otelc__frame_t *top;

    /* Only reads the thread's state, and calls the user's setter, which
     * may itself log: not entered. */
    if (set == NULL || t == NULL || !otelc__running())
        return;
    top = t->depth > 0 ? &t->frames[t->depth - 1] : NULL;
    if (top == NULL && t->bag_len == 0)
        return;
    {
        otelc_span_context_t zero;
        memset(&zero, 0, sizeof(zero));
        otelc__propagation_inject(otelc__hot.propagators, top ? &top->span : &zero,
                                  top ? top->tracestate : NULL, top ? top->tracestate_len : 0,
                                  t->bag, t->bag_len, set, carrier);
    }
}

otelc_context_t *otelc_extract(otelc_getter_fn get, void *carrier)
{
    otelc__propagated_t *in;
    otelc_context_t *c = NULL;
    char corr[OTELC_CORRELATION_ID_MAX + 1];
    long corr_len = -1;
    size_t size;
    char *p;

    if (get == NULL || !otelc__running())
        return NULL;
    /* About 9 KiB: too large for the stacks of some callback threads. */
    in = malloc(sizeof(*in));
    if (in == NULL)
        return NULL;
    otelc__propagation_extract(otelc__hot.propagators, get, carrier, in);
    if (!otelc_span_context_is_valid(&in->span) && in->baggage_len == 0)
        goto done;
    if (in->baggage_len > 0)
        corr_len = otelc_baggage_lookup(in->baggage, in->baggage_len, "correlation.id", corr,
                                        sizeof(corr));
    if (corr_len < 0)
        corr_len = 0;
    /* A longer id was cut by the lookup itself, between characters: what
     * it wrote, up to the NUL, is what is kept. */
    if ((size_t)corr_len > OTELC_CORRELATION_ID_MAX)
        corr_len = (long)strlen(corr);
    size = sizeof(*c) + in->tracestate_len + 1 + (size_t)corr_len + 1 + in->baggage_len + 1;
    c = malloc(size);
    if (c == NULL)
        goto done;
    atomic_init(&c->refs, 1);
    c->span = in->span;
    p = (char *)(c + 1);
    c->tracestate = p;
    c->tracestate_len = (uint32_t)in->tracestate_len;
    memcpy(p, in->tracestate, in->tracestate_len);
    p[in->tracestate_len] = 0;
    p += in->tracestate_len + 1;
    c->corr = p;
    c->corr_len = (uint32_t)corr_len;
    memcpy(p, corr, (size_t)corr_len);
    p[corr_len] = 0;
    p += corr_len + 1;
    c->bag = p;
    c->bag_len = (uint32_t)in->baggage_len;
    memcpy(p, in->baggage, in->baggage_len);
    p[in->baggage_len] = 0;
    c->bound = NULL;
    c->bound_len = 0;
    c->bound_n = 0;
done:
    free(in);
    return c;
}

/* ---- scope macros --------------------------------------------------------------------- */

void otelc__scope_cleanup(otelc__scope_t *scope)
{
    end_token(scope->token);
}

otelc__scope_t otelc__correlation_scope(const char *id)
{
    otelc__scope_t s = { otelc_correlation_begin(id, OTELC_NUL_TERMINATED), 1 };
    return s;
}

otelc__scope_t otelc__bind_scope(const otelc_attr_t *attrs, size_t n)
{
    otelc__scope_t s = { otelc_bind_begin(attrs, n), 1 };
    return s;
}

otelc__scope_t otelc__attach_scope(otelc_context_t *ctx)
{
    otelc__scope_t s = { otelc_context_attach(ctx), 1 };
    return s;
}
