#include "message.h"

#include <string.h>

#include "civil.h"
#include "schema.h"
#include "sha256.h"

#ifndef ANONTEL_VERSION
#error "ANONTEL_VERSION must be defined (the Makefile does)"
#endif

void
msg_timestamp(int64_t ms, char out[MSG_TS_LEN + 1])
{
	static const char after[] = "--T::.Z";      /* what follows each field */
	struct civil c;
	struct buf b;

	civil_from_unix(ms / 1000, &c);
	const uint64_t field[] = { (uint64_t)c.year, c.month, c.day, c.hour, c.min, c.sec,
	    (uint64_t)(ms % 1000) };

	buf_init(&b, out, MSG_TS_LEN + 1);
	for (int i = 0; i < 7; i++) {
		buf_uint(&b, field[i], i == 0 ? 4 : i == 6 ? 3 : 2);
		buf_char(&b, after[i]);
	}
}

void
msg_stamp(struct msg_stamp *s, int64_t ms, const unsigned char random[MSG_UUID_RANDOM])
{
	unsigned char u[16];
	struct buf b;

	s->ms = ms > 0 ? ms : 0;
	s->age = NULL;
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

/* The patterns of the values a run makes (schema.h: SCHEMA_MATCH). */
#define TS_PATTERN    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"
#define UUID7_PATTERN "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
#define NANOS_PATTERN "^(0|[1-9][0-9]{0,19})$"    /* a uint64 in decimal */
#define HEX64         "[0-9a-f]{64}"
#define APP_ID        "[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}"   /* a UUID v4's 32 digits */
#define AGE_PATTERN   "^(0|1|2-4|5-24|25\\+)$"   /* scheme none: id_age_bucket's buckets */

/* How a format writes one named value: schema_put, or otlp's KeyValue. */
typedef void put_fn(struct schema_writer *w, const char *key, const struct schema_value *v);

static const struct schema_value fixed_false = { SCHEMA_FIXED_BOOL, 0, NULL, NULL };
static const struct schema_value fixed_true = { SCHEMA_FIXED_BOOL, 1, NULL, NULL };
static const struct schema_value severity_info = { SCHEMA_FIXED_UINT, 9, NULL, NULL };
static const struct schema_value platform = { SCHEMA_FIXED, 0, "linux", NULL };

/*
 * The pattern of an instance ID made by c's scheme, as id.h says each makes it.
 * The one place the message knows the schemes: a new one fails to compile
 * (-Wswitch) until it is here. Scheme none has no ID (NULL): its callers
 * (put_system, put_posthog) write the age or the message's uuid instead.
 */
static const char *
id_pattern(const struct cfg *c)
{
	switch (c->scheme) {
	case CFG_SCHEME_AUTO:           /* Butler's ID or a random one, never machine-id's */
	case CFG_SCHEME_RANDOM:
		return "^" HEX64 "$";
	case CFG_SCHEME_BUTLER:         /* machine-id's when it falls back */
		return "^(" HEX64 "|" APP_ID ")$";
	case CFG_SCHEME_MACHINE_ID:     /* systemd's app-specific ID */
		return "^" APP_ID "$";
	case CFG_SCHEME_FIXED:          /* ANONTEL_ID's grammar */
		return "^[A-Za-z0-9_-]{16,128}$";
	case CFG_SCHEME_NONE:
		break;
	}
	return NULL;
}

/* Where a format writes the system fields: with put, each under prefix + its name. */
struct system_out {
	struct schema_writer *w;
	const char *prefix;
	put_fn *put;
};

static void
put_system_field(const struct system_out *o, const char *name, const struct schema_value *v)
{
	char key[32];

	buf_join(key, sizeof key, o->prefix, name, NULL);
	o->put(o->w, key, v);
}

/* A system field the run makes (the ID, the age), matching pattern. */
static void
put_system_match(const struct system_out *o, const char *name, const char *s,
    const char *pattern)
{
	const struct schema_value v = { SCHEMA_MATCH, 0, s, pattern };

	put_system_field(o, name, &v);
}

/* A system field read from the system: facts.h's text, at most FACTS_TEXT_MAX - 1 bytes. */
static void
put_system_text(const struct system_out *o, const char *name, const char *s)
{
	const struct schema_value v = { SCHEMA_TEXT, FACTS_TEXT_MAX - 1, s, NULL };

	put_system_field(o, name, &v);
}

/* The system fields, in butler's order: the instance ID (unless id is NULL: the
 * format carries it elsewhere), or with scheme none the message's age (s->age),
 * what facts f says of the machine, and nodeVersion when runtimeVersion is set. */
static void
put_system(const struct system_out *o, const struct cfg *c, const struct facts *f,
    const char *id, const struct msg_stamp *s)
{
	const struct schema_value virt = { SCHEMA_BOOL, f->is_virtual != 0, NULL, NULL };
	const struct schema_value node = { SCHEMA_FIXED, 0, c->runtime_version, NULL };

	if (c->scheme == CFG_SCHEME_NONE)
		put_system_match(o, "age", s->age != NULL ? s->age : "", AGE_PATTERN);
	else if (id != NULL)
		put_system_match(o, "id", id, id_pattern(c));
	put_system_text(o, "arch", f->arch);
	put_system_field(o, "platform", &platform);
	put_system_text(o, "release", f->os.release);
	put_system_text(o, "distro", f->os.distro);
	put_system_text(o, "codename", f->os.codename);
	put_system_field(o, "virtual", &virt);
	if (c->runtime_version[0] != '\0')
		put_system_field(o, "nodeVersion", &node);
}

/* How a format lays out enabledFeatures: an object opens under a key and closes;
 * a leaf is one boolean. */
struct feature_layout {
	void (*open)(struct schema_writer *w, const char *key);
	void (*close)(struct schema_writer *w);
	put_fn *leaf;
};

/* enabledFeatures as nested objects (layout l), in file order. */
static void
put_features_nested(struct schema_writer *w, const struct cfg *c, const struct feature_layout *l)
{
	unsigned open = 0;

	l->open(w, "enabledFeatures");
	for (size_t i = 0; i < c->n_features; i++) {
		const struct cfg_feature *f = &c->features[i];

		for (; open >= f->depth; open--)
			l->close(w);
		if (f->kind == CFG_FEATURE_OBJECT) {
			l->open(w, f->key);
			open = f->depth;
		} else {
			const struct schema_value v = { SCHEMA_BOOL, f->kind == CFG_FEATURE_TRUE,
			    NULL, NULL };

			l->leaf(w, f->key, &v);
		}
	}
	for (; open > 0; open--)
		l->close(w);
	l->close(w);
}

static const struct feature_layout objects = {
	schema_object_begin, schema_object_end, schema_put
};

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
	struct schema_writer *w;
	const struct cfg *c;
};

