/* Unit tests of src/config.c: cfg_load over real files, the environment and flags. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

#define T(s) s, sizeof(s) - 1

static struct cfg C;
static _Alignas(max_align_t) unsigned char scratch[CFG_SCRATCH_SIZE];
static char err[1024];
static char dir[64];
static char path[128];

static void
cleanup(void)
{
	if (path[0])
		unlink(path);
	if (dir[0])
		rmdir(dir);
}

static void
clear_env(void)
{
	static const char *vars[] = { "ANONTEL_CONFIG", "ANONTEL_ENDPOINT", "ANONTEL_STATE_DIR",
		"ANONTEL_DISABLED", "ANONTEL_ID", "DO_NOT_TRACK", "SSL_CERT_FILE", "ANONTEL_SERVICE",
		"ANONTEL_SERVICE_VERSION", "ANONTEL_FORMAT", "ANONTEL_FEATURES_FILE",
		"ANONTEL_HEADERS_FILE" };
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
}

/* Writes text to DIR/config.json (once per process DIR is made) and returns its path. */
static const char *
write_config(const char *text, size_t len)
{
	int fd;

	if (dir[0] == '\0') {
		strcpy(dir, "/tmp/anontel-cfg-XXXXXX");
		if (mkdtemp(dir) == NULL) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(cleanup);
		strcpy(path, dir);
		strcat(path, "/config.json");
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(len == 0 || write(fd, text, len) == (ssize_t)len);
	close(fd);
	return path;
}

/* cfg_load with -c FILE holding text. */
static int
load(const char *text, size_t len, struct cfg_flags *fl)
{
	struct cfg_flags none = { 0 };

	if (fl == NULL)
		fl = &none;
	fl->config = write_config(text, len);
	memset(err, 0, sizeof err);
	/* The scratch is lent from a buffer that held a message: nothing may rely on it. */
	memset(scratch, 0xa5, sizeof scratch);
	return cfg_load(&C, fl, scratch, err, sizeof err);
}

static int
load_str(const char *text)
{
	return load(text, strlen(text), NULL);
}

static int
starts_with(const char *s, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	return strncmp(s, a, la) == 0 && strncmp(s + la, b, lb) == 0;
}

/* ---- refused files: the message is "PATH" followed by `want` ---- */

struct bad_row {
	const char *name;
	const char *text;
	size_t len;
	const char *want;
};

static const struct bad_row bad_rows[] = {
	/* syntax: file:line:col */
	{ "num-leading-zero", T("{\"interval\": -01}"), ":1:14: invalid number" },
	{ "num-trailing-dot", T("{\"enabled\": 1.}"), ":1:13: invalid number" },
	{ "num-leading-dot", T("{\"enabled\": .5}"), ":1:13: invalid number" },
	{ "num-hex", T("{\"enabled\": 0x1}"), ":1:13: invalid number" },
	{ "num-exp", T("{\"enabled\": 1e}"), ":1:13: invalid number" },
	{ "num-plus", T("{\"enabled\": +1}"), ":1:13: invalid number" },
	{ "num-infinity", T("{\"enabled\": Infinity}"), ":1:13: invalid literal" },
	{ "num-nan", T("{\"enabled\": NaN}"), ":1:13: invalid literal" },
	{ "lit-tru", T("{\"enabled\": tru}"), ":1:13: invalid literal" },
	{ "lit-nul", T("{\"enabled\": nul}"), ":1:13: invalid literal" },
	{ "lit-True", T("{\"enabled\": True}"), ":1:13: invalid literal" },
	{ "trailing-comma-object", T("{\"enabled\": true,}"), ":1:17: trailing comma" },
	{ "trailing-comma-array", T("{\"x\": [1,]}"), ":1:9: trailing comma" },
	{ "leading-comma", T("{\"x\": [,1]}"), ":1:8: expected a value" },
	{ "missing-colon", T("{\"a\" 1}"), ":1:6: expected ':'" },
	{ "double-colon", T("{\"a\"::1}"), ":1:6: expected a value" },
	{ "raw-tab", T("{\"service\": \"a\tb\"}"), ":1:15: control character in string" },
	{ "raw-newline", T("{\"service\": \"a\nb\"}"), ":1:15: control character in string" },
	{ "second-line", T("{\n  \"enabled\": tru\n}\n"), ":2:14: invalid literal" },
	{ "invalid-utf8", T("{\"service\": \"\xc3\x28\"}"), ":1:14: invalid UTF-8" },
	{ "overlong-utf8", T("{\"service\": \"\xc0\xaf\"}"), ":1:14: invalid UTF-8" },
	{ "utf8-surrogate", T("{\"service\": \"\xed\xa0\x80\"}"), ":1:14: invalid UTF-8" },
	{ "lone-surrogate", T("{\"service\": \"\\ud800\"}"), ":1:14: lone surrogate escape" },
	{ "lone-low-surrogate", T("{\"service\": \"\\udfff\"}"), ":1:14: lone surrogate escape" },
	{ "bad-escape", T("{\"service\": \"\\x41\"}"), ":1:14: invalid escape" },
	{ "nul-after", T("{\"enabled\": true}\0"), ":1:18: NUL byte" },
	{ "nul-inside", T("{\"enabled\":\0 true}"), ":1:12: NUL byte" },
	{ "nul-in-string", T("{\"service\": \"a\0\"}"), ":1:15: NUL byte" },
	{ "second-value", T("{} {}"), ":1:4: unexpected data after the value" },
	{ "second-value-line", T("{}\n[]\n"), ":2:1: unexpected data after the value" },
	{ "empty", T(""), ":1:1: empty document" },
	{ "whitespace-only", T(" \n\t\n"), ":3:1: empty document" },
	{ "unclosed", T("{\"enabled\": true"), ":1:17: unexpected end of text" },
	{ "bom", T("\xef\xbb\xbf{}"), ":1:1: byte order mark" },
	/* schema: file: key.path: what */
	{ "top-array", T("[]"), ": expected an object at the top level" },
	{ "top-string", T("\"x\""), ": expected an object at the top level" },
	{ "unknown-key", T("{\"enabeld\": true}"), ": enabeld: unknown key" },
	{ "unknown-nested", T("{\"tls\": {\"pinn\": \"x\"}}"), ": tls.pinn: unknown key" },
	{ "unknown-escaped", T("{\"enable\\u0064x\": true}"), ": enable\\u0064x: unknown key" },
	{ "dup-top", T("{\"service\": \"a\", \"service\": \"b\"}"), ": service: duplicate key" },
	{ "dup-escaped", T("{\"service\": \"a\", \"servic\\u0065\": \"b\"}"),
	  ": servic\\u0065: duplicate key" },
	{ "dup-nested", T("{\"id\": {\"host\": \"a\", \"host\": \"a\"}}"), ": id.host: duplicate key" },
	{ "dup-feature", T("{\"enabledFeatures\": {\"api\": {\"x\": true, \"x\": false}}}"),
	  ": enabledFeatures.api.x: duplicate key" },
	{ "dup-feature-object", T("{\"enabledFeatures\": {\"a\": {}, \"b\": true, \"a\": {}}}"),
	  ": enabledFeatures.a: duplicate key" },
	{ "type-enabled", T("{\"enabled\": \"yes\"}"), ": enabled: expected true or false" },
	{ "type-enabled-null", T("{\"enabled\": null}"), ": enabled: expected true or false" },
	{ "type-service", T("{\"service\": 1}"), ": service: expected a string" },
	{ "type-endpoint", T("{\"endpoint\": [\"https://x\"]}"), ": endpoint: expected a string" },
	{ "type-id", T("{\"id\": \"butler\"}"), ": id: expected an object" },
	{ "type-tls", T("{\"tls\": []}"), ": tls: expected an object" },
	{ "type-envelope", T("{\"envelope\": 0}"), ": envelope: expected true or false" },
	{ "type-features", T("{\"enabledFeatures\": []}"), ": enabledFeatures: expected an object" },
	{ "type-interval", T("{\"interval\": 12}"), ": interval: expected a string" },
	{ "feature-number",
	  T("{\"enabledFeatures\": {\"api\": {\"scheduler\": {\"getSchedule\": 1}}}}"),
	  ": enabledFeatures.api.scheduler.getSchedule: expected true, false or an object" },
	{ "feature-string", T("{\"enabledFeatures\": {\"a\": \"true\"}}"),
	  ": enabledFeatures.a: expected true, false or an object" },
	{ "feature-null", T("{\"enabledFeatures\": {\"a\": null}}"),
	  ": enabledFeatures.a: expected true, false or an object" },
	{ "feature-array", T("{\"enabledFeatures\": {\"a\": [true]}}"),
	  ": enabledFeatures.a: expected true, false or an object" },
	{ "feature-key-space", T("{\"enabledFeatures\": {\"api\": {\"bad key\": true}}}"),
	  ": enabledFeatures.api.bad key: invalid key" },
	{ "feature-key-empty", T("{\"enabledFeatures\": {\"\": true}}"), ": enabledFeatures.: invalid key" },
	{ "feature-key-escape", T("{\"enabledFeatures\": {\"a\\u0062\": true}}"),
	  ": enabledFeatures.a\\u0062: invalid key" },
	{ "feature-key-utf8", T("{\"enabledFeatures\": {\"caf\xc3\xa9\": true}}"),
	  ": enabledFeatures.caf\xc3\xa9: invalid key" },
	{ "feature-key-65",
	  T("{\"enabledFeatures\": {\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": true}}"),
	  ": enabledFeatures.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...: invalid key" },
	{ "feature-too-deep",
	  T("{\"enabledFeatures\": {\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\": true}}}}}}}}}}"),
	  ": enabledFeatures.a.b.c.d.e.f.g.h.i: nested deeper than 8 levels" },
	{ "service-space", T("{\"service\": \"my service\"}"), ": service: expected 1 to 64 of" },
	{ "service-slash", T("{\"service\": \"a/b\"}"), ": service: expected 1 to 64 of" },
	{ "service-empty", T("{\"service\": \"\"}"), ": service: expected 1 to 64 of" },
	{ "service-unicode", T("{\"service\": \"\\u00e9\"}"), ": service: expected 1 to 64 of" },
	{ "service-65",
	  T("{\"service\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"),
	  ": service: expected 1 to 64 of" },
	{ "service-version-bad", T("{\"serviceVersion\": \"5.1.0 beta\"}"),
	  ": serviceVersion: expected 1 to 64 of" },
	{ "runtime-version-bad", T("{\"runtimeVersion\": \"v14\\n\"}"),
	  ": runtimeVersion: expected 1 to 64 of" },
	{ "format-bad", T("{\"format\": \"Butler\"}"),
	  ": format: expected \"butler\", \"posthog\" or \"otlp\"" },
	/* headers: check -H's rules; an error names the header, never shows the value */
	{ "headers-type", T("{\"headers\": [\"X-A: b\"]}"), ": headers: expected an object" },
	{ "headers-number", T("{\"headers\": {\"X-A\": 1}}"), ": headers.X-A: expected a string" },
	{ "headers-object", T("{\"headers\": {\"X-A\": {}}}"), ": headers.X-A: expected a string" },
	{ "headers-name-space", T("{\"headers\": {\"X A\": \"v\"}}"),
	  ": headers.X A: expected a header name (an RFC 9110 token, as written) and a value without "
	  "control characters" },
	{ "headers-name-colon", T("{\"headers\": {\"X:A\": \"v\"}}"), ": headers.X:A: expected a header name" },
	{ "headers-name-empty", T("{\"headers\": {\"\": \"v\"}}"), ": headers.: expected a header name" },
	{ "headers-name-escape", T("{\"headers\": {\"X\\u002dA\": \"v\"}}"),
	  ": headers.X\\u002dA: expected a header name" },
	{ "headers-name-utf8", T("{\"headers\": {\"X-\xc3\xa9\": \"v\"}}"), ": headers.X-\xc3\xa9: expected a header name" },
	{ "headers-value-crlf", T("{\"headers\": {\"X-A\": \"a\\r\\nX-B: b\"}}"),
	  ": headers.X-A: expected a header name (an RFC 9110 token, as written) and a value without "
	  "control characters" },
	{ "headers-value-lf", T("{\"headers\": {\"X-A\": \"a\\n\"}}"), ": headers.X-A: expected a header name" },
	{ "headers-value-del", T("{\"headers\": {\"X-A\": \"a\\u007f\"}}"), ": headers.X-A: expected a header name" },
	{ "headers-value-nul", T("{\"headers\": {\"X-A\": \"a\\u0000\"}}"),
	  ": headers.X-A: contains a NUL character (\\u0000)" },
	{ "headers-host", T("{\"headers\": {\"host\": \"h\"}}"),
	  ": headers.host: the Host header is anontel's to write (refused)" },
	{ "headers-content-length", T("{\"headers\": {\"Content-length\": \"1\"}}"),
	  ": headers.Content-length: the Content-Length header is anontel's to write (refused)" },
	{ "headers-transfer-encoding", T("{\"headers\": {\"Transfer-Encoding\": \"chunked\"}}"),
	  ": headers.Transfer-Encoding: the Transfer-Encoding header is anontel's to write" },
	{ "headers-connection", T("{\"headers\": {\"CONNECTION\": \"keep-alive\"}}"),
	  ": headers.CONNECTION: the Connection header is anontel's to write" },
	{ "headers-upgrade", T("{\"headers\": {\"Upgrade\": \"h2c\"}}"),
	  ": headers.Upgrade: the Upgrade header is anontel's to write" },
	{ "headers-te", T("{\"headers\": {\"te\": \"trailers\"}}"), ": headers.te: the TE header is anontel's to write" },
	{ "headers-trailer", T("{\"headers\": {\"Trailer\": \"X\"}}"),
	  ": headers.Trailer: the Trailer header is anontel's to write" },
	{ "headers-date", T("{\"headers\": {\"date\": \"x\"}}"),
	  ": headers.date: the Date header is anontel's to write (refused)" },
	{ "headers-content-type", T("{\"headers\": {\"Content-Type\": \"text/plain\"}}"),
	  ": headers.Content-Type: the Content-Type header is anontel's to write" },
	{ "headers-user-agent", T("{\"headers\": {\"User-Agent\": \"x\"}}"),
	  ": headers.User-Agent: the User-Agent header is anontel's to write" },
	{ "headers-dup", T("{\"headers\": {\"X-A\": \"1\", \"X-A\": \"2\"}}"),
	  ": headers.X-A: duplicate header (names are case-insensitive)" },
	{ "headers-dup-case", T("{\"headers\": {\"Authorization\": \"1\", \"x-b\": \"\", \"authorization\": \"2\"}}"),
	  ": headers.authorization: duplicate header (names are case-insensitive)" },
	{ "scheme-unknown", T("{\"id\": {\"scheme\": \"sha1\"}}"),
	  ": id.scheme: expected \"auto\", \"butler\", \"machine-id\", \"random\", \"fixed\" or "
	  "\"none\"" },
	{ "scheme-bad", T("{\"id\": {\"scheme\": \"mac\"}}"), ": id.scheme: expected \"auto\"" },
	{ "scheme-auto-case", T("{\"id\": {\"scheme\": \"Auto\"}}"), ": id.scheme: expected \"auto\"" },
	{ "scheme-auto-space", T("{\"id\": {\"scheme\": \"auto \"}}"), ": id.scheme: expected \"auto\"" },
	{ "host-bad", T("{\"id\": {\"host\": \"a b\"}}"), ": id.host: expected a host name" },
	{ "host-empty", T("{\"id\": {\"host\": \"\"}}"), ": id.host: expected a host name" },
	{ "appid-short", T("{\"id\": {\"appId\": \"0123456789abcdef0123456789abcde\"}}"),
	  ": id.appId: expected 32 hex digits or a UUID" },
	{ "appid-nonhex", T("{\"id\": {\"appId\": \"0123456789abcdef0123456789abcdeg\"}}"),
	  ": id.appId: expected 32 hex digits or a UUID" },
	{ "appid-dashes-wrong", T("{\"id\": {\"appId\": \"01234567-89ab-cdef0-123-456789abcdef\"}}"),
	  ": id.appId: expected 32 hex digits or a UUID" },
	{ "interval-zero", T("{\"interval\": \"0s\"}"), ": interval: invalid duration" },
	{ "interval-unit", T("{\"interval\": \"5x\"}"), ": interval: invalid duration" },
	{ "interval-fraction", T("{\"interval\": \"1.5h\"}"), ": interval: invalid duration" },
	{ "timeout-long", T("{\"timeout\": \"366d\"}"), ": timeout: invalid duration" },
	{ "state-dir-relative", T("{\"stateDir\": \"var/lib\"}"), ": stateDir: expected an absolute path" },
	{ "state-dir-nul", T("{\"stateDir\": \"/a\\u0000b\"}"), ": stateDir: contains a NUL character" },
	{ "state-dir-control", T("{\"stateDir\": \"/a\\nb\"}"),
	  ": stateDir: must not contain control characters" },
	{ "ca-file-empty", T("{\"tls\": {\"caFile\": \"\"}}"), ": tls.caFile: must not be empty" },
	{ "pin-short", T("{\"tls\": {\"pin\": \"sha256//AAAA\"}}"), ": tls.pin: expected sha256//" },
	{ "pin-prefix", T("{\"tls\": {\"pin\": \"sha1//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"}}"),
	  ": tls.pin: expected sha256//" },
	{ "pin-noncanonical",
	  T("{\"tls\": {\"pin\": \"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=\"}}"),
	  ": tls.pin: expected sha256//" },
	{ "pin-bad-char",
	  T("{\"tls\": {\"pin\": \"sha256//47DEQpj8HBSa-/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"}}"),
	  ": tls.pin: expected sha256//" },
	{ "endpoint-space", T("{\"endpoint\": \"https://a b\"}"),
	  ": endpoint: must not contain spaces or control characters" },
	{ "endpoint-empty", T("{\"endpoint\": \"\"}"), ": endpoint: must not be empty" },
	{ "proxy-control", T("{\"proxy\": \"http://p\\r\\n\"}"), ": proxy: must not contain control" },
	{ "api-key-bad", T("{\"posthog\": {\"apiKey\": \"phc key\"}}"), ": posthog.apiKey: expected 1 to 128" },
	{ "event-control", T("{\"posthog\": {\"event\": \"a\\u0001\"}}"),
	  ": posthog.event: expected 1 to 128 printable ASCII" },
	{ "event-empty", T("{\"posthog\": {\"event\": \"\"}}"),
	  ": posthog.event: expected 1 to 128 printable ASCII" },
	{ "event-unicode", T("{\"posthog\": {\"event\": \"caf\xc3\xa9\"}}"),
	  ": posthog.event: expected 1 to 128 printable ASCII" },
	/* The format's own check (msg_check), once the file is read. */
	{ "posthog-no-key", T("{\"format\": \"posthog\"}"),
	  ": posthog.apiKey: required when \"format\" is \"posthog\"" },
	{ "posthog-names-clash", T("{\"format\": \"posthog\", \"posthog\": {\"apiKey\": \"k\"}, "
	    "\"enabledFeatures\": {\"a_b\": true, \"a\": {\"b\": false}}}"),
	  ": enabledFeatures: two features give the PostHog property feature_a_b" },
};

