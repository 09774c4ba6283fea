/*
 * fuzz_url: url_parse, url_format, url_is_loopback, url_resolve, url_no_proxy_match
 * and url_proxy_for (src/url.c).
 *
 * The whole input, as a C string, goes to url_parse first (control characters,
 * NUL cuts and all). Then it is read as lines:
 *   0  a URL (the base)           1  a redirect Location, resolved against the base
 *   2  a NO_PROXY list            3  a host to match against it
 *   4  the config's "proxy" ("" = none)
 *   5+ environment settings: the first byte picks the variable (https_proxy,
 *      HTTPS_PROXY, all_proxy, ALL_PROXY, no_proxy, NO_PROXY), the rest is its value
 * and url_proxy_for runs for the base with exactly that environment (installed by
 * pointing `environ` at a private array: setenv would keep every value forever).
 *
 * Invariants: a parsed URL is well-formed (lowercase host of the allowed bytes,
 * port >= 1, path from "/" without spaces, controls or '#') and survives
 * url_format + url_parse unchanged; a refused one is all zeros and the reason is
 * one of url.c's fixed texts (never a piece of the input, so no credential can
 * leak). IPv6 hosts are read independently of the C library (url.c reads them
 * with inet_pton, which this build would share): RFC 4291 2.2's text forms, read
 * by ref_ipv6 below; "https://[X]/" parses exactly when ref_ipv6 reads X.
 * url_is_loopback agrees with an independent reading: ref_ipv6 for IPv6, and for
 * IPv4 musl's own inet_aton (what C libraries' resolvers accept): a host inet_aton
 * would read as an address must be the canonical dotted quad inet_pton reads the
 * same way. url_resolve keeps the base's origin for "/path" and works
 * in place. NO_PROXY matching ignores ASCII case and equals the OR of its entries.
 * url_proxy_for returns an http:// proxy with path "/", and errors that name the
 * setting and nothing from its value.
 */
#include "fuzz_util.h"

#include <arpa/inet.h>
#include <ctype.h>

#include "buf.h"
#include "url.h"

extern char **environ;

static const char *const reasons[] = {
	"%00 in userinfo", "'@' in userinfo must be percent-encoded", "Location too long",
	"URL too long", "backslash in URL authority", "empty Location", "empty host",
	"empty label in host name", "host name label too long", "host name too long",
	"invalid IPv4 address", "invalid IPv6 address", "invalid character in host",
	"invalid character in userinfo", "invalid percent-encoding in path",
	"invalid percent-encoding in userinfo", "invalid port", "junk after IPv6 address",
	"non-ASCII character in URL", "not an absolute http:// or https:// URL", "path too long",
	"port out of range 1..65535", "relative redirect Location is not supported",
	"space or control character in URL", "space or control character in path",
	"unsupported scheme (only http:// and https://)", "unterminated IPv6 address",
	"userinfo too long", "empty port",
};

static int
known_reason(const char *s)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (strcmp(s, reasons[i]) == 0)
			return 1;
	return 0;
}

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, c + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= c[i];
	return acc == 0;
}

/* musl 1.2's __inet_aton (src/network/inet_aton.c), as a C library's
 * getaddrinfo reads a numeric host. */
static int
musl_inet_aton(const char *s0, unsigned char d[4])
{
	const char *s = s0;
	unsigned long a[4] = { 0 };
	char *z;
	int i;

	for (i = 0; i < 4; i++) {
		a[i] = strtoul(s, &z, 0);
		if (z == s || (*z && *z != '.') || !isdigit((unsigned char)*s))
			return 0;
		if (!*z)
			break;
		s = z + 1;
	}
	if (i == 4)
		return 0;
	switch (i) {
	case 0:
		a[1] = a[0] & 0xffffff;
		a[0] >>= 24;
		/* fall through */
	case 1:
		a[2] = a[1] & 0xffff;
		a[1] >>= 16;
		/* fall through */
	case 2:
		a[3] = a[2] & 0xff;
		a[2] >>= 8;
	}
	for (i = 0; i < 4; i++) {
		if (a[i] > 255)
			return 0;
		d[i] = (unsigned char)a[i];
	}
	return 1;
}