static void
put_flat_one(void *ctx, size_t i, const char *name)
{
	struct flat_ctx *f = ctx;
	const struct schema_value v = { SCHEMA_BOOL, f->c->features[i].kind == CFG_FEATURE_TRUE,
	    NULL, NULL };

	schema_put(f->w, name, &v);
}

/* enabledFeatures flattened for PostHog: {"api":{"x":true}} -> "feature_api_x": true. */
static void
put_features_flat(struct schema_writer *w, const struct cfg *c)
{
	struct flat_ctx f = { w, c };

	feature_names(c, put_flat_one, &f);
}

/* Butler's body: {"ts": ..., "data": {...}}, or the data object alone without the
 * envelope. */
static void
put_butler(struct schema_writer *w, const struct cfg *c, const struct facts *f, const char *id,
    const struct msg_stamp *s)
{
	const struct system_out o = { w, "", schema_put };

	if (c->envelope) {
		schema_object_begin(w, NULL);
		schema_match(w, "ts", s->ts, TS_PATTERN);
	}
	schema_object_begin(w, c->envelope ? "data" : NULL);
	schema_fixed(w, "service", c->service);
	schema_fixed(w, "serviceVersion", c->service_version);
	schema_object_begin(w, "system");
	put_system(&o, c, f, id, s);
	schema_object_end(w);
	put_features_nested(w, c, &objects);
	schema_object_end(w);
	if (c->envelope)
		schema_object_end(w);
}

