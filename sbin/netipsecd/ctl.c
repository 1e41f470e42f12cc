/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The control socket: an AF_UNIX SOCK_STREAM socket next to the PF_KEY
 * one (the abstract "\0netipsec.ctl" by default, "path.ctl" with -s
 * path), root only (SO_PEERCRED).  A client that connects gets the
 * statistics as text, then end of file; "netipsecd -S" is that client.
 */

#define	_GNU_SOURCE		/* SO_PEERCRED, struct ucred */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <netipsec/ipsec_hook.h>
#include <netipsec/esp.h>
#include <netipsec/ah.h>
#include <netipsec/ipcomp.h>
#include <netipsec/key.h>

#include "netipsecd.h"

static struct ctl {
	const struct netipsecd_conf	*cs_conf;
	int				 cs_fd;
	struct event			*cs_ev;
	char				 cs_name[128];
	char				*cs_unlink;
} ctl = { .cs_fd = -1 };

static socklen_t ctl_addr(const struct netipsecd_conf *,
		    struct sockaddr_un *, char *, size_t);
static void	ctl_accept(int, short, void *);
static void	ctl_layer_stats(FILE *);
static void	ctl_limit_stats(FILE *);

/* The control socket's address for this configuration: its length. */
static socklen_t
ctl_addr(const struct netipsecd_conf *conf, struct sockaddr_un *sun,
    char *name, size_t namelen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (conf->nc_sockpath == NULL) {
		memcpy(sun->sun_path + 1, NETIPSECD_CTL_ABSTRACT,
		    strlen(NETIPSECD_CTL_ABSTRACT));
		snprintf(name, namelen, "@%s", NETIPSECD_CTL_ABSTRACT);
		return ((socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    1 + strlen(NETIPSECD_CTL_ABSTRACT)));
	}
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s%s",
	    conf->nc_sockpath, NETIPSECD_CTL_SUFFIX) >= sizeof(sun->sun_path))
		fatalx("%s%s: control socket path too long (at most %zu "
		    "bytes)", conf->nc_sockpath, NETIPSECD_CTL_SUFFIX,
		    sizeof(sun->sun_path) - 1);
	strlcpy(name, sun->sun_path, namelen);
	return ((socklen_t)sizeof(*sun));
}

/* Before daemon(3), like the PF_KEY listener. */
void
ctl_listen(const struct netipsecd_conf *conf)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	char			cwd[PATH_MAX];
	mode_t			omask;
	int			fd;

	ctl.cs_conf = conf;
	len = ctl_addr(conf, &sun, ctl.cs_name, sizeof(ctl.cs_name));
	/* The PF_KEY socket at the same base is ours, so this one is stale. */
	if (conf->nc_sockpath != NULL && unlink(sun.sun_path) == -1 &&
	    errno != ENOENT)
		fatal("%s: unlink", sun.sun_path);

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		fatal("ctl_listen: socket");
	omask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, len) == -1)
		fatal("%s: bind", ctl.cs_name);
	umask(omask);
	if (conf->nc_sockpath != NULL) {
		if (sun.sun_path[0] == '/')
			ctl.cs_unlink = strdup(sun.sun_path);
		else if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    asprintf(&ctl.cs_unlink, "%s/%s", cwd, sun.sun_path) == -1)
			ctl.cs_unlink = NULL;
		if (ctl.cs_unlink == NULL)
			fatal("ctl_listen: %s", sun.sun_path);
	}
	if (listen(fd, 16) == -1)
		fatal("%s: listen", ctl.cs_name);
	ctl.cs_fd = fd;
}

void
ctl_start(struct event_base *base)
{
	ctl.cs_ev = event_new(base, ctl.cs_fd, EV_READ | EV_PERSIST,
	    ctl_accept, NULL);
	if (ctl.cs_ev == NULL || event_add(ctl.cs_ev, NULL) == -1)
		fatalx("ctl_start: cannot set up the control socket");
	log_debug("control socket on %s", ctl.cs_name);
}

void
ctl_stop(void)
{
	if (ctl.cs_ev != NULL)
		event_free(ctl.cs_ev);
	ctl.cs_ev = NULL;
	if (ctl.cs_fd != -1)
		close(ctl.cs_fd);
	ctl.cs_fd = -1;
	if (ctl.cs_unlink != NULL) {
		if (unlink(ctl.cs_unlink) == -1 && errno != ENOENT)
			log_warn("%s: unlink", ctl.cs_unlink);
		free(ctl.cs_unlink);
		ctl.cs_unlink = NULL;
	}
}

/*
 * The request: one line, "stats" (netipsecd -S) or "if ..." (ipsecif(8),
 * tun.c), read for at most a second; a client that sends nothing gets
 * the statistics, as before requests were.
 */