static void
test_refused(void)
{
	clear_env();
	for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
		const struct bad_row *r = &bad_rows[i];
		int rc = load(r->text, r->len, NULL);
		CHECKF(rc == -1, "%s: accepted", r->name);
		CHECKF(starts_with(err, path, r->want), "%s: got \"%s\", want \"%s%s...\"", r->name, err,
		    path, r->want);
		CHECKF(strchr(err, '\n') == NULL, "%s: message has a newline", r->name);
	}
}

static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t lh = strlen(head), lu = strlen(unit), lt = strlen(tail);
	char *s = malloc(lh + lu * n + lt + 1);
	char *o = s;

	memcpy(o, head, lh);
	o += lh;
	for (size_t i = 0; i < n; i++, o += lu)
		memcpy(o, unit, lu);
	memcpy(o, tail, lt + 1);
	return s;
}

static void
test_deep_nesting(void)
{
	char *s = repeat("", "[", 100000, "");

	clear_env();
	CHECK(load(s, strlen(s), NULL) == -1);
	CHECK(starts_with(err, path, ":1:65: nesting too deep"));
	free(s);
	s = repeat("{\"x\": ", "[", 100000, "");
	CHECK(load(s, strlen(s), NULL) == -1);
	CHECK(starts_with(err, path, ":1:70: nesting too deep"));
	free(s);
}

