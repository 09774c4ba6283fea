/*
 * main: the only place that prints and the only place that exits. Each verb
 * gathers what it needs from the modules and turns their codes into one line of
 * text and an exit status: 0 done (or nothing to do), 1 not delivered or
 * unhealthy, 2 usage or config error (check never exits 2: Docker reserves it).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "client.h"
#include "config.h"
#include "facts.h"
#include "id.h"
#include "message.h"
#include "net.h"
#include "tls.h"
#include "url.h"

#define EXIT_DONE   0
#define EXIT_FAILED 1
#define EXIT_USAGE  2

#define MSG_MAX (256 * 1024)

static struct cfg config;
static char message[MSG_MAX];

/* Writes all of s to fd; output errors are not recoverable, so they are ignored
 * here and show up as a short read for the consumer. */
static void
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void
out(const char *s)
{
	write_all(STDOUT_FILENO, s, strlen(s));
}

/* Prints "anontel: <a><b>\n" on stderr as one write, so lines never interleave. */
static void
say(const char *a, const char *b)
{
	char line[2048];
	struct buf l;

	buf_init(&l, line, sizeof line - 1);
	buf_str(&l, "anontel: ");
	buf_str(&l, a);
	if (b != NULL)
		buf_str(&l, b);
	line[l.len++] = '\n';
	write_all(STDERR_FILENO, line, l.len);
}

/* Loads the config; an env opt-out wins before any file is read. Returns 1 when
 * telemetry is on, 0 when off (and says so unless quiet), -1 on a config error. */
static int
load_config(const struct cli *cl)
{
	char err[1024];
	enum cfg_rule rule = cfg_env_optout();

	if (rule == CFG_RULE_DEFAULT) {
		if (cfg_load(&config, &cl->flags, err, sizeof err) != 0) {
			say(err, NULL);
			return -1;
		}
		rule = config.rule;
	}
	if (rule != CFG_RULE_DEFAULT && rule != CFG_RULE_CONFIG_ENABLED) {
		if (!cl->quiet)
			say("telemetry is off: ", cfg_rule_text(rule));
		return 0;
	}
	return 1;
}

/* Returns 0, or the exit status for the failure: 2 for a config error, 1 when the
 * machine lacks what the scheme needs. */
static int
compute_id(struct id *id, const struct cli *cl)
{
	char err[512];
	int rc = id_compute(id, &config, "/", err, sizeof err);

	if (rc != 0) {
		say("id: ", err);
		return rc == ID_ERR_CONFIG ? EXIT_USAGE : EXIT_FAILED;
	}
	if (cl->verbose && id->scheme != config.scheme)
		say("id: ", id->why);
	return 0;
}

/* Builds the message as report would send it, into `message`. */
static int
build_message(const struct cli *cl, const struct id *id, int pretty, struct buf *b)
{
	static struct facts facts;
	struct timespec now;
	char ts[MSG_TS_LEN + 1];

	(void)cl;
	facts_collect(&facts);
	clock_gettime(CLOCK_REALTIME, &now);
	msg_timestamp(&now, ts);
	buf_init(b, message, sizeof message);
	if (msg_build(b, &config, &facts, id->hex, ts, pretty) != 0) {
		say("message larger than 256 KiB", NULL);
		return -1;
	}
	return 0;
}

static int
verb_show(const struct cli *cl)
{
	struct id id;
	struct buf b;
	int rc, on = load_config(cl);

	if (on <= 0)
		return on < 0 ? EXIT_USAGE : EXIT_DONE;
	/* show never fails for want of an ID (a bare chroot has no /proc or
	 * machine-id): it shows an empty one, and report refuses to send it. */
	rc = compute_id(&id, cl);
	if (rc == EXIT_USAGE)
		return rc;
	if (rc != 0)
		id.hex[0] = '\0';
	if (build_message(cl, &id, cl->pretty, &b) != 0)
		return EXIT_FAILED;
	buf_char(&b, '\n');
	if (b.overflow) {
		say("message larger than 256 KiB", NULL);
		return EXIT_FAILED;
	}
	write_all(STDOUT_FILENO, b.p, b.len);
	if (!cl->quiet) {
		char note[CFG_URL_MAX + 128];
		struct buf n;

		buf_init(&n, note, sizeof note);
		buf_str(&n, "telemetry is on (");
		buf_str(&n, cfg_rule_text(config.rule));
		buf_str(&n, "); report would send this to ");
		buf_str(&n, config.endpoint[0] ? config.endpoint : "(no endpoint configured)");
		say(note, NULL);
	}
	return EXIT_DONE;
}

