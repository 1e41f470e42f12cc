/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The host services of the packet path (ipsec_hook_sethost(9)) on Linux:
 *
 *	rawout_send	a complete IP packet out through a raw socket
 *			(IPPROTO_RAW: the header is ours), routed by the
 *			kernel like one of ours: the ICMP errors of path MTU
 *			discovery, and the packets a netfilter verdict cannot
 *			carry because their address family changed (IPv4 in
 *			IPv6 and IPv6 in IPv4 tunnels);
 *	rawout_mtu	the MTU of the interface the kernel routes a
 *			destination through (RTM_GETROUTE, then SIOCGIFMTU),
 *			cached for a second.  The interface's, not the route's:
 *			the route of a destination carries the path MTU that
 *			our own ICMP errors taught the kernel, already less
 *			the IPsec overhead.
 *
 * The ESP it sends carries the firewall mark RAWOUT_MARK, by which the
 * rules (rules.c) let it leave without going through the queue again:
 * it is protected already (FreeBSD tags such a packet IPSEC_OUT_DONE),
 * and a policy covering the tunnel's endpoints must not protect it twice.
 * Everything else (ICMP errors, inner packets) goes through the queue
 * when it leaves through an IPsec-enabled interface.
 *
 * Called from the queue thread and the key engine's threads.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include <netipsec/ipsec_hook.h>

#include "netipsecd.h"

#define	RAWOUT_NCACHE	32
#define	RAWOUT_TTL	1	/* seconds an MTU is remembered */

static struct {
	int			 ro_s4, ro_s6, ro_ioc;
	int			 ro_esp4, ro_esp6;	/* marked */
	struct mnl_socket	*ro_nl;
	unsigned int		 ro_portid, ro_seq;
	pthread_mutex_t		 ro_mtx;	/* ro_nl, ro_cache */
	struct rawout_mtu {
		int		 rm_af;
		uint8_t		 rm_dst[16];
		unsigned int	 rm_mtu;
		time_t		 rm_when;
	}			 ro_cache[RAWOUT_NCACHE];
	unsigned int		 ro_next;
} ro = { .ro_s4 = -1, .ro_s6 = -1, .ro_ioc = -1, .ro_esp4 = -1,
    .ro_esp6 = -1,
    .ro_mtx = PTHREAD_MUTEX_INITIALIZER };

static int		rawout_send(void *, const void *, size_t);
static unsigned int	rawout_mtu(void *, int, const void *);
static unsigned int	rawout_route(int, const void *);
static int		rawout_route_cb(const struct nlmsghdr *, void *);

static time_t
rawout_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec);
}

static int
rawout_socket(int af, int mark)
{
	int	s, m = RAWOUT_MARK;

	if ((s = socket(af, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)) == -1)
		fatal("rawout_init: raw socket");
	if (mark && setsockopt(s, SOL_SOCKET, SO_MARK, &m, sizeof(m)) == -1)
		fatal("rawout_init: SO_MARK");
	return (s);
}

