/*
 * message: the telemetry message, byte for byte. `show` prints it and `report`
 * sends it, so both call msg_build and nothing else formats it.
 *
 * Pure: the caller collects the facts (facts_collect) and reads the clock
 * (msg_timestamp); nothing here reads a file or the time. Each format is one row
 * of message.c's formats[] table, indexed by enum cfg_format: its name, the writer
 * of its body and the check of its settings.
 */
#ifndef ANONTEL_MESSAGE_H
#define ANONTEL_MESSAGE_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "facts.h"

#define MSG_TS_LEN 24   /* "2021-03-03T11:13:55.862Z" */

/* Writes Unix milliseconds ms (>= 0) as UTC ISO 8601 with milliseconds and Z into
 * out (MSG_TS_LEN + 1 bytes). */
void msg_timestamp(int64_t ms, char out[MSG_TS_LEN + 1]);

/*
 * Writes the message for c's format from facts f, instance ID `id` and timestamp
 * `ts` (msg_timestamp's text): butler, {"ts": ts, "data": {...}} or, with
 * envelope off, the data object alone; posthog, a capture event with the features
 * flattened to "feature_<key path joined by _>" properties. Compact unless
 * `pretty`. Returns 0, or -1 if out overflowed or c's format is not in the table.
 */
int msg_build(struct buf *out, const struct cfg *c, const struct facts *f, const char *id,
    const char *ts, int pretty);

/* The name of format `format` (an enum cfg_format: "butler", "posthog"), or NULL
 * past the last one: config's "format" accepts exactly these names. */
const char *msg_format_name(unsigned format);

/*
 * Checks c's format-specific settings once the config is read (cfg_load calls
 * it). posthog: posthog.apiKey is set ("F: posthog.apiKey: required when
 * \"format\" is \"posthog\""), and no two features give the same property name
 * ("F: enabledFeatures: two features give the PostHog property feature_a_b").
 * Returns 0, or -1 with that line appended to e.
 */
int msg_check(const struct cfg *c, struct buf *e);

#endif
