#!/usr/bin/env bash
# check.sh -- model-checks docplat's three-phase commit (threepc.pml) with spin.
#
#   bash txn/model/check.sh               the checks below; exit 0 only if
#                                         every one reports "errors: 0"
#   bash txn/model/check.sh --as-written  PROTOCOL.md as written, and the fixed
#                                         protocol minus each fix: prints the
#                                         shortest counterexample of each
#                                         (these runs report errors: exit 1)
#
# Default checks (the fixed protocol, -DFIXED; README.md says why):
#   safety-N2            2 participants, every party may crash (the coordinator
#                        may restart or stay down): agreement, validity,
#                        read-your-writes (the caller is answered committed
#                        only once P1 applied it), termination at every end
#                        state, invalid end states
#   safety-N2-crashstop  the same with a coordinator that never restarts
#   liveness-N2          LTL <> (every live party decided), weak fairness
#   safety-N3            3 participants, any three of the four parties crash
#
# spin is installed with apt-get when missing. Generated files (pan*, trails)
# live in a temporary directory that is removed on exit.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
here=$(pwd)

if ! command -v spin >/dev/null 2>&1; then
	echo "check.sh: installing spin" >&2
	if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq spin) >&2; then
		echo "check.sh: spin is not installed and could not be installed" >&2
		exit 3
	fi
fi
if ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then
	echo "check.sh: installing gcc" >&2
	if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc) >&2; then
		echo "check.sh: no C compiler and gcc could not be installed" >&2
		exit 3
	fi
fi
CC=$(command -v gcc || command -v cc)

work=$(mktemp -d "${TMPDIR:-/tmp}/threepc-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

# check NAME "SPIN DEFINES" "CC FLAGS" "PAN FLAGS": runs one verification in
# its own directory; leaves NAME/result (one line) and NAME/status (0 or 1).
check() {
	local name=$1 defs=$2 ccflags=$3 panflags=$4
	local d="$work/$name"
	mkdir -p "$d"
	cp "$here/threepc.pml" "$d/"
	(
		cd "$d"
		# shellcheck disable=SC2086
		if ! spin $defs -a threepc.pml >spin.out 2>&1; then
			echo "FAIL $name: spin -a failed: $(tail -n 3 spin.out | tr '\n' ' ')" >result
			echo 1 >status
			exit 0
		fi
		# shellcheck disable=SC2086
		if ! "$CC" -O2 $ccflags -o pan pan.c >cc.out 2>&1; then
			echo "FAIL $name: compiling pan.c failed: $(tail -n 3 cc.out | tr '\n' ' ')" >result
			echo 1 >status
			exit 0
		fi
		local start end
		start=$(date +%s.%N)
		# shellcheck disable=SC2086
		./pan $panflags >pan.out 2>&1 || true
		end=$(date +%s.%N)
		local errors states depth secs
		errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.out | tail -n 1)
		states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.out | tail -n 1)
		depth=$(sed -n 's/.*depth reached \([0-9][0-9]*\).*/\1/p' pan.out | tail -n 1)
		secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
		local line="$name: states stored ${states:-?}, depth ${depth:-?}, errors ${errors:-?}, ${secs} s  [spin $defs; pan $panflags]"
		if [ "${errors:-x}" = 0 ] && ! grep -q "pan: out of memory\|max search depth too small" pan.out; then
			echo "PASS $line" >result
			echo 0 >status
		else
			{
				echo "FAIL $line"
				grep -E "violated|invalid end state|acceptance cycle|out of memory|max search depth" pan.out | head -n 5 | sed 's/^/    /'
				if ls ./*.trail >/dev/null 2>&1; then
					echo "    counterexample (spin -t):"
					# shellcheck disable=SC2086
					spin $defs -t threepc.pml 2>/dev/null | grep 'MSC:' | sed 's/^ *MSC: /      /' || true
				fi
			} >result
			echo 1 >status
		fi
	)
}

report() {
	local fail=0 name
	for name in "$@"; do
		cat "$work/$name/result"
		if [ "$(cat "$work/$name/status")" != 0 ]; then
			fail=1
		fi
	done
	return $fail
}

if [ "${1:-}" = "--as-written" ]; then
	# BFS finds the shortest counterexample.
	check as-written "" "-DSAFETY -DBFS" "-m1000000"
	check as-written-crashstop "-DNORECOVER" "-DSAFETY -DBFS" "-m1000000"
	check without-FIX_TERMINATION "-DFIX_STATUS -DFIX_RECOVERY" "-DSAFETY -DBFS" "-m1000000"
	check without-FIX_STATUS "-DFIX_TERMINATION -DFIX_RECOVERY" "-DSAFETY -DBFS" "-m1000000"
	check without-FIX_RECOVERY "-DFIX_TERMINATION -DFIX_STATUS" "-DSAFETY -DBFS" "-m1000000"
	check without-grace-period "-DFIXED -DNOGRACE" "-DSAFETY -DBFS" "-m1000000"
	check reply-at-decision "-DFIXED -DREPLY_AT_DECISION" "-DSAFETY -DBFS" "-m1000000"
	report as-written as-written-crashstop without-FIX_TERMINATION without-FIX_STATUS \
		without-FIX_RECOVERY without-grace-period reply-at-decision && exit 0 || exit 1
fi

echo "spin: $(spin -V 2>&1 | head -n 1)"
# The three-participant run is the long one: start it first, in parallel.
check safety-N3 "-DFIXED -DN=3 -DMAXCRASH=3" "-DSAFETY -DCOLLAPSE" "-m1000000 -w26" &
n3=$!
check safety-N2 "-DFIXED" "-DSAFETY" "-m1000000"
check safety-N2-crashstop "-DFIXED -DNORECOVER" "-DSAFETY" "-m1000000"
check liveness-N2 "-DFIXED -DLIVENESS" "-DNFAIR=3" "-a -f -N termination -m1000000"
wait "$n3"
if report safety-N2 safety-N2-crashstop liveness-N2 safety-N3; then
	echo "check.sh: all checks passed (errors: 0)"
else
	echo "check.sh: FAILED"
	exit 1
fi
