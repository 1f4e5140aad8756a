/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KTAP harness for the project's host unit tests of pure C code
 * (selftests/placement, selftests/copyidx).  Header-only: each test
 * program is one translation unit.
 *
 *   CHECK(cond, fmt, ...)      fail the current case with a diagnostic
 *   struct ktap_case cases[]   { "name", fn }
 *   return ktap_run(cases, ARRAY_SIZE(cases));   from main()
 */
#ifndef SP_KTAP_UNIT_H
#define SP_KTAP_UNIT_H

#include <stdarg.h>
#include <stdio.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

struct ktap_case {
	const char *name;
	void (*fn)(void);
};

/* Whether the case now running has passed every check so far. */
static int case_ok;
/* The name of the case now running. */
static const char *ktap_case_name;

static inline void fail(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	case_ok = 0;
}

#define CHECK(cond, ...)					\
	do {							\
		if (!(cond)) {					\
			fail("line %d: %s", __LINE__, #cond);	\
			fail(__VA_ARGS__);			\
		}						\
	} while (0)

static inline unsigned long long ull(unsigned long long v)
{
	return v;
}

/* Run every case, print KTAP; 0 if all passed, 1 otherwise. */
static inline int ktap_run(const struct ktap_case *cases, unsigned int nr)
{
	unsigned int i, failed = 0;

	printf("KTAP version 1\n");
	printf("1..%u\n", nr);
	for (i = 0; i < nr; i++) {
		case_ok = 1;
		ktap_case_name = cases[i].name;
		cases[i].fn();
		if (case_ok) {
			printf("ok %u %s\n", i + 1, cases[i].name);
		} else {
			printf("not ok %u %s\n", i + 1, cases[i].name);
			failed++;
		}
	}
	printf("# %u/%u passed\n", nr - failed, nr);
	return failed ? 1 : 0;
}

#endif
