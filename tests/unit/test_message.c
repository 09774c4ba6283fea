/*
 * test_message: the message's exact bytes for every format (butler with and
 * without the ts envelope, posthog, otlp), compact and pretty, from fixed facts,
 * ID, stamp and config, and with scheme none's age instead of the ID; the format
 * table; the format checks cfg_load runs; the
 * timestamp text; the UUID v7; the send time written into a kept message; the
 * JSON Schema msg_schema writes from the same writers.
 * msg_build reads no file, no clock and no random source, so these are the bytes
 * `show` prints and `report` sends for the same inputs.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "facts.h"
#include "json.h"
#include "message.h"

#define ID "0123456789abcdef"
#define MS INT64_C(1614770035862)
#define TS "2021-03-03T11:13:55.862Z"
/* MS and RANDOM as a UUID v7 (RANDOM's bits are RFC 9562's own example's). */
#define UUID "0177f7cb-5c96-7cc3-98c4-dc0c0c07398f"
static const unsigned char RANDOM[MSG_UUID_RANDOM] = {
	0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f
};

static struct cfg cfg;
static struct facts facts;
static struct msg_stamp stamp;
static char mem[65536];

/* Butler 5.1 on Debian 12, with runtimeVersion and
 * enabledFeatures {"api": {"x": true, "y": false}, "beta": true}. */
static void
setup(enum cfg_format format, int envelope)
{
	static const struct cfg_feature features[] = {
		{ "api", 1, CFG_FEATURE_OBJECT },
		{ "x", 2, CFG_FEATURE_TRUE },
		{ "y", 2, CFG_FEATURE_FALSE },
		{ "beta", 1, CFG_FEATURE_TRUE },
	};

	memset(&facts, 0, sizeof facts);
	strcpy(facts.arch, "x64");
	strcpy(facts.os.distro, "Debian GNU/Linux");
	strcpy(facts.os.release, "12");
	strcpy(facts.os.codename, "bookworm");
	facts.is_virtual = 1;
	cfg_defaults(&cfg);
	strcpy(cfg.service, "butler");
	strcpy(cfg.service_version, "5.1.0");
	strcpy(cfg.runtime_version, "v20.11.1");
	strcpy(cfg.posthog_api_key, "phc_key");
	memcpy(cfg.features, features, sizeof features);
	cfg.n_features = sizeof features / sizeof features[0];
	cfg.format = format;
	cfg.envelope = envelope;
	msg_stamp(&stamp, MS, RANDOM);
}

/* Builds into mem[cap] and compares with want. */
static void
expect(const char *label, int pretty, size_t cap, const char *want)
{
	struct buf b;
	int r;

	buf_init(&b, mem, cap);
	r = msg_build(&b, &cfg, &facts, ID, &stamp, pretty);
	CHECKF(r == 0, "%s: returned %d", label, r);
	CHECK_STR(mem, want, label);
	CHECKF(b.len == strlen(want), "%s: length %zu", label, b.len);
}

