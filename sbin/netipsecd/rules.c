/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The netfilter rules that send the packets of IPsec-enabled interfaces
 * to netipsecd's queue, for IPv4 (iptables) and IPv6 (ip6tables).  All
 * in the mangle table, in three chains of our own named after the queue
 * number, each entered by one jump from the built-in chain:
 *
 *	OUTPUT     -j NETIPSEC<q>-OUT	locally generated, after routing
 *	PREROUTING -j NETIPSEC<q>-IN	arriving, before routing
 *	FORWARD    -j NETIPSEC<q>-FWD	forwarded, after routing
 *
 * and in them, per interface:
 *
 *	NETIPSEC<q>-OUT -o if -m mark --mark RAWOUT_MARK -j RETURN
 *						(our ESP, sent raw: rawout.c)
 *	NETIPSEC<q>-OUT -o if -p udp --sport 500  -j RETURN	(IKE)
 *	NETIPSEC<q>-OUT -o if -p udp --sport 4500 -j RETURN	(IKE, NAT-T)
 *	NETIPSEC<q>-OUT -o if -j NFQUEUE --queue-num q
 *	NETIPSEC<q>-IN  -i if -p udp --dport 500  -j RETURN	(IKE)
 *	NETIPSEC<q>-IN  -i if -j NFQUEUE --queue-num q	(4500 too: ESP-in-UDP)
 *	NETIPSEC<q>-FWD -o if -j NFQUEUE --queue-num q
 *
 * and, before the NFQUEUE rules of OUT and FWD, a clamp of the MSS of TCP
 * SYNs to the interface's MTU less the headers and RULES_IPSEC_ROOM
 * (ESP header, IV, padding, ICV, a NAT-T UDP header and a tunnel header):
 * the kernel cuts TCP segments to the MSS before they reach the queue,
 * and a full-sized segment would not fit the MTU once protected.  (What
 * FreeBSD does with path MTU discovery over the SA; other protocols'
 * packets near the MTU are still a limit, see netipsecd(8).)
 *
 * Never --queue-bypass: with nobody bound to the queue, the kernel drops
 * what the rules send there (fail closed).  The commands are run with
 * fork/exec of iptables(8), whichever backend Debian's alternatives
 * select; "-w" waits for the xtables lock.  A run that died without
 * removing its chains leaves them behind: rules_init() removes them
 * before installing new ones.
 */

#define	_GNU_SOURCE		/* pipe2(2) */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netipsecd.h"

#define	RULES_ARGMAX	32

/*
 * Worst-case bytes IPsec adds: ESP header 8, IV 16, padding 15 + 2,
 * ICV 32, UDP 8 (NAT-T), an IPv6 tunnel header 40; rounded up.
 */
#define	RULES_IPSEC_ROOM	128

