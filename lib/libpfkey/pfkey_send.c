/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * The pfkey_send_*() message builders, the REGISTER bookkeeping behind
 * ipsec_check_keylen(), and the soft lifetime rates.
 *
 * Each builder computes the message length first, allocates exactly
 * that, and appends every extension through pfkey_mb_reserve(), which
 * refuses to write past the end: KAME's builders trusted their own
 * arithmetic ("NO BUFFER OVERRUN CHECK"), these do not.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpfkey.h"
#include "pfkey_var.h"

/* A message under construction. */
struct pfkey_msgbuf {
	char	*mb_buf;
	size_t	 mb_len;	/* allocated, and final, length */
	size_t	 mb_off;	/* bytes written */
};

static int	pfkey_mb_init(struct pfkey_msgbuf *, size_t, u_int, u_int,
		    uint32_t);
static void	*pfkey_mb_reserve(struct pfkey_msgbuf *, size_t);
static void	pfkey_mb_free(struct pfkey_msgbuf *);
static int	pfkey_mb_send(int, struct pfkey_msgbuf *);
static int	pfkey_mb_sa(struct pfkey_msgbuf *, uint32_t, u_int, u_int,
		    u_int, uint32_t);
static int	pfkey_mb_sa2(struct pfkey_msgbuf *, u_int, uint32_t);
static int	pfkey_mb_replay(struct pfkey_msgbuf *, u_int);
static int	pfkey_mb_addr(struct pfkey_msgbuf *, u_int,
		    const struct sockaddr *, size_t, u_int, u_int);
static int	pfkey_mb_key(struct pfkey_msgbuf *, u_int, const char *,
		    u_int);
static int	pfkey_mb_lifetime(struct pfkey_msgbuf *, u_int, uint32_t,
		    uint64_t, uint64_t, uint64_t);
static int	pfkey_mb_spirange(struct pfkey_msgbuf *, uint32_t, uint32_t);
static int	pfkey_mb_raw(struct pfkey_msgbuf *, const void *, size_t);

static int	pfkey_addrpair(const struct sockaddr *, const struct sockaddr *,
		    size_t *, size_t *, u_int *);
static int	pfkey_send_x1(struct pfkey_send_sa_args *);
static u_int	pfkey_plen(const struct sockaddr *);
static int	pfkey_mb_natt(struct pfkey_msgbuf *,
		    const struct pfkey_send_sa_args *, size_t, size_t);
static int	pfkey_send_x2(int, u_int, u_int, struct sockaddr *,
		    struct sockaddr *, uint32_t);
static int	pfkey_send_x3(int, u_int, u_int);
static int	pfkey_send_x4(int, u_int, struct sockaddr *, u_int,
		    struct sockaddr *, u_int, u_int, uint64_t, uint64_t,
		    const char *, int, uint32_t);
static int	pfkey_send_x5(int, u_int, uint32_t);

/* Replay windows (bytes) beyond sadb_sa_replay go in SA_REPLAY. */
#define	PFKEY_REPLAY_MAX	((UINT32_MAX - 32) >> 3)

/* %%% Message construction */

static int
pfkey_mb_init(struct pfkey_msgbuf *mb, size_t len, u_int type, u_int satype,
    uint32_t seq)
{
	struct sadb_msg m;

	mb->mb_buf = NULL;
	mb->mb_len = mb->mb_off = 0;
	if (len > PFKEY_MSG_MAX || (len & 7) != 0) {
		__ipsec_errcode = EIPSEC_NO_BUFS;
		return (-1);
	}
	if ((mb->mb_buf = calloc(1, len)) == NULL) {
		pfkey_set_syserr(errno);
		return (-1);
	}
	mb->mb_len = len;

	memset(&m, 0, sizeof(m));
	m.sadb_msg_version = PF_KEY_V2;
	m.sadb_msg_type = type & 0xff;
	m.sadb_msg_satype = satype & 0xff;
	m.sadb_msg_len = (uint16_t)PFKEY_UNIT64(len);
	m.sadb_msg_seq = seq;
	m.sadb_msg_pid = (uint32_t)getpid();
	return (pfkey_mb_raw(mb, &m, sizeof(m)));
}

/* Room for n more bytes, or NULL if the message would overflow. */
static void *
pfkey_mb_reserve(struct pfkey_msgbuf *mb, size_t n)
{
	void *p;

	if (mb->mb_buf == NULL || n > mb->mb_len - mb->mb_off) {
		__ipsec_errcode = EIPSEC_NO_BUFS;
		return (NULL);
	}
	p = mb->mb_buf + mb->mb_off;
	mb->mb_off += n;
	return (p);
}

/* Messages may carry keys: zero them before they go back to malloc. */
static void
pfkey_mb_free(struct pfkey_msgbuf *mb)
{

	if (mb->mb_buf != NULL) {
		explicit_bzero(mb->mb_buf, mb->mb_len);
		free(mb->mb_buf);
	}
	mb->mb_buf = NULL;
	mb->mb_len = mb->mb_off = 0;
}

static int
pfkey_mb_send(int so, struct pfkey_msgbuf *mb)
{
	int len;

	if (mb->mb_off != mb->mb_len) {
		/* The length computed up front and the content disagree. */
		pfkey_mb_free(mb);
		__ipsec_errcode = EIPSEC_NO_BUFS;
		return (-1);
	}
	len = pfkey_send(so, (struct sadb_msg *)(void *)mb->mb_buf,
	    (int)mb->mb_len);
	pfkey_mb_free(mb);
	if (len < 0)
		return (-1);
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (len);
}

static int
pfkey_mb_raw(struct pfkey_msgbuf *mb, const void *data, size_t n)
{
	void *p;

	if ((p = pfkey_mb_reserve(mb, n)) == NULL)
		return (-1);
	memcpy(p, data, n);
	return (0);
}

