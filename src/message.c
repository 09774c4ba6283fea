#include "message.h"

#include <string.h>
#include <time.h>

#include "json.h"
#include "sha256.h"

#ifndef ANONTEL_VERSION
#error "ANONTEL_VERSION must be defined (the Makefile does)"
#endif

void
msg_timestamp(int64_t ms, char out[MSG_TS_LEN + 1])
{
	struct tm tm;
	struct buf b;
	time_t secs = (time_t)(ms / 1000);

	gmtime_r(&secs, &tm);
	buf_init(&b, out, MSG_TS_LEN + 1);
	buf_uint(&b, (uint64_t)tm.tm_year + 1900, 4);
	buf_char(&b, '-');
	buf_uint(&b, (uint64_t)tm.tm_mon + 1, 2);
	buf_char(&b, '-');
	buf_uint(&b, (uint64_t)tm.tm_mday, 2);
	buf_char(&b, 'T');
	buf_uint(&b, (uint64_t)tm.tm_hour, 2);
	buf_char(&b, ':');
	buf_uint(&b, (uint64_t)tm.tm_min, 2);
	buf_char(&b, ':');
	buf_uint(&b, (uint64_t)tm.tm_sec, 2);
	buf_char(&b, '.');
	buf_uint(&b, (uint64_t)(ms % 1000), 3);
	buf_char(&b, 'Z');
}

void
msg_stamp(struct msg_stamp *s, int64_t ms, const unsigned char random[MSG_UUID_RANDOM])
{
	unsigned char u[16];
	struct buf b;

	s->ms = ms > 0 ? ms : 0;
	msg_timestamp(s->ms, s->ts);
	/* RFC 9562 5.7: 48 bits of Unix ms, big-endian; version 7; 12 random bits;
	 * variant 10; 62 random bits. */
	for (int i = 0; i < 6; i++)
		u[i] = (unsigned char)((uint64_t)s->ms >> (40 - 8 * i));
	memcpy(u + 6, random, MSG_UUID_RANDOM);
	u[6] = (unsigned char)(0x70 | (u[6] & 0x0f));
	u[8] = (unsigned char)(0x80 | (u[8] & 0x3f));
	buf_init(&b, s->uuid, sizeof s->uuid);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf_char(&b, '-');
		buf_hex(&b, u + i, 1);
	}
}

static void
put(struct json_writer *w, const char *key, const char *value)
{
	json_put_string(w, key, value, strlen(value));
}

/* The writer has objects only. An array is laid out as an object is (commas, and
 * JSON.stringify(v, null, 2)'s indents), so it is written as one whose brackets
 * are swapped as they are written; its members have no key (NULL). After an
 * overflow nothing is swapped: the text is refused anyway. */
static void
swap_last(struct buf *b, char was, char now)
{
	if (!b->overflow && b->len > 0 && b->p[b->len - 1] == was)
		b->p[b->len - 1] = now;
}

static void
array_begin(struct json_writer *w, const char *key)
{
	json_object_begin(w, key);
	swap_last(w->b, '{', '[');
}

static void
array_end(struct json_writer *w)
{
	json_object_end(w);
	swap_last(w->b, '}', ']');
}

/* enabledFeatures as nested objects, in file order. */
static void
put_features_nested(struct json_writer *w, const struct cfg *c)
{
	unsigned open = 0;

	json_object_begin(w, "enabledFeatures");
	for (size_t i = 0; i < c->n_features; i++) {
		const struct cfg_feature *f = &c->features[i];

		for (; open >= f->depth; open--)
			json_object_end(w);
		if (f->kind == CFG_FEATURE_OBJECT) {
			json_object_begin(w, f->key);
			open = f->depth;
		} else {
			json_put_bool(w, f->key, f->kind == CFG_FEATURE_TRUE);
		}
	}
	for (; open > 0; open--)
		json_object_end(w);
	json_object_end(w);
}

/* The longest PostHog property name of a feature, with its NUL. */
#define FLAT_NAME_MAX (sizeof "feature" + (CFG_NAME_MAX + 1) * CFG_MAX_FEAT_DEPTH)

/* Calls each(ctx, i, name) for every boolean feature i, in file order, with its
 * PostHog property name: "feature_" + its key path joined by "_". */
