# anontel build rules. build.sh fetches third_party/ and then calls this file;
# `make` alone works once third_party/ is in place.
#
#   build/anontel       static, stripped binary (musl-gcc, BearSSL built with musl)
#   build/units/test_*  unit tests: host compiler, ASan + UBSan, BearSSL built for the host
#   make install        $(DESTDIR)$(PREFIX)/bin/anontel and .../share/man/man1/anontel.1
#
# What a packager sets (on the command line or in the environment):
#   CC          the target's C compiler, a musl one (default musl-gcc; a cross build
#               passes its own, tools/cross.sh and contrib/ show how)
#   CFLAGS      the target's flags, after ours, so they win (default -Oz)
#   LDFLAGS     link flags, after ours
#   PREFIX      /usr/local by default; DESTDIR is prepended by `make install` alone
#   SOURCE_DATE_EPOCH   the build date shown by --version and the certificate clock floor
#               (reproducible builds: the same tree and epoch give the same bytes); else today
#   HOSTCC      the build machine's compiler (roots generator, unit tests; default gcc)
#   CA_BUNDLE   the PEM bundle whose roots are compiled in
#   BEARSSL, JSMN   where BearSSL's source tree and jsmn.h are (default third_party/)
#   WERROR      -Werror by default; WERROR= lets a newer compiler's new warnings through

BEARSSL ?= third_party/bearssl
JSMN    ?= third_party/jsmn
BR      := $(BEARSSL)
B       := build
# BearSSL's objects: BRB for the target (a variant build may reuse the main one's),
# HOSTBRB for the host build the unit tests and the roots generator link with (a
# cross build shares the native one).
BRB     ?= $(B)
HOSTBRB ?= $(BRB)
VERSION := $(shell cat VERSION)
# The build date, once per run: from SOURCE_DATE_EPOCH when set, else today (UTC).
ifndef BUILD_DATE
ifdef SOURCE_DATE_EPOCH
BUILD_DATE := $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%d)
else
BUILD_DATE := $(shell date -u +%Y-%m-%d)
endif
endif
ifeq ($(BUILD_DATE),)
$(error SOURCE_DATE_EPOCH '$(SOURCE_DATE_EPOCH)' is not a number of seconds)
endif
# Unix seconds of BUILD_DATE at 00:00 UTC: the clock floor for certificate checks.
BUILD_EPOCH ?= $(shell date -u -d "$(BUILD_DATE)" +%s)

STD     := -std=c11 -D_DEFAULT_SOURCE
WERROR  ?= -Werror
WARN    := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes
DEFS    := -DANONTEL_VERSION='"$(VERSION)"' -DANONTEL_BUILD_DATE='"$(BUILD_DATE)"' \
           -DANONTEL_BUILD_EPOCH=$(BUILD_EPOCH)LL
INCS    := -Isrc -I$(BR)/inc -I$(JSMN) -I$(B)/gen

# make's own default CC is cc; ours is musl-gcc unless the command line or the
# environment names one.
ifeq ($(origin CC),default)
CC      := musl-gcc
endif
# -Oz (gcc 12): 1 KB smaller than -Os, with no more instructions per report (callgrind).
CFLAGS  ?= -Oz
LDFLAGS ?=
PREFIX  ?= /usr/local
# -fno-pie: the binary is linked -static (not -static-pie), at a fixed address, so
# position-independent code only costs (2 KB). -flto: the linker inlines and drops
# across every object, BearSSL's included (3 KB).
SECTS   := -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-unwind-tables \
           -fno-pie -flto=auto
SMALL   := $(SECTS) -fno-stack-protector
# -z norelro: RELRO is the dynamic linker's work (mprotect after relocation); a static
# musl binary has none, so its "read-only after relocation" pages stay writable anyway
# (/proc/PID/maps shows them rw-), and the page the linker pads to for them is 2 KB of
# nothing in the file.
LDSMALL := -static -no-pie -flto=auto -s -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none -Wl,-z,norelro

HOSTCC  ?= gcc
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HOSTDBG := -O1 -g $(SAN)