static int
pfkey_mb_sa(struct pfkey_msgbuf *mb, uint32_t spi, u_int wsize, u_int auth,
    u_int enc, uint32_t flags)
{
	struct sadb_sa sa;

	memset(&sa, 0, sizeof(sa));
	sa.sadb_sa_len = PFKEY_UNIT64(sizeof(sa));
	sa.sadb_sa_exttype = SADB_EXT_SA;
	sa.sadb_sa_spi = spi;
	sa.sadb_sa_replay = wsize > UINT8_MAX ? UINT8_MAX : (uint8_t)wsize;
	sa.sadb_sa_state = SADB_SASTATE_LARVAL;
	sa.sadb_sa_auth = auth & 0xff;
	sa.sadb_sa_encrypt = enc & 0xff;
	sa.sadb_sa_flags = flags;
	return (pfkey_mb_raw(mb, &sa, sizeof(sa)));
}

static int
pfkey_mb_sa2(struct pfkey_msgbuf *mb, u_int mode, uint32_t reqid)
{
	struct sadb_x_sa2 sa2;

	memset(&sa2, 0, sizeof(sa2));
	sa2.sadb_x_sa2_len = PFKEY_UNIT64(sizeof(sa2));
	sa2.sadb_x_sa2_exttype = SADB_X_EXT_SA2;
	sa2.sadb_x_sa2_mode = mode & 0xff;
	sa2.sadb_x_sa2_reqid = reqid;
	return (pfkey_mb_raw(mb, &sa2, sizeof(sa2)));
}

/* wsize is in bytes, as for sadb_sa_replay; SA_REPLAY counts packets. */
static int
pfkey_mb_replay(struct pfkey_msgbuf *mb, u_int wsize)
{
	struct sadb_x_sa_replay r;

	memset(&r, 0, sizeof(r));
	r.sadb_x_sa_replay_len = PFKEY_UNIT64(sizeof(r));
	r.sadb_x_sa_replay_exttype = SADB_X_EXT_SA_REPLAY;
	r.sadb_x_sa_replay_replay = (uint32_t)wsize << 3;
	return (pfkey_mb_raw(mb, &r, sizeof(r)));
}

static int
pfkey_mb_addr(struct pfkey_msgbuf *mb, u_int exttype,
    const struct sockaddr *sa, size_t salen, u_int prefixlen, u_int proto)
{
	struct sadb_address a;
	size_t len;
	char *p;

	len = sizeof(a) + PFKEY_ALIGN8(salen);
	if ((p = pfkey_mb_reserve(mb, len)) == NULL)
		return (-1);
	memset(&a, 0, sizeof(a));
	a.sadb_address_len = (uint16_t)PFKEY_UNIT64(len);
	a.sadb_address_exttype = exttype & 0xffff;
	a.sadb_address_proto = proto & 0xff;
	a.sadb_address_prefixlen = prefixlen & 0xff;
	memcpy(p, &a, sizeof(a));
	memcpy(p + sizeof(a), sa, salen);	/* padding stays zero */
	return (0);
}

static int
pfkey_mb_key(struct pfkey_msgbuf *mb, u_int exttype, const char *key,
    u_int keylen)
{
	struct sadb_key k;
	size_t len;
	char *p;

	len = sizeof(k) + PFKEY_ALIGN8((size_t)keylen);
	if ((p = pfkey_mb_reserve(mb, len)) == NULL)
		return (-1);
	memset(&k, 0, sizeof(k));
	k.sadb_key_len = (uint16_t)PFKEY_UNIT64(len);
	k.sadb_key_exttype = exttype & 0xffff;
	k.sadb_key_bits = (uint16_t)(keylen << 3);
	memcpy(p, &k, sizeof(k));
	if (keylen > 0)
		memcpy(p + sizeof(k), key, keylen);
	return (0);
}

/* rate% of v without overflowing for large byte counts. */
static uint64_t
pfkey_rate(uint64_t v, u_int rate)
{

	return ((v / 100) * rate + (v % 100) * rate / 100);
}

static u_int soft_lifetime_allocations_rate = PFKEY_SOFT_LIFETIME_RATE;
static u_int soft_lifetime_bytes_rate = PFKEY_SOFT_LIFETIME_RATE;
static u_int soft_lifetime_addtime_rate = PFKEY_SOFT_LIFETIME_RATE;
static u_int soft_lifetime_usetime_rate = PFKEY_SOFT_LIFETIME_RATE;

/* A HARD lifetime as given, or the SOFT one derived from it. */
static int
pfkey_mb_lifetime(struct pfkey_msgbuf *mb, u_int exttype, uint32_t l_alloc,
    uint64_t l_bytes, uint64_t l_addtime, uint64_t l_usetime)
{
	struct sadb_lifetime l;

	memset(&l, 0, sizeof(l));
	l.sadb_lifetime_len = PFKEY_UNIT64(sizeof(l));
	l.sadb_lifetime_exttype = exttype & 0xffff;
	if (exttype == SADB_EXT_LIFETIME_SOFT) {
		l.sadb_lifetime_allocations = (uint32_t)pfkey_rate(l_alloc,
		    soft_lifetime_allocations_rate);
		l.sadb_lifetime_bytes = pfkey_rate(l_bytes,
		    soft_lifetime_bytes_rate);
		l.sadb_lifetime_addtime = pfkey_rate(l_addtime,
		    soft_lifetime_addtime_rate);
		l.sadb_lifetime_usetime = pfkey_rate(l_usetime,
		    soft_lifetime_usetime_rate);
	} else {
		l.sadb_lifetime_allocations = l_alloc;
		l.sadb_lifetime_bytes = l_bytes;
		l.sadb_lifetime_addtime = l_addtime;
		l.sadb_lifetime_usetime = l_usetime;
	}
	return (pfkey_mb_raw(mb, &l, sizeof(l)));
}

