/*
 * test_resource.c: the resource built from the options and the process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "resource.h"

static int reset_diag(void **state)
{
    (void)state;
    otelc__diag_set_level(OTELC_DIAG_WARN);
    otelc__diag_reset();
    return 0;
}

/* The attribute `key`, or NULL; also checks that the key appears once. */
static const otelc_attr_t *find(const otelc__resource_t *r, const char *key)
{
    const otelc_attr_t *found = NULL;

    for (size_t i = 0; i < r->pub.n_attrs; i++) {
        if (strcmp(r->pub.attrs[i].key, key) == 0) {
            assert_null(found);
            found = &r->pub.attrs[i];
        }
    }
    return found;
}

static void assert_str_attr(const otelc__resource_t *r, const char *key, const char *value)
{
    const otelc_attr_t *a = find(r, key);

    assert_non_null(a);
    assert_int_equal(a->type, OTELC_ATTR_STRING);
    assert_int_equal(a->len, strlen(value));
    assert_memory_equal(a->v.s, value, a->len);
    assert_int_equal(a->v.s[a->len], '\0');
}

static void build(const otelc_options_t *o, otelc__resource_t *r)
{
    assert_int_equal(otelc__resource_build(o, r), OTELC_OK);
    assert_non_null(r->mem);
    assert_ptr_equal(r->pub.attrs, r->mem);
}

static void options(otelc_options_t *o, const char *name, const char *version, const char *list)
{
    otelc_options_default(o);
    o->service_name = name;
    o->service_version = version;
    o->resource_attributes = list;
}

/* The keys after service.name/service.version and the list, in order. */
static const char *const detected_keys[] = {
    "host.name",
    "process.pid",
    "process.executable.name",
    "telemetry.sdk.name",
    "telemetry.sdk.language",
    "telemetry.sdk.version",
};

static void test_defaults(void **state)
{
    otelc__resource_t r;
    char expected[512];
    char host[256] = "";

    (void)state;
    build(NULL, &r);
    assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
    assert_true(host[0] != '\0');

    assert_int_equal(r.pub.n_attrs, 7);
    assert_string_equal(r.pub.attrs[0].key, "service.name");
    snprintf(expected, sizeof(expected), "unknown_service:%s", program_invocation_short_name);
    assert_str_attr(&r, "service.name", expected);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(r.pub.attrs[1 + i].key, detected_keys[i]);
    assert_null(find(&r, "service.version"));

    assert_str_attr(&r, "host.name", host);
    assert_int_equal(find(&r, "process.pid")->type, OTELC_ATTR_INT);
    assert_int_equal(find(&r, "process.pid")->v.i, (int64_t)getpid());
    assert_str_attr(&r, "process.executable.name", program_invocation_short_name);
    assert_str_attr(&r, "telemetry.sdk.name", "otelc");
    assert_str_attr(&r, "telemetry.sdk.language", "c");
    assert_str_attr(&r, "telemetry.sdk.version", OTELC_VERSION_STRING);
    assert_int_equal(otelc__diag_count(), 0);
    otelc__resource_free(&r);
}

static void test_service_name_precedence(void **state)
{
    otelc_options_t o;
    otelc__resource_t r;

    (void)state;
    /* The option wins over the list. */
    options(&o, "order-gateway", NULL, "service.name=from-list,team=risk");
    build(&o, &r);
    assert_string_equal(r.pub.attrs[0].key, "service.name");
    assert_str_attr(&r, "service.name", "order-gateway");
    assert_str_attr(&r, "team", "risk");
    assert_int_equal(r.pub.n_attrs, 8);
    otelc__resource_free(&r);

    /* No option: the list's, moved to the front. */
    options(&o, NULL, NULL, "team=risk,service.name=from%20list");
    build(&o, &r);
    assert_string_equal(r.pub.attrs[0].key, "service.name");
    assert_str_attr(&r, "service.name", "from list");
    assert_string_equal(r.pub.attrs[1].key, "team");
    assert_int_equal(r.pub.n_attrs, 8);
    otelc__resource_free(&r);

    /* An empty option counts as none. */
    options(&o, "", "", "service.name=listed");
    build(&o, &r);
    assert_str_attr(&r, "service.name", "listed");
    assert_null(find(&r, "service.version"));
    otelc__resource_free(&r);
}

static void test_service_version(void **state)
{
    otelc_options_t o;
    otelc__resource_t r;

    (void)state;
    options(&o, "svc", "1.2.3", "service.version=0.0.1,region=eu");
    build(&o, &r);
    assert_string_equal(r.pub.attrs[0].key, "service.name");
    assert_string_equal(r.pub.attrs[1].key, "service.version");
    assert_str_attr(&r, "service.version", "1.2.3");
    assert_string_equal(r.pub.attrs[2].key, "region");
    assert_int_equal(r.pub.n_attrs, 9);
    otelc__resource_free(&r);

    options(&o, "svc", NULL, "region=eu,service.version=0.0.1");
    build(&o, &r);
    assert_string_equal(r.pub.attrs[1].key, "service.version");
    assert_str_attr(&r, "service.version", "0.0.1");
    assert_string_equal(r.pub.attrs[2].key, "region");
    otelc__resource_free(&r);

    options(&o, "svc", "9", NULL);
    build(&o, &r);
    assert_string_equal(r.pub.attrs[1].key, "service.version");
    assert_str_attr(&r, "service.version", "9");
    assert_string_equal(r.pub.attrs[2].key, "host.name");
    assert_int_equal(r.pub.n_attrs, 8);
    otelc__resource_free(&r);
}

