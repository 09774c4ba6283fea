#include "schema.h"

#include <string.h>

static const char draft[] = "https://json-schema.org/draft/2020-12/schema";

void
schema_writer_init(struct schema_writer *w, struct buf *b, int pretty)
{
	json_writer_init(&w->j, b, pretty);
	w->room = NULL;
	w->id = w->title = NULL;
}

void
schema_writer_init_schema(struct schema_writer *w, struct buf *b, int pretty,
    struct schema_room *room, const char *id, const char *title)
{
	schema_writer_init(w, b, pretty);
	room->depth = 0;
	room->n_keys = 0;
	w->room = room;
	w->id = id;
	w->title = title;
}

static void
put_str(struct json_writer *j, const char *key, const char *s)
{
	json_put_string(j, key, s, strlen(s));
}

/* v itself: the message's value, and the "const" of a fixed one's schema. */
static void
put_value(struct json_writer *j, const char *key, const struct schema_value *v)
{
	switch (v->kind) {
	case SCHEMA_FIXED:
	case SCHEMA_MATCH:
	case SCHEMA_TEXT:
		put_str(j, key, v->s);
		break;
	case SCHEMA_BOOL:
	case SCHEMA_FIXED_BOOL:
		json_put_bool(j, key, v->n != 0);
		break;
	case SCHEMA_FIXED_UINT:
		json_put_uint(j, key, v->n);
		break;
	}
}

/* Notes where key was written (the first '"' at or after `at`), for the object's
 * "required" list, which copies it from there: so it must stand there as it is. */
static void
keep_key(struct schema_writer *w, size_t at, const char *key)
{
	struct schema_room *r = w->room;
	struct buf *b = w->j.b;
	size_t n = strlen(key);
	const char *q;

	if (b->overflow)
		return;
	q = memchr(b->p + at, '"', b->len - at);
	if (q == NULL || r->n_keys == SCHEMA_MAX_KEYS || b->len > UINT32_MAX ||
	    (size_t)(b->p + b->len - q) < n + 2 || memcmp(q + 1, key, n) != 0 || q[n + 1] != '"') {
		b->overflow = 1;
		return;
	}
	r->key[r->n_keys++] = (uint32_t)(q + 1 - b->p);
}

/* Opens the schema of a value under key: first the innermost object's "properties"
 * or array's "prefixItems" when this is its first member; at the top, the header. */
static void
open_value(struct schema_writer *w, const char *key)
{
	struct schema_room *r = w->room;
	int in_object = 0;
	size_t at;

	if (r->depth > 0 && r->depth <= SCHEMA_MAX_DEPTH) {
		in_object = !r->level[r->depth - 1].array;
		if (r->level[r->depth - 1].members++ == 0) {
			if (in_object)
				json_object_begin(&w->j, "properties");
			else
				json_array_begin(&w->j, "prefixItems");
		}
	}
	at = w->j.b->len;
	json_object_begin(&w->j, key);
	if (in_object && key != NULL)
		keep_key(w, at, key);
	if (r->depth == 0) {
		put_str(&w->j, "$schema", draft);
		put_str(&w->j, "$id", w->id);
		put_str(&w->j, "title", w->title);
	}
}

static void
push(struct schema_writer *w, int array)
{
	struct schema_room *r = w->room;

	if (r->depth >= SCHEMA_MAX_DEPTH) {
		w->j.b->overflow = 1;      /* depth still counts, so that ends pair up */
	} else {
		r->level[r->depth].array = (uint8_t)array;
		r->level[r->depth].members = 0;
		r->level[r->depth].first = r->n_keys;
	}
	r->depth++;
}

/* Pops the innermost level; its member count, or 0 when it was too deep to keep. */
static uint32_t
pop(struct schema_writer *w)
{
	struct schema_room *r = w->room;

	if (r->depth == 0) {
		w->j.b->overflow = 1;
		return 0;
	}
	if (--r->depth >= SCHEMA_MAX_DEPTH)
		return 0;
	/* Forgets its keys; their offsets stay readable until another key is kept. */
	r->n_keys = r->level[r->depth].first;
	return r->level[r->depth].members;
}

