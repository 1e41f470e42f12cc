#!/bin/sh
# subdir.sh TARGET DIR...: make TARGET in each DIR, in order, stopping at
# the first failure.  A DIR without a Makefile yet is skipped with a note,
# so that the tree builds while parts of it are being written.  The
# calling make passes itself in MAKE; the variables given on its command
# line (SANITIZE=1, CC=clang, PREFIX=...) reach the sub-makes through
# MAKEFLAGS, as with any recursive make.  DIRPREFIX, if set, is put
# before the names in the notes (the path from the top of the tree).
target=$1
shift
prefix=${DIRPREFIX:-}
unset DIRPREFIX
for dir in "$@"; do
	if [ ! -f "$dir/Makefile" ]; then
		echo "===> $prefix$dir: no Makefile yet, skipped"
		continue
	fi
	echo "===> $prefix$dir ($target)"
	(cd "$dir" && ${MAKE:-make} "$target") || exit 1
done
exit 0
