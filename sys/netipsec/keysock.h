/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The PF_KEY socket layer: what a host uses to attach PF_KEY sockets to
 * the key engine and to carry messages both ways.
 *
 * On a BSD kernel this is the PF_KEY protocol switch.  Elsewhere the host
 * (sbin/netipsecd) calls keysock_attach() once per client connection,
 * key_send() for every message the client writes, and receives what the
 * key engine sends to that socket through the key_output_t it gave.
 */

#ifndef _NETIPSEC_KEYSOCK_H_
#define _NETIPSEC_KEYSOCK_H_

struct sadb_msg;
struct keycb;

/*
 * Deliver one PF_KEY message to a socket.  "flags" has KEY_OUT_REPLY for
 * the reply to the socket's own request (including every message of a
 * dump): the host must not drop those.  Anything else (broadcasts,
 * registered and promiscuous copies) may be dropped when the socket's
 * buffer is full, as on BSD: the host then returns ENOBUFS and the
 * layer counts it.  Called with no key engine table locked, from the
 * thread that called key_send() or from the callout thread, with the
 * socket list lock held: it must copy the message and return, and must
 * not call back into the PF_KEY layer.
 *
 * The messages of a dump (SADB_DUMP, SADB_X_SPDDUMP) also carry
 * KEY_OUT_DUMP.  They are streamed: the host takes each one, and returns
 * EWOULDBLOCK when, with it, the socket's buffer holds as much as the
 * host lets it; the engine then stops the dump where it is, and goes on
 * when the host calls key_dump_resume() because the user has read.  A
 * host that never says EWOULDBLOCK gets a whole dump at once.
 */
typedef int key_output_t(void *arg, const struct sadb_msg *msg, size_t len,
    int flags);
#define	KEY_OUT_REPLY	0x0001
#define	KEY_OUT_DUMP	0x0002

struct keycb	*keysock_attach(key_output_t *output, void *arg);
void		 keysock_detach(struct keycb *);

/*
 * A message written by the user.  Returns 0 when the message was taken
 * (a semantic error then comes back as a reply with sadb_msg_errno set)
 * or a framing error (EINVAL, ENOBUFS, EOPNOTSUPP), which on a BSD
 * kernel is the error of send(2) and leaves no reply.
 */
int		 key_send(struct keycb *, const void *buf, size_t len);

/*
 * The user read from a socket whose dump waits for room (the host's
 * output returned EWOULDBLOCK): send the dump's next messages, until the
 * host says EWOULDBLOCK again or the dump ends.  Returns EINPROGRESS
 * while the dump waits, else 0 (nothing pending).  Call it without the
 * locks the output callback takes.  FreeBSD's counterpart would be the
 * socket's pru_rcvd.
 */
int		 key_dump_resume(struct keycb *);

/* Messages dropped on this socket because its buffer was full. */
uint64_t	 keysock_drops(const struct keycb *);

/* Routing targets of key_sendup() (as FreeBSD's KEY_SENDUP_*). */
#define	KEY_SENDUP_ONE		0	/* to the sender */
#define	KEY_SENDUP_ALL		1	/* to every socket */
#define	KEY_SENDUP_REGISTERED	2	/* to every registered socket */

/* PF_KEY statistics (FreeBSD's struct pfkeystat). */
struct pfkeystat {
	/* kernel -> userland */
	uint64_t out_total;		/* # of total calls */
	uint64_t out_bytes;		/* total bytecount */
	uint64_t out_msgtype[256];	/* message type histogram */
	uint64_t out_invlen;		/* invalid length field */
	uint64_t out_invver;		/* invalid version field */
	uint64_t out_invmsgtype;	/* invalid message type field */
	uint64_t out_tooshort;		/* msg too short */
	uint64_t out_nomem;		/* memory allocation failure */
	uint64_t out_dupext;		/* duplicate extension */
	uint64_t out_invexttype;	/* invalid extension type */
	uint64_t out_invsatype;		/* invalid sa type */
	uint64_t out_invaddr;		/* invalid address extension */
	/* userland -> kernel */
	uint64_t in_total;		/* # of total calls */
	uint64_t in_bytes;		/* total bytecount */
	uint64_t in_msgtype[256];	/* message type histogram */
	uint64_t in_msgtarget[3];	/* one/all/registered */
	uint64_t in_nomem;		/* memory allocation failure */
	/* others */
	uint64_t sockerr;		/* # of socket related errors */
};

void		 keysock_getstat(struct pfkeystat *);

#ifdef _KERNEL
/* Counted where things happen (key.c, keysock.c). */
extern PCPUSTAT_DEFINE(struct pfkeystat, pfkeystat);
#define	PFKEYSTAT_INC(name)	PCPUSTAT_ADD(struct pfkeystat, pfkeystat, name, 1)
#define	PFKEYSTAT_ADD(name, n)	PCPUSTAT_ADD(struct pfkeystat, pfkeystat, name, (n))
#endif

#endif /* !_NETIPSEC_KEYSOCK_H_ */
