/*
 * message: the telemetry message, byte for byte. `show` prints it and `report`
 * sends it, so both call msg_build and nothing else formats it.
 *
 * Pure: the caller collects the facts (facts_collect), reads the clock and draws
 * the random bytes (msg_stamp); nothing here reads a file, the time or a random
 * source. Each format is one row
 * of message.c's formats[] table, indexed by enum cfg_format: its name, the writer
 * of its body and the check of its settings. The writer writes through schema.h,
 * so the same code writes the message and its JSON Schema (msg_schema).
 */
#ifndef ANONTEL_MESSAGE_H
#define ANONTEL_MESSAGE_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "facts.h"

#define MSG_TS_LEN     24   /* "2021-03-03T11:13:55.862Z" */
#define MSG_UUID_LEN   36   /* "01a22f65-0c15-751a-b8a0-3ebcbd3dc0c6" */
#define MSG_UUID_RANDOM 10  /* random bytes a UUID v7 takes (74 of their 80 bits) */

/* Writes Unix milliseconds ms (>= 0) as UTC ISO 8601 with milliseconds and Z into
 * out (MSG_TS_LEN + 1 bytes). */
void msg_timestamp(int64_t ms, char out[MSG_TS_LEN + 1]);

/* What makes one message itself: when it was built and its UUID. Made once per
 * message, before it is kept; a retry sends the kept bytes, so both stay. */
struct msg_stamp {
	int64_t ms;                     /* build time, Unix ms (>= 0) */
	char ts[MSG_TS_LEN + 1];        /* ms as msg_timestamp writes it */
	char uuid[MSG_UUID_LEN + 1];    /* UUID v7 (RFC 9562): ms, then 74 random bits */
	const char *age;                /* id scheme none only (c->scheme): the age
	                                 * bucket the caller sets (id_message_age),
	                                 * which the message carries instead of an
	                                 * instance ID: butler "age" where system.id
	                                 * goes, otlp system.age, posthog system_age
	                                 * with the message's uuid as its distinct_id
	                                 * (`id` is then not used) */
};

/* Fills *s for a message built at Unix ms (a negative ms counts as 0) from the
 * caller's random bytes; s->age is NULL (the caller sets it for scheme none). */
void msg_stamp(struct msg_stamp *s, int64_t ms, const unsigned char random[MSG_UUID_RANDOM]);

/*
 * Writes the message for c's format from facts f, instance ID `id` and stamp s:
 * butler, {"ts": ts, "data": {...}} or, with envelope off, the data object alone;
 * posthog, a batch of one capture event as posthog-node sends it
 * ({"api_key", "batch": [event], "sent_at"}), the event carrying s's uuid and the
 * features flattened to "feature_<key path joined by _>" properties; otlp, an
 * OTLP/HTTP JSON logs request of one LogRecord (resource attributes service.name
 * and service.version; the system fields and enabledFeatures as attributes).
 * "sent_at" is s's ts here; msg_set_sent_at moves it to the send time. Compact
 * unless `pretty`. Returns 0, or -1 if out overflowed or c's format is not in the
 * table.
 */
int msg_build(struct buf *out, const struct cfg *c, const struct facts *f, const char *id,
    const struct msg_stamp *s, int pretty);

/*
 * Gives a built or kept message its send time, in place: a message that ends with
 * the compact `,"sent_at":"<ts>"}` (posthog's) gets ts (msg_timestamp's text)
 * there, and 1 is returned; any other message is left as it is (0). The length
 * does not change. Sending again after a failure sends the kept bytes with a new
 * sent_at, as posthog-node does with its queue.
 */
int msg_set_sent_at(char *msg, size_t n, const char *ts);

/*
 * The schema's "$id": MSG_SCHEMA_ID_BASE + format name + ".json", e.g.
 * "https://anontel.invalid/schema/v1/butler.json" (".invalid" never resolves: a
 * name, never fetched). The version is raised when a format's fields change in a
 * way a receiver must know: a field added, removed, renamed or retyped, a pattern
 * or a limit changed. What the config decides (service, features, ...) is the
 * schema's content, not its version.
 */
#define MSG_SCHEMA_VERSION "1"
#define MSG_SCHEMA_ID_BASE "https://anontel.invalid/schema/v" MSG_SCHEMA_VERSION "/"

/*
 * Writes the JSON Schema (draft 2020-12) that every message msg_build can write
 * for c matches, and that a message with any field more, less or of another type
 * does not: msg_build's own writers, run by schema.h's schema writer. Fixed by c:
 * the format and its shape (envelope), service, serviceVersion, runtimeVersion,
 * the enabledFeatures tree (each leaf a boolean), the posthog settings; patterns
 * for what a run makes (the ID, by id.scheme; timestamps, UUID v7, nanoseconds);
 * a length limit for the system facts. "$id" as above, "title" naming the format,
 * service and version. Reads nothing but c: no fact of the machine is in it.
 * Compact unless `pretty`. Returns 0, or -1 if out overflowed (or a key would need
 * escaping, or c's format is not in the table).
 */
int msg_schema(struct buf *out, const struct cfg *c, int pretty);

/* The name of format `format` (an enum cfg_format: "butler", "posthog", "otlp"),
 * or NULL past the last one: config's "format" accepts exactly these names. */
const char *msg_format_name(unsigned format);

/*
 * Checks c's format-specific settings once the config is read (cfg_load calls
 * it, after the environment). posthog: posthog.apiKey is set ("F: posthog.apiKey:
 * required when \"format\" is \"posthog\"", F the config file, left out when
 * there is none), and no two features give the same property name ("G:
 * enabledFeatures: two features give the PostHog property feature_a_b", G the file
 * the features came from). Returns 0, or -1 with that line appended to e.
 */
int msg_check(const struct cfg *c, struct buf *e);

#endif