static void
ctl_request(int cfd, FILE *fp)
{
	struct timeval	 tv = { 1, 0 };
	char		 line[1024], *argv[32], *p, *w;
	size_t		 off = 0;
	ssize_t		 n;
	int		 argc = 0;

	(void)setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (off < sizeof(line) - 1) {
		n = recv(cfd, line + off, sizeof(line) - 1 - off, 0);
		if (n <= 0)
			break;
		off += (size_t)n;
		if (memchr(line + off - (size_t)n, '\n', (size_t)n) != NULL)
			break;
	}
	line[off] = '\0';
	if ((p = strchr(line, '\n')) != NULL)
		*p = '\0';
	for (p = line; (w = strsep(&p, " \t")) != NULL; ) {
		if (*w == '\0')
			continue;
		if (argc == (int)(sizeof(argv) / sizeof(argv[0]))) {
			fprintf(fp, "error: too many words\n");
			return;
		}
		argv[argc++] = w;
	}
	if (argc == 0 || strcmp(argv[0], "stats") == 0)
		ctl_stats(fp);
	else if (strcmp(argv[0], "if") == 0)
		tun_ctl(argc - 1, argv + 1, fp);
	else
		fprintf(fp, "error: %s: unknown request\n", argv[0]);
}

/* A client: root gets the statistics, anyone else a closed socket. */
static void
ctl_accept(int fd, short event __attribute__((__unused__)),
    void *arg __attribute__((__unused__)))
{
	struct ucred	 uc;
	struct timeval	 tv = { 1, 0 };
	socklen_t	 len;
	FILE		*fp;
	char		*text = NULL;
	size_t		 tlen = 0, off;
	ssize_t		 n;
	int		 cfd;

	if ((cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("ctl_accept");
		return;
	}
	len = sizeof(uc);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    uc.uid != 0) {
		log_warnx("ctl_accept: refused pid %ld uid %lu",
		    (long)uc.pid, (unsigned long)uc.uid);
		close(cfd);
		return;
	}
	/* A few KB that fit the socket buffer; never wait long. */
	(void)setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if ((fp = open_memstream(&text, &tlen)) == NULL) {
		log_warn("ctl_accept");
		close(cfd);
		return;
	}
	ctl_request(cfd, fp);
	if (fclose(fp) == 0)
		for (off = 0; off < tlen; off += (size_t)n)
			if ((n = send(cfd, text + off, tlen - off,
			    MSG_NOSIGNAL)) <= 0)
				break;
	free(text);
	close(cfd);
}

/* The statistics, as "netipsecd -S" prints them. */
void
ctl_stats(FILE *fp)
{
	const struct netipsecd_conf	*conf = ctl.cs_conf;
	struct nfq_stats		 s;
	unsigned int			 total, qdrop, udrop;
	int				 i;

	fprintf(fp, "netfilter queue:");
	if (conf->nc_nifs == 0)
		fprintf(fp, " none (no -i)\n");
	else {
		fprintf(fp, " %d, interfaces", nfq_queue());
		for (i = 0; i < conf->nc_nifs; i++)
			fprintf(fp, " %s", conf->nc_ifs[i]);
		fprintf(fp, "\n");
	}
#define	LOAD(f)	s.f = __atomic_load_n(&nfq_stats.f, __ATOMIC_RELAXED)
	LOAD(ns_out); LOAD(ns_in); LOAD(ns_fwd);
	LOAD(ns_pass); LOAD(ns_replace); LOAD(ns_held); LOAD(ns_drop);
	LOAD(ns_stolen);
	LOAD(ns_rel_replace); LOAD(ns_rel_drop);
	LOAD(ns_family); LOAD(ns_toobig); LOAD(ns_badhook);
	LOAD(ns_badverdict); LOAD(ns_badmsg);
	LOAD(ns_gro_segs); LOAD(ns_gro_pkts);
	LOAD(ns_recvcalls); LOAD(ns_sendcalls);
	LOAD(ns_recverr); LOAD(ns_senderr); LOAD(ns_nlerr);
#undef LOAD
	fprintf(fp, "\t%ju packets queued at output\n", (uintmax_t)s.ns_out);
	fprintf(fp, "\t%ju packets queued at input\n", (uintmax_t)s.ns_in);
	fprintf(fp, "\t%ju packets queued at forward\n", (uintmax_t)s.ns_fwd);
	fprintf(fp, "\t%ju passed unmodified\n", (uintmax_t)s.ns_pass);
	fprintf(fp, "\t%ju replaced\n", (uintmax_t)s.ns_replace);
	fprintf(fp, "\t%ju dropped by the layer\n", (uintmax_t)s.ns_drop);
	fprintf(fp, "\t%ju held\n", (uintmax_t)s.ns_held);
	fprintf(fp, "\t%ju given to an ipsec interface\n",
	    (uintmax_t)s.ns_stolen);
	fprintf(fp, "\t%ju held, then sent\n", (uintmax_t)s.ns_rel_replace);
	fprintf(fp, "\t%ju held, then dropped\n", (uintmax_t)s.ns_rel_drop);
	fprintf(fp, "\t%ju dropped: address family changed\n",
	    (uintmax_t)s.ns_family);
	fprintf(fp, "\t%ju dropped: packet too long for a verdict\n",
	    (uintmax_t)s.ns_toobig);
	fprintf(fp, "\t%ju dropped: unknown hook or verdict\n",
	    (uintmax_t)(s.ns_badhook + s.ns_badverdict));
	fprintf(fp, "\t%ju malformed queue messages\n",
	    (uintmax_t)s.ns_badmsg);
	fprintf(fp, "\t%ju decrypted TCP segments coalesced into %ju "
	    "packets\n", (uintmax_t)s.ns_gro_segs, (uintmax_t)s.ns_gro_pkts);
	fprintf(fp, "\t%ju receive calls, %ju verdict sends\n",
	    (uintmax_t)s.ns_recvcalls, (uintmax_t)s.ns_sendcalls);
	fprintf(fp, "\t%ju netlink errors (receive %ju, send %ju, "
	    "error messages %ju)\n",
	    (uintmax_t)(s.ns_recverr + s.ns_senderr + s.ns_nlerr),
	    (uintmax_t)s.ns_recverr, (uintmax_t)s.ns_senderr,
	    (uintmax_t)s.ns_nlerr);
	if (conf->nc_nifs > 0 && nfq_kstats(&total, &qdrop, &udrop) == 0) {
		fprintf(fp, "\t%u packets waiting in the kernel\n", total);
		fprintf(fp, "\t%u dropped by the kernel: queue full\n", qdrop);
		fprintf(fp, "\t%u dropped by the kernel: socket buffer full\n",
		    udrop);
	}
	ctl_layer_stats(fp);
	ctl_limit_stats(fp);
}

