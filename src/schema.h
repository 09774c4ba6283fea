/*
 * schema: one writer for a message and for its JSON Schema (draft 2020-12).
 *
 * message.c writes each format once, through these calls. A writer set up with
 * schema_writer_init writes the message; one set up with schema_writer_init_schema
 * writes, for the very same calls, the schema that every message they can write
 * for the same config matches. So a field cannot be sent without being in the
 * schema, and the schema lists no field that is not sent.
 *
 * Each value says what is known of it before the run (struct schema_value):
 *   SCHEMA_FIXED       a string the config or anontel fixes: {"type":"string","const":s}
 *   SCHEMA_MATCH       a string made by the run (an ID, a time): {"type":"string","pattern":p}
 *   SCHEMA_TEXT        a string read from the system: {"type":"string","maxLength":n}
 *   SCHEMA_BOOL        a boolean: {"type":"boolean"}
 *   SCHEMA_FIXED_BOOL  a boolean anontel fixes: {"type":"boolean","const":b}
 *   SCHEMA_FIXED_UINT  an integer anontel fixes: {"type":"integer","const":n}
 * An object's schema is {"type":"object","properties":{...},"required":[every key],
 * "additionalProperties":false}: a writer writes the same members every time for
 * one config, so each is required and no other is allowed ("properties" and
 * "required" are left out when it has none). An array's is {"type":"array",
 * "prefixItems":[...],"minItems":n,"items":false}: exactly its n elements, in order
 * ({"type":"array","items":false} when it has none).
 *
 * The schema's "required" lists are copied from the keys already written into the
 * output, so a key must be written as it is (no byte that JSON escapes); one that
 * is not, more than SCHEMA_MAX_KEYS keys in the open objects at once, or nesting
 * deeper than SCHEMA_MAX_DEPTH, marks the output overflowed. Nothing here
 * allocates; the schema's bookkeeping lives in the caller's struct schema_room.
 */
#ifndef ANONTEL_SCHEMA_H
#define ANONTEL_SCHEMA_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "json.h"

/* The keys of all open objects at once: the features of one level, and some. */
#define SCHEMA_MAX_KEYS  (CFG_MAX_FEATURES + 64)
/* Open objects and arrays of the message (its schema nests twice as deep). */
#define SCHEMA_MAX_DEPTH JSON_MAX_DEPTH

enum schema_kind {
	SCHEMA_FIXED, SCHEMA_MATCH, SCHEMA_TEXT, SCHEMA_BOOL, SCHEMA_FIXED_BOOL, SCHEMA_FIXED_UINT
};

/* A value of the message and what its schema says of it. */
struct schema_value {
	enum schema_kind kind;
	uint32_t n;             /* TEXT: most characters; BOOL kinds: 0 or 1; UINT: the number */
	const char *s;          /* FIXED, MATCH, TEXT: the string (NUL-terminated) */
	const char *pattern;    /* MATCH: an anchored ECMA-262 regular expression */
};

/* The schema's bookkeeping: per open object or array, whether it is an array,
 * how many members it has so far, and where its keys start in key[]; key[] holds
 * the output offsets of the open objects' keys. Large: keep it static. */
struct schema_room {
	struct {
		uint8_t array;
		uint32_t members;
		uint32_t first;
	} level[SCHEMA_MAX_DEPTH];
	uint32_t key[SCHEMA_MAX_KEYS];
	unsigned depth;
	uint32_t n_keys;
};

struct schema_writer {
	struct json_writer j;
	struct schema_room *room;   /* NULL: writing the message */
	const char *id, *title;     /* the schema's "$id" and "title" */
};

/* Writes messages into b, compact or indented as json.h's writer does. */
void schema_writer_init(struct schema_writer *w, struct buf *b, int pretty);

/* Writes the schema of the messages the same calls would write into b, using room
 * (emptied here). Its top-level object starts with "$schema" (draft 2020-12's
 * URI), "$id": id and "title": title. */
void schema_writer_init_schema(struct schema_writer *w, struct buf *b, int pretty,
    struct schema_room *room, const char *id, const char *title);

/* Writes v under key (NULL: an array's element, or the top-level value). */
void schema_put(struct schema_writer *w, const char *key, const struct schema_value *v);

/* schema_put of the commonest two: a string fixed before the run (SCHEMA_FIXED),
 * and one the run makes, matching pattern (SCHEMA_MATCH). */
void schema_fixed(struct schema_writer *w, const char *key, const char *s);
void schema_match(struct schema_writer *w, const char *key, const char *s, const char *pattern);

/* Opens an object, or an array, under key (NULL as for schema_put); closes the
 * innermost open one. */
void schema_object_begin(struct schema_writer *w, const char *key);
void schema_object_end(struct schema_writer *w);
void schema_array_begin(struct schema_writer *w, const char *key);
void schema_array_end(struct schema_writer *w);

#endif
