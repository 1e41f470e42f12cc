/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * PF_KEY sockets and received messages: pfkey_open(), pfkey_send(),
 * pfkey_recv(), and pfkey_align()/pfkey_check(), which split a message
 * into its extensions and check it before anybody reads a field of it.
 *
 * Every length that comes from a message is checked against the bytes
 * that are really there: a malformed message is rejected, never read
 * past its end.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <netinet/in.h>

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpfkey.h"
#include "pfkey_var.h"

#ifdef MSG_NOSIGNAL
#define	PFKEY_SEND_FLAGS	MSG_NOSIGNAL	/* netipsecd gone: EPIPE */
#else
#define	PFKEY_SEND_FLAGS	0
#endif

static void	pfkey_sockbuf(int);
static int	pfkey_closed(int, int);

/*
 * Open a PF_KEY socket: $PFKEY_SOCKET if set, else the kernel's PF_KEY
 * on a BSD, else netipsecd at its default address.
 */
int
pfkey_open(void)
{
	int so;

	if (getuid() == geteuid() && getgid() == getegid()) {
		const char *path;

		path = getenv(PFKEY_SOCKET_ENV);
		if (path != NULL && path[0] != '\0')
			return (pfkey_open_path(path));
	}
#ifdef PFKEY_NATIVE
	if ((so = socket(PF_KEY, SOCK_RAW, PF_KEY_V2)) < 0) {
		pfkey_set_syserr(errno);
		return (-1);
	}
	pfkey_sockbuf(so);
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (so);
#else
	so = pfkey_open_path(NULL);
	return (so);
#endif
}

/*
 * Connect to netipsecd listening at a filesystem socket "path", or at
 * the default abstract address if path is NULL.
 */
int
pfkey_open_path(const char *path)
{
	int so;

	so = pfkey_unix_connect(path, SOCK_CLOEXEC);
	if (so < 0) {
		pfkey_set_syserr(errno);
		return (-1);
	}
	pfkey_sockbuf(so);
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (so);
}

/*
 * Socket buffers as FreeBSD's libipsec sizes them: 128 KiB to send, up
 * to 2 MiB to receive (a dump arrives as a burst), never lowering what
 * the system already gives.  Failure is harmless.
 */
static void
pfkey_sockbuf(int so)
{
	socklen_t len;
	int cur, want;

	want = 128 * 1024;
	len = sizeof(cur);
	if (getsockopt(so, SOL_SOCKET, SO_SNDBUF, &cur, &len) < 0 ||
	    cur < want)
		(void)setsockopt(so, SOL_SOCKET, SO_SNDBUF, &want,
		    sizeof(want));

	len = sizeof(cur);
	if (getsockopt(so, SOL_SOCKET, SO_RCVBUF, &cur, &len) < 0)
		cur = 128 * 1024;
	for (want = 2 * 1024 * 1024; want > cur; want /= 2)
		if (setsockopt(so, SOL_SOCKET, SO_RCVBUF, &want,
		    sizeof(want)) == 0)
			break;
}

/*
 * A send or receive failed with "error": if netipsecd closed the
 * connection after its refusal notice, the notice's error instead, so
 * that the caller sees why ("Too many users") rather than EPIPE.
 */
static int
pfkey_closed(int so, int error)
{
	int refused;

	if (error == EPIPE || error == ECONNRESET) {
		if ((refused = pfkey_unix_refused(so)) != 0)
			error = refused;
	}
	errno = error;
	return (error);
}

void
pfkey_close(int so)
{

	(void)close(so);
	__ipsec_errcode = EIPSEC_NO_ERROR;
}

/*
 * Send one message.  Returns the bytes sent or -1.  Over netipsecd a
 * malformed message cannot fail send(2): it is answered instead by a
 * 16-byte sadb_msg carrying the error in sadb_msg_errno.
 */
int
pfkey_send(int so, struct sadb_msg *msg, int len)
{
	ssize_t n;

	if (msg == NULL || len < 0) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	while ((n = send(so, msg, (size_t)len, PFKEY_SEND_FLAGS)) < 0) {
		if (errno == EINTR)
			continue;
		pfkey_set_syserr(pfkey_closed(so, errno));
		return (-1);
	}
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return ((int)n);
}

/*
 * Receive one message into a buffer of exactly its size, which the
 * caller frees.  The header is peeked first to learn the size.  A
 * message whose length field disagrees with the bytes received is
 * dropped, except netipsecd's 16-byte framing-error reply, whose header
 * may repeat a bad length: that one is returned with sadb_msg_len
 * corrected, so that the caller sees sadb_msg_errno.
 */
