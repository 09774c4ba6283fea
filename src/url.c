#include "url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ascii.h"
#include "buf.h"
#include "net.h"

/* Longest URL text accepted at all; every part has its own limit below. */
#define URL_TEXT_MAX (16 + 3 * 2 * URL_USER_MAX + URL_HOST_MAX + 8 + URL_PATH_MAX + 1024)

/*
 * The parsers below return NULL for good input, else the reason: a fixed text
 * that never repeats any part of the input (it may hold credentials).
 *
 * Addresses are read by inet_pton, as net_connect reads them (dns_addr_parse,
 * whose %zone a URL host cannot carry): IPv4 only as the canonical dotted quad (four decimal parts 0..255 without leading zeros), IPv6
 * in RFC 4291 text form without zone IDs. inet_aton (what C libraries'
 * resolvers, curl and browsers accept) would also take "127.1", "0x7f.1" or
 * "2130706433"; those are refused rather than guessed at, so no reader can take
 * the host for another address.
 */

/* The first "://" in s, or NULL (strstr's job; musl's is 1.2 KB of code). */
static const char *
scheme_sep(const char *s)
{
	for (; *s != '\0'; s++)
		if (s[0] == ':' && s[1] == '/' && s[2] == '/')
			return s;
	return NULL;
}

static int
is_unreserved_or_subdelim(int c)
{
	return ascii_is_alnum(c) || (c != 0 && strchr("-._~!$&'()*+,;=", c) != NULL);
}

/* The byte "%XY" at s[i..n) stands for, or -1 if it is not '%' and two hex digits. */
static int
pct_decode(const char *s, size_t n, size_t i)
{
	int hi, lo;

	if (i + 2 >= n || (hi = ascii_hex_val((unsigned char)s[i + 1])) < 0 ||
	    (lo = ascii_hex_val((unsigned char)s[i + 2])) < 0)
		return -1;
	return hi * 16 + lo;
}

/* Percent-decodes userinfo part s[0..n) into out (cap URL_USER_MAX + 1). A raw
 * ':' is the password's: the user name ends at the first. */
static const char *
decode_userinfo(char *out, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			if ((c = pct_decode(s, n, i)) < 0)
				return "invalid percent-encoding in userinfo";
			if (c == 0)
				return "%00 in userinfo";
			i += 2;
		} else if (!is_unreserved_or_subdelim(c) && c != ':') {
			return "invalid character in userinfo";
		}
		if (o >= URL_USER_MAX)
			return "userinfo too long";
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return NULL;
}

/* Registered name: [a-z0-9._-] after lowercasing, labels 1..63, one trailing dot
 * allowed. A name whose last label is numeric (decimal or 0x hex) is an IPv4
 * address to the resolver, so it must then be a canonical dotted quad. */
static const char *
check_host(char *out, const char *s, size_t n)
{
	size_t label = 0, last = 0, end = n;
	unsigned char ip[4];
	int hex;

	if (n == 0)
		return "empty host";
	if (n > URL_HOST_MAX)
		return "host name too long";
	for (size_t i = 0; i < n; i++) {
		int c = ascii_lower((unsigned char)s[i]);

		if (c == '.') {
			if (label == 0)
				return "empty label in host name";
			label = 0;
			if (i + 1 < n)
				last = i + 1;
		} else if (ascii_is_alnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return "host name label too long";
		} else {
			return "invalid character in host";
		}
		out[i] = (char)c;
	}
	out[n] = '\0';
	if (out[n - 1] == '.')
		end = n - 1;
	/* is the last label numeric? */
	hex = end - last > 2 && out[last] == '0' && out[last + 1] == 'x';
	for (last += hex ? 2 : 0; last < end; last++)
		if (hex ? ascii_hex_val((unsigned char)out[last]) < 0 :
		    !ascii_is_digit((unsigned char)out[last]))
			return NULL;
	return inet_pton(AF_INET, out, ip) == 1 ? NULL : "invalid IPv4 address";
}

/* Path and query: printable ASCII without space, '%' followed by two hex digits. */
static const char *
check_path(char *out, const char *s, size_t n)
{
	size_t o = 0;

	if (n == 0 || s[0] != '/')
		out[o++] = '/';
	if (o + n > URL_PATH_MAX)
		return "path too long";
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return "space or control character in path";
		if (c == '%' && pct_decode(s, n, i) < 0)
			return "invalid percent-encoding in path";
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return NULL;
}

/* Measures s into *len, refusing spaces, control and non-ASCII bytes and
 * anything too long. */
