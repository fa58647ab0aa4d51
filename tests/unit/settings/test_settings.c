/*
 * test_settings.c: a component's settings declared once (otelc/settings.h):
 * registration checks, the same rows read from the environment, the config
 * file and otelc_options_set(), the settings handed to create(), and
 * options structs of an older, shorter header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture_stderr.h"
#include "config_file.h"
#include "diag.h"

#include <otelc/otelc.h>

/* ---- a component of the test's own ---------------------------------------- */

typedef struct test_settings {
    const char *url;
    uint32_t retries;
    uint64_t limit;
    bool verbose;
    int mode;
    int level;
    const char *tags;
    const char *weights;
} test_settings_t;

static const otelc_setting_word_t mode_words[] = {
    { "fast", 1 },
    { "safe", 2 },
    { NULL, 0 },
};

#define OFF(f) offsetof(test_settings_t, f)

static const otelc_setting_t rows[] = {
    { .env = "TST_URL", .key = "otelc.tst.url", .type = OTELC_SETTING_STRING, .offset = OFF(url),
      .def = "http://localhost:4318" },
    { .env = "TST_RETRIES", .key = "otelc.tst.retry.count", .type = OTELC_SETTING_UINT,
      .offset = OFF(retries), .def = "3", .min = 1, .max = 10, .unit = "retries" },
    { .env = "TST_LIMIT", .key = "otelc.tst.limit", .type = OTELC_SETTING_SIZE,
      .offset = OFF(limit), .def = "1MiB" },
    { .env = "TST_VERBOSE", .key = "otelc.tst.verbose", .type = OTELC_SETTING_BOOL,
      .offset = OFF(verbose), .def = "false", .flags = OTELC_SETTING_NUMBERS },
    { .env = "TST_MODE", .key = "otelc.tst.mode", .type = OTELC_SETTING_ENUM, .offset = OFF(mode),
      .def = "safe", .words = mode_words },
    { .env = "TST_LEVEL", .key = "otelc.tst.level", .type = OTELC_SETTING_LEVEL,
      .offset = OFF(level), .def = "WARN" },
    { .env = "TST_TAGS", .key = "otelc.tst.tags", .type = OTELC_SETTING_LIST, .offset = OFF(tags) },
    { .env = "TST_WEIGHTS", .key = "otelc.tst.groups.*.weight", .type = OTELC_SETTING_KEYED,
      .value_type = OTELC_SETTING_UINT, .offset = OFF(weights), .max = 100, .unit = "a weight" },
};

static test_settings_t seen;
static otelc_exporter_args_t seen_args;
static char seen_service[64];
static unsigned creates;

static otelc_status_t noop_export(otelc_exporter_t *self, const otelc_batch_t *batch,
                                  uint32_t timeout_ms, otelc_export_result_t *result)
{
    (void)self;
    (void)batch;
    (void)timeout_ms;
    (void)result;
    return OTELC_OK;
}

static void noop_destroy(otelc_exporter_t *self)
{
    free(self);
}

static const otelc_exporter_ops_t noop_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "tst",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = noop_export,
    .destroy = noop_destroy,
};

static otelc_status_t tst_create(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    otelc_exporter_t *e = calloc(1, sizeof(*e));

    if (e == NULL)
        return OTELC_ERR_NOMEM;
    creates++;
    seen = *(const test_settings_t *)args->settings;
    seen_args = *args;
    seen_service[0] = '\0';
    for (size_t i = 0; args->resource != NULL && i < args->resource->n_attrs; i++) {
        if (strcmp(args->resource->attrs[i].key, "service.name") == 0)
            snprintf(seen_service, sizeof(seen_service), "%s",
                     args->resource->attrs[i].v.s);
    }
    e->ops = &noop_ops;
    *out = e;
    return OTELC_OK;
}

