################################################################################
#
# anontel
#
################################################################################

# A br2-external package: set ANONTEL_SITE to where you publish anontel's release
# tarball (`git archive --prefix=anontel-$(VERSION)/ v$(VERSION)`), or build a local
# checkout with ANONTEL_OVERRIDE_SRCDIR in local.mk. BearSSL 0.6 and jsmn 1.1.0 come from
# upstream as extra downloads, checked against anontel.hash. The roots compiled in are
# the build machine's bundle (ANONTEL_CA_BUNDLE).
ANONTEL_VERSION = 0.1.0
ANONTEL_SITE = https://downloads.example.com/anontel
ANONTEL_LICENSE = ISC, MIT (BearSSL, jsmn, musl), MPL-2.0 (root certificates)
ANONTEL_LICENSE_FILES = LICENSE
ANONTEL_EXTRA_DOWNLOADS = \
	https://bearssl.org/bearssl-0.6.tar.gz \
	https://github.com/zserge/jsmn/archive/v1.1.0.tar.gz
ANONTEL_CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt

define ANONTEL_EXTRACT_THIRD_PARTY
	mkdir -p $(@D)/third_party/bearssl $(@D)/third_party/jsmn
	$(TAR) -C $(@D)/third_party/bearssl --strip-components=1 \
		-xzf $(ANONTEL_DL_DIR)/bearssl-0.6.tar.gz
	$(TAR) -C $(@D)/third_party/jsmn --strip-components=1 \
		-xzf $(ANONTEL_DL_DIR)/v1.1.0.tar.gz jsmn-1.1.0/jsmn.h
endef
ANONTEL_POST_EXTRACT_HOOKS += ANONTEL_EXTRACT_THIRD_PARTY
ANONTEL_POST_RSYNC_HOOKS += ANONTEL_EXTRACT_THIRD_PARTY

define ANONTEL_BUILD_CMDS
	$(TARGET_MAKE_ENV) $(MAKE) -C $(@D) \
		CC="$(TARGET_CC)" CFLAGS="$(TARGET_CFLAGS)" LDFLAGS="$(TARGET_LDFLAGS)" \
		HOSTCC="$(HOSTCC)" CA_BUNDLE="$(ANONTEL_CA_BUNDLE)" all
endef

define ANONTEL_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/build/anontel $(TARGET_DIR)/usr/bin/anontel
endef

define ANONTEL_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/contrib/systemd/anontel.service \
		$(TARGET_DIR)/usr/lib/systemd/system/anontel.service
	$(INSTALL) -D -m 0644 $(@D)/contrib/systemd/anontel.timer \
		$(TARGET_DIR)/usr/lib/systemd/system/anontel.timer
endef

define ANONTEL_USERS
	anontel -1 anontel -1 * /var/lib/anontel - - anontel telemetry
endef

$(eval $(generic-package))
