/*
 * sql_text.h: what the libpq wrappers record of a statement's text, shared by
 * libpq.c and the tests.
 *
 * One lexer of PostgreSQL's SQL (sql_text.c) serves the two readings the
 * database conventions ask for: the text with its literals replaced by `?`
 * (db.query.text) and the low-cardinality summary of operations and targets
 * (db.query.summary, the span's name). The public functions are declared in
 * otelc/libpq.h; this header adds what only the library uses.
 */
#ifndef OTELC_LIBPQ_SQL_TEXT_H
#define OTELC_LIBPQ_SQL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when `sql` holds a positional parameter ($1, $2, ...) outside
 * literals, comments and quoted identifiers: the text of a parameterized
 * statement, which the conventions record as it is. */
bool otelc__pq_has_placeholder(const char *sql);

#endif /* OTELC_LIBPQ_SQL_TEXT_H */