static const struct row {
	const char *name;
	enum cfg_format format;
	int envelope;
	int pretty;
	const char *want;
} rows[] = {
	{ "butler-envelope-compact", CFG_FORMAT_BUTLER, 1, 0,
	  "{\"ts\":\"" TS "\",\"data\":{\"service\":\"butler\",\"serviceVersion\":\"5.1.0\","
	  "\"system\":{\"id\":\"" ID "\",\"arch\":\"x64\",\"platform\":\"linux\",\"release\":\"12\","
	  "\"distro\":\"Debian GNU/Linux\",\"codename\":\"bookworm\",\"virtual\":true,"
	  "\"nodeVersion\":\"v20.11.1\"},\"enabledFeatures\":{\"api\":{\"x\":true,\"y\":false},"
	  "\"beta\":true}}}" },
	{ "butler-envelope-pretty", CFG_FORMAT_BUTLER, 1, 1,
	  "{\n"
	  "  \"ts\": \"" TS "\",\n"
	  "  \"data\": {\n"
	  "    \"service\": \"butler\",\n"
	  "    \"serviceVersion\": \"5.1.0\",\n"
	  "    \"system\": {\n"
	  "      \"id\": \"" ID "\",\n"
	  "      \"arch\": \"x64\",\n"
	  "      \"platform\": \"linux\",\n"
	  "      \"release\": \"12\",\n"
	  "      \"distro\": \"Debian GNU/Linux\",\n"
	  "      \"codename\": \"bookworm\",\n"
	  "      \"virtual\": true,\n"
	  "      \"nodeVersion\": \"v20.11.1\"\n"
	  "    },\n"
	  "    \"enabledFeatures\": {\n"
	  "      \"api\": {\n"
	  "        \"x\": true,\n"
	  "        \"y\": false\n"
	  "      },\n"
	  "      \"beta\": true\n"
	  "    }\n"
	  "  }\n"
	  "}" },
	{ "butler-bare-compact", CFG_FORMAT_BUTLER, 0, 0,
	  "{\"service\":\"butler\",\"serviceVersion\":\"5.1.0\",\"system\":{\"id\":\"" ID "\","
	  "\"arch\":\"x64\",\"platform\":\"linux\",\"release\":\"12\",\"distro\":\"Debian GNU/Linux\","
	  "\"codename\":\"bookworm\",\"virtual\":true,\"nodeVersion\":\"v20.11.1\"},"
	  "\"enabledFeatures\":{\"api\":{\"x\":true,\"y\":false},\"beta\":true}}" },
	{ "butler-bare-pretty", CFG_FORMAT_BUTLER, 0, 1,
	  "{\n"
	  "  \"service\": \"butler\",\n"
	  "  \"serviceVersion\": \"5.1.0\",\n"
	  "  \"system\": {\n"
	  "    \"id\": \"" ID "\",\n"
	  "    \"arch\": \"x64\",\n"
	  "    \"platform\": \"linux\",\n"
	  "    \"release\": \"12\",\n"
	  "    \"distro\": \"Debian GNU/Linux\",\n"
	  "    \"codename\": \"bookworm\",\n"
	  "    \"virtual\": true,\n"
	  "    \"nodeVersion\": \"v20.11.1\"\n"
	  "  },\n"
	  "  \"enabledFeatures\": {\n"
	  "    \"api\": {\n"
	  "      \"x\": true,\n"
	  "      \"y\": false\n"
	  "    },\n"
	  "    \"beta\": true\n"
	  "  }\n"
	  "}" },
	/* The envelope is butler's: posthog and otlp ignore it. */
	{ "posthog-compact", CFG_FORMAT_POSTHOG, 0, 0,
	  "{\"api_key\":\"phc_key\",\"batch\":[{\"event\":\"telemetry sent\",\"distinct_id\":\"" ID "\","
	  "\"timestamp\":\"" TS "\",\"uuid\":\"" UUID "\",\"properties\":{\"service\":\"butler\","
	  "\"serviceVersion\":\"5.1.0\",\"system_arch\":\"x64\",\"system_platform\":\"linux\","
	  "\"system_release\":\"12\",\"system_distro\":\"Debian GNU/Linux\","
	  "\"system_codename\":\"bookworm\",\"system_virtual\":true,"
	  "\"system_nodeVersion\":\"v20.11.1\",\"feature_api_x\":true,\"feature_api_y\":false,"
	  "\"feature_beta\":true,\"$lib\":\"anontel\",\"$lib_version\":\"" ANONTEL_VERSION "\",\"$os\":\"Linux\","
	  "\"$process_person_profile\":false,\"$geoip_disable\":true}}],\"sent_at\":\"" TS "\"}" },
	{ "posthog-pretty", CFG_FORMAT_POSTHOG, 1, 1,
	  "{\n"
	  "  \"api_key\": \"phc_key\",\n"
	  "  \"batch\": [\n"
	  "    {\n"
	  "      \"event\": \"telemetry sent\",\n"
	  "      \"distinct_id\": \"" ID "\",\n"
	  "      \"timestamp\": \"" TS "\",\n"
	  "      \"uuid\": \"" UUID "\",\n"
	  "      \"properties\": {\n"
	  "        \"service\": \"butler\",\n"
	  "        \"serviceVersion\": \"5.1.0\",\n"
	  "        \"system_arch\": \"x64\",\n"
	  "        \"system_platform\": \"linux\",\n"
	  "        \"system_release\": \"12\",\n"
	  "        \"system_distro\": \"Debian GNU/Linux\",\n"
	  "        \"system_codename\": \"bookworm\",\n"
	  "        \"system_virtual\": true,\n"
	  "        \"system_nodeVersion\": \"v20.11.1\",\n"
	  "        \"feature_api_x\": true,\n"
	  "        \"feature_api_y\": false,\n"
	  "        \"feature_beta\": true,\n"
	  "        \"$lib\": \"anontel\",\n"
	  "        \"$lib_version\": \"" ANONTEL_VERSION "\",\n"
	  "        \"$os\": \"Linux\",\n"
	  "        \"$process_person_profile\": false,\n"
	  "        \"$geoip_disable\": true\n"
	  "      }\n"
	  "    }\n"
	  "  ],\n"
	  "  \"sent_at\": \"" TS "\"\n"
	  "}" },
	{ "otlp-compact", CFG_FORMAT_OTLP, 1, 0,
	  "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
	  "\"value\":{\"stringValue\":\"butler\"}},{\"key\":\"service.version\","
	  "\"value\":{\"stringValue\":\"5.1.0\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"anontel\","
	  "\"version\":\"" ANONTEL_VERSION "\"},\"logRecords\":[{\"timeUnixNano\":\"1614770035862000000\","
	  "\"observedTimeUnixNano\":\"1614770035862000000\",\"severityNumber\":9,"
	  "\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"telemetry\"},"
	  "\"attributes\":[{\"key\":\"system.id\",\"value\":{\"stringValue\":\"" ID "\"}},"
	  "{\"key\":\"system.arch\",\"value\":{\"stringValue\":\"x64\"}},{\"key\":\"system.platform\","
	  "\"value\":{\"stringValue\":\"linux\"}},{\"key\":\"system.release\","
	  "\"value\":{\"stringValue\":\"12\"}},{\"key\":\"system.distro\","
	  "\"value\":{\"stringValue\":\"Debian GNU/Linux\"}},{\"key\":\"system.codename\","
	  "\"value\":{\"stringValue\":\"bookworm\"}},{\"key\":\"system.virtual\","
	  "\"value\":{\"boolValue\":true}},{\"key\":\"system.nodeVersion\","
	  "\"value\":{\"stringValue\":\"v20.11.1\"}},{\"key\":\"enabledFeatures\","
	  "\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"api\","
	  "\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"x\",\"value\":{\"boolValue\":true}},"
	  "{\"key\":\"y\",\"value\":{\"boolValue\":false}}]}}},{\"key\":\"beta\","
	  "\"value\":{\"boolValue\":true}}]}}}]}]}]}]}" },
	{ "otlp-pretty", CFG_FORMAT_OTLP, 0, 1,
	  "{\n"
	  "  \"resourceLogs\": [\n"
	  "    {\n"
	  "      \"resource\": {\n"
	  "        \"attributes\": [\n"
	  "          {\n"
	  "            \"key\": \"service.name\",\n"
	  "            \"value\": {\n"
	  "              \"stringValue\": \"butler\"\n"
	  "            }\n"
	  "          },\n"
	  "          {\n"
	  "            \"key\": \"service.version\",\n"
	  "            \"value\": {\n"
	  "              \"stringValue\": \"5.1.0\"\n"
	  "            }\n"
	  "          }\n"
	  "        ]\n"
	  "      },\n"
	  "      \"scopeLogs\": [\n"
	  "        {\n"
	  "          \"scope\": {\n"
	  "            \"name\": \"anontel\",\n"
	  "            \"version\": \"" ANONTEL_VERSION "\"\n"
	  "          },\n"
	  "          \"logRecords\": [\n"
	  "            {\n"
	  "              \"timeUnixNano\": \"1614770035862000000\",\n"
	  "              \"observedTimeUnixNano\": \"1614770035862000000\",\n"
	  "              \"severityNumber\": 9,\n"
	  "              \"severityText\": \"INFO\",\n"
	  "              \"body\": {\n"
	  "                \"stringValue\": \"telemetry\"\n"
	  "              },\n"
	  "              \"attributes\": [\n"
	  "                {\n"
	  "                  \"key\": \"system.id\",\n"
	  "                  \"value\": {\n"
	  "                    \"stringValue\": \"" ID "\"\n"
	  "                  }\n"
	  "                },\n"
	  "                {\n"
	  "                  \"key\": \"system.arch\",\n"
	  "                  \"value\": {\n"
	  "                    \"stringValue\": \"x64\"\n"
	  "                  }\n"
	  "                },\n"
	  "                {\n"
	  "                  \"key\": \"system.platform\",\n"
	  "                  \"value\": {\n"
	  "                    \"stringValue\": \"linux\"\n"
	  "                  }\n"
	  "                },\n"
	  "                {\n"
	  "                  \"key\": \"system.release\",\n"
	  "                  \"value\": {\n"
	  "                    \"stringValue\": \"12\"\n"
	  "                  }\n"
	  "                },\n"
	  "                {\n"
	  "                  \"key\": \"system.distro\",\n"
	  "                  \"value\": {\n"
	  "                    \"stringValue\": \"Debian GNU/Linux\"\n"
	  "                  }\n"
	  "                },\n"
	  "                {\n"
	  "                  \"key\": \"system.codename\",\n"
	  "                  \"value\": {\n"
	  "                    \"stringValue\": \"bookworm\"\n"
	  "                  }\n"
	  "                },\n"
	  "                {\n"
	  "                  \"key\": \"system.virtual\",\n"
	  "                  \"value\": {\n"
	  "                    \"boolValue\": true\n"
	  "                  }\n"
	  "                },\n"
	  "                {\n"
	  "                  \"key\": \"system.nodeVersion\",\n"
	  "                  \"value\": {\n"
	  "                    \"stringValue\": \"v20.11.1\"\n"
	  "                  }\n"
	  "                },\n"
	  "                {\n"
	  "                  \"key\": \"enabledFeatures\",\n"
	  "                  \"value\": {\n"
	  "                    \"kvlistValue\": {\n"
	  "                      \"values\": [\n"
	  "                        {\n"
	  "                          \"key\": \"api\",\n"
	  "                          \"value\": {\n"
	  "                            \"kvlistValue\": {\n"
	  "                              \"values\": [\n"
	  "                                {\n"
	  "                                  \"key\": \"x\",\n"
	  "                                  \"value\": {\n"
	  "                                    \"boolValue\": true\n"
	  "                                  }\n"
	  "                                },\n"
	  "                                {\n"
	  "                                  \"key\": \"y\",\n"
	  "                                  \"value\": {\n"
	  "                                    \"boolValue\": false\n"
	  "                                  }\n"
	  "                                }\n"
	  "                              ]\n"
	  "                            }\n"
	  "                          }\n"
	  "                        },\n"
	  "                        {\n"
	  "                          \"key\": \"beta\",\n"
	  "                          \"value\": {\n"
	  "                            \"boolValue\": true\n"
	  "                          }\n"
	  "                        }\n"
	  "                      ]\n"
	  "                    }\n"
	  "                  }\n"
	  "                }\n"
	  "              ]\n"
	  "            }\n"
	  "          ]\n"
	  "        }\n"
	  "      ]\n"
	  "    }\n"
	  "  ]\n"
	  "}" },
};

