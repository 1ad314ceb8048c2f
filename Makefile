# pg_hygiene: PGXS build and test entry points.
#
#   make && make install          build and install into the pg_config found first
#   make installcheck             every test kind, each against its own temporary instance
#   make regresscheck | isolationcheck | tapcheck   one kind only
#
# PGXS has no "make check" for out-of-tree modules; every kind runs against a temporary
# instance started with test/regress.conf (pg_hygiene preloaded), so the running server
# (if any) is never touched.  scripts/test.sh wraps this for a fresh machine.

MODULE_big = pg_hygiene
# Every src/*.c is one concern; see src/pg_hygiene.h.
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))

EXTENSION = pg_hygiene
DATA = $(sort $(wildcard pg_hygiene--*.sql))
PGFILEDESC = "pg_hygiene - guard rails for a busy PostgreSQL primary"

PG_CPPFLAGS = -I$(srcdir)/src

# pg_regress: one topic per file, each independent of the others.
REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --temp-instance=tmp_check_regress --temp-config=$(srcdir)/test/regress.conf \
	--load-extension=pg_hygiene

# isolation specs live in test/specs, their expected output in test/expected.
ISOLATION = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=$(srcdir)/test --temp-instance=tmp_check_iso \
	--temp-config=$(srcdir)/test/regress.conf --load-extension=pg_hygiene

TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

EXTRA_CLEAN = tmp_check_regress tmp_check_iso output_iso results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS tracks no header dependencies (without --enable-depend): rebuild on any header change.
$(OBJS): $(wildcard $(srcdir)/src/*.h)

# The three kinds as separate targets, so that one failing kind does not hide the others.
.PHONY: regresscheck isolationcheck tapcheck
regresscheck:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
isolationcheck:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
tapcheck:
	$(prove_installcheck)
