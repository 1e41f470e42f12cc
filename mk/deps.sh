#!/bin/sh
# make deps: check that the packages in mk/deps.list are installed, and
# install the missing ones.  Debian: dpkg-query decides; as root, one
# apt-get update and one apt-get install; otherwise the command to run is
# printed and the exit status is 1.  FreeBSD: pkg-info(8) decides and the
# pkg(8) command is printed.  Silent when nothing is missing.
set -eu

list=$(dirname "$0")/deps.list

# pkgs COLUMN: the package names of one column of the list.
pkgs()
{
	sed -e 's/#.*//' "$list" | awk -v col="$1" \
	    'NF >= 2 && $col != "-" { print $col }'
}

# Debian: print the packages of the list that are not installed.
deb_missing()
{
	for p in $(pkgs 1); do
		case $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" \
		    2>/dev/null || true) in
		ii*)	;;
		*)	printf ' %s' "$p" ;;
		esac
	done
}

if command -v apt-get >/dev/null 2>&1 &&
    command -v dpkg-query >/dev/null 2>&1; then
	missing=$(deb_missing)
	[ -z "$missing" ] && exit 0
	install="apt-get install -y --no-install-recommends$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing Debian packages:$missing" >&2
		echo "deps: install them as root with:" >&2
		echo "  apt-get update && echo 'wireshark-common" \
		    "wireshark-common/install-setuid boolean false' |" \
		    "debconf-set-selections && DEBIAN_FRONTEND=noninteractive" \
		    "$install" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	DEBIAN_FRONTEND=noninteractive
	export DEBIAN_FRONTEND
	# tshark would otherwise ask whether to make dumpcap setuid.
	echo 'wireshark-common wireshark-common/install-setuid boolean false' |
	    debconf-set-selections
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086 # one word per package
	apt-get install -q -y --no-install-recommends $missing
	missing=$(deb_missing)
	if [ -n "$missing" ]; then
		echo "deps: still missing after apt-get:$missing" >&2
		exit 1
	fi
	exit 0
fi

if [ "$(uname -s)" = FreeBSD ]; then
	missing=
	for p in $(pkgs 2); do
		pkg info -e "$p" || missing="$missing $p"
	done
	[ -z "$missing" ] && exit 0
	echo "deps: missing FreeBSD packages:$missing" >&2
	echo "deps: install them as root with:" >&2
	echo "  pkg install -y$missing" >&2
	exit 1
fi

echo "deps: no apt-get and not FreeBSD: cannot check packages here." >&2
echo "deps: the tree needs (Debian names): $(pkgs 1 | tr '\n' ' ')" >&2
exit 0
