/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The PF_KEY socket layer: attach and detach sockets, take user messages
 * (framing checks, then key_parse()), and route the key engine's messages
 * to one socket, all sockets or the registered ones, with a promiscuous
 * copy to every socket in promiscuous mode (FreeBSD's keysock.c).
 */

#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/key_var.h>
#include <netipsec/keysock.h>

/*
 * Messages longer than this are refused with ENOBUFS and no reply, as
 * FreeBSD's key_parse() refuses anything beyond one mbuf cluster.
 */
#define	KEY_MAXMSGLEN	2048

struct keycb {
	LIST_ENTRY(keycb)	kp_next;
	key_output_t		*kp_output;
	void			*kp_arg;
	int			kp_promisc;	/* promiscuous mode */
	int			kp_registered;	/* satypes registered for */
	counter_u64_t		kp_drops;	/* lost: buffer full */
	struct key_dump		*kp_dump;	/* dump in progress (key.c) */
};

MALLOC_DEFINE(M_PCB, "keycb", "PF_KEY socket control blocks");

static int	key_sendup1(struct keycb *, struct sadb_msg *, size_t, int,
		    int);

static LIST_HEAD(, keycb) keycb_list = LIST_HEAD_INITIALIZER(keycb_list);
static struct mtx keysock_mtx;
static int keysock_inited;
PCPUSTAT_DEFINE(struct pfkeystat, pfkeystat);
PCPUSTAT_SYSINIT(pfkeystat);

#define	KEYSOCK_LOCK()		mtx_lock(&keysock_mtx)
#define	KEYSOCK_UNLOCK()	mtx_unlock(&keysock_mtx)

/* Called by key_init(), before anything can be sent up. */
void
keysock_init(void)
{

	if (keysock_inited)
		return;
	mtx_init(&keysock_mtx, "keysock", NULL, MTX_DEF);
	keysock_inited = 1;
}

struct keycb *
keysock_attach(key_output_t *output, void *arg)
{
	struct keycb *kp;

	keysock_init();
	kp = malloc(sizeof(*kp), M_PCB, M_NOWAIT | M_ZERO);
	if (kp == NULL)
		return (NULL);
	if (COUNTER_ALLOC(kp->kp_drops, M_NOWAIT) != 0) {
		free(kp, M_PCB);
		return (NULL);
	}
	kp->kp_output = output;
	kp->kp_arg = arg;
	KEYSOCK_LOCK();
	LIST_INSERT_HEAD(&keycb_list, kp, kp_next);
	KEYSOCK_UNLOCK();
	return (kp);
}

void
keysock_detach(struct keycb *kp)
{

	/* Registrations first, so no REGISTERED message finds it. */
	key_freereg(kp);
	key_dump_drop(kp);
	KEYSOCK_LOCK();
	LIST_REMOVE(kp, kp_next);
	KEYSOCK_UNLOCK();
	COUNTER_FREE(kp->kp_drops);
	free(kp, M_PCB);
}

uint64_t
keysock_drops(const struct keycb *kp)
{

	return (COUNTER_FETCH(((struct keycb *)(uintptr_t)kp)->kp_drops));
}

int
keysock_registered(const struct keycb *kp)
{

	return (kp->kp_registered);
}

void
keysock_setregistered(struct keycb *kp, int delta)
{

	KEYSOCK_LOCK();
	kp->kp_registered += delta;
	KEYSOCK_UNLOCK();
}

/* The socket's dump in progress; key.c calls these under its dump lock. */
struct key_dump *
keysock_dump(const struct keycb *kp)
{

	return (kp->kp_dump);
}

void
keysock_setdump(struct keycb *kp, struct key_dump *kd)
{

	kp->kp_dump = kd;
}

int
keysock_promisc(struct keycb *kp, int on)
{

	KEYSOCK_LOCK();
	kp->kp_promisc = on;
	KEYSOCK_UNLOCK();
	return (0);
}

void
keysock_getstat(struct pfkeystat *st)
{

	PCPUSTAT_FETCH(struct pfkeystat, pfkeystat, st);
}

/*
 * A message written by the user: the framing checks FreeBSD's key_output()
 * and key_parse() make before anything else, then the key engine.  The
 * buffer is copied, aligned, because key_parse() edits and consumes it.
 */
int
key_send(struct keycb *kp, const void *buf, size_t len)
{
	struct sadb_msg *msg;
	uint16_t mlen;

	PFKEYSTAT_INC(out_total);
	PFKEYSTAT_ADD(out_bytes, len);
	if (len < sizeof(struct sadb_msg)) {
		PFKEYSTAT_INC(out_tooshort);
		return (EINVAL);
	}
	memcpy(&mlen, (const uint8_t *)buf +
	    offsetof(struct sadb_msg, sadb_msg_len), sizeof(mlen));
	if (len != PFKEY_UNUNIT64((size_t)mlen)) {
		PFKEYSTAT_INC(out_invlen);
		return (EINVAL);
	}
	if (len > KEY_MAXMSGLEN) {
		PFKEYSTAT_INC(out_nomem);
		return (ENOBUFS);
	}
	msg = malloc(len, M_IPSEC_MISC, M_NOWAIT);
	if (msg == NULL) {
		PFKEYSTAT_INC(out_nomem);
		return (ENOBUFS);
	}
	memcpy(msg, buf, len);
	PFKEYSTAT_INC(out_msgtype[msg->sadb_msg_type]);
	return (key_parse(kp, msg, len));
}

/*
 * Hand one message to one socket, counting what its buffer refuses.
 * Returns EWOULDBLOCK for a dump message after which the socket has no
 * room for more (keysock.h), else 0.
 */
static int
key_sendup0(struct keycb *kp, const struct sadb_msg *msg, size_t len,
    int flags)
{
	int error;

	PFKEYSTAT_INC(in_total);
	PFKEYSTAT_ADD(in_bytes, len);
	error = kp->kp_output(kp->kp_arg, msg, len, flags);
	if (error == EWOULDBLOCK && (flags & KEY_OUT_DUMP))
		return (error);
	if (error != 0) {
		COUNTER_ADD(kp->kp_drops, 1);
		PFKEYSTAT_INC(in_nomem);
	}
	return (0);
}

/*
 * Send a message of the key engine up: to "so" (the sender of the request
 * being answered, or NULL), and to every other socket that "target"
 * selects.  Each promiscuous socket also gets a copy wrapped in an
 * SADB_X_PROMISC header.  The caller keeps "msg".
 */
int
key_sendup(struct keycb *so, struct sadb_msg *msg, size_t len, int target)
{

	(void)key_sendup1(so, msg, len, target, KEY_OUT_REPLY);
	return (0);
}

/*
 * One message of a streamed dump, to the socket that asked for it (and a
 * copy to each promiscuous socket).  Returns EWOULDBLOCK when the socket
 * took it but has no room for more: the dump waits for
 * key_dump_resume().
 */
int
key_sendup_dump(struct keycb *so, struct sadb_msg *msg, size_t len)
{

	return (key_sendup1(so, msg, len, KEY_SENDUP_ONE,
	    KEY_OUT_REPLY | KEY_OUT_DUMP));
}

static int
key_sendup1(struct keycb *so, struct sadb_msg *msg, size_t len, int target,
    int soflags)
{
	struct sadb_msg *pmsg;
	struct keycb *kp;
	size_t plen;
	int error;

	KASSERT(len == PFKEY_UNUNIT64((size_t)msg->sadb_msg_len),
	    ("%s: bad length %zu", __func__, len));
	PFKEYSTAT_INC(in_msgtype[msg->sadb_msg_type]);
	if (target >= KEY_SENDUP_ONE && target <= KEY_SENDUP_REGISTERED)
		PFKEYSTAT_INC(in_msgtarget[target]);

	plen = len + sizeof(struct sadb_msg);
	pmsg = NULL;

	KEYSOCK_LOCK();
	LIST_FOREACH(kp, &keycb_list, kp_next) {
		if (kp->kp_promisc && plen <= 0xffff * 8) {
			if (pmsg == NULL) {
				pmsg = malloc(plen, M_IPSEC_MISC,
				    M_NOWAIT | M_ZERO);
				if (pmsg != NULL) {
					pmsg->sadb_msg_version = PF_KEY_V2;
					pmsg->sadb_msg_type = SADB_X_PROMISC;
					pmsg->sadb_msg_len =
					    PFKEY_UNIT64(plen);
					memcpy(pmsg + 1, msg, len);
				}
			}
			if (pmsg != NULL)
				key_sendup0(kp, pmsg, plen, 0);
			else
				PFKEYSTAT_INC(in_nomem);
		}
		/* The exact target is served below. */
		if (kp == so)
			continue;
		switch (target) {
		case KEY_SENDUP_ONE:
			continue;
		case KEY_SENDUP_ALL:
			break;
		case KEY_SENDUP_REGISTERED:
			if (kp->kp_registered == 0)
				continue;
			break;
		default:
			continue;
		}
		key_sendup0(kp, msg, len, 0);
	}
	/* The originator always gets its answer, and never loses it. */
	error = 0;
	if (so != NULL)
		error = key_sendup0(so, msg, len, soflags);
	KEYSOCK_UNLOCK();

	if (pmsg != NULL)
		zfree(pmsg, M_IPSEC_MISC);
	return (error);
}