/* Scheme none (stamp.age "2-4"): the age where the ID goes, and no ID anywhere;
 * PostHog's distinct_id is the event's own uuid. */
static const struct row none_rows[] = {
	{ "none-butler-envelope-compact", CFG_FORMAT_BUTLER, 1, 0,
	  "{\"ts\":\"" TS "\",\"data\":{\"service\":\"butler\",\"serviceVersion\":\"5.1.0\","
	  "\"system\":{\"age\":\"2-4\",\"arch\":\"x64\",\"platform\":\"linux\",\"release\":\"12\","
	  "\"distro\":\"Debian GNU/Linux\",\"codename\":\"bookworm\",\"virtual\":true,"
	  "\"nodeVersion\":\"v20.11.1\"},\"enabledFeatures\":{\"api\":{\"x\":true,\"y\":false},"
	  "\"beta\":true}}}" },
	{ "none-butler-bare-pretty", CFG_FORMAT_BUTLER, 0, 1,
	  "{\n"
	  "  \"service\": \"butler\",\n"
	  "  \"serviceVersion\": \"5.1.0\",\n"
	  "  \"system\": {\n"
	  "    \"age\": \"2-4\",\n"
	  "    \"arch\": \"x64\",\n"
	  "    \"platform\": \"linux\",\n"
	  "    \"release\": \"12\",\n"
	  "    \"distro\": \"Debian GNU/Linux\",\n"
	  "    \"codename\": \"bookworm\",\n"
	  "    \"virtual\": true,\n"
	  "    \"nodeVersion\": \"v20.11.1\"\n"
	  "  },\n"
	  "  \"enabledFeatures\": {\n"
	  "    \"api\": {\n"
	  "      \"x\": true,\n"
	  "      \"y\": false\n"
	  "    },\n"
	  "    \"beta\": true\n"
	  "  }\n"
	  "}" },
	{ "none-posthog-compact", CFG_FORMAT_POSTHOG, 0, 0,
	  "{\"api_key\":\"phc_key\",\"batch\":[{\"event\":\"telemetry sent\",\"distinct_id\":\"" UUID "\","
	  "\"timestamp\":\"" TS "\",\"uuid\":\"" UUID "\",\"properties\":{\"service\":\"butler\","
	  "\"serviceVersion\":\"5.1.0\",\"system_age\":\"2-4\",\"system_arch\":\"x64\","
	  "\"system_platform\":\"linux\",\"system_release\":\"12\","
	  "\"system_distro\":\"Debian GNU/Linux\",\"system_codename\":\"bookworm\","
	  "\"system_virtual\":true,\"system_nodeVersion\":\"v20.11.1\",\"feature_api_x\":true,"
	  "\"feature_api_y\":false,\"feature_beta\":true,\"$lib\":\"anontel\",\"$lib_version\":\""
	  ANONTEL_VERSION "\",\"$os\":\"Linux\",\"$process_person_profile\":false,"
	  "\"$geoip_disable\":true}}],\"sent_at\":\"" TS "\"}" },
	{ "none-otlp-compact", CFG_FORMAT_OTLP, 1, 0,
	  "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\","
	  "\"value\":{\"stringValue\":\"butler\"}},{\"key\":\"service.version\","
	  "\"value\":{\"stringValue\":\"5.1.0\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"anontel\","
	  "\"version\":\"" ANONTEL_VERSION "\"},\"logRecords\":[{\"timeUnixNano\":\"1614770035862000000\","
	  "\"observedTimeUnixNano\":\"1614770035862000000\",\"severityNumber\":9,"
	  "\"severityText\":\"INFO\",\"body\":{\"stringValue\":\"telemetry\"},"
	  "\"attributes\":[{\"key\":\"system.age\",\"value\":{\"stringValue\":\"2-4\"}},"
	  "{\"key\":\"system.arch\",\"value\":{\"stringValue\":\"x64\"}},{\"key\":\"system.platform\","
	  "\"value\":{\"stringValue\":\"linux\"}},{\"key\":\"system.release\","
	  "\"value\":{\"stringValue\":\"12\"}},{\"key\":\"system.distro\","
	  "\"value\":{\"stringValue\":\"Debian GNU/Linux\"}},{\"key\":\"system.codename\","
	  "\"value\":{\"stringValue\":\"bookworm\"}},{\"key\":\"system.virtual\","
	  "\"value\":{\"boolValue\":true}},{\"key\":\"system.nodeVersion\","
	  "\"value\":{\"stringValue\":\"v20.11.1\"}},{\"key\":\"enabledFeatures\","
	  "\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"api\","
	  "\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"x\",\"value\":{\"boolValue\":true}},"
	  "{\"key\":\"y\",\"value\":{\"boolValue\":false}}]}}},{\"key\":\"beta\","
	  "\"value\":{\"boolValue\":true}}]}}}]}]}]}]}" },
};