static const otelc_component_t tst = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "tst",
    .settings = rows,
    .n_settings = sizeof(rows) / sizeof(rows[0]),
    .settings_size = sizeof(test_settings_t),
    .create = tst_create,
};

static const char *const vars[] = { "TST_URL",  "TST_RETRIES", "TST_LIMIT",
                                    "TST_VERBOSE", "TST_MODE",  "TST_LEVEL",
                                    "TST_TAGS", "TST_WEIGHTS", "OTEL_LOGS_EXPORTER",
                                    "OTEL_TRACES_EXPORTER", "OTEL_CONFIG_FILE",
                                    "OTEL_SERVICE_NAME" };

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
    otelc__diag_set_level(OTELC_DIAG_WARN);
    otelc__diag_reset();
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    return otelc_component_register(&tst) == OTELC_OK ? 0 : -1;
}

static test_settings_t *settings_of(otelc_options_t *o)
{
    test_settings_t *s = otelc_options_component(o, "tst");

    assert_non_null(s);
    return s;
}

/* ---- registration ----------------------------------------------------------- */

static void registration_checks_the_table(void **state)
{
    static const otelc_setting_t outside[] = {
        { .env = "TST_X", .type = OTELC_SETTING_UINT, .offset = sizeof(test_settings_t),
          .max = 5 },
    };
    static const otelc_setting_t bad_default[] = {
        { .env = "TST_X", .type = OTELC_SETTING_UINT, .offset = OFF(retries), .def = "11",
          .min = 1, .max = 10 },
    };
    otelc_component_t c = { .version = OTELC_COMPONENT_VERSION + 1, .name = "tst_bad" };
    const char *out;

    (void)state;
    capture_begin();
    assert_int_equal(otelc_component_register(&c), OTELC_ERR_INVALID);
    c.version = OTELC_COMPONENT_VERSION;
    c.name = "tst_bad1";
    c.settings = outside;
    c.n_settings = 1;
    c.settings_size = sizeof(test_settings_t);
    assert_int_equal(otelc_component_register(&c), OTELC_ERR_INVALID);
    c.settings = bad_default;
    c.name = "tst_bad2";
    assert_int_equal(otelc_component_register(&c), OTELC_ERR_INVALID);
    c.name = "Bad Name";
    c.settings = NULL;
    c.n_settings = 0;
    c.settings_size = 0;
    assert_int_equal(otelc_component_register(&c), OTELC_ERR_INVALID);
    out = capture_end();
    assert_non_null(strstr(out, "component 'tst_bad' not registered: it was built for component "
                                "interface version 2, this otelc has version 1"));
    assert_non_null(strstr(out, "component 'tst_bad1' not registered: setting TST_X: its field is outside the settings "
                                "struct"));
    assert_non_null(strstr(out, "component 'tst_bad2' not registered: setting TST_X: its default "
                                "does not read"));
    assert_non_null(strstr(out, "component 'Bad Name' not registered: its name is not 1 to 31 of "
                                "a-z 0-9 _ -"));
    assert_null(otelc_component_find("tst_bad"));
    assert_ptr_equal(otelc_component_find("tst"), &tst);
    assert_int_equal(otelc_component_register(NULL), OTELC_ERR_INVALID);
}

/* ---- the defaults and the environment ----------------------------------------- */

static void defaults_come_from_the_rows(void **state)
{
    otelc_options_t o;
    test_settings_t d;
    test_settings_t *s;

    (void)state;
    otelc_options_default(&o);
    s = settings_of(&o);
    assert_string_equal(s->url, "http://localhost:4318");
    assert_int_equal(s->retries, 3);
    assert_int_equal(s->limit, 1024 * 1024);
    assert_false(s->verbose);
    assert_int_equal(s->mode, 2);
    assert_int_equal(s->level, OTELC_SEV_WARN);
    assert_null(s->tags);
    memset(&d, 0x5a, sizeof(d));
    assert_int_equal(otelc_component_defaults("tst", &d, sizeof(d)), OTELC_OK);
    assert_int_equal(d.retries, 3);
    assert_null(d.weights);
    assert_int_equal(otelc_component_defaults("nosuch", &d, sizeof(d)), OTELC_ERR_NOT_FOUND);
}

