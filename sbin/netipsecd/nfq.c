/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The packet hook: one netfilter queue (libnetfilter_queue over libmnl)
 * that the rules of rules.c fill with the packets of the IPsec-enabled
 * interfaces, read by one thread that hands each packet to the IPsec
 * layer (ipsec_hook(9), sys/netipsec/ipsec_hook.h) and gives the kernel
 * the layer's verdict.
 *
 * Set-up (nfqueue-facts.md): copy mode "packet", a receive buffer of
 * several MiB (SO_RCVBUFFORCE), NETLINK_NO_ENOBUFS, a queue of thousands
 * of packets, and neither NFQA_CFG_F_GSO (the kernel segments, so every
 * packet is a real one with its checksums) nor NFQA_CFG_F_FAIL_OPEN (a
 * full queue drops: nothing skips the layer).  Both flags are cleared
 * explicitly.
 *
 * Batching: the thread takes up to NFQ_BATCH packets with one recvmmsg(2)
 * and sends their verdicts, payloads included, concatenated in one
 * sendmsg(2).  Verdicts of held packets come later from the layer's
 * release callback, on whatever thread releases them; every send on the
 * netlink socket is made under nfq_sendmtx.
 *
 * Inbound, the decrypted TCP segments of a batch that follow each other
 * are given back as one packet (gro.c): the first ESP packet's verdict
 * carries the run, the others are dropped, and the kernel delivers one
 * packet instead of tens.  A run never outlives its batch, and anything
 * else arriving ends it first, so that the packets of the hook keep
 * their order.
 *
 * The hook of each packet comes from its packet header: NF_INET_LOCAL_OUT
 * is IPSEC_HOOK_OUT, NF_INET_PRE_ROUTING IPSEC_HOOK_IN, NF_INET_FORWARD
 * IPSEC_HOOK_FWD.  The cookie handed to the layer is the queue's packet
 * id, with the IP version of the packet in bits 32-39, so that a
 * released packet of the other family is recognized: a verdict cannot
 * change a queued packet's family, so such a packet is dropped and
 * counted.
 */

#define	_GNU_SOURCE		/* recvmmsg(2) */

#include <sys/types.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include <netipsec/ipsec_hook.h>
#include <ukern/ukern_hook.h>

#include "netipsecd.h"
#include "gro.h"

#define	NFQ_BATCH	64		/* packets per recvmmsg(2) */
#define	NFQ_RCVMSG	(0xffff + 4096)	/* one packet and its attributes */
#define	NFQ_SENDBUF	(1024 * 1024)	/* verdicts of one batch */
#define	NFQ_VERDICT_HDR	256		/* a verdict's headers, generously */
#define	NFQ_PAYLOAD_MAX	(0xffff - 4)	/* what an nlattr can carry */

static struct nfq {
	struct mnl_socket	*nq_nl;
	unsigned int		 nq_portid;
	int			 nq_fd;
	int			 nq_queue;
	int			 nq_stopfd;	/* eventfd: the thread stops */
	pthread_t		 nq_thread;
	int			 nq_running;

	pthread_mutex_t		 nq_sendmtx;	/* sends; nq_open */
	int			 nq_open;	/* the socket may be used */

	/* The queue thread's. */
	struct mmsghdr		 nq_mmsg[NFQ_BATCH];
	struct iovec		 nq_iov[NFQ_BATCH];
	uint8_t			*nq_rbuf;	/* NFQ_BATCH * NFQ_RCVMSG */
	uint8_t			*nq_sbuf;	/* NFQ_SENDBUF */
	size_t			 nq_slen;
	struct gro		 nq_gro;	/* the run of decrypted TCP */
	uint32_t		 nq_gro_id;	/* its first packet */
	int			 nq_gro_ipv;
	uint32_t		 nq_gro_drop[NFQ_BATCH]; /* the others */
	int			 nq_gro_ndrop;
} nfq = { .nq_fd = -1, .nq_stopfd = -1, .nq_queue = -1,
    .nq_sendmtx = PTHREAD_MUTEX_INITIALIZER };

struct nfq_stats nfq_stats;

#define	NFQ_COUNT(f)	__atomic_fetch_add(&nfq_stats.f, 1, __ATOMIC_RELAXED)

static int	nfq_config(struct nlmsghdr *);
static void	*nfq_thread(void *);
static int	nfq_packet(const struct nlmsghdr *, void *);
static void	nfq_verdict(uint32_t, int, int, const void *, size_t);
static void	nfq_flush(void);
static void	nfq_gro_add(uint32_t, int, const void *, size_t,
		    const struct gro_seg *);
