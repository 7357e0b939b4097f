# tests/fuzz/fuzz.mk: the libFuzzer targets, one per untrusted input (see
# tests/fuzz/README.md).  A plain GNU make file beside the autotools build,
# because the targets need clang and its sanitizers while chorusd builds with
# whatever cc configure finds:
#
#   make -f tests/fuzz/fuzz.mk SRC=. OUT=build/fuzz [TARGETS="seal text"]
#
# The project sources a target needs are compiled with the same defines and
# pkg-config flags as Makefile.am's, plus coverage instrumentation, into one
# archive: each target links only the members it uses.  bench/fuzz.sh and
# contrib/test.sh call this.
SRC ?= .
OUT ?= fuzz-build
# absolute, so that the dependency files name the objects one way whoever
# calls (a relative OUT once wrote .d files an absolute one never matched:
# objects were not rebuilt when a header changed)
override OUT := $(abspath $(OUT))
CC = clang
MSGPACK_PC := $(shell pkg-config --exists msgpack && echo msgpack || echo msgpack-c)
PKGS = libh2o-evloop libssl libcrypto jansson $(MSGPACK_PC)
SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
CPPFLAGS = -I$(SRC)/src -D_GNU_SOURCE -DH2O_USE_LIBUV=0 $(shell pkg-config --cflags $(PKGS))
CFLAGS = -g -O1 -std=gnu11 -Wall -Wextra -fno-omit-frame-pointer $(SAN)
LIBS = $(shell pkg-config --libs $(PKGS)) -lpthread

ALL_TARGETS = ws_frame msgpack_bounds events swim_wire link_wire seal config route_match text
TARGETS ?= $(ALL_TARGETS)

# the parsers under test and what they call: pure code, no loop, no database
SOURCES = src/ws/frame.c src/core/msgpack_bounds.c src/core/events.c src/core/id.c \
	src/cluster/swim_wire.c src/cluster/link_wire.c src/cluster/frame.c src/cluster/seal.c \
	src/cluster/config_digest.c src/core/config.c src/core/config_schema.c \
	src/api/route_match.c src/core/text.c
OBJECTS = $(patsubst src/%.c,$(OUT)/obj/%.o,$(SOURCES))

all: $(addprefix $(OUT)/,$(TARGETS))

$(OUT)/obj/%.o: $(SRC)/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(OUT)/libparsers.a: $(OBJECTS)
	rm -f $@
	ar cr $@ $^

$(OUT)/%: $(SRC)/tests/fuzz/%.c $(OUT)/libparsers.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(OUT)/libparsers.a $(LIBS)

# The seed corpora (tests/fuzz/corpus), rewritten from the encoders by
# seeds.c and the config files of the tree; the generator is built plain
# (the archive's objects carry coverage hooks it must resolve, hence
# -fsanitize=fuzzer-no-link on the link too).
seeds: $(OUT)/seeds
	mkdir -p $(SRC)/tests/fuzz/corpus
	$(OUT)/seeds $(SRC)/tests/fuzz/corpus
	mkdir -p $(SRC)/tests/fuzz/corpus/config
	cp $(SRC)/etc/config.json $(SRC)/tests/fuzz/corpus/config/etc_config.json
	for f in $(SRC)/tests/fixtures/*.json; do cp "$$f" $(SRC)/tests/fuzz/corpus/config/fixture_$$(basename "$$f"); done

$(OUT)/seeds: $(SRC)/tests/fuzz/seeds.c $(OUT)/libparsers.a
	$(CC) $(CPPFLAGS) $(CFLAGS) -fsanitize=fuzzer-no-link -o $@ $< $(OUT)/libparsers.a $(LIBS)

-include $(OBJECTS:.o=.d) $(addprefix $(OUT)/,$(ALL_TARGETS:=.d))

.PHONY: all seeds
.DELETE_ON_ERROR:
