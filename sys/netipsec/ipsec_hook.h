/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The packet path's host interface: how a host without an IPsec layer of
 * its own (netipsecd on Linux, with netfilter queues) hands packets to
 * sys/netipsec and applies its verdict.  On a BSD kernel this is
 * ipsec4_output()/ipsec4_input() and friends, called by ip_output() and
 * ip_input() with mbufs; here too the host passes each packet (from the
 * IP header on) as an mbuf chain with a packet header: netipsecd makes
 * one with m_devget(9) of the queued packet.
 */

#ifndef _NETIPSEC_IPSEC_HOOK_H_
#define _NETIPSEC_IPSEC_HOOK_H_

/* size_t and uint*_t: the kernel's <sys/types.h> (ukern.h first). */
#ifdef _KERNEL
#include <sys/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

/* Where the packet is. */
#define	IPSEC_HOOK_OUT		1	/* leaving: after local output */
#define	IPSEC_HOOK_IN		2	/* arriving: before routing */
#define	IPSEC_HOOK_FWD		3	/* forwarded, leaving (gateways) */
#define	IPSEC_HOOK_IF		4	/* routed into an ipsecN (below) */

/* Verdicts. */
#define	IPSEC_HOOK_PASS		0	/* let it go unmodified */
#define	IPSEC_HOOK_REPLACE	1	/* send *mp instead */
#define	IPSEC_HOOK_HELD		2	/* the layer keeps it: see below */
#define	IPSEC_HOOK_DROP		3	/* drop it (counted by the layer) */
#define	IPSEC_HOOK_STOLEN	4	/* given to an ipsecN: see below */

struct mbuf;

/*
 * One packet, *mp (M_PKTHDR; any chain), which the layer may work on in
 * place, pull up or replace.  "cookie" is the host's name for it
 * (netipsecd: the netfilter queue's packet id).  On return *mp is the
 * host's to free (m_freem()) or send:
 *
 *	IPSEC_HOOK_PASS		*mp has the packet's bytes as they came
 *				(perhaps in other mbufs, and without
 *				link-layer padding after the IP packet)
 *	IPSEC_HOOK_REPLACE	*mp is the packet to send instead
 *	IPSEC_HOOK_HELD		*mp is NULL: the layer keeps the packet
 *	IPSEC_HOOK_DROP		*mp is NULL: the layer freed it
 *
 * On IPSEC_HOOK_HELD the host must neither pass nor drop the packet: the
 * layer keeps it while it waits for an SA (ACQUIRE) and calls the release
 * function later, exactly once per held cookie, with IPSEC_HOOK_REPLACE
 * and the packet to send (an mbuf chain the host then owns), or with
 * IPSEC_HOOK_DROP and NULL.  Safe to call from several threads.
 */
int	ipsec_hook(int where, struct mbuf **mp, uint64_t cookie);
/* Buffers the layer gives the host otherwise (ipsec_send_t's are its). */
void	ipsec_hook_free(void *);

typedef void ipsec_release_t(void *arg, uint64_t cookie, int verdict,
	    struct mbuf *m);
void	ipsec_hook_setrelease(ipsec_release_t *, void *arg);

/*
 * Services the host may give the packet path, once before packets flow;
 * without them it does without (no path MTU check; packets of another
 * family dropped).
 *
 * ipsec_send_t sends a complete IPv4 or IPv6 packet (from its IP header
 * on) as the host's own: routed by its destination, to the network or up
 * the local stack; an IPv4 source address of 0 is filled in by the host.
 * The packet path sends with it the ICMP errors of path MTU discovery,
 * and the packets whose address family a verdict cannot change (tunnels
 * of IPv4 in IPv6 and IPv6 in IPv4: protected on the way out, and their
 * inner packets on the way in).  0 or an errno.  Called from the threads
 * that call ipsec_hook(), without the layer's locks.
 *
 * ipsec_mtu_t is the MTU of the interface through which the host would
 * send to "dst" (af AF_INET: 4 bytes, AF_INET6: 16), 0 if unknown; asked
 * the same way, for packets that must not be fragmented on the way.
 */
typedef int ipsec_send_t(void *arg, const void *pkt, size_t len);
typedef unsigned int ipsec_mtu_t(void *arg, int af, const void *dst);
void	ipsec_hook_sethost(ipsec_send_t *, ipsec_mtu_t *, void *arg);

