/*
 * config: the effective settings of one run, from defaults, the config file,
 * the environment and command-line flags (flag > environment > file > default),
 * and the on/off decision with the rule that made it.
 *
 * The config file is optional. When present it is read whole (at most
 * CFG_MAX_FILE bytes), checked by json_validate, tokenised by jsmn and then
 * checked against the schema: unknown keys, wrong types, duplicate keys and
 * values outside their grammar are errors that name the key path.
 * Nothing here prints or exits; errors come back as one line of text.
 *
 * String values are decoded (every JSON escape, surrogate pairs to UTF-8) before
 * their checks, so "5\u002e1" is "5.1"; a decoded U+0000 is refused. Keys are
 * matched decoded too ("servic\u0065" is "service", and a duplicate of it).
 * enabledFeatures keys are the exception: their grammar has no backslash, so an
 * escape there is an invalid key, and the raw text is the key.
 * Grammars: service, serviceVersion, runtimeVersion [A-Za-z0-9_.+-]{1,64};
 * endpoint non-empty, <= CFG_URL_MAX bytes, no spaces or control characters (the
 * URL itself is checked where it is used); format one of msg_format_name's names
 * (message.h); id.scheme one of id_scheme_name's (id.h); id.host [A-Za-z0-9.:_-]{1,253};
 * id.appId 32 hex digits or an 8-4-4-4-12 UUID; interval, timeout durations;
 * stateDir an absolute path, tls.caFile a non-empty path (no control characters);
 * tls.pin "sha256//" + canonical base64 of 32 bytes; proxy <= CFG_URL_MAX bytes
 * without control characters ("" = unset: the proxy variables decide);
 * posthog.apiKey [A-Za-z0-9_-]{1,128}; posthog.event 1..128 printable ASCII
 * characters; headers an object of at most CFG_MAX_HEADERS string values, each
 * member the header line "Name: value" judged as `check -H` is (http_header_check:
 * the name as written an RFC 9110 token, no control character but HTAB in the
 * value, Host, Content-Length, Transfer-Encoding, Connection, Upgrade, TE and
 * Trailer refused), names distinct ignoring case, the lines CFG_HEADERS_MAX bytes
 * in all; an error names the header, never its value.
 *
 * Runtime inputs without a config file (environment over the file, empty means
 * unset): ANONTEL_SERVICE and ANONTEL_SERVICE_VERSION (the name grammar),
 * ANONTEL_FORMAT (a format name), ANONTEL_FEATURES_FILE (a JSON file of the
 * enabledFeatures shape, which then replaces the config's enabledFeatures) and
 * ANONTEL_HEADERS_FILE (a JSON file of the headers shape, which replaces the
 * config's headers). Both files are read with the config's strict parser and
 * schema, into the room the config file leaves in cfg.text (the three share
 * CFG_MAX_FILE bytes); their errors name the file and a line:column or the key
 * path inside the file ("/run/f.json: api.x: expected true, false or an object").
 * Once all is read, msg_check checks the format's own rules (posthog: apiKey
 * required, feature names distinct).
 */
#ifndef ANONTEL_CONFIG_H
#define ANONTEL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CFG_MAX_FILE       (256 * 1024)  /* bytes in a config file */
#define CFG_MAX_TOKENS     8192          /* JSON tokens in a config file */
#define CFG_MAX_FEATURES   2048          /* entries (objects + leaves) in enabledFeatures */
#define CFG_MAX_LEAVES     1024          /* booleans in enabledFeatures */
#define CFG_MAX_FEAT_DEPTH 8             /* object nesting inside enabledFeatures */
#define CFG_NAME_MAX       64            /* service, versions, feature keys */
#define CFG_URL_MAX        2048
#define CFG_PATH_MAX       4096
#define CFG_ID_MAX         128           /* bytes of ANONTEL_ID (the id module checks it) */
#define CFG_MAX_HEADERS    16            /* config headers */
#define CFG_HEADERS_MAX    8192          /* bytes of their "Name: value" lines, in all */

