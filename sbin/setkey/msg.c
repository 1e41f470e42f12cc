/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * Building the PF_KEY messages of setkey's commands, as FreeBSD's
 * setkeymsg_*() do: every request has seq 0 and our pid, SA addresses
 * carry the full prefix and protocol "any".
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libpfkey.h"
#include "setkey.h"

#define	SK_ALIGN8(n)	(((n) + 7) & ~(size_t)7)

int
sk_buf_init(struct sk_buf *b, uint8_t type, uint8_t satype)
{
	struct sadb_msg m;

	memset(b, 0, sizeof(*b));
	memset(&m, 0, sizeof(m));
	m.sadb_msg_version = PF_KEY_V2;
	m.sadb_msg_type = type;
	m.sadb_msg_satype = satype;
	m.sadb_msg_seq = 0;
	m.sadb_msg_pid = (uint32_t)getpid();
	return (sk_buf_ext(b, &m, sizeof(m)));
}

void
sk_buf_free(struct sk_buf *b)
{
	if (b->b_buf != NULL)
		explicit_bzero(b->b_buf, b->b_cap);
	free(b->b_buf);
	memset(b, 0, sizeof(*b));
}

/* Append len bytes, zero-padded to 8. */
int
sk_buf_ext(struct sk_buf *b, const void *p, size_t len)
{
	size_t n = SK_ALIGN8(len), cap;
	uint8_t *nb;

	if (b->b_len + n > PFKEY_UNUNIT64((size_t)0xffff))
		return (-1);
	if (b->b_len + n > b->b_cap) {
		cap = b->b_cap == 0 ? 512 : b->b_cap;
		while (cap < b->b_len + n)
			cap *= 2;
		if ((nb = calloc(1, cap)) == NULL)
			return (-1);
		if (b->b_buf != NULL) {
			memcpy(nb, b->b_buf, b->b_len);
			explicit_bzero(b->b_buf, b->b_cap);
			free(b->b_buf);
		}
		b->b_buf = nb;
		b->b_cap = cap;
	}
	memcpy(b->b_buf + b->b_len, p, len);
	memset(b->b_buf + b->b_len + len, 0, n - len);
	b->b_len += n;
	return (0);
}

unsigned int
sk_plen(const struct sockaddr *sa)
{
	return (sa->sa_family == AF_INET6 ? 128 : 32);
}

int
sk_buf_addr(struct sk_buf *b, uint16_t exttype, const struct sockaddr *sa,
    unsigned int prefixlen, unsigned int proto)
{
	uint8_t buf[sizeof(struct sadb_address) +
	    sizeof(struct sockaddr_storage)];
	struct sadb_address a;
	size_t salen = (size_t)pfkey_salen(sa);
	size_t len = sizeof(a) + SK_ALIGN8(salen);

	memset(buf, 0, sizeof(buf));
	memset(&a, 0, sizeof(a));
	a.sadb_address_len = (uint16_t)PFKEY_UNIT64(len);
	a.sadb_address_exttype = exttype;
	a.sadb_address_proto = (uint8_t)proto;
	a.sadb_address_prefixlen = (uint8_t)prefixlen;
	memcpy(buf, &a, sizeof(a));
	memcpy(buf + sizeof(a), sa, salen);
	return (sk_buf_ext(b, buf, len));
}

/* The message, its length set; NULL if it outgrew PF_KEY. */
struct sadb_msg *
sk_buf_finish(struct sk_buf *b)
{
	struct sadb_msg *m;

	if (b->b_buf == NULL)
		return (NULL);
	m = (struct sadb_msg *)(void *)b->b_buf;
	m->sadb_msg_len = (uint16_t)PFKEY_UNIT64(b->b_len);
	return (m);
}

