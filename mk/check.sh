#!/bin/sh
# make check, once the tree is built: run every test under regress/ with
# Kyua, show the failures in full, and end with one line
#	N passed, N failed, N skipped
# counted from Kyua's results: expected failures count as passed, broken
# tests as failed.  Exits 1 if any test failed or broke, or none ran.
# KYUA_RESULTS names the results file (default: kyua-results.db).
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
results=${KYUA_RESULTS:-$top/kyua-results.db}
rm -f "$results"

# Sanitized builds: leaks in third-party code are not ours to report.
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top/regress/lsan.supp:print_suppressions=0}
export LSAN_OPTIONS

kyua test --kyuafile regress/Kyuafile --results-file "$results"
if [ ! -f "$results" ]; then
	echo "check: kyua did not run the tests" >&2
	exit 1
fi

# "Test cases: 9 total, 1 skipped, 2 expected failures, 0 broken, 1 failed"
summary=$(kyua report --results-file "$results" | grep '^Test cases:')
count()
{
	echo "$summary" | sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p"
}
total=$(count total)
skipped=$(count skipped)
broken=$(count broken)
failed=$(count failed)
if [ -z "$total" ] || [ -z "$skipped" ] || [ -z "$broken" ] ||
    [ -z "$failed" ]; then
	echo "check: cannot read kyua's summary: $summary" >&2
	exit 1
fi
bad=$((failed + broken))

if [ "$bad" -gt 0 ]; then
	# The failures with their output, without the environment dump that
	# --verbose starts with and the metadata of each test case.
	echo
	kyua report --results-file "$results" --verbose \
	    --results-filter broken,failed |
	    awk '/^===> / { skip = ($0 == "===> Execution context") }
		/^Metadata:$/ { meta = 1 }
		meta && /^$/ { meta = 0; next }
		!skip && !meta { print }'
fi
[ "$total" -eq 0 ] && echo "check: no test ran" >&2

echo "$((total - skipped - bad)) passed, $bad failed, $skipped skipped"
[ "$bad" -eq 0 ] && [ "$total" -gt 0 ]