/*
 * Sockets' policies (FreeBSD's IP_IPSEC_POLICY / IPV6_IPSEC_POLICY
 * socket options, ipsec_set_pcbpolicy()).  Nothing is exempt from the SPD
 * by its port number: an IKE daemon's own sockets are, by the "bypass"
 * policies it sets on them, as on FreeBSD.  A host that hands the layer
 * packets instead of inpcbs names a local socket by its protocol
 * (IPPROTO_UDP or IPPROTO_TCP), the address and port it is bound to
 * ("local", AF_INET or AF_INET6; the unspecified address for a socket
 * bound to all of them) and an id that no other socket has while it lives
 * (netipsecd: SO_COOKIE).  The host must see to it that no other socket
 * can be bound to that endpoint meanwhile, and must call
 * ipsec_pcb_detach() when the socket closes.
 *
 * A packet is a socket's when it is TCP or UDP and its local end (source
 * going out, destination coming in) is the socket's endpoint; a socket
 * bound to all addresses has inbound packets only for the host's own
 * addresses (ipsec_local_t), never forwarded ones.  Its policy for the
 * direction is applied instead of the SPD's.
 *
 * ipsec_pcb_setpolicy() takes what ipsec_set_policy(3) makes: a
 * sadb_x_policy of "len" bytes (its own length field agreeing) with its
 * requests, for one direction: bypass or none (the socket's traffic skips
 * IPsec), ipsec (its requests instead of the SPD's), discard, or entrust
 * (the SPD decides: any policy set before goes).  Bypass, none and ipsec
 * need "priv" (FreeBSD: PRIV_NETINET_IPSEC).  0, EINVAL, EACCES or
 * ENOBUFS.
 *
 * ipsec_pcb_getpolicy() copies one direction's policy into buf (an
 * entrust one when none is set): 0, or ERANGE with *lenp the length
 * needed.
 *
 * ipsec_pcb_detach(): the socket "sockid" closed; its policies go.
 * Returns how many endpoints it had.  ipsec_pcb_flush(): every socket's.
 */
struct sockaddr;
int	ipsec_pcb_setpolicy(const struct sockaddr *local, int proto,
	    uint64_t sockid, uint32_t pid, int priv, const void *req,
	    size_t len);
int	ipsec_pcb_getpolicy(const struct sockaddr *local, int proto, int dir,
	    void *buf, size_t *lenp);
int	ipsec_pcb_detach(uint64_t sockid);
void	ipsec_pcb_flush(void);

/*
 * Is "addr" (af AF_INET: 4 bytes, AF_INET6: 16) one of this host's
 * addresses?  Called from the packet path with the SPD read-locked: it
 * must not call into the layer.  Without it, sockets bound to every
 * address have no inbound policy (their inbound packets get the SPD's).
 */
typedef int ipsec_local_t(void *arg, int af, const void *addr);
void	ipsec_hook_setlocal(ipsec_local_t *, void *arg);

/*
 * The packet path's statistics (FreeBSD's ipsecstat, and the hold queue
 * that FreeBSD does not have); ESP's own are struct espstat (esp.h).
 */