static void
test_too_many_values(void)
{
	char *s = repeat("{\"x\": [0", ",0", 9000, "]}");

	clear_env();
	CHECK(load(s, strlen(s), NULL) == -1);
	CHECK_STR(err + strlen(path), ": more than 8192 JSON values", "9000 values");
	free(s);
}

static void
test_sizes(void)
{
	char *s;
	int fd;

	clear_env();
	/* 10 MiB, sparse */
	write_config("", 0);
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0 && ftruncate(fd, 10 * 1024 * 1024) == 0);
	close(fd);
	{
		struct cfg_flags fl = { path, NULL, NULL };
		CHECK(cfg_load(&C, &fl, scratch, err, sizeof err) == -1);
	}
	CHECK_STR(err + strlen(path), ": larger than 262144 bytes", "10 MiB");
	CHECK(strncmp(err, path, strlen(path)) == 0);

	/* Exactly the limit passes; one byte more does not. */
	s = malloc(CFG_MAX_FILE + 2);
	memset(s, ' ', CFG_MAX_FILE + 1);
	memcpy(s, "{\"service\": \"big\"}", 18);
	CHECKF(load(s, CFG_MAX_FILE, NULL) == 0, "limit refused: %s", err);
	CHECK_STR(C.service, "big", "service of a full-size file");
	CHECK(load(s, CFG_MAX_FILE + 1, NULL) == -1);
	CHECK_STR(err + strlen(path), ": larger than 262144 bytes", "limit + 1");
	free(s);
}

static void
test_file_errors(void)
{
	struct cfg_flags fl = { 0 };
	char p[256];

	clear_env();
	write_config("{}", 2);  /* makes dir */
	strcpy(p, dir);
	strcat(p, "/missing.json");
	fl.config = p;
	CHECK(cfg_load(&C, &fl, scratch, err, sizeof err) == -1);
	CHECK(starts_with(err, p, ": cannot open: "));
	CHECKF(strstr(err, strerror(ENOENT)) != NULL, "%s", err);

	/* ANONTEL_CONFIG naming a missing file is an error too. */
	setenv("ANONTEL_CONFIG", p, 1);
	CHECK(cfg_load(&C, NULL, scratch, err, sizeof err) == -1);
	CHECK(starts_with(err, p, ": cannot open: "));
	unsetenv("ANONTEL_CONFIG");

	fl.config = dir;
	CHECK(cfg_load(&C, &fl, scratch, err, sizeof err) == -1);
	CHECK(starts_with(err, dir, ": not a regular file"));

	/* A FIFO is refused without blocking on open. */
	CHECK(mkfifo(p, 0600) == 0);
	fl.config = p;
	CHECK(cfg_load(&C, &fl, scratch, err, sizeof err) == -1);
	CHECK(starts_with(err, p, ": not a regular file"));
	unlink(p);

	fl.config = "";
	CHECK(cfg_load(&C, &fl, scratch, err, sizeof err) == -1);

	/* A tiny err buffer truncates but never overflows. */
	{
		char small[8];
		fl.config = dir;
		CHECK(cfg_load(&C, &fl, scratch, small, sizeof small) == -1);
		CHECK(strlen(small) < sizeof small);
		CHECK(cfg_load(&C, &fl, scratch, NULL, 0) == -1);
	}
}

