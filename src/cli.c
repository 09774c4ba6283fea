#include "cli.h"

#include <string.h>

#include "ascii.h"
#include "buf.h"

const char cli_usage[] =
    "usage: anontel [options] VERB [options]\n"
    "\n"
    "verbs:\n"
    "  show [--pretty]        print the exact message report would send; destination on stderr\n"
    "  id [--explain]         print the instance ID; --explain shows its inputs (local only)\n"
    "  report [--force]       send the message if telemetry is on (--force: even if not due)\n"
    "  status [--json | --last | --log]\n"
    "                         print the on/off decision, endpoint, ID scheme and state;\n"
    "                         --last the last message sent, --log the last 32, one a line\n"
    "  schema [--pretty]      print the JSON Schema of the messages this config can send\n"
    "  check URL [--report] [--expect CODES] [-k] [-H 'Name: value']\n"
    "                         health probe: exit 0 if URL answers with an expected status\n"
    "  notice                 print what is sent, where, and how to turn it off (stdout)\n"
    "  forget                 remove kept messages, the log of sent ones, the random ID\n"
    "  --help, --version\n"
    "\n"
    "options:\n"
    "  -c, --config FILE      config file (else $ANONTEL_CONFIG, else /etc/anontel/config.json)\n"
    "  --endpoint URL         where report sends (else $ANONTEL_ENDPOINT, else the config)\n"
    "  --timeout DUR          one deadline for the whole run, e.g. 500ms, 5s (default 5s)\n"
    "  -v, --verbose          say what happens, on stderr\n"
    "  -q, --quiet            print nothing but errors\n"
    "\n"
    "opt out: DO_NOT_TRACK=1, ANONTEL_DISABLED=1, or \"enabled\": false in the config.\n"
    "exit status: 0 sent or nothing to do, 1 not delivered or unhealthy, 2 usage or config error\n";

/* Verb bit masks for which options apply where. */
#define V(v) (1u << (v))
#define V_NET (V(CLI_REPORT) | V(CLI_CHECK))
#define V_ALL (V(CLI_SHOW) | V(CLI_ID) | V(CLI_REPORT) | V(CLI_STATUS) | V(CLI_CHECK) | \
    V(CLI_SCHEMA) | V(CLI_FORGET) | V(CLI_NOTICE))

enum opt_kind { OPT_FLAG, OPT_VALUE, OPT_HEADER };

/* Small fields and the name in the entry, so that an entry is 16 bytes and no
 * pointer. */
struct opt {
	char name[9];           /* long form, without "--" */
	char letter;            /* short form, or 0 */
	unsigned char kind;     /* enum opt_kind */
	unsigned short verbs;
	unsigned short field;   /* offsetof(struct cli, ...) */
};

#define F(member) offsetof(struct cli, member)
_Static_assert(sizeof(struct cli) <= 0xffff && CLI_NOTICE < 16,   /* CLI_NOTICE: the last */
    "struct opt's fields cannot hold a cli offset or verb bit");

static const struct opt opts[] = {
	{ "config", 'c', OPT_VALUE, V_ALL, F(flags.config) },
	{ "endpoint", 0, OPT_VALUE, V_ALL, F(flags.endpoint) },
	{ "timeout", 0, OPT_VALUE, V_ALL, F(flags.timeout) },
	{ "verbose", 'v', OPT_FLAG, V_ALL, F(verbose) },
	{ "quiet", 'q', OPT_FLAG, V_ALL, F(quiet) },
	{ "pretty", 0, OPT_FLAG, V(CLI_SHOW) | V(CLI_SCHEMA), F(pretty) },
	{ "explain", 0, OPT_FLAG, V(CLI_ID), F(explain) },
	{ "force", 0, OPT_FLAG, V(CLI_REPORT), F(force) },
	{ "json", 0, OPT_FLAG, V(CLI_STATUS), F(json) },
	{ "last", 0, OPT_FLAG, V(CLI_STATUS), F(last) },
	{ "log", 0, OPT_FLAG, V(CLI_STATUS), F(log) },
	{ "report", 0, OPT_FLAG, V(CLI_CHECK), F(report) },
	{ "expect", 0, OPT_VALUE, V(CLI_CHECK), F(expect) },
	{ "insecure", 'k', OPT_FLAG, V(CLI_CHECK), F(insecure) },
	{ "header", 'H', OPT_HEADER, V(CLI_CHECK), F(headers) },
};

static const struct {
	char name[10];
	unsigned char verb;     /* enum cli_verb */
} verbs[] = {
	{ "show", CLI_SHOW }, { "id", CLI_ID }, { "report", CLI_REPORT },
	{ "status", CLI_STATUS }, { "check", CLI_CHECK }, { "schema", CLI_SCHEMA },
	{ "forget", CLI_FORGET }, { "notice", CLI_NOTICE },
	{ "--help", CLI_HELP }, { "-h", CLI_HELP }, { "help", CLI_HELP },
	{ "--version", CLI_VERSION }, { "-V", CLI_VERSION },
};

static int
fail(char *err, size_t errlen, const char *what, const char *arg)
{
	struct buf b;

	buf_init(&b, err, errlen);
	buf_str(&b, what);
	if (arg != NULL) {
		buf_str(&b, " '");
		buf_str(&b, arg);
		buf_char(&b, '\'');
	}
	return -1;
}