/* PostHog's event, as posthog-node sends it: a batch of one, so that PostHog
 * reads sent_at (its capture takes sent_at from a batch body only, and corrects
 * the event's timestamp by now - sent_at: a clock that booted in 1970 still dates
 * the event right). */
static void
put_posthog(struct schema_writer *w, const struct cfg *c, const struct facts *f, const char *id,
    const struct msg_stamp *s)
{
	const struct system_out o = { w, "system_", schema_put };

	schema_object_begin(w, NULL);
	schema_fixed(w, "api_key", c->posthog_api_key);
	schema_array_begin(w, "batch");
	schema_object_begin(w, NULL);
	schema_fixed(w, "event", c->posthog_event);
	/* Scheme none: a distinct_id of this event alone, as PostHog's SDKs make one
	 * for an event captured without a distinct_id. */
	if (c->scheme == CFG_SCHEME_NONE)
		schema_match(w, "distinct_id", s->uuid, UUID7_PATTERN);
	else
		schema_match(w, "distinct_id", id, id_pattern(c));
	schema_match(w, "timestamp", s->ts, TS_PATTERN);
	schema_match(w, "uuid", s->uuid, UUID7_PATTERN);
	schema_object_begin(w, "properties");
	schema_fixed(w, "service", c->service);
	schema_fixed(w, "serviceVersion", c->service_version);
	put_system(&o, c, f, NULL, s);
	put_features_flat(w, c);
	schema_fixed(w, "$lib", "anontel");
	schema_fixed(w, "$lib_version", ANONTEL_VERSION);
	schema_fixed(w, "$os", "Linux");
	schema_put(w, "$process_person_profile", &fixed_false);
	schema_put(w, "$geoip_disable", &fixed_true);
	schema_object_end(w);
	schema_object_end(w);
	schema_array_end(w);
	/* last: msg_set_sent_at finds it there */
	schema_match(w, "sent_at", s->ts, TS_PATTERN);
	schema_object_end(w);
}

/* OTLP's KeyValue, an element of the open array: {"key": key, "value": {...}}.
 * kv_begin leaves the value object open for its one AnyValue member. */
static void
kv_begin(struct schema_writer *w, const char *key)
{
	schema_object_begin(w, NULL);
	schema_fixed(w, "key", key);
	schema_object_begin(w, "value");
}

static void
kv_end(struct schema_writer *w)
{
	schema_object_end(w);
	schema_object_end(w);
}

/* A KeyValue of a string (stringValue) or a boolean (boolValue). */
static void
kv(struct schema_writer *w, const char *key, const struct schema_value *v)
{
	int is_bool = v->kind == SCHEMA_BOOL || v->kind == SCHEMA_FIXED_BOOL;

	kv_begin(w, key);
	schema_put(w, is_bool ? "boolValue" : "stringValue", v);
	kv_end(w);
}

/* A kvlistValue: {"key": key, "value": {"kvlistValue": {"values": [ ... */
static void
kvlist_begin(struct schema_writer *w, const char *key)
{
	kv_begin(w, key);
	schema_object_begin(w, "kvlistValue");
	schema_array_begin(w, "values");
}

static void
kvlist_end(struct schema_writer *w)
{
	schema_array_end(w);
	schema_object_end(w);
	kv_end(w);
}

static const struct feature_layout kvlists = { kvlist_begin, kvlist_end, kv };

/* The one LogRecord: the build time (nanoseconds as a decimal string, as the
 * protobuf JSON mapping writes 64-bit integers), INFO, and the butler message's
 * system fields and features as attributes. */
static void
put_otlp_record(struct schema_writer *w, const struct cfg *c, const struct facts *f,
    const char *id, const struct msg_stamp *s)
{
	const struct system_out o = { w, "system.", kv };
	char nanos[24];
	struct buf b;

	buf_init(&b, nanos, sizeof nanos);
	buf_uint(&b, (uint64_t)s->ms * 1000000u, 1);
	schema_object_begin(w, NULL);
	schema_match(w, "timeUnixNano", nanos, NANOS_PATTERN);
	schema_match(w, "observedTimeUnixNano", nanos, NANOS_PATTERN);
	schema_put(w, "severityNumber", &severity_info);
	schema_fixed(w, "severityText", "INFO");
	schema_object_begin(w, "body");
	schema_fixed(w, "stringValue", "telemetry");
	schema_object_end(w);
	schema_array_begin(w, "attributes");
	put_system(&o, c, f, id, s);
	put_features_nested(w, c, &kvlists);
	schema_array_end(w);
	schema_object_end(w);
}

