# anontel build rules. build.sh fetches third_party/ and then calls this file;
# `make` alone works once third_party/ is in place.
#
#   build/anontel       static, stripped binary (musl-gcc, BearSSL built with musl)
#   build/units/test_*  unit tests: host compiler, ASan + UBSan, BearSSL built for the host

BR      := third_party/bearssl
JSMN    := third_party/jsmn
B       := build
# BearSSL's objects: BRB for the target (a variant build may reuse the main one's),
# HOSTBRB for the host build the unit tests and the roots generator link with (a
# cross build shares the native one).
BRB     ?= $(B)
HOSTBRB ?= $(BRB)
VERSION := $(shell cat VERSION)
BUILD_DATE ?= $(shell date -u +%Y-%m-%d)
# Unix seconds of BUILD_DATE at 00:00 UTC: the clock floor for certificate checks.
BUILD_EPOCH ?= $(shell date -u -d "$(BUILD_DATE)" +%s)

STD     := -std=c11 -D_DEFAULT_SOURCE
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
DEFS    := -DANONTEL_VERSION='"$(VERSION)"' -DANONTEL_BUILD_DATE='"$(BUILD_DATE)"' \
           -DANONTEL_BUILD_EPOCH=$(BUILD_EPOCH)LL
INCS    := -Isrc -I$(BR)/inc -I$(JSMN) -I$(B)/gen

MUSLCC  := musl-gcc
SMALL   := -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
           -fno-unwind-tables -fno-stack-protector
LDSMALL := -static -s -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none

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

.PHONY: all units clean
all: $(B)/anontel
units: $(UNITS)

$(B)/anontel: $(MUSL_OBJS) $(BRB)/musl/libbearssl.a
	$(MUSLCC) $(LDSMALL) -o $@ $(MUSL_OBJS) $(BRB)/musl/libbearssl.a

$(B)/musl/src/%.o: src/%.c src/*.h $(GEN) VERSION
	@mkdir -p $(@D)
	$(MUSLCC) $(STD) $(WARN) $(SMALL) $(DEFS) $(INCS) -c -o $@ $<

$(BRB)/musl/br/%.o: $(BR)/%.c
	@mkdir -p $(@D)
	$(MUSLCC) -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
	  -fno-unwind-tables -I$(BR)/inc -I$(BR)/src -c -o $@ $<

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
$(B)/gen/roots.h: tools/mkroots.c $(HOSTBRB)/host/libbearssl.a $(CA_BUNDLE)
	@mkdir -p $(B)/gen $(B)/tools
	$(HOSTCC) $(STD) $(WARN) -O2 -I$(BR)/inc -o $(B)/tools/mkroots tools/mkroots.c $(HOSTBRB)/host/libbearssl.a
	$(B)/tools/mkroots $(CA_BUNDLE) > $@.tmp && mv $@.tmp $@

clean:
	rm -rf $(B)
