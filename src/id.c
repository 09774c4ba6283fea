/*
 * id: the instance ID (SPEC §5). The contract is in id.h; this file says why.
 *
 * /proc/net/route is read in fixed chunks and parsed line by line, so a router
 * with thousands of routes costs no more memory than a laptop. Every other file
 * (MAC, DMI UUID, machine-id) is a few dozen bytes and is read whole into a small
 * stack buffer; a file larger than that buffer is refused, not cut.
 */
#include "id.h"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ascii.h"
#include "buf.h"
#include "file.h"
#include "sha256.h"
#include "state.h"


#define RTF_UP_BIT     0x0001u
#define RTF_REJECT_BIT 0x0200u
#define APP_PREFIX     "anontel:"
#define ROUTE_LINE_MAX 1023     /* longer lines are not the kernel's: skipped */
#define ROUTE_FILE_MAX INT64_MAX /* no bound: the table is streamed, never held */

/* C's isspace in the C locale: ' ' and \t \n \v \f \r (9 to 13). */
static int
is_space(int ch)
{
	return ch == ' ' || (ch >= '\t' && ch <= '\r');
}

static void
hex_out(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Exactly 2n hex digits (either case) into n bytes. Returns 0 or -1. */
static int
hex_in(const char *s, size_t len, unsigned char *out, size_t n)
{
	if (len != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int hi = ascii_hex_val((unsigned char)s[2 * i]), lo = ascii_hex_val((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* ---- /proc/net/route ---- */

/* One field of a route line: [s, s+len). */
struct field {
	const char *s;
	size_t len;
};

/* 1 to 8 hex digits, as the kernel's %08X / %04X. */
static int
parse_hex32(struct field f, uint32_t *v)
{
	uint32_t x = 0;

	if (f.len == 0 || f.len > 8)
		return -1;
	for (size_t i = 0; i < f.len; i++) {
		int d = ascii_hex_val((unsigned char)f.s[i]);

		if (d < 0)
			return -1;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return 0;
}

/* The kernel prints the u32 route priority with %d: "-1" is 4294967295. */
static int
parse_metric(struct field f, unsigned long *v)
{
	uint64_t x = 0;
	size_t i = 0;
	int neg = 0;

	if (f.len > 0 && f.s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == f.len || f.len - i > 10)
		return -1;
	for (; i < f.len; i++) {
		if (f.s[i] < '0' || f.s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(f.s[i] - '0');
	}
	if (neg ? x > 0x80000000u : x > 0xffffffffu)
		return -1;
	*v = (unsigned long)(uint32_t)(neg ? 0x100000000u - x : x);
	return 0;
}

static int
iface_name_ok(struct field f)
{
	if (f.len == 0 || f.len >= IF_NAMESIZE)
		return 0;
	if ((f.len == 1 && (f.s[0] == '*' || f.s[0] == '.')) ||
	    (f.len == 2 && f.s[0] == '.' && f.s[1] == '.'))
		return 0;
	for (size_t i = 0; i < f.len; i++)
		if (f.s[i] == '/' || (unsigned char)f.s[i] < 0x21 || (unsigned char)f.s[i] > 0x7e)
			return 0;
	return 1;
}

/* A route table read so far: the best default route. */
struct route_best {
	int header;     /* the next line is the table's header */
	int found;
	char iface[16];
	unsigned long metric;
};

/* file_each_line's callback: considers one line [l, end), without its newline.
 * Returns 0: every line is read. */
static int
route_line(void *ctx, const char *l, const char *end)
{
	struct route_best *best = ctx;
	struct field f[8];
	size_t n = (size_t)(end - l), i = 0, k = 0;
	uint32_t dest, flags, mask;
	unsigned long metric;

	if (best->header || n > ROUTE_LINE_MAX) {
		best->header = 0;
		return 0;
	}
	while (k < 8) {
		while (i < n && ascii_is_blank(l[i]))
			i++;
		if (i == n)
			return 0;               /* fewer than 8 columns */
		f[k].s = l + i;
		while (i < n && l[i] != ' ' && l[i] != '\t')
			i++;
		f[k].len = (size_t)(l + i - f[k].s);
		k++;
	}
	if (!iface_name_ok(f[0]) || parse_hex32(f[1], &dest) || parse_hex32(f[3], &flags) ||
	    parse_metric(f[6], &metric) || parse_hex32(f[7], &mask))
		return 0;
	if (dest != 0 || mask != 0 || !(flags & RTF_UP_BIT) || (flags & RTF_REJECT_BIT))
		return 0;
	if (best->found && metric >= best->metric)
		return 0;
	best->found = 1;
	best->metric = metric;
	memcpy(best->iface, f[0].s, f[0].len);
	best->iface[f[0].len] = '\0';
	return 0;
}

/* The table's default route into iface and *metric: 0, or -1 when it has none. */
static int
route_found(const struct route_best *best, char iface[16], unsigned long *metric)
{
	if (!best->found)
		return -1;
	memcpy(iface, best->iface, sizeof best->iface);
	*metric = best->metric;
	return 0;
}

int
id_default_route(const char *text, size_t n, char iface[16], unsigned long *metric)
{
	struct route_best best = { .header = 1 };
	const char *end = text + n, *nl;

	/* The lines as file_each_line gives them: the last one also without '\n'. */
	for (; text < end; text = nl + 1) {
		nl = memchr(text, '\n', (size_t)(end - text));
		if (nl == NULL) {
			(void)route_line(&best, text, end);
			break;
		}
		(void)route_line(&best, text, nl);
	}
	return route_found(&best, iface, metric);
}

/* ---- files under root ---- */

/* path = root + rel (rel starts with '/'); a trailing '/' of root is dropped. */
static int
join(char *mem, size_t cap, const char *root, const char *rel, const char *rel2, const char *rel3)
{
	struct buf b;
	size_t rl = strlen(root);

	while (rl > 0 && root[rl - 1] == '/')
		rl--;
	buf_init(&b, mem, cap);
	if (rl > 0)
		buf_add(&b, root, rl);
	buf_str(&b, rel);
	buf_str(&b, rel2);
	buf_str(&b, rel3);
	return b.overflow ? -1 : 0;
}

/* Reads the whole file into p[0..cap-1), NUL-terminated; *n its length (0 unless
 * FILE_OK). Returns an enum file_result (file.h: regular files only, never
 * blocking on a FIFO). */
static int
read_small(const char *path, char *p, size_t cap, size_t *n)
{
	int r = file_read(AT_FDCWD, path, 0, p, cap - 1, n);

	if (r != FILE_OK)
		*n = 0;
	p[*n] = '\0';
	return r;
}

/* Drops leading and trailing white space in place; returns the new length. */
static size_t
trim(char *p, size_t n)
{
	size_t a = 0;

	while (n > 0 && is_space((unsigned char)p[n - 1]))
		n--;
	while (a < n && is_space((unsigned char)p[a]))
		a++;
	memmove(p, p + a, n - a);
	p[n - a] = '\0';
	return n - a;
}

/* Streams <root>/proc/net/route through route_line, as id_default_route does in
 * memory. Returns 0 if a default route was found. */
static int
read_default_route(const char *root, char iface[16], unsigned long *metric)
{
	char path[CFG_PATH_MAX + 32];
	struct route_best best = { .header = 1 };

	if (join(path, sizeof path, root, "/proc/net/route", "", "") < 0)
		return -1;
	/* A read error, or a line over FILE_LINE_MAX (not the kernel's), ends the
	 * table where it stands. */
	(void)file_lines(path, ROUTE_FILE_MAX, route_line, &best);
	return route_found(&best, iface, metric);
}

/* Reads root + rel + name + tail, a file of one short token, into t[cap]: trimmed,
 * ASCII lowercased, NUL-terminated. Returns its length, 0 when it is absent,
 * unreadable or does not fit. */
static size_t
read_token(const char *root, const char *rel, const char *name, const char *tail, char *t,
    size_t cap)
{
	char path[CFG_PATH_MAX + 64];
	size_t n;

	if (join(path, sizeof path, root, rel, name, tail) < 0 ||
	    read_small(path, t, cap, &n) != FILE_OK)
		return 0;
	n = trim(t, n);
	for (size_t i = 0; i < n; i++)
		t[i] = (char)ascii_lower(t[i]);
	return n;
}

/* MAC of iface: 1 if a usable one was stored in mac, else 0. */
static int
read_mac(const char *root, const char *iface, char mac[18])
{
	char t[64];
	int nonzero = 0;

	mac[0] = '\0';
	if (read_token(root, "/sys/class/net/", iface, "/address", t, sizeof t) != 17)
		return 0;
	for (size_t i = 0; i < 17; i++) {
		if (i % 3 == 2 ? t[i] != ':' : ascii_hex_val((unsigned char)t[i]) < 0)
			return 0;
		if (i % 3 != 2 && t[i] != '0')
			nonzero = 1;
	}
	if (!nonzero)
		return 0;
	memcpy(mac, t, 18);
	return 1;
}

/* The interface's primary IPv4 address, or "" (no address, no such interface,
 * or no AF_INET sockets at all). */
static void
read_ipv4(const char *iface, char out[16])
{
	struct ifreq ifr;
	struct sockaddr_in sin;
	struct buf b;
	size_t len = strlen(iface);
	int fd;

	out[0] = '\0';
	if (len == 0 || len >= sizeof ifr.ifr_name)
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, iface, len);
	if (ioctl(fd, SIOCGIFADDR, &ifr) == 0 && ifr.ifr_addr.sa_family == AF_INET) {
		unsigned char a[4];

		memcpy(&sin, &ifr.ifr_addr, sizeof sin);
		memcpy(a, &sin.sin_addr.s_addr, 4);     /* network order: a[0] first */
		buf_init(&b, out, 16);  /* "255.255.255.255" and its NUL fit */
		for (int i = 0; i < 4; i++) {
			if (i)
				buf_char(&b, '.');
			buf_uint(&b, a[i], 0);
		}
	}
	close(fd);
}

/* DMI product UUID, lowercased; "" if absent, unreadable or not one token of
 * printable ASCII. */
static void
read_uuid(const char *root, char out[64])
{
	char t[128];
	size_t n = read_token(root, "/sys/class/dmi/id/product_uuid", "", "", t, sizeof t);

	out[0] = '\0';
	if (n == 0 || n >= 64)
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] < 0x21 || (unsigned char)t[i] > 0x7e)
			return;
	memcpy(out, t, n + 1);
}

/* Butler's inputs into in, in this order: the default interface, its IPv4
 * address, the DMI UUID, its MAC. Returns -1 with no default interface (nothing
 * else read), 0 with no usable MAC, 1 with one. */
static int
read_inputs(const char *root, struct id_inputs *in)
{
	if (read_default_route(root, in->iface, &in->metric) < 0)
		return -1;
	read_ipv4(in->iface, in->ipv4);
	read_uuid(root, in->uuid);
	return read_mac(root, in->iface, in->mac);
}

/* ---- schemes ---- */

void
id_butler(const char *mac, const char *ipv4, const char *host, const char *uuid, char out[65])
{
	const char *msg[] = { mac, ipv4, host, uuid };
	struct hmac_sha256 h;
	unsigned char d[SHA256_LEN];

	hmac_sha256_init(&h, mac, strlen(mac));
	for (size_t i = 0; i < sizeof msg / sizeof msg[0]; i++)
		hmac_sha256_update(&h, msg[i], strlen(msg[i]));
	hmac_sha256_final(&h, d);
	hex_out(d, sizeof d, out);
	explicit_bzero(d, sizeof d);
}

void
id_app_specific(const unsigned char machine_id[16], const unsigned char app_id[16], char out[33])
{
	unsigned char d[SHA256_LEN];

	/* systemd src/libsystemd/sd-id128/sd-id128.c: get_app_specific() and
	 * id128_make_v4_uuid(). */
	hmac_sha256(machine_id, 16, app_id, 16, d);
	d[6] = (unsigned char)((d[6] & 0x0F) | 0x40);
	d[8] = (unsigned char)((d[8] & 0x3F) | 0x80);
	hex_out(d, 16, out);
	explicit_bzero(d, sizeof d);
}

void
id_app_from_service(const char *service, unsigned char app_id[16])
{
	struct sha256 c;
	unsigned char d[SHA256_LEN];

	sha256_init(&c);
	sha256_update(&c, APP_PREFIX, sizeof APP_PREFIX - 1);
	sha256_update(&c, service, strlen(service));
	sha256_final(&c, d);
	memcpy(app_id, d, 16);
}

_Static_assert(CFG_ID_MAX == 128, "compute_fixed's error line says 128 characters");

int
id_fixed_valid(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char ch = s[n];

		if (n >= CFG_ID_MAX)
			return 0;
		if (!ascii_is_alnum(ch) && ch != '_' && ch != '-')
			return 0;
	}
	return n >= 16;
}

/* The machine-id scheme. `fallback` is the reason butler could not be used
 * ("no default interface"), or NULL when machine-id was configured. */
static int
scheme_machine_id(struct id *out, const struct cfg *c, const char *root, const char *fallback,
    char *err, size_t errlen)
{
	char path[CFG_PATH_MAX + 32], t[64];
	unsigned char mid[16], app[16];
	const char *pre = fallback ? fallback : "scheme machine-id", *bad = NULL;
	size_t n;
	int r, nonzero = 0;

	out->scheme = CFG_SCHEME_MACHINE_ID;
	if (c->id_app_id[0] != '\0') {
		if (hex_in(c->id_app_id, strlen(c->id_app_id), app, 16) < 0) {
			buf_join(err, errlen, "id.appId: expected 32 hex digits", "", "");
			return ID_ERR_CONFIG;
		}
		out->in.app_id_from = "id.appId";
	} else {
		id_app_from_service(c->service, app);
		out->in.app_id_from = "derived from service";
	}
	hex_out(app, 16, out->in.app_id);

	if (join(path, sizeof path, root, "/etc/machine-id", "", "") < 0)
		bad = ": root path too long";
	else if ((r = read_small(path, t, sizeof t, &n)) == FILE_ABSENT)
		bad = fallback ? ", and no /etc/machine-id to fall back to" : ": no /etc/machine-id";
	else if (r == FILE_ERROR)
		bad = ": /etc/machine-id cannot be read";
	else if (r == FILE_NOT_REGULAR)
		bad = ": /etc/machine-id is not a regular file (refused)";
	/* systemd's format: 32 hex digits and a newline (the newline optional). */
	else if (r != FILE_OK || hex_in(t, n == 33 && t[32] == '\n' ? 32 : n, mid, 16) < 0)
		bad = ": /etc/machine-id: expected 32 hex digits";
	if (bad != NULL) {
		buf_join(err, errlen, pre, bad, NULL);
		return ID_ERR_SYSTEM;
	}
	for (int i = 0; i < 16; i++)
		nonzero |= mid[i];
	if (!nonzero) {
		buf_join(err, errlen, pre, ": /etc/machine-id is all zeros", NULL);
		return ID_ERR_SYSTEM;
	}
	id_app_specific(mid, app, out->hex);
	explicit_bzero(mid, sizeof mid);
	explicit_bzero(t, sizeof t);
	return 0;
}

/* Puts "auto: no usable state dir for the random ID: " before err, so that a user
 * who asked for no scheme learns why a state dir is needed at all. */
static void
auto_state_err(char *err, size_t errlen)
{
	char reasons[512];

	if (err == NULL || errlen == 0)
		return;
	buf_join(reasons, sizeof reasons, err, NULL, NULL);
	buf_join(err, errlen, "auto: no usable state dir for the random ID: ", reasons, NULL);
}

/* How a run computes: whether the random scheme may make its ID, and the state
 * dir the caller already has open (report holds it), or NULL to find it here. */
struct id_run {
	int create;
	struct state *state;
	int judge;      /* probe auto's inputs even when the kept random ID decides */
};

/* The random scheme: the state dir's random-id, made there first when create is
 * set; in run->state when the caller has it open, else in the state dir found. */
static int
scheme_random(struct id *out, const struct cfg *c, const struct id_run *run, char *err,
    size_t errlen)
{
	static struct state own;
	struct state *s = run->state != NULL ? run->state : &own;
	const char *name = out->asked == CFG_SCHEME_AUTO ? "auto" : "scheme random";
	int r;

	out->scheme = CFG_SCHEME_RANDOM;
	if (run->state == NULL && (run->create ? state_open(&own, c->state_dir, err, errlen) != 0 :
	    state_find(&own, c->state_dir, NULL, 0) != 0)) {
		r = run->create ? -1 : 0;   /* reading only: no state dir is no ID yet */
		if (run->create && out->asked == CFG_SCHEME_AUTO)
			auto_state_err(err, errlen);
	} else {
		r = state_random_id(s, run->create, out->hex, err, errlen);
	}
	if (r == 0)
		buf_join(err, errlen, name, ": no ID made yet (`anontel id` or the first report "
		    "makes it)", NULL);
	if (r == 1 && out->asked == CFG_SCHEME_RANDOM)
		buf_join(out->why, sizeof out->why, "id.scheme is random (kept in ", s->dir, ")");
	if (run->state == NULL)
		state_close(&own);
	if (r == 1)
		return 0;
	out->hex[0] = '\0';
	return ID_ERR_SYSTEM;
}

/* The first octet's second hex digit has the U/L bit (0x02): clear is a MAC
 * assigned by its maker (universal), set one made up by software (local). */
static int
mac_is_universal(const char *mac)
{
	int lo = ascii_hex_val((unsigned char)mac[1]);

	return mac[0] != '\0' && lo >= 0 && (lo & 0x2) == 0;
}

enum cfg_scheme
id_auto_choice(const struct id_inputs *in, char *why, size_t whylen)
{
	static const char random_kept[] = ": random ID kept in the state dir";
	const char *reason, *iface = "", *then = ": Butler's ID tells machines apart";
	enum cfg_scheme choice = CFG_SCHEME_BUTLER;

	if (in->iface[0] == '\0' || in->mac[0] == '\0') {
		reason = in->iface[0] == '\0' ? "auto: no default interface" :
		    "auto: no MAC address on ";
		iface = in->iface;      /* "" when there is none */
		then = random_kept;
		choice = CFG_SCHEME_RANDOM;
	} else if (in->uuid[0] != '\0') {
		reason = "auto: DMI UUID readable";
	} else if (in->host != NULL && in->host[0] != '\0') {
		reason = "auto: id.host set";
	} else if (mac_is_universal(in->mac)) {
		reason = "auto: universally administered MAC";
	} else {
		reason = "auto: locally administered MAC, no DMI UUID, no id.host: "
		    "Butler's ID could be the same on many hosts, as on every Docker host";
		then = "; random ID kept in the state dir";
		choice = CFG_SCHEME_RANDOM;
	}
	buf_join(why, whylen, reason, iface, then);
	return choice;
}

/* The schemes' compute functions: out is set up by compute(), out->why says
 * "id.scheme is <name>" until the scheme says better. */

static int
compute_fixed(struct id *out, const struct cfg *c, const char *root,
    const struct id_run *run, char *err, size_t errlen)
{
	const char *bad = NULL;

	(void)root;
	(void)run;
	if (c->fixed_id[0] == '\0')
		bad = "scheme fixed needs ANONTEL_ID";
	else if (!id_fixed_valid(c->fixed_id))
		bad = "ANONTEL_ID: expected 16 to 128 characters of A-Z a-z 0-9 _ -";
	if (bad != NULL) {
		buf_join(err, errlen, bad, NULL, NULL);
		return ID_ERR_CONFIG;
	}
	memcpy(out->hex, c->fixed_id, strlen(c->fixed_id) + 1);
	return 0;
}

static int
compute_machine_id(struct id *out, const struct cfg *c, const char *root,
    const struct id_run *run, char *err, size_t errlen)
{
	(void)run;
	return scheme_machine_id(out, c, root, NULL, err, errlen);
}

static int
compute_random(struct id *out, const struct cfg *c, const char *root,
    const struct id_run *run, char *err, size_t errlen)
{
	(void)root;
	return scheme_random(out, c, run, err, errlen);
}

static int
compute_auto(struct id *out, const struct cfg *c, const char *root,
    const struct id_run *run, char *err, size_t errlen)
{
	/* Chosen once per state dir: a random ID kept there was made because Butler's
	 * ID could not tell this machine apart, and it stays, so the ID does not
	 * change when the inputs do (a DMI UUID appearing, a new MAC). id.host asks
	 * for Butler's ID whatever is kept. */
	static const char stays[] = "auto: random ID kept in the state dir by an earlier run: "
	    "it stays";
	/* Whether the state dir (run's, or the one found) holds a random ID: read
	 * only, quietly. */
	const struct id_run peek = { 0, run->state, 0 };
	int kept = c->id_host[0] == '\0' && scheme_random(out, c, &peek, NULL, 0) == 0;
	enum cfg_scheme choice;

	out->scheme = CFG_SCHEME_RANDOM;
	if (kept && !run->judge) {     /* nothing to look at */
		buf_join(out->why, sizeof out->why, stays, NULL, NULL);
		return 0;
	}
	(void)read_inputs(root, &out->in);     /* the rule below judges what was found */
	choice = id_auto_choice(&out->in, out->why, sizeof out->why);
	if (kept) {
		if (choice == CFG_SCHEME_BUTLER)
			buf_join(out->why, sizeof out->why, stays,
			    ", though Butler's ID would now tell machines apart", NULL);
		return 0;
	}
	if (choice == CFG_SCHEME_RANDOM)
		return scheme_random(out, c, run, err, errlen);
	out->scheme = CFG_SCHEME_BUTLER;
	id_butler(out->in.mac, out->in.ipv4, out->in.host, out->in.uuid, out->hex);
	return 0;
}

/* No ID at all: a message carries its age instead (id_message_age). */
static int
compute_none(struct id *out, const struct cfg *c, const char *root,
    const struct id_run *run, char *err, size_t errlen)
{
	(void)out;
	(void)c;
	(void)root;
	(void)run;
	(void)err;
	(void)errlen;
	return 0;
}

/* Butler's formula, or machine-id when there is no default interface or no MAC. */
static int
compute_butler(struct id *out, const struct cfg *c, const char *root,
    const struct id_run *run, char *err, size_t errlen)
{
	char reason[64];
	int found = read_inputs(root, &out->in);

	(void)run;
	if (found > 0) {
		id_butler(out->in.mac, out->in.ipv4, out->in.host, out->in.uuid, out->hex);
		return 0;
	}
	if (found < 0)
		buf_join(reason, sizeof reason, "no default interface", NULL, NULL);
	else
		buf_join(reason, sizeof reason, "no MAC address on ", out->in.iface, NULL);
	buf_join(out->why, sizeof out->why, "fallback: ", reason, NULL);
	return scheme_machine_id(out, c, root, reason, err, errlen);
}

/* Butler's inputs for `id --explain`, which auto judges too (lines whose value
 * is fixed are written whole). */
static void
explain_inputs(const struct id *id, struct buf *b)
{
	buf_line(b, "iface", id->in.iface);
	buf_str(b, "iface.from: /proc/net/route (IPv4 default route, lowest metric)\n");
	buf_line(b, "mac", id->in.mac);
	if (id->in.iface[0] == '\0') {
		buf_str(b, "mac.from: (no default interface)\n");
	} else {
		buf_str(b, "mac.from: /sys/class/net/");
		buf_str(b, id->in.iface);
		buf_str(b, "/address\n");
	}
	buf_line(b, "ipv4", id->in.ipv4);
	buf_str(b, "ipv4.from: the interface's primary IPv4 address (SIOCGIFADDR)\n");
	buf_line(b, "host", id->in.host);
	buf_str(b, "host.from: config id.host (empty when unset)\n");
	buf_line(b, "uuid", id->in.uuid);
	buf_str(b, "uuid.from: /sys/class/dmi/id/product_uuid (empty when unreadable)\n");
}

/*
 * The schemes, indexed by enum cfg_scheme; config's id.scheme names them, in this
 * order. A new scheme is a value of that enum and a row here: its name, the
 * function that computes the ID (the random one makes it only when run->create is set),
 * the formula `id --explain` prints as id.from (NULL for auto, which only chooses
 * another scheme; id_explain adds the inputs that butler and auto read, and
 * machine-id's app ID), and what the notice says is sent.
 */
static const struct {
	const char *name;
	int (*compute)(struct id *out, const struct cfg *c, const char *root,
	    const struct id_run *run, char *err, size_t errlen);
	const char *from;
	const char *notice;
} schemes[] = {
	[CFG_SCHEME_AUTO] = { "auto", compute_auto, NULL, NULL },
	[CFG_SCHEME_BUTLER] = { "butler", compute_butler,
	    "hex(HMAC-SHA256(key = mac, message = mac + ipv4 + host + uuid))",
	    "an instance ID that is an HMAC-SHA256 of this machine's MAC and IPv4 addresses "
	    "and hardware UUID (those values are not sent)" },
	[CFG_SCHEME_MACHINE_ID] = { "machine-id", compute_machine_id,
	    "systemd app-specific ID: HMAC-SHA256(key = /etc/machine-id, "
	    "message = app_id), first 16 bytes, UUID v4 bits",
	    "an instance ID derived from the machine ID by HMAC-SHA256 (the machine ID is "
	    "not sent)" },
	[CFG_SCHEME_RANDOM] = { "random", compute_random,
	    "32 random bytes, made once and kept in the state dir as random-id",
	    "a random instance ID made once and kept in the state directory" },
	[CFG_SCHEME_FIXED] = { "fixed", compute_fixed,
	    "the environment variable ANONTEL_ID",
	    "the instance ID set in ANONTEL_ID, as it is given" },
	[CFG_SCHEME_NONE] = { "none", compute_none,
	    "nothing: no instance ID is made or sent; each message carries its "
	    "age (whole weeks since the state dir's first report: 0, 1, 2-4, 5-24, 25+) and, "
	    "for PostHog, its own UUID as distinct_id",
	    "no instance ID, only how many weeks ago this installation first reported "
	    "(0, 1, 2-4, 5-24 or 25+)" },
};

#define N_SCHEMES (sizeof schemes / sizeof schemes[0])

const char *
id_scheme_name(unsigned scheme)
{
	return scheme < N_SCHEMES ? schemes[scheme].name : NULL;
}

const char *
id_scheme_notice(unsigned scheme)
{
	return scheme < N_SCHEMES ? schemes[scheme].notice : NULL;
}

const char *
id_age_bucket(int64_t first_ms, int64_t now_ms)
{
	const int64_t week_ms = INT64_C(7) * 24 * 3600 * 1000;
	int64_t weeks = first_ms > 0 && now_ms > first_ms ? (now_ms - first_ms) / week_ms : 0;

	return weeks < 1 ? "0" : weeks < 2 ? "1" : weeks < 5 ? "2-4" : weeks < 25 ? "5-24" : "25+";
}

const char *
id_message_age(const struct id *id, int64_t first_ms, int64_t now_ms)
{
	return id->scheme == CFG_SCHEME_NONE ? id_age_bucket(first_ms, now_ms) : NULL;
}

void
id_explain(const struct id *id, struct buf *b)
{
	const char *chose = id_scheme_name(id->scheme);

	if (chose == NULL || schemes[id->scheme].from == NULL)
		return;
	if (id->asked == CFG_SCHEME_AUTO) {
		buf_str(b, "scheme.asked: auto, chose ");
		buf_str(b, chose);
		buf_char(b, '\n');
	}
	buf_line(b, "scheme", chose);
	buf_line(b, "why", id->why);
	/* auto shows the inputs it judged, also when it chose random. */
	if (id->asked == CFG_SCHEME_AUTO || id->scheme == CFG_SCHEME_BUTLER)
		explain_inputs(id, b);
	if (id->scheme == CFG_SCHEME_MACHINE_ID) {
		buf_line(b, "app_id", id->in.app_id);
		buf_line(b, "app_id.from", id->in.app_id_from);
	}
	buf_line(b, "id.from", schemes[id->scheme].from);
	buf_line(b, "id", id->scheme == CFG_SCHEME_NONE ? "(none)" : id->hex);
}

/* id_compute, id_compute_in and id_read: the random scheme makes its ID only when
 * run->create is set. */
static int
compute(struct id *out, const struct cfg *c, const char *root,
    const struct id_run *run, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->in.host = c->id_host;
	out->in.app_id_from = "";
	out->asked = c->scheme;
	out->scheme = c->scheme;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (root == NULL || root[0] == '\0')
		root = "/";
	if ((unsigned)c->scheme >= N_SCHEMES) {
		buf_join(err, errlen, "id.scheme: not one of id.c's schemes", NULL, NULL);
		return ID_ERR_CONFIG;
	}
	buf_join(out->why, sizeof out->why, "id.scheme is ", schemes[c->scheme].name, NULL);
	return schemes[c->scheme].compute(out, c, root, run, err, errlen);
}

int
id_compute(struct id *out, const struct cfg *c, const char *root, char *err, size_t errlen)
{
	const struct id_run run = { 1, NULL, 1 };

	return compute(out, c, root, &run, err, errlen);
}

int
id_compute_in(struct id *out, const struct cfg *c, struct state *s, char *err, size_t errlen)
{
	/* The report: the kept random ID decides without a look at the inputs. */
	const struct id_run run = { 1, s, 0 };

	return compute(out, c, "/", &run, err, errlen);
}

int
id_read(struct id *out, const struct cfg *c, const char *root, char *err, size_t errlen)
{
	const struct id_run run = { 0, NULL, 1 };

	return compute(out, c, root, &run, err, errlen);
}