/* What the ceilings refused: key engine tunables, netipsecd's own. */
static void
ctl_limit_stats(FILE *fp)
{
	struct keystat	ks;

	key_getstat(&ks);
	fprintf(fp, "pfkey:\n");
	fprintf(fp, "\t%ju GETSPI and ADD refused: SAD full "
	    "(net.key.sa_max)\n", (uintmax_t)ks.ks_sadfull);
	fprintf(fp, "\t%ju SPDADD refused: SPD full (net.key.sp_max)\n",
	    (uintmax_t)ks.ks_spdfull);
	fprintf(fp, "\t%ju ACQUIREs not sent: table full "
	    "(net.key.acq_max)\n", (uintmax_t)ks.ks_acqfull);
	fprintf(fp, "\t%ju dumps refused: one in progress on the socket\n",
	    (uintmax_t)ks.ks_dumpbusy);
	fprintf(fp, "\t%ju connections refused (netipsecd.maxclients)\n",
	    (uintmax_t)pfkey_srv_refused());
}

/*
 * The IPsec layer's own statistics, netstat -s -p ipsec and -p esp style.
 */
static void
ctl_layer_stats(FILE *fp)
{
	struct ipsecstat	st;
	struct espstat		es;
	struct ahstat		as;
	struct ipcompstat	cs;

	ipsec_getstat(&st);
	fprintf(fp, "ipsec:\n");
#define	P(f, what)	fprintf(fp, "\t%ju %s\n", (uintmax_t)st.f, what)
	P(ips_out_total, "outbound packets looked at");
	P(ips_out_esp, "outbound packets protected with ESP");
	P(ips_out_polvio, "outbound packets violated process security policy");
	P(ips_out_nosa, "outbound packets with no SA available");
	P(ips_out_acqfail, "outbound packets: ACQUIRE could not be sent");
	P(ips_out_hold, "outbound packets held for an ACQUIRE");
	P(ips_out_holddrop, "outbound packets not held: hold queue full");
	P(ips_out_holdexp, "outbound packets held too long, dropped");
	P(ips_out_bundlesa, "outbound packets with a request not applied");
	P(ips_out_inval, "invalid outbound packets");
	P(ips_in_total, "inbound packets looked at");
	P(ips_in_esp, "inbound ESP packets accepted");
	P(ips_in_polvio, "inbound packets violated process security policy");
	P(ips_in_nosa, "inbound ESP packets with no SA");
	P(ips_in_espfail, "inbound ESP packets refused");
	P(ips_in_inval, "invalid inbound packets");
	P(ips_held_now, "packets held now");
	P(ips_out_toobig, "outbound packets too big once protected");
	P(ips_out_icmp, "ICMP errors sent with the MTU that fits");
	P(ips_out_raw, "outbound packets of another family sent raw");
	P(ips_in_raw, "inbound inner packets of another family sent raw");
	P(ips_raw_fail, "packets the raw output could not send");
	P(ips_in_frag, "inbound fragments taken for reassembly");
	P(ips_in_reass, "inbound datagrams reassembled");
	P(ips_in_fragdrop, "inbound fragments refused");
	P(ips_out_pcb, "outbound packets under a socket's policy");
	P(ips_in_pcb, "inbound packets under a socket's policy");
	P(ips_in_sacheck,
	    "inbound packets refused: not from an SA their policy names");
	P(ips_nomem, "packets dropped: out of memory");
	P(ips_out_ah, "outbound packets protected with AH");
	P(ips_in_ah, "inbound AH packets accepted");
	P(ips_in_ahfail, "inbound AH packets refused (see ah below)");
	P(ips_out_ipcomp, "outbound packets through an IPComp SA");
	P(ips_in_ipcomp, "inbound IPComp packets accepted");
	P(ips_in_ipcompfail,
	    "inbound IPComp packets refused (see ipcomp below)");
	P(ips_out_bundle, "outbound packets through several SAs");
	P(ips_in_bundle, "inbound packets through several SAs");
	P(ips_out_if, "packets routed into an ipsec interface, protected");
	P(ips_in_if, "packets out of an ipsec interface's tunnel");
	P(ips_if_down, "packets dropped: ipsec interface without tunnel, "
	    "or a loop");
	fprintf(fp, "\t%u sockets with policies\n", pcb_srv_count());
#undef P
	ipsec_getespstat(&es);
	fprintf(fp, "esp:\n");
#define	P(f, what)	fprintf(fp, "\t%ju %s\n", (uintmax_t)es.f, what)
	P(esps_output, "packets out");
	P(esps_obytes, "bytes out");
	P(esps_input, "packets in");
	P(esps_ibytes, "bytes in");
	P(esps_hdrops, "packets shorter than header shows");
	P(esps_badilen, "packets with bad length or padding length");
	P(esps_badenc, "packets with bad padding");
	P(esps_badauth, "packets that failed the ICV check");
	P(esps_replay, "packets replayed or too old");
	P(esps_wrap, "packets refused: sequence number would wrap");
	P(esps_noxform, "packets for an SA without a usable transform");
	P(esps_crypto, "crypto library errors");
#undef P
	ipsec_getahstat(&as);
	fprintf(fp, "ah:\n");
#define	P(f, what)	fprintf(fp, "\t%ju %s\n", (uintmax_t)as.f, what)
	P(ahs_output, "packets out");
	P(ahs_obytes, "bytes out");
	P(ahs_input, "packets in");
	P(ahs_ibytes, "bytes in");
	P(ahs_hdrops, "packets shorter than header shows");
	P(ahs_badauthl, "packets with an AH length not the SA's");
	P(ahs_badauth, "packets that failed the ICV check");
	P(ahs_replay, "packets replayed or too old");
	P(ahs_wrap, "packets refused: sequence number would wrap");
	P(ahs_noxform, "packets for an SA without a usable transform");
	P(ahs_crypto, "crypto library errors");
#undef P
	ipsec_getipcompstat(&cs);
	fprintf(fp, "ipcomp:\n");
#define	P(f, what)	fprintf(fp, "\t%ju %s\n", (uintmax_t)cs.f, what)
	P(ipcomps_output, "packets compressed");
	P(ipcomps_obytes, "bytes before compression");
	P(ipcomps_input, "packets decompressed");
	P(ipcomps_ibytes, "bytes after decompression");
	P(ipcomps_threshold, "packets sent uncompressed: under the threshold");
	P(ipcomps_uncompr, "packets sent uncompressed: they did not shrink");
	P(ipcomps_hdrops, "packets shorter than header shows");
	P(ipcomps_pdrops, "packets refused: IPComp in IPComp, or disabled");
	P(ipcomps_toobig, "packets that would exceed the IP maximum");
	P(ipcomps_noxform, "packets for an SA without a usable transform");
	P(ipcomps_crypto, "packets that failed to (de)compress");
#undef P
}

/* netipsecd -S: connect, copy the text to standard output. */
int
ctl_show(const struct netipsecd_conf *conf)
{
	struct sockaddr_un	sun;
	socklen_t		len;
	char			name[128], buf[4096];
	ssize_t			n;
	size_t			total = 0;
	int			fd;

	len = ctl_addr(conf, &sun, name, sizeof(name));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, len) == -1)
		err(1, "%s (is netipsecd running in this network namespace?)",
		    name);
	if (write(fd, "stats\n", 6) != 6)
		err(1, "%s: write", name);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s: read", name);
		}
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			err(1, "stdout");
		total += (size_t)n;
	}
	close(fd);
	if (total == 0)
		errx(1, "%s: closed without an answer (only root may ask)",
		    name);
	if (fflush(stdout) == EOF)
		err(1, "stdout");
	return (0);
}
