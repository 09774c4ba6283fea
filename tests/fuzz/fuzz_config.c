/*
 * fuzz_config: cfg_load over a config file whose bytes are the input.
 *
 * The file lives in the process's private tmpfs directory and is rewritten in
 * place each iteration; cfg_load reads it through --config (flags.config), with
 * every anontel environment variable unset. Invariants on success: every text
 * field is NUL-terminated inside its array and obeys config.h's grammar; the
 * enabledFeatures table is a well-formed pre-order walk (depths 1..8, a child only
 * under an object, keys inside c->text and in [A-Za-z0-9_.-]{1,64}, <= 1024
 * booleans); durations within 1 ms..365 d. On failure: a one-line message that
 * names the file.
 */
#include "fuzz_util.h"

#include <strings.h>

#include "config.h"
#include "http.h"

static struct cfg c1;
static _Alignas(max_align_t) unsigned char scratch[CFG_SCRATCH_SIZE];
static char path[512];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_clear_env();
	fz_path(path, sizeof path, fz_tmpdir("config"), "config.json");
	return 0;
}

static int
in_set(const char *s, const char *extra, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || strchr(extra, ch) != NULL))
			return 0;
	}
	return 1;
}

static int
no_control(const char *s, int space_too)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || (space_too && *s == ' '))
			return 0;
	return 1;
}

#define TERMINATED(f) (memchr((f), '\0', sizeof(f)) != NULL)

