# tornado-prefork: plain make. Knobs: DEBUG=1 (-O0), ASAN=1 (ASan+UBSan, own build dir),
# POLLER=poll (the poll backend instead of epoll), PREFIX=... for install.
# `make` builds the library and examples; `make test` builds and runs every test.

PREFIX ?= /usr/local
POLLER ?= epoll
DEBUG ?= 0
ASAN ?= 0
CC ?= cc

ifeq ($(ASAN),1)
BUILD ?= build/asan
else ifeq ($(POLLER),poll)
BUILD ?= build/poll
else
BUILD ?= build
endif

WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
        -Wpointer-arith -fno-common
CFLAGS_ALL := -std=gnu11 -D_GNU_SOURCE -I. -Iinclude -fPIC -g $(WARN) \
              -I/usr/include/mariadb
# Debug builds (DEBUG=1, and ASAN=1 below) assert every lifetime transition; release builds
# compile the asserts out (NDEBUG).
ifeq ($(DEBUG),1)
CFLAGS_ALL += -O0
else ifeq ($(ASAN),1)
CFLAGS_ALL += -O2
else
CFLAGS_ALL += -O2 -DNDEBUG
endif
# Fixed flags, not pkg-config: this line is read before `deps` installs the packages.
LIBS := -lpcre2-8 -lz -lpthread -lm -ljansson -lssl -lcrypto -lhiredis -lcurl -lnghttp2 -lmariadb
ifeq ($(ASAN),1)
CFLAGS_ALL += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS_ALL := -fsanitize=address,undefined
else
LIBS += -ljemalloc
LDFLAGS_ALL :=
endif
CFLAGS_ALL += $(CFLAGS)
LDFLAGS_ALL += $(LDFLAGS)

# The layers, lowest first, and every module folder inside them (web/template, http/client...):
# a new folder's sources are picked up without touching this file.
LAYERS := platform core http web process
LIB_DIRS := $(sort $(shell find $(LAYERS) -type d))
LIB_SRC := $(filter-out platform/poller_%.c,$(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))) \
           platform/poller_$(POLLER).c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
EXAMPLES := hello wsecho
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/obj/%.o)
TEST_APPS := testapp staticapp routesapp diffapp wsapp proxyapp fake_idp auth_client

all: deps $(BUILD)/libtp.a $(BUILD)/libtp.so $(BUILD)/tornado-prefork \
     $(EXAMPLES:%=$(BUILD)/examples/%) $(EXAMPLES:%=$(BUILD)/examples/%.so) \
     $(BUILD)/examples/blog $(BUILD)/examples/blog.so \
     $(BUILD)/examples/chat $(BUILD)/examples/chat.so $(BUILD)/tools/tp-fetch

deps:
	@sh tools/deps.sh

# Rebuild everything when the flags change (redis's .make-settings idea).
$(BUILD)/.flags: FORCE | deps
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) $(LIBS) lib: $(LIB_VISIBILITY) app: $(APP_LDFLAGS)' | cmp -s - $@ || \
	  echo '$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) $(LIBS) lib: $(LIB_VISIBILITY) app: $(APP_LDFLAGS)' > $@

$(BUILD)/obj/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(VISIBILITY) -MMD -MP -c $< -o $@

# The library and the server are built with hidden symbols: only what platform/api.h's TP_API
# marks is exported (from libtp.so, and from tornado-prefork to the app.so files it loads).
# Apps keep the compiler's default, so their own globals never meet ours.
LIB_VISIBILITY := -fvisibility=hidden
# An app.so binds its own names to its own definitions first (-Bsymbolic): a global of the app
# named like something in the server's global scope (libc's or libm's log, say) stays the app's.
APP_LDFLAGS := -Wl,-Bsymbolic
$(LIB_OBJ) $(BUILD)/obj/tools/tornado_prefork.o $(BUILD)/obj/tools/new_project.o: \
  VISIBILITY := $(LIB_VISIBILITY)

$(BUILD)/libtp.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libtp.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LDFLAGS_ALL) $(LIBS)

# An app source builds two ways: a standalone program (with tools/app_main.c) and an app.so
# for the prefork server.
$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(BUILD)/obj/tools/app_main.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(filter %.o,$^) $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