static void
feature_names(const struct cfg *c, void (*each)(void *ctx, size_t i, const char *name),
    void *ctx)
{
	const char *path[CFG_MAX_FEAT_DEPTH + 1];
	char name[FLAT_NAME_MAX];

	for (size_t i = 0; i < c->n_features; i++) {
		const struct cfg_feature *f = &c->features[i];
		struct buf b;

		path[f->depth] = f->key;
		if (f->kind == CFG_FEATURE_OBJECT)
			continue;
		buf_init(&b, name, sizeof name);
		buf_str(&b, "feature");
		for (unsigned d = 1; d <= f->depth; d++) {
			buf_char(&b, '_');
			buf_str(&b, path[d]);
		}
		each(ctx, i, name);
	}
}

struct flat_ctx {
	struct json_writer *w;
	const struct cfg *c;
};

static void
put_flat_one(void *ctx, size_t i, const char *name)
{
	struct flat_ctx *f = ctx;

	json_put_bool(f->w, name, f->c->features[i].kind == CFG_FEATURE_TRUE);
}

/* enabledFeatures flattened for PostHog: {"api":{"x":true}} -> "feature_api_x": true. */
static void
put_features_flat(struct json_writer *w, const struct cfg *c)
{
	struct flat_ctx f = { w, c };

	feature_names(c, put_flat_one, &f);
}

static void
put_butler_data(struct json_writer *w, const char *key, const struct cfg *c,
    const struct facts *f, const char *id)
{
	json_object_begin(w, key);
	put(w, "service", c->service);
	put(w, "serviceVersion", c->service_version);
	json_object_begin(w, "system");
	put(w, "id", id);
	put(w, "arch", f->arch);
	put(w, "platform", "linux");
	put(w, "release", f->os.release);
	put(w, "distro", f->os.distro);
	put(w, "codename", f->os.codename);
	json_put_bool(w, "virtual", f->is_virtual);
	if (c->runtime_version[0] != '\0')
		put(w, "nodeVersion", c->runtime_version);
	json_object_end(w);
	put_features_nested(w, c);
	json_object_end(w);
}

/* Butler's body: {"ts": ..., "data": {...}}, or the data object alone without the
 * envelope. */
static void
put_butler(struct json_writer *w, const struct cfg *c, const struct facts *f, const char *id,
    const struct msg_stamp *s)
{
	if (!c->envelope) {
		put_butler_data(w, NULL, c, f, id);
		return;
	}
	json_object_begin(w, NULL);
	put(w, "ts", s->ts);
	put_butler_data(w, "data", c, f, id);
	json_object_end(w);
}

/* PostHog's event, as posthog-node sends it: a batch of one, so that PostHog
 * reads sent_at (its capture takes sent_at from a batch body only, and corrects
 * the event's timestamp by now - sent_at: a clock that booted in 1970 still dates
 * the event right). */
static void
put_posthog(struct json_writer *w, const struct cfg *c, const struct facts *f, const char *id,
    const struct msg_stamp *s)
{
	json_object_begin(w, NULL);
	put(w, "api_key", c->posthog_api_key);
	array_begin(w, "batch");
	json_object_begin(w, NULL);
	put(w, "event", c->posthog_event);
	put(w, "distinct_id", id);
	put(w, "timestamp", s->ts);
	put(w, "uuid", s->uuid);
	json_object_begin(w, "properties");
	put(w, "service", c->service);
	put(w, "serviceVersion", c->service_version);
	put(w, "system_arch", f->arch);
	put(w, "system_platform", "linux");
	put(w, "system_release", f->os.release);
	put(w, "system_distro", f->os.distro);
	put(w, "system_codename", f->os.codename);
	json_put_bool(w, "system_virtual", f->is_virtual);
	if (c->runtime_version[0] != '\0')
		put(w, "system_nodeVersion", c->runtime_version);
	put_features_flat(w, c);
	put(w, "$lib", "anontel");
	put(w, "$lib_version", ANONTEL_VERSION);
	put(w, "$os", "Linux");
	json_put_bool(w, "$process_person_profile", 0);
	json_put_bool(w, "$geoip_disable", 1);
	json_object_end(w);
	json_object_end(w);
	array_end(w);
	put(w, "sent_at", s->ts);       /* last: msg_set_sent_at finds it there */
	json_object_end(w);
}

/* OTLP's KeyValue, an element of the open array: {"key": key, "value": {...}}.
 * kv_begin leaves the value object open for its one AnyValue member. */
static void
kv_begin(struct json_writer *w, const char *key)
{
	json_object_begin(w, NULL);
	put(w, "key", key);
	json_object_begin(w, "value");
}

static void
kv_end(struct json_writer *w)
{
	json_object_end(w);
	json_object_end(w);
}

static void
kv_string(struct json_writer *w, const char *key, const char *value)
{
	kv_begin(w, key);
	put(w, "stringValue", value);
	kv_end(w);
}

static void
kv_bool(struct json_writer *w, const char *key, int value)
{
	kv_begin(w, key);
	json_put_bool(w, "boolValue", value);
	kv_end(w);
}

/* A kvlistValue: {"key": key, "value": {"kvlistValue": {"values": [ ... */
static void
kvlist_begin(struct json_writer *w, const char *key)
{
	kv_begin(w, key);
	json_object_begin(w, "kvlistValue");
	array_begin(w, "values");
}

static void
kvlist_end(struct json_writer *w)
{
	array_end(w);
	json_object_end(w);
	kv_end(w);
}

/* enabledFeatures as nested kvlistValues, in file order (put_features_nested's walk). */
static void
kv_features(struct json_writer *w, const struct cfg *c)
{
	unsigned open = 0;

	kvlist_begin(w, "enabledFeatures");
	for (size_t i = 0; i < c->n_features; i++) {
		const struct cfg_feature *f = &c->features[i];

		for (; open >= f->depth; open--)
			kvlist_end(w);
		if (f->kind == CFG_FEATURE_OBJECT) {
			kvlist_begin(w, f->key);
			open = f->depth;
		} else {
			kv_bool(w, f->key, f->kind == CFG_FEATURE_TRUE);
		}
	}
	for (; open > 0; open--)
		kvlist_end(w);
	kvlist_end(w);
}

/* The one LogRecord: the build time (nanoseconds as a decimal string, as the
 * protobuf JSON mapping writes 64-bit integers), INFO, and the butler message's
 * system fields and features as attributes. */
static void
put_otlp_record(struct json_writer *w, const struct cfg *c, const struct facts *f,
    const char *id, const struct msg_stamp *s)
{
	char nanos[24];
	struct buf b;

	buf_init(&b, nanos, sizeof nanos);
	buf_uint(&b, (uint64_t)s->ms * 1000000u, 1);
	json_object_begin(w, NULL);
	put(w, "timeUnixNano", nanos);
	put(w, "observedTimeUnixNano", nanos);
	json_put_uint(w, "severityNumber", 9);   /* SEVERITY_NUMBER_INFO */
	put(w, "severityText", "INFO");
	json_object_begin(w, "body");
	put(w, "stringValue", "telemetry");
	json_object_end(w);
	array_begin(w, "attributes");
	kv_string(w, "system.id", id);
	kv_string(w, "system.arch", f->arch);
	kv_string(w, "system.platform", "linux");
	kv_string(w, "system.release", f->os.release);
	kv_string(w, "system.distro", f->os.distro);
	kv_string(w, "system.codename", f->os.codename);
	kv_bool(w, "system.virtual", f->is_virtual);
	if (c->runtime_version[0] != '\0')
		kv_string(w, "system.nodeVersion", c->runtime_version);
	kv_features(w, c);
	array_end(w);
	json_object_end(w);
}

/* An OTLP/HTTP JSON logs request (ExportLogsServiceRequest): resourceLogs ->
 * resource.attributes (service.name, service.version) -> scopeLogs (scope anontel)
 * -> one LogRecord. */
static void
put_otlp(struct json_writer *w, const struct cfg *c, const struct facts *f, const char *id,
    const struct msg_stamp *s)
{
	json_object_begin(w, NULL);
	array_begin(w, "resourceLogs");
	json_object_begin(w, NULL);
	json_object_begin(w, "resource");
	array_begin(w, "attributes");
	kv_string(w, "service.name", c->service);
	kv_string(w, "service.version", c->service_version);
	array_end(w);
	json_object_end(w);
	array_begin(w, "scopeLogs");
	json_object_begin(w, NULL);
	json_object_begin(w, "scope");
	put(w, "name", "anontel");
	put(w, "version", ANONTEL_VERSION);
	json_object_end(w);
	array_begin(w, "logRecords");
	put_otlp_record(w, c, f, id, s);
	array_end(w);
	json_object_end(w);
	array_end(w);
	json_object_end(w);
	array_end(w);
	json_object_end(w);
}

/* The flattened names' hashes (the first 8 bytes of their SHA-256), to find two
 * features that flatten alike ({"a_b": true, "a": {"b": false}}) without keeping
 * every name. */
struct flat_names {
	uint64_t hash[CFG_MAX_LEAVES];
	size_t n;
	size_t want[2];             /* second pass: the two features to compare */
	char name[2][FLAT_NAME_MAX];
};

static void
hash_one(void *ctx, size_t i, const char *name)
{
	struct flat_names *fl = ctx;
	unsigned char d[SHA256_LEN];

	(void)i;
	if (fl->n >= CFG_MAX_LEAVES)
		return;
	sha256(name, strlen(name), d);
	memcpy(&fl->hash[fl->n++], d, sizeof fl->hash[0]);
}

static void
pick_two(void *ctx, size_t i, const char *name)
{
	struct flat_names *fl = ctx;

	for (int k = 0; k < 2; k++)
		if (i == fl->want[k])
			memcpy(fl->name[k], name, strlen(name) + 1);
}

/* The feature index of the n-th boolean (hash_one counts booleans only). */
static size_t
leaf_index(const struct cfg *c, size_t n)
{
	for (size_t i = 0; i < c->n_features; i++)
		if (c->features[i].kind != CFG_FEATURE_OBJECT && n-- == 0)
			return i;
	return c->n_features;
}

/* "F: " before a message about file F; nothing when there is no file. */
static void
where(struct buf *e, const char *file)
{
	if (file != NULL && file[0] != '\0') {
		buf_str(e, file);
		buf_str(e, ": ");
	}
}

/* PostHog needs an API key, and one property per feature. */
static int
check_posthog(const struct cfg *c, struct buf *e)
{
	static struct flat_names fl;

	if (c->posthog_api_key[0] == '\0') {
		where(e, c->file);
		buf_str(e, "posthog.apiKey: required when \"format\" is \"posthog\"");
		return -1;
	}
	fl.n = 0;
	feature_names(c, hash_one, &fl);
	for (size_t a = 0; a < fl.n; a++) {
		for (size_t b = a + 1; b < fl.n; b++) {
			if (fl.hash[a] != fl.hash[b])
				continue;
			fl.want[0] = leaf_index(c, a);
			fl.want[1] = leaf_index(c, b);
			feature_names(c, pick_two, &fl);
			if (strcmp(fl.name[0], fl.name[1]) != 0)
				continue;
			where(e, c->features_from);
			buf_str(e, "enabledFeatures: two features give the PostHog property ");
			buf_str(e, fl.name[0]);
			return -1;
		}
	}
	return 0;
}

/*
 * The formats, indexed by enum cfg_format; config's "format" names them. A new
 * format is a value of that enum and a row here: its name, the writer of its body,
 * and the check cfg_load runs on its settings (NULL: none).
 */
static const struct {
	const char *name;
	void (*write)(struct json_writer *w, const struct cfg *c, const struct facts *f,
	    const char *id, const struct msg_stamp *s);
	int (*check)(const struct cfg *c, struct buf *e);
} formats[] = {
	[CFG_FORMAT_BUTLER] = { "butler", put_butler, NULL },
	[CFG_FORMAT_POSTHOG] = { "posthog", put_posthog, check_posthog },
	[CFG_FORMAT_OTLP] = { "otlp", put_otlp, NULL },
};

#define N_FORMATS (sizeof formats / sizeof formats[0])

const char *
msg_format_name(unsigned format)
{
	return format < N_FORMATS ? formats[format].name : NULL;
}

int
msg_check(const struct cfg *c, struct buf *e)
{
	if ((unsigned)c->format >= N_FORMATS) {
		buf_str(e, "format: not one of message.c's formats");
		return -1;
	}
	return formats[c->format].check != NULL ? formats[c->format].check(c, e) : 0;
}

int
msg_build(struct buf *out, const struct cfg *c, const struct facts *f, const char *id,
    const struct msg_stamp *s, int pretty)
{
	struct json_writer w;

	if ((unsigned)c->format >= N_FORMATS)
		return -1;
	json_writer_init(&w, out, pretty);
	formats[c->format].write(&w, c, f, id, s);
	return out->overflow ? -1 : 0;
}

int
msg_set_sent_at(char *msg, size_t n, const char *ts)
{
	static const char key[] = ",\"sent_at\":\"";
	const size_t k = sizeof key - 1, tail = k + MSG_TS_LEN + 2;

	if (n < tail || strlen(ts) != MSG_TS_LEN || memcmp(msg + n - tail, key, k) != 0 ||
	    memcmp(msg + n - 2, "\"}", 2) != 0)
		return 0;
	memcpy(msg + n - tail + k, ts, MSG_TS_LEN);
	return 1;
}
