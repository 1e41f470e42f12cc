#!/bin/sh
# The users the daemons run as: _iked, the user of iked's IKE engine
# (iked.8, PROCESSES), and _netipsec, netipsecd's with its systemd unit
# (netipsecd -u); both with the empty directory /var/empty, owned by
# root, as their home (the engine's root).  OpenBSD's base system has
# its own; here make deps and make install create what is missing, as
# root.  Silent when all exist.
set -eu

home=/var/empty

missing=
for user in _iked _netipsec; do
	id "$user" >/dev/null 2>&1 || missing="$missing $user"
done
if [ "$(id -u)" -ne 0 ]; then
	[ -z "$missing" ] && [ -d "$home" ] && exit 0
	echo "user: the daemons need the users$missing and the directory" \
	    "$home; run make deps as root to create them" >&2
	exit 0
fi
if [ ! -d "$home" ]; then
	mkdir -p "$home"
	chown 0:0 "$home"
	chmod 0755 "$home"
fi
for user in $missing; do
	echo "user: creating $user (home $home, no login)"
	if command -v useradd >/dev/null 2>&1; then
		nologin=$(command -v nologin || echo /usr/sbin/nologin)
		useradd --system --user-group --home-dir "$home" \
		    --no-create-home --shell "$nologin" \
		    --comment "$user unprivileged user" "$user"
	elif command -v pw >/dev/null 2>&1; then
		pw useradd "$user" -d "$home" -s /usr/sbin/nologin \
		    -c "$user unprivileged user"
	else
		echo "user: cannot create $user: no useradd(8) or pw(8)" >&2
		exit 1
	fi
done