static void environment_read_by_the_rows(void **state)
{
    otelc_options_t o;
    test_settings_t *s;

    (void)state;
    setenv("TST_URL", " https://collector:4318 ", 1);
    setenv("TST_RETRIES", "10", 1);
    setenv("TST_LIMIT", "4 MiB", 1);
    setenv("TST_VERBOSE", "1", 1);
    setenv("TST_MODE", "FAST", 1);
    setenv("TST_LEVEL", "debug", 1);
    setenv("TST_TAGS", "none", 1);
    setenv("TST_WEIGHTS", "a=1,b=100", 1);
    otelc__diag_reset();
    assert_int_equal(otelc_options_init(&o), OTELC_OK);
    assert_int_equal(otelc__diag_count(), 0);
    s = settings_of(&o);
    assert_string_equal(s->url, "https://collector:4318");
    assert_int_equal(s->retries, 10);
    assert_int_equal(s->limit, 4u * 1024 * 1024);
    assert_true(s->verbose);
    assert_int_equal(s->mode, 1);
    assert_int_equal(s->level, OTELC_SEV_DEBUG);
    assert_string_equal(s->tags, "");
    assert_string_equal(s->weights, "a=1,b=100");
}

static void environment_rejects_one_line_each(void **state)
{
    otelc_options_t o;
    test_settings_t *s;
    const char *out;

    (void)state;
    setenv("TST_RETRIES", "11", 1);
    setenv("TST_MODE", "turbo", 1);
    setenv("TST_VERBOSE", "yes", 1);
    setenv("TST_WEIGHTS", "a=1,b=101,c", 1);
    capture_begin();
    assert_int_equal(otelc_options_init(&o), OTELC_ERR_INVALID);
    out = capture_end();
    assert_non_null(strstr(out, "invalid value '11' for TST_RETRIES: expected retries from 1 to "
                                "10; using the default 3"));
    assert_non_null(strstr(out, "invalid value 'turbo' for TST_MODE: expected fast or safe; "
                                "using the default safe"));
    assert_non_null(strstr(out, "invalid value 'yes' for TST_VERBOSE: expected true, false, 1 "
                                "or 0; using the default false"));
    assert_non_null(strstr(out, "invalid value 'a=1,b=101,c' for TST_WEIGHTS: item 'b=101' does "
                                "not read (and 1 more)"));
    s = settings_of(&o);
    assert_int_equal(s->retries, 3);
    assert_int_equal(s->mode, 2);
    assert_false(s->verbose);
    /* The good item stays. */
    assert_string_equal(s->weights, "a=1");
}

/* ---- the config file: the same rows ---------------------------------------------- */

static otelc_status_t load_yaml(const char *text, otelc_options_t *o, const char **out)
{
    bool applied = false;
    otelc_status_t st;

    otelc_options_default(o);
    capture_begin();
    st = otelc__config_file_load_buffer("t.yaml", text, strlen(text), true, o, &applied);
    *out = capture_end();
    return st;
}

