/*
 * Test helpers: see keytest.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keytest.h"
#include <netipsec/key.h>
#include <netipsec/keysock.h>

int	ukern_init(void);
void	ukern_fini(void);

void *
tm_getext(struct sadb_msg *msg, int type)
{

	return (pb_getext(msg, PFKEY_UNUNIT64((size_t)msg->sadb_msg_len),
	    type));
}

void
tk_start(void)
{

	if (ukern_init() != 0)
		abort();
	key_init();
}

void
tk_stop(void)
{

	key_destroy();
	ukern_fini();
}

static int
ts_output(void *arg, const struct sadb_msg *msg, size_t len, int flags)
{
	struct tsock *ts = arg;
	struct sadb_msg *copy;
	int full;

	copy = malloc(len);
	if (copy == NULL)
		return (ENOBUFS);
	memcpy(copy, msg, len);
	pthread_mutex_lock(&ts->mtx);
	if (ts->qlen == ts->qcap) {
		ts->qcap = ts->qcap ? ts->qcap * 2 : 64;
		ts->q = realloc(ts->q, ts->qcap * sizeof(*ts->q));
		if (ts->q == NULL)
			abort();
	}
	ts->q[ts->qlen++] = copy;
	if (flags & KEY_OUT_REPLY)
		ts->nreply++;
	full = 0;
	if (flags & KEY_OUT_DUMP) {
		ts->ndump++;
		full = ts->dumproom != 0 &&
		    ts->qlen - ts->qhead >= ts->dumproom;
	}
	pthread_mutex_unlock(&ts->mtx);
	return (full ? EWOULDBLOCK : 0);
}

struct tsock *
ts_open(void)
{
	struct tsock *ts;

	ts = calloc(1, sizeof(*ts));
	if (ts == NULL)
		abort();
	pthread_mutex_init(&ts->mtx, NULL);
	ts->kp = keysock_attach(ts_output, ts);
	if (ts->kp == NULL)
		abort();
	return (ts);
}

void
ts_drain(struct tsock *ts)
{
	struct sadb_msg *m;

	while ((m = ts_recv(ts)) != NULL)
		free(m);
}

void
ts_close(struct tsock *ts)
{

	keysock_detach(ts->kp);
	ts_drain(ts);
	free(ts->q);
	pthread_mutex_destroy(&ts->mtx);
	free(ts);
}

int
ts_sendraw(struct tsock *ts, const void *buf, size_t len)
{

	return (key_send(ts->kp, buf, len));
}

int
ts_send(struct tsock *ts, struct pb_msg *m)
{

	pb_finish(m);
	return (key_send(ts->kp, m->u.buf, m->len));
}

struct sadb_msg *
ts_recv(struct tsock *ts)
{
	struct sadb_msg *m;

	m = NULL;
	pthread_mutex_lock(&ts->mtx);
	if (ts->qhead < ts->qlen) {
		m = ts->q[ts->qhead++];
		if (ts->qhead == ts->qlen)
			ts->qhead = ts->qlen = 0;
	}
	pthread_mutex_unlock(&ts->mtx);
	return (m);
}

size_t
ts_pending(struct tsock *ts)
{
	size_t n;

	pthread_mutex_lock(&ts->mtx);
	n = ts->qlen - ts->qhead;
	pthread_mutex_unlock(&ts->mtx);
	return (n);
}

struct sadb_msg *
ts_wait(struct tsock *ts, int ms)
{
	struct timespec ts10 = { 0, 10 * 1000 * 1000 };
	struct sadb_msg *m;
	int waited;

	for (waited = 0; ; waited += 10) {
		if ((m = ts_recv(ts)) != NULL || waited >= ms)
			return (m);
		nanosleep(&ts10, NULL);
	}
}

int
ts_call(struct tsock *ts, struct pb_msg *m, struct sadb_msg **replyp)
{
	struct sadb_msg *r;
	int error;

	*replyp = NULL;
	error = ts_send(ts, m);
	if (error != 0)
		return (-error);	/* framing: negative */
	r = ts_recv(ts);
	if (r == NULL)
		return (-1000);		/* no reply at all */
	*replyp = r;
	return (r->sadb_msg_errno);
}

void
ukern_free_libc(void *p)
{

	free(p);
}

int
ts_do(struct tsock *ts, struct pb_msg *m)
{
	struct sadb_msg *r;
	int e;

	e = ts_call(ts, m, &r);
	free(r);
	return (e);
}
