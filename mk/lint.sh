#!/bin/sh
# make lint:
#  1. clang-format against .clang-format (style(9) as near as it comes):
#     a report of how many lines each C file would change; never fails,
#     since clang-format cannot express all of style(9).
#  2. mandoc -Tlint over every manual page in the tree: fails on any
#     warning or error (style suggestions are not counted).
#  3. cppcheck over the C sources: fails on errors (its default); a
#     false positive is silenced in place with "// cppcheck-suppress id".
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
status=0

csrc=$(find sys lib sbin regress -type f -name '*.[ch]' 2>/dev/null | sort)

echo "===> lint: clang-format (report only)"
files=0
changed=0
lines=0
for f in $csrc; do
	files=$((files + 1))
	n=$(clang-format --style=file "$f" | diff "$f" - | grep -c '^>')
	if [ "$n" -gt 0 ]; then
		changed=$((changed + 1))
		lines=$((lines + n))
		echo "    $f: $n lines"
	fi
done
echo "clang-format: $changed of $files files would change ($lines lines)"

echo "===> lint: mandoc -Tlint"
pages=$(find . -name .git -prune -o -type f -name '*.[1-9]' \
    ! -name '*.so.*' -print | sort)
npages=0
for p in $pages; do
	npages=$((npages + 1))
	mandoc -Tlint -Wwarning "$p" || status=1
done
echo "mandoc: $npages manual pages checked"

echo "===> lint: cppcheck (errors)"
if [ -n "$csrc" ]; then
	# cppcheck must see <sys/queue.h> and <sys/tree.h> (the BSD ones:
	# libbsd's overlay on Linux, the base system's on a BSD), and only
	# those of the system headers.
	bsdinc=$(pkg-config --cflags libbsd-overlay 2>/dev/null |
	    sed -n 's/.*-isystem *\([^ ]*\).*/-I \1 -DLIBBSD_OVERLAY/p')
	[ -z "$bsdinc" ] && [ -f /usr/include/sys/tree.h ] &&
	    bsdinc="-I /usr/include"
	# shellcheck disable=SC2086
	cppcheck -q -j 2 --std=c11 --error-exitcode=1 \
	    --inline-suppr --suppress=missingIncludeSystem \
	    -I sys -I lib/libpfkey $bsdinc \
	    $csrc || status=1
fi
echo "cppcheck: $(echo "$csrc" | grep -c .) C files checked"

[ "$status" -eq 0 ] && echo "lint: ok" || echo "lint: FAILED"
exit "$status"