static void test_percent_decoding_and_blanks(void **state)
{
    otelc_options_t o;
    otelc__resource_t r;

    (void)state;
    options(&o, "svc", NULL,
            "greeting=hello%20world, special = %2C%3D%25 ,c%2Ed=x,utf8=caf%C3%A9,"
            "words=two words,empty=,lower=%2c%3d");
    build(&o, &r);
    assert_str_attr(&r, "greeting", "hello world");
    assert_str_attr(&r, "special", ",=%");
    assert_str_attr(&r, "c.d", "x");
    assert_str_attr(&r, "utf8", "caf\xc3\xa9");
    assert_str_attr(&r, "words", "two words");
    assert_str_attr(&r, "empty", "");
    assert_str_attr(&r, "lower", ",=");
    assert_int_equal(r.pub.n_attrs, 1 + 7 + 6);
    assert_int_equal(otelc__diag_count(), 0);
    otelc__resource_free(&r);
}

static void test_order_and_duplicates(void **state)
{
    otelc_options_t o;
    otelc__resource_t r;

    (void)state;
    /* A later duplicate replaces the value where the first one stood;
     * empty entries are skipped. */
    options(&o, "svc", NULL, "z=1,,a=2, ,z=3,m=4,");
    build(&o, &r);
    assert_int_equal(r.pub.n_attrs, 1 + 3 + 6);
    assert_string_equal(r.pub.attrs[1].key, "z");
    assert_string_equal(r.pub.attrs[1].v.s, "3");
    assert_string_equal(r.pub.attrs[2].key, "a");
    assert_string_equal(r.pub.attrs[3].key, "m");
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(r.pub.attrs[4 + i].key, detected_keys[i]);
    otelc__resource_free(&r);
}

/* What the user lists wins over what the SDK detects. */
static void test_list_overrides_detected(void **state)
{
    otelc_options_t o;
    otelc__resource_t r;

    (void)state;
    options(&o, "svc", NULL, "host.name=trading-box-7,process.executable.name=gw");
    build(&o, &r);
    assert_int_equal(r.pub.n_attrs, 7);
    assert_string_equal(r.pub.attrs[1].key, "host.name");
    assert_str_attr(&r, "host.name", "trading-box-7");
    assert_string_equal(r.pub.attrs[2].key, "process.executable.name");
    assert_str_attr(&r, "process.executable.name", "gw");
    assert_string_equal(r.pub.attrs[3].key, "process.pid");
    assert_int_equal(r.pub.attrs[3].v.i, (int64_t)getpid());
    otelc__resource_free(&r);
}

static void test_invalid_list_ignored_whole(void **state)
{
    static const char *const bad[] = { "a=1,broken,b=2", "a=1,=2", "a=%zz", "a=%4", "a=%",
                                       "a%00=1",         "a=x%00y" };
    otelc_options_t o;
    otelc__resource_t r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        otelc__diag_reset();
        options(&o, NULL, NULL, bad[i]);
        assert_non_null(otelc__resource_attributes_error(bad[i]));
        build(&o, &r);
        assert_int_equal(otelc__diag_count(), 1);
        assert_null(find(&r, "a"));
        assert_int_equal(r.pub.n_attrs, 7);
        assert_int_equal(strncmp(r.pub.attrs[0].v.s, "unknown_service:", 16), 0);
        otelc__resource_free(&r);
    }
    /* service.name in a broken list is ignored with the rest. */
    options(&o, NULL, NULL, "service.name=svc,oops");
    build(&o, &r);
    assert_int_equal(strncmp(r.pub.attrs[0].v.s, "unknown_service:", 16), 0);
    otelc__resource_free(&r);

    assert_null(otelc__resource_attributes_error(NULL));
    assert_null(otelc__resource_attributes_error(""));
    assert_null(otelc__resource_attributes_error(" , ,"));
    assert_null(otelc__resource_attributes_error("a=b=c"));
}

static void test_every_string_is_terminated(void **state)
{
    otelc_options_t o;
    otelc__resource_t r;

    (void)state;
    options(&o, "svc", "1", "k1=v1,k2=%41%42");
    build(&o, &r);
    for (size_t i = 0; i < r.pub.n_attrs; i++) {
        const otelc_attr_t *a = &r.pub.attrs[i];

        assert_non_null(a->key);
        assert_true(a->key[0] != '\0');
        if (a->type == OTELC_ATTR_STRING) {
            assert_non_null(a->v.s);
            assert_int_equal(strlen(a->v.s), a->len);
        } else {
            assert_int_equal(a->type, OTELC_ATTR_INT);
            assert_string_equal(a->key, "process.pid");
        }
    }
    assert_str_attr(&r, "k2", "AB");
    otelc__resource_free(&r);
}

