#!/bin/sh
# Called by mk/defs.mk while make reads a directory's Makefile, with the
# settings that change the objects (compiler, optimisation, sanitizers).
# When they differ from those of the last build here (kept in
# .buildflags), the old objects and libraries below this directory are
# removed, so that "make SANITIZE=1" after a plain build, or CC=clang
# after gcc, rebuilds everything instead of linking a mixture.  Prints
# nothing on standard output (make would take it as a value).
set -f
stamp=.buildflags

# One space between words, and without -pipe (bmake's CC has it, GNU
# make's has not; it changes no object), so that both makes agree.
flags=
for w in $1; do
	[ "$w" = -pipe ] || flags="${flags:+$flags }$w"
done

[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$flags" ] && exit 0
old=$(find . -name .git -prune -o -type f \
    \( -name '*.o' -o -name '*.a' -o -name '*.so' \) -print | head -1)
if [ -n "$old" ]; then
	echo "===> ${PWD##*/}: build settings changed, removing old objects" >&2
	find . -name .git -prune -o -type f \
	    \( -name '*.o' -o -name '*.a' -o -name '*.so' \) \
	    -exec rm -f {} + >&2
fi
printf '%s\n' "$flags" >"$stamp" 2>/dev/null
exit 0
