/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The running state as text: the SAs with their children, and the
 * counters.  One formatter for SIGUSR1 (to the log, line by line) and
 * for ikectl(8)'s "show sa" and "show stats" (to the control socket),
 * so that the two never disagree.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>	/* mallinfo2(): the heap line */
#endif

#include <libpfkey.h>

#include "iked.h"

static const char *const show_chstates[] = {
	[CH_S_GETSPI] = "getspi",
	[CH_S_SENT] = "sent",
	[CH_S_INSTALLED] = "installed",
	[CH_S_DEAD] = "dead"
};

#define SHOW_NAME(tab, i)						\
	((size_t)(i) < sizeof(tab) / sizeof((tab)[0]) && (tab)[(i)] != NULL ? \
	    (tab)[(i)] : "?")

/* The same clock as ikesa.c's sa_created and ch_created. */
static time_t
show_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec);
}

/* A selector: address/prefix, then its port if it has one. */
static void
show_sel(FILE *fp, const union iked_sockaddr *sel, u_int plen)
{
	struct sockaddr_storage	 ss;
	char			 host[INET6_ADDRSTRLEN + 8];
	in_port_t		 port;

	sa_get(&ss, sel);
	port = sa_port((struct sockaddr *)&ss);
	sa_setport((struct sockaddr *)&ss, 0);
	fprintf(fp, "%s/%u", print_host((struct sockaddr *)&ss, host,
	    sizeof(host)), plen);
	if (port != 0)
		fprintf(fp, " port %u", port);
}

static void
show_child(FILE *fp, const struct iked_child *ch, time_t now)
{
	const char	*proto;

	fprintf(fp, "  child in 0x%08x out 0x%08x %s %s %s ",
	    ntohl(ch->ch_spi_in), ntohl(ch->ch_spi_out),
	    ch->ch_saproto == IPPROTO_AH ? "ah" : "esp",
	    ch->ch_mode == IPSEC_MODE_TUNNEL ? "tunnel" : "transport",
	    SHOW_NAME(show_chstates, ch->ch_state));
	show_sel(fp, &ch->ch_lsel, ch->ch_lplen);
	fprintf(fp, " -> ");
	show_sel(fp, &ch->ch_rsel, ch->ch_rplen);
	if (ch->ch_ulproto == 0 || ch->ch_ulproto == IPSEC_ULPROTO_ANY)
		proto = "any";
	else
		proto = parse_protoname(ch->ch_ulproto);
	if (proto != NULL)
		fprintf(fp, " proto %s", proto);
	else
		fprintf(fp, " proto %u", ch->ch_ulproto);
	fprintf(fp, " age %llds\n", (long long)(now - ch->ch_created));
}

/*
 * Each IKE SA (IKEv1 phase 1) on one line, its children (SA pairs) on
 * the lines below it, indented.
 */
void
show_sas(FILE *fp, const struct iked *env)
{
	const struct iked_sa	*sa;
	const struct iked_child	*ch;
	char			 l[INET6_ADDRSTRLEN + 16];
	char			 p[INET6_ADDRSTRLEN + 16];
	time_t			 now = show_now();

	TAILQ_FOREACH(sa, &env->sc_sas, sa_entry) {
		fprintf(fp, "sa \"%s\": ikev%d %s %s local %s peer %s "
		    "nat-t %s", sa->sa_pol != NULL && sa->sa_pol->pol_name[0] ?
		    sa->sa_pol->pol_name : "-", sa->sa_version,
		    sa->sa_initiator ? "initiator" : "responder",
		    ikesa_statename(sa->sa_state),
		    print_host(&sa->sa_local.sa, l, sizeof(l)),
		    print_host(&sa->sa_peer.sa, p, sizeof(p)),
		    sa->sa_nat & SA_NATT_FLOAT ? "yes" : "no");
		if (sa->sa_nat & (SA_NAT_LOCAL | SA_NAT_PEER))
			fprintf(fp, " behind-nat %s",
			    (sa->sa_nat & SA_NAT_LOCAL) == 0 ? "peer" :
			    (sa->sa_nat & SA_NAT_PEER) == 0 ? "local" :
			    "local,peer");
		fprintf(fp, " age %llds\n", (long long)(now - sa->sa_created));
		TAILQ_FOREACH(ch, &sa->sa_children, ch_entry)
			show_child(fp, ch, now);
	}
}