void
schema_put(struct schema_writer *w, const char *key, const struct schema_value *v)
{
	static const char *const type[] = {
		[SCHEMA_FIXED] = "string", [SCHEMA_MATCH] = "string", [SCHEMA_TEXT] = "string",
		[SCHEMA_BOOL] = "boolean", [SCHEMA_FIXED_BOOL] = "boolean",
		[SCHEMA_FIXED_UINT] = "integer",
	};

	if (w->room == NULL) {
		put_value(&w->j, key, v);
		return;
	}
	open_value(w, key);
	put_str(&w->j, "type", type[v->kind]);
	if (v->kind == SCHEMA_MATCH && v->pattern != NULL)
		put_str(&w->j, "pattern", v->pattern);
	else if (v->kind == SCHEMA_MATCH)
		w->j.b->overflow = 1;         /* a run-time string with no rule: refused */
	else if (v->kind == SCHEMA_TEXT)
		json_put_uint(&w->j, "maxLength", v->n);
	else if (v->kind != SCHEMA_BOOL)
		put_value(&w->j, "const", v);
	json_object_end(&w->j);
}

void
schema_fixed(struct schema_writer *w, const char *key, const char *s)
{
	const struct schema_value v = { SCHEMA_FIXED, 0, s, NULL };

	schema_put(w, key, &v);
}

void
schema_match(struct schema_writer *w, const char *key, const char *s, const char *pattern)
{
	const struct schema_value v = { SCHEMA_MATCH, 0, s, pattern };

	schema_put(w, key, &v);
}

/* Opens an object or an array: {"type":"object" or "array", then its members. */
static void
begin(struct schema_writer *w, const char *key, int array)
{
	if (w->room == NULL) {
		(array ? json_array_begin : json_object_begin)(&w->j, key);
		return;
	}
	open_value(w, key);
	put_str(&w->j, "type", array ? "array" : "object");
	push(w, array);
}

void
schema_object_begin(struct schema_writer *w, const char *key)
{
	begin(w, key, 0);
}

/* Closes the innermost object or array: in the schema, "required" (an object's
 * keys) or "minItems" (an array's length), then no other member or element. */
static void
end(struct schema_writer *w, int array)
{
	struct schema_room *r = w->room;
	struct buf *b = w->j.b;
	void (*close)(struct json_writer *) = array ? json_array_end : json_object_end;
	uint32_t first = 0, n = 0, members;

	if (r == NULL) {
		close(&w->j);
		return;
	}
	if (r->depth > 0 && r->depth <= SCHEMA_MAX_DEPTH) {
		first = r->level[r->depth - 1].first;
		n = r->n_keys - first;
	}
	if ((members = pop(w)) > 0) {
		close(&w->j);                           /* "properties" or "prefixItems" */
		if (array) {
			json_put_uint(&w->j, "minItems", members);
		} else {
			json_array_begin(&w->j, "required");
			for (uint32_t i = first; i < first + n && !b->overflow; i++) {
				const char *k = b->p + r->key[i];
				const char *e = memchr(k, '"', b->len - r->key[i]);

				if (e == NULL)
					b->overflow = 1;
				else
					json_put_string(&w->j, NULL, k, (size_t)(e - k));
			}
			json_array_end(&w->j);
		}
	}
	json_put_bool(&w->j, array ? "items" : "additionalProperties", 0);
	json_object_end(&w->j);
}

void
schema_object_end(struct schema_writer *w)
{
	end(w, 0);
}

void
schema_array_begin(struct schema_writer *w, const char *key)
{
	begin(w, key, 1);
}

void
schema_array_end(struct schema_writer *w)
{
	end(w, 1);
}