/* cfg_load's working room: jsmn's tokens (20 bytes each) and a hash set of feature
 * keys. Used only during the call, so the caller lends it from a buffer that is idle
 * then (main lends the message buffer: no message exists before the config is read). */
#define CFG_SCRATCH_SIZE   (CFG_MAX_TOKENS * 20 + 4096 * 4)


/* The rule that decided whether telemetry is on. */
enum cfg_rule {
	CFG_RULE_DEFAULT,           /* on: nothing said otherwise */
	CFG_RULE_CONFIG_ENABLED,    /* on: "enabled": true in the file */
	CFG_RULE_CONFIG_DISABLED,   /* off: "enabled": false in the file */
	CFG_RULE_ANONTEL_DISABLED,  /* off: ANONTEL_DISABLED set, not empty/0/false */
	CFG_RULE_DO_NOT_TRACK       /* off: DO_NOT_TRACK set, not empty/0/false */
};

/* Indexes message.c's formats[] table, which names them. */
enum cfg_format { CFG_FORMAT_BUTLER, CFG_FORMAT_POSTHOG, CFG_FORMAT_OTLP };

/* Indexes id.c's schemes[] table, which names them. AUTO is a choice between
 * BUTLER and RANDOM made by id (id.h), never a scheme that produced an ID; NONE
 * makes no ID at all. */
enum cfg_scheme {
	CFG_SCHEME_AUTO, CFG_SCHEME_BUTLER, CFG_SCHEME_MACHINE_ID, CFG_SCHEME_RANDOM, CFG_SCHEME_FIXED,
	CFG_SCHEME_NONE
};

/* One entry of enabledFeatures, in file order (pre-order walk). */
enum cfg_feature_kind { CFG_FEATURE_FALSE, CFG_FEATURE_TRUE, CFG_FEATURE_OBJECT };
struct cfg_feature {
	const char *key;     /* NUL-terminated, inside cfg.text; [A-Za-z0-9_.-]{1,64} */
	uint8_t depth;       /* 1 for children of enabledFeatures itself */
	uint8_t kind;        /* enum cfg_feature_kind */
};

/* Everything a run needs to know. Large (it holds the file text): keep it static.
 * The scalars come first, where their offsets are short in the code that reads them. */
struct cfg {
	int enabled;
	enum cfg_rule rule;
	enum cfg_format format;               /* default butler */
	int envelope;                         /* default 1 */
	enum cfg_scheme scheme;               /* default auto */
	uint64_t interval_ms;                 /* default 12 h */
	uint64_t timeout_ms;                  /* default 5 s */
	const char *ca_file_from;             /* "SSL_CERT_FILE", "tls.caFile", or "" */
	const char *headers_from;             /* the file the headers came from: file or
	                                       * ANONTEL_HEADERS_FILE's value */
	const char *features_from;            /* likewise for enabledFeatures */
	size_t n_headers;
	size_t n_features;

	/* Extra request headers for the endpoint: "Name: value" lines inside text.
	 * Their values may be secrets (a receiver's token): never printed. */
	const char *headers[CFG_MAX_HEADERS];

	char file[CFG_PATH_MAX];              /* "" when no file was read */
	char service[CFG_NAME_MAX + 1];       /* default "anontel" */
	char service_version[CFG_NAME_MAX + 1]; /* default: anontel's own version */
	char runtime_version[CFG_NAME_MAX + 1]; /* "" = unset: nodeVersion omitted */
	char endpoint[CFG_URL_MAX + 1];       /* "" = none configured */
	char id_host[256];                    /* id.host, "" when unset */
	char id_app_id[33];                   /* id.appId as 32 lowercase hex, "" when unset */
	char fixed_id[CFG_ID_MAX + 1];        /* ANONTEL_ID, for the fixed scheme */
	char state_dir[CFG_PATH_MAX];         /* "" = search the default list */
	char ca_file[CFG_PATH_MAX];           /* SSL_CERT_FILE, else tls.caFile, else "" */
	char pin[128];                        /* tls.pin, "sha256//<base64>", or "" */
	char proxy[CFG_URL_MAX + 1];          /* config "proxy"; the proxy variables win (url.h) */
	char posthog_api_key[129];
	char posthog_event[CFG_NAME_MAX * 2 + 1]; /* default "telemetry sent" */