/* Writes text to DIR/name and returns its path (in a static buffer per name slot). */
static const char *
write_other(const char *name, const char *text)
{
	static char paths[2][160];
	char *p = paths[strcmp(name, "headers.json") == 0];
	int fd;

	write_config("{}", 2);     /* makes DIR */
	snprintf(p, sizeof paths[0], "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return p;
}

/* The config's headers: lines in file order, values decoded, names as written. */
static void
test_headers(void)
{
	char names[256];
	struct buf b;

	clear_env();
	CHECKF(load_str("{\"headers\": {\"Authorization\": \"Bearer s3cr\\u0065t\", "
	                "\"X-Scope-OrgID\"  :   \"tenant\\t1 caf\xc3\xa9\", \"X-Empty\": \"\", "
	                "\"x!#$%&'*+-.^_`|~0\": \"\\\"q\\\"\"}, \"service\": \"after\"}") == 0,
	    "refused: %s", err);
	CHECK(C.n_headers == 4);
	CHECK_STR(C.headers[0], "Authorization: Bearer s3cret", "escape decoded");
	CHECK_STR(C.headers[1], "X-Scope-OrgID: tenant\t1 caf\xc3\xa9", "tab and UTF-8 kept");
	CHECK_STR(C.headers[2], "X-Empty: ", "empty value");
	CHECK_STR(C.headers[3], "x!#$%&'*+-.^_`|~0: \"q\"", "every tchar");
	CHECK_STR(C.service, "after", "keys after headers still read");
	CHECK(C.headers_from == C.file);
	buf_init(&b, names, sizeof names);
	cfg_header_names(&C, &b);
	CHECK_STR(names, "Authorization, X-Scope-OrgID, X-Empty, x!#$%&'*+-.^_`|~0", "names only");
	CHECK(load_str("{}") == 0 && C.n_headers == 0);
	buf_init(&b, names, sizeof names);
	cfg_header_names(&C, &b);
	CHECK_STR(names, "", "no names");

	/* No error line shows a value: it may be a secret. */
	CHECK(load_str("{\"headers\": {\"X-Key\": \"s3cret\\r\\n\"}}") == -1);
	CHECKF(strstr(err, "s3cret") == NULL && strstr(err, "X-Key") != NULL, "%s", err);
	CHECK(load_str("{\"headers\": {\"Host\": \"s3cret\"}}") == -1);
	CHECKF(strstr(err, "s3cret") == NULL, "%s", err);

	/* At most 16, CFG_HEADERS_MAX bytes in all. */
	{
		static char text[16384];
		size_t n = 0;

		n += (size_t)snprintf(text + n, sizeof text - n, "{\"headers\": {");
		for (int i = 0; i < 17; i++)
			n += (size_t)snprintf(text + n, sizeof text - n, "%s\"X-%d\": \"v\"",
			    i ? ", " : "", i);
		snprintf(text + n, sizeof text - n, "}}");
		CHECK(load_str(text) == -1);
		CHECKF(starts_with(err, path, ": headers.X-16: more than 16 headers"), "%s", err);
		/* 16 lines of 512 bytes ("X-nn: " + 504 + CRLF) fill 8192 exactly. */
		n = (size_t)snprintf(text, sizeof text, "{\"headers\": {");
		for (int i = 10; i < 26; i++) {
			n += (size_t)snprintf(text + n, sizeof text - n, "%s\"X-%d\": \"", i > 10 ? ", " : "",
			    i);
			memset(text + n, 'v', 504);
			n += 504;
			text[n++] = '"';
		}
		snprintf(text + n, sizeof text - n, "}}");
		CHECKF(load_str(text) == 0, "8192 bytes refused: %s", err);
		CHECK(C.n_headers == 16 && strlen(C.headers[15]) == 510);
		memmove(text + 25, text + 24, strlen(text + 24) + 1);   /* one more byte */
		text[24] = 'v';
		CHECK(load_str(text) == -1);
		CHECKF(starts_with(err, path, ": headers.X-25: the headers take more than 8192 bytes"),
		    "%s", err);
	}
}

/* ANONTEL_SERVICE, ANONTEL_SERVICE_VERSION, ANONTEL_FORMAT: over the file, checked
 * as the file's values are. */
static void
test_env_inputs(void)
{
	const char *file = "{\"service\": \"file\", \"serviceVersion\": \"1.0\", "
	                   "\"format\": \"posthog\", \"posthog\": {\"apiKey\": \"phc_k\"}}";

	clear_env();
	CHECK(load_str(file) == 0);
	CHECK_STR(C.service, "file", "file service");
	CHECK(C.format == CFG_FORMAT_POSTHOG);
	setenv("ANONTEL_SERVICE", "env-svc_1.x+y", 1);
	setenv("ANONTEL_SERVICE_VERSION", "2.0.0-rc.1", 1);
	setenv("ANONTEL_FORMAT", "otlp", 1);
	CHECKF(load_str(file) == 0, "%s", err);
	CHECK_STR(C.service, "env-svc_1.x+y", "env service");
	CHECK_STR(C.service_version, "2.0.0-rc.1", "env version");
	CHECK(C.format == CFG_FORMAT_OTLP);
	/* Without a file: env over the defaults. */
	if (access("/etc/anontel/config.json", F_OK) != 0) {
		CHECKF(cfg_load(&C, NULL, scratch, err, sizeof err) == 0, "no file: %s", err);
		CHECK(C.file[0] == '\0' && C.format == CFG_FORMAT_OTLP);
		CHECK_STR(C.service, "env-svc_1.x+y", "env service, no file");
		/* posthog from the environment still needs its key, and says so without a file name. */
		setenv("ANONTEL_FORMAT", "posthog", 1);
		CHECK(cfg_load(&C, NULL, scratch, err, sizeof err) == -1);
		CHECK_STR(err, "posthog.apiKey: required when \"format\" is \"posthog\"", "no file");
	}
	/* Empty is unset. */
	setenv("ANONTEL_SERVICE", "", 1);
	setenv("ANONTEL_FORMAT", "", 1);
	CHECK(load_str(file) == 0);
	CHECK_STR(C.service, "file", "empty ANONTEL_SERVICE");
	CHECK(C.format == CFG_FORMAT_POSTHOG);
	{
		static const struct {
			const char *var, *value, *want;
		} bad[] = {
			{ "ANONTEL_SERVICE", "my service", "ANONTEL_SERVICE: expected 1 to 64 of A-Z a-z 0-9 _ . + -" },
			{ "ANONTEL_SERVICE", "a/b", "ANONTEL_SERVICE: expected 1 to 64 of A-Z a-z 0-9 _ . + -" },
			{ "ANONTEL_SERVICE", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			  "ANONTEL_SERVICE: expected 1 to 64 of A-Z a-z 0-9 _ . + -" },
			{ "ANONTEL_SERVICE_VERSION", "5.1\n", "ANONTEL_SERVICE_VERSION: expected 1 to 64 of A-Z a-z 0-9 _ . + -" },
			{ "ANONTEL_SERVICE_VERSION", "caf\xc3\xa9", "ANONTEL_SERVICE_VERSION: expected 1 to 64 of A-Z a-z 0-9 _ . + -" },
			{ "ANONTEL_FORMAT", "OTLP", "ANONTEL_FORMAT: expected \"butler\", \"posthog\" or \"otlp\"" },
			{ "ANONTEL_FORMAT", "otlp ", "ANONTEL_FORMAT: expected \"butler\", \"posthog\" or \"otlp\"" },
		};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			clear_env();
			setenv(bad[i].var, bad[i].value, 1);
			CHECKF(load_str(file) == -1, "%s=%s accepted", bad[i].var, bad[i].value);
			CHECK_STR(err, bad[i].want, bad[i].var);
		}
	}
	clear_env();
	/* The 64-byte edge is fine. */
	setenv("ANONTEL_SERVICE", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1);
	CHECK(load_str(file) == 0 && strlen(C.service) == 64);
	clear_env();
}

/* ANONTEL_FEATURES_FILE: the enabledFeatures shape, the same parser and schema;
 * replaces the config's features. */
