#include "url.h"

#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "buf.h"
#include "net.h"

/* Longest URL text accepted at all; every part has its own limit below. */
#define URL_TEXT_MAX (16 + 3 * 2 * URL_USER_MAX + URL_HOST_MAX + 8 + URL_PATH_MAX + 1024)

/* The first "://" in s, or NULL (strstr's job; musl's is 1.2 KB of code). */
static const char *
scheme_sep(const char *s)
{
	for (; *s != '\0'; s++)
		if (s[0] == ':' && s[1] == '/' && s[2] == '/')
			return s;
	return NULL;
}

/* Case-insensitive prefix test over at most n bytes of s. */
static int
prefix_ci(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++)
		if (ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)prefix[i]))
			return 0;
	return 1;
}

/*
 * Canonical dotted quad only: four decimal parts 0..255 without leading zeros.
 * inet_aton (what C libraries' resolvers, curl and browsers accept) would also
 * take "127.1", "0x7f.1" or "2130706433"; those are refused by the caller rather
 * than guessed at, so no reader can take the host for another address.
 */
static int
parse_ipv4(const char *s, size_t n, unsigned char out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return -1;
			start = ++i;
		}
		while (i < n && ascii_is_digit((unsigned char)s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
			return -1;
		out[part] = (unsigned char)v;
	}
	return i == n ? 0 : -1;
}

/* RFC 4291 text form: up to 8 groups of 1-4 hex digits, one "::", an optional
 * dotted quad in the last 32 bits. No zone IDs. */
static int
parse_ipv6(const char *s, size_t n, unsigned char out[16])
{
	unsigned char a[16];
	size_t i = 0;
	int k = 0;          /* bytes written to a */
	int gap = -1;       /* byte index of "::" */

	if (n < 2 || n > 45)
		return -1;
	if (s[0] == ':') {
		if (s[1] != ':')
			return -1;
		gap = 0;
		i = 2;
		if (i == n)
			goto done;
	}
	for (;;) {
		size_t start = i;
		unsigned v = 0;

		while (i < n && ascii_hex_val((unsigned char)s[i]) >= 0 && i - start < 4)
			v = v * 16 + (unsigned)ascii_hex_val((unsigned char)s[i++]);
		if (i < n && s[i] == '.') {
			/* embedded IPv4: must be the last 32 bits */
			if (k > 12 || parse_ipv4(s + start, n - start, a + k) != 0)
				return -1;
			k += 4;
			break;
		}
		if (i == start || k > 14)
			return -1;
		a[k++] = (unsigned char)(v >> 8);
		a[k++] = (unsigned char)v;
		if (i == n)
			break;
		if (s[i] != ':')
			return -1;
		i++;
		if (i < n && s[i] == ':') {
			if (gap >= 0)
				return -1;
			gap = k;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return -1;    /* trailing single ':' */
		}
	}
done:
	if (gap < 0) {
		if (k != 16)
			return -1;
		memcpy(out, a, 16);
		return 0;
	}
	if (k > 14)
		return -1;    /* "::" must stand for at least one group */
	memset(out, 0, 16);
	memcpy(out, a, (size_t)gap);
	memcpy(out + 16 - (k - gap), a + gap, (size_t)(k - gap));
	return 0;
}

static int
is_unreserved_or_subdelim(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || ascii_is_digit(c) ||
	    (c != 0 && strchr("-._~!$&'()*+,;=", c) != NULL);
}