struct sadb_msg *
pfkey_recv(int so)
{
	struct sadb_msg hdr, *newmsg;
	struct msghdr mh;
	struct iovec iov;
	size_t reallen, bufsize;
	ssize_t len;
	int error;

	while ((len = recv(so, &hdr, sizeof(hdr), MSG_PEEK)) < 0) {
		if (errno == EINTR)
			continue;
		pfkey_set_syserr(pfkey_closed(so, errno));
		return (NULL);
	}
	if (len == 0) {
		/* End of file, or an empty packet: drop the latter. */
		(void)recv(so, &hdr, sizeof(hdr), MSG_DONTWAIT);
		pfkey_set_syserr(ECONNRESET);
		errno = ECONNRESET;
		return (NULL);
	}
	if ((size_t)len < sizeof(hdr)) {
		(void)recv(so, &hdr, sizeof(hdr), 0);
		__ipsec_errcode = EIPSEC_INVAL_SADBMSG;
		return (NULL);
	}
	if ((error = pfkey_unix_refusal(&hdr, (size_t)len)) != 0) {
		/* netipsecd's refusal (netipsecd.maxclients); it closed. */
		(void)recv(so, &hdr, sizeof(hdr), 0);
		pfkey_set_syserr(error);
		errno = error;
		return (NULL);
	}

	reallen = PFKEY_UNUNIT64((size_t)hdr.sadb_msg_len);
	bufsize = reallen < sizeof(hdr) ? sizeof(hdr) : reallen;
	if ((newmsg = calloc(1, bufsize)) == NULL) {
		pfkey_set_syserr(errno);
		return (NULL);
	}

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = newmsg;
	iov.iov_len = bufsize;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	while ((len = recvmsg(so, &mh, 0)) < 0) {
		if (errno == EINTR)
			continue;
		pfkey_set_syserr(errno);
		free(newmsg);
		return (NULL);
	}

	if ((mh.msg_flags & MSG_TRUNC) != 0 || (size_t)len < sizeof(hdr)) {
		__ipsec_errcode = EIPSEC_INVAL_SADBMSG;
		free(newmsg);
		return (NULL);
	}
	if ((size_t)len == sizeof(hdr) && newmsg->sadb_msg_errno != 0 &&
	    reallen != sizeof(hdr)) {
		struct sadb_msg *small;

		newmsg->sadb_msg_len = PFKEY_UNIT64(sizeof(hdr));
		if ((small = realloc(newmsg, sizeof(hdr))) != NULL)
			newmsg = small;
	}
	/* Don't trust the sender: check the length again. */
	if (PFKEY_UNUNIT64((size_t)newmsg->sadb_msg_len) != (size_t)len) {
		__ipsec_errcode = EIPSEC_INVAL_SADBMSG;
		free(newmsg);
		return (NULL);
	}

	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (newmsg);
}

/*
 * The length of a sockaddr: sa_len on BSD; on hosts without it, the size
 * its family implies (0 for families PF_KEY does not carry).
 */
int
pfkey_salen(const struct sockaddr *sa)
{

	if (sa == NULL)
		return (0);
#ifdef PFKEY_NATIVE
	return (sa->sa_len);
#else
	switch (sa->sa_family) {
	case AF_INET:
		return ((int)sizeof(struct sockaddr_in));
	case AF_INET6:
		return ((int)sizeof(struct sockaddr_in6));
	default:
		return (0);
	}
#endif
}

/*
 * Size of the IPv4 or IPv6 sockaddr at "sa", which has "room" bytes, or
 * 0 if it is of another family, inconsistent or does not fit.  Reads
 * byte-wise: the sockaddr may be unaligned in a malformed message.
 */
size_t
pfkey_sasize(const struct sockaddr *sa, size_t room)
{
	const unsigned char *p;
	sa_family_t family;
	size_t need;

	p = (const unsigned char *)sa;
	if (sa == NULL ||
	    room < offsetof(struct sockaddr, sa_family) + sizeof(family))
		return (0);
	memcpy(&family, p + offsetof(struct sockaddr, sa_family),
	    sizeof(family));
	switch (family) {
	case AF_INET:
		need = sizeof(struct sockaddr_in);
		break;
	case AF_INET6:
		need = sizeof(struct sockaddr_in6);
		break;
	default:
		return (0);
	}
#ifdef PFKEY_NATIVE
	if (p[offsetof(struct sockaddr, sa_len)] != need)
		return (0);
#endif
	if (need > room)
		return (0);
	return (need);
}