/* Open the sockets and give the layer its host services. */
void
rawout_init(void)
{

	ro.ro_s4 = rawout_socket(AF_INET, 0);
	ro.ro_s6 = rawout_socket(AF_INET6, 0);
	ro.ro_esp4 = rawout_socket(AF_INET, 1);
	ro.ro_esp6 = rawout_socket(AF_INET6, 1);
	if ((ro.ro_ioc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("rawout_init: socket");
	if ((ro.ro_nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC)) ==
	    NULL || mnl_socket_bind(ro.ro_nl, 0, MNL_SOCKET_AUTOPID) == -1)
		fatal("rawout_init: route netlink socket");
	ro.ro_portid = mnl_socket_get_portid(ro.ro_nl);
	ipsec_hook_sethost(rawout_send, rawout_mtu, NULL);
}

void
rawout_fini(void)
{

	ipsec_hook_sethost(NULL, NULL, NULL);
	if (ro.ro_nl != NULL)
		mnl_socket_close(ro.ro_nl);
	ro.ro_nl = NULL;
	if (ro.ro_s4 != -1)
		close(ro.ro_s4);
	if (ro.ro_s6 != -1)
		close(ro.ro_s6);
	if (ro.ro_ioc != -1)
		close(ro.ro_ioc);
	if (ro.ro_esp4 != -1)
		close(ro.ro_esp4);
	if (ro.ro_esp6 != -1)
		close(ro.ro_esp6);
	ro.ro_s4 = ro.ro_s6 = ro.ro_ioc = ro.ro_esp4 = ro.ro_esp6 = -1;
}

/* Whether ESP can go out (netipsecd hooks interfaces: -i). */
int
rawout_ready(void)
{

	return (ro.ro_esp4 != -1);
}

/* A packet the layer made for an ipsecN (tun.c): out as it is. */
int
rawout_packet(const void *pkt, size_t len)
{

	return (rawout_send(NULL, pkt, len));
}

/* ipsec_send_t */
static int
rawout_send(void *arg __attribute__((__unused__)), const void *pkt,
    size_t len)
{
	const uint8_t		*p = pkt;
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	ssize_t			 n;

	if (len < 20)
		return (EINVAL);
	if (p[0] >> 4 == 4) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, p + 16, 4);
		n = sendto(p[9] == IPPROTO_ESP ? ro.ro_esp4 : ro.ro_s4, pkt,
		    len, 0, (struct sockaddr *)&sin, sizeof(sin));
	} else if (p[0] >> 4 == 6 && len >= 40) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, p + 24, 16);
		/* ESP, or a fragment of ESP (ipsec_host_output_frag()). */
		n = sendto(p[6] == IPPROTO_ESP || (p[6] == 44 && len >= 48 &&
		    p[40] == IPPROTO_ESP) ? ro.ro_esp6 : ro.ro_s6, pkt, len,
		    0, (struct sockaddr *)&sin6, sizeof(sin6));
	} else
		return (EINVAL);
	if (n == -1) {
		log_debug("rawout_send: %zu bytes: %s", len, strerror(errno));
		return (errno);
	}
	return (0);
}

/* ipsec_mtu_t */
static unsigned int
rawout_mtu(void *arg __attribute__((__unused__)), int af, const void *dst)
{
	struct rawout_mtu	*rm;
	size_t			 alen = af == AF_INET ? 4 : 16;
	time_t			 now = rawout_now();
	unsigned int		 i, mtu;

	pthread_mutex_lock(&ro.ro_mtx);
	for (i = 0; i < RAWOUT_NCACHE; i++) {
		rm = &ro.ro_cache[i];
		if (rm->rm_af == af && memcmp(rm->rm_dst, dst, alen) == 0 &&
		    now - rm->rm_when < RAWOUT_TTL) {
			mtu = rm->rm_mtu;
			pthread_mutex_unlock(&ro.ro_mtx);
			return (mtu);
		}
	}
	mtu = rawout_route(af, dst);
	rm = &ro.ro_cache[ro.ro_next++ % RAWOUT_NCACHE];
	rm->rm_af = af;
	memcpy(rm->rm_dst, dst, alen);
	rm->rm_mtu = mtu;
	rm->rm_when = now;
	pthread_mutex_unlock(&ro.ro_mtx);
	return (mtu);
}

/* The MTU of the route's interface, 0 if unknown; ro_mtx held. */
static unsigned int
rawout_route(int af, const void *dst)
{
	uint8_t		 buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr	*nlh;
	struct rtmsg	*rtm;
	struct ifreq	 ifr;
	uint32_t	 oif = 0;
	ssize_t		 n;
	int		 ret;

	if (ro.ro_nl == NULL)
		return (0);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++ro.ro_seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)af;
	rtm->rtm_dst_len = af == AF_INET ? 32 : 128;
	mnl_attr_put(nlh, RTA_DST, af == AF_INET ? 4 : 16, dst);
	if (mnl_socket_sendto(ro.ro_nl, nlh, nlh->nlmsg_len) == -1)
		return (0);
	do {
		if ((n = mnl_socket_recvfrom(ro.ro_nl, buf, sizeof(buf))) ==
		    -1)
			return (0);
		ret = mnl_cb_run(buf, (size_t)n, ro.ro_seq, ro.ro_portid,
		    rawout_route_cb, &oif);
	} while (ret > MNL_CB_STOP && oif == 0);
	if (oif == 0 || if_indextoname(oif, ifr.ifr_name) == NULL ||
	    ioctl(ro.ro_ioc, SIOCGIFMTU, &ifr) == -1 || ifr.ifr_mtu <= 0)
		return (0);
	return ((unsigned int)ifr.ifr_mtu);
}

static int
rawout_route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nlattr	*a;
	uint32_t	*oif = arg;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return (MNL_CB_OK);
	mnl_attr_for_each(a, nlh, sizeof(struct rtmsg))
		if (mnl_attr_get_type(a) == RTA_OIF &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			*oif = mnl_attr_get_u32(a);
	return (MNL_CB_STOP);
}
