/*
 * message: the telemetry message, byte for byte. `show` prints it and `report`
 * sends it, so both call msg_build and nothing else formats it.
 */
#ifndef ANONTEL_MESSAGE_H
#define ANONTEL_MESSAGE_H

#include <time.h>

#include "buf.h"
#include "config.h"
#include "facts.h"

#define MSG_TS_LEN 24   /* "2021-03-03T11:13:55.862Z" */

/* Writes t as UTC ISO 8601 with milliseconds and Z into out (MSG_TS_LEN + 1 bytes). */
void msg_timestamp(const struct timespec *t, char out[MSG_TS_LEN + 1]);

/*
 * Writes the message for c's format (butler, with or without the ts envelope;
 * or a PostHog capture event) from facts f, instance ID `id` and timestamp `ts`.
 * Compact unless `pretty`. Returns 0, or -1 if out overflowed.
 */
int msg_build(struct buf *out, const struct cfg *c, const struct facts *f, const char *id,
    const char *ts, int pretty);

/*
 * Collects the system facts and builds the message with instance ID `id`, stamped
 * with the current time: what `show` prints and `report` keeps and sends.
 * Returns 0, or -1 if out overflowed.
 */
int msg_compose(struct buf *out, const struct cfg *c, const char *id, int pretty);

#endif