static int
pfkey_mb_spirange(struct pfkey_msgbuf *mb, uint32_t min, uint32_t max)
{
	struct sadb_spirange r;

	memset(&r, 0, sizeof(r));
	r.sadb_spirange_len = PFKEY_UNIT64(sizeof(r));
	r.sadb_spirange_exttype = SADB_EXT_SPIRANGE;
	r.sadb_spirange_min = min;
	r.sadb_spirange_max = max;
	return (pfkey_mb_raw(mb, &r, sizeof(r)));
}

/*
 * Check a source/destination pair given to a builder: both present, of
 * one family, IPv4 or IPv6.  Returns their sizes and the family's
 * full prefix length.
 */
static int
pfkey_addrpair(const struct sockaddr *src, const struct sockaddr *dst,
    size_t *srclen, size_t *dstlen, u_int *plen)
{

	if (src == NULL || dst == NULL) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	if (src->sa_family != dst->sa_family) {
		__ipsec_errcode = EIPSEC_FAMILY_MISMATCH;
		return (-1);
	}
	switch (src->sa_family) {
	case AF_INET:
		*plen = sizeof(struct in_addr) << 3;
		break;
	case AF_INET6:
		*plen = sizeof(struct in6_addr) << 3;
		break;
	default:
		__ipsec_errcode = EIPSEC_INVAL_FAMILY;
		return (-1);
	}
	*srclen = pfkey_sasize(src, sizeof(struct sockaddr_storage));
	*dstlen = pfkey_sasize(dst, sizeof(struct sockaddr_storage));
	if (*srclen == 0 || *dstlen == 0) {
		__ipsec_errcode = EIPSEC_INVAL_ADDRESS;
		return (-1);
	}
	return (0);
}

#define	PFKEY_ADDRLEN(salen)	\
	(sizeof(struct sadb_address) + PFKEY_ALIGN8(salen))

/* %%% The builders */

/*
 * SADB_GETSPI: <base, SA2, address(SD), [SPIRANGE]>.  The range is sent
 * only when it narrows the kernel's default one.
 */
int
pfkey_send_getspi(int so, u_int satype, u_int mode, struct sockaddr *src,
    struct sockaddr *dst, uint32_t min, uint32_t max, uint32_t reqid,
    uint32_t seq)
{
	struct pfkey_msgbuf mb;
	size_t srclen, dstlen, len;
	u_int plen;
	int need_spirange;

	if (pfkey_addrpair(src, dst, &srclen, &dstlen, &plen) < 0)
		return (-1);
	if (min > max || (min > 0 && min <= 255)) {
		__ipsec_errcode = EIPSEC_INVAL_SPI;
		return (-1);
	}
	need_spirange = min > 255 && max < UINT32_MAX;

	len = sizeof(struct sadb_msg) + sizeof(struct sadb_x_sa2) +
	    PFKEY_ADDRLEN(srclen) + PFKEY_ADDRLEN(dstlen);
	if (need_spirange)
		len += sizeof(struct sadb_spirange);

	if (pfkey_mb_init(&mb, len, SADB_GETSPI, satype, seq) < 0 ||
	    pfkey_mb_sa2(&mb, mode, reqid) < 0 ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_SRC, src, srclen, plen,
	    IPSEC_ULPROTO_ANY) < 0 ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_DST, dst, dstlen, plen,
	    IPSEC_ULPROTO_ANY) < 0 ||
	    (need_spirange && pfkey_mb_spirange(&mb, min, max) < 0)) {
		pfkey_mb_free(&mb);
		return (-1);
	}
	return (pfkey_mb_send(so, &mb));
}

/* KAME's argument lists, as an args struct for pfkey_send_x1(). */
#define	PFKEY_SA_ARGS(a, t)	do {					\
	memset(&(a), 0, sizeof(a));					\
	(a).so = so; (a).type = (t); (a).satype = satype;		\
	(a).mode = mode; (a).src = src; (a).dst = dst; (a).spi = spi;	\
	(a).reqid = reqid; (a).wsize = wsize; (a).keymat = keymat;	\
	(a).e_type = e_type; (a).e_keylen = e_keylen;			\
	(a).a_type = a_type; (a).a_keylen = a_keylen;			\
	(a).flags = flags; (a).l_alloc = l_alloc;			\
	(a).l_bytes = l_bytes; (a).l_addtime = l_addtime;		\
	(a).l_usetime = l_usetime; (a).seq = seq;			\
} while (0)

int
pfkey_send_update(int so, u_int satype, u_int mode, struct sockaddr *src,
    struct sockaddr *dst, uint32_t spi, uint32_t reqid, u_int wsize,
    char *keymat, u_int e_type, u_int e_keylen, u_int a_type, u_int a_keylen,
    u_int flags, uint32_t l_alloc, uint64_t l_bytes, uint64_t l_addtime,
    uint64_t l_usetime, uint32_t seq)
{
	struct pfkey_send_sa_args a;

	PFKEY_SA_ARGS(a, SADB_UPDATE);
	return (pfkey_send_x1(&a));
}

int
pfkey_send_add(int so, u_int satype, u_int mode, struct sockaddr *src,
    struct sockaddr *dst, uint32_t spi, uint32_t reqid, u_int wsize,
    char *keymat, u_int e_type, u_int e_keylen, u_int a_type, u_int a_keylen,
    u_int flags, uint32_t l_alloc, uint64_t l_bytes, uint64_t l_addtime,
    uint64_t l_usetime, uint32_t seq)
{
	struct pfkey_send_sa_args a;

	PFKEY_SA_ARGS(a, SADB_ADD);
	return (pfkey_send_x1(&a));
}

/*
 * ipsec-tools' variants: every SA parameter in one struct, with the
 * NAT-T extensions racoon sends (type, ports, original addresses).
 */
int
pfkey_send_update2(struct pfkey_send_sa_args *sa_parms)
{

	if (sa_parms == NULL) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	sa_parms->type = SADB_UPDATE;
	return (pfkey_send_x1(sa_parms));
}