static void
check_cfg(const struct cfg *c)
{
	size_t leaves = 0;
	static const uint64_t max_ms = 365ULL * 24 * 3600 * 1000;

	FUZZ_CHECK(TERMINATED(c->file) && strcmp(c->file, path) == 0, "file \"%s\"", c->file);
	FUZZ_CHECK(TERMINATED(c->service) && in_set(c->service, "_.+-", 1, 64), "service");
	FUZZ_CHECK(TERMINATED(c->service_version) && in_set(c->service_version, "_.+-", 1, 64),
	    "serviceVersion");
	FUZZ_CHECK(TERMINATED(c->runtime_version) &&
	    (c->runtime_version[0] == '\0' || in_set(c->runtime_version, "_.+-", 1, 64)),
	    "runtimeVersion");
	FUZZ_CHECK(TERMINATED(c->endpoint) && no_control(c->endpoint, 1), "endpoint");
	FUZZ_CHECK(c->format == CFG_FORMAT_BUTLER || c->format == CFG_FORMAT_POSTHOG ||
	    c->format == CFG_FORMAT_OTLP, "format");
	FUZZ_CHECK(c->envelope == 0 || c->envelope == 1, "envelope %d", c->envelope);
	FUZZ_CHECK(c->scheme == CFG_SCHEME_AUTO || c->scheme == CFG_SCHEME_BUTLER ||
	    c->scheme == CFG_SCHEME_MACHINE_ID || c->scheme == CFG_SCHEME_RANDOM ||
	    c->scheme == CFG_SCHEME_FIXED, "scheme %d", c->scheme);
	FUZZ_CHECK(TERMINATED(c->id_host) &&
	    (c->id_host[0] == '\0' || in_set(c->id_host, ".:_-", 1, 253)), "id.host");
	FUZZ_CHECK(TERMINATED(c->id_app_id) &&
	    (c->id_app_id[0] == '\0' || (strlen(c->id_app_id) == 32 &&
	    strspn(c->id_app_id, "0123456789abcdef") == 32)), "id.appId \"%s\"", c->id_app_id);
	FUZZ_CHECK(c->fixed_id[0] == '\0', "fixed_id without ANONTEL_ID");
	FUZZ_CHECK(c->interval_ms >= 1 && c->interval_ms <= max_ms, "interval %llu",
	    (unsigned long long)c->interval_ms);
	FUZZ_CHECK(c->timeout_ms >= 1 && c->timeout_ms <= max_ms, "timeout %llu",
	    (unsigned long long)c->timeout_ms);
	FUZZ_CHECK(TERMINATED(c->state_dir) && no_control(c->state_dir, 0) &&
	    (c->state_dir[0] == '\0' || c->state_dir[0] == '/'), "stateDir");
	FUZZ_CHECK(TERMINATED(c->ca_file) && no_control(c->ca_file, 0), "caFile");
	FUZZ_CHECK(TERMINATED(c->pin) && (c->pin[0] == '\0' || (strlen(c->pin) == 52 &&
	    memcmp(c->pin, "sha256//", 8) == 0 && c->pin[51] == '=')), "pin \"%s\"", c->pin);
	FUZZ_CHECK(TERMINATED(c->proxy) && no_control(c->proxy, 0), "proxy");
	FUZZ_CHECK(TERMINATED(c->posthog_api_key) &&
	    (c->posthog_api_key[0] == '\0' || in_set(c->posthog_api_key, "_-", 1, 128)),
	    "posthog.apiKey");
	FUZZ_CHECK(TERMINATED(c->posthog_event) && strlen(c->posthog_event) >= 1 &&
	    no_control(c->posthog_event, 0), "posthog.event");
	for (const char *q = c->posthog_event; *q; q++)
		FUZZ_CHECK((unsigned char)*q <= 0x7e, "posthog.event not ASCII");
	FUZZ_CHECK(c->rule == CFG_RULE_DEFAULT || c->rule == CFG_RULE_CONFIG_ENABLED ||
	    c->rule == CFG_RULE_CONFIG_DISABLED, "rule %d with no opt-out variable", c->rule);
	FUZZ_CHECK(c->enabled == (c->rule != CFG_RULE_CONFIG_DISABLED), "enabled %d rule %d",
	    c->enabled, c->rule);

	FUZZ_CHECK(c->n_features <= CFG_MAX_FEATURES, "n_features %zu", c->n_features);
	for (size_t i = 0; i < c->n_features; i++) {
		const struct cfg_feature *f = &c->features[i];

		FUZZ_CHECK(f->key >= c->text && f->key < c->text + sizeof c->text,
		    "feature %zu key outside the text", i);
		FUZZ_CHECK(memchr(f->key, '\0', (size_t)(c->text + sizeof c->text - f->key)) != NULL,
		    "feature %zu key not terminated", i);
		FUZZ_CHECK(in_set(f->key, "_.-", 1, 64), "feature %zu key \"%s\"", i, f->key);
		FUZZ_CHECK(f->depth >= 1 && f->depth <= CFG_MAX_FEAT_DEPTH, "feature %zu depth %u",
		    i, f->depth);
		FUZZ_CHECK(f->kind <= CFG_FEATURE_OBJECT, "feature %zu kind %u", i, f->kind);
		if (i == 0)
			FUZZ_CHECK(f->depth == 1, "first feature at depth %u", f->depth);
		else if (f->depth > c->features[i - 1].depth)
			FUZZ_CHECK(f->depth == c->features[i - 1].depth + 1 &&
			    c->features[i - 1].kind == CFG_FEATURE_OBJECT,
			    "feature %zu deeper than its predecessor allows", i);
		leaves += f->kind != CFG_FEATURE_OBJECT;
		/* no duplicate among siblings: scan back to the parent */
		for (size_t j = i; j-- > 0 && c->features[j].depth >= f->depth;)
			if (c->features[j].depth == f->depth)
				FUZZ_CHECK(strcmp(c->features[j].key, f->key) != 0,
				    "duplicate sibling key \"%s\"", f->key);
	}
	FUZZ_CHECK(leaves <= CFG_MAX_LEAVES, "%zu leaves", leaves);

	FUZZ_CHECK(c->n_headers <= CFG_MAX_HEADERS, "n_headers %zu", c->n_headers);
	{
		size_t total = 0;

		for (size_t i = 0; i < c->n_headers; i++) {
			const char *h = c->headers[i];

			FUZZ_CHECK(h >= c->text && h < c->text + sizeof c->text,
			    "header %zu outside the text", i);
			FUZZ_CHECK(memchr(h, '\0', (size_t)(c->text + sizeof c->text - h)) != NULL,
			    "header %zu not terminated", i);
			FUZZ_CHECK(http_header_check(h, NULL) == HTTP_HEADER_OK, "header %zu \"%s\"", i, h);
			total += strlen(h) + 2;
			for (size_t j = 0; j < i; j++)
				FUZZ_CHECK(strcspn(c->headers[j], ":") != strcspn(h, ":") ||
				    strncasecmp(c->headers[j], h, strcspn(h, ":")) != 0,
				    "header %zu named as %zu", i, j);
		}
		FUZZ_CHECK(total <= CFG_HEADERS_MAX, "headers take %zu bytes", total);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_flags flags = { path, NULL, NULL };
	char e1[512];
	int r1;

	if (size > CFG_MAX_FILE + 1)
		return 0;
	fz_write_file(path, data, size);
	e1[0] = '\0';
	r1 = cfg_load(&c1, &flags, scratch, e1, sizeof e1);
	FUZZ_CHECK(r1 == 0 || r1 == -1, "cfg_load returned %d", r1);
	if (r1 == 0) {
		check_cfg(&c1);
	} else {
		size_t n = strlen(e1);
		FUZZ_CHECK(n > 0 && n < sizeof e1, "empty or unterminated message");
		FUZZ_CHECK(strncmp(e1, path, strlen(path)) == 0, "message does not name the file: %s",
		    e1);
		FUZZ_CHECK(strchr(e1, '\n') == NULL && strchr(e1, '\r') == NULL,
		    "message is not one line: %s", e1);
	}
	return 0;
}
