/* Unit tests of src/config.c: cfg_load over real files, the environment and flags. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stddef.h>
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
		"ANONTEL_DISABLED", "ANONTEL_ID", "DO_NOT_TRACK", "SSL_CERT_FILE" };
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
	{ "scheme-unknown", T("{\"id\": {\"scheme\": \"sha1\"}}"),
	  ": id.scheme: expected \"auto\", \"butler\", \"machine-id\", \"random\" or \"fixed\"" },
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
	CHECK(C.file_source == CFG_FILE_FLAG);
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
		CHECK(C.file_source == CFG_FILE_NONE && C.file[0] == '\0');
		CHECK(C.enabled == 1 && C.rule == CFG_RULE_DEFAULT);
		CHECK_STR(C.service, "anontel", "service without file");
	}

	/* ANONTEL_CONFIG is used when there is no flag; the flag wins over it. */
	write_config("{\"service\": \"fromenv\"}", 22);
	setenv("ANONTEL_CONFIG", path, 1);
	CHECKF(cfg_load(&C, NULL, scratch, err, sizeof err) == 0, "env config: %s", err);
	CHECK(C.file_source == CFG_FILE_ENV);
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
	{ "optout", test_optout },
	{ "duration", test_duration },
};

CHECK_MAIN(cases)
