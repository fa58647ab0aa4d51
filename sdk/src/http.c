/*
 * http.c: HTTP client and server spans with the semantic conventions
 * (otelc/http.h). The URL and request-target are split here by hand, in
 * one pass each, without allocating: what is needed is only where the
 * scheme, the credentials, the host, the port, the path and the query
 * start and end.
 */
#include <otelc/http.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest url.full and span name kept; the SDK's attribute value limit
 * (OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT) usually cuts before. */
#define URL_MAX 4096
#define NAME_MAX_LEN 256
#define HOST_MAX 256

static otelc_tracer_t *default_tracer(otelc_tracer_t *t)
{
    return t != NULL ? t : otelc_tracer("otelc.http", NULL);
}

const char *otelc_http_method_known(const char *method)
{
    static const char *const known[] = { "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS",
                                         "PATCH",   "POST",   "PUT", "TRACE" };
    if (method != NULL)
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
            if (strcmp(method, known[i]) == 0)
                return known[i];
    return "_OTHER";
}

/* ---- URLs ------------------------------------------------------------- */

/* Where the parts of an absolute URL lie; lengths 0 for absent parts. */
typedef struct url_parts {
    const char *scheme; /* without "://" */
    size_t scheme_len;
    const char *userinfo; /* without '@'; NULL when absent */
    size_t userinfo_len;
    const char *host; /* without the brackets of an IPv6 literal */
    size_t host_len;
    const char *hostport; /* host and port as written ("[::1]:80") */
    size_t hostport_len;
    int port;         /* 0: none written */
    const char *rest; /* path, query and fragment: from after the authority */
} url_parts_t;

/* Splits an absolute URL. Returns false when `url` has no "scheme://". */
static bool url_split(const char *url, url_parts_t *p)
{
    const char *sep = strstr(url, "://");
    const char *auth, *end, *at = NULL, *hp, *colon = NULL;

    memset(p, 0, sizeof(*p));
    if (sep == NULL || sep == url)
        return false;
    for (const char *c = url; c < sep; c++)
        if (strchr("/?#", *c) != NULL)
            return false;
    p->scheme = url;
    p->scheme_len = (size_t)(sep - url);
    auth = sep + 3;
    end = auth + strcspn(auth, "/?#");
    /* The last '@' ends the credentials: a password may hold '@'. */
    for (const char *c = auth; c < end; c++)
        if (*c == '@')
            at = c;
    if (at != NULL) {
        p->userinfo = auth;
        p->userinfo_len = (size_t)(at - auth);
        hp = at + 1;
    } else {
        hp = auth;
    }
    p->hostport = hp;
    p->hostport_len = (size_t)(end - hp);
    if (hp < end && *hp == '[') {
        const char *close = memchr(hp, ']', (size_t)(end - hp));
        if (close == NULL)
            close = end;
        p->host = hp + 1;
        p->host_len = (size_t)(close - hp - 1);
        if (close < end && close[1] == ':')
            colon = close + 1;
    } else {
        colon = memchr(hp, ':', (size_t)(end - hp));
        p->host = hp;
        p->host_len = (size_t)((colon ? colon : end) - hp);
    }
    if (colon != NULL) {
        int port = 0;
        const char *c = colon + 1;
        for (; c < end && *c >= '0' && *c <= '9' && port <= 65535; c++)
            port = port * 10 + (*c - '0');
        if (c == end && c > colon + 1 && port <= 65535)
            p->port = port;
    }
    p->rest = end;
    return true;
}

/* The port a URL's scheme implies (0 for schemes otelc does not know). */
static int default_port(const url_parts_t *p)
{
    if (p->scheme_len == 4 && strncasecmp(p->scheme, "http", 4) == 0)
        return 80;
    if (p->scheme_len == 5 && strncasecmp(p->scheme, "https", 5) == 0)
        return 443;
    return 0;
}

