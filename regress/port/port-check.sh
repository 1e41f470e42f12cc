#!/bin/sh
# make port-check FREEBSD_SYS=/path/to/freebsd/sys (issue 18): compile
# every sys/netipsec/*.c as amd64 FreeBSD kernel code, with the
# replacement ukern.h of PORTING.md (sys/ukern/freebsd/ukern.h) in place
# of sys/ukern/ukern.h, the kernel's include paths, empty opt_*.h, and
# the warning flags of that tree's sys/conf/kern.mk with -Werror; then
# list each object's undefined symbols that neither another of our
# objects nor that kernel's sources define.
#
# Prints one line per file ("ok", or "FAILED" and the compiler's first
# errors), the symbols, and "port-check: N of M compiled, K unresolved
# symbols"; exits non-zero unless all compiled and none is unresolved.
# Without FREEBSD_SYS it says how to get a tree and exits 0 (skipped).
# Needs clang (any target: it cross-compiles) and bmake (to read
# kern.mk).  PORT_CHECK_KEEP=1 keeps the build directory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
SYS=${FREEBSD_SYS:-}
CLANG=${CLANG:-clang}
if [ -z "$SYS" ]; then
	cat <<X
port-check: skipped: FREEBSD_SYS is not set.  Give it the sys/ directory
of a FreeBSD source tree, for example from a clone of
https://git.freebsd.org/src.git (releng/14.0), or /usr/src/sys on a
FreeBSD machine:  make port-check FREEBSD_SYS=/usr/src/sys
(sys/netipsec/PORTING.md names the FreeBSD 14.0 snapshot it passes on.)
X
	exit 0
fi
for f in "$SYS/sys/param.h" "$SYS/conf/kern.mk" "$SYS/amd64/include"; do
	[ -e "$f" ] || { echo "port-check: $SYS: no $f: not a FreeBSD sys/" \
	    "directory" >&2; exit 2; }
done
for p in "$CLANG" bmake nm; do
	command -v "$p" >/dev/null ||
	    { echo "port-check: skipped: no $p" >&2; exit 0; }
done
ver=$(sed -n 's/^#define[[:space:]]*__FreeBSD_version[[:space:]]*\([0-9]*\).*/\1/p' \
    "$SYS/sys/param.h")
rel=$(sed -n 's/^REVISION="\(.*\)"/\1/p' "$SYS/conf/newvers.sh" 2>/dev/null)
branch=$(sed -n 's/^BRANCH=.*[-"]\([A-Z][A-Z0-9]*\)}\{0,1\}"\{0,1\}$/\1/p' \
    "$SYS/conf/newvers.sh" 2>/dev/null | tail -n 1)
major=$((ver / 100000))
echo "port-check: FreeBSD $rel-$branch sys/ (__FreeBSD_version $ver) at $SYS"

b=$(mktemp -d "${TMPDIR:-/tmp}/port-check.XXXXXX")
if [ "${PORT_CHECK_KEEP:-0}" = 1 ]; then
	echo "port-check: keeping $b"
else
	trap 'rm -rf "$b"' EXIT
fi
trap 'exit 1' HUP INT TERM
# As config(8) lays out a kernel build directory: machine/ and x86/ the
# architecture's headers, the option headers empty (no option is on
# but those given with -D below).
mkdir -p "$b/inc/ukern"
ln -s "$SYS/amd64/include" "$b/machine"
ln -s "$SYS/x86/include" "$b/x86"
cp "$top/sys/ukern/freebsd/ukern.h" "$b/inc/ukern/ukern.h"
for o in $(sed -n 's/.*\(opt_[a-z0-9_]*\.h\).*/\1/p' "$SYS"/conf/options \
    "$SYS"/conf/options.amd64 | sort -u) opt_global.h; do
	: >"$b/$o"
done
# The tree's own warning flags, as its kern.mk sets them for clang.
cver=$("$CLANG" -dumpversion | awk -F. '{ printf "%d%02d%02d", $1, $2, $3 }')
warn=$(bmake -f "$SYS/conf/kern.mk" -V '${CWARNFLAGS}' COMPILER_TYPE=clang \
    COMPILER_VERSION="$cver" MACHINE_CPUARCH=amd64 MACHINE_ARCH=amd64 \
    MACHINE=amd64 MK_FORMAT_EXTENSIONS=yes MK_SSP=no MK_INIT_ALL_ZERO=no \
    MK_INIT_ALL_PATTERN=no MK_KERNEL_RETPOLINE=no 2>/dev/null) ||
    { echo "port-check: cannot read CWARNFLAGS from $SYS/conf/kern.mk" >&2;
    exit 2; }
