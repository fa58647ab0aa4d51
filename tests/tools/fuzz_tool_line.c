/*
 * fuzz_tool_line.c: one line of a log file through the otelc tool's reader
 * (tools/json_read.c) and record model (tools/record.c), and every output
 * form of the records (tools/output.c).
 *
 * Input: the bytes of a line. Checked:
 *   - a rejected line has an error message and a position inside it;
 *   - an accepted line written back as JSON parses again, and writing that
 *     back gives the same text (the writer is a fixed point);
 *   - the flat JSON the tool prints for each log record parses;
 *   - nothing reads outside its buffers (ASan in the sanitizer builds).
 */
#include "fuzz_check.h"

#include <string.h>

#include "json_read.h"
#include "output.h"
#include "record.h"
#include "util.h"

static bool parses(json_arena_t *arena, const char *text, size_t len)
{
    json_value_t *root;
    json_error_t err;

    json_arena_reset(arena);
    return json_parse(arena, text, len, &root, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_arena_t arena, check;
    static bool ready;
    static record_list_t list;
    json_value_t *root, *again;
    json_error_t err;
    strbuf_t once = STRBUF_INIT, twice = STRBUF_INIT, out = STRBUF_INIT;

    if (!ready) {
        json_arena_init(&arena);
        json_arena_init(&check);
        ready = true;
    }
    json_arena_reset(&arena);
    if (!json_parse(&arena, (const char *)data, size, &root, &err)) {
        FUZZ_CHECK(err.msg != NULL);
        FUZZ_CHECK(err.pos <= size);
        return 0;
    }
    json_put_value(&once, root);
    json_arena_reset(&check);
    FUZZ_CHECK(json_parse(&check, once.p, once.len, &again, &err));
    json_put_value(&twice, again);
    FUZZ_CHECK(once.len == twice.len && memcmp(once.p, twice.p, once.len) == 0);

    if (record_parse(root, &list) == NULL) {
        for (size_t i = 0; i < list.n; i++) {
            const tool_record_t *r = &list.v[i];

            sb_reset(&out);
            out_text(&out, r, i % 2 == 0);
            FUZZ_CHECK(out.len > 0 && out.p[out.len - 1] == '\n');
            /* One record, one line: nothing in it may break the line. */
            FUZZ_CHECK(memchr(out.p, '\n', out.len - 1) == NULL);
            if (r->kind != REC_LOG)
                continue;
            sb_reset(&out);
            out_json(&out, r);
            FUZZ_CHECK(parses(&check, out.p, out.len - 1));
            sb_reset(&out);
            out_csv(&out, r, "c");
            FUZZ_CHECK(out.len >= 2 && out.p[out.len - 2] == '\r');
        }
    }
    sb_free(&once);
    sb_free(&twice);
    sb_free(&out);
    return 0;
}
