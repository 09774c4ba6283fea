/*
 * cli: the command line. Parses argv into a verb and its options, refusing
 * unknown verbs, unknown or misplaced options, missing values and repeats, with
 * one line that says what and where. Nothing here prints: main prints the
 * reason, so main stays the only module that produces output.
 */
#ifndef ANONTEL_CLI_H
#define ANONTEL_CLI_H

#include <stddef.h>

#include "config.h"

enum cli_verb {
	CLI_HELP, CLI_VERSION, CLI_SHOW, CLI_ID, CLI_REPORT, CLI_STATUS, CLI_CHECK, CLI_SCHEMA,
	CLI_FORGET, CLI_NOTICE
};

#define CLI_MAX_HEADERS 16

struct cli {
	enum cli_verb verb;
	struct cfg_flags flags;
	int verbose, quiet;
	int pretty;              /* show, schema --pretty */
	int explain;             /* id --explain */
	int force;               /* report --force */
	int json;                /* status --json */
	int last;                /* status --last */
	int log;                 /* status --log */
	int report;              /* check --report */
	int insecure;            /* check -k */
	const char *url;         /* check URL */
	const char *expect;      /* check --expect CODES */
	const char *headers[CLI_MAX_HEADERS];  /* check -H, in order */
	size_t n_headers;
};

/* Fills *c from argv. Returns 0, or -1 with a one-line reason in err; c->verb is
 * then CLI_CHECK when any argument is the word "check" (a probe never exits 2). */
int cli_parse(struct cli *c, int argc, char **argv, char *err, size_t errlen);

/*
 * Matches an HTTP status against an --expect list: comma-separated codes and
 * ranges, e.g. "200-299" (the default when spec is NULL) or "200,204,300-399",
 * codes 100..999. Returns 1 if status is in the list, 0 if not, -1 if the list is
 * malformed (cli_parse refuses such a list, so later calls never see -1).
 */
int cli_expect_match(const char *spec, int status);

/* The usage text printed by --help. */
extern const char cli_usage[];

#endif