/* A dotted quad of four decimal parts 0..255 without leading zeros, and nothing
 * after it, as the two last groups of an IPv6 address (RFC 4291 2.2, form 3). */
static int
ref_quad(const char *p, unsigned g[2])
{
	unsigned v[4];

	for (int i = 0; i < 4; i++) {
		int d = 0;

		v[i] = 0;
		while (d < 4 && p[d] >= '0' && p[d] <= '9')
			v[i] = v[i] * 10 + (unsigned)(p[d++] - '0');
		if (d == 0 || d == 4 || (d > 1 && p[0] == '0') || v[i] > 255)
			return 0;
		p += d;
		if (*p++ != (i < 3 ? '.' : '\0'))
			return 0;
	}
	g[0] = v[0] << 8 | v[1];
	g[1] = v[2] << 8 | v[3];
	return 1;
}

/* 1 to 4 hex digits at p: their count, with the value in *g; 0 if none. */
static int
ref_group(const char *p, unsigned *g)
{
	int d = 0;

	*g = 0;
	for (; d < 5 && isxdigit((unsigned char)p[d]); d++)
		*g = *g * 16 + (unsigned)(isdigit((unsigned char)p[d]) ? p[d] - '0' :
		    tolower((unsigned char)p[d]) - 'a' + 10);
	return d <= 4 ? d : 0;
}

/* RFC 4291 2.2's text forms of an IPv6 address, read without the C library: eight
 * groups of 1 to 4 hex digits split by ':', or fewer with one "::" standing for one
 * or more zero groups; the last 32 bits may be a dotted quad. 1 with the address in
 * a, else 0. */
