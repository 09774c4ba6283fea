/*
 * url: parsing of endpoint, redirect and proxy URLs, and the proxy choice
 * (https_proxy / all_proxy / NO_PROXY with curl's rules). Pure functions over
 * strings: no I/O, no allocation, no environment (the caller reads it).
 */
#ifndef ANONTEL_URL_H
#define ANONTEL_URL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define URL_HOST_MAX 253
#define URL_PATH_MAX 2048
#define URL_USER_MAX 255

enum url_scheme { URL_HTTP, URL_HTTPS };

struct url {
	enum url_scheme scheme;
	int host_is_ipv6;              /* host came in [brackets] */
	uint16_t port;                 /* explicit, or 80 / 443 by scheme */
	char host[URL_HOST_MAX + 1];   /* lowercased; IPv6 literal without brackets */
	char path[URL_PATH_MAX + 1];   /* path + query, "/" when empty; no fragment */
	char user[URL_USER_MAX + 1];   /* userinfo, percent-decoded; "" when none */
	char pass[URL_USER_MAX + 1];
};

/*
 * Parses an absolute http:// or https:// URL (scheme case-insensitive). Refuses
 * other schemes, empty or invalid hosts, ports outside 1..65535 (or empty),
 * spaces, control characters and non-ASCII bytes, a raw '@' or a backslash in
 * the authority, bad or %00 percent-encoding in userinfo, bad '%' in the path,
 * and anything that does not fit. A host whose last label is numeric must be a
 * canonical dotted quad ("127.1", "0x7f.0.0.1" are refused: the resolver would
 * read them as addresses). Returns 0, or -1 with a one-line reason in err that
 * never repeats any part of the input; *u is zeroed on failure.
 */
int url_parse(struct url *u, const char *s, char *err, size_t errlen);

/* Appends u as scheme://host[:port]/path, without userinfo (for logs and show). */
void url_format(struct buf *b, const struct url *u);

/* Appends u's host ("[v6]" for an IPv6 literal), then ":port" when always_port
 * is set or the port is not the scheme's default (Host headers, CONNECT). */
void url_host_port(struct buf *b, const struct url *u, int always_port);

/* 1 if u->host is a localhost name ("localhost", "*.localhost": net_is_localhost,
 * which net_connect never asks DNS about), in 127.0.0.0/8, ::1, or
 * ::ffff:127.0.0.0/104 (IPv4-mapped loopback). */
int url_is_loopback(const struct url *u);

/*
 * Resolves a redirect Location against the URL it came from (absolute URL,
 * scheme-relative "//host/x", absolute path "/x"; relative paths are refused).
 * A fragment is dropped; "/x" keeps base's scheme, host, port and userinfo.
 * out may be base. Returns 0, or -1 with a reason.
 */
int url_resolve(struct url *out, const struct url *base, const char *location, char *err,
    size_t errlen);

/*
 * 1 if host (lowercase, IPv6 without brackets) matches the NO_PROXY list by curl's
 * rules: comma-separated entries, surrounding spaces ignored, "*" alone matches
 * everything (a "*" inside a list matches nothing, as in curl), an entry matches
 * the host exactly or as a domain suffix (a leading dot is optional, trailing
 * dots ignored), IPv6 entries without brackets ("[::1]" tolerated), an optional
 * ":port" on an entry is ignored (not on a bare IPv6 entry, where it cannot be
 * told apart). An IP host matches only IP entries, exactly or by CIDR
 * ("10.0.0.0/8", "fd00::/8"), as curl; a name never matches an IP entry.
 * Entries are separated by commas and/or blanks.
 */
int url_no_proxy_match(const char *no_proxy, const char *host);

/* The proxy variables, as curl reads them; url.c reads no environment: the
 * caller passes their values in a struct url_env, index for index. */
enum {
	URL_ENV_https_proxy, URL_ENV_HTTPS_PROXY, URL_ENV_all_proxy, URL_ENV_ALL_PROXY,
	URL_ENV_no_proxy, URL_ENV_NO_PROXY, URL_PROXY_VARS
};
extern const char url_proxy_vars[URL_PROXY_VARS][12];   /* their names */

struct url_env {
	const char *value[URL_PROXY_VARS];   /* getenv(url_proxy_vars[i]); NULL when unset */
};

/*
 * Chooses the proxy for an https destination: https_proxy, HTTPS_PROXY,
 * all_proxy, ALL_PROXY (lowercase wins), else the config's proxy; none when
 * NO_PROXY/no_proxy (lowercase wins) matches dest->host. As in curl, the first
 * of these variables that is set decides, even when set to "" (= no proxy, also
 * over the config's proxy). The variables' values come from env.
 * A plain http:// destination (loopback only) never uses a proxy: returns 0.
 * Returns 1 and fills *proxy (an http:// URL; "host:port" without a scheme is
 * taken as http://; default port 1080 when absent as curl does; no path but
 * "/"), 0 for no proxy, -1 with a reason ("https_proxy: only http:// proxies
 * are supported", "HTTPS_PROXY: invalid proxy URL: ...", never the
 * credentials) when the chosen setting is not a valid http:// URL, or when its
 * percent-decoded user name holds a ':' (Basic authentication cannot carry it).
 * `which` (may be NULL) receives the name of the setting used ("proxy" for the
 * config), "no_proxy"/"NO_PROXY" when that bypassed the proxy, else NULL.
 */
int url_proxy_for(const struct url *dest, const struct url_env *env, const char *config_proxy,
    struct url *proxy, const char **which, char *err, size_t errlen);

#endif