	struct cfg_feature features[CFG_MAX_FEATURES];

	char text[CFG_MAX_FILE + 1];          /* the file, then ANONTEL_FEATURES_FILE's and
	                                       * ANONTEL_HEADERS_FILE's; keys and header
	                                       * lines NUL-terminated in place */
};

/* What the command line said; NULL / 0 for "not given". */
struct cfg_flags {
	const char *config;      /* -c/--config */
	const char *endpoint;    /* --endpoint */
	const char *timeout;     /* --timeout, a duration */
};

/*
 * Returns the opt-out rule the environment alone decides (ANONTEL_DISABLED, then
 * DO_NOT_TRACK), or CFG_RULE_DEFAULT when the environment does not opt out.
 * Callers check this first so that an opted-out run reads no file it does not
 * need (show, id and notice read none; report and check --report read the config
 * file only to find the state dir whose kept data an opted-out run removes).
 */
enum cfg_rule cfg_env_optout(void);

/*
 * Fills *c from defaults, the config file (--config, ANONTEL_CONFIG, or
 * /etc/anontel/config.json if it exists), the environment and the flags, and
 * decides on/off. scratch is CFG_SCRATCH_SIZE bytes aligned for any type; its
 * contents are undefined after the call. Returns 0, or -1 with a one-line message
 * in err[0..errlen) such as "/etc/x.json:3:7: invalid number" or "/etc/x.json: enabledFeatures.api.x:
 * expected true, false or an object" or "--timeout: invalid duration '5x'".
 * A file named by --config or ANONTEL_CONFIG must exist ("F: cannot open: <strerror>");
 * the default one is read only if it exists. Files that are not regular ("F: not
 * a regular file") or larger than CFG_MAX_FILE ("F: larger than 262144 bytes") are
 * refused. Environment values that are empty count as unset; ANONTEL_ENDPOINT and
 * --endpoint follow the endpoint rule, ANONTEL_STATE_DIR must be absolute,
 * ANONTEL_ID is only bounded (<= 128 bytes; the id module checks it), and
 * SSL_CERT_FILE replaces tls.caFile. The file is read even when the environment
 * opts out (callers that want to read nothing check cfg_env_optout first);
 * the environment's opt-out then wins over "enabled" in the file.
 * err may be NULL; a message longer than errlen is cut.
 */
int cfg_load(struct cfg *c, const struct cfg_flags *flags, void *scratch, char *err,
    size_t errlen);

/* Fills *c with the defaults alone (no file, no environment): telemetry on,
 * service "anontel", format butler, interval 12 h, timeout 5 s, ... */
void cfg_defaults(struct cfg *c);

/*
 * Parses a duration: a decimal integer and a unit, one of ms, s, m, h, d
 * ("500ms", "5s", "12h"), into milliseconds. Refuses empty, signs, spaces,
 * fractions, a missing unit, zero, and anything over 365 days. Returns 0 or -1.
 */
int cfg_parse_duration(const char *s, uint64_t *ms);

/* The text of an environment variable that opts out: set and not "", "0" or "false". */
int cfg_env_says_off(const char *value);

/* A short human phrase for a rule, e.g. "DO_NOT_TRACK is set". */
const char *cfg_rule_text(enum cfg_rule rule);

/* Appends the names of c's headers, "Authorization, X-Scope-OrgID" ("" when none):
 * what status and -v may print of them. */
void cfg_header_names(const struct cfg *c, struct buf *b);

#endif
