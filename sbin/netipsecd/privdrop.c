/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * netipsecd -u user: once its sockets, the netfilter queue and rules
 * and the raw output socket are set up, netipsecd becomes user (its
 * primary group, no other) and keeps one capability, CAP_NET_ADMIN,
 * which the queue's verdicts and the marks of the IKE sockets
 * (pcb_srv.c) need; every other capability goes, the bounding set is
 * emptied, and no later execve(2) could gain one (no_new_privs).  Done
 * before any thread exists: capabilities are per thread on Linux.
 * PF_KEY's access checks (root, or -g group) do not depend on our
 * user.  On a BSD the layer is the kernel's and netipsecd does not run.
 */

#include <sys/types.h>
#include <sys/prctl.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cap-ng.h>

#include "netipsecd.h"

void
netipsecd_privdrop(const char *user)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("-u %s: no such user", user);
	if (pw->pw_uid == 0)
		fatalx("-u %s: the user is root", user);
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
	    CAP_NET_ADMIN) != 0)
		fatalx("-u %s: cannot keep CAP_NET_ADMIN", user);
	if (capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
	    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING) != 0)
		fatalx("-u %s: cannot become the user with CAP_NET_ADMIN "
		    "only", user);
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid || getegid() != pw->pw_gid ||
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_NET_ADMIN) != 1 ||
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SYS_ADMIN) != 0)
		fatalx("-u %s: not the expected user and capabilities", user);
	/* Not dumpable again (a change of uid resets it). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("-u %s: prctl", user);
	log_info("running as %s (uid %lu) with CAP_NET_ADMIN only", user,
	    (unsigned long)pw->pw_uid);
}