int
pfkey_send_add2(struct pfkey_send_sa_args *sa_parms)
{

	if (sa_parms == NULL) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	sa_parms->type = SADB_ADD;
	return (pfkey_send_x1(sa_parms));
}

int
pfkey_send_delete(int so, u_int satype, u_int mode, struct sockaddr *src,
    struct sockaddr *dst, uint32_t spi)
{

	(void)mode;	/* unused, as in KAME */
	return (pfkey_send_x2(so, SADB_DELETE, satype, src, dst, spi));
}

/*
 * SADB_DELETE without an SA extension: delete every SA from src to dst
 * of that type (FreeBSD, Solaris).  <base, address(SD)>.
 */
int
pfkey_send_delete_all(int so, u_int satype, u_int mode, struct sockaddr *src,
    struct sockaddr *dst)
{
	struct pfkey_msgbuf mb;
	size_t srclen, dstlen, len;
	u_int plen;

	(void)mode;
	if (pfkey_addrpair(src, dst, &srclen, &dstlen, &plen) < 0)
		return (-1);
	len = sizeof(struct sadb_msg) + PFKEY_ADDRLEN(srclen) +
	    PFKEY_ADDRLEN(dstlen);
	if (pfkey_mb_init(&mb, len, SADB_DELETE, satype, 0) < 0 ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_SRC, src, srclen, plen,
	    IPSEC_ULPROTO_ANY) < 0 ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_DST, dst, dstlen, plen,
	    IPSEC_ULPROTO_ANY) < 0) {
		pfkey_mb_free(&mb);
		return (-1);
	}
	return (pfkey_mb_send(so, &mb));
}

int
pfkey_send_get(int so, u_int satype, u_int mode, struct sockaddr *src,
    struct sockaddr *dst, uint32_t spi)
{

	(void)mode;
	return (pfkey_send_x2(so, SADB_GET, satype, src, dst, spi));
}

/*
 * SADB_REGISTER.  Forget what we knew of the satype's algorithms (all of
 * them for UNSPEC): the reply brings the current lists.
 */
static struct sadb_supported *ipsec_supported[] = { NULL, NULL, NULL, NULL };
static const u_int supported_map[] = {
	SADB_SATYPE_AH,
	SADB_SATYPE_ESP,
	SADB_X_SATYPE_IPCOMP,
	SADB_X_SATYPE_TCPSIGNATURE,
};
#define	SUPPORTED_N	(sizeof(supported_map) / sizeof(supported_map[0]))

static int
findsupportedmap(u_int satype)
{
	size_t i;

	for (i = 0; i < SUPPORTED_N; i++)
		if (supported_map[i] == satype)
			return ((int)i);
	return (-1);
}

int
pfkey_send_register(int so, u_int satype)
{
	size_t i;
	int algno;

	if (satype == SADB_SATYPE_UNSPEC) {
		for (i = 0; i < SUPPORTED_N; i++) {
			free(ipsec_supported[i]);
			ipsec_supported[i] = NULL;
		}
	} else {
		if ((algno = findsupportedmap(satype)) < 0) {
			__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
			return (-1);
		}
		free(ipsec_supported[algno]);
		ipsec_supported[algno] = NULL;
	}
	return (pfkey_send_x3(so, SADB_REGISTER, satype));
}

/*
 * Read messages until our REGISTER reply and record its algorithm lists.
 * Returns 0 or -1.
 */
int
pfkey_recv_register(int so)
{
	struct sadb_msg *newmsg;
	pid_t pid;
	int error;

	pid = getpid();
	for (;;) {
		if ((newmsg = pfkey_recv(so)) == NULL)
			return (-1);
		if (newmsg->sadb_msg_type == SADB_REGISTER &&
		    newmsg->sadb_msg_pid == (uint32_t)pid)
			break;
		free(newmsg);
	}
	if (newmsg->sadb_msg_errno != 0) {
		pfkey_set_syserr(newmsg->sadb_msg_errno);
		free(newmsg);
		return (-1);
	}
	error = pfkey_set_supported(newmsg,
	    (int)PFKEY_UNUNIT64(newmsg->sadb_msg_len));
	free(newmsg);
	return (error);
}

/* Keep a copy of one SUPPORTED_AUTH/ENCRYPT extension of "len" bytes. */
static int
setsupportedmap(const struct sadb_supported *sup, size_t len)
{
	struct sadb_supported **ipsup, *copy;

	switch (sup->sadb_supported_exttype) {
	case SADB_EXT_SUPPORTED_AUTH:
		ipsup = &ipsec_supported[findsupportedmap(SADB_SATYPE_AH)];
		break;
	case SADB_EXT_SUPPORTED_ENCRYPT:
		ipsup = &ipsec_supported[findsupportedmap(SADB_SATYPE_ESP)];
		break;
	default:
		__ipsec_errcode = EIPSEC_INVAL_SATYPE;
		return (-1);
	}
	if ((copy = malloc(len)) == NULL) {
		pfkey_set_syserr(errno);
		return (-1);
	}
	memcpy(copy, sup, len);
	free(*ipsup);
	*ipsup = copy;
	return (0);
}

/*
 * Record the SUPPORTED extensions of a REGISTER reply of tlen bytes.
 * KAME wanted sadb_msg_len converted to bytes beforehand; either form is
 * accepted, and the message is not modified.
 */