$(BUILD)/examples/%.so: $(BUILD)/obj/examples/%.o
	@mkdir -p $(dir $@)
	$(CC) -shared $(APP_LDFLAGS) -o $@ $^ $(LDFLAGS_ALL)

$(BUILD)/tests/%: $(BUILD)/obj/tests/apps/%.o $(BUILD)/obj/tools/app_main.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(filter %.o,$^) $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

# Our WebSocket client against npm ws's echo server (tests/peers): a program of its own.
$(BUILD)/tests/wsclient_check: $(BUILD)/obj/tests/apps/wsclient_check.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

$(BUILD)/tests/unit: $(UNIT_OBJ) $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(UNIT_OBJ) $(BUILD)/libtp.a $(LDFLAGS_ALL) $(shell pkg-config --libs check) $(LIBS)

# The database suite (tests/database/run.py starts the private MariaDB server it runs against).
$(BUILD)/tests/database_check: $(BUILD)/obj/tests/database/test_database.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libtp.a $(LDFLAGS_ALL) $(shell pkg-config --libs check) $(LIBS)

test-build: all $(BUILD)/tests/unit $(TEST_APPS:%=$(BUILD)/tests/%) prefork-apps \
            $(BUILD)/tests/database_check \
            $(BUILD)/tests/wsclient_check $(BUILD)/tests/httpclient_check \
            $(BUILD)/tools/tp_locale $(BUILD)/tools/tp-template $(BUILD)/tools/tp-template-compile \
            $(BUILD)/tools/ws-load

# The whole suite: unit and loop tests, black-box tests of the HTTP server and of the prefork
# server, the fuzz corpus replay, then the same built with ASan+UBSan (the slow load tests
# left out, the browser suite of examples/chat in), then the poll backend's unit tests. Every step prints "suite NAME: N.N s"
# (tests/lib/timed.sh); the list is printed again at the end, with the wall-clock total.
# `make test-quick` is the edit-compile-test loop: the unit tests, then the quick black-box
# sets of the normal build, both at once (-j2, output kept per suite); README.md says how
# long each target takes.
TIMED = sh tests/lib/timed.sh
# The build a suite ran on, in its name: [build], [asan], [poll].
SUITE_TAG = [$(notdir $(BUILD))]
SUITE_TIMES_FILE := build/suite-times.txt
# Shell fragments: start the list and the clock; print both and pass the status on.
TIMES_START = mkdir -p build && : > $(SUITE_TIMES_FILE) && t0=$$(date +%s) && \
  export SUITE_TIMES=$(CURDIR)/$(SUITE_TIMES_FILE)
TIMES_END = rc=$$?; echo "make $@: durations"; cat $(SUITE_TIMES_FILE); \
  echo "wall clock: $$(( $$(date +%s) - t0 )) s"; \
  if [ $$rc = 0 ]; then echo "make $@: all suites passed"; else exit $$rc; fi

# The ASan build compiles (one core) while the normal build's suites run: those mostly wait on
# sockets and processes, so the second core is free for a compiler. "build [asan]" then times
# only what was left (a failed background build is run again there, in the foreground, with
# its errors). The ASan suites run alone: they are the slowest to answer under load.
test:
	@sh tools/deps.sh --test --node
	@$(TIMES_START); bg=; trap 'kill $$bg 2>/dev/null' EXIT; \
	  $(TIMED) "build [build]" $(MAKE) test-build && \
	  { $(MAKE) ASAN=1 test-build >build/asan-build.log 2>&1 & bg=$$!; } && \
	  $(MAKE) test-run && \
	  $(TIMED) "fuzz-replay (with its build)" $(MAKE) fuzz-replay && \
	  { wait $$bg; true; } && \
	  $(TIMED) "build [asan]" $(MAKE) ASAN=1 test-build && \
	  $(MAKE) ASAN=1 test-run BLACKBOX_QUICK=1 && \
	  $(TIMED) "build [poll]" $(MAKE) POLLER=poll test-build && \
	  $(MAKE) POLLER=poll test-unit; \
	  $(TIMES_END)

