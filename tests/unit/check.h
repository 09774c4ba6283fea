/*
 * check.h: the unit-test harness. A test file lists its cases in a table and calls
 * check_main; `build/units/test_x NAME` runs the one case NAME. Each case prints
 * "ok NAME" or "not ok NAME: file:line: what", which tests/run.py counts.
 * CHECK never compiles away (unlike assert under NDEBUG).
 */
#ifndef ANONTEL_CHECK_H
#define ANONTEL_CHECK_H

#include <stdio.h>
#include <string.h>

struct check_case {
	const char *name;
	void (*run)(void);
};

static int check_failures;

/* Records a failure of the current case with a printf-style reason. */
#define CHECKF(cond, ...)                                                        \
	do {                                                                     \
		if (!(cond)) {                                                   \
			if (check_failures++ < 10) {                             \
				fprintf(stdout, "#   %s:%d: ", __FILE__, __LINE__); \
				fprintf(stdout, __VA_ARGS__);                    \
				fputc('\n', stdout);                             \
			}                                                        \
		}                                                                \
	} while (0)

#define CHECK(cond) CHECKF(cond, "%s", #cond)

/* Compares two NUL-terminated strings, printing both on a mismatch. */
#define CHECK_STR(got, want, label)                                              \
	CHECKF(strcmp((got), (want)) == 0, "%s: got \"%s\", want \"%s\"", (label), \
	    (got), (want))

static int
check_main(int argc, char **argv, const struct check_case *cases, size_t n)
{
	int ran = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		check_failures = 0;
		cases[i].run();
		if (check_failures == 0)
			printf("ok %s\n", cases[i].name);
		else
			printf("not ok %s: %d check(s) failed\n", cases[i].name, check_failures);
		ran++;
	}
	if (ran == 0) {
		printf("not ok %s: no such case\n", argc > 1 ? argv[1] : "(none)");
		return 1;
	}
	return 0;
}

#define CHECK_MAIN(cases) \
	int main(int argc, char **argv) { return check_main(argc, argv, cases, sizeof cases / sizeof cases[0]); }

#endif
