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

void
tm_init(struct tmsg *m, int type, int satype, uint32_t seq, uint32_t pid)
{
	struct sadb_msg *msg;

	memset(m, 0, sizeof(*m));
	msg = (struct sadb_msg *)(void *)m->buf;
	msg->sadb_msg_version = PF_KEY_V2;
	msg->sadb_msg_type = type;
	msg->sadb_msg_satype = satype;
	msg->sadb_msg_seq = seq;
	msg->sadb_msg_pid = pid;
	m->len = sizeof(*msg);
}

void *
tm_ext(struct tmsg *m, size_t len, int type)
{
	struct sadb_ext *ext;
	size_t alen;

	alen = PFKEY_ALIGN8(len);
	if (m->len + alen > sizeof(m->buf))
		abort();
	ext = (struct sadb_ext *)(void *)(m->buf + m->len);
	ext->sadb_ext_len = PFKEY_UNIT64(alen);
	ext->sadb_ext_type = type;
	m->len += alen;
	return (ext);
}

void
tm_sa(struct tmsg *m, uint32_t spi, int replay, int auth, int enc,
    uint32_t flags)
{
	struct sadb_sa *sa;

	sa = tm_ext(m, sizeof(*sa), SADB_EXT_SA);
	sa->sadb_sa_spi = htonl(spi);
	sa->sadb_sa_replay = replay;
	sa->sadb_sa_auth = auth;
	sa->sadb_sa_encrypt = enc;
	sa->sadb_sa_flags = flags;
}

void
tm_sa2(struct tmsg *m, int mode, uint32_t reqid)
{
	struct sadb_x_sa2 *sa2;

	sa2 = tm_ext(m, sizeof(*sa2), SADB_X_EXT_SA2);
	sa2->sadb_x_sa2_mode = mode;
	sa2->sadb_x_sa2_reqid = reqid;
}

void
tm_sockaddr(struct sockaddr_storage *ss, const char *addr, int port)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	memset(ss, 0, sizeof(*ss));
	if (strchr(addr, ':') != NULL) {
		sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) != 1)
			abort();
	} else {
		sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
			abort();
	}
}

static size_t
ss_len(const struct sockaddr_storage *ss)
{

	return (ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in));
}

void
tm_addr(struct tmsg *m, int type, const char *addr, int port, int prefix,
    int proto)
{
	struct sockaddr_storage ss;
	struct sadb_address *a;
	size_t salen;

	tm_sockaddr(&ss, addr, port);
	salen = ss_len(&ss);
	a = tm_ext(m, sizeof(*a) + salen, type);
	a->sadb_address_proto = proto;
	a->sadb_address_prefixlen = prefix >= 0 ? prefix :
	    (ss.ss_family == AF_INET6 ? 128 : 32);
	memcpy(a + 1, &ss, salen);
}

void
tm_key(struct tmsg *m, int type, const void *key, size_t len)
{
	struct sadb_key *k;

	k = tm_ext(m, sizeof(*k) + len, type);
	k->sadb_key_bits = len * 8;
	memcpy(k + 1, key, len);
}

void
tm_lft(struct tmsg *m, int type, uint64_t bytes, uint64_t add, uint64_t use)
{
	struct sadb_lifetime *l;

	l = tm_ext(m, sizeof(*l), type);
	l->sadb_lifetime_bytes = bytes;
	l->sadb_lifetime_addtime = add;
	l->sadb_lifetime_usetime = use;
}

void
tm_spirange(struct tmsg *m, uint32_t min, uint32_t max)
{
	struct sadb_spirange *r;

	r = tm_ext(m, sizeof(*r), SADB_EXT_SPIRANGE);
	r->sadb_spirange_min = min;
	r->sadb_spirange_max = max;
}

static size_t tm_polstart;

void
tm_pol(struct tmsg *m, int dir, int type, uint32_t id, uint32_t prio)
{
	struct sadb_x_policy *xpl;

	tm_polstart = m->len;
	xpl = tm_ext(m, sizeof(*xpl), SADB_X_EXT_POLICY);
	xpl->sadb_x_policy_dir = dir;
	xpl->sadb_x_policy_type = type;
	xpl->sadb_x_policy_id = id;
	xpl->sadb_x_policy_priority = prio;
}

void
tm_req(struct tmsg *m, int proto, int mode, int level, int reqid,
    const char *src, const char *dst)
{
	struct sadb_x_ipsecrequest *r;
	struct sockaddr_storage s, d;
	size_t salen, len;

	salen = 0;
	if (src != NULL) {
		tm_sockaddr(&s, src, 0);
		tm_sockaddr(&d, dst, 0);
		salen = ss_len(&s);
	}
	len = sizeof(*r) + 2 * salen;
	r = (struct sadb_x_ipsecrequest *)(void *)(m->buf + m->len);
	memset(r, 0, PFKEY_ALIGN8(len));
	r->sadb_x_ipsecrequest_len = PFKEY_ALIGN8(len);
	r->sadb_x_ipsecrequest_proto = proto;
	r->sadb_x_ipsecrequest_mode = mode;
	r->sadb_x_ipsecrequest_level = level;
	r->sadb_x_ipsecrequest_reqid = reqid;
	if (salen != 0) {
		memcpy(r + 1, &s, salen);
		memcpy((uint8_t *)(r + 1) + salen, &d, salen);
	}
	m->len += PFKEY_ALIGN8(len);
}

void
tm_pol_end(struct tmsg *m)
{
	struct sadb_ext *ext;

	ext = (struct sadb_ext *)(void *)(m->buf + tm_polstart);
	ext->sadb_ext_len = PFKEY_UNIT64(m->len - tm_polstart);
}

struct sadb_msg *
tm_done(struct tmsg *m)
{
	struct sadb_msg *msg;

	msg = (struct sadb_msg *)(void *)m->buf;
	msg->sadb_msg_len = PFKEY_UNIT64(m->len);
	return (msg);
}

void *
tm_getext(struct sadb_msg *msg, int type)
{
	struct sadb_ext *ext;
	size_t off, len;

	len = PFKEY_UNUNIT64((size_t)msg->sadb_msg_len);
	for (off = sizeof(*msg); off + sizeof(*ext) <= len;) {
		ext = (struct sadb_ext *)(void *)((uint8_t *)msg + off);
		if (ext->sadb_ext_len == 0)
			return (NULL);
		if (ext->sadb_ext_type == type)
			return (ext);
		off += PFKEY_UNUNIT64((size_t)ext->sadb_ext_len);
	}
	return (NULL);
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
ts_send(struct tsock *ts, struct tmsg *m)
{

	tm_done(m);
	return (key_send(ts->kp, m->buf, m->len));
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
ts_call(struct tsock *ts, struct tmsg *m, struct sadb_msg **replyp)
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
ts_do(struct tsock *ts, struct tmsg *m)
{
	struct sadb_msg *r;
	int e;

	e = ts_call(ts, m, &r);
	free(r);
	return (e);
}
