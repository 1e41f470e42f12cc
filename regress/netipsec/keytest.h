/*
 * Helpers for tests that drive the key engine in-process: PF_KEY sockets
 * attached straight to sys/netipsec (keysock_attach) that collect what
 * the engine sends them.  The messages come from ../lib/pfkey_build.h.
 */
#ifndef _REGRESS_KEYTEST_H_
#define _REGRESS_KEYTEST_H_

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>

#include "../lib/pfkey_build.h"

struct keycb;

/* An in-process PF_KEY socket. */
struct tsock {
	struct keycb	*kp;
	struct sadb_msg	**q;
	size_t		 qlen, qcap, qhead;
	int		 nreply;	/* messages flagged KEY_OUT_REPLY */
	int		 ndump;		/* messages flagged KEY_OUT_DUMP */
	/* Queued messages with which a dump message says EWOULDBLOCK. */
	size_t		 dumproom;	/* 0: room for everything */
	pthread_mutex_t	 mtx;
};

void	tk_start(void);		/* ukern_init + key_init */
void	tk_stop(void);
struct tsock *ts_open(void);
void	ts_close(struct tsock *);
int	ts_send(struct tsock *, struct pb_msg *);	/* framing errno or 0 */
int	ts_sendraw(struct tsock *, const void *, size_t);
struct sadb_msg *ts_recv(struct tsock *);	/* NULL: none queued */
struct sadb_msg *ts_wait(struct tsock *, int ms);	/* wait for one */
size_t	ts_pending(struct tsock *);
void	ts_drain(struct tsock *);
/* One extension of a received message, or NULL. */
void	*tm_getext(struct sadb_msg *, int type);
/* free(3) for kernel-side tests, where free() is free(9). */
void	ukern_free_libc(void *);
/* Send, then expect one reply to it: returns its errno, fills *replyp. */
int	ts_call(struct tsock *, struct pb_msg *, struct sadb_msg **replyp);
/* The same, the reply dropped: its errno. */
int	ts_do(struct tsock *, struct pb_msg *);

#endif
