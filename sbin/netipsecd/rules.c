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
 *	NETIPSEC<q>-OUT -o if -m mark --mark PCB_MARK -j RETURN
 *						(a bypass socket's: pcb_srv.c)
 *	NETIPSEC<q>-OUT -o if -j NFQUEUE --queue-num q
 *	NETIPSEC<q>-IN  -i if -j NFQUEUE --queue-num q
 *	NETIPSEC<q>-FWD -o if -j NFQUEUE --queue-num q
 *
 * Nothing is exempt by port: IKE's packets pass by the bypass policies of
 * the IKE daemon's sockets (pcb_srv.c).  The layer applies them; the
 * PCB_MARK rule is the kernel's shortcut for the same decision, exact to
 * the socket, so that IKE's replies to a flood do not also cross the
 * queue: a datagram skips it only if it leaves from a socket that
 * bypasses outbound, which only netipsecd marks.  There is no such
 * shortcut coming in: the kernel's socket lookup (-m socket) would turn
 * on its reassembly of every fragment in the namespace (nf_defrag): ESP's
 * fragments would reach the layer already whole, and forwarded IPv6
 * ones would no longer cross tunnels.  An arriving IKE datagram takes
 * the queue, and the layer's lookup of the socket.
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
 * what the rules send there (fail closed).  So the rules stay when
 * netipsecd stops, however it stops: protected traffic stops with it,
 * until netipsecd runs again or the admin removes them ("netipsecd -U").
 * A new run replaces the chains' contents in one iptables-restore(8)
 * transaction (--noflush: nothing else is touched), so that no packet
 * ever meets an empty chain; the jumps are added only if missing.  The
 * commands are run with fork/exec of iptables(8), whichever backend
 * Debian's alternatives select; "-w" waits for the xtables lock.
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
static const char *const rules_restore_progs[] = { RULES_IPTABLES_RESTORE,
    RULES_IP6TABLES_RESTORE };

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

static int	rules_exec(const char *const *, const char *, int);
static int	rules_run(int, int, const char *, ...);
static void	rules_chain(char *, size_t, int);

/*
 * Run argv (NULL-terminated), with "input" on its standard input if not
 * NULL: 0 if it exited 0.  Its output is logged: at debug level, or as a
 * warning if it failed and "quiet" is not set.
 */
static int
rules_exec(const char *const *argv, const char *input, int quiet)
{
	char		 cmd[1024], out[1024];
	size_t		 len, olen, ilen;
	ssize_t		 n;
	pid_t		 pid;
	int		 i, p[2], in[2] = { -1, -1 }, status, devnull;

	for (len = 0, i = 0; argv[i] != NULL && len < sizeof(cmd); i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "%s%s",
		    i ? " " : "", argv[i]);
	log_debug("rules: %s", cmd);
	if (input != NULL)
		log_debug("rules: input:\n%s", input);

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("rules: pipe");
		return (-1);
	}
	if (input != NULL && pipe2(in, O_CLOEXEC) == -1) {
		log_warn("rules: pipe");
		close(p[0]);
		close(p[1]);
		return (-1);
	}
	if ((pid = fork()) == -1) {
		log_warn("rules: fork");
		close(p[0]);
		close(p[1]);
		if (input != NULL) {
			close(in[0]);
			close(in[1]);
		}
		return (-1);
	}
	if (pid == 0) {
		if (input != NULL)
			dup2(in[0], STDIN_FILENO);
		else if ((devnull = open("/dev/null", O_RDONLY)) != -1)
			dup2(devnull, STDIN_FILENO);
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execv(argv[0], (char *const *)argv);
		dprintf(STDERR_FILENO, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	if (input != NULL) {
		/* A few KB: the pipe takes them whole; then end of file. */
		close(in[0]);
		for (ilen = strlen(input); ilen > 0; ) {
			if ((n = write(in[1], input, ilen)) == -1) {
				if (errno == EINTR)
					continue;
				break;
			}
			input += n;
			ilen -= (size_t)n;
		}
		close(in[1]);
	}
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

/* Run "prog -w -t mangle args..." (NULL-terminated). */
static int
rules_run(int prog, int quiet, const char *first, ...)
{
	const char	*argv[RULES_ARGMAX];
	va_list		 ap;
	int		 i;

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
	return (rules_exec(argv, NULL, quiet));
}

static void
rules_chain(char *buf, size_t len, int c)
{
	snprintf(buf, len, "%s%d-%s", RULES_CHAIN_PREFIX, rules_queue,
	    rules_chains[c].rc_suffix);
}

/* Append a printf-formatted line to a growing buffer; -1 if too long. */
static int
rules_line(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size - *len)
		return (-1);
	*len += (size_t)n;
	return (0);
}

/*
 * Install the rules for these interfaces and this queue, replacing in one
 * transaction whatever a previous run with the same queue number left.
 * Exits on failure; the rules then are as they were.
 */
void
rules_init(int queue, char *const *ifs, int nifs)
{
	const char	*argv[8];
	char		 chain[64], *text;
	size_t		 size, len;
	size_t		 c;
	int		 prog, i, mss, ok;

	rules_queue = queue;
	size = 1024 + (size_t)nifs * 2048;
	if ((text = malloc(size)) == NULL)
		fatal("rules_init");
	for (prog = 0; prog < (int)nitems(rules_progs); prog++) {
		if (access(rules_progs[prog], X_OK) == -1)
			fatal("%s (the iptables package)", rules_progs[prog]);
		if (access(rules_restore_progs[prog], X_OK) == -1)
			fatal("%s (the iptables package)",
			    rules_restore_progs[prog]);
		len = 0;
		ok = rules_line(text, size, &len, "*mangle\n") == 0;
		for (c = 0; c < nitems(rules_chains) && ok; c++) {
			rules_chain(chain, sizeof(chain), (int)c);
			/* Declared: created, or emptied if it exists. */
			ok = rules_line(text, size, &len, ":%s - [0:0]\n",
			    chain) == 0;
		}
		for (i = 0; i < nifs && ok; i++) {
			/* IP header 20 or 40, TCP header 20. */
			mss = rules_mtu(ifs[i]) - (prog == 0 ? 20 : 40) - 20 -
			    RULES_IPSEC_ROOM;
			rules_chain(chain, sizeof(chain), 0);
			ok = rules_line(text, size, &len,
			    "-A %s -o %s -m mark --mark %s -j RETURN\n"
			    "-A %s -o %s -m mark --mark %s -j RETURN\n"
			    "-A %s -o %s -p tcp --tcp-flags SYN,RST SYN "
			    "-j TCPMSS --set-mss %d\n"
			    "-A %s -o %s -j NFQUEUE --queue-num %d\n",
			    chain, ifs[i], RAWOUT_MARK_STR, chain, ifs[i],
			    PCB_MARK_STR, chain, ifs[i], mss, chain, ifs[i],
			    queue) == 0;
			rules_chain(chain, sizeof(chain), 1);
			ok = ok && rules_line(text, size, &len,
			    "-A %s -i %s -j NFQUEUE --queue-num %d\n",
			    chain, ifs[i], queue) == 0;
			rules_chain(chain, sizeof(chain), 2);
			ok = ok && rules_line(text, size, &len,
			    "-A %s -o %s -p tcp --tcp-flags SYN,RST SYN "
			    "-j TCPMSS --set-mss %d\n"
			    "-A %s -o %s -j NFQUEUE --queue-num %d\n",
			    chain, ifs[i], mss, chain, ifs[i], queue) == 0;
		}
		/* The jumps, where missing: the chains are complete first. */
		for (c = 0; c < nitems(rules_chains) && ok; c++) {
			rules_chain(chain, sizeof(chain), (int)c);
			if (rules_run(prog, 1, "-C", rules_chains[c].rc_builtin,
			    "-j", chain, NULL) == 0)
				continue;
			ok = rules_line(text, size, &len, "-I %s 1 -j %s\n",
			    rules_chains[c].rc_builtin, chain) == 0;
		}
		ok = ok && rules_line(text, size, &len, "COMMIT\n") == 0;
		if (!ok)
			fatalx("rules_init: too many interfaces");
		argv[0] = rules_restore_progs[prog];
		argv[1] = "-w";
		argv[2] = "--noflush";
		argv[3] = NULL;
		if (rules_exec(argv, text, 0) != 0)
			fatalx("cannot install the netfilter rules (run with "
			    "-dv for the commands)");
	}
	free(text);
	for (i = 0; i < nifs; i++)
		log_info("rules: %s hooked to queue %d", ifs[i], queue);
}

/*
 * Remove the chains of this queue and the jumps to them (netipsecd -U):
 * the interfaces' packets flow as if no IPsec were there, protected
 * traffic in clear.  0 if there were rules, 1 if there were none.
 */
int
rules_unhook(int queue)
{
	char	chain[64];
	size_t	c;
	int	prog, n, found = 0;

	rules_queue = queue;
	for (prog = 0; prog < (int)nitems(rules_progs); prog++) {
		if (access(rules_progs[prog], X_OK) == -1)
			continue;
		for (c = 0; c < nitems(rules_chains); c++) {
			rules_chain(chain, sizeof(chain), (int)c);
			/* Every jump, should several have been left. */
			for (n = 0; n < 64; n++) {
				if (rules_run(prog, 1, "-D",
				    rules_chains[c].rc_builtin, "-j", chain,
				    NULL) != 0)
					break;
				found = 1;
			}
			(void)rules_run(prog, 1, "-F", chain, NULL);
			if (rules_run(prog, 1, "-X", chain, NULL) == 0)
				found = 1;
		}
	}
	return (found ? 0 : 1);
}