static void
test_features_file(void)
{
	static const struct {
		const char *name, *text, *want;    /* want: after "PATH" */
	} bad[] = {
		{ "syntax", "{\"api\": tru}", ":1:9: invalid literal" },
		{ "second line", "{\n  \"a\": true,\n}", ":2:12: trailing comma" },
		{ "empty", "", ":1:1: empty document" },
		{ "array", "[true]", ": expected an object" },
		{ "string leaf", "{\"api\": {\"x\": \"yes\"}}", ": api.x: expected true, false or an object" },
		{ "bad key", "{\"api\": {\"bad key\": true}}", ": api.bad key: invalid key" },
		{ "dup key", "{\"a\": true, \"a\": false}", ": a: duplicate key" },
		{ "too deep", "{\"1\":{\"2\":{\"3\":{\"4\":{\"5\":{\"6\":{\"7\":{\"8\":{\"9\":true}}}}}}}}}",
		  ": 1.2.3.4.5.6.7.8.9: nested deeper than 8 levels" },
		{ "nul", "{\"a\": true}\\u0000", ":1:12: unexpected data after the value" },
	};
	const char *ff;

	clear_env();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ff = write_other("features.json", bad[i].text);
		setenv("ANONTEL_FEATURES_FILE", ff, 1);
		CHECKF(load_str("{\"enabledFeatures\": {\"cfg\": true}}") == -1, "%s: accepted",
		    bad[i].name);
		CHECKF(starts_with(err, ff, bad[i].want), "%s: got \"%s\", want \"%s%s\"", bad[i].name,
		    err, ff, bad[i].want);
	}
	/* Read: the config's features are replaced, in the file's order. */
	ff = write_other("features.json", "{\"api\": {\"butlerping\": true, \"x\": {}},\n \"beta\": false}");
	setenv("ANONTEL_FEATURES_FILE", ff, 1);
	CHECKF(load_str("{\"service\": \"s\", \"enabledFeatures\": {\"cfg\": true, \"more\": {\"a\": true}}}") == 0,
	    "%s", err);
	CHECK(C.n_features == 4);
	CHECK_STR(C.features[0].key, "api", "0");
	CHECK_STR(C.features[1].key, "butlerping", "1");
	CHECK(C.features[1].depth == 2 && C.features[1].kind == CFG_FEATURE_TRUE);
	CHECK_STR(C.features[2].key, "x", "2");
	CHECK(C.features[2].kind == CFG_FEATURE_OBJECT);
	CHECK_STR(C.features[3].key, "beta", "3");
	CHECK(C.features[3].depth == 1 && C.features[3].kind == CFG_FEATURE_FALSE);
	CHECK(C.features_from == getenv("ANONTEL_FEATURES_FILE"));
	CHECK_STR(C.service, "s", "the config's other keys stay");
	/* With no config file at all. */
	if (access("/etc/anontel/config.json", F_OK) != 0) {
		CHECKF(cfg_load(&C, NULL, scratch, err, sizeof err) == 0, "%s", err);
		CHECK(C.n_features == 4 && strcmp(C.features[3].key, "beta") == 0);
	}
	/* PostHog's flattening is checked on these features, naming their file. */
	ff = write_other("features.json", "{\"a_b\": true, \"a\": {\"b\": false}}");
	CHECK(load_str("{\"format\": \"posthog\", \"posthog\": {\"apiKey\": \"k\"}}") == -1);
	CHECKF(starts_with(err, ff, ": enabledFeatures: two features give the PostHog property feature_a_b"),
	    "%s", err);
	/* Missing, not regular, empty variable. */
	setenv("ANONTEL_FEATURES_FILE", "/nonexistent/features.json", 1);
	CHECK(load_str("{}") == -1);
	CHECK(starts_with(err, "/nonexistent/features.json", ": cannot open: "));
	setenv("ANONTEL_FEATURES_FILE", dir, 1);
	CHECK(load_str("{}") == -1);
	CHECK(starts_with(err, dir, ": not a regular file"));
	setenv("ANONTEL_FEATURES_FILE", "", 1);
	CHECK(load_str("{\"enabledFeatures\": {\"cfg\": true}}") == 0 && C.n_features == 1);
	clear_env();
}

/* ANONTEL_HEADERS_FILE: the headers shape; replaces the config's headers. The config
 * file, the features file and it share cfg.text. */
static void
test_headers_file(void)
{
	const char *hf, *ff;
	char *big;

	clear_env();
	hf = write_other("headers.json", "{\"Authorization\": \"Bearer t0k\"}");
	setenv("ANONTEL_HEADERS_FILE", hf, 1);
	CHECKF(load_str("{\"headers\": {\"X-Cfg\": \"1\", \"X-Cfg2\": \"2\"}}") == 0, "%s", err);
	CHECK(C.n_headers == 1);
	CHECK_STR(C.headers[0], "Authorization: Bearer t0k", "from the file");
	CHECK(C.headers_from == getenv("ANONTEL_HEADERS_FILE"));
	hf = write_other("headers.json", "{\"Authorization\": \"Bearer t0k\\r\\n\"}");
	CHECK(load_str("{}") == -1);
	CHECKF(starts_with(err, hf, ": Authorization: expected a header name") &&
	    strstr(err, "t0k") == NULL, "%s", err);
	hf = write_other("headers.json", "{\"Host\": \"x\"}");
	CHECK(load_str("{}") == -1);
	CHECK(starts_with(err, hf, ": Host: the Host header is anontel's to write (refused)"));
	hf = write_other("headers.json", "{\"A\": \"1\",}");
	CHECK(load_str("{}") == -1);
	CHECK(starts_with(err, hf, ":1:10: trailing comma"));
	hf = write_other("headers.json", "[]");
	CHECK(load_str("{}") == -1);
	CHECK(starts_with(err, hf, ": expected an object"));
	/* Both files at once, after a config file; features and header lines all stay. */
	ff = write_other("features.json", "{\"f\": true}");
	setenv("ANONTEL_FEATURES_FILE", ff, 1);
	hf = write_other("headers.json", "{\"X-T\": \"v\"}");
	CHECK(load_str("{\"enabledFeatures\": {\"g\": false}, \"headers\": {\"X-C\": \"c\"}}") == 0);
	CHECK(C.n_features == 1 && strcmp(C.features[0].key, "f") == 0);
	CHECK(C.n_headers == 1 && strcmp(C.headers[0], "X-T: v") == 0);
	/* A full-size config file leaves no room for the others. */
	big = malloc(CFG_MAX_FILE + 1);
	memset(big, ' ', CFG_MAX_FILE);
	memcpy(big, "{}", 2);
	CHECK(load(big, CFG_MAX_FILE, NULL) == -1);
	CHECKF(starts_with(err, ff, ": larger than 0 bytes (what the config file leaves of 262144)"),
	    "%s", err);
	unsetenv("ANONTEL_FEATURES_FILE");
	/* The headers file holds 12 bytes, and takes its NUL's room after the config's. */
	CHECK(load(big, CFG_MAX_FILE - 12, NULL) == -1);
	CHECKF(starts_with(err, hf, ": larger than 11 bytes (what the config file leaves"), "%s", err);
	CHECKF(load(big, CFG_MAX_FILE - 13, NULL) == 0, "%s", err);
	CHECK(C.n_headers == 1 && strcmp(C.headers[0], "X-T: v") == 0);
	free(big);
	clear_env();
}

/* ---- accepted files ---- */

static const char butler_features[] =
    "{\"enabledFeatures\": {\n"
    "  \"api\": {\n"
    "    \"activeUserCount\": true,\n"
    "    \"activeUsers\": true,\n"
    "    \"apiListEnbledEndpoints\": true,\n"
    "    \"base62ToBase16\": true,\n"
    "    \"base16ToBase62\": true,\n"
    "    \"butlerping\": true,\n"
    "    \"createDir\": true,\n"
    "    \"createDirQVD\": true,\n"
    "    \"fileDelete\": true,\n"
    "    \"fileMove\": true,\n"
    "    \"fileCopy\": true,\n"
    "    \"keyValueStore\": true,\n"
    "    \"mqttPublishMessage\": true,\n"
    "    \"scheduler\": {\n"
    "      \"createNewSchedule\": true,\n"
    "      \"getSchedule\": true,\n"
    "      \"getScheduleStatusAll\": true,\n"
    "      \"updateSchedule\": true,\n"
    "      \"deleteSchedule\": true,\n"
    "      \"startSchedule\": true,\n"
    "      \"stopSchedule\": true\n"
    "    },\n"
    "    \"senseAppReload\": true,\n"
    "    \"senseAppDump\": true,\n"
    "    \"senseListApps\": true,\n"
    "    \"senseStartTask\": true,\n"
    "    \"slackPostMessage\": true\n"
    "  },\n"
    "  \"feature\": {\n"
    "    \"heartbeat\": false,\n"
    "    \"dockerHealthCheck\": false,\n"
    "    \"uptimeMonitor\": true,\n"
    "    \"uptimeMonitor_storeInInfluxdb\": false,\n"
    "    \"teamsNotification\": true,\n"
    "    \"teamsNotification_reloadTaskFailure\": true,\n"
    "    \"teamsNotification_reloadTaskAborted\": true,\n"
    "    \"slackNotification\": true,\n"
    "    \"slackNotification_reloadTaskFailure\": true,\n"
    "    \"slackNotification_reloadTaskAborted\": true,\n"
    "    \"emailNotification\": true,\n"
    "    \"emailNotification_reloadTaskFailure\": true,\n"
    "    \"emailNotification_reloadTaskAborted\": true,\n"
    "    \"webhookNotification\": false,\n"
    "    \"webhookNotification_reloadTaskFailure\": false,\n"
    "    \"webhookNotification_reloadTaskAborted\": false,\n"
    "    \"scheduler\": true,\n"
    "    \"mqtt\": true,\n"
    "    \"userActivityLogging\": false\n"
    "  }\n"
    "}}\n";