/*
 * What each extension type may look like: its size bounds in bytes (0
 * max: variable) and how its content is checked.  A type with min 0 is
 * not allowed (KMPRIVATE is rejected, as FreeBSD's key_align does).
 */
#define	PFKEY_EXT_PLAIN	0
#define	PFKEY_EXT_ADDR	1	/* sadb_address + one sockaddr */
#define	PFKEY_EXT_KEY	2	/* sadb_key + sadb_key_bits of key */
#define	PFKEY_EXT_MULTI	3	/* may appear several times */

static const struct pfkey_extrule {
	uint16_t	min;
	uint16_t	max;
	uint8_t		kind;
} pfkey_extrules[SADB_EXT_MAX + 1] = {
	[SADB_EXT_SA] = { sizeof(struct sadb_sa), sizeof(struct sadb_sa),
	    PFKEY_EXT_PLAIN },
	[SADB_EXT_LIFETIME_CURRENT] = { sizeof(struct sadb_lifetime),
	    sizeof(struct sadb_lifetime), PFKEY_EXT_PLAIN },
	[SADB_EXT_LIFETIME_HARD] = { sizeof(struct sadb_lifetime),
	    sizeof(struct sadb_lifetime), PFKEY_EXT_PLAIN },
	[SADB_EXT_LIFETIME_SOFT] = { sizeof(struct sadb_lifetime),
	    sizeof(struct sadb_lifetime), PFKEY_EXT_PLAIN },
	[SADB_EXT_ADDRESS_SRC] = { sizeof(struct sadb_address), 0,
	    PFKEY_EXT_ADDR },
	[SADB_EXT_ADDRESS_DST] = { sizeof(struct sadb_address), 0,
	    PFKEY_EXT_ADDR },
	[SADB_EXT_ADDRESS_PROXY] = { sizeof(struct sadb_address), 0,
	    PFKEY_EXT_ADDR },
	[SADB_EXT_KEY_AUTH] = { sizeof(struct sadb_key), 0, PFKEY_EXT_KEY },
	[SADB_EXT_KEY_ENCRYPT] = { sizeof(struct sadb_key), 0,
	    PFKEY_EXT_KEY },
	[SADB_EXT_IDENTITY_SRC] = { sizeof(struct sadb_ident), 0,
	    PFKEY_EXT_PLAIN },
	[SADB_EXT_IDENTITY_DST] = { sizeof(struct sadb_ident), 0,
	    PFKEY_EXT_PLAIN },
	[SADB_EXT_SENSITIVITY] = { sizeof(struct sadb_sens), 0,
	    PFKEY_EXT_PLAIN },
	[SADB_EXT_PROPOSAL] = { sizeof(struct sadb_prop), 0,
	    PFKEY_EXT_PLAIN },
	[SADB_EXT_SUPPORTED_AUTH] = { sizeof(struct sadb_supported), 0,
	    PFKEY_EXT_PLAIN },
	[SADB_EXT_SUPPORTED_ENCRYPT] = { sizeof(struct sadb_supported), 0,
	    PFKEY_EXT_PLAIN },
	[SADB_EXT_SPIRANGE] = { sizeof(struct sadb_spirange),
	    sizeof(struct sadb_spirange), PFKEY_EXT_PLAIN },
	[SADB_X_EXT_POLICY] = { sizeof(struct sadb_x_policy), 0,
	    PFKEY_EXT_PLAIN },
	[SADB_X_EXT_SA2] = { sizeof(struct sadb_x_sa2),
	    sizeof(struct sadb_x_sa2), PFKEY_EXT_PLAIN },
	[SADB_X_EXT_NAT_T_TYPE] = { sizeof(struct sadb_x_nat_t_type),
	    sizeof(struct sadb_x_nat_t_type), PFKEY_EXT_PLAIN },
	[SADB_X_EXT_NAT_T_SPORT] = { sizeof(struct sadb_x_nat_t_port),
	    sizeof(struct sadb_x_nat_t_port), PFKEY_EXT_PLAIN },
	[SADB_X_EXT_NAT_T_DPORT] = { sizeof(struct sadb_x_nat_t_port),
	    sizeof(struct sadb_x_nat_t_port), PFKEY_EXT_PLAIN },
	[SADB_X_EXT_NAT_T_OAI] = { sizeof(struct sadb_address), 0,
	    PFKEY_EXT_ADDR },
	[SADB_X_EXT_NAT_T_OAR] = { sizeof(struct sadb_address), 0,
	    PFKEY_EXT_ADDR },
	[SADB_X_EXT_NAT_T_FRAG] = { sizeof(struct sadb_x_nat_t_frag),
	    sizeof(struct sadb_x_nat_t_frag), PFKEY_EXT_PLAIN },
	[SADB_X_EXT_SA_REPLAY] = { sizeof(struct sadb_x_sa_replay),
	    sizeof(struct sadb_x_sa_replay), PFKEY_EXT_PLAIN },
	[SADB_X_EXT_NEW_ADDRESS_SRC] = { sizeof(struct sadb_address), 0,
	    PFKEY_EXT_ADDR },
	[SADB_X_EXT_NEW_ADDRESS_DST] = { sizeof(struct sadb_address), 0,
	    PFKEY_EXT_ADDR },
	[SADB_X_EXT_LFT_CUR_SW_OFFL] = { sizeof(struct sadb_lifetime),
	    sizeof(struct sadb_lifetime), PFKEY_EXT_PLAIN },
	[SADB_X_EXT_LFT_CUR_HW_OFFL] = { sizeof(struct sadb_lifetime),
	    sizeof(struct sadb_lifetime), PFKEY_EXT_PLAIN },
	/* FreeBSD 15 dumps one per interface an SA is offloaded to. */
	[SADB_X_EXT_IF_HW_OFFL] = { sizeof(struct sadb_x_if_hw_offl),
	    sizeof(struct sadb_x_if_hw_offl), PFKEY_EXT_MULTI },
};