/* Percent-decodes userinfo part s[0..n) into out (cap URL_USER_MAX + 1). */
static int
decode_userinfo(char *out, const char *s, size_t n, int allow_colon, char *err, size_t errlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < n ? ascii_hex_val((unsigned char)s[i + 1]) : -1;
			int lo = hi >= 0 ? ascii_hex_val((unsigned char)s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				buf_join(err, errlen, "invalid percent-encoding in userinfo", NULL, NULL);
				return -1;
			}
			c = hi * 16 + lo;
			if (c == 0) {
				buf_join(err, errlen, "%00 in userinfo", NULL, NULL);
				return -1;
			}
			i += 2;
		} else if (!is_unreserved_or_subdelim(c) && !(allow_colon && c == ':')) {
			buf_join(err, errlen, "invalid character in userinfo", NULL, NULL);
			return -1;
		}
		if (o >= URL_USER_MAX) {
			buf_join(err, errlen, "userinfo too long", NULL, NULL);
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Registered name: [a-z0-9._-] after lowercasing, labels 1..63, one trailing dot
 * allowed. A name whose last label is numeric (decimal or 0x hex) is an IPv4
 * address to the resolver, so it must then be a canonical dotted quad. */
static int
check_host(char *out, const char *s, size_t n, char *err, size_t errlen)
{
	size_t label = 0, last_start = 0, end = n;
	unsigned char ip[4];
	int numeric = 1, hex = 0;

	if (n == 0) {
		buf_join(err, errlen, "empty host", NULL, NULL);
		return -1;
	}
	if (n > URL_HOST_MAX) {
		buf_join(err, errlen, "host name too long", NULL, NULL);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int c = ascii_lower((unsigned char)s[i]);

		if (c == '.') {
			if (label == 0) {
				buf_join(err, errlen, "empty label in host name", NULL, NULL);
				return -1;
			}
			label = 0;
			if (i + 1 < n)
				last_start = i + 1;
		} else if ((c >= 'a' && c <= 'z') || ascii_is_digit(c) || c == '-' || c == '_') {
			if (++label > 63) {
				buf_join(err, errlen, "host name label too long", NULL, NULL);
				return -1;
			}
		} else {
			buf_join(err, errlen, "invalid character in host", NULL, NULL);
			return -1;
		}
		out[i] = (char)c;
	}
	out[n] = '\0';
	if (out[n - 1] == '.')
		end = n - 1;
	/* is the last label numeric? */
	if (end - last_start > 2 && out[last_start] == '0' && out[last_start + 1] == 'x') {
		hex = 1;
		for (size_t i = last_start + 2; i < end; i++)
			if (ascii_hex_val((unsigned char)out[i]) < 0)
				hex = 0;
	}
	for (size_t i = last_start; i < end; i++)
		if (!ascii_is_digit((unsigned char)out[i]))
			numeric = 0;
	if ((numeric || hex) && parse_ipv4(out, n, ip) != 0) {
		buf_join(err, errlen, "invalid IPv4 address", NULL, NULL);
		return -1;
	}
	return 0;
}

/* Path and query: printable ASCII without space, '%' followed by two hex digits. */
static int
check_path(char *out, const char *s, size_t n, char *err, size_t errlen)
{
	size_t o = 0;

	if (n == 0 || s[0] != '/') {
		if (n + 1 > URL_PATH_MAX) {
			buf_join(err, errlen, "path too long", NULL, NULL);
			return -1;
		}
		out[o++] = '/';
	} else if (n > URL_PATH_MAX) {
		buf_join(err, errlen, "path too long", NULL, NULL);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f) {
			buf_join(err, errlen, "space or control character in path", NULL, NULL);
			return -1;
		}
		if (c == '%' && (i + 2 >= n || ascii_hex_val((unsigned char)s[i + 1]) < 0 ||
			ascii_hex_val((unsigned char)s[i + 2]) < 0)) {
			buf_join(err, errlen, "invalid percent-encoding in path", NULL, NULL);
			return -1;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* Measures s, refusing spaces, control and non-ASCII bytes and anything too long.
 * Returns its length, or -1 with err. */
static long
url_text(const char *s, char *err, size_t errlen)
{
	size_t len;

	for (len = 0; s[len] != '\0'; len++) {
		unsigned char c = (unsigned char)s[len];

		if (len >= URL_TEXT_MAX) {
			buf_join(err, errlen, "URL too long", NULL, NULL);
			return -1;
		}
		if (c <= 0x20 || c == 0x7f) {
			buf_join(err, errlen, "space or control character in URL", NULL, NULL);
			return -1;
		}
		if (c >= 0x80) {
			buf_join(err, errlen, "non-ASCII character in URL", NULL, NULL);
			return -1;
		}
	}
	return (long)len;
}

/* The scheme (any case) and its default port. Returns where the authority
 * starts, or 0 with err. */
static size_t
parse_scheme(struct url *u, const char *s, size_t len, char *err, size_t errlen)
{
	if (prefix_ci(s, len, "https://")) {
		u->scheme = URL_HTTPS;
		u->port = 443;
		return 8;
	}
	if (prefix_ci(s, len, "http://")) {
		u->scheme = URL_HTTP;
		u->port = 80;
		return 7;
	}
	buf_join(err, errlen, scheme_sep(s) != NULL ?
	    "unsupported scheme (only http:// and https://)" :
	    "not an absolute http:// or https:// URL", NULL, NULL);
	return 0;
}

/* The authority s[start..*end) (up to the first '/', '?' or '#') and its
 * userinfo, percent-decoded into u. Returns where the host starts, or 0 with err. */
static size_t
parse_authority(struct url *u, const char *s, size_t start, size_t len, size_t *end, char *err,
    size_t errlen)
{
	size_t i, at = 0;
	const char *colon;
	int n_at = 0;

	for (i = start; i < len && s[i] != '/' && s[i] != '?' && s[i] != '#'; i++) {
		if (s[i] == '@') {
			n_at++;
			at = i;
		}
		if (s[i] == '\\') {
			buf_join(err, errlen, "backslash in URL authority", NULL, NULL);
			return 0;
		}
	}
	*end = i;
	if (n_at > 1) {
		buf_join(err, errlen, "'@' in userinfo must be percent-encoded", NULL, NULL);
		return 0;
	}
	if (n_at == 0)
		return start;
	colon = memchr(s + start, ':', at - start);
	if (decode_userinfo(u->user, s + start, colon != NULL ? (size_t)(colon - (s + start)) :
	    at - start, 0, err, errlen) != 0)
		return 0;
	if (colon != NULL && decode_userinfo(u->pass, colon + 1, (size_t)(s + at - colon - 1), 1,
	    err, errlen) != 0)
		return 0;
	return at + 1;
}

/* "[v6]" at s[start..auth_end) into u->host. Returns where it ends, or 0 with err. */
static size_t
parse_ipv6_host(struct url *u, const char *s, size_t start, size_t auth_end, char *err,
    size_t errlen)
{
	const char *p = s + start, *close = memchr(p, ']', auth_end - start);
	unsigned char a6[16];
	size_t hlen, end;

	if (close == NULL) {
		buf_join(err, errlen, "unterminated IPv6 address", NULL, NULL);
		return 0;
	}
	hlen = (size_t)(close - p - 1);
	if (parse_ipv6(p + 1, hlen, a6) != 0) {
		buf_join(err, errlen, "invalid IPv6 address", NULL, NULL);
		return 0;
	}
	for (size_t k = 0; k < hlen; k++)
		u->host[k] = (char)ascii_lower((unsigned char)p[1 + k]);
	u->host[hlen] = '\0';
	u->host_is_ipv6 = 1;
	end = (size_t)(close - s) + 1;
	if (end < auth_end && s[end] != ':') {
		buf_join(err, errlen, "junk after IPv6 address", NULL, NULL);
		return 0;
	}
	return end;
}

/* The port digits s[start..end) into u->port. Returns 0, or -1 with err. */
static int
parse_port(struct url *u, const char *s, size_t start, size_t end, char *err, size_t errlen)
{
	size_t n = end - start;
	unsigned long v = 0;

	if (n == 0 || n > 5) {
		buf_join(err, errlen, n == 0 ? "empty port" : "invalid port", NULL, NULL);
		return -1;
	}
	for (size_t k = start; k < end; k++) {
		if (!ascii_is_digit((unsigned char)s[k])) {
			buf_join(err, errlen, "invalid port", NULL, NULL);
			return -1;
		}
		v = v * 10 + (unsigned long)(s[k] - '0');
	}
	if (v < 1 || v > 65535) {
		buf_join(err, errlen, "port out of range 1..65535", NULL, NULL);
		return -1;
	}
	u->port = (uint16_t)v;
	return 0;
}

/* Parses s; *port_given tells whether the URL named a port. */
static int
parse(struct url *u, const char *s, int *port_given, char *err, size_t errlen)
{
	long n = url_text(s, err, errlen);
	size_t len, start, auth_end, host_start, host_end;
	const char *hash;

	memset(u, 0, sizeof *u);
	*port_given = 0;
	if (n < 0)
		return -1;
	len = (size_t)n;
	if ((start = parse_scheme(u, s, len, err, errlen)) == 0 ||
	    (host_start = parse_authority(u, s, start, len, &auth_end, err, errlen)) == 0)
		return -1;
	if (host_start < auth_end && s[host_start] == '[') {
		if ((host_end = parse_ipv6_host(u, s, host_start, auth_end, err, errlen)) == 0)
			return -1;
	} else {
		const char *colon = memchr(s + host_start, ':', auth_end - host_start);

		host_end = colon != NULL ? (size_t)(colon - s) : auth_end;
		if (check_host(u->host, s + host_start, host_end - host_start, err, errlen) != 0)
			return -1;
	}
	if (host_end < auth_end) {      /* s[host_end] == ':' */
		if (parse_port(u, s, host_end + 1, auth_end, err, errlen) != 0)
			return -1;
		*port_given = 1;
	}
	/* path and query; the fragment is not sent */
	hash = memchr(s + auth_end, '#', len - auth_end);
	return check_path(u->path, s + auth_end, hash != NULL ? (size_t)(hash - (s + auth_end)) :
	    len - auth_end, err, errlen);
}

int
url_parse(struct url *u, const char *s, char *err, size_t errlen)
{
	int port_given;

	if (parse(u, s, &port_given, err, errlen) != 0) {
		memset(u, 0, sizeof *u);
		return -1;
	}
	return 0;
}

int
url_is_loopback(const struct url *u)
{
	unsigned char a[16];
	size_t n = strlen(u->host);

	if (u->host_is_ipv6) {
		static const unsigned char one[16] = { [15] = 1 };
		static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

		if (parse_ipv6(u->host, n, a) != 0)
			return 0;
		/* ::1, and ::ffff:127.x.y.z which Linux also routes to lo */
		return memcmp(a, one, 16) == 0 || (memcmp(a, mapped, 12) == 0 && a[12] == 127);
	}
	if (net_is_localhost(u->host))
		return 1;
	return parse_ipv4(u->host, n, a) == 0 && a[0] == 127;
}

int
url_resolve(struct url *out, const struct url *base, const char *location, char *err,
    size_t errlen)
{
	if (location[0] == '\0') {
		buf_join(err, errlen, "empty Location", NULL, NULL);
		return -1;
	}
	/* scheme ":" makes it absolute */
	if ((location[0] | 0x20) >= 'a' && (location[0] | 0x20) <= 'z') {
		size_t i;

		for (i = 1; location[i] != '\0'; i++) {
			char c = location[i];

			if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !ascii_is_digit((unsigned char)c) &&
			    c != '+' && c != '-' && c != '.')
				break;
		}
		if (location[i] == ':')
			return url_parse(out, location, err, errlen);
	}
	if (location[0] == '/' && location[1] == '/') {
		char tmp[URL_TEXT_MAX + 16];
		struct buf b;

		buf_init(&b, tmp, sizeof tmp);
		buf_str(&b, base->scheme == URL_HTTPS ? "https:" : "http:");
		buf_str(&b, location);
		if (b.overflow) {
			buf_join(err, errlen, "Location too long", NULL, NULL);
			return -1;
		}
		return url_parse(out, tmp, err, errlen);
	}
	if (location[0] == '/') {
		struct url u = *base;
		size_t n;

		for (n = 0; location[n] != '\0' && location[n] != '#'; n++)
			if (n > URL_PATH_MAX) {
				buf_join(err, errlen, "path too long", NULL, NULL);
				return -1;
			}
		if (check_path(u.path, location, n, err, errlen) != 0)
			return -1;
		*out = u;
		return 0;
	}
	buf_join(err, errlen, "relative redirect Location is not supported", NULL, NULL);
	return -1;
}

static int
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* 1 if addr (len bytes) is inside net/bits; a missing "/bits" means all bits. */
static int
prefix_match(const unsigned char *addr, const unsigned char *net, unsigned bits)
{
	unsigned bytes = bits / 8, rest = bits % 8;

	if (memcmp(addr, net, bytes) != 0)
		return 0;
	return rest == 0 || ((addr[bytes] ^ net[bytes]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* One NO_PROXY entry (no blanks, no commas) against host of kind 0 name, 4, 6. */
static int
entry_match(const char *tok, size_t n, const char *host, size_t hostlen, int kind,
    const unsigned char *hostaddr)
{
	char e[128];
	const char *colon, *slash;
	unsigned bits, maxbits = kind == 6 ? 128 : 32;
	unsigned char net[16];

	if (n == 0 || n >= sizeof e)
		return 0;
	memcpy(e, tok, n);
	e[n] = '\0';
	if (e[0] == '[') {
		/* "[v6]" or "[v6]:port": brackets tolerated */
		char *close = strchr(e, ']');

		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return 0;
		*close = '\0';
		memmove(e, e + 1, (size_t)(close - e));
		n = strlen(e);
	} else if ((colon = strchr(e, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		/* one colon: "name:port" or "v4:port"; two or more: an IPv6 entry */
		e[colon - e] = '\0';
		n = strlen(e);
	}
	if (n == 0)
		return 0;

	if (kind == 0) {
		const char *t = e;

		if (t[n - 1] == '.')
			n--;
		if (n > 0 && t[0] == '.') {
			t++;
			n--;
		}
		if (n == 0 || n > hostlen)
			return 0;
		for (size_t k = 0; k < n; k++)
			if (ascii_lower((unsigned char)t[k]) != ascii_lower((unsigned char)host[hostlen - n + k]))
				return 0;
		return n == hostlen || host[hostlen - n - 1] == '.';
	}

	/* IP host: exact address or CIDR, as curl */
	bits = maxbits;
	slash = strchr(e, '/');
	if (slash != NULL) {
		const char *d = slash + 1;

		bits = 0;
		if (*d == '\0' || strlen(d) > 3)
			return 0;
		for (; *d != '\0'; d++) {
			if (!ascii_is_digit((unsigned char)*d))
				return 0;
			bits = bits * 10 + (unsigned)(*d - '0');
		}
		if (bits > maxbits)
			return 0;
		n = (size_t)(slash - e);
	}
	if (kind == 6 ? parse_ipv6(e, n, net) != 0 : parse_ipv4(e, n, net) != 0)
		return 0;
	return prefix_match(hostaddr, net, bits);
}

int
url_no_proxy_match(const char *no_proxy, const char *host)
{
	unsigned char addr[16];
	size_t hostlen, a, z;
	int kind = 0;
	const char *p;

	if (no_proxy == NULL || host == NULL || host[0] == '\0')
		return 0;
	/* the whole value "*" (blanks around tolerated); "*" inside a list is an
	 * ordinary entry that matches nothing, as in curl */
	for (a = 0; is_blank((unsigned char)no_proxy[a]); a++)
		;
	for (z = strlen(no_proxy); z > a && is_blank((unsigned char)no_proxy[z - 1]); z--)
		;
	if (z - a == 1 && no_proxy[a] == '*')
		return 1;

	hostlen = strlen(host);
	if (parse_ipv6(host, hostlen, addr) == 0)
		kind = 6;
	else if (parse_ipv4(host, hostlen, addr) == 0)
		kind = 4;
	else if (host[hostlen - 1] == '.')
		hostlen--;
	if (hostlen == 0)
		return 0;

	p = no_proxy;
	while (*p != '\0') {
		const char *tok;

		while (*p == ',' || is_blank((unsigned char)*p))
			p++;
		tok = p;
		while (*p != '\0' && *p != ',' && !is_blank((unsigned char)*p))
			p++;
		if (entry_match(tok, (size_t)(p - tok), host, hostlen, kind, addr))
			return 1;
	}
	return 0;
}

/* Parses a proxy setting: http:// only, scheme optional, port 1080 by default,
 * no path beyond "/". */
static int
parse_proxy(struct url *proxy, const char *name, const char *value, char *err, size_t errlen)
{
	char tmp[URL_TEXT_MAX + 16];
	char why[128];
	struct buf b;
	const char *sep = scheme_sep(value);
	int port_given;

	if (sep != NULL) {
		if (!prefix_ci(value, (size_t)(sep - value) + 3, "http://")) {
			buf_join(err, errlen, name, ": only http:// proxies are supported", NULL);
			return -1;
		}
		buf_init(&b, tmp, sizeof tmp);
		buf_str(&b, value);
	} else {
		/* "proxy:3128" is taken as http://proxy:3128, as curl does */
		buf_init(&b, tmp, sizeof tmp);
		buf_str(&b, "http://");
		buf_str(&b, value);
	}
	if (b.overflow) {
		buf_join(err, errlen, name, ": proxy URL too long", NULL);
		return -1;
	}
	if (parse(proxy, tmp, &port_given, why, sizeof why) != 0) {
		memset(proxy, 0, sizeof *proxy);
		buf_join(err, errlen, name, ": invalid proxy URL: ", why);
		return -1;
	}
	if (strcmp(proxy->path, "/") != 0) {
		memset(proxy, 0, sizeof *proxy);
		buf_join(err, errlen, name, ": invalid proxy URL: a path is not allowed", NULL);
		return -1;
	}
	if (strchr(proxy->user, ':') != NULL) {
		/* RFC 7617: the user-id ends at the first ':', so the proxy would read
		 * another name and password than the ones given. */
		memset(proxy, 0, sizeof *proxy);
		buf_join(err, errlen, name, ": the proxy user name contains ':' (%3A), which "
		    "Basic authentication cannot carry", NULL);
		return -1;
	}
	if (!port_given)
		proxy->port = 1080;
	return 0;
}

const char *const url_proxy_vars[URL_PROXY_VARS] = {
	"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"
};

/* Of no_proxy and NO_PROXY (lowercase wins), the one that matches host, or NULL. */
static const char *
bypassed_by(const struct url_env *env, const char *host)
{
	const char *np = env->value[URL_ENV_no_proxy];
	size_t i = np != NULL ? URL_ENV_no_proxy : URL_ENV_NO_PROXY;

	np = env->value[i];
	return np != NULL && url_no_proxy_match(np, host) ? url_proxy_vars[i] : NULL;
}

int
url_proxy_for(const struct url *dest, const struct url_env *env, const char *config_proxy,
    struct url *proxy, const char **which, char *err, size_t errlen)
{
	const char *name = NULL, *value = NULL, *bypass;

	if (which != NULL)
		*which = NULL;
	memset(proxy, 0, sizeof *proxy);
	/* plain http goes only to loopback, never through a proxy */
	if (dest->scheme != URL_HTTPS)
		return 0;
	/* The environment over the config (SPEC §2); the first variable that is set
	 * decides, even when empty, which means "no proxy" (curl). */
	for (size_t i = URL_ENV_https_proxy; i <= URL_ENV_ALL_PROXY && value == NULL; i++) {
		value = env->value[i];
		name = url_proxy_vars[i];
	}
	if (value == NULL && config_proxy != NULL && config_proxy[0] != '\0') {
		name = "proxy";
		value = config_proxy;
	}
	if (value == NULL || value[0] == '\0')
		return 0;
	if ((bypass = bypassed_by(env, dest->host)) != NULL) {
		if (which != NULL)
			*which = bypass;
		return 0;
	}
	if (parse_proxy(proxy, name, value, err, errlen) != 0)
		return -1;
	if (which != NULL)
		*which = name;
	return 1;
}

void
url_format(struct buf *b, const struct url *u)
{
	buf_str(b, u->scheme == URL_HTTPS ? "https://" : "http://");
	if (u->host_is_ipv6)
		buf_char(b, '[');
	buf_str(b, u->host);
	if (u->host_is_ipv6)
		buf_char(b, ']');
	if (u->port != (u->scheme == URL_HTTPS ? 443 : 80)) {
		buf_char(b, ':');
		buf_uint(b, u->port, 1);
	}
	buf_str(b, u->path);
}