static const char *
scheme_name(enum cfg_scheme s)
{
	switch (s) {
	case CFG_SCHEME_BUTLER: return "butler";
	case CFG_SCHEME_MACHINE_ID: return "machine-id";
	case CFG_SCHEME_RANDOM: return "random";
	case CFG_SCHEME_FIXED: return "fixed";
	}
	return "?";
}

static void
line(struct buf *b, const char *name, const char *value)
{
	buf_str(b, name);
	buf_str(b, ": ");
	buf_str(b, value);
	buf_char(b, '\n');
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
	buf_init(&b, text, sizeof text);
	if (!cl->explain) {
		buf_str(&b, id.hex);
		buf_char(&b, '\n');
		out(text);
		return EXIT_DONE;
	}
	line(&b, "scheme", scheme_name(id.scheme));
	line(&b, "why", id.why);
	if (id.scheme == CFG_SCHEME_BUTLER) {
		line(&b, "iface", id.in.iface);
		line(&b, "iface.from", "/proc/net/route (IPv4 default route, lowest metric)");
		line(&b, "mac", id.in.mac);
		buf_str(&b, "mac.from: /sys/class/net/");
		buf_str(&b, id.in.iface);
		buf_str(&b, "/address\n");
		line(&b, "ipv4", id.in.ipv4);
		line(&b, "ipv4.from", "the interface's primary IPv4 address (SIOCGIFADDR)");
		line(&b, "host", id.in.host);
		line(&b, "host.from", "config id.host (empty when unset)");
		line(&b, "uuid", id.in.uuid);
		line(&b, "uuid.from", "/sys/class/dmi/id/product_uuid (empty when unreadable)");
		line(&b, "id.from", "hex(HMAC-SHA256(key = mac, message = mac + ipv4 + host + uuid))");
	} else if (id.scheme == CFG_SCHEME_MACHINE_ID) {
		line(&b, "app_id", id.in.app_id);
		line(&b, "app_id.from", id.in.app_id_from);
		line(&b, "id.from", "systemd app-specific ID: HMAC-SHA256(key = /etc/machine-id, "
		    "message = app_id), first 16 bytes, UUID v4 bits");
	} else if (id.scheme == CFG_SCHEME_FIXED) {
		line(&b, "id.from", "the environment variable ANONTEL_ID");
	}
	line(&b, "id", id.hex);
	if (b.overflow) {
		say("id --explain: output too long", NULL);
		return EXIT_FAILED;
	}
	out(text);
	return EXIT_DONE;
}

static int
verb_status(const struct cli *cl)
{
	char text[8192];
	struct buf b;
	enum cfg_rule rule = cfg_env_optout();
	char err[1024];
	int loaded = cfg_load(&config, &cl->flags, err, sizeof err) == 0;

	buf_init(&b, text, sizeof text);
	if (!loaded && rule == CFG_RULE_DEFAULT) {
		say(err, NULL);
		return EXIT_USAGE;
	}
	if (loaded)
		rule = config.rule;
	line(&b, "telemetry", rule == CFG_RULE_DEFAULT || rule == CFG_RULE_CONFIG_ENABLED ? "on" : "off");
	line(&b, "decided by", cfg_rule_text(rule));
	if (!loaded) {
		line(&b, "config", "not read (opted out by the environment)");
		out(text);
		return EXIT_DONE;
	}
	line(&b, "config", config.file[0] ? config.file : "(none: defaults and environment)");
	line(&b, "endpoint", config.endpoint[0] ? config.endpoint : "(none configured)");
	line(&b, "format", config.format == CFG_FORMAT_POSTHOG ? "posthog" : "butler");
	line(&b, "id scheme", scheme_name(config.scheme));
	out(text);
	return EXIT_DONE;
}

static void
log_line(void *ctx, const char *text)
{
	(void)ctx;
	say(text, NULL);
}

/* Checks the endpoint before anything is built: a config error, not a network one. */
static int
check_endpoint(const char *verb)
{
	static struct url u;
	char err[512];

	if (config.endpoint[0] == '\0') {
		say(verb, ": no endpoint configured (config \"endpoint\", ANONTEL_ENDPOINT or --endpoint)");
		return -1;
	}
	if (url_parse(&u, config.endpoint, err, sizeof err) != 0) {
		say("endpoint: ", err);
		return -1;
	}
	if (u.scheme == URL_HTTP && !url_is_loopback(&u)) {
		say("endpoint: plain http:// is allowed only to loopback; use https:// for ", u.host);
		return -1;
	}
	return 0;
}