static void	nfq_gro_flush(void);
static void	nfq_release(void *, uint64_t, int, struct mbuf *);

/* Send one configuration message and wait for its acknowledgement. */
static int
nfq_config(struct nlmsghdr *nlh)
{
	uint8_t	buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t	n;
	int	ret;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(nfq.nq_nl, nlh, nlh->nlmsg_len) == -1)
		return (-1);
	for (;;) {
		if ((n = mnl_socket_recvfrom(nfq.nq_nl, buf, sizeof(buf))) ==
		    -1)
			return (-1);
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq,
		    nfq.nq_portid, NULL, NULL);
		if (ret == -1)
			return (-1);
		if (ret == MNL_CB_STOP)
			return (0);
	}
}

/*
 * Bind the queue and configure it.  Before daemon(3): no thread yet, and
 * errors reach the terminal.
 */
void
nfq_init(int queue, int maxlen, int rcvbuf, int coalesce)
{
	uint8_t			 buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr		*nlh;
	int			 one = 1, sndbuf = 4 * NFQ_SENDBUF, i;

	nfq.nq_queue = queue;
	if ((nfq.nq_nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC)) ==
	    NULL)
		fatal("nfq_init: netlink socket");
	if (mnl_socket_bind(nfq.nq_nl, 0, MNL_SOCKET_AUTOPID) == -1)
		fatal("nfq_init: netlink bind");
	nfq.nq_portid = mnl_socket_get_portid(nfq.nq_nl);
	nfq.nq_fd = mnl_socket_get_fd(nfq.nq_nl);

	if (setsockopt(nfq.nq_fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		fatal("nfq_init: SO_RCVBUFFORCE %d", rcvbuf);
	if (setsockopt(nfq.nq_fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf,
	    sizeof(sndbuf)) == -1)
		fatal("nfq_init: SO_SNDBUFFORCE");
	if (mnl_socket_setsockopt(nfq.nq_nl, NETLINK_NO_ENOBUFS, &one,
	    sizeof(one)) == -1)
		fatal("nfq_init: NETLINK_NO_ENOBUFS");

	nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_CONFIG, (uint32_t)queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (nfq_config(nlh) == -1) {
		if (errno == EBUSY || errno == EEXIST)
			fatalx("netfilter queue %d is in use by another "
			    "program in this network namespace (-o "
			    "netipsecd.queue= chooses another)", queue);
		fatal("netfilter queue %d: bind", queue);
	}

	nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_CONFIG, (uint32_t)queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, (uint32_t)maxlen);
	/* Fail closed, and no GSO super-packets. */
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(0));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK,
	    htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));
	if (nfq_config(nlh) == -1)
		fatal("netfilter queue %d: configuration", queue);

	if ((nfq.nq_rbuf = malloc((size_t)NFQ_BATCH * NFQ_RCVMSG)) == NULL ||
	    (nfq.nq_sbuf = malloc(NFQ_SENDBUF)) == NULL ||
	    gro_init(&nfq.nq_gro, (size_t)coalesce) == -1)
		fatal("nfq_init");
	for (i = 0; i < NFQ_BATCH; i++) {
		nfq.nq_iov[i].iov_base = nfq.nq_rbuf + (size_t)i * NFQ_RCVMSG;
		nfq.nq_iov[i].iov_len = NFQ_RCVMSG;
		nfq.nq_mmsg[i].msg_hdr.msg_iov = &nfq.nq_iov[i];
		nfq.nq_mmsg[i].msg_hdr.msg_iovlen = 1;
	}
	nfq.nq_open = 1;
	log_info("netfilter queue %d bound (maxlen %d, receive buffer %d, "
	    "coalescing %d)", queue, maxlen, rcvbuf, coalesce);
}