/* Query keys whose values url.full must not carry (semconv, URL). */
static bool sensitive_key(const char *k, size_t len)
{
    static const char *const keys[] = { "AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strlen(keys[i]) == len && memcmp(keys[i], k, len) == 0)
            return true;
    return false;
}

/* Appends bytes to a bounded buffer, counting what would have been written. */
typedef struct sink {
    char *out;
    size_t size, len;
} sink_t;

static void put(sink_t *s, const char *p, size_t n)
{
    if (s->len + 1 < s->size) {
        size_t room = s->size - 1 - s->len;
        memcpy(s->out + s->len, p, n < room ? n : room);
    }
    s->len += n;
}

size_t otelc_http_url_redact(const char *url, char *out, size_t size)
{
    sink_t s = { out, size, 0 };
    url_parts_t p;
    const char *q, *frag;

    if (url == NULL)
        url = "";
    if (!url_split(url, &p)) {
        put(&s, url, strlen(url));
        goto done;
    }
    put(&s, url, (size_t)(p.hostport - url - (p.userinfo ? p.userinfo_len + 1 : 0)));
    if (p.userinfo != NULL) {
        if (memchr(p.userinfo, ':', p.userinfo_len) != NULL)
            put(&s, "REDACTED:REDACTED@", 18);
        else
            put(&s, "REDACTED@", 9);
    }
    put(&s, p.hostport, p.hostport_len);
    q = p.rest + strcspn(p.rest, "?#");
    put(&s, p.rest, (size_t)(q - p.rest));
    if (*q == '?') {
        const char *end = q + 1 + strcspn(q + 1, "#");
        const char *param = q + 1;
        put(&s, "?", 1);
        while (param <= end) {
            const char *amp = memchr(param, '&', (size_t)(end - param));
            const char *stop = amp ? amp : end;
            const char *eq = memchr(param, '=', (size_t)(stop - param));
            if (eq != NULL && sensitive_key(param, (size_t)(eq - param))) {
                put(&s, param, (size_t)(eq + 1 - param));
                put(&s, "REDACTED", 8);
            } else {
                put(&s, param, (size_t)(stop - param));
            }
            if (amp == NULL)
                break;
            put(&s, "&", 1);
            param = amp + 1;
        }
        q = end;
    }
    frag = q;
    put(&s, frag, strlen(frag));
done:
    if (size > 0)
        out[s.len < size ? s.len : size - 1] = 0;
    return s.len;
}

/* ---- spans ------------------------------------------------------------ */

/* Attributes of a request's URL: url.full, server.address, server.port. */
typedef struct url_attrs {
    char full[URL_MAX];
    char host[HOST_MAX];
    int port;
    bool ok; /* an absolute URL: address and port known */
} url_attrs_t;

static void url_attrs(const char *url, url_attrs_t *u)
{
    url_parts_t p;
    otelc_http_url_redact(url, u->full, sizeof(u->full));
    u->ok = url_split(url, &p);
    u->host[0] = 0;
    u->port = 0;
    if (u->ok) {
        size_t n = p.host_len < sizeof(u->host) - 1 ? p.host_len : sizeof(u->host) - 1;
        memcpy(u->host, p.host, n);
        u->host[n] = 0;
        u->port = p.port ? p.port : default_port(&p);
    }
}

/* Adds the URL's attributes to `a` at `*n`. */
static void push_url(otelc_attr_t *a, size_t *n, const url_attrs_t *u)
{
    a[(*n)++] = OTELC_STR("url.full", u->full);
    if (u->ok && u->host[0] != 0)
        a[(*n)++] = OTELC_STR("server.address", u->host);
    if (u->ok && u->port != 0)
        a[(*n)++] = OTELC_INT("server.port", u->port);
}

void otelc_http_client_begin(otelc_http_span_t *s, const otelc_http_client_options_t *o)
{
    static const otelc_http_client_options_t none;
    otelc_span_options_t so;
    otelc_attr_t a[6];
    size_t n = 0;
    url_attrs_t u;
    const char *method, *known;

    if (s == NULL)
        return;
    memset(s, 0, sizeof(*s));
    if (o == NULL)
        o = &none;
    method = o->method ? o->method : "GET";
    known = otelc_http_method_known(method);
    a[n++] = OTELC_STR("http.request.method", known);
    if (strcmp(known, "_OTHER") == 0)
        a[n++] = OTELC_STR("http.request.method_original", method);
    if (o->url != NULL) {
        url_attrs(o->url, &u);
        push_url(a, &n, &u);
    }
    memset(&so, 0, sizeof(so));
    so.tracer = default_tracer(o->tracer);
    so.name = strcmp(known, "_OTHER") == 0 ? "HTTP" : known;
    so.name_len = OTELC_NUL_TERMINATED;
    so.kind = OTELC_SPAN_KIND_CLIENT;
    so.attrs = a;
    so.n_attrs = n;
    s->span = otelc_span_start_ex(&so);
    s->kind = OTELC_SPAN_KIND_CLIENT;
}

void otelc_http_client_end(otelc_http_span_t *s, const otelc_http_client_result_t *r)
{
    static const otelc_http_client_result_t none;
    otelc_attr_t a[9];
    size_t n = 0;
    char code[16];
    url_attrs_t u;

    if (s == NULL || s->kind != OTELC_SPAN_KIND_CLIENT)
        return;
    if (r == NULL)
        r = &none;
    if (r->url != NULL) {
        url_attrs(r->url, &u);
        push_url(a, &n, &u);
    }
    if (r->status_code > 0)
        a[n++] = OTELC_INT("http.response.status_code", r->status_code);
    if (r->protocol_version != NULL)
        a[n++] = OTELC_STR("network.protocol.version", r->protocol_version);
    if (r->peer_address != NULL && r->peer_address[0] != 0) {
        a[n++] = OTELC_STR("network.peer.address", r->peer_address);
        if (r->peer_port > 0)
            a[n++] = OTELC_INT("network.peer.port", r->peer_port);
    }
    snprintf(code, sizeof(code), "%d", r->status_code);
    if (r->error_type != NULL) {
        a[n++] = OTELC_STR("error.type", r->error_type);
        otelc_span_set_attrs(&s->span, a, n);
        otelc_span_set_status(&s->span, OTELC_STATUS_ERROR, r->error_message);
    } else if (r->status_code >= 400) {
        /* The reason is the status code itself: no description (semconv). */
        a[n++] = OTELC_STR("error.type", code);
        otelc_span_set_attrs(&s->span, a, n);
        otelc_span_set_status(&s->span, OTELC_STATUS_ERROR, NULL);
    } else {
        otelc_span_set_attrs(&s->span, a, n);
    }
    otelc_span_end(&s->span);
    s->kind = 0;
}

/* The getter over a header list (otelc_http_server_options_t.headers). */
typedef struct header_list {
    const otelc_http_header_t *h;
    size_t n;
} header_list_t;

static const char *list_get(void *carrier, const char *key)
{
    const header_list_t *l = carrier;
    for (size_t i = 0; i < l->n; i++)
        if (l->h[i].name != NULL && strcasecmp(l->h[i].name, key) == 0)
            return l->h[i].value;
    return NULL;
}

void otelc_http_server_begin(otelc_http_span_t *s, const otelc_http_server_options_t *o)
{
    static const otelc_http_server_options_t none;
    otelc_span_options_t so;
    otelc_attr_t a[9];
    size_t n = 0;
    char name[NAME_MAX_LEN];
    const char *method, *known, *target, *path, *query = NULL;
    size_t path_len, query_len = 0;
    header_list_t list;
    otelc_span_context_t parent;

    if (s == NULL)
        return;
    memset(s, 0, sizeof(*s));
    if (o == NULL)
        o = &none;
    if (o->get != NULL) {
        s->remote = otelc_extract(o->get, o->carrier);
    } else if (o->headers != NULL && o->n_headers > 0) {
        list.h = o->headers;
        list.n = o->n_headers;
        s->remote = otelc_extract(list_get, &list);
    }
    if (s->remote != NULL)
        s->token = otelc_context_attach(s->remote);
    parent = otelc_context_span(s->remote);

    method = o->method ? o->method : "GET";
    known = otelc_http_method_known(method);
    a[n++] = OTELC_STR("http.request.method", known);
    if (strcmp(known, "_OTHER") == 0)
        a[n++] = OTELC_STR("http.request.method_original", method);
    /* An absolute-form target (to a proxy) starts with its scheme and
     * authority: url.path begins after them. */
    target = o->target ? o->target : "/";
    {
        url_parts_t p;
        if (url_split(target, &p))
            target = p.rest;
    }
    path = target;
    path_len = strcspn(target, "?#");
    if (target[path_len] == '?') {
        query = target + path_len + 1;
        query_len = strcspn(query, "#");
    }
    a[n++] = OTELC_STRN("url.path", path, path_len);
    if (query != NULL)
        a[n++] = OTELC_STRN("url.query", query, query_len);
    a[n++] = OTELC_STR("url.scheme", o->scheme ? o->scheme : "http");
    if (o->route != NULL)
        a[n++] = OTELC_STR("http.route", o->route);
    if (o->server_address != NULL)
        a[n++] = OTELC_STR("server.address", o->server_address);
    if (o->server_port > 0)
        a[n++] = OTELC_INT("server.port", o->server_port);

    snprintf(name, sizeof(name), "%s%s%s", strcmp(known, "_OTHER") == 0 ? "HTTP" : known,
             o->route ? " " : "", o->route ? o->route : "");
    memset(&so, 0, sizeof(so));
    so.tracer = default_tracer(o->tracer);
    so.name = name;
    so.name_len = OTELC_NUL_TERMINATED;
    so.kind = OTELC_SPAN_KIND_SERVER;
    /* Without a valid caller, a new trace: not a child of whatever span
     * the server's thread may have open. */
    so.root = !otelc_span_context_is_valid(&parent);
    so.attrs = a;
    so.n_attrs = n;
    s->span = otelc_span_start_ex(&so);
    s->kind = OTELC_SPAN_KIND_SERVER;
}

void otelc_http_server_end(otelc_http_span_t *s, int status_code)
{
    char code[16];

    if (s == NULL || s->kind != OTELC_SPAN_KIND_SERVER)
        return;
    if (status_code >= 100 && status_code <= 599) {
        otelc_attr_t a[2];
        size_t n = 0;
        a[n++] = OTELC_INT("http.response.status_code", status_code);
        if (status_code >= 500) {
            snprintf(code, sizeof(code), "%d", status_code);
            a[n++] = OTELC_STR("error.type", code);
        }
        otelc_span_set_attrs(&s->span, a, n);
        if (status_code >= 500)
            otelc_span_set_status(&s->span, OTELC_STATUS_ERROR, NULL);
    } else {
        otelc_attr_t a = OTELC_STR("error.type", "_OTHER");
        otelc_span_set_attrs(&s->span, &a, 1);
        otelc_span_set_status(&s->span, OTELC_STATUS_ERROR, NULL);
    }
    otelc_span_end(&s->span);
    if (s->remote != NULL) {
        otelc_context_detach(s->token);
        otelc_context_release(s->remote);
        s->remote = NULL;
    }
    s->kind = 0;
}
