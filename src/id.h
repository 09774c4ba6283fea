/*
 * id: the instance ID and the inputs it was made from.
 *
 * Scheme auto (the default): Butler's ID where its inputs tell machines apart,
 * else the random scheme's ID (see id_auto_choice for the rule). Why: on Docker's
 * default bridge every host's first container has MAC 02:42:ac:11:00:02 and
 * 172.17.0.2, and a non-root container reads no DMI UUID, so Butler's formula
 * gives one ID for every host. Unlike scheme butler it never falls back to
 * machine-id: a container's machine-id is the image's, or absent.
 *
 * Scheme butler (Butler 5.x initHostInfo): hex(HMAC-SHA256(key = MAC,
 * msg = MAC + IPv4 + host + DMI UUID)), plain concatenation, 64 lowercase hex.
 *  - default interface: from <root>/proc/net/route (see id_default_route);
 *  - MAC: <root>/sys/class/net/<iface>/address, trimmed, lowercased, exactly
 *    "xx:xx:xx:xx:xx:xx"; anything else, or all zeros (tunnels), is "no MAC";
 *  - IPv4: the interface's primary address from the running kernel
 *    (ioctl SIOCGIFADDR; not under root), dotted quad; "" when it has none,
 *    which is what Butler gets from systeminformation's ip4 in that case;
 *  - host: cfg id.host, "" when unset;
 *  - UUID: <root>/sys/class/dmi/id/product_uuid, trimmed, lowercased; "" when
 *    absent or unreadable (it is root-only: Butler without root sends "").
 * With no default interface or no MAC it falls back to machine-id and `why`
 * says so ("fallback: no default interface", "fallback: no MAC address on eth0").
 *
 * Scheme machine-id: systemd's app-specific ID (sd_id128_get_machine_app_specific,
 * `systemd-id128 machine-id --app-specific=APPID`) over <root>/etc/machine-id
 * (32 hex digits and an optional newline; all zeros is invalid). The app ID is
 * id.appId when set; else the first 16 bytes of SHA-256 over the ASCII bytes
 * "anontel:" followed by cfg service (e.g. SHA-256("anontel:butler")[0..16)).
 *
 * Scheme fixed: ANONTEL_ID (cfg fixed_id) as given, when it matches
 * [A-Za-z0-9_-]{16,128}.
 *
 * Scheme random: 32 random bytes (getrandom) as 64 hex, made once and kept in the
 * state dir as `random-id` (0600; state_random_id writes it whole and publishes it
 * once with link(), so runs at the same moment agree without a lock); every
 * later run reads it back. No usable state dir is ID_ERR_SYSTEM. This is the one
 * case where computing the ID writes a file.
 *
 * Scheme none: no instance ID at all, as Fedora's countme counts without one.
 * id_compute gives an empty hex; a message carries instead its age bucket
 * (id_message_age: whole weeks since the state dir's first report, countme's
 * buckets 0, 1, 2-4, 5-24, 25+), and the posthog format sends the message's own
 * UUID as distinct_id (message.h): a distinct_id of that event alone, what
 * PostHog's own SDKs make for an event captured without one (with
 * $process_person_profile false, which anontel always sends).
 *
 * Each scheme is one row of id.c's schemes[] table, indexed by enum cfg_scheme:
 * its name (config's id.scheme), its compute function, its formula for --explain
 * (id.from) and the words the notice (`anontel notice`, report's first-delivery
 * line) uses.
 *
 * The inputs never leave this module except through id_explain output, which is
 * local-only. Error texts never quote an input, except an interface name.
 * Nothing here prints.
 */
#ifndef ANONTEL_ID_H
#define ANONTEL_ID_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

struct state;

#define ID_HEX_MAX 128

/* id_compute results besides 0. */
#define ID_ERR_SYSTEM (-1)  /* the machine lacks what the scheme needs (exit 1) */
#define ID_ERR_CONFIG (-2)  /* the configuration/environment is wrong (exit 2) */

struct id_inputs {
	char iface[16];          /* default interface, "" if none */
	unsigned long metric;    /* its route metric */
	char mac[18];            /* "aa:bb:cc:dd:ee:ff", "" if unreadable */
	char ipv4[16];           /* dotted quad, "" if none */
	const char *host;        /* cfg id.host, "" when unset (points into the cfg) */
	char uuid[64];           /* DMI product_uuid lowercased, "" if unreadable */
	char app_id[33];         /* machine-id scheme: app ID used, 32 hex */
	const char *app_id_from; /* static: "id.appId" or "derived from service" */
};

struct id {
	enum cfg_scheme asked;   /* the configured scheme (cfg scheme), AUTO included */
	enum cfg_scheme scheme;  /* the scheme that produced hex; never AUTO */
	char why[256];           /* why this scheme was used, in words and without the
	                            inputs' values: "id.scheme is butler", "fallback: no
	                            MAC address on eth0", "auto: id.host set: ..." */
	char hex[ID_HEX_MAX + 1];   /* "" for scheme none */
	struct id_inputs in;
};

/*
 * Computes the ID for c (scheme, id.host, id.appId, service, ANONTEL_ID) reading
 * system files under `root` ("/" in a real run) and the interface's IPv4 address
 * from the kernel. Returns 0; ID_ERR_SYSTEM with a line such as "no default
 * interface and no /etc/machine-id to fall back to" or "/etc/machine-id: expected
 * 32 hex digits"; or ID_ERR_CONFIG with "scheme fixed needs ANONTEL_ID" or
 * "ANONTEL_ID: expected 16 to 128 characters of A-Z a-z 0-9 _ -". Whatever the
 * result, out->in holds the inputs found so far (for --explain).
 */