/* The rows above, a buffer one byte short of each refused; and their schema: the
 * age's pattern where the ID's was, PostHog's distinct_id a UUID v7, no "id". */
static void
test_none(void)
{
	for (size_t i = 0; i < sizeof none_rows / sizeof none_rows[0]; i++) {
		const struct row *r = &none_rows[i];
		size_t n = strlen(r->want);
		struct buf b;

		setup(r->format, r->envelope);
		cfg.scheme = CFG_SCHEME_NONE;
		stamp.age = "2-4";
		expect(r->name, r->pretty, sizeof mem, r->want);
		CHECKF(strstr(mem, ID) == NULL, "%s: no ID", r->name);
		buf_init(&b, mem, n);
		CHECKF(msg_build(&b, &cfg, &facts, ID, &stamp, r->pretty) == -1, "%s: short", r->name);
		buf_init(&b, mem, sizeof mem);
		CHECKF(msg_schema(&b, &cfg, 0) == 0, "%s: schema", r->name);
		CHECKF(strstr(mem, "\"pattern\":\"^(0|1|2-4|5-24|25\\\\+)$\"") != NULL,
		    "%s: the age's pattern", r->name);
		CHECKF(strstr(mem, "\"id\"") == NULL && strstr(mem, "system.id") == NULL &&
		    strstr(mem, "[0-9a-f]{64}") == NULL, "%s: no ID in the schema", r->name);
		CHECKF(r->format != CFG_FORMAT_POSTHOG || strstr(mem, "\"distinct_id\":{\"type\":"
		    "\"string\",\"pattern\":\"^[0-9a-f]{8}-[0-9a-f]{4}-7") != NULL, "%s: %s", r->name,
		    mem);
	}
	setup(CFG_FORMAT_BUTLER, 1);
	CHECK(stamp.age == NULL);     /* msg_stamp: none until the caller sets it */
}

