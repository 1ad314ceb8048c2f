# pg_hygiene: PGXS build and test entry points.
#
#   make && make install          build and install into the pg_config found first
#   make installcheck             every test kind, each against its own temporary instance
#   make regresscheck | isolationcheck | tapcheck   one kind only
#   make dist                     pg_hygiene-X.Y.Z.zip for PGXN (git archive of HEAD)
#
# Out-of-tree (VPATH) builds work as Debian's pg_buildext runs them:
#   make -C build-15 -f ../Makefile VPATH=.. [USE_PGXS=1]
# Every file list below is globbed in $(srcdir) and kept relative to it.
#
# PGXS has no "make check" for out-of-tree modules; every kind runs against a temporary
# instance started with test/regress.conf (pg_hygiene preloaded), so the running server
# (if any) is never touched.  scripts/test.sh wraps this for a fresh machine.

MODULE_big = pg_hygiene
# Every src/*.c is one concern; see src/pg_hygiene.h.
OBJS = $(patsubst $(srcdir)/%.c,%.o,$(sort $(wildcard $(srcdir)/src/*.c)))

EXTENSION = pg_hygiene
DATA = $(patsubst $(srcdir)/%,%,$(sort $(wildcard $(srcdir)/pg_hygiene--*.sql)))
# README.md, docs/*.md and the postgresql.conf template, installed under
# $(docdir)/extension/pg_hygiene/ (see below).
DOCS = README.md $(patsubst $(srcdir)/%,%,$(sort $(wildcard $(srcdir)/docs/*.md))) \
	docs/postgresql.conf.pg_hygiene
PGFILEDESC = "pg_hygiene - guard rails for a busy PostgreSQL primary"

PG_CPPFLAGS = -I$(srcdir)/src

# pg_regress: one topic per file, each independent of the others.
REGRESS = $(patsubst $(srcdir)/sql/%.sql,%,$(sort $(wildcard $(srcdir)/sql/*.sql)))
REGRESS_OPTS = --temp-instance=tmp_check_regress --temp-config=$(srcdir)/test/regress.conf \
	--load-extension=pg_hygiene

# isolation specs live in test/specs, their expected output in test/expected.
ISOLATION = $(patsubst $(srcdir)/test/specs/%.spec,%,$(sort $(wildcard $(srcdir)/test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=$(srcdir)/test --temp-instance=tmp_check_iso \
	--temp-config=$(srcdir)/test/regress.conf --load-extension=pg_hygiene

TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

EXTRA_CLEAN = tmp_check_regress tmp_check_iso output_iso results regression.diffs regression.out \
	pg_hygiene-*.zip

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# DOCS go flat into $(docdir)/$(docmoduledir); give them their own directory so that
# README.md and the feature docs cannot collide with another extension's files.
docmoduledir := extension/pg_hygiene
# PGXS removes $(DOCS) with their docs/ prefix, which the flat install does not have.
ifdef docdir
uninstall: uninstall-pg_hygiene-docs
.PHONY: uninstall-pg_hygiene-docs
uninstall-pg_hygiene-docs:
	rm -rf '$(DESTDIR)$(docdir)/$(docmoduledir)'
endif

# In an out-of-tree build the objects go to src/ of the build directory.
ifneq ($(srcdir),.)
$(shell mkdir -p src)
endif

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

# PGXN distribution: HEAD as pg_hygiene-X.Y.Z.zip, X.Y.Z from the control file's
# default_version, with META.json at the root (files marked export-ignore in
# .gitattributes are left out).  META.json must carry the same version.
DIST_VERSION := $(shell sed -n "s/^default_version *= *'\([0-9]*\.[0-9]*\)'.*/\1.0/p" $(srcdir)/pg_hygiene.control)
.PHONY: dist
dist:
	@test -n '$(DIST_VERSION)' || { echo 'no default_version in pg_hygiene.control' >&2; exit 1; }
	@perl -MJSON::PP -0777 -ne '$$v = decode_json($$_)->{version}; die "META.json version $$v is not $(DIST_VERSION)\n" if $$v ne "$(DIST_VERSION)"' $(srcdir)/META.json
	git -C $(srcdir) archive --format=zip --prefix=pg_hygiene-$(DIST_VERSION)/ \
		-o '$(CURDIR)/pg_hygiene-$(DIST_VERSION).zip' HEAD