SRCS      := $(sort $(wildcard src/*.c))
LIB_SRCS  := $(filter-out src/main.c,$(SRCS))
BR_SRCS   := $(sort $(wildcard $(BR)/src/*/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
GEN       := $(B)/gen/roots.h

MUSL_OBJS := $(SRCS:%.c=$(B)/musl/%.o)
BR_MUSL   := $(BR_SRCS:$(BR)/%.c=$(BRB)/musl/br/%.o)
HOST_OBJS := $(LIB_SRCS:%.c=$(B)/host/%.o)
BR_HOST   := $(BR_SRCS:$(BR)/%.c=$(HOSTBRB)/host/br/%.o)
UNITS     := $(UNIT_SRCS:tests/unit/%.c=$(B)/units/%)

.PHONY: all units install clean
all: $(B)/anontel
units: $(UNITS)

$(B)/anontel: $(MUSL_OBJS) $(BRB)/musl/libbearssl.a
	$(CC) $(LDSMALL) $(CFLAGS) $(LDFLAGS) -o $@ $(MUSL_OBJS) $(BRB)/musl/libbearssl.a

$(B)/musl/src/%.o: src/%.c src/*.h $(GEN) VERSION
	@mkdir -p $(@D)
	$(CC) $(STD) $(WARN) $(SMALL) $(CFLAGS) $(DEFS) $(INCS) -c -o $@ $<

# -ffat-lto-objects: BearSSL's objects go into an archive, and `ar` indexes LTO-only
# objects only through a plugin of the compiler's version; fat ones carry ordinary
# code and symbols too, so any `ar` indexes them (the link still uses the LTO part).
$(BRB)/musl/br/%.o: $(BR)/%.c
	@mkdir -p $(@D)
	$(CC) $(SECTS) -ffat-lto-objects $(CFLAGS) -I$(BR)/inc -I$(BR)/src -c -o $@ $<

$(BRB)/musl/libbearssl.a: $(BR_MUSL)
	rm -f $@ && ar rcs $@ $^

$(B)/host/src/%.o: src/%.c src/*.h $(GEN) VERSION
	@mkdir -p $(@D)
	$(HOSTCC) $(STD) $(WARN) $(HOSTDBG) $(DEFS) $(INCS) -c -o $@ $<

$(HOSTBRB)/host/br/%.o: $(BR)/%.c
	@mkdir -p $(@D)
	$(HOSTCC) -O2 -g -I$(BR)/inc -I$(BR)/src -c -o $@ $<

$(HOSTBRB)/host/libbearssl.a: $(BR_HOST)
	rm -f $@ && ar rcs $@ $^

$(B)/units/%: tests/unit/%.c tests/unit/check.h $(HOST_OBJS) $(HOSTBRB)/host/libbearssl.a
	@mkdir -p $(@D)
	$(HOSTCC) $(STD) -Wall -Wextra -Werror $(HOSTDBG) $(DEFS) $(INCS) -Itests/unit \
	  -o $@ $< $(HOST_OBJS) $(HOSTBRB)/host/libbearssl.a

# Trust anchors: Debian's ca-certificates bundle turned into C by our generator.
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
$(B)/gen/roots.h: tools/mkroots.c src/trust.h $(HOSTBRB)/host/libbearssl.a $(CA_BUNDLE)
	@mkdir -p $(B)/gen $(B)/tools
	$(HOSTCC) $(STD) $(WARN) -O2 -Isrc -I$(BR)/inc -o $(B)/tools/mkroots tools/mkroots.c $(HOSTBRB)/host/libbearssl.a
	$(B)/tools/mkroots $(CA_BUNDLE) > $@.tmp && mv $@.tmp $@

install: $(B)/anontel
	install -D -m 0755 $(B)/anontel $(DESTDIR)$(PREFIX)/bin/anontel
	install -D -m 0644 docs/anontel.1 $(DESTDIR)$(PREFIX)/share/man/man1/anontel.1

clean:
	rm -rf $(B)
