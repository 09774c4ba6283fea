/*
 * main: the only place that prints and the only place that exits. Each verb
 * gathers what it needs from the modules and turns their codes into one line of
 * text and an exit status: 0 done (or nothing to do), 1 not delivered or
 * unhealthy, 2 usage or config error (check never exits 2: Docker reserves it).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "config.h"
#include "http.h"
#include "id.h"
#include "json.h"
#include "message.h"
#include "net.h"
#include "report.h"
#include "sandbox.h"
#include "state.h"
#include "tls.h"
#include "url.h"

#define EXIT_DONE   0
#define EXIT_FAILED 1
#define EXIT_USAGE  2

#define MSG_MAX STATE_MSG_MAX

/* What one run owns. The big buffers exist once and every verb shares them: the
 * message being shown, built or sent, and the room for a CA file's anchors (the
 * probe's trust, then the report's, never at the same time). The config parser's
 * scratch is lent from the message buffer: no message exists before the config is
 * read, and the scratch is dead once it is. */
static struct cfg config;
static _Alignas(max_align_t) char message[MSG_MAX];
_Static_assert(MSG_MAX >= CFG_SCRATCH_SIZE, "the message buffer cannot hold cfg_load's scratch");
static struct tls_store store;
/* The state dir as the verbs that only read it or remove from it see it (status,
 * show's first report, forget, an opted-out report); one at a time, so one is
 * kept (report.c and id.c keep their own). */
static struct state statedir;

/* Finds the config's state dir (state_find) as statedir. */
static int
find_state(char *err, size_t errlen)
{
	return state_find(&statedir, config.state_dir, err, errlen);
}

/* find_state for a verb that reads or removes what is kept: 1 found; 0 none made
 * yet, so nothing is kept; -1 none usable (err: why), so what may be kept cannot
 * be seen, which is not "nothing". */
static int
find_kept(char *err, size_t errlen)
{
	char why[512];
	int r = find_state(why, sizeof why);

	if (r < 0)
		buf_join(err, errlen, "no usable state directory: ", why, NULL);
	return r < 0 ? -1 : r == 0;
}

/* The telemetry endpoint, resolved once (client.h): 1 resolved, -1 refused with
 * endpoint_error ("" when none is configured), 0 not yet. */
static struct client_dest endpoint;
static int endpoint_state;
static char endpoint_error[512];

/* The proxy variables, for a destination (url.c reads no environment). */
static const struct url_env *
proxy_env(void)
{
	static struct url_env env;

	for (size_t i = 0; i < URL_PROXY_VARS; i++)
		env.value[i] = getenv(url_proxy_vars[i]);
	return &env;
}

/* Resolves the endpoint once the config is final: parsed and checked (plain
 * http:// to loopback only), the proxy settings read, the trust settings set. */
static int
resolve_endpoint(void)
{
	if (endpoint_state != 0)
		return endpoint_state;
	endpoint_state = -1;
	if (config.endpoint[0] == '\0')
		return -1;
	if (client_dest_init(&endpoint, config.endpoint, 0, proxy_env(), config.proxy,
	    endpoint_error, sizeof endpoint_error) != 0)
		return -1;
	endpoint.trust.pin = config.pin;
	endpoint.trust.ca_file = config.ca_file;
	endpoint.trust.store = &store;
	return endpoint_state = 1;
}

