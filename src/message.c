#include "message.h"

#include <string.h>

#include "json.h"

void
msg_timestamp(const struct timespec *t, char out[MSG_TS_LEN + 1])
{
	struct tm tm;
	struct buf b;
	time_t secs = t->tv_sec;

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
	buf_uint(&b, (uint64_t)t->tv_nsec / 1000000, 3);
	buf_char(&b, 'Z');
}

static void
put(struct json_writer *w, const char *key, const char *value)
{
	json_put_string(w, key, value, strlen(value));
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

	cfg_feature_names(c, put_flat_one, &f);
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

static void
put_posthog(struct json_writer *w, const struct cfg *c, const struct facts *f, const char *id,
    const char *ts)
{
	json_object_begin(w, NULL);
	put(w, "api_key", c->posthog_api_key);
	put(w, "event", c->posthog_event);
	put(w, "distinct_id", id);
	put(w, "timestamp", ts);
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
	json_put_bool(w, "$process_person_profile", 0);
	json_put_bool(w, "$geoip_disable", 1);
	json_object_end(w);
	json_object_end(w);
}

int
msg_build(struct buf *out, const struct cfg *c, const struct facts *f, const char *id,
    const char *ts, int pretty)
{
	struct json_writer w;

	json_writer_init(&w, out, pretty);
	if (c->format == CFG_FORMAT_POSTHOG) {
		put_posthog(&w, c, f, id, ts);
	} else if (c->envelope) {
		json_object_begin(&w, NULL);
		put(&w, "ts", ts);
		put_butler_data(&w, "data", c, f, id);
		json_object_end(&w);
	} else {
		put_butler_data(&w, NULL, c, f, id);
	}
	return out->overflow ? -1 : 0;
}

int
msg_compose(struct buf *out, const struct cfg *c, const char *id, int pretty)
{
	static struct facts facts;
	struct timespec now;
	char ts[MSG_TS_LEN + 1];

	facts_collect(&facts);
	clock_gettime(CLOCK_REALTIME, &now);
	msg_timestamp(&now, ts);
	return msg_build(out, c, &facts, id, ts, pretty);
}
