/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * NAT traversal for both IKE versions: NAT detection (RFC 3947 3.2,
 * RFC 7296 2.23) and the float to port 4500.
 *
 * Each side hashes the SPIs (IKEv1: the cookies), an address and its
 * port, for its own end and for the peer's as it sees them, and sends
 * both hashes; the receiver compares them with what it sees.  A hash of
 * the sender's end that differs means a NAT in front of the sender, one
 * of the receiver's end a NAT in front of the receiver.  Either way the
 * SA moves to port 4500 and its ESP is encapsulated in UDP (RFC 3948).
 *
 * The versions differ only in the hash (IKEv1: the negotiated one;
 * IKEv2: SHA-1) and in the payloads that carry it, which ikev1.c and
 * ikev2.c build and parse.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <string.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "iked.h"

/*
 * HASH(SPIi | SPIr | address | port) of addr, with h (IKEv1: the phase
 * 1 hash) or SHA-1 (h NULL, IKEv2).
 */
int
natt_hash(const struct iked_sa *sa, struct iked_hash *h,
    const struct sockaddr *addr, uint8_t *out, size_t *outlen)
{
	uint8_t		 buf[8 + 8 + 16 + 2];
	size_t		 len = 16;
	in_port_t	 port = sa_port(addr);
	unsigned int	 olen;

	memcpy(buf, sa->sa_ispi, 8);
	memcpy(buf + 8, sa->sa_rspi, 8);
	if (addr->sa_family == AF_INET) {
		memcpy(buf + len,
		    &((const struct sockaddr_in *)addr)->sin_addr, 4);
		len += 4;
	} else {
		memcpy(buf + len,
		    &((const struct sockaddr_in6 *)addr)->sin6_addr, 16);
		len += 16;
	}
	buf[len++] = port >> 8;
	buf[len++] = port & 0xff;
	if (h != NULL) {
		if (hash_length(h) > NATT_HASH_MAX ||
		    hash_digest2(h, buf, len, NULL, 0, out) == -1)
			return (-1);
		*outlen = hash_length(h);
		return (0);
	}
	if (!EVP_Digest(buf, len, out, &olen, EVP_sha1(), NULL))
		return (-1);
	*outlen = olen;
	return (0);
}

/*
 * The hash of our own end, as we send it: a random one under a rule
 * that forces encapsulation (iked.conf "natt"), which claims a NAT in
 * front of us, as strongSwan's encap=yes does.
 */
int
natt_claim(const struct iked_sa *sa, struct iked_hash *h, uint8_t *out,
    size_t *outlen)
{
	if (natt_hash(sa, h, &sa->sa_local.sa, out, outlen) == -1)
		return (-1);
	if (sa->sa_pol->pol_flags & POL_NATT)
		arc4random_buf(out, *outlen);
	return (0);
}

/*
 * What the peer's hashes said: local_ok, its hash of our end matched;
 * peer_ok, its hash of its own end did.
 */
void
natt_result(struct iked_sa *sa, int local_ok, int peer_ok)
{
	if (!local_ok || (sa->sa_pol->pol_flags & POL_NATT))
		sa->sa_nat |= SA_NAT_LOCAL;
	if (!peer_ok)
		sa->sa_nat |= SA_NAT_PEER;
	if (sa->sa_nat & (SA_NAT_LOCAL | SA_NAT_PEER))
		log_info("%s: NAT detected (%s%s%s), using UDP encapsulation",
		    sa->sa_name, sa->sa_nat & SA_NAT_LOCAL ? "local" : "",
		    (sa->sa_nat & SA_NAT_LOCAL) && (sa->sa_nat & SA_NAT_PEER) ?
		    ", " : "", sa->sa_nat & SA_NAT_PEER ? "peer" : "");
}

/* A NAT on the way: the SA's IKE and ESP move to port 4500. */
void
natt_float(struct iked_sa *sa)
{
	if ((sa->sa_nat & (SA_NAT_LOCAL | SA_NAT_PEER)) == 0 ||
	    (sa->sa_nat & SA_NATT_FLOAT))
		return;
	sa->sa_nat |= SA_NATT_FLOAT;
	sa_setport(&sa->sa_local.sa, sa->sa_env->sc_nattport);
	sa_setport(&sa->sa_peer.sa, sa->sa_env->sc_nattport);
}