/* Check the content of one extension of "len" bytes; errcode or 0. */
static int
pfkey_checkext(const struct sadb_ext *ext, size_t len)
{
	const struct pfkey_extrule *r;
	const struct sadb_key *key;
	size_t salen;

	r = &pfkey_extrules[ext->sadb_ext_type];
	if (len < r->min || (r->max != 0 && len > r->max))
		return (EIPSEC_INVAL_SADBMSG);
	switch (r->kind) {
	case PFKEY_EXT_ADDR:
		/* As key_validate_ext: exactly one padded sockaddr. */
		salen = pfkey_sasize((const struct sockaddr *)(const void *)
		    ((const char *)ext + sizeof(struct sadb_address)),
		    len - sizeof(struct sadb_address));
		if (salen == 0)
			return (EIPSEC_INVAL_FAMILY);
		if (sizeof(struct sadb_address) + PFKEY_ALIGN8(salen) != len)
			return (EIPSEC_INVAL_SADBMSG);
		break;
	case PFKEY_EXT_KEY:
		/* The dumpers print sadb_key_bits worth of key. */
		key = (const struct sadb_key *)(const void *)ext;
		if (((size_t)key->sadb_key_bits + 7) / 8 >
		    len - sizeof(struct sadb_key))
			return (EIPSEC_INVAL_KEYLEN);
		break;
	}
	return (EIPSEC_NO_ERROR);
}

/*
 * Point mhp[type] at each extension of msg, mhp[0] at msg itself.  mhp
 * has SADB_EXT_MAX + 1 entries.  Rejects unknown and duplicate types,
 * extensions that overrun the message or do not add up to it, and
 * extensions of the wrong size.  Returns 0, or -1 with __ipsec_errcode.
 */
int
pfkey_align(struct sadb_msg *msg, char **mhp)
{
	struct sadb_ext *ext;
	size_t off, tlen, extlen;
	int i, error;
	u_int type;

	if (msg == NULL || mhp == NULL) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	for (i = 0; i < SADB_EXT_MAX + 1; i++)
		mhp[i] = NULL;
	mhp[0] = (char *)msg;

	tlen = PFKEY_UNUNIT64((size_t)msg->sadb_msg_len);
	if (tlen < sizeof(struct sadb_msg)) {
		__ipsec_errcode = EIPSEC_INVAL_SADBMSG;
		return (-1);
	}

	for (off = sizeof(struct sadb_msg); off < tlen; off += extlen) {
		/* Lengths are in 64-bit words: "off" stays a multiple of 8. */
		ext = (struct sadb_ext *)(void *)((char *)msg + off);
		extlen = PFKEY_EXTLEN(ext);
		if (extlen < sizeof(struct sadb_ext) || extlen > tlen - off) {
			__ipsec_errcode = EIPSEC_INVAL_SADBMSG;
			return (-1);
		}
		type = ext->sadb_ext_type;
		if (type == SADB_EXT_RESERVED || type > SADB_EXT_MAX ||
		    pfkey_extrules[type].min == 0) {
			__ipsec_errcode = EIPSEC_INVAL_EXTTYPE;
			return (-1);
		}
		if (mhp[type] != NULL &&
		    pfkey_extrules[type].kind != PFKEY_EXT_MULTI) {
			__ipsec_errcode = EIPSEC_INVAL_EXTTYPE;
			return (-1);
		}
		if ((error = pfkey_checkext(ext, extlen)) != EIPSEC_NO_ERROR) {
			__ipsec_errcode = error;
			return (-1);
		}
		if (mhp[type] == NULL)
			mhp[type] = (char *)ext;
	}

	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (0);
}