static int
sk_buf_key(struct sk_buf *b, uint16_t exttype, const uint8_t *key,
    size_t keylen)
{
	uint8_t buf[sizeof(struct sadb_key) + SK_KEYMAX];
	struct sadb_key k;
	int error;

	memset(&k, 0, sizeof(k));
	k.sadb_key_len = (uint16_t)PFKEY_UNIT64(sizeof(k) +
	    SK_ALIGN8(keylen));
	k.sadb_key_exttype = exttype;
	k.sadb_key_bits = (uint16_t)(keylen * 8);
	memcpy(buf, &k, sizeof(k));
	memcpy(buf + sizeof(k), key, keylen);
	error = sk_buf_ext(b, buf, sizeof(k) + keylen);
	explicit_bzero(buf, sizeof(buf));
	return (error);
}

static int
sk_buf_lifetime(struct sk_buf *b, uint16_t exttype, uint64_t bytes,
    uint64_t addtime)
{
	struct sadb_lifetime l;

	memset(&l, 0, sizeof(l));
	l.sadb_lifetime_len = PFKEY_UNIT64(sizeof(l));
	l.sadb_lifetime_exttype = exttype;
	l.sadb_lifetime_bytes = bytes;
	l.sadb_lifetime_addtime = addtime;
	return (sk_buf_ext(b, &l, sizeof(l)));
}

static int
sk_buf_natt_port(struct sk_buf *b, uint16_t exttype, uint16_t port)
{
	struct sadb_x_nat_t_port p;

	memset(&p, 0, sizeof(p));
	p.sadb_x_nat_t_port_len = PFKEY_UNIT64(sizeof(p));
	p.sadb_x_nat_t_port_exttype = exttype;
	p.sadb_x_nat_t_port_port = htons(port);
	return (sk_buf_ext(b, &p, sizeof(p)));
}

/*
 * add, get, delete, deleteall: <base, SA, SA2, [SA_REPLAY], [keys],
 * [lifetimes], address(S,D), [NAT-T]>; deleteall has no SA nor SA2.
 */