int
pfkey_set_supported(struct sadb_msg *msg, int tlen)
{
	const struct sadb_supported *sup;
	const char *p, *ep;
	size_t len;

	if (msg == NULL || tlen < (int)sizeof(struct sadb_msg) ||
	    (msg->sadb_msg_len != tlen &&
	    PFKEY_UNUNIT64((size_t)msg->sadb_msg_len) != (size_t)tlen)) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}

	p = (const char *)msg + sizeof(struct sadb_msg);
	ep = (const char *)msg + tlen;
	while (p < ep) {
		if ((size_t)(ep - p) < sizeof(*sup))
			break;
		sup = (const struct sadb_supported *)(const void *)p;
		len = PFKEY_EXTLEN(sup);
		if (len < sizeof(*sup) || len > (size_t)(ep - p))
			break;
		switch (sup->sadb_supported_exttype) {
		case SADB_EXT_SUPPORTED_AUTH:
		case SADB_EXT_SUPPORTED_ENCRYPT:
			break;
		default:
			__ipsec_errcode = EIPSEC_INVAL_SATYPE;
			return (-1);
		}
		if (setsupportedmap(sup, len) != 0)
			return (-1);
		p += len;
	}
	if (p != ep) {
		__ipsec_errcode = EIPSEC_INVAL_SATYPE;
		return (-1);
	}
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (0);
}

/* The kernel's description of an algorithm, or NULL. */
static const struct sadb_alg *
findsupportedalg(u_int satype, u_int alg_id)
{
	const struct sadb_supported *sup;
	const struct sadb_alg *alg;
	size_t n, i;
	int algno;

	if ((algno = findsupportedmap(satype)) < 0) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (NULL);
	}
	if ((sup = ipsec_supported[algno]) == NULL) {
		__ipsec_errcode = EIPSEC_DO_GET_SUPP_LIST;
		return (NULL);
	}
	n = (PFKEY_EXTLEN(sup) - sizeof(*sup)) / sizeof(*alg);
	alg = (const struct sadb_alg *)(const void *)(sup + 1);
	for (i = 0; i < n; i++)
		if (alg[i].sadb_alg_id == alg_id)
			return (&alg[i]);
	__ipsec_errcode = EIPSEC_NOT_SUPPORTED;
	return (NULL);
}