# Before FreeBSD 13, kern.mk spells -Wno-error=x as -Wno-error-x, which
# clang no longer takes.
warn=$(echo "$warn" | sed 's/-Wno-error-/-Wno-error=/g')
target=x86_64-unknown-freebsd$major.0
cflags="--target=$target -nostdinc -ffreestanding -fno-common
    -mcmodel=kernel -mno-red-zone -mno-mmx -mno-sse -msoft-float
    -fno-asynchronous-unwind-tables -fwrapv -std=gnu99 -O2
    -D_KERNEL -DKLD_MODULE -DHAVE_KERNEL_OPTION_HEADERS -DINET -DINET6
    -DIPSEC -DINVARIANTS -DINVARIANT_SUPPORT -include $b/opt_global.h
    -I$b -I$b/inc -I$top/sys -I$SYS $warn -Werror"
echo "port-check: $CLANG --target=$target, CWARNFLAGS of $SYS/conf/kern.mk, -Werror"

n=0 ok=0
for src in "$top"/sys/netipsec/*.c; do
	f=$(basename "$src" .c)
	n=$((n + 1))
	# shellcheck disable=SC2086 # cflags: words
	if "$CLANG" $cflags -c "$src" -o "$b/$f.o" 2>"$b/$f.err"; then
		ok=$((ok + 1))
		echo "  $f.c: ok"
	else
		echo "  $f.c: FAILED ($(grep -c 'error:' "$b/$f.err") errors)"
		grep 'error:' "$b/$f.err" | sed 's,^.*/sys/,    sys/,' | head -n 5
	fi
done

# Undefined symbols: defined by none of our objects, nor, in the
# kernel's sources, by a function definition (style(9): the name at the
# start of a line), a variable's, an assembly ENTRY(), an ifunc or a
# DPCPU/VNET definition.
unres=0
if ls "$b"/*.o >/dev/null 2>&1; then
	nm "$b"/*.o | awk '$1 ~ /^[0-9a-f]+$/ && $2 ~ /[TDBR]/ { print $3 }' |
	    sort -u >"$b/defined"
	nm -u "$b"/*.o | awk 'NF == 2 { print $2 } NF == 1 { print $1 }' |
	    grep -v ':$' | sort -u >"$b/undef"
	comm -23 "$b/undef" "$b/defined" >"$b/need"
	: >"$b/unresolved"
	while read -r s; do
		case $s in
		# The linker makes a linker set's bounds.
		__start_set_*|__stop_set_*) continue ;;
		esac
		if grep -rqsE "^\(?$s\)?\(|^[a-z_].*[[:space:]*]$s(\[.*\])?( = .*)?;|ENTRY\($s\)|DEFINE_IFUNC\(.*, $s,|^(DPCPU|VNET)_DEFINE\(.*, $s\)" \
		    --include='*.c' --include='*.S' --include='*.s' \
		    "$SYS/kern" "$SYS/libkern" "$SYS/vm" "$SYS/net" \
		    "$SYS/netinet" "$SYS/netinet6" "$SYS/opencrypto" \
		    "$SYS/crypto" "$SYS/amd64/amd64" "$SYS/x86/x86" 2>/dev/null
		then
			:
		else
			echo "$s" >>"$b/unresolved"
		fi
	done <"$b/need"
	unres=$(wc -l <"$b/unresolved")
	echo "port-check: $(wc -l <"$b/need") symbols from the kernel," \
	    "$unres not defined by it:"
	sed 's/^/    /' "$b/unresolved"
fi

# ukern.h's opencrypto(9) subset claims FreeBSD's numbers: each constant
# it defines must equal the kernel's (FreeBSD 13 and later).
nums=ok
if [ "$major" -ge 13 ]; then
	{
		echo '#include <ukern/ukern.h>'
		sed -n '/---- opencrypto(9)/,/---- end of opencrypto/p' \
		    "$top/sys/ukern/ukern.h" |
		    sed -n 's/^#define[[:space:]]*\([A-Z0-9_]*\)[[:space:]][[:space:]]*\([0-9x][0-9a-fx]*\).*/_Static_assert(\1 == \2, "\1 is not \2 here");/p'
	} >"$b/nums.c"
	# shellcheck disable=SC2086 # cflags: words
	if "$CLANG" $cflags -c "$b/nums.c" -o "$b/nums.o.chk" \
	    2>"$b/nums.err"; then
		echo "port-check: ukern.h's $(grep -c _Static_assert \
		    "$b/nums.c") opencrypto(9) constants are the kernel's"
	else
		nums=failed
		echo "port-check: ukern.h's opencrypto(9) constants differ:"
		grep 'error:' "$b/nums.err" | sed 's/^.*error: /    /' | head
	fi
fi
echo "port-check: $ok of $n compiled, $unres unresolved symbols," \
    "constants $nums"
[ "$ok" -eq "$n" ] && [ "$unres" -eq 0 ] && [ "$nums" = ok ]