static void
test_bytes(void)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		setup(rows[i].format, rows[i].envelope);
		expect(rows[i].name, rows[i].pretty, sizeof mem, rows[i].want);
	}
}

/* No runtimeVersion (no nodeVersion), no features, an empty ID, not virtual, and
 * a distro with a quote, a control byte, a backslash and UTF-8. */
static void
test_sparse(void)
{
	setup(CFG_FORMAT_BUTLER, 1);
	cfg.runtime_version[0] = '\0';
	cfg.n_features = 0;
	facts.is_virtual = 0;
	strcpy(facts.os.distro, "Alpine \"Linux\"\x01\\ caf\xc3\xa9");
	strcpy(facts.os.codename, "");
	{
		struct buf b;

		buf_init(&b, mem, sizeof mem);
		CHECK(msg_build(&b, &cfg, &facts, "", &stamp, 0) == 0);
		CHECK_STR(mem, "{\"ts\":\"" TS "\",\"data\":{\"service\":\"butler\","
		    "\"serviceVersion\":\"5.1.0\",\"system\":{\"id\":\"\",\"arch\":\"x64\","
		    "\"platform\":\"linux\",\"release\":\"12\",\"distro\":\"Alpine \\\"Linux\\\"\\u0001"
		    "\\\\ caf\xc3\xa9\",\"codename\":\"\",\"virtual\":false},\"enabledFeatures\":{}}}",
		    "butler");
		cfg.format = CFG_FORMAT_POSTHOG;
		buf_init(&b, mem, sizeof mem);
		CHECK(msg_build(&b, &cfg, &facts, "", &stamp, 0) == 0);
		CHECK_STR(mem, "{\"api_key\":\"phc_key\",\"batch\":[{\"event\":\"telemetry sent\","
		    "\"distinct_id\":\"\",\"timestamp\":\"" TS "\",\"uuid\":\"" UUID "\","
		    "\"properties\":{\"service\":\"butler\",\"serviceVersion\":\"5.1.0\","
		    "\"system_arch\":\"x64\",\"system_platform\":\"linux\",\"system_release\":\"12\","
		    "\"system_distro\":\"Alpine \\\"Linux\\\"\\u0001\\\\ caf\xc3\xa9\","
		    "\"system_codename\":\"\",\"system_virtual\":false,\"$lib\":\"anontel\","
		    "\"$lib_version\":\"" ANONTEL_VERSION "\",\"$os\":\"Linux\","
		    "\"$process_person_profile\":false,\"$geoip_disable\":true}}],"
		    "\"sent_at\":\"" TS "\"}", "posthog");
		/* otlp: an empty enabledFeatures is an empty kvlist; no nodeVersion. */
		cfg.format = CFG_FORMAT_OTLP;
		buf_init(&b, mem, sizeof mem);
		CHECK(msg_build(&b, &cfg, &facts, "", &stamp, 0) == 0);
		CHECK(strstr(mem, "{\"key\":\"system.distro\",\"value\":{\"stringValue\":"
		    "\"Alpine \\\"Linux\\\"\\u0001\\\\ caf\xc3\xa9\"}}") != NULL);
		CHECK(strstr(mem, "{\"key\":\"system.virtual\",\"value\":{\"boolValue\":false}},"
		    "{\"key\":\"enabledFeatures\",\"value\":{\"kvlistValue\":{\"values\":[]}}}]}]}]}]}")
		    != NULL);
		CHECK(strstr(mem, "nodeVersion") == NULL);
	}
}