/* An OTLP/HTTP JSON logs request (ExportLogsServiceRequest): resourceLogs ->
 * resource.attributes (service.name, service.version) -> scopeLogs (scope anontel)
 * -> one LogRecord. */
static void
put_otlp(struct schema_writer *w, const struct cfg *c, const struct facts *f, const char *id,
    const struct msg_stamp *s)
{
	const struct schema_value name = { SCHEMA_FIXED, 0, c->service, NULL };
	const struct schema_value version = { SCHEMA_FIXED, 0, c->service_version, NULL };

	schema_object_begin(w, NULL);
	schema_array_begin(w, "resourceLogs");
	schema_object_begin(w, NULL);
	schema_object_begin(w, "resource");
	schema_array_begin(w, "attributes");
	kv(w, "service.name", &name);
	kv(w, "service.version", &version);
	schema_array_end(w);
	schema_object_end(w);
	schema_array_begin(w, "scopeLogs");
	schema_object_begin(w, NULL);
	schema_object_begin(w, "scope");
	schema_fixed(w, "name", "anontel");
	schema_fixed(w, "version", ANONTEL_VERSION);
	schema_object_end(w);
	schema_array_begin(w, "logRecords");
	put_otlp_record(w, c, f, id, s);
	schema_array_end(w);
	schema_object_end(w);
	schema_array_end(w);
	schema_object_end(w);
	schema_array_end(w);
	schema_object_end(w);
}

/* The flattened names' hashes (the first 8 bytes of their SHA-256), to find two
 * features that flatten alike ({"a_b": true, "a": {"b": false}}) without keeping
 * every name. */
struct flat_names {
	uint64_t hash[CFG_MAX_LEAVES];
	size_t n;
	size_t want[2];             /* second pass: the two names to compare, by rank */
	size_t seen;                /* second pass: names seen so far */
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

	(void)i;
	for (int k = 0; k < 2; k++)
		if (fl->seen == fl->want[k])
			memcpy(fl->name[k], name, strlen(name) + 1);
	fl->seen++;
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
			fl.want[0] = a;
			fl.want[1] = b;
			fl.seen = 0;
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
 * format is a value of that enum and a row here: its name, the writer of its body
 * (which, given msg_schema's writer, writes the body's JSON Schema instead), and the
 * check cfg_load runs on its settings (NULL: none).
 */
static const struct {
	const char *name;
	void (*write)(struct schema_writer *w, const struct cfg *c, const struct facts *f,
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
	struct schema_writer w;

	if ((unsigned)c->format >= N_FORMATS)
		return -1;
	schema_writer_init(&w, out, pretty);
	formats[c->format].write(&w, c, f, id, s);
	return out->overflow ? -1 : 0;
}

int
msg_schema(struct buf *out, const struct cfg *c, int pretty)
{
	static struct schema_room room;
	/* Zeroes: the run's values are not the schema's. Not const, so they take no
	 * room in the binary (.bss); nothing writes them. */
	static struct facts none;
	static struct msg_stamp stamp;
	char id[sizeof MSG_SCHEMA_ID_BASE + 16 + 16], title[64 + 3 * CFG_NAME_MAX];
	struct schema_writer w;
	struct buf b;

	if ((unsigned)c->format >= N_FORMATS)
		return -1;
	buf_join(id, sizeof id, MSG_SCHEMA_ID_BASE, formats[c->format].name, ".json");
	buf_init(&b, title, sizeof title);
	buf_str(&b, "anontel ");
	buf_str(&b, formats[c->format].name);
	buf_str(&b, c->format == CFG_FORMAT_BUTLER && !c->envelope ? " message (no envelope) of " :
	    " message of ");
	buf_str(&b, c->service);
	buf_char(&b, ' ');
	buf_str(&b, c->service_version);
	schema_writer_init_schema(&w, out, pretty, &room, id, title);
	formats[c->format].write(&w, c, &none, "", &stamp);
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
