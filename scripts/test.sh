#!/usr/bin/env bash
# Run every pg_hygiene test kind (pg_regress, isolation specs, TAP) against temporary
# instances with pg_hygiene preloaded, and end with "N passed, M failed".
#
#   bash scripts/test.sh            all kinds
#   bash scripts/test.sh regress    one kind: regress | isolation | tap | package
#
# The kind "package" (scripts/package-test.sh: build the Debian package, install it into
# the system PostgreSQL tree, create, update and drop the extension, purge it) runs only
# as root; otherwise it is skipped, and said so.
#
# Works as root (installs what is missing, runs the servers as an unprivileged user) and
# as an ordinary user who has postgresql-server-dev-NN and libipc-run-perl (NN: see
# detect_pg_major in common.sh; PG_MAJOR=NN picks another installed version).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kinds=${*:-regress isolation tap package}

# One run at a time per machine: "make install" writes the shared PostgreSQL tree.
PG_HYGIENE_TEST_LOCK="/tmp/pg_hygiene-test.$(printf '%s' "$PG_CONFIG" | cksum | cut -d' ' -f1).lock"
export PG_HYGIENE_TEST_LOCK    # held: scripts/package-test.sh must not wait for it
exec 9>"$PG_HYGIENE_TEST_LOCK"
flock 9
ensure_packages test
build_and_install
pick_server_user

# Tests run in a copy owned by the server user, so that the checkout may live anywhere
# (even under /root) and stays free of test output.
WORK=${PG_HYGIENE_TEST_DIR:-/tmp/pg_hygiene-test.$RUN_AS.$(printf '%s' "$TOP" | cksum | cut -d' ' -f1)}
rm -rf "$WORK"
mkdir -p "$WORK"
tar -C "$TOP" --exclude=./.git --exclude='./tmp_check*' --exclude=./.demo -cf - . | tar -C "$WORK" -xf -
chown -R "$RUN_AS": "$WORK" 2>/dev/null || true
LOGS=$WORK/logs
mkdir -p "$LOGS"

passed=0
failed=0

# Count pg_regress / pg_isolation_regress results in a log; a run that printed no
# result at all (the instance did not start, say) counts as one failure.
count_regress_log()
{
	local log=$1 rc=$3 p f
	# "test x ... ok" / "... FAILED" up to 15; TAP style "ok 1 - x" / "not ok 2 - y" from 16
	p=$(grep -cE '\.\.\. ok|^ok +[0-9]+ ' "$log" || true)
	f=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok +[0-9]+ ' "$log" || true)
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "the $2 run failed without a per-test verdict:"; tail -20 "$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	echo "$2: $p passed, $f failed"
}

for kind in $kinds; do
	case $kind in
	regress | isolation)
		say "$kind tests"
		log=$LOGS/$kind.log
		rc=0
		as_server_user "cd '$WORK' && make -s PG_CONFIG='$PG_CONFIG' ${kind}check" >"$log" 2>&1 || rc=$?
		grep -E '^(test |     |ok |not ok )' "$log" | grep -E '\.\.\.|^(not )?ok +[0-9]+ ' || true
		count_regress_log "$log" "$kind" "$rc"
		for d in "$WORK"/regression.diffs "$WORK"/output_iso/regression.diffs; do
			if [ "$kind" = regress ] && [ "$d" != "$WORK/regression.diffs" ]; then continue; fi
			if [ "$kind" = isolation ] && [ "$d" != "$WORK/output_iso/regression.diffs" ]; then continue; fi
			[ -s "$d" ] && { echo "--- $d"; head -200 "$d"; }
		done
		;;
	tap)
		say "TAP tests"
		# TAP_ONLY=GLOB (e.g. 210_policy_live) runs only the matching files, to chase one test.
		for t in "$WORK"/test/t/${TAP_ONLY:-*}.pl; do
			name=test/t/$(basename "$t")
			log=$LOGS/$(basename "$t" .pl).log
			if as_server_user "cd '$WORK' && make -s PG_CONFIG='$PG_CONFIG' tapcheck PROVE_TESTS='$name' PROVE_FLAGS=-v" >"$log" 2>&1; then
				passed=$((passed + 1))
				echo "$name ... ok ($(grep -cE '^ok ' "$log") assertions)"
			else
				failed=$((failed + 1))
				echo "$name ... FAILED"
				grep -E '^not ok|^#' "$log" | head -40 || true
				for f in "$WORK"/tmp_check/log/*.log; do
					[ -f "$f" ] && { echo "--- $f (tail)"; tail -15 "$f"; }
				done
				for f in "$WORK"/tmp_check/log/regress_log_*; do
					[ -f "$f" ] && { echo "--- $f (tail)"; tail -30 "$f"; }
				done
			fi
		done
		;;
	package)
		if [ "$(id -u)" -ne 0 ]; then
			echo "package: skipped (needs root: dpkg -i into the system PostgreSQL tree)"
			continue
		fi
		say "package test"
		log=$LOGS/package.log
		rc=0
		bash "$TOP/scripts/package-test.sh" >"$log" 2>&1 || rc=$?
		if [ "$rc" -eq 0 ]; then
			passed=$((passed + 1))
			echo "scripts/package-test.sh ... ok ($(grep -cE '^ok: ' "$log") checks)"
		elif [ "$rc" -eq 77 ]; then
			echo "package: $(grep '^skipped' "$log")"
		else
			failed=$((failed + 1))
			echo "scripts/package-test.sh ... FAILED"
			tail -40 "$log"
		fi
		;;
	*) die "unknown test kind '$kind' (regress, isolation, tap, package)" ;;
	esac
done

echo "logs: $LOGS"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