/* A buffer one byte short is -1; exactly the message and its NUL is 0. */
static void
test_overflow(void)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		size_t n = strlen(rows[i].want);
		struct buf b;

		setup(rows[i].format, rows[i].envelope);
		buf_init(&b, mem, n);
		CHECKF(msg_build(&b, &cfg, &facts, ID, &stamp, rows[i].pretty) == -1, "%s: short",
		    rows[i].name);
		expect(rows[i].name, rows[i].pretty, n + 1, rows[i].want);
	}
}

/* The table's names, in config's order, and a format past it refused. */
static void
test_table(void)
{
	struct buf b;

	CHECK_STR(msg_format_name(CFG_FORMAT_BUTLER), "butler", "0");
	CHECK_STR(msg_format_name(CFG_FORMAT_POSTHOG), "posthog", "1");
	CHECK_STR(msg_format_name(CFG_FORMAT_OTLP), "otlp", "2");
	CHECK(msg_format_name(CFG_FORMAT_OTLP + 1) == NULL);
	CHECK(msg_format_name(~0u) == NULL);
	setup(CFG_FORMAT_BUTLER, 1);
	cfg.format = (enum cfg_format)(CFG_FORMAT_OTLP + 1);
	buf_init(&b, mem, sizeof mem);
	CHECK(msg_build(&b, &cfg, &facts, ID, &stamp, 0) == -1);
	CHECK(b.len == 0);
	buf_init(&b, mem, sizeof mem);
	CHECK(msg_check(&cfg, &b) == -1);
}

/* The checks cfg_load runs through msg_check. */
static void
test_check(void)
{
	static const struct cfg_feature clash[] = {
		{ "a_b", 1, CFG_FEATURE_TRUE },
		{ "a", 1, CFG_FEATURE_OBJECT },
		{ "b", 2, CFG_FEATURE_FALSE },
	};
	char err[256];
	struct buf b;

	setup(CFG_FORMAT_BUTLER, 1);
	strcpy(cfg.file, "/etc/x.json");
	cfg.posthog_api_key[0] = '\0';
	buf_init(&b, err, sizeof err);
	CHECK(msg_check(&cfg, &b) == 0 && b.len == 0);       /* butler: nothing to check */
	cfg.format = CFG_FORMAT_POSTHOG;
	CHECK(msg_check(&cfg, &b) == -1);
	CHECK_STR(err, "/etc/x.json: posthog.apiKey: required when \"format\" is \"posthog\"",
	    "no key");
	strcpy(cfg.posthog_api_key, "phc_key");
	buf_init(&b, err, sizeof err);
	CHECK(msg_check(&cfg, &b) == 0 && b.len == 0);
	memcpy(cfg.features, clash, sizeof clash);
	cfg.n_features = sizeof clash / sizeof clash[0];
	CHECK(msg_check(&cfg, &b) == -1);
	CHECK_STR(err, "/etc/x.json: enabledFeatures: two features give the PostHog property "
	    "feature_a_b", "clash");
}

static void
test_timestamp(void)
{
	static const struct {
		int64_t ms;
		const char *want;
	} ts[] = {
		{ INT64_C(1614770035862), TS },
		{ 0, "1970-01-01T00:00:00.000Z" },
		{ INT64_C(951782400999), "2000-02-29T00:00:00.999Z" },
		{ INT64_C(4102444799001), "2099-12-31T23:59:59.001Z" },
	};
	char out[MSG_TS_LEN + 1];

	for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
		msg_timestamp(ts[i].ms, out);
		CHECK_STR(out, ts[i].want, "timestamp");
	}
}

/* UUID v7 (RFC 9562 5.7): 48 bits of ms, version 7, variant 10, the rest random. */
static void
test_stamp(void)
{
	static const unsigned char ones[MSG_UUID_RANDOM] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
	};
	static const unsigned char zeros[MSG_UUID_RANDOM];
	struct msg_stamp s;

	/* RFC 9562 appendix A.6's example: its ms and its random bits. */
	msg_stamp(&s, INT64_C(0x017F22E279B0), RANDOM);
	CHECK_STR(s.uuid, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f", "RFC 9562 A.6");
	CHECK(s.ms == INT64_C(0x017F22E279B0));
	CHECK_STR(s.ts, "2022-02-22T19:22:22.000Z", "its ts");
	msg_stamp(&s, MS, ones);
	CHECK_STR(s.uuid, "0177f7cb-5c96-7fff-bfff-ffffffffffff", "version and variant over ones");
	msg_stamp(&s, MS, zeros);
	CHECK_STR(s.uuid, "0177f7cb-5c96-7000-8000-000000000000", "version and variant over zeros");
	msg_stamp(&s, -5, zeros);
	CHECK_STR(s.uuid, "00000000-0000-7000-8000-000000000000", "before 1970: 0");
	CHECK_STR(s.ts, "1970-01-01T00:00:00.000Z", "before 1970: ts");
	CHECK(strlen(s.uuid) == MSG_UUID_LEN);
}