/*
 * KAME's consistency checks of an aligned message: version, type, SA
 * type against message type, and matching source and destination.
 */
int
pfkey_check(char **mhp)
{
	struct sadb_msg *msg;
	struct sadb_address *src0, *dst0;
	const struct sockaddr *src, *dst;

	if (mhp == NULL || mhp[0] == NULL) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	msg = (struct sadb_msg *)(void *)mhp[0];

	if (msg->sadb_msg_version != PF_KEY_V2) {
		__ipsec_errcode = EIPSEC_INVAL_VERSION;
		return (-1);
	}
	if (msg->sadb_msg_type > SADB_MAX) {
		__ipsec_errcode = EIPSEC_INVAL_MSGTYPE;
		return (-1);
	}

	switch (msg->sadb_msg_satype) {
	case SADB_SATYPE_UNSPEC:
		switch (msg->sadb_msg_type) {
		case SADB_GETSPI:
		case SADB_UPDATE:
		case SADB_ADD:
		case SADB_DELETE:
		case SADB_GET:
		case SADB_ACQUIRE:
		case SADB_EXPIRE:
			__ipsec_errcode = EIPSEC_INVAL_SATYPE;
			return (-1);
		}
		break;
	case SADB_SATYPE_ESP:
	case SADB_SATYPE_AH:
	case SADB_X_SATYPE_IPCOMP:
	case SADB_X_SATYPE_TCPSIGNATURE:
		switch (msg->sadb_msg_type) {
		case SADB_X_SPDADD:
		case SADB_X_SPDDELETE:
		case SADB_X_SPDGET:
		case SADB_X_SPDDUMP:
		case SADB_X_SPDFLUSH:
			__ipsec_errcode = EIPSEC_INVAL_SATYPE;
			return (-1);
		}
		break;
	case SADB_SATYPE_RSVP:
	case SADB_SATYPE_OSPFV2:
	case SADB_SATYPE_RIPV2:
	case SADB_SATYPE_MIP:
		__ipsec_errcode = EIPSEC_NOT_SUPPORTED;
		return (-1);
	case 1:
		/* SADB_X_PROMISC uses satype 1 for "on". */
		if (msg->sadb_msg_type == SADB_X_PROMISC)
			break;
		/* FALLTHROUGH */
	default:
		__ipsec_errcode = EIPSEC_INVAL_SATYPE;
		return (-1);
	}

	if (mhp[SADB_EXT_ADDRESS_SRC] != NULL &&
	    mhp[SADB_EXT_ADDRESS_DST] != NULL) {
		src0 = (struct sadb_address *)(void *)mhp[SADB_EXT_ADDRESS_SRC];
		dst0 = (struct sadb_address *)(void *)mhp[SADB_EXT_ADDRESS_DST];
		src = PFKEY_ADDR_SADDR(src0);
		dst = PFKEY_ADDR_SADDR(dst0);
		if (src0->sadb_address_proto != dst0->sadb_address_proto) {
			__ipsec_errcode = EIPSEC_PROTO_MISMATCH;
			return (-1);
		}
		if (src->sa_family != dst->sa_family) {
			__ipsec_errcode = EIPSEC_FAMILY_MISMATCH;
			return (-1);
		}
		switch (src->sa_family) {
		case AF_INET:
		case AF_INET6:
			break;
		default:
			__ipsec_errcode = EIPSEC_INVAL_FAMILY;
			return (-1);
		}
		/*
		 * No prefix length check: 0 matches everything, and the
		 * kernel sends 0xff (FULLMASK) in SA messages.
		 */
	}

	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (0);
}