/* Nothing points at the options: the resource outlives them. */
static void test_copies_its_strings(void **state)
{
    char name[] = "svc-original";
    char list[] = "team=risk";
    otelc_options_t o;
    otelc__resource_t r;

    (void)state;
    options(&o, name, NULL, list);
    build(&o, &r);
    memset(name, 'x', sizeof(name) - 1);
    memset(list, 'y', sizeof(list) - 1);
    assert_str_attr(&r, "service.name", "svc-original");
    assert_str_attr(&r, "team", "risk");
    otelc__resource_free(&r);
}

static void test_many_entries(void **state)
{
    char list[200 * 16];
    size_t len = 0;
    otelc_options_t o;
    otelc__resource_t r;

    (void)state;
    for (int i = 0; i < 200; i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%sk%d=v%d", i ? "," : "", i, i);
    options(&o, "svc", NULL, list);
    build(&o, &r);
    assert_int_equal(r.pub.n_attrs, 1 + 200 + 6);
    for (int i = 0; i < 200; i++) {
        char key[16], value[16];

        snprintf(key, sizeof(key), "k%d", i);
        snprintf(value, sizeof(value), "v%d", i);
        assert_string_equal(r.pub.attrs[1 + i].key, key);
        assert_string_equal(r.pub.attrs[1 + i].v.s, value);
    }
    otelc__resource_free(&r);
}

static void test_free_is_safe(void **state)
{
    otelc__resource_t r;

    (void)state;
    assert_int_equal(otelc__resource_build(NULL, NULL), OTELC_ERR_INVALID);
    otelc__resource_free(NULL);
    build(NULL, &r);
    otelc__resource_free(&r);
    assert_null(r.mem);
    assert_null(r.pub.attrs);
    assert_int_equal(r.pub.n_attrs, 0);
    otelc__resource_free(&r);
}

/* Typed attributes keep their type, come after the list, take the place and
 * value of a list entry with their key, and beat what is detected; other
 * types are reported and left out. */
static void test_typed_attributes(void **state)
{
    char key[] = "replicas", value[] = "eu-west";
    const otelc_attr_t typed[] = {
        { .key = key, .type = OTELC_ATTR_INT, .v.i = -3 },
        { .key = "canary", .type = OTELC_ATTR_BOOL, .v.b = true },
        { .key = "a", .type = OTELC_ATTR_DOUBLE, .v.d = 0.25 },
        { .key = "region", .type = OTELC_ATTR_STRING, .len = OTELC_NUL_TERMINATED, .v.s = value },
        { .key = "process.pid", .type = OTELC_ATTR_INT, .v.i = 1 },
        { .key = "tags", .type = OTELC_ATTR_STRING_ARRAY, .len = 0 },
        { .key = "", .type = OTELC_ATTR_INT, .v.i = 1 },
    };
    otelc_options_t o;
    otelc__resource_t r;
    const otelc_attr_t *a;

    (void)state;
    options(&o, "svc", NULL, "a=text,z=1");
    o.resource_attrs = typed;
    o.n_resource_attrs = sizeof(typed) / sizeof(typed[0]);
    otelc__diag_reset();
    build(&o, &r);
    assert_int_equal(otelc__diag_count(), 2); /* the array and the empty key */
    /* The buffers the options pointed to may change: the resource copied. */
    key[0] = 'X';
    value[0] = 'X';
    assert_string_equal(r.pub.attrs[1].key, "a");
    assert_int_equal(r.pub.attrs[1].type, OTELC_ATTR_DOUBLE);
    assert_true(r.pub.attrs[1].v.d == 0.25);
    assert_string_equal(r.pub.attrs[2].key, "z");
    a = find(&r, "replicas");
    assert_non_null(a);
    assert_int_equal(a->type, OTELC_ATTR_INT);
    assert_int_equal(a->v.i, -3);
    a = find(&r, "canary");
    assert_non_null(a);
    assert_int_equal(a->type, OTELC_ATTR_BOOL);
    assert_true(a->v.b);
    assert_str_attr(&r, "region", "eu-west");
    a = find(&r, "process.pid");
    assert_int_equal(a->v.i, 1);
    assert_null(find(&r, "tags"));
    assert_null(find(&r, ""));
    otelc__resource_free(&r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, reset_diag, reset_diag)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_service_name_precedence),
        T(test_service_version),
        T(test_percent_decoding_and_blanks),
        T(test_order_and_duplicates),
        T(test_list_overrides_detected),
        T(test_invalid_list_ignored_whole),
        T(test_every_string_is_terminated),
        T(test_copies_its_strings),
        T(test_many_entries),
        T(test_free_is_safe),
        T(test_typed_attributes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