static int
ref_ipv6(const char *p, unsigned char a[16])
{
	unsigned g[8];
	int n = 0, gap = -1, d;

	if (p[0] == ':') {
		if (p[1] != ':')
			return 0;
		gap = 0;
		p += 2;
	}
	while (*p != '\0') {
		const char *dot = strchr(p, '.'), *colon = strchr(p, ':');

		if (dot != NULL && (colon == NULL || dot < colon)) {
			if (n > 6 || !ref_quad(p, g + n))
				return 0;
			n += 2;
			break;
		}
		if (n == 8 || (d = ref_group(p, &g[n])) == 0)
			return 0;
		n++;
		p += d;
		if (*p == '\0')
			break;
		if (*p++ != ':' || *p == '\0')
			return 0;
		if (*p == ':') {
			if (gap >= 0)
				return 0;
			gap = n;
			p++;
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return 0;
	memset(a, 0, 16);
	for (int i = 0; i < n; i++) {
		int at = gap < 0 || i < gap ? i : i + 8 - n;

		a[2 * at] = (unsigned char)(g[i] >> 8);
		a[2 * at + 1] = (unsigned char)g[i];
	}
	return 1;
}

static void
check_url(const struct url *u, const char *what)
{
	size_t hl = strnlen(u->host, sizeof u->host);
	size_t pl = strnlen(u->path, sizeof u->path);
	int loop, want_loop;

	FUZZ_CHECK(u->scheme == URL_HTTP || u->scheme == URL_HTTPS, "%s: scheme", what);
	FUZZ_CHECK(hl >= 1 && hl <= URL_HOST_MAX, "%s: host length %zu", what, hl);
	FUZZ_CHECK(u->port >= 1, "%s: port 0", what);
	FUZZ_CHECK(pl >= 1 && pl <= URL_PATH_MAX && u->path[0] == '/', "%s: path", what);
	FUZZ_CHECK(memchr(u->user, '\0', sizeof u->user) && memchr(u->pass, '\0', sizeof u->pass),
	    "%s: userinfo not terminated", what);
	for (size_t i = 0; i < hl; i++) {
		char c = u->host[i];
		FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		    c == '-' || c == '_' || (u->host_is_ipv6 && c == ':'),
		    "%s: byte 0x%02x in host \"%s\"", what, (unsigned char)c, u->host);
	}
	for (size_t i = 0; i < pl; i++)
		FUZZ_CHECK(u->path[i] > 0x20 && u->path[i] < 0x7f && u->path[i] != '#',
		    "%s: byte 0x%02x in path", what, (unsigned char)u->path[i]);

	/* loopback, judged independently */
	loop = url_is_loopback(u);
	FUZZ_CHECK(loop == 0 || loop == 1, "%s: url_is_loopback %d", what, loop);
	if (u->host_is_ipv6) {
		unsigned char a[16];
		static const unsigned char one[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

		FUZZ_CHECK(ref_ipv6(u->host, a), "%s: IPv6 host \"%s\" accepted, RFC 4291's "
		    "text forms refuse it", what, u->host);
		want_loop = memcmp(a, one, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
	} else {
		unsigned char m[4], p[4];

		if (musl_inet_aton(u->host, m)) {
			FUZZ_CHECK(inet_pton(AF_INET, u->host, p) == 1 && memcmp(m, p, 4) == 0,
			    "%s: host \"%s\" is an address to musl's resolver but not a canonical "
			    "dotted quad", what, u->host);
			want_loop = m[0] == 127;
		} else {
			/* RFC 6761: "localhost" and any name under it, one trailing
			 * dot allowed (url_parse lowercases the host). */
			size_t n = strlen(u->host);

			if (n > 0 && u->host[n - 1] == '.')
				n--;
			want_loop = (n == 9 && memcmp(u->host, "localhost", 9) == 0) ||
			    (n > 10 && memcmp(u->host + n - 10, ".localhost", 10) == 0);
		}
	}
	FUZZ_CHECK(loop == want_loop, "%s: url_is_loopback(\"%s\") = %d, want %d", what, u->host,
	    loop, want_loop);
}

/* Parses s; checks what url.h promises either way; returns url_parse's result. */
static int
parse_checked(struct url *u, const char *s, const char *what)
{
	char err[256];
	int r;

	memset(u, 0x5A, sizeof *u);
	err[0] = '\0';
	r = url_parse(u, s, err, sizeof err);
	FUZZ_CHECK(r == 0 || r == -1, "%s: url_parse returned %d", what, r);
	if (r != 0) {
		FUZZ_CHECK(all_zero(u, sizeof *u), "%s: url not zeroed on failure", what);
		FUZZ_CHECK(known_reason(err), "%s: unknown reason \"%s\"", what, err);
		return -1;
	}
	check_url(u, what);
	{
		/* format and parse again: the same URL, minus userinfo */
		static struct url v;
		char text[URL_HOST_MAX + URL_PATH_MAX + 64];
		struct buf b;

		buf_init(&b, text, sizeof text);
		url_format(&b, u);
		FUZZ_CHECK(!b.overflow, "%s: url_format overflow", what);
		FUZZ_CHECK(url_parse(&v, text, err, sizeof err) == 0, "%s: url_format gave \"%s\", "
		    "which does not parse: %s", what, text, err);
		FUZZ_CHECK(v.scheme == u->scheme && v.port == u->port &&
		    v.host_is_ipv6 == u->host_is_ipv6 && strcmp(v.host, u->host) == 0 &&
		    strcmp(v.path, u->path) == 0 && v.user[0] == '\0' && v.pass[0] == '\0',
		    "%s: \"%s\" parses to something else", what, text);
	}
	return 0;
}

static void
check_resolve(const struct url *base, const char *loc)
{
	static struct url out, same;
	char err[256];
	int r, r2;

	memset(&out, 0x5A, sizeof out);
	err[0] = '\0';
	r = url_resolve(&out, base, loc, err, sizeof err);
	FUZZ_CHECK(r == 0 || r == -1, "url_resolve returned %d", r);
	if (r != 0) {
		FUZZ_CHECK(known_reason(err), "url_resolve: unknown reason \"%s\"", err);
	} else {
		check_url(&out, "resolved");
		if (loc[0] == '/' && loc[1] != '/')
			FUZZ_CHECK(out.scheme == base->scheme && out.port == base->port &&
			    strcmp(out.host, base->host) == 0 && strcmp(out.user, base->user) == 0 &&
			    strcmp(out.pass, base->pass) == 0 &&
			    out.host_is_ipv6 == base->host_is_ipv6,
			    "\"/path\" Location changed the origin");
	}
	/* out may be base */
	same = *base;
	r2 = url_resolve(&same, &same, loc, err, sizeof err);
	FUZZ_CHECK(r2 == r, "in-place url_resolve returned %d, not %d", r2, r);
	if (r == 0)
		FUZZ_CHECK(memcmp(&same, &out, sizeof out) == 0 ||
		    (same.scheme == out.scheme && same.port == out.port &&
		     strcmp(same.host, out.host) == 0 && strcmp(same.path, out.path) == 0 &&
		     strcmp(same.user, out.user) == 0 && strcmp(same.pass, out.pass) == 0),
		    "in-place url_resolve gives another URL");
}

/* For X of hex digits, ':' and '.' (other bytes could end or change the URL
 * around it): "https://[X]/" parses exactly when X is an IPv6 address in RFC 4291's
 * text forms, and to that address. */
static void
check_bracketed(const char *x)
{
	static struct url v;
	char text[8300];
	unsigned char a[16], b[16];
	int want = ref_ipv6(x, a), r;

	if (x[strspn(x, "0123456789abcdefABCDEF:.")] != '\0')
		return;
	snprintf(text, sizeof text, "https://[%s]/", x);
	r = url_parse(&v, text, NULL, 0);
	FUZZ_CHECK((r == 0) == want, "\"%s\": url_parse %d, RFC 4291 reads it %d", text, r, want);
	if (r == 0)
		FUZZ_CHECK(v.host_is_ipv6 && ref_ipv6(v.host, b) && memcmp(a, b, 16) == 0,
		    "\"%s\": host \"%s\" is another address", text, v.host);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static void
check_no_proxy(const char *np, const char *host)
{
	static char up[8192], one[8194];
	size_t n = strlen(np), a = 0, z = n;
	int r, any = 0;

	r = url_no_proxy_match(np, host);
	FUZZ_CHECK(r == 0 || r == 1, "url_no_proxy_match returned %d", r);
	if (n >= sizeof up)
		return;
	for (size_t i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)np[i]);
	FUZZ_CHECK(url_no_proxy_match(up, host) == r, "NO_PROXY \"%s\" vs \"%s\": case matters for "
	    "host \"%s\"", np, up, host);
	while (a < z && is_blank(np[a]))
		a++;
	while (z > a && is_blank(np[z - 1]))
		z--;
	if (z - a == 1 && np[a] == '*') {
		FUZZ_CHECK(r == 1 || host[0] == '\0', "\"*\" did not match \"%s\"", host);
		return;
	}
	/* the OR of the entries, each alone */
	for (const char *p = np; *p;) {
		size_t k;

		while (*p == ',' || is_blank(*p))
			p++;
		for (k = 0; p[k] != '\0' && p[k] != ',' && !is_blank(p[k]); k++)
			;
		if (k > 0) {
			/* "*" alone would mean "everything": "*," keeps it an ordinary entry */
			memcpy(one, p, k);
			one[k] = ',';
			one[k + 1] = '\0';
			any |= url_no_proxy_match(one, host);
		}
		p += k;
	}
	FUZZ_CHECK(any == r, "NO_PROXY \"%s\" gives %d for \"%s\", its entries one by one %d", np,
	    r, host, any);
}

static const char *const vars[6] = {
	"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
};

static void
check_proxy_for(const struct url *dest, const char *config_proxy, char **env)
{
	static struct url proxy;
	const char *which = (const char *)1;
	char err[512];
	char **saved = environ;
	int r;

	struct url_env values;

	err[0] = '\0';
	environ = env;
	for (size_t i = 0; i < URL_PROXY_VARS; i++)
		values.value[i] = getenv(url_proxy_vars[i]);
	environ = saved;
	r = url_proxy_for(dest, &values, config_proxy, &proxy, &which, err, sizeof err);
	FUZZ_CHECK(r >= -1 && r <= 1, "url_proxy_for returned %d", r);
	if (r == 1) {
		FUZZ_CHECK(proxy.scheme == URL_HTTP && strcmp(proxy.path, "/") == 0 &&
		    proxy.host[0] != '\0' && proxy.port >= 1, "bad proxy URL");
		FUZZ_CHECK(dest->scheme == URL_HTTPS, "a proxy for an http:// destination");
		FUZZ_CHECK(which != NULL && (strcmp(which, "proxy") == 0 || strcmp(which, vars[0]) == 0 ||
		    strcmp(which, vars[1]) == 0 || strcmp(which, vars[2]) == 0 ||
		    strcmp(which, vars[3]) == 0), "which = %s", which ? which : "(null)");
		if (strcmp(which, "proxy") == 0)
			FUZZ_CHECK(config_proxy != NULL && config_proxy[0] != '\0', "which = proxy");
	} else if (r == 0) {
		FUZZ_CHECK(all_zero(&proxy, sizeof proxy), "proxy not zeroed");
		FUZZ_CHECK(which == NULL || strcmp(which, "no_proxy") == 0 ||
		    strcmp(which, "NO_PROXY") == 0, "which = %s", which);
	} else {
		static const char *const names[5] = { "proxy", "https_proxy", "HTTPS_PROXY",
			"all_proxy", "ALL_PROXY" };
		const char *rest = NULL;

		FUZZ_CHECK(all_zero(&proxy, sizeof proxy), "proxy not zeroed on error");
		for (int i = 0; i < 5 && rest == NULL; i++) {
			size_t k = strlen(names[i]);
			if (strncmp(err, names[i], k) == 0 && strncmp(err + k, ": ", 2) == 0)
				rest = err + k;
		}
		FUZZ_CHECK(rest != NULL, "error does not name the setting: \"%s\"", err);
		FUZZ_CHECK(strcmp(rest, ": only http:// proxies are supported") == 0 ||
		    strcmp(rest, ": proxy URL too long") == 0 ||
		    strcmp(rest, ": invalid proxy URL: a path is not allowed") == 0 ||
		    strcmp(rest, ": the proxy user name contains ':' (%3A), which Basic "
		    "authentication cannot carry") == 0 ||
		    (strncmp(rest, ": invalid proxy URL: ", 21) == 0 && known_reason(rest + 21)),
		    "error carries more than a fixed text: \"%s\"", err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char whole[16384], lines[12][8192], envbuf[6][8300];
	static struct url base, u, fixed;
	char *env[7];
	size_t off[12], len[12], n, ne = 0;
	int have_base;

	if (size >= sizeof whole)
		return 0;
	fz_cstr(whole, sizeof whole, data, size);
	(void)parse_checked(&u, whole, "whole input");

	n = fz_split(data, size, "\n", 1, 12, off, len);
	for (size_t i = 0; i < 12; i++) {
		if (i < n)
			fz_cstr(lines[i], sizeof lines[i], data + off[i], len[i]);
		else
			lines[i][0] = '\0';
	}
	have_base = parse_checked(&base, lines[0], "base") == 0;
	if (!have_base) {
		FUZZ_CHECK(url_parse(&base, "https://user:pw@example.com:8443/a/b?q", NULL, 0) == 0,
		    "fixed base");
	}
	check_resolve(&base, lines[1]);
	check_bracketed(lines[3]);
	check_no_proxy(lines[2], lines[3]);
	check_no_proxy(lines[2], base.host);

	for (size_t i = 5; i < n && i < 12 && ne < 6; i++) {
		if (lines[i][0] == '\0')
			continue;
		snprintf(envbuf[ne], sizeof envbuf[ne], "%s=%s",
		    vars[(unsigned char)lines[i][0] % 6], lines[i] + 1);
		env[ne] = envbuf[ne];
		ne++;
	}
	env[ne] = NULL;
	check_proxy_for(&base, lines[4][0] != '\0' ? lines[4] : NULL, env);
	FUZZ_CHECK(url_parse(&fixed, "https://api.example.com/", NULL, 0) == 0, "fixed dest");
	check_proxy_for(&fixed, lines[4][0] != '\0' ? lines[4] : NULL, env);
	return 0;
}