static void config_file_read_by_the_same_rows(void **state)
{
    otelc_options_t o;
    test_settings_t *s;
    const char *out;
    otelc_status_t st;

    (void)state;
    st = load_yaml("file_format: \"1.0\"\n"
                   "otelc:\n"
                   "  tst:\n"
                   "    url: https://c:4318\n"
                   "    retry: {count: 7}\n"
                   "    limit: 2k\n"
                   "    verbose: true\n"
                   "    mode: fast\n"
                   "    tags: [x, y]\n"
                   "    groups:\n"
                   "      a: {weight: 5}\n"
                   "      b: {weight: 6}\n",
                   &o, &out);
    if (st == OTELC_ERR_UNSUPPORTED)
        skip(); /* no libyaml on this machine */
    assert_int_equal(st, OTELC_OK);
    assert_string_equal(out, "");
    s = settings_of(&o);
    assert_string_equal(s->url, "https://c:4318");
    assert_int_equal(s->retries, 7);
    assert_int_equal(s->limit, 2048);
    assert_true(s->verbose);
    assert_int_equal(s->mode, 1);
    assert_string_equal(s->tags, "x,y");
    assert_string_equal(s->weights, "a=5,b=6");

    /* The environment adds its items after the file's: a later item wins. */
    setenv("TST_WEIGHTS", "b=9", 1);
    assert_int_equal(otelc_options_from_env(&o), OTELC_OK);
    assert_string_equal(settings_of(&o)->weights, "a=5,b=6,b=9");
    assert_string_equal(settings_of(&o)->url, "https://c:4318");
    unsetenv("TST_WEIGHTS");

    /* The same checks, reported with the file, the line and the key. */
    st = load_yaml("file_format: \"1.0\"\n"
                   "otelc:\n"
                   "  tst:\n"
                   "    retry: {count: 0, delay: 5}\n"
                   "    mode: turbo\n"
                   "    groups: {a: {weight: 101}}\n",
                   &o, &out);
    assert_int_equal(st, OTELC_ERR_INVALID);
    assert_non_null(strstr(out, "t.yaml:4: otelc.tst.retry.count: invalid value '0': expected "
                                "retries from 1 to 10; keeping 3"));
    assert_non_null(strstr(out, "t.yaml:4: otelc.tst.retry.delay: unknown key; ignored"));
    assert_non_null(strstr(out, "t.yaml:5: otelc.tst.mode: invalid value 'turbo': expected fast "
                                "or safe; keeping safe"));
    assert_non_null(strstr(out, "t.yaml:6: otelc.tst.groups.a.weight: invalid value '101': "
                                "expected a weight from 0 to 100"));
    s = settings_of(&o);
    assert_int_equal(s->retries, 3);
    assert_null(s->weights);
}

/* A file that is not applied leaves the components' settings as they were. */
static void rejected_file_changes_nothing(void **state)
{
    otelc_options_t o;
    bool applied = true;
    const char *bad = "file_format: \"1.0\"\notelc: {tst: {retry: {count: 9}}}\nx: [\n";

    (void)state;
    otelc_options_default(&o);
    settings_of(&o)->retries = 4;
    capture_begin();
    (void)otelc__config_file_load_buffer("t.yaml", bad, strlen(bad), true, &o, &applied);
    (void)capture_end();
    assert_false(applied);
    assert_int_equal(settings_of(&o)->retries, 4);
}

/* ---- otelc_options_set() --------------------------------------------------------- */

static void set_by_name_or_key(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    otelc_options_default(&o);
    assert_int_equal(otelc_options_set(&o, "TST_RETRIES", "5"), OTELC_OK);
    assert_int_equal(settings_of(&o)->retries, 5);
    assert_int_equal(otelc_options_set(&o, "otelc.tst.mode", "fast"), OTELC_OK);
    assert_int_equal(settings_of(&o)->mode, 1);
    /* The core's rows too. */
    assert_int_equal(otelc_options_set(&o, "OTEL_BSP_MAX_QUEUE_SIZE", "4096"), OTELC_OK);
    assert_int_equal(o.spans_batch.max_queue_size, 4096);
    assert_int_equal(otelc_options_set(&o, "otelc.level", "ERROR"), OTELC_OK);
    assert_int_equal(o.level, OTELC_SEV_ERROR);
    assert_int_equal(otelc_options_set(&o, "NO_SUCH_SETTING", "1"), OTELC_ERR_NOT_FOUND);
    capture_begin();
    assert_int_equal(otelc_options_set(&o, "TST_RETRIES", "0"), OTELC_ERR_INVALID);
    out = capture_end();
    assert_non_null(strstr(out, "invalid value '0' for TST_RETRIES: expected retries from 1 to 10"));
    assert_int_equal(settings_of(&o)->retries, 5);
    assert_int_equal(otelc_options_set(NULL, "TST_RETRIES", "1"), OTELC_ERR_INVALID);
}