/* "depth kind key": kind o (object), t, f */
static const char *const butler_expected[] = {
	"1o api", "2t activeUserCount", "2t activeUsers", "2t apiListEnbledEndpoints",
	"2t base62ToBase16", "2t base16ToBase62", "2t butlerping", "2t createDir", "2t createDirQVD",
	"2t fileDelete", "2t fileMove", "2t fileCopy", "2t keyValueStore", "2t mqttPublishMessage",
	"2o scheduler", "3t createNewSchedule", "3t getSchedule", "3t getScheduleStatusAll",
	"3t updateSchedule", "3t deleteSchedule", "3t startSchedule", "3t stopSchedule",
	"2t senseAppReload", "2t senseAppDump", "2t senseListApps", "2t senseStartTask",
	"2t slackPostMessage",
	"1o feature", "2f heartbeat", "2f dockerHealthCheck", "2t uptimeMonitor",
	"2f uptimeMonitor_storeInInfluxdb", "2t teamsNotification",
	"2t teamsNotification_reloadTaskFailure", "2t teamsNotification_reloadTaskAborted",
	"2t slackNotification", "2t slackNotification_reloadTaskFailure",
	"2t slackNotification_reloadTaskAborted", "2t emailNotification",
	"2t emailNotification_reloadTaskFailure", "2t emailNotification_reloadTaskAborted",
	"2f webhookNotification", "2f webhookNotification_reloadTaskFailure",
	"2f webhookNotification_reloadTaskAborted", "2t scheduler", "2t mqtt",
	"2f userActivityLogging",
};

static void
test_butler_features(void)
{
	size_t n = sizeof butler_expected / sizeof butler_expected[0];

	clear_env();
	CHECKF(load_str(butler_features) == 0, "refused: %s", err);
	CHECKF(C.n_features == n, "n_features %zu, want %zu", C.n_features, n);
	for (size_t i = 0; i < n && i < C.n_features; i++) {
		char got[96];
		const struct cfg_feature *f = &C.features[i];
		got[0] = (char)('0' + f->depth);
		got[1] = f->kind == CFG_FEATURE_OBJECT ? 'o' : f->kind == CFG_FEATURE_TRUE ? 't' : 'f';
		got[2] = ' ';
		strcpy(got + 3, f->key);
		CHECKF(strcmp(got, butler_expected[i]) == 0, "entry %zu: got \"%s\", want \"%s\"", i, got,
		    butler_expected[i]);
		/* Keys point into C.text, NUL-terminated in place. */
		CHECK(f->key > C.text && f->key < C.text + sizeof C.text);
	}
}

static void
test_feature_limits(void)
{
	char *s;

	clear_env();
	/* Depth 8 is allowed: eight nested levels, the last a boolean. */
	CHECKF(load_str("{\"enabledFeatures\": {\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\": true}}}}}}}}}") == 0,
	    "depth 8: %s", err);
	CHECK(C.n_features == 8 && C.features[7].depth == 8 && strcmp(C.features[7].key, "h") == 0);
	CHECKF(load_str("{\"enabledFeatures\": {\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\": {}}}}}}}}}}") == 0,
	    "empty object at depth 8: %s", err);

	/* 1024 booleans pass, 1025 do not; keys k0000.. are distinct. */
	for (int total = 1024; total <= 1025; total++) {
		size_t cap = 32 + (size_t)total * 16;
		char *o;
		s = malloc(cap);
		o = s;
		strcpy(o, "{\"enabledFeatures\": {");
		o += strlen(o);
		for (int i = 0; i < total; i++) {
			o[0] = i ? ',' : ' ';
			o[1] = '"';
			o[2] = 'k';
			o[3] = (char)('0' + i / 1000);
			o[4] = (char)('0' + i / 100 % 10);
			o[5] = (char)('0' + i / 10 % 10);
			o[6] = (char)('0' + i % 10);
			memcpy(o + 7, "\":true", 6);
			o += 13;
		}
		strcpy(o, "}}");
		if (total == 1024) {
			CHECKF(load_str(s) == 0, "1024 leaves: %s", err);
			CHECK(C.n_features == 1024 && strcmp(C.features[1023].key, "k1023") == 0);
		} else {
			CHECK(load_str(s) == -1);
			CHECK(starts_with(err, path, ": enabledFeatures.k1024: more than 1024 booleans"));
		}
		free(s);
	}

	/* At most CFG_MAX_FEATURES entries, objects included. */
	s = malloc(32 + 2049 * 12);
	strcpy(s, "{\"enabledFeatures\": {");
	for (int i = 0; i < 2049; i++) {
		char k[16] = ",\"k0000\": {}";
		k[3] = (char)('0' + i / 1000);
		k[4] = (char)('0' + i / 100 % 10);
		k[5] = (char)('0' + i / 10 % 10);
		k[6] = (char)('0' + i % 10);
		strcat(s, i ? k : k + 1);
	}
	strcat(s, "}}");
	CHECK(load_str(s) == -1);
	CHECKF(starts_with(err, path, ": enabledFeatures.k2048: more than 2048 entries"), "%s", err);
	free(s);

	/* Same key under different parents is fine; siblings are compared only. */
	CHECKF(load_str("{\"enabledFeatures\": {\"a\": {\"x\": true}, \"b\": {\"x\": false, \"a\": true}}}") == 0,
	    "cousins: %s", err);
	CHECK(C.n_features == 5);
	CHECKF(load_str("{\"enabledFeatures\": {}}") == 0, "empty: %s", err);
	CHECK(C.n_features == 0);
}