/* Start the queue thread; the layer is ready. */
void
nfq_start(void)
{
	int	error;

	if (nfq.nq_nl == NULL)
		return;
	if ((nfq.nq_stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		fatal("nfq_start: eventfd");
	ipsec_hook_setrelease(nfq_release, NULL);
	if ((error = pthread_create(&nfq.nq_thread, NULL, nfq_thread,
	    NULL)) != 0) {
		errno = error;
		fatal("nfq_start: pthread_create");
	}
	nfq.nq_running = 1;
}

/*
 * Stop the thread and close the queue.  The kernel drops the packets
 * still queued (fail closed); packets the layer holds are dropped by
 * their release, which no longer sends anything.
 */
void
nfq_stop(void)
{
	uint64_t	one = 1;

	if (nfq.nq_running) {
		if (write(nfq.nq_stopfd, &one, sizeof(one)) == -1)
			log_warn("nfq_stop: eventfd");
		pthread_join(nfq.nq_thread, NULL);
		nfq.nq_running = 0;
	}
	pthread_mutex_lock(&nfq.nq_sendmtx);
	nfq.nq_open = 0;
	pthread_mutex_unlock(&nfq.nq_sendmtx);
	if (nfq.nq_nl != NULL)
		mnl_socket_close(nfq.nq_nl);
	nfq.nq_nl = NULL;
	nfq.nq_fd = -1;
	if (nfq.nq_stopfd != -1)
		close(nfq.nq_stopfd);
	nfq.nq_stopfd = -1;
	free(nfq.nq_rbuf);
	free(nfq.nq_sbuf);
	nfq.nq_rbuf = nfq.nq_sbuf = NULL;
	gro_fini(&nfq.nq_gro);
}

static void *
nfq_thread(void *arg __attribute__((__unused__)))
{
	struct pollfd	pfd[2];
	int		i, n;

	pfd[0].fd = nfq.nq_fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = nfq.nq_stopfd;
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("nfq_thread: poll");
		}
		if (pfd[1].revents & POLLIN)
			break;
		if (!(pfd[0].revents & (POLLIN | POLLERR)))
			continue;
		n = recvmmsg(nfq.nq_fd, nfq.nq_mmsg, NFQ_BATCH, MSG_DONTWAIT,
		    NULL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			/* ENOBUFS only without NETLINK_NO_ENOBUFS. */
			NFQ_COUNT(ns_recverr);
			log_warn("nfq_thread: recvmmsg");
			continue;
		}
		__atomic_fetch_add(&nfq_stats.ns_recvcalls, 1,
		    __ATOMIC_RELAXED);
		for (i = 0; i < n; i++) {
			if (nfq.nq_mmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				NFQ_COUNT(ns_badmsg);
				continue;
			}
			if (mnl_cb_run(nfq.nq_iov[i].iov_base,
			    nfq.nq_mmsg[i].msg_len, 0, 0, nfq_packet,
			    NULL) == -1)
				NFQ_COUNT(ns_nlerr);	/* an NLMSG_ERROR */
		}
		nfq_gro_flush();
		nfq_flush();
	}
	nfq_gro_flush();
	nfq_flush();
	return (NULL);
}

/* One queued packet: ask the layer, add the verdict to the batch. */
static int
nfq_packet(const struct nlmsghdr *nlh, void *arg __attribute__((__unused__)))
{
	struct nlattr			*attr[NFQA_MAX + 1] = { NULL };
	struct nfqnl_msg_packet_hdr	*ph;
	struct gro_seg			 sg;
	struct mbuf			*m;
	const uint8_t			*pkt;
	const void			*out;
	size_t				 len, outlen;
	uint64_t			 cookie;
	uint32_t			 id;
	int				 where, v, ipv;

	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL ||
	    mnl_attr_get_payload_len(attr[NFQA_PACKET_HDR]) < sizeof(*ph)) {
		NFQ_COUNT(ns_badmsg);
		return (MNL_CB_OK);
	}
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	id = ntohl(ph->packet_id);
	if (attr[NFQA_PAYLOAD] == NULL) {
		NFQ_COUNT(ns_badmsg);
		nfq_verdict(id, NF_DROP, 0, NULL, 0);
		return (MNL_CB_OK);
	}
	pkt = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
	len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);

	switch (ph->hook) {
	case NF_INET_LOCAL_OUT:
		where = IPSEC_HOOK_OUT;
		NFQ_COUNT(ns_out);
		break;
	case NF_INET_PRE_ROUTING:
		where = IPSEC_HOOK_IN;
		NFQ_COUNT(ns_in);
		break;
	case NF_INET_FORWARD:
		where = IPSEC_HOOK_FWD;
		NFQ_COUNT(ns_fwd);
		break;
	default:
		/* Not from our rules: fail closed. */
		NFQ_COUNT(ns_badhook);
		nfq_verdict(id, NF_DROP, 0, NULL, 0);
		return (MNL_CB_OK);
	}
	ipv = len > 0 ? pkt[0] >> 4 : 0;
	cookie = (uint64_t)id | (uint64_t)(ipv & 0xff) << 32;

	/* The layer takes mbufs: the packet copied into one. */
	out = NULL;
	outlen = 0;
	if ((m = ukern_m_frombuf(pkt, len)) == NULL)
		v = IPSEC_HOOK_DROP;
	else
		v = ipsec_hook(where, &m, cookie);
	if (v == IPSEC_HOOK_REPLACE && (out = ukern_m_flat(&m, &outlen)) ==
	    NULL)
		v = IPSEC_HOOK_DROP;
	if (where == IPSEC_HOOK_IN) {
		if (v == IPSEC_HOOK_REPLACE && gro_check(&nfq.nq_gro, out,
		    outlen, pkt, len, &sg)) {
			NFQ_COUNT(ns_replace);
			nfq_gro_add(id, ipv, out, outlen, &sg);
			ukern_m_freem(m);
			return (MNL_CB_OK);
		}
		nfq_gro_flush();
	}
	switch (v) {
	case IPSEC_HOOK_PASS:
		NFQ_COUNT(ns_pass);
		nfq_verdict(id, NF_ACCEPT, ipv, NULL, 0);
		break;
	case IPSEC_HOOK_REPLACE:
		NFQ_COUNT(ns_replace);
		nfq_verdict(id, NF_ACCEPT, ipv, out, outlen);
		break;
	case IPSEC_HOOK_HELD:
		NFQ_COUNT(ns_held);
		break;
	case IPSEC_HOOK_DROP:
		NFQ_COUNT(ns_drop);
		nfq_verdict(id, NF_DROP, 0, NULL, 0);
		break;
	case IPSEC_HOOK_STOLEN:
		/* Its inner packet went to an ipsecN (tun.c). */
		NFQ_COUNT(ns_stolen);
		nfq_verdict(id, NF_DROP, 0, NULL, 0);
		break;
	default:
		log_warnx("nfq_packet: ipsec_hook returned %d: dropped", v);
		NFQ_COUNT(ns_badverdict);
		nfq_verdict(id, NF_DROP, 0, NULL, 0);
		break;
	}
	if (m != NULL)
		ukern_m_freem(m);
	return (MNL_CB_OK);
}

