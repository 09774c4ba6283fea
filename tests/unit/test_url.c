#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "url.h"

struct parse_row {
	const char *name;
	const char *in;
	int ok;
	int scheme;
	const char *host;
	int v6;
	int port;
	const char *path;
	const char *user;
	const char *pass;
};

static const struct parse_row parse_rows[] = {
	{ "https plain", "https://telemetry.example.com/api/butlerTelemetry", 1, URL_HTTPS,
	    "telemetry.example.com", 0, 443, "/api/butlerTelemetry", "", "" },
	{ "http loopback port", "http://127.0.0.1:8080/x", 1, URL_HTTP, "127.0.0.1", 0, 8080, "/x", "", "" },
	{ "scheme and host case", "HTTPS://Eu.I.PostHog.COM/i/v0/e/", 1, URL_HTTPS, "eu.i.posthog.com", 0,
	    443, "/i/v0/e/", "", "" },
	{ "empty path", "https://a.example", 1, URL_HTTPS, "a.example", 0, 443, "/", "", "" },
	{ "query without path", "https://a.example?x=1", 1, URL_HTTPS, "a.example", 0, 443, "/?x=1", "", "" },
	{ "query kept, fragment dropped", "https://a.example/p?q=1&r=%20#frag", 1, URL_HTTPS, "a.example", 0,
	    443, "/p?q=1&r=%20", "", "" },
	{ "fragment only", "https://a.example#x", 1, URL_HTTPS, "a.example", 0, 443, "/", "", "" },
	{ "port 1", "https://a.example:1/", 1, URL_HTTPS, "a.example", 0, 1, "/", "", "" },
	{ "port 65535", "https://a.example:65535/", 1, URL_HTTPS, "a.example", 0, 65535, "/", "", "" },
	{ "ipv6 loopback", "http://[::1]:8080/", 1, URL_HTTP, "::1", 1, 8080, "/", "", "" },
	{ "ipv6 full, lowercased", "https://[2001:DB8:0:0:0:0:0:1]/", 1, URL_HTTPS, "2001:db8:0:0:0:0:0:1", 1,
	    443, "/", "", "" },
	{ "ipv6 mapped v4", "https://[::ffff:192.0.2.1]/", 1, URL_HTTPS, "::ffff:192.0.2.1", 1, 443, "/", "", "" },
	{ "ipv6 trailing ::", "https://[fe80::]/", 1, URL_HTTPS, "fe80::", 1, 443, "/", "", "" },
	{ "userinfo", "http://user:pass@proxy.example:3128", 1, URL_HTTP, "proxy.example", 0, 3128, "/",
	    "user", "pass" },
	{ "userinfo %40 and %3A", "http://us%40er:p%3Aa:ss@proxy.example", 1, URL_HTTP, "proxy.example", 0,
	    80, "/", "us@er", "p:a:ss" },
	{ "user without password", "http://user@proxy.example", 1, URL_HTTP, "proxy.example", 0, 80, "/",
	    "user", "" },
	{ "empty password", "http://user:@proxy.example", 1, URL_HTTP, "proxy.example", 0, 80, "/", "user", "" },
	{ "underscore host", "https://my_host.example/", 1, URL_HTTPS, "my_host.example", 0, 443, "/", "", "" },
	{ "trailing dot host", "http://localhost./", 1, URL_HTTP, "localhost.", 0, 80, "/", "", "" },
	{ "percent in path", "https://a.example/%7Euser", 1, URL_HTTPS, "a.example", 0, 443, "/%7Euser", "", "" },
	{ "numeric-looking label not last", "https://1.2.3.example/", 1, URL_HTTPS, "1.2.3.example", 0, 443, "/",
	    "", "" },

	{ "ftp scheme", "ftp://a.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "socks scheme", "socks5://a.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "no scheme", "a.example/x", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "one slash", "https:/a.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "empty", "", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "port 0", "https://a.example:0/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "port 65536", "https://a.example:65536/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "port abc", "https://a.example:abc/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "port empty", "https://a.example:/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "port sign", "https://a.example:+80/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "port huge", "https://a.example:0000000000443/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "empty host", "https:///x", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "empty host with port", "https://:443/x", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "empty host with userinfo", "https://u:p@/x", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "space in host", "https://a example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "space in path", "https://a.example/a b", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "tab in path", "https://a.example/a\tb", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "CR LF in path", "https://a.example/a\r\nX-Injected: 1", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "DEL in path", "https://a.example/a\x7f", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "non-ASCII host", "https://b\xc3\xbc" "cher.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "bad percent in path", "https://a.example/%zz", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "short percent in path", "https://a.example/%4", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "percent in host", "https://a%2eexample/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "two @", "https://u@v@a.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "%00 in userinfo", "http://u%00:p@a.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "bad %xx in userinfo", "http://u:p%g1@a.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "truncated % in userinfo", "http://u:p%4@a.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "backslash in authority", "https://evil.example\\@good.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "empty label", "https://a..example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "leading dot", "https://.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "bad char in host", "https://a!b.example/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv4 short form", "http://127.1/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv4 integer", "http://2130706433/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv4 hex", "http://0x7f.0.0.1/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv4 octal", "http://0177.0.0.1/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv4 256", "http://256.0.0.1/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv4 five parts", "http://1.2.3.4.5/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 unbracketed", "http://::1/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 unterminated", "http://[::1/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 two ::", "http://[1::2::3]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 nine groups", "http://[1:2:3:4:5:6:7:8:9]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 seven groups", "http://[1:2:3:4:5:6:7]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 five hex digits", "http://[12345::1]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 zone", "http://[fe80::1%25eth0]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 empty", "http://[]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 junk after ]", "http://[::1]x/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 single colon start", "http://[:1]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 trailing colon", "http://[1::2:]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 v4 not last", "http://[::1.2.3.4:5]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
	{ "ipv6 :: for nothing", "http://[1:2:3:4::5:6:7:8]/", 0, 0, NULL, 0, 0, NULL, NULL, NULL },
};

static void
test_parse(void)
{
	for (size_t i = 0; i < sizeof parse_rows / sizeof parse_rows[0]; i++) {
		const struct parse_row *t = &parse_rows[i];
		struct url u;
		char err[160] = "";
		int rc = url_parse(&u, t->in, err, sizeof err);

		CHECKF((rc == 0) == t->ok, "%s: rc %d (%s)", t->name, rc, err);
		if (rc != 0) {
			CHECKF(err[0] != '\0', "%s: no reason", t->name);
			continue;
		}
		if (!t->ok)
			continue;
		CHECKF((int)u.scheme == t->scheme, "%s: scheme", t->name);
		CHECK_STR(u.host, t->host, t->name);
		CHECKF(u.host_is_ipv6 == t->v6, "%s: v6 %d", t->name, u.host_is_ipv6);
		CHECKF(u.port == t->port, "%s: port %d, want %d", t->name, u.port, t->port);
		CHECK_STR(u.path, t->path, t->name);
		CHECK_STR(u.user, t->user, t->name);
		CHECK_STR(u.pass, t->pass, t->name);
	}
}

static void
test_limits(void)
{
	static char s[8192];
	struct url u;
	char err[128];
	size_t n;

	/* host: 253 ok, 254 refused (labels of 63) */
	strcpy(s, "https://");
	n = strlen(s);
	for (int i = 0; i < 4; i++) {
		memset(s + n, 'a', 63);
		n += 63;
		s[n++] = '.';
	}
	s[n - 1] = '\0';    /* 4 * 64 - 1 = 255 chars */
	CHECK(url_parse(&u, s, err, sizeof err) == -1);
	s[8 + 253] = '\0';
	if (s[8 + 252] == '.')
		s[8 + 252] = 'b';
	CHECKF(url_parse(&u, s, err, sizeof err) == 0, "253-char host: %s", err);
	/* a 64-char label */
	strcpy(s, "https://");
	memset(s + 8, 'a', 64);
	strcpy(s + 72, ".example/");
	CHECK(url_parse(&u, s, err, sizeof err) == -1);

	/* path: URL_PATH_MAX ok, one more refused */
	strcpy(s, "https://a.example/");
	memset(s + 18, 'p', URL_PATH_MAX - 1);
	s[17 + URL_PATH_MAX] = '\0';
	CHECKF(url_parse(&u, s, err, sizeof err) == 0, "longest path: %s", err);
	CHECK(strlen(u.path) == URL_PATH_MAX);
	strcat(s, "p");
	CHECK(url_parse(&u, s, err, sizeof err) == -1);

	/* userinfo: 255 decoded ok, 256 refused */
	strcpy(s, "http://");
	memset(s + 7, 'u', URL_USER_MAX);
	strcpy(s + 7 + URL_USER_MAX, "@a.example/");
	CHECKF(url_parse(&u, s, err, sizeof err) == 0, "longest user: %s", err);
	strcpy(s, "http://x:");
	memset(s + 9, 'p', URL_USER_MAX + 1);
	strcpy(s + 10 + URL_USER_MAX, "@a.example/");
	CHECK(url_parse(&u, s, err, sizeof err) == -1);

	/* the whole text */
	strcpy(s, "https://a.example/?");
	memset(s + 19, 'q', sizeof s - 20);
	s[sizeof s - 1] = '\0';
	CHECK(url_parse(&u, s, err, sizeof err) == -1);

	/* err is bounded and NUL-terminated */
	CHECK(url_parse(&u, "ftp://x/", err, 5) == -1 && strlen(err) == 4);
	CHECK(url_parse(&u, "ftp://x/", NULL, 0) == -1);
}

static void
test_errors_hide_userinfo(void)
{
	static const char *const bad[] = {
		"http://user:s3cr3t@a.example:0/",
		"http://user:s3cr3t@a..example/",
		"http://user:s3cr3t%zz@a.example/",
		"http://user:s3cr3t@a.example/ x",
		"http://user:s3cr3t@@a.example/",
		"http://user:s3cr3t@[::g]/",
		"ftp://user:s3cr3t@a.example/",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct url u;
		char err[256] = "";

		CHECKF(url_parse(&u, bad[i], err, sizeof err) == -1, "row %zu accepted", i);
		CHECKF(strstr(err, "s3cr3t") == NULL, "row %zu leaks: %s", i, err);
		CHECKF(u.pass[0] == '\0' && u.user[0] == '\0', "row %zu: struct keeps credentials", i);
	}
}

static void
test_loopback(void)
{
	static const struct {
		const char *url;
		int want;
	} rows[] = {
		{ "http://localhost/", 1 },
		{ "http://LOCALHOST:8080/", 1 },
		{ "http://localhost./", 1 },
		{ "http://127.0.0.1/", 1 },
		{ "http://127.255.255.254/", 1 },
		{ "http://[::1]/", 1 },
		{ "http://[0:0:0:0:0:0:0:1]/", 1 },
		{ "http://[::ffff:127.0.0.1]/", 1 },
		{ "http://localhost.example/", 0 },
		{ "http://foo.localhost/", 1 },        /* RFC 6761: never asked of DNS */
		{ "http://a.b.LOCALHOST./", 1 },
		{ "http://xlocalhost/", 0 },
		{ "http://mylocalhost/", 0 },
		{ "http://128.0.0.1/", 0 },
		{ "http://10.127.0.1/", 0 },
		{ "http://[::2]/", 0 },
		{ "http://[::]/", 0 },
		{ "http://[::ffff:10.0.0.1]/", 0 },
		{ "http://0.0.0.0/", 0 },
		{ "http://127.0.0.1.example/", 0 },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct url u;
		char err[128];

		if (url_parse(&u, rows[i].url, err, sizeof err) != 0) {
			CHECKF(0, "%s: %s", rows[i].url, err);
			continue;
		}
		CHECKF(url_is_loopback(&u) == rows[i].want, "%s: got %d", rows[i].url,
		    url_is_loopback(&u));
	}
}

static void
test_resolve(void)
{
	static const struct {
		const char *name, *base, *loc;
		const char *want;    /* "scheme://host:port/path" or NULL for refused */
	} rows[] = {
		{ "absolute", "https://a.example/x", "https://b.example:8443/y?z", "https://b.example:8443/y?z" },
		{ "absolute http (the caller refuses downgrades)", "https://a.example/x", "http://b.example/y",
		    "http://b.example:80/y" },
		{ "scheme-relative", "https://a.example/x", "//c.example/z#f", "https://c.example:443/z" },
		{ "scheme-relative keeps http", "http://localhost:8080/x", "//localhost:9090/z",
		    "http://localhost:9090/z" },
		{ "absolute path", "https://a.example:8443/x/y", "/new?q=1#f", "https://a.example:8443/new?q=1" },
		{ "absolute path on ipv6", "https://[::1]:8443/x", "/n", "https://::1:8443/n" },
		{ "relative path refused", "https://a.example/x/y", "z", NULL },
		{ "dot-relative refused", "https://a.example/x/y", "../z", NULL },
		{ "query-only refused", "https://a.example/x", "?q", NULL },
		{ "fragment-only refused", "https://a.example/x", "#f", NULL },
		{ "empty refused", "https://a.example/x", "", NULL },
		{ "other scheme refused", "https://a.example/x", "ftp://b.example/", NULL },
		{ "javascript refused", "https://a.example/x", "javascript:alert(1)", NULL },
		{ "space in path refused", "https://a.example/x", "/a b", NULL },
		{ "bad host refused", "https://a.example/x", "//a..b/", NULL },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct url base, out;
		char err[128] = "", got[4096];
		int rc;

		if (url_parse(&base, rows[i].base, err, sizeof err) != 0) {
			CHECKF(0, "%s: base: %s", rows[i].name, err);
			continue;
		}
		rc = url_resolve(&out, &base, rows[i].loc, err, sizeof err);
		if (rows[i].want == NULL) {
			CHECKF(rc == -1, "%s: accepted", rows[i].name);
			CHECKF(rc == 0 || err[0] != '\0', "%s: no reason", rows[i].name);
			continue;
		}
		CHECKF(rc == 0, "%s: %s", rows[i].name, err);
		if (rc != 0)
			continue;
		snprintf(got, sizeof got, "%s://%s:%u%s", out.scheme == URL_HTTPS ? "https" : "http",
		    out.host, out.port, out.path);
		CHECK_STR(got, rows[i].want, rows[i].name);
	}

	/* out may be base */
	{
		struct url u;
		char err[128];

		CHECK(url_parse(&u, "https://a.example/x", err, sizeof err) == 0);
		CHECK(url_resolve(&u, &u, "/y", err, sizeof err) == 0);
		CHECK_STR(u.path, "/y", "aliased path");
		CHECK(url_resolve(&u, &u, "//b.example/z", err, sizeof err) == 0);
		CHECK_STR(u.host, "b.example", "aliased host");
	}
}

static void
test_no_proxy(void)
{
	static const struct {
		const char *name, *list, *host;
		int want;
	} rows[] = {
		{ "exact", "example.com", "example.com", 1 },
		{ "suffix", "example.com", "www.example.com", 1 },
		{ "suffix with dot", ".example.com", "www.example.com", 1 },
		{ "leading dot matches the domain itself", ".example.com", "example.com", 1 },
		{ "not a dot boundary", "example.com", "notexample.com", 0 },
		{ "not a dot boundary, dot entry", ".example.com", "notexample.com", 0 },
		{ "longer entry", "www.example.com", "example.com", 0 },
		{ "case-insensitive", "EXAMPLE.Com", "www.example.com", 1 },
		{ "star alone", "*", "anything.example", 1 },
		{ "star with blanks", "  *  ", "anything.example", 1 },
		{ "star in a list matches nothing", "*, other.example", "anything.example", 0 },
		{ "star in a list, other entry still works", "*,anything.example", "anything.example", 1 },
		{ "star glob is not a wildcard", "*.example.com", "www.example.com", 0 },
		{ "list", "a.example, b.example ,c.example", "x.b.example", 1 },
		{ "list miss", "a.example,b.example", "c.example", 0 },
		{ "blanks and empty entries", " , ,\tb.example\t,,", "b.example", 1 },
		{ "blank-separated", "a.example b.example", "b.example", 1 },
		{ "port ignored", "example.com:8080", "example.com", 1 },
		{ "port ignored on suffix", ".example.com:443", "api.example.com", 1 },
		{ "trailing dot entry", "example.com.", "example.com", 1 },
		{ "trailing dot host", "example.com", "www.example.com.", 1 },
		{ "ipv4 exact", "192.0.2.1", "192.0.2.1", 1 },
		{ "ipv4 other", "192.0.2.1", "192.0.2.10", 0 },
		{ "ipv4 with port", "192.0.2.1:3128", "192.0.2.1", 1 },
		{ "ipv4 no suffix match", "0.2.1", "192.0.2.1", 0 },
		{ "ipv4 cidr", "10.0.0.0/8", "10.1.2.3", 1 },
		{ "ipv4 cidr miss", "10.0.0.0/8", "11.1.2.3", 0 },
		{ "ipv4 cidr /32", "10.1.2.3/32", "10.1.2.3", 1 },
		{ "ipv4 cidr /33 bad", "10.1.2.3/33", "10.1.2.3", 0 },
		{ "ipv6 ::1", "::1", "::1", 1 },
		{ "ipv6 ::1 in list", "localhost,127.0.0.1,::1", "::1", 1 },
		{ "ipv6 other form", "0:0:0:0:0:0:0:1", "::1", 1 },
		{ "ipv6 bracketed tolerated", "[::1]:8080", "::1", 1 },
		{ "ipv6 miss", "::1", "::2", 0 },
		{ "ipv6 cidr", "fd00::/8", "fd12:3456::1", 1 },
		{ "ipv6 cidr miss", "fd00::/8", "fe80::1", 0 },
		{ "name entry does not match ip", "example.com", "192.0.2.1", 0 },
		{ "ip entry does not match name", "192.0.2.1", "example.com", 0 },
		{ "localhost", "localhost", "localhost", 1 },
		{ "empty list", "", "example.com", 0 },
		{ "dot only", ".", "example.com", 0 },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		CHECKF(url_no_proxy_match(rows[i].list, rows[i].host) == rows[i].want,
		    "%s: \"%s\" vs %s", rows[i].name, rows[i].list, rows[i].host);
	CHECK(url_no_proxy_match(NULL, "example.com") == 0);
}

static void
clear_env(void)
{
	static const char *const vars[] = { "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
		"no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY" };

	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
}

/* Runs url_proxy_for for dest and renders "rc which host:port user:pass" or the error. */
static void
proxy_for(char *out, size_t n, const char *dest, const char *config)
{
	struct url d, p;
	const char *which = "untouched";
	char err[256] = "";
	int rc;

	if (url_parse(&d, dest, err, sizeof err) != 0) {
		snprintf(out, n, "bad dest %s", err);
		return;
	}
	struct url_env env;
	for (size_t i = 0; i < URL_PROXY_VARS; i++)
		env.value[i] = getenv(url_proxy_vars[i]);
	rc = url_proxy_for(&d, &env, config, &p, &which, err, sizeof err);
	if (rc == 1)
		snprintf(out, n, "1 %s %s:%u %s:%s", which ? which : "(null)", p.host, p.port, p.user,
		    p.pass);
	else if (rc == 0)
		snprintf(out, n, "0 %s", which ? which : "(null)");
	else
		snprintf(out, n, "-1 %s", err);
}

static void
test_proxy_for(void)
{
	char got[512];
	const char *dest = "https://telemetry.example.com/api";

	clear_env();
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "0 (null)", "nothing set");
	setenv("http_proxy", "http://h.example:1", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "0 (null)", "http_proxy is not for https");

	setenv("HTTPS_PROXY", "http://upper.example:3128", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "1 HTTPS_PROXY upper.example:3128 :", "uppercase alone");
	setenv("https_proxy", "http://lower.example:3129", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "1 https_proxy lower.example:3129 :", "lowercase wins");
	setenv("all_proxy", "http://all.example:1", 1);
	setenv("ALL_PROXY", "http://ALL.example:2", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "1 https_proxy lower.example:3129 :", "https_proxy over all_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "1 all_proxy all.example:1 :", "all_proxy");
	unsetenv("all_proxy");
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "1 ALL_PROXY all.example:2 :", "ALL_PROXY");

	/* set but empty: decides, as curl (no proxy) */
	setenv("https_proxy", "", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "0 (null)", "empty https_proxy");
	clear_env();

	/* scheme-less, default port, credentials */
	setenv("https_proxy", "proxy.example", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "1 https_proxy proxy.example:1080 :", "no scheme, default port 1080");
	setenv("https_proxy", "u%40x:p%3A@proxy.example:3128", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "1 https_proxy proxy.example:3128 u@x:p:", "no scheme, credentials");
	setenv("https_proxy", "HTTP://[::1]:3128/", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "1 https_proxy ::1:3128 :", "ipv6 proxy, trailing slash");

	/* the environment wins over the config; the config serves when no variable is set */
	proxy_for(got, sizeof got, dest, "http://cfg.example:8080");
	CHECK_STR(got, "1 https_proxy ::1:3128 :", "environment over config");
	proxy_for(got, sizeof got, dest, "");
	CHECK_STR(got, "1 https_proxy ::1:3128 :", "empty config proxy is unset");
	unsetenv("https_proxy");
	proxy_for(got, sizeof got, dest, "http://cfg.example:8080");
	CHECK_STR(got, "1 proxy cfg.example:8080 :", "config proxy when no variable is set");
	setenv("https_proxy", "", 1);
	proxy_for(got, sizeof got, dest, "http://cfg.example:8080");
	CHECK_STR(got, "0 (null)", "an empty variable means no proxy, over the config");
	setenv("https_proxy", "HTTP://[::1]:3128/", 1);

	/* NO_PROXY bypass, lowercase wins, also for the config proxy */
	setenv("NO_PROXY", "example.com", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "0 NO_PROXY", "NO_PROXY bypass");
	proxy_for(got, sizeof got, dest, "http://cfg.example:8080");
	CHECK_STR(got, "0 NO_PROXY", "NO_PROXY bypasses the config proxy too");
	setenv("no_proxy", "other.example", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "1 https_proxy ::1:3128 :", "no_proxy wins over NO_PROXY");
	setenv("no_proxy", "*", 1);
	proxy_for(got, sizeof got, dest, NULL);
	CHECK_STR(got, "0 no_proxy", "no_proxy *");
	clear_env();

	/* plain http (loopback) never goes through a proxy */
	setenv("https_proxy", "http://p.example:1", 1);
	setenv("all_proxy", "http://p.example:1", 1);
	proxy_for(got, sizeof got, "http://localhost:8080/", "http://cfg.example:1");
	CHECK_STR(got, "0 (null)", "http destination");
	clear_env();

	/* refused proxies: clear errors, never the password */
	{
		static const struct {
			const char *value, *want;
		} bad[] = {
			{ "https://user:hunter2@p.example:443", "https_proxy: only http:// proxies are supported" },
			{ "socks5://user:hunter2@p.example:1080", "https_proxy: only http:// proxies are supported" },
			{ "socks5h://p.example", "https_proxy: only http:// proxies are supported" },
			{ "http://user:hunter2@p.example:99999", "https_proxy: invalid proxy URL: port out of range 1..65535" },
			{ "http://user:hunter2@@p.example", "https_proxy: invalid proxy URL: '@' in userinfo must be percent-encoded" },
			{ "user:hunter2%zz@p.example", "https_proxy: invalid proxy URL: invalid percent-encoding in userinfo" },
			{ "http://user:hunter2 x@p.example", "https_proxy: invalid proxy URL: space or control character in URL" },
			{ "http://user:hunter2@p.example/path", "https_proxy: invalid proxy URL: a path is not allowed" },
			{ "http://user:hunter2@", "https_proxy: invalid proxy URL: empty host" },
		};

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			setenv("https_proxy", bad[i].value, 1);
			proxy_for(got, sizeof got, dest, NULL);
			CHECKF(strstr(got, "hunter2") == NULL, "leak: %s", got);
			CHECKF(strncmp(got, "-1 ", 3) == 0 && strcmp(got + 3, bad[i].want) == 0,
			    "%s: got \"%s\", want \"%s\"", bad[i].value, got, bad[i].want);
		}
		unsetenv("https_proxy");
		proxy_for(got, sizeof got, dest, "https://cfg.example");
		CHECK_STR(got, "-1 proxy: only http:// proxies are supported", "bad config proxy");
	}
	clear_env();
}

static const struct check_case cases[] = {
	{ "parse", test_parse },
	{ "limits", test_limits },
	{ "errors_hide_userinfo", test_errors_hide_userinfo },
	{ "loopback", test_loopback },
	{ "resolve", test_resolve },
	{ "no_proxy", test_no_proxy },
	{ "proxy_for", test_proxy_for },
};

CHECK_MAIN(cases)