/* The send time goes where the compact posthog message keeps it, and nowhere else. */
static void
test_sent_at(void)
{
	static const char later[] = "2021-03-05T00:00:01.002Z";
	struct buf b;
	size_t n;

	setup(CFG_FORMAT_POSTHOG, 1);
	buf_init(&b, mem, sizeof mem);
	CHECK(msg_build(&b, &cfg, &facts, ID, &stamp, 0) == 0);
	n = b.len;
	CHECK(msg_set_sent_at(mem, n, later) == 1);
	CHECK(strlen(mem) == n);
	CHECK(strcmp(mem + n - 38, ",\"sent_at\":\"2021-03-05T00:00:01.002Z\"}") == 0);
	CHECK(strstr(mem, "\"timestamp\":\"" TS "\"") != NULL);    /* the build time stays */
	CHECK(msg_set_sent_at(mem, n - 1, later) == 0);            /* not at the end */
	CHECK(msg_set_sent_at(mem, n, "2021") == 0);               /* not a timestamp */
	CHECK(msg_set_sent_at(mem, 10, later) == 0);
	/* The other formats carry no send time: left byte for byte. */
	for (int format = CFG_FORMAT_BUTLER; format <= CFG_FORMAT_OTLP; format += 2) {
		for (int pretty = 0; pretty <= 1; pretty++) {
			static char copy[sizeof mem];

			setup((enum cfg_format)format, 1);
			buf_init(&b, mem, sizeof mem);
			CHECK(msg_build(&b, &cfg, &facts, ID, &stamp, pretty) == 0);
			memcpy(copy, mem, b.len + 1);
			CHECKF(msg_set_sent_at(mem, b.len, later) == 0, "format %d pretty %d", format,
			    pretty);
			CHECK(memcmp(copy, mem, b.len + 1) == 0);
		}
	}
	/* Pretty posthog (show --pretty) is not a kept message: left alone too. */
	setup(CFG_FORMAT_POSTHOG, 1);
	buf_init(&b, mem, sizeof mem);
	CHECK(msg_build(&b, &cfg, &facts, ID, &stamp, 1) == 0);
	CHECK(msg_set_sent_at(mem, b.len, later) == 0);
}

/* otlp, features nested 8 deep (the most config allows): a..g objects, leaf h. */
static void
setup_deep(void)
{
	static const char *const keys[] = { "a", "b", "c", "d", "e", "f", "g", "h" };

	setup(CFG_FORMAT_OTLP, 1);
	for (unsigned i = 0; i < 8; i++) {
		cfg.features[i].key = keys[i];
		cfg.features[i].depth = (uint8_t)(i + 1);
		cfg.features[i].kind = i < 7 ? CFG_FEATURE_OBJECT : CFG_FEATURE_TRUE;
	}
	cfg.n_features = 8;
}

/* The deepest nesting of brackets in mem, or -1 if they do not pair up. */
static int
deepest(void)
{
	int depth = 0, most = 0;

	for (const char *p = mem; *p; p++) {
		if (*p == '{' || *p == '[')
			most = ++depth > most ? depth : most;
		else if (*p == '}' || *p == ']')
			depth--;
	}
	return depth == 0 ? most : -1;
}

/* Features nested 8 deep: otlp nests 4 JSON levels per feature level, and stays
 * within the writer's depth. */
static void
test_otlp_deep(void)
{
	struct buf b;
	int most;

	setup_deep();
	cfg.features[8] = (struct cfg_feature){ "z", 1, CFG_FEATURE_FALSE };
	cfg.n_features = 9;
	for (int pretty = 0; pretty <= 1; pretty++) {
		buf_init(&b, mem, sizeof mem);
		CHECKF(msg_build(&b, &cfg, &facts, ID, &stamp, pretty) == 0, "pretty %d", pretty);
	}
	CHECKF((most = deepest()) == 42, "deepest %d", most);
	CHECK(strstr(mem, "\"key\": \"h\",\n") != NULL);
}

/* The schema of the butler rows' messages (scheme auto), compact. Pieces: */
#define S_BOOL "{\"type\":\"boolean\"}"
#define S_CONST(v) "{\"type\":\"string\",\"const\":\"" v "\"}"
#define S_FACT "{\"type\":\"string\",\"maxLength\":127}"
#define S_CLOSED "\"additionalProperties\":false}"
static const char butler_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    "\"$id\":\"https://anontel.invalid/schema/v1/butler.json\","
    "\"title\":\"anontel butler message of butler 5.1.0\","
    "\"type\":\"object\",\"properties\":{"
      "\"ts\":{\"type\":\"string\","
        "\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\\\.[0-9]{3}Z$\"},"
      "\"data\":{\"type\":\"object\",\"properties\":{"
        "\"service\":" S_CONST("butler") ",\"serviceVersion\":" S_CONST("5.1.0") ","
        "\"system\":{\"type\":\"object\",\"properties\":{"
          "\"id\":{\"type\":\"string\",\"pattern\":\"^[0-9a-f]{64}$\"},"
          "\"arch\":" S_FACT ",\"platform\":" S_CONST("linux") ",\"release\":" S_FACT ","
          "\"distro\":" S_FACT ",\"codename\":" S_FACT ",\"virtual\":" S_BOOL ","
          "\"nodeVersion\":" S_CONST("v20.11.1") "},"
          "\"required\":[\"id\",\"arch\",\"platform\",\"release\",\"distro\",\"codename\","
          "\"virtual\",\"nodeVersion\"]," S_CLOSED ","
        "\"enabledFeatures\":{\"type\":\"object\",\"properties\":{"
          "\"api\":{\"type\":\"object\",\"properties\":{\"x\":" S_BOOL ",\"y\":" S_BOOL "},"
            "\"required\":[\"x\",\"y\"]," S_CLOSED ","
          "\"beta\":" S_BOOL "},"
          "\"required\":[\"api\",\"beta\"]," S_CLOSED "},"
        "\"required\":[\"service\",\"serviceVersion\",\"system\",\"enabledFeatures\"],"
        S_CLOSED "},"
    "\"required\":[\"ts\",\"data\"]," S_CLOSED;