/* The counters of struct iked_stats and, with glibc, the heap. */
void
show_stats(FILE *fp, const struct iked *env)
{
	const struct iked_stats		*st = &env->sc_stats;
	const struct ikemsg_stats	*ms = &st->st_msg;

	fprintf(fp, "stats: rx %llu tx %llu dropped %llu badauth %llu "
	    "retransmits %llu phase1 %llu phase2 %llu acquires %llu "
	    "children-refused %llu kernel-refused %llu "
	    "halfopen-refused %llu\n",
	    (unsigned long long)st->st_rx, (unsigned long long)st->st_tx,
	    (unsigned long long)st->st_dropped,
	    (unsigned long long)st->st_badauth,
	    (unsigned long long)st->st_retransmits,
	    (unsigned long long)st->st_ph1_established,
	    (unsigned long long)st->st_ph2_established,
	    (unsigned long long)st->st_acquires,
	    (unsigned long long)st->st_children_refused,
	    (unsigned long long)st->st_kernel_refused,
	    (unsigned long long)st->st_halfopen_refused);
	fprintf(fp, "halfopen: ikev1 %u/%u ikev2 %u/%u evicted %llu "
	    "expired %llu unanswered %llu answered-again %llu\n",
	    halfopen_count(env, 1), env->sc_halfopen[0].ho_max,
	    halfopen_count(env, 2), env->sc_halfopen[1].ho_max,
	    (unsigned long long)st->st_halfopen_evicted,
	    (unsigned long long)st->st_halfopen_expired,
	    (unsigned long long)st->st_shed,
	    (unsigned long long)st->st_readmitted);
	fprintf(fp, "messages: parsed %llu short %llu badlen %llu "
	    "version %llu syntax %llu critical %llu pldtype %llu doi %llu "
	    "toomany %llu frag %llu notike %llu\n",
	    (unsigned long long)ms->ims_parsed,
	    (unsigned long long)ms->ims_dropped_short,
	    (unsigned long long)ms->ims_dropped_badlen,
	    (unsigned long long)ms->ims_dropped_version,
	    (unsigned long long)ms->ims_dropped_syntax,
	    (unsigned long long)ms->ims_dropped_critical,
	    (unsigned long long)ms->ims_dropped_pldtype,
	    (unsigned long long)ms->ims_dropped_doi,
	    (unsigned long long)ms->ims_dropped_toomany,
	    (unsigned long long)ms->ims_dropped_frag,
	    (unsigned long long)ms->ims_notike);
#ifdef __GLIBC__
	{
		struct mallinfo2 mi = mallinfo2();

		fprintf(fp, "heap: %zu bytes in use, %zu free in the arena\n",
		    mi.uordblks, mi.fordblks);
	}
#endif
}

/* One side of a flow: address/prefix, then its port if it has one. */
static void
show_flowsel(FILE *fp, const struct sockaddr_storage *ss, u_int plen)
{
	union iked_sockaddr	 u;

	sa_set(&u, (const struct sockaddr *)ss);
	show_sel(fp, &u, plen);
}

/*
 * The flows iked put into the kernel's SPD (install-policies, and
 * generate-policy's from negotiations), one a line, outbound first:
 * OpenBSD's "ikectl show flow", in ipsecctl(8)'s words; "local" and
 * "peer" are the tunnel's ends seen from here, in either direction.
 */
void
show_flows(FILE *fp, const struct iked *env)
{
	static const uint8_t	 dirs[] = { IPSEC_DIR_OUTBOUND,
				    IPSEC_DIR_INBOUND };
	const struct iked_spd	*spd;
	const struct sockaddr	*local, *peer;
	const char		*proto;
	char			 l[INET6_ADDRSTRLEN + 8];
	char			 p[INET6_ADDRSTRLEN + 8];
	size_t			 i;

	for (i = 0; i < sizeof(dirs); i++) {
		TAILQ_FOREACH(spd, &env->sc_spds, spd_entry) {
			if (!spd->spd_mine || spd->spd_dir != dirs[i] ||
			    spd->spd_type != IPSEC_POLICY_IPSEC)
				continue;
			fprintf(fp, "flow %s %s from ",
			    spd->spd_proto == IPPROTO_AH ? "ah" : "esp",
			    dirs[i] == IPSEC_DIR_OUTBOUND ? "out" : "in");
			show_flowsel(fp, &spd->spd_src, spd->spd_sprefix);
			fprintf(fp, " to ");
			show_flowsel(fp, &spd->spd_dst, spd->spd_dprefix);
			if (spd->spd_ulproto != IPSEC_ULPROTO_ANY) {
				if ((proto = parse_protoname(
				    spd->spd_ulproto)) != NULL)
					fprintf(fp, " proto %s", proto);
				else
					fprintf(fp, " proto %u",
					    spd->spd_ulproto);
			}
			if (spd->spd_mode == IPSEC_MODE_TUNNEL) {
				local = (const struct sockaddr *)
				    (dirs[i] == IPSEC_DIR_OUTBOUND ?
				    &spd->spd_tsrc : &spd->spd_tdst);
				peer = (const struct sockaddr *)
				    (dirs[i] == IPSEC_DIR_OUTBOUND ?
				    &spd->spd_tdst : &spd->spd_tsrc);
				fprintf(fp, " tunnel local %s peer %s",
				    print_host(local, l, sizeof(l)),
				    print_host(peer, p, sizeof(p)));
			} else
				fprintf(fp, " transport");
			fprintf(fp, " %s policy %u\n",
			    spd->spd_level == IPSEC_LEVEL_UNIQUE ? "unique" :
			    spd->spd_level == IPSEC_LEVEL_USE ? "use" :
			    "require", spd->spd_id);
		}
	}
}