/* Is keylen (bits) valid for alg_id of SUPPORTED_AUTH/ENCRYPT?  0/-1. */
int
ipsec_check_keylen(u_int supported, u_int alg_id, u_int keylen)
{
	u_int satype;

	switch (supported) {
	case SADB_EXT_SUPPORTED_AUTH:
		satype = SADB_SATYPE_AH;
		break;
	case SADB_EXT_SUPPORTED_ENCRYPT:
		satype = SADB_SATYPE_ESP;
		break;
	default:
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	return (ipsec_check_keylen2(satype, alg_id, keylen));
}

/* Is keylen (bits) valid for alg_id of satype?  0/-1. */
int
ipsec_check_keylen2(u_int satype, u_int alg_id, u_int keylen)
{
	const struct sadb_alg *alg;

	if ((alg = findsupportedalg(satype, alg_id)) == NULL)
		return (-1);
	if (keylen < alg->sadb_alg_minbits || keylen > alg->sadb_alg_maxbits) {
		__ipsec_errcode = EIPSEC_INVAL_KEYLEN;
		return (-1);
	}
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (0);
}

/* Copy the kernel's sadb_alg for alg_id into *alg0.  0/-1. */
int
ipsec_get_keylen(u_int supported, u_int alg_id, struct sadb_alg *alg0)
{
	const struct sadb_alg *alg;
	u_int satype;

	if (alg0 == NULL) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	switch (supported) {
	case SADB_EXT_SUPPORTED_AUTH:
		satype = SADB_SATYPE_AH;
		break;
	case SADB_EXT_SUPPORTED_ENCRYPT:
		satype = SADB_SATYPE_ESP;
		break;
	default:
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	if ((alg = findsupportedalg(satype, alg_id)) == NULL)
		return (-1);
	memcpy(alg0, alg, sizeof(*alg0));
	__ipsec_errcode = EIPSEC_NO_ERROR;
	return (0);
}

/*
 * The SOFT lifetime the builders derive from the HARD one, in percent;
 * 0 or more than 100 means 100.  Returns 0, or 1 for an unknown type.
 */
u_int
pfkey_set_softrate(u_int type, u_int rate)
{

	__ipsec_errcode = EIPSEC_NO_ERROR;
	if (rate > 100 || rate == 0)
		rate = 100;
	switch (type) {
	case SADB_X_LIFETIME_ALLOCATIONS:
		soft_lifetime_allocations_rate = rate;
		return (0);
	case SADB_X_LIFETIME_BYTES:
		soft_lifetime_bytes_rate = rate;
		return (0);
	case SADB_X_LIFETIME_ADDTIME:
		soft_lifetime_addtime_rate = rate;
		return (0);
	case SADB_X_LIFETIME_USETIME:
		soft_lifetime_usetime_rate = rate;
		return (0);
	}
	__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
	return (1);
}

/* The current rate, or ~0 for an unknown type. */
u_int
pfkey_get_softrate(u_int type)
{

	switch (type) {
	case SADB_X_LIFETIME_ALLOCATIONS:
		return (soft_lifetime_allocations_rate);
	case SADB_X_LIFETIME_BYTES:
		return (soft_lifetime_bytes_rate);
	case SADB_X_LIFETIME_ADDTIME:
		return (soft_lifetime_addtime_rate);
	case SADB_X_LIFETIME_USETIME:
		return (soft_lifetime_usetime_rate);
	}
	return (~0U);
}

int
pfkey_send_flush(int so, u_int satype)
{

	return (pfkey_send_x3(so, SADB_FLUSH, satype));
}

int
pfkey_send_dump(int so, u_int satype)
{

	return (pfkey_send_x3(so, SADB_DUMP, satype));
}

/* SADB_X_PROMISC with satype 1 (on) or 0 (off). */
int
pfkey_send_promisc_toggle(int so, int flag)
{

	return (pfkey_send_x3(so, SADB_X_PROMISC, flag ? 1 : 0));
}

int
pfkey_send_spdadd(int so, struct sockaddr *src, u_int prefs,
    struct sockaddr *dst, u_int prefd, u_int proto, char *policy,
    int policylen, uint32_t seq)
{

	return (pfkey_send_x4(so, SADB_X_SPDADD, src, prefs, dst, prefd,
	    proto, 0, 0, policy, policylen, seq));
}

/* As spdadd, with a lifetime and a valid time (seconds) for the SP. */
int
pfkey_send_spdadd2(int so, struct sockaddr *src, u_int prefs,
    struct sockaddr *dst, u_int prefd, u_int proto, uint64_t ltime,
    uint64_t vtime, char *policy, int policylen, uint32_t seq)
{

	return (pfkey_send_x4(so, SADB_X_SPDADD, src, prefs, dst, prefd,
	    proto, ltime, vtime, policy, policylen, seq));
}

int
pfkey_send_spdupdate(int so, struct sockaddr *src, u_int prefs,
    struct sockaddr *dst, u_int prefd, u_int proto, char *policy,
    int policylen, uint32_t seq)
{

	return (pfkey_send_x4(so, SADB_X_SPDUPDATE, src, prefs, dst, prefd,
	    proto, 0, 0, policy, policylen, seq));
}

int
pfkey_send_spdupdate2(int so, struct sockaddr *src, u_int prefs,
    struct sockaddr *dst, u_int prefd, u_int proto, uint64_t ltime,
    uint64_t vtime, char *policy, int policylen, uint32_t seq)
{

	return (pfkey_send_x4(so, SADB_X_SPDUPDATE, src, prefs, dst, prefd,
	    proto, ltime, vtime, policy, policylen, seq));
}

/* The policy of a delete names only the direction: no requests. */
int
pfkey_send_spddelete(int so, struct sockaddr *src, u_int prefs,
    struct sockaddr *dst, u_int prefd, u_int proto, char *policy,
    int policylen, uint32_t seq)
{

	if (policylen != (int)sizeof(struct sadb_x_policy)) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	return (pfkey_send_x4(so, SADB_X_SPDDELETE, src, prefs, dst, prefd,
	    proto, 0, 0, policy, policylen, seq));
}

int
pfkey_send_spddelete2(int so, uint32_t spid)
{

	return (pfkey_send_x5(so, SADB_X_SPDDELETE2, spid));
}

int
pfkey_send_spdget(int so, uint32_t spid)
{

	return (pfkey_send_x5(so, SADB_X_SPDGET, spid));
}

int
pfkey_send_spdsetidx(int so, struct sockaddr *src, u_int prefs,
    struct sockaddr *dst, u_int prefd, u_int proto, char *policy,
    int policylen, uint32_t seq)
{

	if (policylen != (int)sizeof(struct sadb_x_policy)) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	return (pfkey_send_x4(so, SADB_X_SPDSETIDX, src, prefs, dst, prefd,
	    proto, 0, 0, policy, policylen, seq));
}

int
pfkey_send_spdflush(int so)
{

	return (pfkey_send_x3(so, SADB_X_SPDFLUSH, SADB_SATYPE_UNSPEC));
}

int
pfkey_send_spddump(int so)
{

	return (pfkey_send_x3(so, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC));
}

/*
 * SADB_ADD/SADB_UPDATE: <base, SA, SA2, [SA_REPLAY], address(SD),
 * [key(E)], [key(A)], lifetime(HS)>.  keymat holds the encryption key
 * then the authentication key.
 */
static int
pfkey_send_x1(struct pfkey_send_sa_args *a)
{
	struct pfkey_msgbuf mb;
	size_t srclen, dstlen, oalen = 0, oarlen = 0, len;
	u_int plen, satype = a->satype, e_type = a->e_type;
	int ekey;
	u_int a_type = a->a_type, e_keylen = a->e_keylen;
	u_int a_keylen = a->a_keylen, wsize = a->wsize;
	const char *keymat = a->keymat;

	if (pfkey_addrpair(a->src, a->dst, &srclen, &dstlen, &plen) < 0)
		return (-1);

	switch (satype) {
	case SADB_SATYPE_ESP:
		if (e_type == SADB_EALG_NONE) {
			__ipsec_errcode = EIPSEC_NO_ALGS;
			return (-1);
		}
		break;
	case SADB_SATYPE_AH:
		if (e_type != SADB_EALG_NONE) {
			__ipsec_errcode = EIPSEC_INVAL_ALGS;
			return (-1);
		}
		if (a_type == SADB_AALG_NONE) {
			__ipsec_errcode = EIPSEC_NO_ALGS;
			return (-1);
		}
		break;
	case SADB_X_SATYPE_IPCOMP:
		if (e_type == SADB_X_CALG_NONE) {
			__ipsec_errcode = EIPSEC_INVAL_ALGS;
			return (-1);
		}
		if (a_type != SADB_AALG_NONE) {
			__ipsec_errcode = EIPSEC_NO_ALGS;
			return (-1);
		}
		break;
	case SADB_X_SATYPE_TCPSIGNATURE:
		if (e_type != SADB_EALG_NONE ||
		    a_type != SADB_X_AALG_TCP_MD5) {
			__ipsec_errcode = EIPSEC_INVAL_ALGS;
			return (-1);
		}
		break;
	default:
		__ipsec_errcode = EIPSEC_INVAL_SATYPE;
		return (-1);
	}

	/* sadb_key_bits is 16 bits wide. */
	if (e_keylen > UINT16_MAX / 8 || a_keylen > UINT16_MAX / 8) {
		__ipsec_errcode = EIPSEC_INVAL_KEYLEN;
		return (-1);
	}
	if (keymat == NULL && ((e_type != SADB_EALG_NONE && e_keylen > 0) ||
	    (a_type != SADB_AALG_NONE && a_keylen > 0))) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	if (wsize > PFKEY_REPLAY_MAX) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}

	len = sizeof(struct sadb_msg) + sizeof(struct sadb_sa) +
	    sizeof(struct sadb_x_sa2) + PFKEY_ADDRLEN(srclen) +
	    PFKEY_ADDRLEN(dstlen) + 2 * sizeof(struct sadb_lifetime);
	if (wsize > UINT8_MAX)
		len += sizeof(struct sadb_x_sa_replay);
	/* IPComp's algorithm rides in the SA extension, without a key. */
	ekey = e_type != SADB_EALG_NONE && satype != SADB_X_SATYPE_IPCOMP;
	if (ekey)
		len += sizeof(struct sadb_key) + PFKEY_ALIGN8((size_t)e_keylen);
	if (a_type != SADB_AALG_NONE)
		len += sizeof(struct sadb_key) + PFKEY_ALIGN8((size_t)a_keylen);
	if (a->l_natt_type != 0) {
		if (a->l_natt_oai != NULL && (oalen = pfkey_sasize(
		    a->l_natt_oai, sizeof(struct sockaddr_storage))) == 0) {
			__ipsec_errcode = EIPSEC_INVAL_ADDRESS;
			return (-1);
		}
		if (a->l_natt_oar != NULL && (oarlen = pfkey_sasize(
		    a->l_natt_oar, sizeof(struct sockaddr_storage))) == 0) {
			__ipsec_errcode = EIPSEC_INVAL_ADDRESS;
			return (-1);
		}
		len += sizeof(struct sadb_x_nat_t_type) +
		    2 * sizeof(struct sadb_x_nat_t_port);
		if (oalen != 0)
			len += PFKEY_ADDRLEN(oalen);
		if (oarlen != 0)
			len += PFKEY_ADDRLEN(oarlen);
	}
	if (a->l_natt_frag != 0)
		len += sizeof(struct sadb_x_nat_t_frag);

	if (pfkey_mb_init(&mb, len, a->type, satype, a->seq) < 0 ||
	    pfkey_mb_sa(&mb, a->spi, wsize, a_type, e_type, a->flags) < 0 ||
	    pfkey_mb_sa2(&mb, a->mode, a->reqid) < 0 ||
	    (wsize > UINT8_MAX && pfkey_mb_replay(&mb, wsize) < 0) ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_SRC, a->src, srclen, plen,
	    IPSEC_ULPROTO_ANY) < 0 ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_DST, a->dst, dstlen, plen,
	    IPSEC_ULPROTO_ANY) < 0 ||
	    (ekey && pfkey_mb_key(&mb, SADB_EXT_KEY_ENCRYPT, keymat,
	    e_keylen) < 0) ||
	    (a_type != SADB_AALG_NONE && pfkey_mb_key(&mb, SADB_EXT_KEY_AUTH,
	    keymat != NULL ? keymat + e_keylen : NULL, a_keylen) < 0) ||
	    pfkey_mb_lifetime(&mb, SADB_EXT_LIFETIME_HARD, a->l_alloc,
	    a->l_bytes, a->l_addtime, a->l_usetime) < 0 ||
	    pfkey_mb_lifetime(&mb, SADB_EXT_LIFETIME_SOFT, a->l_alloc,
	    a->l_bytes, a->l_addtime, a->l_usetime) < 0 ||
	    pfkey_mb_natt(&mb, a, oalen, oarlen) < 0) {
		pfkey_mb_free(&mb);
		return (-1);
	}
	return (pfkey_mb_send(a->so, &mb));
}