/* Chooses what certificates are checked against: pin, CA file, or built-in roots. */
static int
choose_trust(struct tls_trust *t, const struct cli *cl)
{
	static struct tls_store store;
	char err[512];

	if (config.pin[0] != '\0') {
		if (tls_trust_pin(t, config.pin, err, sizeof err) != 0) {
			say("tls.pin: ", err);
			return -1;
		}
		return 0;
	}
	if (config.ca_file[0] != '\0') {
		if (tls_trust_file(t, &store, config.ca_file, err, sizeof err) != 0) {
			say(err, NULL);
			return -1;
		}
		if (cl->verbose)
			say("trusting the CA file ", config.ca_file);
		return 0;
	}
	tls_trust_builtin(t);
	return 0;
}

/* The time certificates are checked at; warns once when the clock is behind the build. */
static time_t
check_time(const struct tls_trust *t, const struct cli *cl)
{
	int clamped = 0;
	time_t when = tls_check_time(time(NULL), (time_t)ANONTEL_BUILD_EPOCH, &clamped);

	if (clamped && !t->pinned && !cl->quiet)
		say("warning: the system clock is before this build's date; "
		    "checking certificates as of " ANONTEL_BUILD_DATE, NULL);
	return when;
}

/* Turns the server's final status into the exit status: 2xx delivered, else 1. */
static int
report_verdict(const struct cli *cl, const struct client_result *res)
{
	char text[256];
	struct buf b;

	buf_init(&b, text, sizeof text);
	buf_str(&b, "server answered HTTP ");
	buf_uint(&b, (uint64_t)res->status, 3);
	if (res->status >= 200 && res->status <= 299) {
		if (cl->verbose)
			say("report: delivered; ", text);
		return EXIT_DONE;
	}
	if (res->retry_after >= 0) {
		buf_str(&b, "; retry after ");
		buf_uint(&b, (uint64_t)res->retry_after, 1);
		buf_str(&b, " s");
	}
	say("report: not delivered: ", text);
	return EXIT_FAILED;
}

static int
verb_report(const struct cli *cl)
{
	static struct tls_trust trust;
	struct client_request rq;
	struct client_result res;
	struct buf b;
	struct id id;
	int rc, on = load_config(cl);

	if (on <= 0)
		return on < 0 ? EXIT_USAGE : EXIT_DONE;
	if (check_endpoint("report") != 0 || choose_trust(&trust, cl) != 0)
		return EXIT_USAGE;
	if ((rc = compute_id(&id, cl)) != 0)
		return rc;
	if (build_message(cl, &id, 0, &b) != 0)
		return EXIT_FAILED;

	memset(&rq, 0, sizeof rq);
	rq.url = config.endpoint;
	rq.body = b.p;
	rq.body_len = b.len;
	rq.trust = &trust;
	rq.tls_time = check_time(&trust, cl);
	rq.config_proxy = config.proxy;
	rq.deadline_ms = net_now_ms() + (int64_t)config.timeout_ms;
	rq.log = cl->verbose ? log_line : NULL;
	if (client_exchange(&rq, &res) != 0) {
		say("report: ", res.error);
		return EXIT_FAILED;
	}
	return report_verdict(cl, &res);
}

static int
verb_version(void)
{
	struct buf b;
	char text[512];

	buf_init(&b, text, sizeof text);
	line(&b, "anontel", ANONTEL_VERSION);
	line(&b, "tls", "BearSSL 0.6 (Debian source package 0.6+dfsg.1), TLS 1.2");
	buf_str(&b, "roots: ");
	buf_uint(&b, tls_builtin_count(), 1);
	buf_str(&b, " compiled in (Debian ca-certificates)\n");
	line(&b, "built", ANONTEL_BUILD_DATE);
	out(text);
	return EXIT_DONE;
}

int
main(int argc, char **argv)
{
	struct cli cl;
	char err[512];

	if (cli_parse(&cl, argc, argv, err, sizeof err) != 0) {
		say(err, NULL);
		/* Docker reserves 2 in HEALTHCHECK: check reports every failure as 1. */
		return argc > 1 && strcmp(argv[1], "check") == 0 ? EXIT_FAILED : EXIT_USAGE;
	}
	switch (cl.verb) {
	case CLI_HELP:
		out(cli_usage);
		return EXIT_DONE;
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
		say(cl.verb_name, ": not available in this build yet");
		return cl.verb == CLI_CHECK ? EXIT_FAILED : EXIT_USAGE;
	}
	return EXIT_USAGE;
}