/* ---- what create() receives ----------------------------------------------------- */

static void create_receives_its_settings(void **state)
{
    otelc_options_t o;

    (void)state;
    creates = 0;
    setenv("TST_RETRIES", "8", 1);
    setenv("OTEL_LOGS_EXPORTER", "tst", 1);
    setenv("OTEL_TRACES_EXPORTER", "none", 1);
    setenv("OTEL_SERVICE_NAME", "settings-test", 1);
    assert_int_equal(otelc_options_init(&o), OTELC_OK);
    settings_of(&o)->url = "http://program:1";
    o.logs_batch.max_export_batch_size = 77;
    o.log_limits.attribute_count = 9;
    assert_int_equal(otelc_init(&o), OTELC_OK);
    assert_int_equal(otelc_shutdown(2000), OTELC_OK);
    assert_int_equal(creates, 1);
    assert_int_equal(seen_args.struct_size, sizeof(otelc_exporter_args_t));
    assert_int_equal(seen_args.signal, OTELC_SIGNAL_LOGS);
    assert_int_equal(seen.retries, 8);
    assert_string_equal(seen.url, "http://program:1");
    assert_string_equal(seen_service, "settings-test");
    assert_non_null(seen_args.batch);
    assert_non_null(seen_args.limits);
}

/* ---- a struct of an older header ------------------------------------------------ */

static void older_options_struct(void **state)
{
    /* A program compiled when otelc_options_t ended before `components`. */
    size_t old_size = offsetof(otelc_options_t, components);
    union {
        otelc_options_t o;
        unsigned char bytes[sizeof(otelc_options_t) + 64];
    } u;

    (void)state;
    memset(&u, 0xab, sizeof(u));
    otelc_options_default_sized(&u.o, old_size);
    assert_int_equal(u.o.struct_size, old_size);
    assert_string_equal(u.o.traces_exporter, "console");
    /* Nothing written past what the program has. */
    for (size_t i = old_size; i < sizeof(u.bytes); i++)
        assert_int_equal(u.bytes[i], 0xab);
    /* otelc_init() reads no further either: the garbage where the newer
     * fields would be is not taken for a pointer. */
    u.o.traces_exporter = "none";
    u.o.logs_exporter = "none";
    assert_int_equal(otelc_init(&u.o), OTELC_OK);
    assert_int_equal(otelc_shutdown(2000), OTELC_OK);
    memset(&u, 0xab, sizeof(u));
    setenv("OTEL_LOGS_EXPORTER", "none", 1);
    setenv("OTEL_TRACES_EXPORTER", "none", 1);
    assert_int_equal(otelc_options_init_sized(&u.o, old_size), OTELC_OK);
    for (size_t i = old_size; i < sizeof(u.bytes); i++)
        assert_int_equal(u.bytes[i], 0xab);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(registration_checks_the_table, setup),
        cmocka_unit_test_setup(defaults_come_from_the_rows, setup),
        cmocka_unit_test_setup(environment_read_by_the_rows, setup),
        cmocka_unit_test_setup(environment_rejects_one_line_each, setup),
        cmocka_unit_test_setup(config_file_read_by_the_same_rows, setup),
        cmocka_unit_test_setup(rejected_file_changes_nothing, setup),
        cmocka_unit_test_setup(set_by_name_or_key, setup),
        cmocka_unit_test_setup(create_receives_its_settings, setup),
        cmocka_unit_test_setup(older_options_struct, setup),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
