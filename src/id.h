/*
 * id: the instance ID and the inputs it was made from.
 *
 * Scheme butler (Butler 5.x initHostInfo): hex(HMAC-SHA256(key = MAC,
 * msg = MAC + IPv4 + host + DMI UUID)), plain concatenation, 64 lowercase hex.
 * MAC and IPv4 are those of the default interface (IPv4 default route with the
 * lowest metric in /proc/net/route). With no default interface or no MAC it falls
 * back to machine-id and says so. Scheme machine-id: systemd's app-specific ID
 * (sd_id128_get_machine_app_specific). Scheme fixed: ANONTEL_ID as given.
 *
 * The inputs never leave this module except through id_explain output, which is
 * local-only. Nothing here prints.
 */
#ifndef ANONTEL_ID_H
#define ANONTEL_ID_H

#include <stddef.h>

#include "config.h"

#define ID_HEX_MAX 128

struct id_inputs {
	char iface[16];          /* default interface, "" if none */
	unsigned long metric;    /* its route metric */
	char mac[18];            /* "aa:bb:cc:dd:ee:ff", "" if unreadable */
	char ipv4[16];           /* dotted quad, "" if none */
	const char *host;        /* cfg id.host, "" when unset */
	char uuid[64];           /* DMI product_uuid lowercased, "" if unreadable */
	char app_id[33];         /* machine-id scheme: app ID used, 32 hex */
	const char *app_id_from; /* "id.appId" or "derived from service \"...\"" */
};

struct id {
	enum cfg_scheme scheme;  /* the scheme that produced hex */
	const char *why;         /* static text: why this scheme was used */
	char hex[ID_HEX_MAX + 1];
	struct id_inputs in;
};

/*
 * Computes the ID for c (scheme, id.host, id.appId, ANONTEL_ID) reading system
 * files under `root` ("/" in a real run) and the interface's IPv4 address from the
 * kernel. Returns 0, or -1 with a one-line reason in err (e.g. no machine-id to
 * fall back to, or ANONTEL_ID missing for the fixed scheme).
 */
int id_compute(struct id *out, const struct cfg *c, const char *root, char *err, size_t errlen);

/* The butler scheme over explicit inputs: out = 64 lowercase hex + NUL. */
void id_butler(const char *mac, const char *ipv4, const char *host, const char *uuid,
    char out[65]);

/* systemd's app-specific machine ID: HMAC-SHA256(key = machine_id, msg = app_id),
 * first 16 bytes, version 4 and variant bits set; out = 32 lowercase hex + NUL. */
void id_app_specific(const unsigned char machine_id[16], const unsigned char app_id[16],
    char out[33]);

/*
 * Finds the default interface in the text of /proc/net/route: the IPv4 route with
 * destination 0 and mask 0, flags up (RTF_UP), lowest metric; the first such line
 * on a tie. Returns 0 with iface and *metric set, or -1 if there is none.
 */
int id_default_route(const char *text, size_t n, char iface[16], unsigned long *metric);

/* Checks ANONTEL_ID's grammar [A-Za-z0-9_-]{16,128}. Returns 1 if valid. */
int id_fixed_valid(const char *s);

#endif