test-quick:
	@$(TIMES_START); \
	  $(TIMED) "build $(SUITE_TAG)" $(MAKE) test-build && \
	  $(TIMED) "unit $(SUITE_TAG)" env CK_DEFAULT_TIMEOUT=60 $(BUILD)/tests/unit && \
	  $(MAKE) -j2 --output-sync=target --no-print-directory quick-blackbox quick-prefork; \
	  $(TIMES_END)

quick-blackbox:
	@$(TIMED) "blackbox --quick $(SUITE_TAG)" \
	  python3 tests/blackbox/run.py --build=$(BUILD) --quick
quick-prefork:
	@$(TIMED) "prefork --quick $(SUITE_TAG)" \
	  python3 tests/prefork/run.py --build=$(BUILD) --quick

# The unit runner forks a child per test from one parent; under ASan the parent's freed memory
# sits in the quarantine (256 MB by default) and LeakSanitizer walks it again at every child's
# exit: 8 MB keeps the ASan unit run at about 80 s instead of 300 (leaks are still checked).
UNIT_ASAN_OPTIONS := ASAN_OPTIONS=$${ASAN_OPTIONS:+$$ASAN_OPTIONS:}quarantine_size_mb=8
test-unit: test-build
	$(TIMED) "unit $(SUITE_TAG)" env CK_DEFAULT_TIMEOUT=60 $(UNIT_ASAN_OPTIONS) $(BUILD)/tests/unit

test-run: test-unit
	$(TIMED) "blackbox$(if $(BLACKBOX_QUICK), --quick) $(SUITE_TAG)" \
	  python3 tests/blackbox/run.py --build=$(BUILD) $(if $(BLACKBOX_QUICK),--quick)
	$(TIMED) "prefork$(if $(BLACKBOX_QUICK), --quick) $(SUITE_TAG)" \
	  python3 tests/prefork/run.py --build=$(BUILD) $(if $(BLACKBOX_QUICK),--quick)
	$(TIMED) "diff $(SUITE_TAG)" python3 tests/diff/run.py --build=$(BUILD)
	$(TIMED) "locale $(SUITE_TAG)" python3 tests/locale/run.py --build=$(BUILD)
	$(TIMED) "template $(SUITE_TAG)" python3 tests/template/run.py --build=$(BUILD)
	$(TIMED) "peers$(if $(BLACKBOX_QUICK), --quick) $(SUITE_TAG)" \
	  python3 tests/peers/run.py --build=$(BUILD) $(if $(BLACKBOX_QUICK),--quick)
	$(if $(BLACKBOX_QUICK),,$(TIMED) "browser $(SUITE_TAG)" node tests/browser/run.js --build=$(BUILD))
	$(TIMED) "browser-blog $(SUITE_TAG)" node tests/browser/blog.js --build=$(BUILD)
	$(TIMED) "httpclient $(SUITE_TAG)" python3 tests/httpclient/run.py --build=$(BUILD)
	$(TIMED) "database $(SUITE_TAG)" python3 tests/database/run.py --build=$(BUILD)

# The WebSocket peer tests alone (python3-websockets, npm ws; tests/peers/run.py).
peers-test: all $(BUILD)/tests/wsclient_check
	@sh tools/deps.sh --test --node
	python3 tests/peers/run.py --build=$(BUILD)

# The browser suites alone (examples/chat and examples/blog in headless Chromium): `make test-browser`.
test-browser: all $(BUILD)/tests/fake_idp
	@sh tools/deps.sh --test --node
	@$(TIMED) "browser $(SUITE_TAG)" node tests/browser/run.js --build=$(BUILD)
	@$(TIMED) "browser-blog $(SUITE_TAG)" node tests/browser/blog.js --build=$(BUILD)