/* Its bytes; a buffer one byte short is -1, exactly the schema and its NUL is 0. */
static void
test_schema(void)
{
	size_t n = strlen(butler_schema);
	struct buf b;

	setup(CFG_FORMAT_BUTLER, 1);
	buf_init(&b, mem, sizeof mem);
	CHECK(msg_schema(&b, &cfg, 0) == 0);
	CHECK_STR(mem, butler_schema, "butler schema");
	buf_init(&b, mem, n);
	CHECK(msg_schema(&b, &cfg, 0) == -1);
	buf_init(&b, mem, n + 1);
	CHECK(msg_schema(&b, &cfg, 0) == 0 && b.len == n);
}

/* Every format, compact and pretty: valid JSON, its $id, no value of the run
 * (facts, ID, stamp) in it, and the ID's pattern as each scheme makes it. */
static void
test_schema_formats(void)
{
	static const struct {
		enum cfg_scheme scheme;
		const char *pattern;
	} ids[] = {
		{ CFG_SCHEME_AUTO, "\"^[0-9a-f]{64}$\"" },
		{ CFG_SCHEME_BUTLER, "\"^([0-9a-f]{64}|[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15})$\"" },
		{ CFG_SCHEME_MACHINE_ID, "\"^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$\"" },
		{ CFG_SCHEME_RANDOM, "\"^[0-9a-f]{64}$\"" },
		{ CFG_SCHEME_FIXED, "\"^[A-Za-z0-9_-]{16,128}$\"" },
	};
	char want[128];
	struct json_error e;
	struct buf b;

	for (int format = CFG_FORMAT_BUTLER; format <= CFG_FORMAT_OTLP; format++) {
		for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
			setup((enum cfg_format)format, 1);
			cfg.scheme = ids[i].scheme;
			buf_init(&b, mem, sizeof mem);
			CHECKF(msg_schema(&b, &cfg, (int)(i & 1)) == 0, "format %d", format);
			CHECKF(json_validate(mem, b.len, &e) == 0, "format %d: %s", format, e.what);
			snprintf(want, sizeof want, "\"$id\":%s\"https://anontel.invalid/schema/v1/%s.json\"",
			    i & 1 ? " " : "", msg_format_name((unsigned)format));
			CHECKF(strstr(mem, want) != NULL, "format %d: no %s", format, want);
			CHECKF(strstr(mem, ids[i].pattern) != NULL, "format %d scheme %d", format,
			    (int)ids[i].scheme);
			CHECK(strstr(mem, "x64") == NULL && strstr(mem, "bookworm") == NULL);
			CHECK(strstr(mem, TS) == NULL && strstr(mem, "0177f7cb") == NULL);
		}
	}
}

/* otlp with features nested 8 deep: the schema nests twice as deep as the
 * message's 42 levels, past json_validate's 64 but within the writer's. A key
 * that JSON would escape cannot be copied into "required": refused. */
static void
test_schema_limits(void)
{
	struct buf b;
	int most;

	setup_deep();
	for (int pretty = 0; pretty <= 1; pretty++) {
		buf_init(&b, mem, sizeof mem);
		CHECKF(msg_schema(&b, &cfg, pretty) == 0, "pretty %d", pretty);
	}
	CHECKF((most = deepest()) == 85, "deepest %d", most);
	setup(CFG_FORMAT_BUTLER, 1);
	cfg.features[3].key = "be\"ta";
	buf_init(&b, mem, sizeof mem);
	CHECK(msg_schema(&b, &cfg, 0) == -1);
	cfg.format = (enum cfg_format)(CFG_FORMAT_OTLP + 1);
	buf_init(&b, mem, sizeof mem);
	CHECK(msg_schema(&b, &cfg, 0) == -1 && b.len == 0);
}

static const struct check_case cases[] = {
	{ "none", test_none },
	{ "bytes", test_bytes },
	{ "sparse", test_sparse },
	{ "overflow", test_overflow },
	{ "table", test_table },
	{ "check", test_check },
	{ "timestamp", test_timestamp },
	{ "stamp", test_stamp },
	{ "sent_at", test_sent_at },
	{ "otlp_deep", test_otlp_deep },
	{ "schema", test_schema },
	{ "schema_formats", test_schema_formats },
	{ "schema_limits", test_schema_limits },
};

CHECK_MAIN(cases)
