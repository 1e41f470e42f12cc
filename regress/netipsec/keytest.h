/*
 * Helpers for tests that drive the key engine in-process: PF_KEY messages
 * built field by field, and PF_KEY sockets attached straight to
 * sys/netipsec (keysock_attach) that collect what the engine sends them.
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

struct keycb;

/* A message under construction. */
struct tmsg {
	uint8_t		buf[8192];
	size_t		len;
};

void	tm_init(struct tmsg *, int type, int satype, uint32_t seq,
	    uint32_t pid);
void	*tm_ext(struct tmsg *, size_t len, int type);
void	tm_sa(struct tmsg *, uint32_t spi, int replay, int auth, int enc,
	    uint32_t flags);
void	tm_sa2(struct tmsg *, int mode, uint32_t reqid);
void	tm_addr(struct tmsg *, int type, const char *addr, int port,
	    int prefix, int proto);
void	tm_key(struct tmsg *, int type, const void *key, size_t len);
void	tm_lft(struct tmsg *, int type, uint64_t bytes, uint64_t add,
	    uint64_t use);
void	tm_spirange(struct tmsg *, uint32_t min, uint32_t max);
/* A policy; then add requests with tm_req() and close with tm_pol_end(). */
void	tm_pol(struct tmsg *, int dir, int type, uint32_t id, uint32_t prio);
void	tm_req(struct tmsg *, int proto, int mode, int level, int reqid,
	    const char *src, const char *dst);
void	tm_pol_end(struct tmsg *);
struct sadb_msg *tm_done(struct tmsg *);

void	tm_sockaddr(struct sockaddr_storage *, const char *addr, int port);

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
int	ts_send(struct tsock *, struct tmsg *);	/* framing errno or 0 */
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
int	ts_call(struct tsock *, struct tmsg *, struct sadb_msg **replyp);
/* The same, the reply dropped: its errno. */
int	ts_do(struct tsock *, struct tmsg *);

#endif
