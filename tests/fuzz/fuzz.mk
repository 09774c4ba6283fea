# Fuzz targets (libFuzzer, clang, ASan + UBSan). Run from the top of the tree:
#
#   make -f tests/fuzz/fuzz.mk            builds build/fuzz/fuzz_<target> for every
#                                         tests/fuzz/fuzz_<target>.c
#   tests/fuzz/run.sh smoke|long          builds (this file) and runs them
#
# The project's modules (src/*.c but main.c) are compiled with clang, sanitizers and
# libFuzzer's coverage instrumentation into one archive, so a target links only the
# modules it calls. BearSSL is compiled with clang too, plainly (-O2, no sanitizer,
# no coverage), as the unit tests' host build does: it is the oracle of the pem
# target and the TLS engine tls.c links against, not a thing fuzzed here.
# Needs: clang (14), and libclang-rt-14-dev on Debian 12 (libFuzzer's runtime is
# only "recommended" by clang-14's dependencies).

CLANG   ?= clang
BR      := third_party/bearssl
JSMN    := third_party/jsmn
FB      := build/fuzz
VERSION := $(shell cat VERSION)
BUILD_DATE ?= $(shell date -u +%Y-%m-%d)
BUILD_EPOCH ?= $(shell date -u -d "$(BUILD_DATE)" +%s)

STD     := -std=c11 -D_DEFAULT_SOURCE
DEFS    := -DANONTEL_VERSION='"$(VERSION)"' -DANONTEL_BUILD_DATE='"$(BUILD_DATE)"' \
           -DANONTEL_BUILD_EPOCH=$(BUILD_EPOCH)LL
INCS    := -Isrc -I$(BR)/inc -I$(JSMN) -Ibuild/gen
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# src/: instrumented for coverage (fuzzer-no-link), checked by ASan + UBSan.
LIBFLAGS := -g -O1 $(SAN) -fsanitize=fuzzer-no-link
# The harnesses themselves are held to -Werror; src/ is built with the project's own
# compiler flags elsewhere, so clang-only warnings there must not stop fuzzing.
# They are compiled without coverage instrumentation: their loops and reference
# parsers would cost more than the code under test and steer the fuzzer towards the
# harness; the link adds libFuzzer (-fsanitize=fuzzer).
FZFLAGS := -g -O1 $(SAN) -Wall -Wextra -Werror
FZLINK  := -g $(SAN) -fsanitize=fuzzer

LIB_SRCS := $(filter-out src/main.c,$(sort $(wildcard src/*.c)))
BR_SRCS  := $(sort $(wildcard $(BR)/src/*/*.c))
TARGETS  := $(patsubst tests/fuzz/%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(FB)/obj/%.o)
BR_OBJS  := $(BR_SRCS:$(BR)/%.c=$(FB)/br/%.o)

.PHONY: all clean-fuzz
all: $(TARGETS:%=$(FB)/%)

build/gen/roots.h:
	$(MAKE) -s -f Makefile build/gen/roots.h

$(FB)/obj/src/%.o: src/%.c src/*.h build/gen/roots.h VERSION
	@mkdir -p $(@D)
	$(CLANG) $(STD) -Wall -Wextra $(LIBFLAGS) $(DEFS) $(INCS) -c -o $@ $<

$(FB)/br/%.o: $(BR)/%.c
	@mkdir -p $(@D)
	$(CLANG) -O2 -g -I$(BR)/inc -I$(BR)/src -c -o $@ $<

$(FB)/libanontel.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FB)/libbearssl.a: $(BR_OBJS)
	rm -f $@ && ar rcs $@ $^

$(TARGETS:%=$(FB)/harness/%.o): $(FB)/harness/%.o: tests/fuzz/%.c tests/fuzz/fuzz_util.h src/*.h \
  build/gen/roots.h VERSION
	@mkdir -p $(@D)
	$(CLANG) $(STD) $(FZFLAGS) $(DEFS) $(INCS) -Itests/fuzz -c -o $@ $<

$(TARGETS:%=$(FB)/%): $(FB)/%: $(FB)/harness/%.o $(FB)/libanontel.a $(FB)/libbearssl.a
	$(CLANG) $(FZLINK) -o $@ $< $(FB)/libanontel.a $(FB)/libbearssl.a

clean-fuzz:
	rm -rf $(FB)