int
sk_msg_sa(struct sk_buf *b, const struct sk_sa *s,
    const struct sockaddr *src, const struct sockaddr *dst)
{
	struct sadb_sa sa;
	struct sadb_x_sa2 sa2;
	struct sadb_x_sa_replay rp;
	struct sadb_x_nat_t_type nt;
	struct sadb_x_nat_t_frag nf;

	if (sk_buf_init(b, s->sa_type, s->sa_satype) == -1)
		return (-1);
	if (!s->sa_nospi) {
		memset(&sa, 0, sizeof(sa));
		sa.sadb_sa_len = PFKEY_UNIT64(sizeof(sa));
		sa.sadb_sa_exttype = SADB_EXT_SA;
		sa.sadb_sa_spi = htonl(s->sa_spi);
		sa.sadb_sa_replay = s->sa_replay > UINT8_MAX ? UINT8_MAX :
		    (uint8_t)s->sa_replay;
		sa.sadb_sa_auth = s->sa_aalg;
		sa.sadb_sa_encrypt = s->sa_ealg;
		sa.sadb_sa_flags = s->sa_flags;
		if (sk_buf_ext(b, &sa, sizeof(sa)) == -1)
			return (-1);

		memset(&sa2, 0, sizeof(sa2));
		sa2.sadb_x_sa2_len = PFKEY_UNIT64(sizeof(sa2));
		sa2.sadb_x_sa2_exttype = SADB_X_EXT_SA2;
		sa2.sadb_x_sa2_mode = s->sa_mode;
		sa2.sadb_x_sa2_reqid = s->sa_reqid;
		if (sk_buf_ext(b, &sa2, sizeof(sa2)) == -1)
			return (-1);

		if (s->sa_replay > UINT8_MAX) {
			memset(&rp, 0, sizeof(rp));
			rp.sadb_x_sa_replay_len = PFKEY_UNIT64(sizeof(rp));
			rp.sadb_x_sa_replay_exttype = SADB_X_EXT_SA_REPLAY;
			rp.sadb_x_sa_replay_replay = s->sa_replay << 3;
			if (sk_buf_ext(b, &rp, sizeof(rp)) == -1)
				return (-1);
		}
	}

	if (s->sa_has_ekey && sk_buf_key(b, SADB_EXT_KEY_ENCRYPT,
	    s->sa_ekey, s->sa_ekeylen) == -1)
		return (-1);
	if (s->sa_has_akey && sk_buf_key(b, SADB_EXT_KEY_AUTH,
	    s->sa_akey, s->sa_akeylen) == -1)
		return (-1);
	if ((s->sa_lt_hard != 0 || s->sa_lb_hard != 0) &&
	    sk_buf_lifetime(b, SADB_EXT_LIFETIME_HARD, s->sa_lb_hard,
	    s->sa_lt_hard) == -1)
		return (-1);
	if ((s->sa_lt_soft != 0 || s->sa_lb_soft != 0) &&
	    sk_buf_lifetime(b, SADB_EXT_LIFETIME_SOFT, s->sa_lb_soft,
	    s->sa_lt_soft) == -1)
		return (-1);

	if (sk_buf_addr(b, SADB_EXT_ADDRESS_SRC, src, sk_plen(src),
	    IPSEC_ULPROTO_ANY) == -1 ||
	    sk_buf_addr(b, SADB_EXT_ADDRESS_DST, dst, sk_plen(dst),
	    IPSEC_ULPROTO_ANY) == -1)
		return (-1);

	if (s->sa_natt_type != 0) {
		memset(&nt, 0, sizeof(nt));
		nt.sadb_x_nat_t_type_len = PFKEY_UNIT64(sizeof(nt));
		nt.sadb_x_nat_t_type_exttype = SADB_X_EXT_NAT_T_TYPE;
		nt.sadb_x_nat_t_type_type = s->sa_natt_type;
		if (sk_buf_ext(b, &nt, sizeof(nt)) == -1 ||
		    sk_buf_natt_port(b, SADB_X_EXT_NAT_T_SPORT,
		    s->sa_natt_sport) == -1 ||
		    sk_buf_natt_port(b, SADB_X_EXT_NAT_T_DPORT,
		    s->sa_natt_dport) == -1)
			return (-1);
		if (sk_buf_addr(b, SADB_X_EXT_NAT_T_OAI,
		    (const struct sockaddr *)&s->sa_natt_oai,
		    sk_plen((const struct sockaddr *)&s->sa_natt_oai),
		    IPSEC_ULPROTO_ANY) == -1 ||
		    sk_buf_addr(b, SADB_X_EXT_NAT_T_OAR,
		    (const struct sockaddr *)&s->sa_natt_oar,
		    sk_plen((const struct sockaddr *)&s->sa_natt_oar),
		    IPSEC_ULPROTO_ANY) == -1)
			return (-1);
	}
	if (s->sa_natt_frag >= 0) {
		memset(&nf, 0, sizeof(nf));
		nf.sadb_x_nat_t_frag_len = PFKEY_UNIT64(sizeof(nf));
		nf.sadb_x_nat_t_frag_exttype = SADB_X_EXT_NAT_T_FRAG;
		nf.sadb_x_nat_t_frag_fraglen = (uint16_t)s->sa_natt_frag;
		if (sk_buf_ext(b, &nf, sizeof(nf)) == -1)
			return (-1);
	}
	return (sk_buf_finish(b) == NULL ? -1 : 0);
}

/*
 * spdadd, spdupdate, spddelete: <base, policy, address(S,D)>, the policy
 * as ipsec_set_policy(3) built it.
 */
int
sk_msg_sp(struct sk_buf *b, uint8_t type, const struct sockaddr *src,
    unsigned int splen, const struct sockaddr *dst, unsigned int dplen,
    unsigned int proto, const char *policy, size_t policylen)
{
	if (sk_buf_init(b, type, SADB_SATYPE_UNSPEC) == -1 ||
	    sk_buf_ext(b, policy, policylen) == -1 ||
	    sk_buf_addr(b, SADB_EXT_ADDRESS_SRC, src, splen, proto) == -1 ||
	    sk_buf_addr(b, SADB_EXT_ADDRESS_DST, dst, dplen, proto) == -1)
		return (-1);
	return (sk_buf_finish(b) == NULL ? -1 : 0);
}