/* Finds the option named by arg ("--name", "--name=value", "-x"); *inline_value
 * receives the text after '=' when given that way. */
static const struct opt *
find_opt(const char *arg, const char **inline_value)
{
	*inline_value = NULL;
	for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
		const struct opt *o = &opts[i];

		if (arg[1] == '-') {
			size_t n = strlen(o->name);

			if (strncmp(arg + 2, o->name, n) != 0)
				continue;
			if (arg[2 + n] == '\0')
				return o;
			if (arg[2 + n] == '=' && o->kind != OPT_FLAG) {
				*inline_value = arg + 3 + n;
				return o;
			}
		} else if (o->letter != 0 && arg[1] == o->letter && arg[2] == '\0') {
			return o;
		}
	}
	return NULL;
}

static int
set_opt(struct cli *c, const struct opt *o, const char *value, char *err, size_t errlen)
{
	char *field = (char *)c + o->field;

	switch (o->kind) {
	case OPT_FLAG:
		if (*(int *)(void *)field)
			return fail(err, errlen, "option given twice:", o->name);
		*(int *)(void *)field = 1;
		return 0;
	case OPT_VALUE:
		if (*(const char **)(void *)field != NULL)
			return fail(err, errlen, "option given twice:", o->name);
		*(const char **)(void *)field = value;
		return 0;
	case OPT_HEADER:
		if (c->n_headers == CLI_MAX_HEADERS)
			return fail(err, errlen, "too many -H headers (at most 16)", NULL);
		c->headers[c->n_headers++] = value;
		return 0;
	}
	return -1;
}

/* Reads a 3-digit code 100..999 at *p; advances *p. Returns the code or -1. */
static int
read_code(const char **p)
{
	unsigned code;

	if (ascii_digits(*p, 3, &code) != 0 || code < 100)    /* no leading 0 */
		return -1;
	*p += 3;
	return (int)code;
}

int
cli_expect_match(const char *spec, int status)
{
	const char *p = spec != NULL ? spec : "200-299";
	int match = 0;

	for (;;) {
		int lo = read_code(&p), hi = lo;

		if (lo < 0)
			return -1;
		if (*p == '-') {
			p++;
			if ((hi = read_code(&p)) < lo)
				return -1;
		}
		if (status >= lo && status <= hi)
			match = 1;
		if (*p == '\0')
			return match;
		if (*p++ != ',')
			return -1;
	}
}

/* The index of the verb: the first argument that is not an option or its value.
 * Options may come before the verb; whether they apply to it is checked after. */
static int
verb_index(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *value;
		const struct opt *o = argv[i][0] == '-' ? find_opt(argv[i], &value) : NULL;

		if (o == NULL)
			break;
		if (o->kind != OPT_FLAG && value == NULL)
			i++;
	}
	return i;
}

static int
parse(struct cli *c, int argc, char **argv, char *err, size_t errlen)
{
	int at;
	size_t v;

	memset(c, 0, sizeof *c);
	at = verb_index(argc, argv);
	if (at >= argc)
		return fail(err, errlen, "no verb given (try --help)", NULL);
	for (v = 0; v < sizeof verbs / sizeof verbs[0]; v++)
		if (strcmp(argv[at], verbs[v].name) == 0)
			break;
	if (v == sizeof verbs / sizeof verbs[0])
		return fail(err, errlen, "unknown verb", argv[at]);
	c->verb = verbs[v].verb;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *value;
		const struct opt *o;

		if (i == at)
			continue;
		if (c->verb == CLI_HELP || c->verb == CLI_VERSION)
			return fail(err, errlen, "unexpected argument", arg);
		if (arg[0] != '-' || arg[1] == '\0') {
			if (c->verb != CLI_CHECK || c->url != NULL)
				return fail(err, errlen, "unexpected argument", arg);
			c->url = arg;
			continue;
		}
		o = find_opt(arg, &value);
		if (o == NULL)
			return fail(err, errlen, "unknown option", arg);
		if ((o->verbs & V(c->verb)) == 0)
			return fail(err, errlen, "option does not apply to this verb:", arg);
		if (o->kind != OPT_FLAG && value == NULL) {
			if (i + 1 == argc)
				return fail(err, errlen, "option needs a value:", arg);
			value = argv[++i];
		}
		if (set_opt(c, o, value, err, errlen) != 0)
			return -1;
	}
	if (c->verb == CLI_CHECK && c->url == NULL)
		return fail(err, errlen, "check needs a URL", NULL);
	if (c->expect != NULL && cli_expect_match(c->expect, 0) < 0)
		return fail(err, errlen, "--expect: expected codes like 200-299 or 200,204, not",
		    c->expect);
	if (c->verbose && c->quiet)
		return fail(err, errlen, "--verbose and --quiet exclude each other", NULL);
	if (c->log && (c->last || c->json))
		return fail(err, errlen, c->last ? "--log and --last exclude each other" :
		    "--log prints the messages as sent: --json does not apply", NULL);
	return 0;
}

int
cli_parse(struct cli *c, int argc, char **argv, char *err, size_t errlen)
{
	if (parse(c, argc, argv, err, errlen) == 0)
		return 0;
	/* A HEALTHCHECK line whose options are wrong is still a probe: whatever the
	 * parse stopped at (an unknown option before the verb, an option that took
	 * "check" as its value), a word "check" makes it one, so it exits 1, never 2. */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "check") == 0)
			c->verb = CLI_CHECK;
	return -1;
}