static void
test_full_config(void)
{
	clear_env();
	CHECKF(load_str("{\n"
	                "  \"enabled\": true,\n"
	                "  \"service\": \"butler\",\n"
	                "  \"serviceVersion\": \"5.1.0\",\n"
	                "  \"endpoint\": \"https://telemetry.example.com/api/butlerTelemetry\",\n"
	                "  \"format\": \"posthog\",\n"
	                "  \"envelope\": false,\n"
	                "  \"runtimeVersion\": \"v14.15.4\",\n"
	                "  \"id\": { \"scheme\": \"machine-id\", \"host\": \"sense.example.com\",\n"
	                "          \"appId\": \"E4B1D2C3-0F1A-4B2C-9D8E-7F6A5B4C3D2E\" },\n"
	                "  \"interval\": \"30m\",\n"
	                "  \"timeout\": \"500ms\",\n"
	                "  \"stateDir\": \"/var/lib/anontel\",\n"
	                "  \"tls\": { \"caFile\": \"/etc/ssl/certs/ca-certificates.crt\",\n"
	                "           \"pin\": \"sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\" },\n"
	                "  \"proxy\": \"http://user:pass@proxy.example:3128\",\n"
	                "  \"posthog\": { \"apiKey\": \"phc_abc-DEF_123\", \"event\": \"telemetry sent!\" },\n"
	                "  \"enabledFeatures\": { \"api\": { \"butlerping\": true, \"scheduler\": { \"getSchedule\": true } },\n"
	                "                       \"feature\": { \"heartbeat\": false } }\n"
	                "}\n") == 0,
	    "refused: %s", err);
	CHECK(C.enabled == 1 && C.rule == CFG_RULE_CONFIG_ENABLED);
	CHECK_STR(C.file, path, "file");
	CHECK_STR(C.service, "butler", "service");
	CHECK_STR(C.service_version, "5.1.0", "serviceVersion");
	CHECK_STR(C.runtime_version, "v14.15.4", "runtimeVersion");
	CHECK_STR(C.endpoint, "https://telemetry.example.com/api/butlerTelemetry", "endpoint");
	CHECK(C.format == CFG_FORMAT_POSTHOG && C.envelope == 0);
	CHECK(C.scheme == CFG_SCHEME_MACHINE_ID);
	CHECK_STR(C.id_host, "sense.example.com", "id.host");
	CHECK_STR(C.id_app_id, "e4b1d2c30f1a4b2c9d8e7f6a5b4c3d2e", "id.appId");
	CHECK(C.interval_ms == 30 * 60 * 1000 && C.timeout_ms == 500);
	CHECK_STR(C.state_dir, "/var/lib/anontel", "stateDir");
	CHECK_STR(C.ca_file, "/etc/ssl/certs/ca-certificates.crt", "caFile");
	CHECK_STR(C.pin, "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "pin");
	CHECK_STR(C.proxy, "http://user:pass@proxy.example:3128", "proxy");
	CHECK_STR(C.posthog_api_key, "phc_abc-DEF_123", "apiKey");
	CHECK_STR(C.posthog_event, "telemetry sent!", "event");
	CHECK(C.n_features == 6);

	CHECKF(load_str("{\"id\": {\"scheme\": \"fixed\", \"appId\": \"00112233445566778899AABBCCDDEEFF\"}}") == 0,
	    "fixed: %s", err);
	CHECK(C.scheme == CFG_SCHEME_FIXED);
	CHECK_STR(C.id_app_id, "00112233445566778899aabbccddeeff", "appId 32 hex");
	CHECKF(load_str("{\"id\": {\"host\": \"2001:db8::1\"}}") == 0, "ipv6 host: %s", err);
	CHECK_STR(C.id_host, "2001:db8::1", "ipv6 host");
	CHECKF(load_str("{\"id\": {\"scheme\": \"auto\"}}") == 0, "auto: %s", err);
	CHECK(C.scheme == CFG_SCHEME_AUTO);
	CHECKF(load_str("{\"id\": {\"scheme\": \"butler\"}}") == 0, "butler: %s", err);
	CHECK(C.scheme == CFG_SCHEME_BUTLER);
	CHECKF(load_str("{\"id\": {\"scheme\": \"random\"}}") == 0, "random: %s", err);
	CHECK(C.scheme == CFG_SCHEME_RANDOM);
}

static void
test_defaults(void)
{
	clear_env();
	CHECKF(load_str("{}") == 0, "{}: %s", err);
	CHECK(C.enabled == 1 && C.rule == CFG_RULE_DEFAULT);
	CHECK_STR(C.service, "anontel", "service");
	CHECK_STR(C.service_version, ANONTEL_VERSION, "serviceVersion");
	CHECK_STR(C.runtime_version, "", "runtimeVersion");
	CHECK_STR(C.endpoint, "", "endpoint");
	CHECK(C.format == CFG_FORMAT_BUTLER && C.envelope == 1 && C.scheme == CFG_SCHEME_AUTO);
	CHECK(C.interval_ms == 12ULL * 3600 * 1000 && C.timeout_ms == 5000);
	CHECK_STR(C.posthog_event, "telemetry sent", "event");
	CHECK_STR(C.state_dir, "", "stateDir");
	CHECK(C.n_features == 0);

	/* No file at all: only when the default file is absent on this machine. */
	if (access("/etc/anontel/config.json", F_OK) != 0) {
		CHECKF(cfg_load(&C, NULL, scratch, err, sizeof err) == 0, "no file: %s", err);
		CHECK(C.file[0] == '\0');
		CHECK(C.enabled == 1 && C.rule == CFG_RULE_DEFAULT);
		CHECK_STR(C.service, "anontel", "service without file");
	}

	/* ANONTEL_CONFIG is used when there is no flag; the flag wins over it. */
	write_config("{\"service\": \"fromenv\"}", 22);
	setenv("ANONTEL_CONFIG", path, 1);
	CHECKF(cfg_load(&C, NULL, scratch, err, sizeof err) == 0, "env config: %s", err);
	CHECK_STR(C.file, path, "file from ANONTEL_CONFIG");
	CHECK_STR(C.service, "fromenv", "service from ANONTEL_CONFIG");
	{
		struct cfg_flags fl = { "/nonexistent/anontel.json", NULL, NULL };
		CHECK(cfg_load(&C, &fl, scratch, err, sizeof err) == -1);
		CHECK(strncmp(err, "/nonexistent/anontel.json: cannot open", 38) == 0);
	}
	unsetenv("ANONTEL_CONFIG");
}

static void
test_escapes_decoded(void)
{
	clear_env();
	CHECKF(load_str("{\"stateDir\": \"/var/lib/\\u00e9t\\u00e9\\ud83d\\ude00\", "
	                "\"proxy\": \"http:\\/\\/p:3128\", \"serviceVersion\": \"5\\u002e1\", "
	                "\"endpoint\": \"https://x/\\\"q\\\\\"}") == 0,
	    "refused: %s", err);
	CHECK_STR(C.state_dir, "/var/lib/\xc3\xa9t\xc3\xa9\xf0\x9f\x98\x80", "stateDir decoded");
	CHECK_STR(C.proxy, "http://p:3128", "proxy decoded");
	CHECK_STR(C.service_version, "5.1", "serviceVersion decoded");
	CHECK_STR(C.endpoint, "https://x/\"q\\", "endpoint decoded");
}

/* flag > environment > file > default */
static void
test_precedence(void)
{
	const char *file = "{\"endpoint\": \"https://file/\", \"timeout\": \"7s\", "
	                   "\"stateDir\": \"/file\", \"tls\": {\"caFile\": \"/file.pem\"}}";
	struct cfg_flags fl = { 0 };

	clear_env();
	CHECK(load_str(file) == 0);
	CHECK_STR(C.endpoint, "https://file/", "file endpoint");
	CHECK(C.timeout_ms == 7000);
	CHECK_STR(C.state_dir, "/file", "file stateDir");
	CHECK_STR(C.ca_file, "/file.pem", "file caFile");

	setenv("ANONTEL_ENDPOINT", "https://env/", 1);
	setenv("ANONTEL_STATE_DIR", "/env", 1);
	setenv("SSL_CERT_FILE", "/env.pem", 1);
	setenv("ANONTEL_ID", "fixed-id-0123456789", 1);
	CHECK(load_str(file) == 0);
	CHECK_STR(C.endpoint, "https://env/", "env endpoint");
	CHECK_STR(C.state_dir, "/env", "env stateDir");
	CHECK_STR(C.ca_file, "/env.pem", "env caFile");
	CHECK_STR(C.fixed_id, "fixed-id-0123456789", "ANONTEL_ID");
	CHECK(C.timeout_ms == 7000);

	fl.endpoint = "https://flag/";
	fl.timeout = "250ms";
	CHECK(load(file, strlen(file), &fl) == 0);
	CHECK_STR(C.endpoint, "https://flag/", "flag endpoint");
	CHECK(C.timeout_ms == 250);

	/* Empty environment values count as unset. */
	setenv("ANONTEL_ENDPOINT", "", 1);
	CHECK(load_str(file) == 0);
	CHECK_STR(C.endpoint, "https://file/", "empty env endpoint");

	/* With no file: env over default. */
	setenv("ANONTEL_ENDPOINT", "https://env/", 1);
	CHECK(load_str("{}") == 0);
	CHECK_STR(C.endpoint, "https://env/", "env endpoint, no file key");
	CHECK(C.timeout_ms == 5000);

	/* Bad values from outside the file. */
	fl.endpoint = NULL;
	fl.timeout = "5x";
	CHECK(load("{}", 2, &fl) == -1);
	CHECK_STR(err, "--timeout: invalid duration '5x'", "bad --timeout");
	fl.timeout = "1\n\x01s";
	CHECK(load("{}", 2, &fl) == -1);
	CHECK_STR(err, "--timeout: invalid duration '1\\x0a\\x01s'", "--timeout cleaned");
	fl.timeout = NULL;
	fl.endpoint = "https://a b/";
	CHECK(load("{}", 2, &fl) == -1);
	CHECK(strncmp(err, "--endpoint: ", 12) == 0);
	fl.endpoint = NULL;
	setenv("ANONTEL_STATE_DIR", "relative", 1);
	CHECK(load("{}", 2, &fl) == -1);
	CHECK_STR(err, "ANONTEL_STATE_DIR: expected an absolute path", "relative state dir");
	unsetenv("ANONTEL_STATE_DIR");
	setenv("ANONTEL_ID", "0123456789012345678901234567890123456789012345678901234567890123456789"
	                     "0123456789012345678901234567890123456789012345678901234567890123456789", 1);
	CHECK(load("{}", 2, &fl) == -1);
	CHECK_STR(err, "ANONTEL_ID: longer than 128 bytes", "long ANONTEL_ID");
	clear_env();
}

struct optout_row {
	const char *name;
	const char *anontel_disabled;   /* NULL: unset */
	const char *do_not_track;
	const char *file;
	int enabled;
	enum cfg_rule rule;
};

static const struct optout_row optout_rows[] = {
	{ "nothing", NULL, NULL, "{}", 1, CFG_RULE_DEFAULT },
	{ "dnt-1", NULL, "1", "{}", 0, CFG_RULE_DO_NOT_TRACK },
	{ "dnt-true", NULL, "true", "{}", 0, CFG_RULE_DO_NOT_TRACK },
	{ "dnt-yes", NULL, "yes", "{}", 0, CFG_RULE_DO_NOT_TRACK },
	{ "dnt-space-0", NULL, " 0", "{}", 0, CFG_RULE_DO_NOT_TRACK },
	{ "dnt-0", NULL, "0", "{}", 1, CFG_RULE_DEFAULT },
	{ "dnt-empty", NULL, "", "{}", 1, CFG_RULE_DEFAULT },
	{ "dnt-false", NULL, "false", "{}", 1, CFG_RULE_DEFAULT },
	{ "dnt-FALSE", NULL, "FALSE", "{}", 1, CFG_RULE_DEFAULT },
	{ "dnt-False", NULL, "False", "{}", 1, CFG_RULE_DEFAULT },
	{ "dnt-falsey", NULL, "falsey", "{}", 0, CFG_RULE_DO_NOT_TRACK },
	{ "dnt-fals", NULL, "fals", "{}", 0, CFG_RULE_DO_NOT_TRACK },
	{ "ad-1", "1", NULL, "{}", 0, CFG_RULE_ANONTEL_DISABLED },
	{ "ad-yes", "yes", NULL, "{}", 0, CFG_RULE_ANONTEL_DISABLED },
	{ "ad-0", "0", NULL, "{}", 1, CFG_RULE_DEFAULT },
	{ "ad-empty", "", NULL, "{}", 1, CFG_RULE_DEFAULT },
	{ "ad-false", "false", NULL, "{}", 1, CFG_RULE_DEFAULT },
	{ "ad-FaLsE", "FaLsE", NULL, "{}", 1, CFG_RULE_DEFAULT },
	{ "ad-before-dnt", "1", "1", "{}", 0, CFG_RULE_ANONTEL_DISABLED },
	{ "dnt-when-ad-off", "0", "1", "{}", 0, CFG_RULE_DO_NOT_TRACK },
	{ "file-false", NULL, NULL, "{\"enabled\": false}", 0, CFG_RULE_CONFIG_DISABLED },
	{ "file-true", NULL, NULL, "{\"enabled\": true}", 1, CFG_RULE_CONFIG_ENABLED },
	{ "env-over-file-true", NULL, "1", "{\"enabled\": true}", 0, CFG_RULE_DO_NOT_TRACK },
	{ "env-over-file-false", "1", NULL, "{\"enabled\": false}", 0, CFG_RULE_ANONTEL_DISABLED },
	{ "env-off-file-false", NULL, "0", "{\"enabled\": false}", 0, CFG_RULE_CONFIG_DISABLED },
};

static void
test_optout(void)
{
	for (size_t i = 0; i < sizeof optout_rows / sizeof optout_rows[0]; i++) {
		const struct optout_row *r = &optout_rows[i];
		enum cfg_rule env_rule;

		clear_env();
		if (r->anontel_disabled)
			setenv("ANONTEL_DISABLED", r->anontel_disabled, 1);
		if (r->do_not_track)
			setenv("DO_NOT_TRACK", r->do_not_track, 1);
		CHECKF(load_str(r->file) == 0, "%s: %s", r->name, err);
		CHECKF(C.enabled == r->enabled && C.rule == r->rule, "%s: enabled %d rule %d, want %d %d",
		    r->name, C.enabled, (int)C.rule, r->enabled, (int)r->rule);
		env_rule = cfg_env_optout();
		CHECKF(env_rule == (r->rule == CFG_RULE_ANONTEL_DISABLED || r->rule == CFG_RULE_DO_NOT_TRACK
		                        ? r->rule : CFG_RULE_DEFAULT),
		    "%s: cfg_env_optout %d", r->name, (int)env_rule);
		CHECKF(cfg_rule_text(C.rule) != NULL && cfg_rule_text(C.rule)[0] != '\0', "%s: rule text",
		    r->name);
	}
	clear_env();
	CHECK(cfg_env_says_off(NULL) == 0);
	CHECK_STR(cfg_rule_text(CFG_RULE_DO_NOT_TRACK), "DO_NOT_TRACK is set", "rule text");
}

struct dur_row {
	const char *s;
	int ok;
	uint64_t ms;
};

static const struct dur_row dur_rows[] = {
	{ "500ms", 1, 500 }, { "5s", 1, 5000 }, { "12h", 1, 43200000 }, { "1m", 1, 60000 },
	{ "1d", 1, 86400000 }, { "1ms", 1, 1 }, { "365d", 1, 31536000000ULL },
	{ "8760h", 1, 31536000000ULL }, { "31536000000ms", 1, 31536000000ULL }, { "05s", 1, 5000 },
	{ "", 0, 0 }, { "s", 0, 0 }, { "5", 0, 0 }, { "0s", 0, 0 }, { "0ms", 0, 0 }, { "-5s", 0, 0 },
	{ "+5s", 0, 0 }, { " 5s", 0, 0 }, { "5s ", 0, 0 }, { "5 s", 0, 0 }, { "1.5s", 0, 0 },
	{ "5S", 0, 0 }, { "5sec", 0, 0 }, { "5ss", 0, 0 }, { "5us", 0, 0 }, { "5mss", 0, 0 },
	{ "366d", 0, 0 }, { "31536000001ms", 0, 0 }, { "8761h", 0, 0 },
	{ "99999999999999999999999999s", 0, 0 }, { "18446744073709551617ms", 0, 0 },
};

static void
test_duration(void)
{
	for (size_t i = 0; i < sizeof dur_rows / sizeof dur_rows[0]; i++) {
		uint64_t ms = 777;
		int r = cfg_parse_duration(dur_rows[i].s, &ms);
		CHECKF(r == (dur_rows[i].ok ? 0 : -1), "\"%s\": returned %d", dur_rows[i].s, r);
		CHECKF(dur_rows[i].ok ? ms == dur_rows[i].ms : ms == 777, "\"%s\": %llu ms", dur_rows[i].s,
		    (unsigned long long)ms);
	}
	CHECK(cfg_parse_duration(NULL, NULL) == -1);
}

static const struct check_case cases[] = {
	{ "refused", test_refused },
	{ "deep-nesting", test_deep_nesting },
	{ "too-many-values", test_too_many_values },
	{ "sizes", test_sizes },
	{ "file-errors", test_file_errors },
	{ "butler-features", test_butler_features },
	{ "feature-limits", test_feature_limits },
	{ "full-config", test_full_config },
	{ "defaults", test_defaults },
	{ "escapes-decoded", test_escapes_decoded },
	{ "precedence", test_precedence },
	{ "headers", test_headers },
	{ "env-inputs", test_env_inputs },
	{ "features-file", test_features_file },
	{ "headers-file", test_headers_file },
	{ "optout", test_optout },
	{ "duration", test_duration },
};

CHECK_MAIN(cases)