/*
 * The NAT-T extensions of an UPDATE/ADD: type, both ports (host order in
 * the args, network order on the wire), the original addresses, the
 * fragment size.
 */
static int
pfkey_mb_natt(struct pfkey_msgbuf *mb, const struct pfkey_send_sa_args *a,
    size_t oalen, size_t oarlen)
{
	struct sadb_x_nat_t_type t;
	struct sadb_x_nat_t_port p;
	struct sadb_x_nat_t_frag f;

	if (a->l_natt_type != 0) {
		memset(&t, 0, sizeof(t));
		t.sadb_x_nat_t_type_len = PFKEY_UNIT64(sizeof(t));
		t.sadb_x_nat_t_type_exttype = SADB_X_EXT_NAT_T_TYPE;
		t.sadb_x_nat_t_type_type = a->l_natt_type;
		if (pfkey_mb_raw(mb, &t, sizeof(t)) < 0)
			return (-1);
		memset(&p, 0, sizeof(p));
		p.sadb_x_nat_t_port_len = PFKEY_UNIT64(sizeof(p));
		p.sadb_x_nat_t_port_exttype = SADB_X_EXT_NAT_T_SPORT;
		p.sadb_x_nat_t_port_port = htons(a->l_natt_sport);
		if (pfkey_mb_raw(mb, &p, sizeof(p)) < 0)
			return (-1);
		p.sadb_x_nat_t_port_exttype = SADB_X_EXT_NAT_T_DPORT;
		p.sadb_x_nat_t_port_port = htons(a->l_natt_dport);
		if (pfkey_mb_raw(mb, &p, sizeof(p)) < 0)
			return (-1);
		if (oalen != 0 && pfkey_mb_addr(mb, SADB_X_EXT_NAT_T_OAI,
		    a->l_natt_oai, oalen, pfkey_plen(a->l_natt_oai),
		    IPSEC_ULPROTO_ANY) < 0)
			return (-1);
		if (oarlen != 0 && pfkey_mb_addr(mb, SADB_X_EXT_NAT_T_OAR,
		    a->l_natt_oar, oarlen, pfkey_plen(a->l_natt_oar),
		    IPSEC_ULPROTO_ANY) < 0)
			return (-1);
	}
	if (a->l_natt_frag != 0) {
		memset(&f, 0, sizeof(f));
		f.sadb_x_nat_t_frag_len = PFKEY_UNIT64(sizeof(f));
		f.sadb_x_nat_t_frag_exttype = SADB_X_EXT_NAT_T_FRAG;
		f.sadb_x_nat_t_frag_fraglen = a->l_natt_frag;
		if (pfkey_mb_raw(mb, &f, sizeof(f)) < 0)
			return (-1);
	}
	return (0);
}