/* An interface's MTU, or 1500 if it cannot be read. */
static int
rules_mtu(const char *ifname)
{
	struct ifreq ifr;
	int s, mtu;

	mtu = 1500;
	if ((s = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return (mtu);
	memset(&ifr, 0, sizeof(ifr));
	strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	if (ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 576)
		mtu = ifr.ifr_mtu;
	close(s);
	return (mtu);
}

static const char *const rules_progs[] = { RULES_IPTABLES, RULES_IP6TABLES };

/* Our chains, and the built-in chain that jumps to each. */
static const struct {
	const char	*rc_suffix;
	const char	*rc_builtin;
} rules_chains[] = {
	{ "OUT", "OUTPUT" },
	{ "IN", "PREROUTING" },
	{ "FWD", "FORWARD" },
};

static int	rules_queue = -1;
static int	rules_installed;

static int	rules_run(int, int, const char *, ...);
static void	rules_chain(char *, size_t, int);
static void	rules_remove(int);

/*
 * Run "prog -w -t mangle args..." (NULL-terminated): 0 if it exited 0.
 * Its output is logged: at debug level, or as a warning if it failed and
 * "quiet" is not set.
 */
static int
rules_run(int prog, int quiet, const char *first, ...)
{
	const char	*argv[RULES_ARGMAX];
	char		 cmd[1024], out[1024];
	va_list		 ap;
	size_t		 len, olen;
	ssize_t		 n;
	pid_t		 pid;
	int		 i, p[2], status, devnull;

	argv[0] = rules_progs[prog];
	argv[1] = "-w";
	argv[2] = "-t";
	argv[3] = "mangle";
	i = 4;
	va_start(ap, first);
	for (argv[i] = first; argv[i] != NULL && i < RULES_ARGMAX - 1;)
		argv[++i] = va_arg(ap, const char *);
	va_end(ap);
	argv[i] = NULL;

	for (len = 0, i = 0; argv[i] != NULL && len < sizeof(cmd); i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "%s%s",
		    i ? " " : "", argv[i]);
	log_debug("rules: %s", cmd);

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("rules: pipe");
		return (-1);
	}
	if ((pid = fork()) == -1) {
		log_warn("rules: fork");
		close(p[0]);
		close(p[1]);
		return (-1);
	}
	if (pid == 0) {
		if ((devnull = open("/dev/null", O_RDONLY)) != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	olen = 0;
	while ((n = read(p[0], out + olen, sizeof(out) - 1 - olen)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		olen += (size_t)n;
		if (olen == sizeof(out) - 1) {
			/* Keep the start; drain the rest. */
			char	drain[256];

			while (read(p[0], drain, sizeof(drain)) > 0)
				;
			break;
		}
	}
	close(p[0]);
	while (olen > 0 && out[olen - 1] == '\n')
		olen--;
	out[olen] = '\0';
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_warn("rules: waitpid");
			return (-1);
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (olen > 0)
			log_debug("rules: %s", out);
		return (0);
	}
	if (quiet)
		log_debug("rules: failed: %s", olen > 0 ? out : "");
	else
		log_warnx("rules: \"%s\" failed%s%s", cmd, olen > 0 ? ": " : "",
		    out);
	return (-1);
}

static void
rules_chain(char *buf, size_t len, int c)
{
	snprintf(buf, len, "%s%d-%s", RULES_CHAIN_PREFIX, rules_queue,
	    rules_chains[c].rc_suffix);
}

/* Remove our chains and the jumps to them; errors are expected. */
static void
rules_remove(int prog)
{
	char	chain[64];
	size_t	c;
	int	n;

	for (c = 0; c < nitems(rules_chains); c++) {
		rules_chain(chain, sizeof(chain), (int)c);
		/* Every jump, should a crash have left several. */
		for (n = 0; n < 64; n++)
			if (rules_run(prog, 1, "-D", rules_chains[c].rc_builtin,
			    "-j", chain, NULL) != 0)
				break;
		(void)rules_run(prog, 1, "-F", chain, NULL);
		(void)rules_run(prog, 1, "-X", chain, NULL);
	}
}

/*
 * Install the rules for these interfaces and this queue, after removing
 * whatever a previous run with the same queue number left.  Exits on
 * failure, with nothing left installed.
 */
void
rules_init(int queue, char *const *ifs, int nifs)
{
	char	chain[64], qnum[16], mss[16];
	size_t	c;
	int	prog, i;

	rules_queue = queue;
	snprintf(qnum, sizeof(qnum), "%d", queue);

	for (prog = 0; prog < (int)nitems(rules_progs); prog++) {
		if (access(rules_progs[prog], X_OK) == -1)
			fatal("%s (the iptables package)", rules_progs[prog]);
		rules_remove(prog);
	}
	rules_installed = 1;	/* from here on, rules_fini() cleans up */

	for (prog = 0; prog < (int)nitems(rules_progs); prog++) {
		for (c = 0; c < nitems(rules_chains); c++) {
			rules_chain(chain, sizeof(chain), (int)c);
			if (rules_run(prog, 0, "-N", chain, NULL) != 0)
				goto fail;
		}
		for (i = 0; i < nifs; i++) {
			/* IP header 20 or 40, TCP header 20. */
			snprintf(mss, sizeof(mss), "%d", rules_mtu(ifs[i]) -
			    (prog == 0 ? 20 : 40) - 20 - RULES_IPSEC_ROOM);
			rules_chain(chain, sizeof(chain), 0);
			if (rules_run(prog, 0, "-A", chain, "-o", ifs[i], "-m",
			    "mark", "--mark", RAWOUT_MARK_STR, "-j", "RETURN",
			    NULL) ||
			    rules_run(prog, 0, "-A", chain, "-o", ifs[i], "-p",
			    "udp", "--sport", "500", "-j", "RETURN", NULL) ||
			    rules_run(prog, 0, "-A", chain, "-o", ifs[i], "-p",
			    "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j",
			    "TCPMSS", "--set-mss", mss, NULL) ||
			    rules_run(prog, 0, "-A", chain, "-o", ifs[i], "-p",
			    "udp", "--sport", "4500", "-j", "RETURN", NULL) ||
			    rules_run(prog, 0, "-A", chain, "-o", ifs[i], "-j",
			    "NFQUEUE", "--queue-num", qnum, NULL))
				goto fail;
			rules_chain(chain, sizeof(chain), 1);
			if (rules_run(prog, 0, "-A", chain, "-i", ifs[i], "-p",
			    "udp", "--dport", "500", "-j", "RETURN", NULL) ||
			    rules_run(prog, 0, "-A", chain, "-i", ifs[i], "-j",
			    "NFQUEUE", "--queue-num", qnum, NULL))
				goto fail;
			rules_chain(chain, sizeof(chain), 2);
			if (rules_run(prog, 0, "-A", chain, "-o", ifs[i], "-p",
			    "tcp", "--tcp-flags", "SYN,RST", "SYN", "-j",
			    "TCPMSS", "--set-mss", mss, NULL) ||
			    rules_run(prog, 0, "-A", chain, "-o", ifs[i], "-j",
			    "NFQUEUE", "--queue-num", qnum, NULL))
				goto fail;
		}
		/* The jumps last: the chains are complete when entered. */
		for (c = 0; c < nitems(rules_chains); c++) {
			rules_chain(chain, sizeof(chain), (int)c);
			if (rules_run(prog, 0, "-I", rules_chains[c].rc_builtin,
			    "1", "-j", chain, NULL) != 0)
				goto fail;
		}
	}
	for (i = 0; i < nifs; i++)
		log_info("rules: %s hooked to queue %d", ifs[i], queue);
	return;

 fail:
	rules_fini();
	fatalx("cannot install the netfilter rules (run with -dv for the "
	    "commands)");
}

/* Remove the rules; harmless when none were installed. */
void
rules_fini(void)
{
	int	prog;

	if (!rules_installed)
		return;
	rules_installed = 0;
	for (prog = 0; prog < (int)nitems(rules_progs); prog++)
		rules_remove(prog);
	log_debug("rules: removed");
}