static const char *
url_text(const char *s, size_t *len)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];

		if (n >= URL_TEXT_MAX)
			return "URL too long";
		if (c <= 0x20 || c == 0x7f)
			return "space or control character in URL";
		if (c >= 0x80)
			return "non-ASCII character in URL";
	}
	*len = n;
	return NULL;
}

/* The authority s[start..*end) (up to the first '/', '?' or '#') and its
 * userinfo, percent-decoded into u; *host gets where the host starts. */
static const char *
parse_authority(struct url *u, const char *s, size_t start, size_t len, size_t *end,
    size_t *host)
{
	size_t i, at = 0, user_end;
	const char *colon, *why;
	int n_at = 0;

	for (i = start; i < len && s[i] != '/' && s[i] != '?' && s[i] != '#'; i++) {
		if (s[i] == '@') {
			n_at++;
			at = i;
		}
		if (s[i] == '\\')
			return "backslash in URL authority";
	}
	*end = i;
	*host = start;
	if (n_at > 1)
		return "'@' in userinfo must be percent-encoded";
	if (n_at == 0)
		return NULL;
	*host = at + 1;
	colon = memchr(s + start, ':', at - start);
	user_end = colon != NULL ? (size_t)(colon - s) : at;
	if ((why = decode_userinfo(u->user, s + start, user_end - start)) != NULL ||
	    colon == NULL)
		return why;
	return decode_userinfo(u->pass, colon + 1, at - user_end - 1);
}

/* "[v6]" at the start of s[0..n) (n: to the authority's end) into u->host;
 * *used gets its length with the brackets. */
static const char *
parse_ipv6_host(struct url *u, const char *s, size_t n, size_t *used)
{
	const char *close = memchr(s, ']', n);
	unsigned char a6[16];
	size_t hlen;

	if (close == NULL)
		return "unterminated IPv6 address";
	hlen = (size_t)(close - s - 1);
	if (hlen > URL_HOST_MAX)
		return "invalid IPv6 address";
	for (size_t k = 0; k < hlen; k++)
		u->host[k] = (char)ascii_lower((unsigned char)s[1 + k]);
	u->host[hlen] = '\0';
	if (inet_pton(AF_INET6, u->host, a6) != 1)
		return "invalid IPv6 address";
	u->host_is_ipv6 = 1;
	*used = hlen + 2;
	if (*used < n && s[*used] != ':')
		return "junk after IPv6 address";
	return NULL;
}

/* The value of the 1 to max (at most 9) decimal digits s[0..n), or -1. */
static long
decimal(const char *s, size_t n, size_t max)
{
	unsigned v;

	return n == 0 || n > max || ascii_digits(s, n, &v) != 0 ? -1 : (long)v;
}

/* The port digits s[0..n) into u->port. */
static const char *
parse_port(struct url *u, const char *s, size_t n)
{
	long v = decimal(s, n, 5);

	if (n == 0)
		return "empty port";
	if (v < 0)
		return "invalid port";
	if (v < 1 || v > 65535)
		return "port out of range 1..65535";
	u->port = (uint16_t)v;
	return NULL;
}

/* Parses s into u (zeroed first); *port_given tells whether the URL named a port. */
static const char *
parse_parts(struct url *u, const char *s, int *port_given)
{
	size_t len, start, auth_end, host, host_end;
	const char *why, *hash;

	memset(u, 0, sizeof *u);
	*port_given = 0;
	if ((why = url_text(s, &len)) != NULL)
		return why;
	/* the scheme, in any case */
	if (strncasecmp(s, "https://", 8) == 0) {
		u->scheme = URL_HTTPS;
		u->port = 443;
		start = 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		u->scheme = URL_HTTP;
		u->port = 80;
		start = 7;
	} else {
		return scheme_sep(s) != NULL ? "unsupported scheme (only http:// and https://)" :
		    "not an absolute http:// or https:// URL";
	}
	if ((why = parse_authority(u, s, start, len, &auth_end, &host)) != NULL)
		return why;
	if (host < auth_end && s[host] == '[') {
		size_t used;

		why = parse_ipv6_host(u, s + host, auth_end - host, &used);
		host_end = host + used;
	} else {
		const char *colon = memchr(s + host, ':', auth_end - host);

		host_end = colon != NULL ? (size_t)(colon - s) : auth_end;
		why = check_host(u->host, s + host, host_end - host);
	}
	if (why != NULL)
		return why;
	if (host_end < auth_end) {      /* s[host_end] == ':' */
		if ((why = parse_port(u, s + host_end + 1, auth_end - host_end - 1)) != NULL)
			return why;
		*port_given = 1;
	}
	/* path and query; the fragment is not sent */
	hash = memchr(s + auth_end, '#', len - auth_end);
	return check_path(u->path, s + auth_end, hash != NULL ? (size_t)(hash - (s + auth_end)) :
	    len - auth_end);
}