/*
 * A decrypted TCP segment that may be coalesced: it follows the run, or
 * starts a new one.  PSH ends the run.
 */
static void
nfq_gro_add(uint32_t id, int ipv, const void *pkt, size_t len,
    const struct gro_seg *sg)
{

	if (nfq.nq_gro_ndrop < NFQ_BATCH &&
	    gro_append(&nfq.nq_gro, pkt, sg) == 0)
		nfq.nq_gro_drop[nfq.nq_gro_ndrop++] = id;
	else {
		nfq_gro_flush();
		gro_start(&nfq.nq_gro, pkt, len, sg);
		nfq.nq_gro_id = id;
		nfq.nq_gro_ipv = ipv;
	}
	if (sg->sg_push)
		nfq_gro_flush();
}

/*
 * End the run: the first packet's verdict carries it, the others are
 * dropped, after it.
 */
static void
nfq_gro_flush(void)
{
	const uint8_t	*p;
	size_t		 len;
	int		 i;

	if ((p = gro_finish(&nfq.nq_gro, &len)) == NULL)
		return;
	nfq_verdict(nfq.nq_gro_id, NF_ACCEPT, nfq.nq_gro_ipv, p, len);
	for (i = 0; i < nfq.nq_gro_ndrop; i++)
		nfq_verdict(nfq.nq_gro_drop[i], NF_DROP, 0, NULL, 0);
	if (nfq.nq_gro_ndrop > 0) {
		__atomic_fetch_add(&nfq_stats.ns_gro_segs,
		    (uint64_t)nfq.nq_gro_ndrop + 1, __ATOMIC_RELAXED);
		NFQ_COUNT(ns_gro_pkts);
	}
	nfq.nq_gro_ndrop = 0;
}

/*
 * Build a verdict message in buf (at least NFQ_VERDICT_HDR + len bytes):
 * its length.  An accepted payload that cannot be sent (another family,
 * too long for a netlink attribute) turns the verdict into a drop.
 */