int id_compute(struct id *out, const struct cfg *c, const char *root, char *err, size_t errlen);

/* As id_compute on the real root, with the state dir s that the caller already
 * has open (report holds it, and its lock): the random scheme reads or makes its
 * ID there instead of finding the state dir again. s NULL: as id_compute. */
int id_compute_in(struct id *out, const struct cfg *c, struct state *s, char *err,
    size_t errlen);

/* As id_compute, but writes nothing: the random scheme (asked, or chosen by auto)
 * only reads an ID made before (ID_ERR_SYSTEM with "...: no ID made yet (...)"
 * when there is none yet); out->scheme and out->why still say what was chosen.
 * For show and status. */
int id_read(struct id *out, const struct cfg *c, const char *root, char *err, size_t errlen);

/* The name of scheme `scheme` (an enum cfg_scheme: "auto", "butler",
 * "machine-id", "random", "fixed", "none"), or NULL past the last one: config's
 * id.scheme accepts exactly these names, and its error lists them in this order. */
const char *id_scheme_name(unsigned scheme);

/* What the notice says a message carries for scheme `scheme` (an enum cfg_scheme
 * that made an ID, so never auto: the scheme auto chose), in words true to how
 * the scheme makes it, e.g. "a random instance ID made once and kept in the state
 * directory"; NULL for auto or past the last one. */
const char *id_scheme_notice(unsigned scheme);

/* Scheme none's age bucket, countme's: the whole weeks from first_ms to now_ms
 * (Unix ms) as "0", "1", "2-4", "5-24" or "25+"; "0" when first_ms is 0 (no
 * report yet: this is the first) or after now_ms (a clock gone back). */
const char *id_age_bucket(int64_t first_ms, int64_t now_ms);

/* What a message built at now_ms carries instead of an ID, for an ID id_compute
 * made: with scheme none, the age bucket since first_ms (the state dir's first
 * report, 0 for none: id_age_bucket); NULL for every other scheme, which sends
 * its ID. */
const char *id_message_age(const struct id *id, int64_t first_ms, int64_t now_ms);

/*
 * Appends what `anontel id --explain` prints for an ID id_compute made: for auto
 * "scheme.asked: auto, chose <scheme>", then "scheme: ", "why: ", the inputs the
 * scheme (or auto) read with where each came from ("iface", "iface.from", "mac",
 * ...), "id.from: " the formula, and "id: <hex>" ("id: (none)" for scheme none);
 * one "name: value" per line, each ending in '\n'. Writes nothing for an id whose
 * scheme made no ID (AUTO).
 * Overflow is b's to report.
 */
void id_explain(const struct id *id, struct buf *b);

/*
 * The auto rule over inputs already read (in->iface, mac, host, uuid): returns
 * CFG_SCHEME_BUTLER when Butler's ID tells machines apart, that is when there is
 * a MAC and any of: a non-empty DMI UUID, id.host set, or a universally
 * administered MAC (bit 0x02 of the first octet clear). Else CFG_SCHEME_RANDOM:
 * a locally administered MAC (Docker's 02:42:..., most VMs) with neither, or no
 * default interface, or no MAC on it. Writes the reason into why[whylen] ("auto:
 * ..."), naming at most the interface, never a MAC, address or UUID.
 */
enum cfg_scheme id_auto_choice(const struct id_inputs *in, char *why, size_t whylen);

/* The butler scheme over explicit inputs: out = 64 lowercase hex + NUL. */
void id_butler(const char *mac, const char *ipv4, const char *host, const char *uuid,
    char out[65]);

/* systemd's app-specific machine ID: HMAC-SHA256(key = machine_id, msg = app_id),
 * first 16 bytes, then byte 6 = (byte 6 & 0x0F) | 0x40 (version 4) and
 * byte 8 = (byte 8 & 0x3F) | 0x80 (variant); out = 32 lowercase hex + NUL. */
void id_app_specific(const unsigned char machine_id[16], const unsigned char app_id[16],
    char out[33]);

/*
 * Finds the default interface in the text of /proc/net/route: the first line is
 * the header and is skipped; then tab/space-separated columns Iface Destination
 * Gateway Flags RefCnt Use Metric Mask ... (hex in host order, Metric decimal,
 * as the kernel's %d of a u32, so "-1" is 4294967295). A default route has
 * Destination 0, Mask 0, RTF_UP (0x1) set and RTF_REJECT (0x200) clear; the one
 * with the lowest metric wins, the first such line on a tie. Lines that do not
 * parse, lines over 1023 bytes (the kernel's are 127), and interface names of
 * 16 characters or more, "*", "." or "..", or with a '/', are skipped. Returns 0 with iface and *metric set, or -1 if there
 * is none. The ID reads <root>/proc/net/route with the same rules, streamed
 * (file_each_line), where a line over FILE_LINE_MAX ends the table.
 */
int id_default_route(const char *text, size_t n, char iface[16], unsigned long *metric);

/* Checks ANONTEL_ID's grammar [A-Za-z0-9_-]{16,128}. Returns 1 if valid. */
int id_fixed_valid(const char *s);

/* The app ID derived from a service name: the first 16 bytes of
 * SHA-256("anontel:" + service). */
void id_app_from_service(const char *service, unsigned char app_id[16]);

#endif
