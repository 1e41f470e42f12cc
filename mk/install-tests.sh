#!/bin/sh
# make install: the Kyua suite under $DESTDIR$PREFIX/tests/netipsec, as
# FreeBSD installs its own under /usr/tests, run with the installed
# programs:
#
#	kyua test -k $PREFIX/tests/netipsec/Kyuafile
#
# The suite keeps the source tree's shape, so that each test finds what
# it finds there: regress/ as built (its programs, scripts and data,
# without sources and objects), the example files the tests read
# (share/examples) and the service files (etc), and in place of the
# programs symbolic links to the installed ones (sbin/iked/iked ->
# $PREFIX/sbin/iked, ...).  bench/ and fuzz/ are not installed (they
# build as they run), but for fuzz/corpus, which tests read.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-/usr/local}
dest=${DESTDIR:-}$prefix/tests/netipsec

rm -rf "$dest"
mkdir -p "$dest"
cd "$TOP"
# regress/, as built.
find regress \( -name bench -o -name fuzz \) -prune -o -type f \
    ! -name '*.o' ! -name '*.c' ! -name '*.h' ! -name 'Makefile' \
    ! -name '*.db' ! -name '*.db-journal' ! -name '.*' -print |
while read -r f; do
	mkdir -p "$dest/$(dirname "$f")"
	cp -p "$f" "$dest/$f"
done
# What the tests read from the rest of the tree (and the fuzzers' seeds,
# which some tests send as they are).
for d in share/examples etc regress/fuzz/corpus; do
	find "$d" -type f ! -name '.*' -print | while read -r f; do
		mkdir -p "$dest/$(dirname "$f")"
		cp -p "$f" "$dest/$f"
	done
done
# The programs under test: the installed ones.
for p in netipsecd setkey iked ikectl; do
	mkdir -p "$dest/sbin/$p"
	ln -sf "$prefix/sbin/$p" "$dest/sbin/$p/$p"
done
mkdir -p "$dest/lib/libpfkey"
ln -sf "$prefix/lib/libpfkey_preload.so" \
    "$dest/lib/libpfkey/libpfkey_preload.so"
# Installed means every directory is in: the source tree's Kyuafile
# waits for each directory's Makefile, which is not installed.
dirs=$(cd "$dest/regress" && for k in */Kyuafile; do
	printf '"%s", ' "${k%/Kyuafile}"
done)
cat >"$dest/regress/Kyuafile" <<X
-- The installed suite (mk/install-tests.sh): every directory.
syntax(2)
test_suite("netipsec")
for _, dir in ipairs({${dirs%, }}) do
	include(fs.join(dir, "Kyuafile"))
end
X
cat >"$dest/Kyuafile" <<X
-- netipsec's tests, installed: kyua test -k $prefix/tests/netipsec/Kyuafile
syntax(2)
test_suite("netipsec")
include("regress/Kyuafile")
X
echo "install: the test suite in $dest (kyua test -k $prefix/tests/netipsec/Kyuafile)"