static size_t
nfq_verdict_build(uint8_t *buf, uint32_t id, int verdict, int ipv,
    const void *pkt, size_t len)
{
	struct nlmsghdr	*nlh;

	if (verdict == NF_ACCEPT && pkt != NULL) {
		if (len == 0 || ((const uint8_t *)pkt)[0] >> 4 != ipv) {
			NFQ_COUNT(ns_family);
			verdict = NF_DROP;
		} else if (len > NFQ_PAYLOAD_MAX) {
			NFQ_COUNT(ns_toobig);
			verdict = NF_DROP;
		}
	}
	nlh = nfq_nlmsg_put((char *)buf, NFQNL_MSG_VERDICT, (uint32_t)nfq.nq_queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (verdict == NF_ACCEPT && pkt != NULL)
		nfq_nlmsg_verdict_put_pkt(nlh, pkt, (uint32_t)len);
	return (nlh->nlmsg_len);
}

/* Add a verdict to the queue thread's batch. */
static void
nfq_verdict(uint32_t id, int verdict, int ipv, const void *pkt, size_t len)
{
	if (len > NFQ_PAYLOAD_MAX)
		len = NFQ_PAYLOAD_MAX + 1;	/* dropped by the build */
	if (nfq.nq_slen + NFQ_VERDICT_HDR + len > NFQ_SENDBUF)
		nfq_flush();
	nfq.nq_slen += nfq_verdict_build(nfq.nq_sbuf + nfq.nq_slen, id,
	    verdict, ipv, pkt, len);
}

/* Send the batch of verdicts: one sendmsg(2). */
static void
nfq_flush(void)
{
	ssize_t	n;

	if (nfq.nq_slen == 0)
		return;
	pthread_mutex_lock(&nfq.nq_sendmtx);
	n = nfq.nq_open ? mnl_socket_sendto(nfq.nq_nl, nfq.nq_sbuf,
	    nfq.nq_slen) : 0;
	pthread_mutex_unlock(&nfq.nq_sendmtx);
	if (n == -1) {
		/* The packets stay queued until the queue is closed. */
		NFQ_COUNT(ns_senderr);
		log_warn("nfq_flush: %zu bytes of verdicts", nfq.nq_slen);
	} else
		__atomic_fetch_add(&nfq_stats.ns_sendcalls, 1,
		    __ATOMIC_RELAXED);
	nfq.nq_slen = 0;
}

/*
 * ipsec_release_t: the layer gives the verdict of a held packet, on any
 * thread.  Sent at once, alone.
 */
static void
nfq_release(void *arg __attribute__((__unused__)), uint64_t cookie,
    int verdict, struct mbuf *m)
{
	const void	*pkt = NULL;
	uint8_t		*buf;
	size_t		 mlen, len = 0;
	uint32_t	 id = (uint32_t)cookie;
	int		 ipv = (int)(cookie >> 32 & 0xff);
	ssize_t		 n = 0;

	if (tun_release(cookie, verdict, m))
		return;		/* an ipsecN's, not the queue's */
	if (verdict == IPSEC_HOOK_REPLACE && m != NULL &&
	    (pkt = ukern_m_flat(&m, &len)) != NULL) {
		NFQ_COUNT(ns_rel_replace);
	} else {
		if (verdict != IPSEC_HOOK_DROP)
			NFQ_COUNT(ns_badverdict);
		NFQ_COUNT(ns_rel_drop);
		pkt = NULL;
		len = 0;
	}
	if (len > NFQ_PAYLOAD_MAX)
		len = NFQ_PAYLOAD_MAX + 1;	/* dropped by the build */
	if ((buf = malloc(NFQ_VERDICT_HDR + len)) == NULL) {
		/* Never accepted: it stays queued until the queue closes. */
		NFQ_COUNT(ns_senderr);
		if (m != NULL)
			ukern_m_freem(m);
		return;
	}
	mlen = nfq_verdict_build(buf, id, pkt != NULL ? NF_ACCEPT : NF_DROP,
	    ipv, pkt, len);
	if (m != NULL)
		ukern_m_freem(m);
	pthread_mutex_lock(&nfq.nq_sendmtx);
	if (nfq.nq_open)
		n = mnl_socket_sendto(nfq.nq_nl, buf, mlen);
	pthread_mutex_unlock(&nfq.nq_sendmtx);
	if (n == -1) {
		NFQ_COUNT(ns_senderr);
		log_warn("nfq_release: verdict of packet %u", id);
	}
	free(buf);
}

/*
 * The kernel's counters of our queue, from
 * /proc/net/netfilter/nfnetlink_queue (this network namespace's):
 * packets waiting, dropped because the queue was full, dropped because
 * our socket's buffer was.  -1 if the queue is not there.
 */
int
nfq_kstats(unsigned int *total, unsigned int *qdropped,
    unsigned int *udropped)
{
	FILE		*fp;
	unsigned int	 q, portid, copy_mode, copy_range, idseq;
	int		 found = -1;

	if (nfq.nq_queue < 0 ||
	    (fp = fopen("/proc/net/netfilter/nfnetlink_queue", "r")) == NULL)
		return (-1);
	while (fscanf(fp, "%u %u %u %u %u %u %u %u %*u", &q, &portid, total,
	    &copy_mode, &copy_range, qdropped, udropped, &idseq) == 8)
		if (q == (unsigned int)nfq.nq_queue) {
			found = 0;
			break;
		}
	fclose(fp);
	return (found);
}

int
nfq_queue(void)
{
	return (nfq.nq_queue);
}