/* Writes all of s to fd. Returns 0, or -1 with errno. */
static int
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Prints "anontel: <a><b><c>\n" on stderr as one write, so lines never interleave.
 * Bytes from outside in the parts (a path, a value from the environment, a
 * server's text) show control bytes escaped. A failed write to stderr leaves
 * nothing better to do than stop. */
static void
say3(const char *a, const char *b, const char *c)
{
	const char *part[] = { a, b, c };
	char text[2048];
	struct buf l;

	buf_init(&l, text, sizeof text - 1);
	buf_str(&l, "anontel: ");
	for (size_t i = 0; i < 3; i++)
		if (part[i] != NULL)
			buf_shown(&l, part[i], strlen(part[i]));
	text[l.len++] = '\n';
	(void)write_all(STDERR_FILENO, text, l.len);
}

static void
say(const char *a, const char *b)
{
	say3(a, b, NULL);
}

static void
log_line(void *ctx, const char *text)
{
	(void)ctx;
	say(text, NULL);
}

/* Writes n bytes of a verb's output to stdout. Returns the exit status: a full
 * disk or a reader gone (EPIPE: SIGPIPE is ignored) is a failure, said once. */
static int
out_bytes(const char *s, size_t n)
{
	if (write_all(STDOUT_FILENO, s, n) == 0)
		return EXIT_DONE;
	say("cannot write to standard output: ", strerror(errno));
	return EXIT_FAILED;
}

static int
out(const char *s)
{
	return out_bytes(s, strlen(s));
}

/* Whether config holds the file's settings (cfg_load succeeded). */
static int config_loaded;

#define LOAD_ERR_MAX 1024

/* Reads the config (cfg_load) into config. Returns 0, or -1 with the reason in
 * err[LOAD_ERR_MAX]. */
static int
read_config(const struct cli *cl, char *err)
{
	config_loaded = cfg_load(&config, &cl->flags, message, err, LOAD_ERR_MAX) == 0;
	return config_loaded ? 0 : -1;
}

/* read_config for a verb that cannot go on without the file: a config error is
 * said. Returns 0 or -1. */
static int
need_config(const struct cli *cl)
{
	char err[LOAD_ERR_MAX];

	if (read_config(cl, err) == 0)
		return 0;
	say(err, NULL);
	return -1;
}

/* Whether the rule that decided leaves telemetry on. */
static int
rule_is_on(enum cfg_rule rule)
{
	return rule == CFG_RULE_DEFAULT || rule == CFG_RULE_CONFIG_ENABLED;
}

/* Loads the config; an env opt-out wins before any file is read. Returns the rule
 * that decides on or off, or -1 on a config error (said). */
static int
decide(const struct cli *cl)
{
	enum cfg_rule rule = cfg_env_optout();

	if (rule != CFG_RULE_DEFAULT)
		return rule;
	return need_config(cl) == 0 ? (int)config.rule : -1;
}

/* decide, for the verbs that stop when telemetry is off. Returns 1 when on, 0
 * when off (and says so unless quiet), -1 on a config error (said). */
static int
load_config(const struct cli *cl)
{
	int rule = decide(cl);

	if (rule < 0)
		return -1;
	if (!rule_is_on(rule)) {
		if (!cl->quiet)
			say("telemetry is off: ", cfg_rule_text(rule));
		return 0;
	}
	return 1;
}

/* Enters the system-call sandbox once per run, after the verb has read its inputs
 * (sandbox.h). A kernel that refuses it is not an error: the run goes on, and -v
 * says so. ANONTEL_SANDBOX=off skips it for a debugging run (valgrind does not
 * model seccomp: the filter would kill valgrind itself). */
static void
enter_sandbox(const struct cli *cl, enum sandbox_class class)
{
	static int entered;
	const char *off = getenv("ANONTEL_SANDBOX");
	char err[256], num[24];
	struct buf b;
	int n;

	if (entered)
		return;
	entered = 1;
	if (off != NULL && strcmp(off, "off") == 0) {
		if (cl->verbose)
			say("sandbox: off (ANONTEL_SANDBOX=off)", NULL);
		return;
	}
	n = sandbox_enter(class, err, sizeof err);
	if (!cl->verbose)
		return;
	if (n < 0) {
		say("sandbox: not available: ", err);
		return;
	}
	buf_init(&b, num, sizeof num);
	buf_uint(&b, (uint64_t)n, 1);
	say3("sandbox: on (", num, " system calls allowed)");
}

/* The ID: made by `id` (id_compute), only read by show, which writes nothing
 * (SPEC §1). Returns 0, or the exit status for the failure: 2 for a config error,
 * 1 when the machine lacks what the scheme needs. */
static int
compute_id(struct id *id, const struct cli *cl)
{
	char err[512];
	int rc;

	if (cl->verb == CLI_ID)
		rc = id_compute(id, &config, "/", err, sizeof err);
	else
		rc = id_read(id, &config, "/", err, sizeof err);

	if (rc != 0) {
		say("id: ", err);
		return rc == ID_ERR_CONFIG ? EXIT_USAGE : EXIT_FAILED;
	}
	if (cl->verbose && id->scheme != config.scheme)
		say("id: ", id->why);
	return 0;
}

/* "telemetry is on (rule); report sends this to URL" (userinfo never shown). */
static void
say_destination(void)
{
	char text[CFG_URL_MAX + 1024];
	struct buf b;

	buf_init(&b, text, sizeof text);
	if (resolve_endpoint() > 0) {
		buf_str(&b, "); report sends this to ");
		url_format(&b, &endpoint.url);
	} else if (endpoint_error[0] == '\0') {
		buf_str(&b, "); no endpoint configured");
	} else {
		buf_str(&b, "); the endpoint is invalid: ");
		buf_str(&b, endpoint_error);
	}
	say3("telemetry is on (", cfg_rule_text(config.rule), text);
}

/* The state dir's first report (stamps; 0 when none): scheme none's age counts
 * from it. Reads only. */
static int64_t
first_report_ms(void)
{
	struct state_stamps st;

	st.first_report_ms = 0;
	if (find_state(NULL, 0) == 0)
		(void)state_read_stamps(&statedir, &st, NULL, 0);
	state_close(&statedir);
	return st.first_report_ms;
}

static int
verb_show(const struct cli *cl)
{
	static struct facts facts;
	unsigned char random[MSG_UUID_RANDOM];
	struct msg_stamp stamp;
	struct id id;
	struct buf b;
	int64_t now = report_now_ms();
	int rc, on = load_config(cl);

	if (on <= 0)
		return on < 0 ? EXIT_USAGE : EXIT_DONE;
	report_random(random, sizeof random);    /* the message's UUID: before the sandbox */
	msg_stamp(&stamp, now, random);
	enter_sandbox(cl, SANDBOX_LOCAL);
	/* show never fails for want of an ID (a bare chroot has no /proc or
	 * machine-id): it shows an empty one, and report refuses to send it. */
	rc = compute_id(&id, cl);
	if (rc == EXIT_USAGE)
		return rc;
	if (rc != 0)
		id.hex[0] = '\0';
	else if (id.scheme == CFG_SCHEME_NONE)     /* the stamps are read for it alone */
		stamp.age = id_message_age(&id, first_report_ms(), now);
	facts_collect(&facts);
	buf_init(&b, message, sizeof message);
	msg_build(&b, &config, &facts, id.hex, &stamp, cl->pretty);
	buf_char(&b, '\n');
	if (b.overflow) {
		say("the message is larger than 256 KiB", NULL);
		return EXIT_FAILED;
	}
	if (out_bytes(b.p, b.len) != EXIT_DONE)
		return EXIT_FAILED;
	if (!cl->quiet)
		say_destination();
	return EXIT_DONE;
}

static int
verb_id(const struct cli *cl)
{
	char text[2048];
	struct buf b;
	struct id id;
	int rc, on = load_config(cl);

	if (on <= 0)
		return on < 0 ? EXIT_USAGE : EXIT_DONE;
	if ((rc = compute_id(&id, cl)) != 0)
		return rc;
	enter_sandbox(cl, SANDBOX_LOCAL);
	buf_init(&b, text, sizeof text);
	if (cl->explain) {
		id_explain(&id, &b);
	} else if (id.scheme == CFG_SCHEME_NONE) {
		if (!cl->quiet)
			say("id: scheme none: no instance ID is made or sent", NULL);
		return EXIT_DONE;
	} else {
		buf_str(&b, id.hex);
		buf_char(&b, '\n');
	}
	if (b.overflow) {
		say("id --explain: output too long", NULL);
		return EXIT_FAILED;
	}
	return out(text);
}

/* The JSON Schema of the messages this config makes (msg_schema), printed on or
 * off: it reads nothing but the config, and describes what report would send. */
static int
verb_schema(const struct cli *cl)
{
	struct buf b;

	if (need_config(cl) != 0)
		return EXIT_USAGE;
	enter_sandbox(cl, SANDBOX_LOCAL);
	buf_init(&b, message, sizeof message);
	if (msg_schema(&b, &config, cl->pretty) == 0)
		buf_char(&b, '\n');
	if (b.overflow) {
		say("the schema is larger than 256 KiB", NULL);
		return EXIT_FAILED;
	}
	if (!config.enabled && !cl->quiet)
		say3("telemetry is off: ", cfg_rule_text(config.rule), " (the schema is of what "
		    "report would send if it were on)");
	return out_bytes(b.p, b.len);
}

/* What status reports, gathered once and printed as text or JSON. */
struct status_view {
	int on;                       /* telemetry on or off */
	const char *decided_by;
	int config_read;
	char config_error[1024];      /* why the file could not be read, when opted out anyway */
	char endpoint[CFG_URL_MAX + 64];   /* without userinfo */
	char scheme[256];             /* with the fallback, when the butler scheme falls back */
	char trust[CFG_PATH_MAX + 64];  /* what certificates are checked against */
	int have_state;               /* stamps and kept list known (defaults before the first run) */
	struct state_stamps st;
	size_t kept;
	size_t logged;                /* delivered messages in the audit log */
	char state_note[512];         /* why there is no state, or a read error */
	int64_t next_due_ms;          /* 0 = now */
	size_t ignored;               /* entries in kept/ that are not messages */
	int clock_was_wrong;          /* stamps held times in the future */
};

/* The endpoint as status shows it: never the userinfo. */
static void
status_endpoint(struct status_view *v)
{
	struct buf b;

	if (resolve_endpoint() > 0) {
		buf_init(&b, v->endpoint, sizeof v->endpoint);
		url_format(&b, &endpoint.url);
	} else if (endpoint_error[0] != '\0') {
		buf_join(v->endpoint, sizeof v->endpoint, "(invalid: ", endpoint_error, ")");
	}
}

/* The scheme; for auto, what it chose and why; for butler, whether it falls
 * back on this machine (reading only: a random ID not made yet is not made here). */
static void
status_scheme(struct status_view *v)
{
	static struct id id;
	char err[512];
	struct buf b;
	int rc;

	buf_init(&b, v->scheme, sizeof v->scheme);
	if (config.scheme != CFG_SCHEME_BUTLER && config.scheme != CFG_SCHEME_AUTO) {
		buf_str(&b, id_scheme_name(config.scheme));
		return;
	}
	rc = id_read(&id, &config, "/", err, sizeof err);
	if (config.scheme == CFG_SCHEME_AUTO) {
		/* "random (auto: locally administered MAC, ...)", then what is missing. */
		buf_str(&b, id_scheme_name(id.scheme));
		buf_str(&b, " (");
		buf_str(&b, id.why);
		buf_char(&b, ')');
		if (rc != 0) {
			buf_str(&b, "; ");
			buf_str(&b, err);
		}
		return;
	}
	buf_str(&b, id_scheme_name(config.scheme));
	if (rc != 0) {
		buf_str(&b, " (no ID on this machine: ");
		buf_str(&b, err);
		buf_char(&b, ')');
	} else if (id.scheme != CFG_SCHEME_BUTLER) {
		buf_str(&b, " (");
		buf_str(&b, id.why);
		buf_str(&b, ": machine-id)");
	}
}

/* The trust source in force, by name: a base image's SSL_CERT_FILE silently
 * replacing tls.caFile is what an operator needs to see. */
static void
status_trust(struct status_view *v)
{
	struct buf b;

	buf_init(&b, v->trust, sizeof v->trust);
	if (config.pin[0] != '\0') {
		buf_str(&b, "tls.pin (the server's key alone)");
	} else if (config.ca_file[0] != '\0') {
		buf_str(&b, config.ca_file_from);     /* "tls.caFile" or "SSL_CERT_FILE" */
		buf_char(&b, ' ');
		buf_str(&b, config.ca_file);
	} else {
		buf_str(&b, "built-in roots (");
		buf_uint(&b, tls_builtin_count(), 1);
		buf_str(&b, " from Debian ca-certificates)");
	}
}

static void
gather_status(struct status_view *v)
{
	char *note = v->state_note;
	uint64_t seq;
	int64_t now = report_now_ms();
	int found;

	status_endpoint(v);
	status_scheme(v);
	status_trust(v);
	found = find_state(note, sizeof v->state_note);     /* status shows statedir.dir */
	if (found != 0) {
		/* Not made yet (1): what a first run would find (v comes zeroed:
		 * verb_status); or none usable. */
		v->have_state = found > 0;
	} else {
		v->have_state = state_read_stamps(&statedir, &v->st, note, sizeof v->state_note) == 0 &&
		    state_list_kept(&statedir, &seq, 1, &v->kept, note, sizeof v->state_note) >= 0 &&
		    state_list_log(&statedir, &seq, 1, &v->logged, note, sizeof v->state_note) >= 0;
		v->ignored = statedir.kept_ignored;
	}
	state_close(&statedir);
	if (found != 0 || !v->have_state)
		return;
	/* As report decides (report.c), with what a wrong clock left brought back. */
	v->clock_was_wrong = (report_clamp_stamps(&v->st, now, config.interval_ms) &
	    REPORT_CLOCK_WAS_WRONG) != 0;
	v->next_due_ms = report_next_due_ms(&v->st, v->kept, config.interval_ms);
	if (v->next_due_ms <= now)
		v->next_due_ms = 0;
}

/* Where status writes: text lines or one JSON object, field by field in the same
 * order. The text shows a word where the JSON has an empty value. */
struct status_out {
	struct buf *b;
	struct json_writer w;
	int json;
};

/* "label: value" (empty: the word `empty`, when given), or "key": "value". */
static void
put_field(struct status_out *o, const char *label, const char *key, const char *value,
    const char *empty)
{
	if (o->json)
		json_put_string(&o->w, key, value, strlen(value));
	else
		buf_line(o->b, label, value[0] == '\0' && empty != NULL ? empty : value);
}

/* A time: 0 is `zero` in the text, "" in the JSON. */
static void
put_when(struct status_out *o, const char *label, const char *key, int64_t ms,
    const char *zero)
{
	char ts[MSG_TS_LEN + 1];

	ts[0] = '\0';
	if (ms != 0)
		msg_timestamp(ms, ts);
	put_field(o, label, key, ts, zero);
}

/* A count, with what the text says after it (NULL: nothing). */
static void
put_count(struct status_out *o, const char *label, const char *key, uint64_t n,
    const char *more)
{
	if (o->json) {
		json_put_uint(&o->w, key, n);
		return;
	}
	buf_str(o->b, label);
	buf_str(o->b, ": ");
	buf_uint(o->b, n, 1);
	if (more != NULL)
		buf_str(o->b, more);
	buf_char(o->b, '\n');
}

static void
status_print(struct buf *b, const struct status_view *v, int json)
{
	char names[CFG_HEADERS_MAX];
	struct status_out o;
	struct buf n;

	o.b = b;
	o.json = json;
	if (json) {
		json_writer_init(&o.w, b, 0);
		json_object_begin(&o.w, NULL);
	}
	put_field(&o, "telemetry", "telemetry", v->on ? "on" : "off", NULL);
	put_field(&o, "decided by", "decidedBy", v->decided_by, NULL);
	if (!v->config_read) {
		put_field(&o, "config", "configError", v->config_error, NULL);
		goto end;
	}
	put_field(&o, "config", "config", config.file, "(none: defaults and environment)");
	put_field(&o, "endpoint", "endpoint", v->endpoint, "(none configured)");
	put_field(&o, "format", "format", msg_format_name(config.format), NULL);
	buf_init(&n, names, sizeof names);
	cfg_header_names(&config, &n);         /* names only: values may be secrets */
	put_field(&o, "headers", "headers", names, "(none)");
	put_field(&o, "id scheme", "idScheme", v->scheme, NULL);
	put_field(&o, "trust", "trust", v->trust, NULL);
	put_field(&o, "state dir", "stateDir", statedir.dir, "(none usable)");
	if (!v->have_state) {
		put_field(&o, "state", "stateError", v->state_note, NULL);
		goto end;
	}
	put_when(&o, "last success", "lastSuccess", v->st.last_success_ms, "never");
	if (v->on)     /* nothing is due while off */
		put_when(&o, "next due", "nextDue", v->next_due_ms, "now");
	put_count(&o, "kept messages", "kept", v->kept, NULL);
	put_count(&o, "dropped messages", "dropped", v->st.dropped, NULL);
	put_count(&o, "rejected messages", "rejected", v->st.rejected, NULL);
	put_count(&o, "delivered messages", "delivered", v->st.sent, NULL);
	put_count(&o, "logged messages", "logged", v->logged, " (status --log prints them)");
	put_when(&o, "first report", "firstReport", v->st.first_report_ms, "never");
	put_count(&o, "ignored in kept/", "ignoredInKept", v->ignored, v->ignored > 0 ?
	    " (not messages of anontel: left alone)" : NULL);
	if (v->clock_was_wrong && !json)
		buf_line(b, "clock", "the state holds times in the future (a clock that was wrong); "
		    "the next report counts from now");
	put_field(&o, "last error", "lastError", v->st.last_error, "(none)");
end:
	if (json) {
		json_object_end(&o.w);
		buf_char(b, '\n');
	}
}

/* 1 when a logged message is one line of JSON, as every message is sent. A power
 * cut can leave the newest entry empty or cut off (its file was not fsynced:
 * state.h); such an entry is refused, never printed as a message. */
static int
logged_whole(const char *p, size_t n)
{
	return memchr(p, '\n', n) == NULL && json_validate(p, n, NULL) == 0;
}

/* status --last: the last delivered message, as it was sent. */
static int
status_last(void)
{
	char err[512];
	size_t n = 0;
	int r = find_kept(err, sizeof err);

	if (r > 0)
		r = state_read_last(&statedir, message, sizeof message - 1, &n, err, sizeof err);
	state_close(&statedir);
	if (r <= 0 || !logged_whole(message, n)) {
		say("status --last: ", r < 0 ? err : r == 0 ? "no message has been delivered yet" :
		    "the entry is not one line of JSON (refused)");
		return EXIT_FAILED;
	}
	message[n] = '\n';
	return out_bytes(message, n + 1);
}

/* status --log: the audit log, oldest first, one message a line, as each was sent
 * (compact JSON has no newline; an entry that is not one line of JSON is refused). */
static int
status_log(const struct cli *cl)
{
	uint64_t seq[STATE_LOG_MAX + 1];
	char err[512];
	int rc = EXIT_DONE, found = find_kept(err, sizeof err);
	int n = found <= 0 ? found :
	    state_list_log(&statedir, seq, STATE_LOG_MAX + 1, NULL, err, sizeof err);

	if (n < 0) {
		say("status --log: ", err);
		rc = EXIT_FAILED;
	} else if (n == 0 && !cl->quiet) {
		say("status --log: ", "no delivered message is logged");
	}
	for (int i = 0; i < n && rc != EXIT_FAILED; i++) {
		ssize_t len = state_read_log(&statedir, seq[i], message, sizeof message - 1, err,
		    sizeof err);

		if (len >= 0 && !logged_whole(message, (size_t)len)) {
			say("status --log: ", "an entry is not one line of JSON (refused)");
			rc = EXIT_FAILED;
		} else if (len < 0) {
			say("status --log: ", err);
			rc = EXIT_FAILED;
		} else {
			message[len] = '\n';
			rc = out_bytes(message, (size_t)len + 1);
		}
	}
	state_close(&statedir);
	return rc;
}

static int
verb_status(const struct cli *cl)
{
	struct status_view v;
	char text[16384];
	enum cfg_rule rule = cfg_env_optout();
	char err[LOAD_ERR_MAX];
	struct buf b;

	memset(&v, 0, sizeof v);
	/* status reads the file even when the environment opts out: it reports. */
	v.config_read = read_config(cl, err) == 0;
	if (!v.config_read && rule == CFG_RULE_DEFAULT) {
		say(err, NULL);
		return EXIT_USAGE;
	}
	buf_join(v.config_error, sizeof v.config_error, "error (ignored, opted out): ", err, NULL);
	if (v.config_read && rule == CFG_RULE_DEFAULT)
		rule = config.rule;
	enter_sandbox(cl, SANDBOX_LOCAL);
	if (cl->last)
		return status_last();
	if (cl->log)
		return status_log(cl);
	v.on = rule_is_on(rule);
	v.decided_by = cfg_rule_text(rule);
	if (v.config_read)
		gather_status(&v);
	buf_init(&b, text, sizeof text);
	status_print(&b, &v, cl->json);
	return out(text);
}

/* Checks the endpoint before anything is built: a config error, not a network one. */
static int
check_endpoint(const char *who)
{
	if (resolve_endpoint() > 0)
		return 0;
	if (endpoint_error[0] == '\0')
		say3(who, "no endpoint configured (config \"endpoint\", ANONTEL_ENDPOINT "
		    "or --endpoint)", NULL);
	else
		say3(who, "endpoint: ", endpoint_error);
	return -1;
}

static void
warn_clock(const struct cli *cl)
{
	static int warned;

	if (!cl->quiet && !warned++)
		say("warning: the system clock is before this build's date; "
		    "checking certificates as of " ANONTEL_BUILD_DATE, NULL);
}

/* When the notice is given: by `anontel notice`, after the first delivery from a
 * state dir, or while check --report hands the first report to its background
 * child (whose output nobody sees), until one is delivered. */
enum notice_when { NOTICE_VERB, NOTICE_SENT, NOTICE_SENDING };

/* The scheme that makes (or would make) the ID, as it really is: what auto
 * chooses, or butler's fallback to machine-id. Reads only. */
static enum cfg_scheme
scheme_in_use(void)
{
	static struct id id;
	char err[512];

	(void)id_read(&id, &config, "/", err, sizeof err);
	return id.scheme == CFG_SCHEME_AUTO ? CFG_SCHEME_RANDOM : id.scheme;
}

/* The notice, one line (a container's log keeps it whole): what is sent, with the
 * ID described as its scheme makes it, where, how to see it, how to turn it off.
 * `anontel notice` and report's first delivery both print this text. */
static void
put_notice(struct buf *b, enum notice_when when)
{
	static const char *const lead[] = { "anontel sends", "sent", "sending" };
	static const char *const tail[] = { "", " This notice is shown once.",
		" This notice is shown until the first report is delivered." };
	const char *id_words = id_scheme_notice(scheme_in_use());

	buf_str(b, lead[when]);
	buf_str(b, " anonymous usage telemetry (versions, OS, CPU architecture, VM or not, "
	    "enabled features, ");
	buf_str(b, id_words != NULL ? id_words : "an instance ID");
	buf_str(b, ") to ");
	if (resolve_endpoint() > 0)
		url_format(b, &endpoint.url);
	buf_str(b, when == NOTICE_SENDING ? " in the background" : "");
	buf_str(b, "; `anontel show` prints it; DO_NOT_TRACK=1 turns it off.");
	buf_str(b, tail[when]);
}

static void
say_notice(int handed_off)
{
	char text[CFG_URL_MAX + 1024];
	struct buf b;

	buf_init(&b, text, sizeof text);
	put_notice(&b, handed_off ? NOTICE_SENDING : NOTICE_SENT);
	say(text, NULL);
}

/* notice: the notice on stdout, for a container's entrypoint; when telemetry is
 * off, that nothing is sent and why. */
static int
verb_notice(const struct cli *cl)
{
	char text[CFG_URL_MAX + 1024];
	struct buf b;
	int rule = decide(cl), on;     /* the off line goes to stdout, here */

	if (rule < 0)
		return EXIT_USAGE;
	on = rule_is_on(rule);
	enter_sandbox(cl, SANDBOX_LOCAL);
	buf_init(&b, text, sizeof text - 1);
	if (on && resolve_endpoint() > 0) {
		put_notice(&b, NOTICE_VERB);
	} else {
		buf_str(&b, "anontel sends no telemetry: ");
		if (!on) {
			buf_str(&b, "it is off (");
			buf_str(&b, cfg_rule_text(rule));
			buf_char(&b, ')');
		} else {
			buf_str(&b, endpoint_error[0] == '\0' ? "no endpoint is configured" :
			    "the endpoint is invalid (`anontel status` says why)");
		}
	}
	text[b.len++] = '\n';
	return out_bytes(text, b.len);
}

/* check --report: the engine may kill the probe at its timeout, and the verdict
 * must not wait for telemetry. So a due report goes on in a child the probe does
 * not wait for: its own session, 0-2 on /dev/null (the engine's output pipe
 * closes when the probe exits), its own deadline (`timeout`). The child is
 * reparented to PID 1 (the container's init, which reaps it). fork_error gets
 * errno when there is no child. */
struct detach {
	int fork_error;
};

static int
detach_report(void *ctx, struct report_run *r)
{
	struct detach *d = ctx;
	/* _Fork, not fork: the process has no threads and no atfork handlers, and
	 * fork's extra locking would link musl's pthread lock code for nothing. */
	pid_t pid = _Fork();
	int fd;

	if (pid != 0) {
		d->fork_error = pid < 0 ? errno : 0;
		return 1;
	}
	(void)setsid();
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		for (int std = STDIN_FILENO; std <= STDERR_FILENO; std++)
			(void)dup2(fd, std);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	r->deadline_ms = net_now_ms() + (int64_t)config.timeout_ms;
	r->log = NULL;
	return 0;
}

/* report_run's hook once the run is due: the sandbox is entered there. A run that
 * is not due has read only its config and its own state (stamps, kept/'s names)
 * and exits; loading the filter would cost it more than all the rest. */
static int
sandbox_when_due(void *ctx, struct report_run *r)
{
	(void)r;
	enter_sandbox(ctx, SANDBOX_NET);
	return 0;
}

/* -v: the names of the configured headers, never their values. */
static void
say_header_names(const char *who)
{
	char names[CFG_HEADERS_MAX];
	struct buf n;

	if (config.n_headers == 0)
		return;
	buf_init(&n, names, sizeof names);
	cfg_header_names(&config, &n);
	say3(who, "with the configured headers (values not shown): ", names);
}

/* Runs one report cycle within the deadline (handed to a detached child when
 * `detached`) and says what needs saying. Returns the exit status report would
 * have. */
static int
run_report(const struct cli *cl, int force, int64_t deadline_ms, int detached, const char *who)
{
	/* What -v says of the outcomes that need no word otherwise. */
	static const char *const done[] = {
		[REPORT_DELIVERED] = "delivered", [REPORT_NOT_DUE] = "not due",
		[REPORT_BUSY] = "another run is sending"
	};
	static struct report_run r;
	struct detach d = { 0 };

	if (check_endpoint(who) != 0)
		return EXIT_USAGE;
	memset(&r, 0, sizeof r);
	r.cfg = &config;
	r.dest = &endpoint;
	r.message = message;
	r.force = force;
	r.deadline_ms = deadline_ms;
	r.log = cl->verbose ? log_line : NULL;
	if (cl->verbose)
		say_header_names(who);
	if (detached) {          /* check --report: in the sandbox since its probe */
		r.hand_off = detach_report;
		r.hand_off_ctx = &d;
	} else {
		r.hand_off = sandbox_when_due;
		r.hand_off_ctx = (void *)cl;
	}
	report_run(&r);
	if (r.clock_behind)
		warn_clock(cl);
	if (r.warning[0] != '\0' && !cl->quiet)
		say3(who, "warning: ", r.warning);
	if (r.first_run && !cl->quiet)
		say_notice(r.status == REPORT_HANDED_OFF);
	switch (r.status) {
	case REPORT_DELIVERED:
	case REPORT_NOT_DUE:
	case REPORT_BUSY:
		if (cl->verbose)
			say3(who, done[r.status], NULL);
		return EXIT_DONE;
	case REPORT_HANDED_OFF:
		if (d.fork_error != 0)
			say3(who, "telemetry skipped: cannot start the background run: ",
			    strerror(d.fork_error));
		else if (cl->verbose)
			say3(who, "due: sending in the background", NULL);
		return d.fork_error != 0 ? EXIT_FAILED : EXIT_DONE;
	case REPORT_NOT_DELIVERED:
		say3(who, "not delivered (kept for the next run): ", r.error);
		return EXIT_FAILED;
	case REPORT_NO_STATE:
		if (cl->verb == CLI_REPORT)
			say3(who, r.error, "; --force sends without one");
		else
			say3(who, "telemetry skipped: ", r.error);
		return EXIT_FAILED;
	case REPORT_REJECTED:
	case REPORT_STATE_ERROR:
	case REPORT_NO_ID:
	case REPORT_BAD_CONFIG:
		break;
	}
	say3(who, r.error, NULL);
	return r.status == REPORT_BAD_CONFIG ? EXIT_USAGE : EXIT_FAILED;
}

/* What state_forget removed, as "name: count" parts joined by sep. */
static void
put_forgotten(struct buf *b, const struct state_forgotten *f, const char *sep)
{
	buf_str(b, "kept messages removed: ");
	buf_uint(b, f->kept, 1);
	buf_str(b, sep);
	buf_str(b, "logged messages removed: ");
	buf_uint(b, f->logged, 1);
	buf_str(b, sep);
	buf_str(b, "random ID removed: ");
	buf_str(b, f->random_id ? "yes" : "no");
}

/* Opting out removes what was kept (kept messages, the audit log, the random ID)
 * and writes nothing else: no file is created, written or renamed (the lock is
 * taken only when its file exists, opened read-only). report and check --report
 * do it each time they find telemetry off: what is there is what is left to
 * remove, so the first such run removes it and later runs find nothing. It waits
 * for nobody: another run holding the lock leaves it to a later run. Needs the
 * config file's stateDir: a file that cannot be read leaves everything as it is. */
static void
forget_opted_out(const struct cli *cl)
{
	struct state_forgotten f;
	char err[LOAD_ERR_MAX], text[256];
	struct buf b;

	if (!config_loaded && read_config(cl, err) != 0)
		return;
	if (find_state(NULL, 0) == 0 &&
	    state_lock_existing(&statedir, NULL, 0) == 1) {
		enter_sandbox(cl, SANDBOX_ERASE);
		if (state_forget(&statedir, &f, err, sizeof err) != 0) {
			say("opted out: cannot remove all that was kept: ", err);
		} else if ((f.kept | f.logged | (size_t)f.random_id) != 0 && !cl->quiet) {
			buf_init(&b, text, sizeof text);
			put_forgotten(&b, &f, "; ");
			say("opted out: ", text);
		}
	}
	state_close(&statedir);
}

static int
verb_report(const struct cli *cl)
{
	int on = load_config(cl);

	if (on < 0)
		return EXIT_USAGE;
	if (on == 0) {
		forget_opted_out(cl);
		return EXIT_DONE;
	}
	return run_report(cl, cl->force, net_now_ms() + (int64_t)config.timeout_ms, 0, "report: ");
}

/* forget: removes what was kept about this instance (state_forget) and prints what
 * went, one "name: count" line each; whether telemetry is on or off. 0 also when
 * there was nothing; 1 when another run holds the lock, no state dir is usable or a
 * removal failed. */
static int
verb_forget(const struct cli *cl)
{
	struct state_forgotten f;
	char err[LOAD_ERR_MAX], text[256];
	struct buf b;
	int r = 1, found;

	memset(&f, 0, sizeof f);
	/* The file's stateDir, even when the environment opts out (as status). */
	if (need_config(cl) != 0)
		return EXIT_USAGE;
	found = find_kept(err, sizeof err);
	if (found < 0)
		r = -1;
	else if (found > 0 && (r = state_lock(&statedir, err, sizeof err)) == 1) {
		enter_sandbox(cl, SANDBOX_ERASE);
		r = state_forget(&statedir, &f, err, sizeof err) == 0 ? 1 : -1;
	}
	state_close(&statedir);
	if (r == 0) {
		say("forget: another run is sending; try again when it is done", NULL);
		return EXIT_FAILED;
	}
	buf_init(&b, text, sizeof text);
	put_forgotten(&b, &f, "\n");
	buf_char(&b, '\n');
	if (out(text) != EXIT_DONE)
		return EXIT_FAILED;
	if (r < 0) {
		say("forget: ", err);
		return EXIT_FAILED;
	}
	return EXIT_DONE;
}

/* check -H: each extra header as RFC 9110 and SPEC §11 allow. */
static int
check_headers(const struct cli *cl)
{
	for (size_t i = 0; i < cl->n_headers; i++) {
		const char *name = NULL;

		switch (http_header_check(cl->headers[i], &name)) {
		case HTTP_HEADER_OK:
			break;
		case HTTP_HEADER_RESERVED:
			say3("check: -H: the ", name, " header is anontel's to write (refused)");
			return -1;
		default:
			/* Not echoed: it may hold the CR/LF that made it invalid. */
			say("check: -H: expected 'Name: value' with a token name and no control "
			    "characters", NULL);
			return -1;
		}
	}
	return 0;
}

/* The probe's destination: plain http anywhere, the trust -k or the CA file or the
 * built-in roots (never the telemetry pin). An https probe loads its trust now,
 * before the sandbox; a plain-http one only if a redirect needs it, so a stale
 * SSL_CERT_FILE in a base image cannot fail it. */
static int
resolve_probe(const struct cli *cl, struct client_dest *probe)
{
	char err[1024];

	if (client_dest_init(probe, cl->url, 1, proxy_env(), config.proxy, err, sizeof err) != 0) {
		say("check: ", err);
		return -1;
	}
	probe->trust.insecure = cl->insecure;
	probe->trust.pin = "";
	probe->trust.ca_file = config.ca_file;
	probe->trust.store = &store;
	if (probe->url.scheme == URL_HTTPS && client_trust_load(&probe->trust) != 0) {
		say("check: ", probe->trust.error);
		return -1;
	}
	return 0;
}

/* Says why a probe's answer is unhealthy. */
static void
say_unhealthy(const struct cli *cl, const struct client_result *res, const char *code)
{
	char why[512];
	struct buf w;

	buf_init(&w, why, sizeof why);
	buf_str(&w, cl->expect ? " is not in --expect" : " is not 2xx");
	if (res->other_host[0] != '\0') {
		buf_str(&w, " (a redirect to another host, not followed: ");
		buf_str(&w, res->other_host);
		buf_char(&w, ')');
	}
	say3("check: unhealthy: HTTP ", code, why);
}

/* check URL: GET it; healthy when the status is expected. Every failure is 1. */
static int
verb_check(const struct cli *cl)
{
	static struct client_dest probe;
	struct client_request rq;
	struct client_result res;
	char err[LOAD_ERR_MAX], code[4];
	struct buf c;
	uint64_t timeout_ms;
	int rc;

	if (check_headers(cl) != 0)
		return EXIT_FAILED;
	if (cl->flags.timeout != NULL && cfg_parse_duration(cl->flags.timeout, &timeout_ms) != 0) {
		say("check: --timeout: expected a duration such as 500ms or 5s", NULL);
		return EXIT_FAILED;
	}
	/* With --report, a broken telemetry setting never fails the health probe: the
	 * probe goes on with the defaults and the flags, and telemetry is skipped.
	 * Without it, a config the user named for the probe must be right. */
	if (read_config(cl, err) != 0) {
		if (!cl->report) {
			say("check: ", err);
			return EXIT_FAILED;
		}
		if (!cl->quiet)
			say("check: config ignored, telemetry skipped: ", err);
		cfg_defaults(&config);
		config.enabled = 0;
		if (cl->flags.timeout != NULL)
			config.timeout_ms = timeout_ms;
	}
	memset(&rq, 0, sizeof rq);
	rq.deadline_ms = net_now_ms() + (int64_t)config.timeout_ms;
	if (resolve_probe(cl, &probe) != 0)
		return EXIT_FAILED;
	/* Only --report writes state and forks its detached child. */
	enter_sandbox(cl, cl->report ? SANDBOX_NET : SANDBOX_PROBE);
	rq.dest = &probe;
	rq.get = 1;
	rq.allow_http = 1;
	rq.same_host = 1;
	rq.headers = cl->headers;
	rq.n_headers = cl->n_headers;
	rq.log = cl->verbose ? log_line : NULL;
	rc = client_exchange(&rq, &res);
	if (probe.trust.clock_behind)
		warn_clock(cl);
	if (rc != 0) {
		say("check: unhealthy: ", res.error);
		return EXIT_FAILED;
	}
	buf_init(&c, code, sizeof code);
	buf_uint(&c, (uint64_t)res.status, 3);
	if (cli_expect_match(cl->expect, res.status) != 1) {
		say_unhealthy(cl, &res, code);
		return EXIT_FAILED;
	}
	if (cl->verbose)
		say("check: healthy: HTTP ", code);
	/* The verdict is final; a due report goes on in a detached child. */
	if (cl->report && config.enabled)
		run_report(cl, 0, rq.deadline_ms, 1, "check --report: ");
	else if (cl->report && config.rule != CFG_RULE_DEFAULT)   /* opted out */
		forget_opted_out(cl);
	return EXIT_DONE;
}

static int
verb_version(void)
{
	struct buf b;
	char text[512];

	buf_init(&b, text, sizeof text);
	buf_str(&b, "anontel: " ANONTEL_VERSION "\n"
	    "tls: BearSSL 0.6 (Debian source package 0.6+dfsg.1), TLS 1.2\n"
	    "roots: ");
	buf_uint(&b, tls_builtin_count(), 1);
	buf_str(&b, " compiled in (Debian ca-certificates)\n"
	    "built: " ANONTEL_BUILD_DATE "\n");
	return out(text);
}

/* A caller may start us with 0-2 closed (a daemon's child, a careless
 * HEALTHCHECK wrapper): the first files opened would take those numbers and
 * -v lines would land in a TLS socket or the state lock. Each closed one is
 * opened on /dev/null, or on "/" (where a write fails) when there is no /dev. */
static void
open_std_fds(void)
{
	/* One poll asks about all three: a closed descriptor answers POLLNVAL. */
	struct pollfd p[3] = { { 0, 0, 0 }, { 1, 0, 0 }, { 2, 0, 0 } };

	if (poll(p, 3, 0) < 0)
		return;
	for (int fd = 0; fd <= 2; fd++) {
		if (!(p[fd].revents & POLLNVAL))
			continue;
		if (open("/dev/null", O_RDWR) < 0)
			(void)open("/", O_RDONLY | O_DIRECTORY);
	}
}

int
main(int argc, char **argv)
{
	struct cli cl;
	char err[512];

	open_std_fds();
	/* A closed pipe or a file-size limit (ulimit -f) is a write error we report,
	 * not a signal that ends the run without a word. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	if (cli_parse(&cl, argc, argv, err, sizeof err) != 0) {
		say(err, NULL);
		/* Docker reserves 2 in HEALTHCHECK: check reports every failure as 1. */
		return cl.verb == CLI_CHECK ? EXIT_FAILED : EXIT_USAGE;
	}
	switch (cl.verb) {
	case CLI_HELP:
		return out(cli_usage);
	case CLI_VERSION:
		return verb_version();
	case CLI_SHOW:
		return verb_show(&cl);
	case CLI_ID:
		return verb_id(&cl);
	case CLI_STATUS:
		return verb_status(&cl);
	case CLI_REPORT:
		return verb_report(&cl);
	case CLI_CHECK:
		return verb_check(&cl);
	case CLI_SCHEMA:
		return verb_schema(&cl);
	case CLI_FORGET:
		return verb_forget(&cl);
	case CLI_NOTICE:
		return verb_notice(&cl);
	}
	return EXIT_USAGE;
}