static u_int
pfkey_plen(const struct sockaddr *sa)
{

	return (sa->sa_family == AF_INET6 ? 128 : 32);
}

/* SADB_DELETE/SADB_GET: <base, SA(spi), address(SD)>. */
static int
pfkey_send_x2(int so, u_int type, u_int satype, struct sockaddr *src,
    struct sockaddr *dst, uint32_t spi)
{
	struct pfkey_msgbuf mb;
	size_t srclen, dstlen, len;
	u_int plen;

	if (pfkey_addrpair(src, dst, &srclen, &dstlen, &plen) < 0)
		return (-1);
	len = sizeof(struct sadb_msg) + sizeof(struct sadb_sa) +
	    PFKEY_ADDRLEN(srclen) + PFKEY_ADDRLEN(dstlen);
	if (pfkey_mb_init(&mb, len, type, satype, 0) < 0 ||
	    pfkey_mb_sa(&mb, spi, 0, 0, 0, 0) < 0 ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_SRC, src, srclen, plen,
	    IPSEC_ULPROTO_ANY) < 0 ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_DST, dst, dstlen, plen,
	    IPSEC_ULPROTO_ANY) < 0) {
		pfkey_mb_free(&mb);
		return (-1);
	}
	return (pfkey_mb_send(so, &mb));
}

/* REGISTER, FLUSH, DUMP, X_PROMISC, X_SPDFLUSH, X_SPDDUMP: <base>. */
static int
pfkey_send_x3(int so, u_int type, u_int satype)
{
	struct pfkey_msgbuf mb;

	if (type == SADB_X_PROMISC) {
		if (satype != 0 && satype != 1) {
			__ipsec_errcode = EIPSEC_INVAL_SATYPE;
			return (-1);
		}
	} else {
		switch (satype) {
		case SADB_SATYPE_UNSPEC:
		case SADB_SATYPE_AH:
		case SADB_SATYPE_ESP:
		case SADB_X_SATYPE_IPCOMP:
		case SADB_X_SATYPE_TCPSIGNATURE:
			break;
		default:
			__ipsec_errcode = EIPSEC_INVAL_SATYPE;
			return (-1);
		}
	}
	if (pfkey_mb_init(&mb, sizeof(struct sadb_msg), type, satype, 0) < 0) {
		pfkey_mb_free(&mb);
		return (-1);
	}
	return (pfkey_mb_send(so, &mb));
}

/*
 * SPDADD, SPDUPDATE, SPDDELETE, SPDSETIDX: <base, address(SD),
 * lifetime(H), policy>.  The policy is an ipsec_set_policy() buffer.
 */
static int
pfkey_send_x4(int so, u_int type, struct sockaddr *src, u_int prefs,
    struct sockaddr *dst, u_int prefd, u_int proto, uint64_t ltime,
    uint64_t vtime, const char *policy, int policylen, uint32_t seq)
{
	struct pfkey_msgbuf mb;
	struct sadb_x_policy xpl;
	size_t srclen, dstlen, len;
	u_int plen;

	if (pfkey_addrpair(src, dst, &srclen, &dstlen, &plen) < 0)
		return (-1);
	if (prefs > plen || prefd > plen) {
		__ipsec_errcode = EIPSEC_INVAL_PREFIXLEN;
		return (-1);
	}
	if (policy == NULL || policylen < (int)sizeof(xpl) ||
	    (policylen & 7) != 0) {
		__ipsec_errcode = EIPSEC_INVAL_ARGUMENT;
		return (-1);
	}
	memcpy(&xpl, policy, sizeof(xpl));
	if (xpl.sadb_x_policy_exttype != SADB_X_EXT_POLICY ||
	    (size_t)PFKEY_EXTLEN(&xpl) != (size_t)policylen) {
		__ipsec_errcode = EIPSEC_INVAL_POLICY;
		return (-1);
	}

	len = sizeof(struct sadb_msg) + PFKEY_ADDRLEN(srclen) +
	    PFKEY_ADDRLEN(dstlen) + sizeof(struct sadb_lifetime) +
	    (size_t)policylen;
	if (pfkey_mb_init(&mb, len, type, SADB_SATYPE_UNSPEC, seq) < 0 ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_SRC, src, srclen, prefs,
	    proto) < 0 ||
	    pfkey_mb_addr(&mb, SADB_EXT_ADDRESS_DST, dst, dstlen, prefd,
	    proto) < 0 ||
	    pfkey_mb_lifetime(&mb, SADB_EXT_LIFETIME_HARD, 0, 0, ltime,
	    vtime) < 0 ||
	    pfkey_mb_raw(&mb, policy, (size_t)policylen) < 0) {
		pfkey_mb_free(&mb);
		return (-1);
	}
	return (pfkey_mb_send(so, &mb));
}

/* SPDGET, SPDDELETE2: <base, policy(id)>. */
static int
pfkey_send_x5(int so, u_int type, uint32_t spid)
{
	struct pfkey_msgbuf mb;
	struct sadb_x_policy xpl;

	memset(&xpl, 0, sizeof(xpl));
	xpl.sadb_x_policy_len = PFKEY_UNIT64(sizeof(xpl));
	xpl.sadb_x_policy_exttype = SADB_X_EXT_POLICY;
	xpl.sadb_x_policy_id = spid;
	if (pfkey_mb_init(&mb, sizeof(struct sadb_msg) + sizeof(xpl), type,
	    SADB_SATYPE_UNSPEC, 0) < 0 ||
	    pfkey_mb_raw(&mb, &xpl, sizeof(xpl)) < 0) {
		pfkey_mb_free(&mb);
		return (-1);
	}
	return (pfkey_mb_send(so, &mb));
}