struct ipsecstat {
	uint64_t	ips_out_total;		/* outbound packets looked at */
	uint64_t	ips_out_esp;		/* protected with ESP */
	uint64_t	ips_out_polvio;		/* dropped: discard policy */
	uint64_t	ips_out_nosa;		/* no SA for a request */
	uint64_t	ips_out_acqfail;	/* ACQUIRE could not be sent */
	uint64_t	ips_out_hold;		/* held for an ACQUIRE */
	uint64_t	ips_out_holddrop;	/* not held: queue full */
	uint64_t	ips_out_holdexp;	/* held too long: dropped */
	uint64_t	ips_out_bundlesa;	/* request we do not apply */
	uint64_t	ips_out_inval;		/* bad packet or ESP error */
	uint64_t	ips_in_total;		/* inbound packets looked at */
	uint64_t	ips_in_esp;		/* ESP accepted, decapsulated */
	uint64_t	ips_in_polvio;		/* dropped: policy says so */
	uint64_t	ips_in_nosa;		/* ESP with no SA (SPI, dst) */
	uint64_t	ips_in_espfail;		/* ESP refused: see espstat */
	uint64_t	ips_in_inval;		/* bad packet */
	uint64_t	ips_held_now;		/* packets held right now */
	uint64_t	ips_out_toobig;		/* too big once protected */
	uint64_t	ips_out_icmp;		/* ... and its source told */
	uint64_t	ips_out_raw;		/* sent by the host: new family */
	uint64_t	ips_in_raw;		/* inner packet of another family */
	uint64_t	ips_raw_fail;		/* the host could not send */
	uint64_t	ips_in_frag;		/* ESP fragments kept */
	uint64_t	ips_in_reass;		/* ESP packets reassembled */
	uint64_t	ips_in_fragdrop;	/* ESP fragments refused */
	uint64_t	ips_out_pcb;		/* under a socket's policy */
	uint64_t	ips_in_pcb;		/* under a socket's policy */
	uint64_t	ips_in_sacheck;		/* SA not the policy's: dropped */
	uint64_t	ips_nomem;		/* dropped: out of memory */
	uint64_t	ips_out_ah;		/* protected with AH */
	uint64_t	ips_in_ah;		/* AH accepted, removed */
	uint64_t	ips_in_ahfail;		/* AH refused: see ahstat */
	uint64_t	ips_out_ipcomp;		/* through an IPComp SA */
	uint64_t	ips_in_ipcomp;		/* IPComp accepted, removed */
	uint64_t	ips_in_ipcompfail;	/* IPComp refused: ipcompstat */
	uint64_t	ips_out_bundle;		/* through several SAs */
	uint64_t	ips_in_bundle;		/* ... and so received */
	uint64_t	ips_out_if;		/* routed into an ipsecN */
	uint64_t	ips_in_if;		/* ... and out of one */
	uint64_t	ips_if_down;		/* dropped: no tunnel, a loop */
};

void	ipsec_getstat(struct ipsecstat *);

/*
 * Route-based tunnels, FreeBSD's if_ipsec(4) (ipsec_if.c): the host
 * makes the interface (netipsecd: a TUN device) and names it to the
 * layer by its index.  It gets a reqid (1 to IPSEC_MANUAL_REQID_MAX, or
 * 0 for one of the kernel's) and tunnel endpoints, and with them four
 * policies of ifnet scope, in and out for IPv4 and IPv6 inside,
 * esp/tunnel/SRC-DST/unique:REQID.  ipsec_if_get() gives the endpoints
 * (family 0: none) and the reqid.  Errors: ENXIO (no such interface),
 * EEXIST (index or reqid taken), EINVAL, EAFNOSUPPORT, EADDRNOTAVAIL.
 *
 * ipsec_if_output(): a packet the host routed into the interface, as
 * ipsec_hook() takes it; IPSEC_HOOK_REPLACE gives the ESP packet for the
 * host to send (raw, to the tunnel's far end), IPSEC_HOOK_HELD keeps it
 * for an ACQUIRE (the release function gets it later with its cookie),
 * IPSEC_HOOK_DROP (no tunnel: FreeBSD's ENETDOWN; a packet that is
 * already this tunnel's ESP, a loop).  Inbound, ipsec_hook(IPSEC_HOOK_IN)
 * answers IPSEC_HOOK_STOLEN for a packet that came out of an interface's
 * tunnel: the layer gave the inner packet to the function set with
 * ipsec_hook_setifinput() (which then owns it) and *mp is NULL; the
 * host drops what came in, uncounted.
 */
struct sockaddr;
struct sockaddr_storage;
int	ipsec_if_create(unsigned int ifindex, uint32_t reqid);
int	ipsec_if_destroy(unsigned int ifindex);
int	ipsec_if_settunnel(unsigned int ifindex, const struct sockaddr *src,
	    const struct sockaddr *dst);
int	ipsec_if_deltunnel(unsigned int ifindex);
int	ipsec_if_setreqid(unsigned int ifindex, uint32_t reqid);
int	ipsec_if_get(unsigned int ifindex, struct sockaddr_storage *src,
	    struct sockaddr_storage *dst, uint32_t *reqid);
int	ipsec_if_output(unsigned int ifindex, struct mbuf **mp,
	    uint64_t cookie);
typedef void ipsec_ifinput_t(void *arg, unsigned int ifindex,
	    struct mbuf *m);
void	ipsec_hook_setifinput(ipsec_ifinput_t *, void *arg);

/* The transforms' own (struct espstat, ahstat, ipcompstat: esp.h...). */
struct espstat;
struct ahstat;
struct ipcompstat;
void	ipsec_getespstat(struct espstat *);
void	ipsec_getahstat(struct ahstat *);
void	ipsec_getipcompstat(struct ipcompstat *);

#endif /* !_NETIPSEC_IPSEC_HOOK_H_ */
