// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - output: aligned text tables and a small JSON writer
 *
 * The JSON writer prints to stdout as it goes, indented by two spaces.
 * Every string is escaped so that the document is valid JSON whatever
 * bytes it holds: bytes outside printable ASCII become \u00XX.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "slicepool.h"

struct spt_table {
	unsigned int ncols;
	size_t nrows;
	char **cells;		/* (nrows + 1) * ncols, row 0 = headers */
};

struct spt_table *tbl_new(unsigned int ncols, const char *const *headers)
{
	struct spt_table *t = spt_zalloc(sizeof(*t));
	unsigned int i;

	t->ncols = ncols;
	t->cells = spt_realloc_array(NULL, ncols, sizeof(char *));
	for (i = 0; i < ncols; i++)
		t->cells[i] = spt_strdup(headers[i]);
	return t;
}

void tbl_add(struct spt_table *t, ...)
{
	size_t base = (t->nrows + 1) * t->ncols;
	unsigned int i;
	va_list ap;

	t->cells = spt_realloc_array(t->cells, base + t->ncols, sizeof(char *));
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++)
		t->cells[base + i] = spt_strdup(va_arg(ap, const char *));
	va_end(ap);
	t->nrows++;
}

void tbl_print(struct spt_table *t, FILE *f, const char *indent)
{
	size_t *width = spt_zalloc(t->ncols * sizeof(size_t));
	size_t r, len;
	unsigned int c;

	for (r = 0; r <= t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			len = strlen(t->cells[r * t->ncols + c]);
			if (len > width[c])
				width[c] = len;
		}
	for (r = 0; r <= t->nrows; r++) {
		fputs(indent ? indent : "", f);
		for (c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			if (c + 1 == t->ncols)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s  ", (int)width[c], cell);
		}
	}
	free(width);
}

void tbl_free(struct spt_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < (t->nrows + 1) * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void tbl_nums(char (*cells)[SPT_NUM_CELL], const s64 *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] < 0)
			snprintf(cells[i], SPT_NUM_CELL, "-");
		else
			snprintf(cells[i], SPT_NUM_CELL, "%lld",
				 (long long)v[i]);
	}
}

/* ---- JSON ---- */

#define JS_MAX_DEPTH 16

static struct {
	int depth;
	bool has_items[JS_MAX_DEPTH];
	char closer[JS_MAX_DEPTH];
} js;

static void js_quote(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p == '\t')
			fputs("\\t", stdout);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void js_item(const char *key)
{
	if (js.depth > 0) {
		if (js.has_items[js.depth])
			putchar(',');
		putchar('\n');
		js.has_items[js.depth] = true;
		printf("%*s", 2 * js.depth, "");
	}
	if (key) {
		js_quote(key);
		fputs(": ", stdout);
	}
}

static void js_open(const char *key, char c)
{
	js_item(key);
	putchar(c);
	if (js.depth + 1 < JS_MAX_DEPTH)
		js.depth++;
	js.has_items[js.depth] = false;
	js.closer[js.depth] = c == '{' ? '}' : ']';
}

void js_open_obj(const char *key)
{
	js_open(key, '{');
}

void js_open_arr(const char *key)
{
	js_open(key, '[');
}

/* Closes the innermost object or array. */
void js_close(void)
{
	bool had = js.has_items[js.depth];
	char c = js.closer[js.depth];

	js.depth--;
	if (had)
		printf("\n%*s", 2 * js.depth, "");
	putchar(c);
}

void js_str(const char *key, const char *val)
{
	js_item(key);
	if (val)
		js_quote(val);
	else
		fputs("null", stdout);
}

void js_s64(const char *key, s64 val)
{
	js_item(key);
	if (val < 0)
		fputs("null", stdout);
	else
		printf("%lld", (long long)val);
}

void js_int(const char *key, s64 val)
{
	js_item(key);
	printf("%lld", (long long)val);
}

void js_u64(const char *key, u64 val)
{
	js_item(key);
	printf("%llu", (unsigned long long)val);
}

void js_u64_or_null(const char *key, bool has, u64 val)
{
	if (has)
		js_u64(key, val);
	else
		js_null(key);
}

void js_bool(const char *key, bool val)
{
	js_item(key);
	fputs(val ? "true" : "false", stdout);
}

void js_null(const char *key)
{
	js_item(key);
	fputs("null", stdout);
}

void js_begin(const char *action, const char *pool)
{
	js_open_obj(NULL);
	if (action)
		js_str("action", action);
	if (pool)
		js_str("pool", pool);
}

void js_end(void)
{
	js_close();
	putchar('\n');
	fflush(stdout);
}