# libFuzzer target for the request parser (clang). `make fuzz` fuzzes for FUZZ_SECONDS and
# grows the corpus; `make fuzz-replay` (part of make test) replays the corpus once.
FUZZ_SECONDS ?= 60
# Every libFuzzer target is built alike (ASan+UBSan, a UB report stops the run) and fuzzed
# alike: $(call fuzz_run,BIN,CORPUS,FLAGS) grows CORPUS-new from CORPUS for FUZZ_SECONDS.
FUZZ_CC = clang -std=gnu11 -D_GNU_SOURCE -I. -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined
fuzz_run = @mkdir -p $(2)-new && $(1) -max_total_time=$(FUZZ_SECONDS) $(3) $(2)-new $(2)
FUZZ_BIN := build/fuzz/parser_fuzz
# tornado.escape (query decoding uses its url_unescape) with what it needs.
ESCAPE_SRC := core/escape.c core/escape_entities.c core/utf8.c
FUZZ_SRC := tests/fuzz/parser_fuzz.c http/parser.c http/query.c http/date.c core/arena.c core/alloc.c core/buf.c \
            $(ESCAPE_SRC)
$(FUZZ_BIN): $(FUZZ_SRC) $(wildcard http/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $(FUZZ_SRC) -lpcre2-8 -lz -ljansson -lpthread -lm

fuzz: $(FUZZ_BIN)
	$(call fuzz_run,$(FUZZ_BIN),tests/fuzz/corpus,-max_len=4096)

fuzz-replay: $(FUZZ_BIN)
	$(FUZZ_BIN) -runs=0 tests/fuzz/corpus
	$(MAKE) form-fuzz-replay
	$(MAKE) template-fuzz-replay
	$(MAKE) ws-frame-fuzz-replay
	$(MAKE) ws-inflate-fuzz-replay
	$(MAKE) proxy-protocol-fuzz-replay
	$(MAKE) h2-fuzz-replay

HEADERS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.h))
# The library, its headers (include/tp.h and include/tp_testing.h at the top of include/tp/),
# tp.pc, and the tornado-prefork command (with `new`'s project template inside).
install: all
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/tp $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/libtp.a $(BUILD)/libtp.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/tornado-prefork $(DESTDIR)$(PREFIX)/bin/
	for h in include/tp.h include/tp_testing.h $(HEADERS); do \
	  install -D -m 644 $$h $(DESTDIR)$(PREFIX)/include/tp/$${h#include/}; done
	sed -e 's#@PREFIX@#$(PREFIX)#' tools/tp.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/tp.pc

FORMAT_SRC := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.[ch])) $(wildcard include/*.h \
              examples/*.c examples/blog/*.[ch] examples/chat/*.c tools/*.c tools/new/*.c tests/unit/*.[ch] tests/database/*.c tests/apps/*.c \
              tests/fuzz/*.c)
# Format, and the layering of DESIGN.md §1: no file includes a header of a higher layer.
check:
	clang-format --dry-run --Werror $(FORMAT_SRC)
	sh tools/check-layers.sh $(LAYERS)

format:
	clang-format -i $(FORMAT_SRC)

clean:
	rm -rf build

.PHONY: all deps test test-quick quick-blackbox quick-prefork test-build test-run test-unit peers-test test-browser fuzz fuzz-replay install check format clean FORCE
-include $(shell find $(BUILD)/obj $(BUILD)/tests/prefork -name '*.d' 2>/dev/null)
.SECONDARY:

# The prefork tests' apps: two good versions and the broken variants of §9.9 row 6.
PREFORK_APPS := app_v1 app_v2 broken_no_symbol broken_abi broken_init_fails \
                broken_init_crashes broken_init_hangs
$(BUILD)/tests/prefork/app_v1.so: APP_DEFS := -DAPP_VERSION='"v1"'
$(BUILD)/tests/prefork/app_v2.so: APP_DEFS := -DAPP_VERSION='"v2"'
$(BUILD)/tests/prefork/broken_no_symbol.so: APP_DEFS := -DBROKEN_NO_SYMBOL
$(BUILD)/tests/prefork/broken_abi.so: APP_DEFS := -DBROKEN_ABI
$(BUILD)/tests/prefork/broken_init_fails.so: APP_DEFS := -DBROKEN_INIT_FAILS
$(BUILD)/tests/prefork/broken_init_crashes.so: APP_DEFS := -DBROKEN_INIT_CRASHES
$(BUILD)/tests/prefork/broken_init_hangs.so: APP_DEFS := -DBROKEN_INIT_HANGS
$(BUILD)/tests/prefork/%.so: tests/apps/prefork_app.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(APP_DEFS) -MMD -MP -MF $@.d -shared $(APP_LDFLAGS) -o $@ $< $(LDFLAGS_ALL)
$(BUILD)/tests/prefork/not_elf.so:
	@mkdir -p $(dir $@)
	printf 'not an ELF' > $@
# An app whose globals are named like the server's state (M, W, L, A, loop; the log variant adds
# log), built like a user's app: default visibility, no -fvisibility=hidden.
GLOBALS_APPS := globals_app globals_log_app
$(BUILD)/tests/prefork/globals_log_app.so: APP_DEFS := -DWITH_LOG_GLOBAL
$(GLOBALS_APPS:%=$(BUILD)/tests/prefork/%.so): tests/apps/globals_app.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(APP_DEFS) -MMD -MP -MF $@.d -shared $(APP_LDFLAGS) -o $@ $< $(LDFLAGS_ALL)
# The pubsub tests' app (tests/prefork/test_pubsub.py).
$(BUILD)/tests/prefork/pubsub_app.so: tests/apps/pubsub_app.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -MF $@.d -shared $(APP_LDFLAGS) -o $@ $< $(LDFLAGS_ALL)
# The WebSocket echo example, for the drain tests.
$(BUILD)/tests/prefork/wsecho.so: $(BUILD)/examples/wsecho.so
	@mkdir -p $(dir $@)
	cp $< $@
prefork-apps: $(PREFORK_APPS:%=$(BUILD)/tests/prefork/%.so) $(BUILD)/tests/prefork/not_elf.so \
              $(GLOBALS_APPS:%=$(BUILD)/tests/prefork/%.so) $(BUILD)/tests/prefork/wsecho.so \
              $(BUILD)/tests/prefork/pubsub_app.so

# The prefork server. It exports libtp's symbols (whole archive, -rdynamic) so that an app.so
# links against the server's own copy when dlopened.
# `tornado-prefork new` carries its project template (tools/new/) in the binary.
PREFORK_OBJ := $(BUILD)/obj/tools/tornado_prefork.o $(BUILD)/obj/tools/new_project.o \
               $(BUILD)/obj/gen/new_files.o
$(BUILD)/tornado-prefork: $(PREFORK_OBJ) $(BUILD)/libtp.a
	$(CC) -rdynamic -o $@ $(PREFORK_OBJ) -Wl,--whole-archive $(BUILD)/libtp.a -Wl,--no-whole-archive \
	  $(LDFLAGS_ALL) $(LIBS) -ldl
$(BUILD)/gen/new_files.c: tools/embed-new.sh $(shell find tools/new -type f)
	@mkdir -p $(dir $@)
	sh tools/embed-new.sh tools/new > $@.tmp && mv $@.tmp $@
$(BUILD)/obj/gen/new_files.o: $(BUILD)/gen/new_files.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LIB_VISIBILITY) -c $< -o $@

# tornado.locale (web/locale/): tools/tp_locale runs web/locale/locale.h calls read as JSON lines;
# tests/locale/run.py feeds it the same calls as Debian's python3-tornado and compares.
$(BUILD)/tools/tp_locale: $(BUILD)/obj/tools/tp_locale.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

# ws-load: the WebSocket load generator of tools/bench-ws.sh (libc and libcrypto only).
$(BUILD)/tools/ws-load: $(BUILD)/obj/tools/ws_load.o $(BUILD)/obj/tools/ws_load_util.o
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS_ALL) -lcrypto

locale-test: $(BUILD)/tools/tp_locale
	python3 tests/locale/run.py --build=$(BUILD)

.PHONY: locale-test

# libFuzzer target for the request body forms (http/form.c): `make form-fuzz` fuzzes for
# FUZZ_SECONDS and grows tests/fuzz/form_corpus; `make form-fuzz-replay` replays it once.
FORM_FUZZ_BIN := build/fuzz/form_fuzz
FORM_FUZZ_SRC := tests/fuzz/form_fuzz.c http/form.c http/form_params.c http/query.c http/parser.c core/arena.c \
                 core/alloc.c core/buf.c $(ESCAPE_SRC)
$(FORM_FUZZ_BIN): $(FORM_FUZZ_SRC) $(wildcard http/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $(FORM_FUZZ_SRC) -lpcre2-8 -ljansson -lpthread -lm

form-fuzz: $(FORM_FUZZ_BIN)
	$(call fuzz_run,$(FORM_FUZZ_BIN),tests/fuzz/form_corpus,-max_len=8192)

form-fuzz-replay: $(FORM_FUZZ_BIN)
	$(FORM_FUZZ_BIN) -runs=0 tests/fuzz/form_corpus

.PHONY: form-fuzz form-fuzz-replay

# bench-pubsub (docs/pubsub.md): the master relay (the real code) against a prototype of
# direct worker-to-worker datagram sockets; `make bench-pubsub` runs both with 2 and 4 workers.
$(BUILD)/tools/bench-pubsub: $(BUILD)/obj/tools/bench_pubsub.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)
$(BUILD)/obj/tools/bench_pubsub.o: VISIBILITY := $(LIB_VISIBILITY)

bench-pubsub: $(BUILD)/tools/bench-pubsub
	for n in 2 4; do for mode in relay mesh; do $(BUILD)/tools/bench-pubsub $$mode $$n 50000 1024; \
	  done; done

.PHONY: bench-pubsub

# libFuzzer target for permessage-deflate (http/websocket/deflate.c): `make ws-inflate-fuzz`
# fuzzes for FUZZ_SECONDS and grows tests/fuzz/ws_inflate_corpus; `make ws-inflate-fuzz-replay`
# replays it once.
WS_INFLATE_FUZZ_BIN := build/fuzz/ws_inflate_fuzz
WS_INFLATE_FUZZ_SRC := tests/fuzz/ws_inflate_fuzz.c http/websocket/deflate.c http/parser.c core/alloc.c \
                       core/buf.c
$(WS_INFLATE_FUZZ_BIN): $(WS_INFLATE_FUZZ_SRC) $(wildcard http/*.h http/websocket/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $(WS_INFLATE_FUZZ_SRC) -lz -lpthread -lm

ws-inflate-fuzz: $(WS_INFLATE_FUZZ_BIN)
	$(call fuzz_run,$(WS_INFLATE_FUZZ_BIN),tests/fuzz/ws_inflate_corpus,-max_len=4096)

ws-inflate-fuzz-replay: $(WS_INFLATE_FUZZ_BIN)
	$(WS_INFLATE_FUZZ_BIN) -runs=0 tests/fuzz/ws_inflate_corpus

.PHONY: ws-inflate-fuzz ws-inflate-fuzz-replay

# examples/blog (issue 15): Tornado's blog demo on MariaDB, libcmark and ICU, built like the
# single-file examples as a program and as an app.so (`make blog`). Its templates/, static/
# and schema.sql are looked up under $BLOG_DIR at run time, else under BLOG_DIR given here.
BLOG_SRC := $(wildcard examples/blog/*.c)
BLOG_OBJ := $(BLOG_SRC:%.c=$(BUILD)/obj/%.o)
BLOG_DIR ?= $(abspath examples/blog)
BLOG_LIBS := -lcmark -licuuc
$(BUILD)/obj/examples/blog/%.o: examples/blog/%.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DBLOG_DIR='"$(BLOG_DIR)"' -MMD -MP -c $< -o $@

$(BUILD)/examples/blog: $(BLOG_OBJ) $(BUILD)/obj/tools/app_main.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(filter %.o,$^) $(BUILD)/libtp.a $(LDFLAGS_ALL) $(BLOG_LIBS) $(LIBS)

$(BUILD)/examples/blog.so: $(BLOG_OBJ)
	@mkdir -p $(dir $@)
	$(CC) -shared $(APP_LDFLAGS) -o $@ $^ $(LDFLAGS_ALL) $(BLOG_LIBS)

blog: $(BUILD)/examples/blog.so $(BUILD)/examples/blog

.PHONY: blog

# examples/chat: Tornado's WebSocket chat demo over pub/sub, a program and an app.so (`make
# chat`). Its templates/ and static/ are looked up under $CHAT_DIR at run time, else under
# CHAT_DIR given here (default: this tree's copy), so it runs from any directory.
CHAT_DIR ?= $(abspath examples/chat)
$(BUILD)/obj/examples/chat/chat.o: examples/chat/chat.c $(BUILD)/.flags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -DCHAT_DIR='"$(CHAT_DIR)"' -MMD -MP -c $< -o $@

$(BUILD)/examples/chat: $(BUILD)/obj/examples/chat/chat.o $(BUILD)/obj/tools/app_main.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(filter %.o,$^) $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

$(BUILD)/examples/chat.so: $(BUILD)/obj/examples/chat/chat.o
	@mkdir -p $(dir $@)
	$(CC) -shared $(APP_LDFLAGS) -o $@ $^ $(LDFLAGS_ALL)

chat: $(BUILD)/examples/chat.so $(BUILD)/examples/chat

.PHONY: chat

# ---- tornado.template in C (web/template/): tools, tests, fuzzing --------------------------
# template-tools: the tp-template CLI and the build-time compiler tp-template-compile.
# template-test: the unit suite "template" and the differential suite against python3-tornado.
# template-fuzz / template-fuzz-replay: libFuzzer target for the parser, linker and renderer.
$(BUILD)/tools/tp-template: $(BUILD)/obj/tools/tp_template.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

$(BUILD)/tools/tp-template-compile: $(BUILD)/obj/tools/template_compile.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

template-tools: $(BUILD)/tools/tp-template $(BUILD)/tools/tp-template-compile

template-test: template-tools $(BUILD)/tests/unit
	CK_RUN_SUITE=template CK_DEFAULT_TIMEOUT=20 $(BUILD)/tests/unit
	python3 tests/template/run.py --build=$(BUILD)

TEMPLATE_FUZZ_BIN := build/fuzz/template_fuzz
TEMPLATE_FUZZ_SRC := tests/fuzz/template_fuzz.c $(wildcard web/template/*.c) $(ESCAPE_SRC) core/pyfmt.c \
                     http/query.c core/arena.c core/alloc.c core/buf.c
$(TEMPLATE_FUZZ_BIN): $(TEMPLATE_FUZZ_SRC) $(wildcard web/template/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -DTPL_MAX_STEPS=20000 -o $@ $(TEMPLATE_FUZZ_SRC) -lpcre2-8 -ljansson -lm

template-fuzz: $(TEMPLATE_FUZZ_BIN)
	$(call fuzz_run,$(TEMPLATE_FUZZ_BIN),tests/fuzz/template_corpus,-max_len=2048 -timeout=10 -rss_limit_mb=1024)

template-fuzz-replay: $(TEMPLATE_FUZZ_BIN)
	$(TEMPLATE_FUZZ_BIN) -runs=0 tests/fuzz/template_corpus

.PHONY: template-tools template-test template-fuzz template-fuzz-replay

# libFuzzer target for the WebSocket frame reader and the permessage-deflate inflater
# (http/websocket/): a tp_ws over a socketpair fed the input (tests/fuzz/ws_frame_fuzz.c says
# how its first two bytes choose the side and the options). `make ws-frame-fuzz` fuzzes for
# FUZZ_SECONDS and grows tests/fuzz/ws_frame_corpus; `make ws-frame-fuzz-replay` replays it.
WS_FUZZ_BIN := build/fuzz/ws_frame_fuzz
WS_FUZZ_SRC := tests/fuzz/ws_frame_fuzz.c http/websocket/conn.c http/websocket/frame.c \
               http/websocket/deflate.c core/stream.c core/chain.c core/loop.c core/timer.c \
               core/signal.c platform/poller_epoll.c core/alloc.c core/buf.c core/log.c core/log_file.c \
               core/arena.c http/parser.c http/date.c $(ESCAPE_SRC) http/query.c
$(WS_FUZZ_BIN): $(WS_FUZZ_SRC) $(wildcard http/websocket/*.h http/*.h core/*.h platform/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $(WS_FUZZ_SRC) -lpcre2-8 -lz -lcrypto -ljansson -lpthread -lm

ws-frame-fuzz: $(WS_FUZZ_BIN)
	$(call fuzz_run,$(WS_FUZZ_BIN),tests/fuzz/ws_frame_corpus,-max_len=4096 -timeout=60 -rss_limit_mb=1024)

ws-frame-fuzz-replay: $(WS_FUZZ_BIN)
	$(WS_FUZZ_BIN) -runs=0 tests/fuzz/ws_frame_corpus

.PHONY: ws-frame-fuzz ws-frame-fuzz-replay

# libFuzzer target for the HTTP/2 input path (http/h2/ through nghttp2's callbacks into the
# request building, tests/fuzz/h2_fuzz.c). `make h2-fuzz` fuzzes for FUZZ_SECONDS and grows
# tests/fuzz/h2_corpus; `make h2-fuzz-replay` (part of fuzz-replay) replays it once.
H2_FUZZ_BIN := build/fuzz/h2_fuzz
H2_FUZZ_SRC := tests/fuzz/h2_fuzz.c $(filter-out http/client/% http/websocket/%,\
               $(filter platform/% core/% http/%,$(LIB_SRC)))
$(H2_FUZZ_BIN): $(H2_FUZZ_SRC) $(wildcard http/h2/*.h http/*.h core/*.h platform/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $(H2_FUZZ_SRC) -lpcre2-8 -lz -lssl -lcrypto -ljansson -lnghttp2 -lpthread -lm

h2-fuzz: $(H2_FUZZ_BIN)
	$(call fuzz_run,$(H2_FUZZ_BIN),tests/fuzz/h2_corpus,-max_len=8192 -timeout=60 -rss_limit_mb=1024)

h2-fuzz-replay: $(H2_FUZZ_BIN)
	$(H2_FUZZ_BIN) -runs=0 tests/fuzz/h2_corpus

.PHONY: h2-fuzz h2-fuzz-replay

# ---- tornado.httpclient in C (http/client/): tp-fetch (python3 -m tornado.httpclient), the
# client test program driven by tests/httpclient/run.py, and the client benchmark.
$(BUILD)/tools/tp-fetch: $(BUILD)/obj/tools/tp_fetch.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

$(BUILD)/tests/httpclient_check: $(BUILD)/obj/tests/apps/httpclient_check.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

httpclient-test: all $(BUILD)/tests/httpclient_check $(BUILD)/tests/testapp
	@sh tools/deps.sh --test
	python3 tests/httpclient/run.py --build=$(BUILD)

.PHONY: httpclient-test

$(BUILD)/tools/bench-client: $(BUILD)/obj/tools/bench_client.o $(BUILD)/libtp.a
	@mkdir -p $(dir $@)
	$(CC) -o $@ $< $(BUILD)/libtp.a $(LDFLAGS_ALL) $(LIBS)

# docs/benchmarks.md "HTTP client": our client against Tornado's two, nginx as the server.
bench-client: $(BUILD)/tools/bench-client
	@sh tools/deps.sh --bench
	BUILD=$(BUILD) sh tools/bench-client.sh

.PHONY: bench-client

# libFuzzer target for the PROXY protocol parser (http/proxy_protocol.c): `make
# proxy-protocol-fuzz` fuzzes for FUZZ_SECONDS and grows tests/fuzz/proxy_protocol_corpus;
# `make proxy-protocol-fuzz-replay` (part of fuzz-replay) replays it once.
PP_FUZZ_BIN := build/fuzz/proxy_protocol_fuzz
PP_FUZZ_SRC := tests/fuzz/proxy_protocol_fuzz.c http/proxy_protocol.c
$(PP_FUZZ_BIN): $(PP_FUZZ_SRC) $(wildcard http/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -o $@ $(PP_FUZZ_SRC)

proxy-protocol-fuzz: $(PP_FUZZ_BIN)
	$(call fuzz_run,$(PP_FUZZ_BIN),tests/fuzz/proxy_protocol_corpus,-max_len=4096)

proxy-protocol-fuzz-replay: $(PP_FUZZ_BIN)
	$(PP_FUZZ_BIN) -runs=0 tests/fuzz/proxy_protocol_corpus

.PHONY: proxy-protocol-fuzz proxy-protocol-fuzz-replay