/* parse_parts, leaving u all zeros on failure. */
static const char *
parse(struct url *u, const char *s, int *port_given)
{
	const char *why = parse_parts(u, s, port_given);

	if (why != NULL)
		memset(u, 0, sizeof *u);
	return why;
}

/* 0 when why is NULL, else -1 with why in err. */
static int
result(const char *why, char *err, size_t errlen)
{
	if (why == NULL)
		return 0;
	buf_join(err, errlen, why, NULL, NULL);
	return -1;
}

int
url_parse(struct url *u, const char *s, char *err, size_t errlen)
{
	int port_given;

	return result(parse(u, s, &port_given), err, errlen);
}

int
url_is_loopback(const struct url *u)
{
	struct in6_addr a6;
	unsigned char a4[4];

	if (u->host_is_ipv6)
		/* ::1, and ::ffff:127.x.y.z which Linux also routes to lo */
		return inet_pton(AF_INET6, u->host, &a6) == 1 && (IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127));
	return net_is_localhost(u->host) || (inet_pton(AF_INET, u->host, a4) == 1 && a4[0] == 127);
}

static const char *
resolve(struct url *out, const struct url *base, const char *location)
{
	int port_given;
	size_t i;

	if (location[0] == '\0')
		return "empty Location";
	/* scheme ":" makes it absolute */
	if (ascii_is_alpha(location[0])) {
		for (i = 1; ascii_is_alnum(location[i]) || location[i] == '+' || location[i] == '-' ||
		    location[i] == '.'; i++)
			;
		if (location[i] == ':')
			return parse(out, location, &port_given);
	}
	if (location[0] == '/' && location[1] == '/') {
		char tmp[URL_TEXT_MAX + 16];
		struct buf b;

		buf_init(&b, tmp, sizeof tmp);
		buf_str(&b, base->scheme == URL_HTTPS ? "https:" : "http:");
		buf_str(&b, location);
		if (b.overflow)
			return "Location too long";
		return parse(out, tmp, &port_given);
	}
	if (location[0] == '/') {
		char path[URL_PATH_MAX + 1];
		const char *why;

		for (i = 0; location[i] != '\0' && location[i] != '#'; i++)
			;
		if ((why = check_path(path, location, i)) != NULL)
			return why;
		if (out != base)
			*out = *base;
		memcpy(out->path, path, strlen(path) + 1);
		return NULL;
	}
	return "relative redirect Location is not supported";
}

int
url_resolve(struct url *out, const struct url *base, const char *location, char *err,
    size_t errlen)
{
	return result(resolve(out, base, location), err, errlen);
}

/* 1 if addr is inside net/bits: their first `bits` bits agree. */
static int
prefix_match(const unsigned char *addr, const unsigned char *net, unsigned bits)
{
	for (unsigned i = 0; i < bits; i++)
		if ((addr[i / 8] ^ net[i / 8]) & (0x80 >> i % 8))
			return 0;
	return 1;
}

/* One NO_PROXY entry (no blanks, no commas) against host, whose address family
 * is af (AF_INET, AF_INET6; 0 for a name). */
static int
entry_match(const char *tok, size_t n, const char *host, size_t hostlen, int af,
    const unsigned char *hostaddr)
{
	char e[128], *t = e, *colon, *slash;
	long bits, maxbits = af == AF_INET6 ? 128 : 32;
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
		t = e + 1;
	} else if ((colon = strchr(e, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		/* one colon: "name:port" or "v4:port"; two or more: an IPv6 entry */
		*colon = '\0';
	}
	if ((n = strlen(t)) == 0)
		return 0;

	if (af == 0) {
		if (t[n - 1] == '.')
			n--;
		if (n > 0 && t[0] == '.') {
			t++;
			n--;
		}
		if (n == 0 || n > hostlen)
			return 0;
		return strncasecmp(t, host + hostlen - n, n) == 0 &&
		    (n == hostlen || host[hostlen - n - 1] == '.');
	}

	/* IP host: exact address or CIDR, as curl */
	bits = maxbits;
	slash = strchr(t, '/');
	if (slash != NULL) {
		if ((bits = decimal(slash + 1, strlen(slash + 1), 3)) < 0 || bits > maxbits)
			return 0;
		*slash = '\0';
	}
	if (inet_pton(af, t, net) != 1)
		return 0;
	return prefix_match(hostaddr, net, (unsigned)bits);
}

/* s past its leading blanks. */
static const char *
skip_blanks(const char *s)
{
	while (ascii_is_blank((unsigned char)*s))
		s++;
	return s;
}

int
url_no_proxy_match(const char *no_proxy, const char *host)
{
	unsigned char addr[16];
	size_t hostlen;
	int af = 0;
	const char *p;

	if (no_proxy == NULL || host == NULL || host[0] == '\0')
		return 0;
	/* the whole value "*" (blanks around tolerated); "*" inside a list is an
	 * ordinary entry that matches nothing, as in curl */
	p = skip_blanks(no_proxy);
	if (*p == '*' && *skip_blanks(p + 1) == '\0')
		return 1;

	hostlen = strlen(host);
	if (inet_pton(AF_INET6, host, addr) == 1)
		af = AF_INET6;
	else if (inet_pton(AF_INET, host, addr) == 1)
		af = AF_INET;
	else if (host[hostlen - 1] == '.')
		hostlen--;
	if (hostlen == 0)
		return 0;

	p = no_proxy;
	while (*p != '\0') {
		const char *tok;

		while (*p == ',' || ascii_is_blank((unsigned char)*p))
			p++;
		tok = p;
		while (*p != '\0' && *p != ',' && !ascii_is_blank((unsigned char)*p))
			p++;
		if (entry_match(tok, (size_t)(p - tok), host, hostlen, af, addr))
			return 1;
	}
	return 0;
}

/* Parses a proxy setting: http:// only, scheme optional, port 1080 by default,
 * no path beyond "/". Returns NULL, or the reason to put after the setting's
 * name, followed by *why when the URL itself is bad. */
static const char *
parse_proxy(struct url *proxy, const char *value, const char **why)
{
	char tmp[URL_TEXT_MAX + 16];
	struct buf b;
	int port_given;

	*why = NULL;
	buf_init(&b, tmp, sizeof tmp);
	/* "proxy:3128" is taken as http://proxy:3128, as curl does */
	if (scheme_sep(value) == NULL)
		buf_str(&b, "http://");
	buf_str(&b, value);
	if (strncasecmp(tmp, "http://", 7) != 0)
		return ": only http:// proxies are supported";
	if (b.overflow)
		return ": proxy URL too long";
	if ((*why = parse(proxy, tmp, &port_given)) == NULL && strcmp(proxy->path, "/") != 0)
		*why = "a path is not allowed";
	if (*why != NULL)
		return ": invalid proxy URL: ";
	/* RFC 7617: the user-id ends at the first ':', so the proxy would read
	 * another name and password than the ones given. */
	if (strchr(proxy->user, ':') != NULL)
		return ": the proxy user name contains ':' (%3A), which Basic authentication "
		    "cannot carry";
	if (!port_given)
		proxy->port = 1080;
	return NULL;
}

const char url_proxy_vars[URL_PROXY_VARS][12] = {
	"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"
};

/* Of no_proxy and NO_PROXY (lowercase wins), the one that matches host, or NULL. */
static const char *
bypassed_by(const struct url_env *env, const char *host)
{
	size_t i = env->value[URL_ENV_no_proxy] != NULL ? URL_ENV_no_proxy : URL_ENV_NO_PROXY;

	return url_no_proxy_match(env->value[i], host) ? url_proxy_vars[i] : NULL;
}

int
url_proxy_for(const struct url *dest, const struct url_env *env, const char *config_proxy,
    struct url *proxy, const char **which, char *err, size_t errlen)
{
	const char *name = NULL, *value = NULL, *bypass, *what, *why;

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
	if (value == NULL && config_proxy != NULL) {
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
	if ((what = parse_proxy(proxy, value, &why)) != NULL) {
		memset(proxy, 0, sizeof *proxy);
		buf_join(err, errlen, name, what, why);
		return -1;
	}
	if (which != NULL)
		*which = name;
	return 1;
}

void
url_host_port(struct buf *b, const struct url *u, int always_port)
{
	if (u->host_is_ipv6)
		buf_char(b, '[');
	buf_str(b, u->host);
	if (u->host_is_ipv6)
		buf_char(b, ']');
	if (always_port || u->port != (u->scheme == URL_HTTPS ? 443 : 80)) {
		buf_char(b, ':');
		buf_uint(b, u->port, 0);
	}
}

void
url_format(struct buf *b, const struct url *u)
{
	buf_str(b, u->scheme == URL_HTTPS ? "https://" : "http://");
	url_host_port(b, u, 0);
	buf_str(b, u->path);
}
