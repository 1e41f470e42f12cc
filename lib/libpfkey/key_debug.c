/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * kdebug_sadb(): a PF_KEY message field by field, in the format of
 * KAME's key_debug.c (setkey -v and -x print it), and the hex dump that
 * setkey -D uses for keys.
 *
 * Unlike the original, it never reads past the message: each extension
 * and each policy request is checked against what is left before it is
 * printed, and the walk stops at the first inconsistency.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "libpfkey.h"
#include "pfkey_var.h"

static const char *
kdebug_sadb_type(u_int type)
{
	static const char *const names[] = {
		"RESERVED", "GETSPI", "UPDATE", "ADD", "DELETE", "GET",
		"ACQUIRE", "REGISTER", "EXPIRE", "FLUSH", "DUMP", "X_PROMISC",
		"X_PCHANGE", "X_SPDUPDATE", "X_SPDADD", "X_SPDDELETE",
		"X_SPDGET", "X_SPDACQUIRE", "X_SPDDUMP", "X_SPDFLUSH",
		"X_SPDSETIDX", "X_SPDEXPIRE", "X_SPDDELETE2",
	};

	if (type < sizeof(names) / sizeof(names[0]))
		return (names[type]);
	return ("UNKNOWN");
}

static const char *
kdebug_sadb_exttype(u_int type)
{
	static const char *const names[] = {
		"RESERVED", "SA", "LIFETIME_CURRENT", "LIFETIME_HARD",
		"LIFETIME_SOFT", "ADDRESS_SRC", "ADDRESS_DST", "ADDRESS_PROXY",
		"KEY_AUTH", "KEY_ENCRYPT", "IDENTITY_SRC", "IDENTITY_DST",
		"SENSITIVITY", "PROPOSAL", "SUPPORTED_AUTH",
		"SUPPORTED_ENCRYPT", "SPIRANGE", "KMPRIVATE", "POLICY", "SA2",
		"NAT_T_TYPE", "NAT_T_SPORT", "NAT_T_DPORT", "NAT_T_OAI",
		"NAT_T_OAR", "NAT_T_FRAG", "SA_REPLAY", "NEW_ADDRESS_SRC",
		"NEW_ADDRESS_DST", "LFT_CUR_SW_OFFL", "LFT_CUR_HW_OFFL",
		"IF_HW_OFFL",
	};

	if (type < sizeof(names) / sizeof(names[0]))
		return (names[type]);
	return ("UNKNOWN");
}

/* A sockaddr of at most room bytes, possibly unaligned. */
static void
kdebug_sockaddr(const char *p, size_t room)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6;
	char buf[INET6_ADDRSTRLEN + 16];
	size_t len;
	int family;

	len = pfkey_sasize((const struct sockaddr *)(const void *)p, room);
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, p, len);
	family = ss.ss_family;
	switch (len != 0 ? family : AF_UNSPEC) {
	case AF_INET:
		inet_ntop(AF_INET,
		    &((struct sockaddr_in *)(void *)&ss)->sin_addr, buf,
		    sizeof(buf));
		break;
	case AF_INET6:
		sin6 = (struct sockaddr_in6 *)(void *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
		if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
			    "%%%u", sin6->sin6_scope_id);
		break;
	default:
		snprintf(buf, sizeof(buf), "unknown");
		if (room >= 2) {
			/* Still say which family it claims to be. */
			memcpy(&ss, p, room < sizeof(ss) ? room : sizeof(ss));
			family = ss.ss_family;
		} else
			family = 0;
		break;
	}
	printf("sockaddr{ len=%zu family=%u addr=%s }\n", len, (u_int)family,
	    buf);
}

static void
kdebug_sadb_sa(const struct sadb_sa *sa)
{

	printf("sadb_sa{ spi=%u replay=%u state=%u\n",
	    (uint32_t)ntohl(sa->sadb_sa_spi), sa->sadb_sa_replay,
	    sa->sadb_sa_state);
	printf("  auth=%u encrypt=%u flags=0x%08x }\n",
	    sa->sadb_sa_auth, sa->sadb_sa_encrypt, sa->sadb_sa_flags);
}

static void
kdebug_sadb_lifetime(const struct sadb_lifetime *lft)
{

	printf("sadb_lifetime{ alloc=%u, bytes=%ju\n",
	    lft->sadb_lifetime_allocations,
	    (uintmax_t)lft->sadb_lifetime_bytes);
	printf("  addtime=%ju, usetime=%ju }\n",
	    (uintmax_t)lft->sadb_lifetime_addtime,
	    (uintmax_t)lft->sadb_lifetime_usetime);
}

static void
kdebug_sadb_address(const struct sadb_ext *ext, size_t len)
{
	const struct sadb_address *addr;
	const u_char *r;

	addr = (const struct sadb_address *)(const void *)ext;
	r = (const u_char *)&addr->sadb_address_reserved;
	printf("sadb_address{ proto=%u prefixlen=%u reserved=0x%02x%02x }\n",
	    addr->sadb_address_proto, addr->sadb_address_prefixlen,
	    r[0], r[1]);
	kdebug_sockaddr((const char *)(addr + 1), len - sizeof(*addr));
}

static void
kdebug_sadb_key(const struct sadb_key *key, size_t len)
{
	size_t bytes, room;

	printf("sadb_key{ bits=%u reserved=%u\n", key->sadb_key_bits,
	    key->sadb_key_reserved);
	printf("  key=");
	bytes = key->sadb_key_bits >> 3;
	room = len - sizeof(*key);
	if (bytes > room) {
		printf("kdebug_sadb_key: key length mismatch, bit:%zu "
		    "len:%zu.\n", bytes, room);
		bytes = room;
	}
	ipsec_hexdump((char *)(uintptr_t)(key + 1), (int)bytes);
	printf(" }\n");
}

static void
kdebug_sadb_identity(const struct sadb_ident *id, size_t len)
{
	const char *p, *ep;

	printf("sadb_ident_%s{",
	    id->sadb_ident_exttype == SADB_EXT_IDENTITY_SRC ? "src" : "dst");
	printf(" type=%d id=%ju", id->sadb_ident_type,
	    (uintmax_t)id->sadb_ident_id);
	if (len > sizeof(*id)) {
		printf("\n  str=\"");
		p = (const char *)(id + 1);
		ep = (const char *)id + len;
		for (; p < ep && *p != '\0'; p++) {
			if (*p >= 0x20 && *p < 0x7f)
				printf("%c", *p);
			else
				printf("\\%03o", *p & 0xff);
		}
		printf("\"");
	}
	printf(" }\n");
}

static void
kdebug_sadb_prop(const struct sadb_prop *prop, size_t len)
{
	struct sadb_comb comb;
	size_t n, i;

	n = (len - sizeof(*prop)) / sizeof(comb);
	printf("sadb_prop{ replay=%u\n", prop->sadb_prop_replay);
	for (i = 0; i < n; i++) {
		memcpy(&comb, (const char *)(prop + 1) + i * sizeof(comb),
		    sizeof(comb));
		printf("sadb_comb{ auth=%u encrypt=%u "
		    "flags=0x%04x reserved=0x%08x\n",
		    comb.sadb_comb_auth, comb.sadb_comb_encrypt,
		    comb.sadb_comb_flags, comb.sadb_comb_reserved);
		printf("  auth_minbits=%u auth_maxbits=%u "
		    "encrypt_minbits=%u encrypt_maxbits=%u\n",
		    comb.sadb_comb_auth_minbits, comb.sadb_comb_auth_maxbits,
		    comb.sadb_comb_encrypt_minbits,
		    comb.sadb_comb_encrypt_maxbits);
		printf("  soft_alloc=%u hard_alloc=%u "
		    "soft_bytes=%ju hard_bytes=%ju\n",
		    comb.sadb_comb_soft_allocations,
		    comb.sadb_comb_hard_allocations,
		    (uintmax_t)comb.sadb_comb_soft_bytes,
		    (uintmax_t)comb.sadb_comb_hard_bytes);
		/* KAME labelled these soft/hard_alloc and _bytes again. */
		printf("  soft_addtime=%ju hard_addtime=%ju "
		    "soft_usetime=%ju hard_usetime=%ju }\n",
		    (uintmax_t)comb.sadb_comb_soft_addtime,
		    (uintmax_t)comb.sadb_comb_hard_addtime,
		    (uintmax_t)comb.sadb_comb_soft_usetime,
		    (uintmax_t)comb.sadb_comb_hard_usetime);
	}
	printf("}\n");
}

static void
kdebug_sadb_supported(const struct sadb_supported *sup, size_t len)
{
	const struct sadb_alg *alg;
	size_t n, i;

	n = (len - sizeof(*sup)) / sizeof(*alg);
	alg = (const struct sadb_alg *)(const void *)(sup + 1);
	printf("sadb_sup{\n");
	for (i = 0; i < n; i++)
		printf("  { id=%d ivlen=%d min=%d max=%d }\n",
		    alg[i].sadb_alg_id, alg[i].sadb_alg_ivlen,
		    alg[i].sadb_alg_minbits, alg[i].sadb_alg_maxbits);
	printf("}\n");
}

static void
kdebug_sadb_x_sa2(const struct sadb_x_sa2 *sa2)
{

	printf("sadb_x_sa2{ mode=%u reqid=%u\n", sa2->sadb_x_sa2_mode,
	    sa2->sadb_x_sa2_reqid);
	printf("  reserved1=%u reserved2=%u sequence=%u }\n",
	    sa2->sadb_x_sa2_reserved1, sa2->sadb_x_sa2_reserved2,
	    sa2->sadb_x_sa2_sequence);
}

static void
kdebug_sadb_x_policy(const struct sadb_x_policy *xpl, size_t len)
{
	struct sadb_x_ipsecrequest xisr;
	const char *p;
	size_t tlen, l1;

	printf("sadb_x_policy{ type=%u dir=%u id=%x scope=%u %s=%u }\n",
	    xpl->sadb_x_policy_type, xpl->sadb_x_policy_dir,
	    xpl->sadb_x_policy_id, xpl->sadb_x_policy_scope,
	    xpl->sadb_x_policy_scope == IPSEC_POLICYSCOPE_IFNET ?
	    "ifindex" : "priority", xpl->sadb_x_policy_priority);
	if (xpl->sadb_x_policy_type != IPSEC_POLICY_IPSEC)
		return;

	p = (const char *)(xpl + 1);
	tlen = len - sizeof(*xpl);
	while (tlen > 0) {
		if (tlen < sizeof(xisr)) {
			printf("kdebug_sadb_x_policy: wrong policy struct.\n");
			return;
		}
		memcpy(&xisr, p, sizeof(xisr));
		printf(" { len=%u proto=%u mode=%u level=%u reqid=%u\n",
		    xisr.sadb_x_ipsecrequest_len,
		    xisr.sadb_x_ipsecrequest_proto,
		    xisr.sadb_x_ipsecrequest_mode,
		    xisr.sadb_x_ipsecrequest_level,
		    xisr.sadb_x_ipsecrequest_reqid);
		if (xisr.sadb_x_ipsecrequest_len < sizeof(xisr)) {
			printf("kdebug_sadb_x_policy: wrong policy struct.\n");
			return;
		}
		if (xisr.sadb_x_ipsecrequest_len > tlen) {
			printf("kdebug_sadb_x_policy: invalid ipsec policy "
			    "length (%u > %zu)\n",
			    xisr.sadb_x_ipsecrequest_len, tlen);
			return;
		}
		if (xisr.sadb_x_ipsecrequest_len > sizeof(xisr)) {
			l1 = xisr.sadb_x_ipsecrequest_len - sizeof(xisr);
			kdebug_sockaddr(p + sizeof(xisr), l1);
			l1 = pfkey_sasize((const struct sockaddr *)
			    (const void *)(p + sizeof(xisr)), l1);
			if (l1 != 0)
				kdebug_sockaddr(p + sizeof(xisr) + l1,
				    xisr.sadb_x_ipsecrequest_len -
				    sizeof(xisr) - l1);
		}
		printf(" }\n");
		tlen -= xisr.sadb_x_ipsecrequest_len;
		p += xisr.sadb_x_ipsecrequest_len;
	}
}

static void
kdebug_sadb_x_natt(const struct sadb_ext *ext)
{
	const struct sadb_x_nat_t_type *type;
	const struct sadb_x_nat_t_port *port;

	if (ext->sadb_ext_type == SADB_X_EXT_NAT_T_TYPE) {
		type = (const struct sadb_x_nat_t_type *)(const void *)ext;
		printf("sadb_x_nat_t_type{ type=%u }\n",
		    type->sadb_x_nat_t_type_type);
	} else {
		port = (const struct sadb_x_nat_t_port *)(const void *)ext;
		printf("sadb_x_nat_t_port{ port=%u }\n",
		    ntohs(port->sadb_x_nat_t_port_port));
	}
}

/* Minimum size of each extension before its fields are printed. */
static size_t
kdebug_minlen(u_int type)
{

	switch (type) {
	case SADB_EXT_SA:
		return (sizeof(struct sadb_sa));
	case SADB_EXT_LIFETIME_CURRENT:
	case SADB_EXT_LIFETIME_HARD:
	case SADB_EXT_LIFETIME_SOFT:
	case SADB_X_EXT_LFT_CUR_SW_OFFL:
	case SADB_X_EXT_LFT_CUR_HW_OFFL:
		return (sizeof(struct sadb_lifetime));
	case SADB_EXT_IDENTITY_SRC:
	case SADB_EXT_IDENTITY_DST:
		return (sizeof(struct sadb_ident));
	case SADB_X_EXT_POLICY:
		return (sizeof(struct sadb_x_policy));
	case SADB_X_EXT_SA2:
		return (sizeof(struct sadb_x_sa2));
	case SADB_X_EXT_IF_HW_OFFL:
		return (sizeof(struct sadb_x_if_hw_offl));
	}
	return (sizeof(struct sadb_ext) + 4);	/* one 64-bit word */
}

void
kdebug_sadb(struct sadb_msg *base)
{
	const struct sadb_ext *ext;
	const struct sadb_x_if_hw_offl *offl;
	const char *p;
	size_t tlen, extlen;
	u_int type;

	if (base == NULL) {
		printf("kdebug_sadb: NULL pointer was passed.\n");
		return;
	}

	printf("sadb_msg{ version=%u type=%u(%s) errno=%u satype=%u\n",
	    base->sadb_msg_version, base->sadb_msg_type,
	    kdebug_sadb_type(base->sadb_msg_type), base->sadb_msg_errno,
	    base->sadb_msg_satype);
	printf("  len=%u reserved=%u seq=%u pid=%u\n", base->sadb_msg_len,
	    base->sadb_msg_reserved, base->sadb_msg_seq, base->sadb_msg_pid);

	tlen = PFKEY_UNUNIT64((size_t)base->sadb_msg_len);
	if (tlen < sizeof(*base))
		return;
	tlen -= sizeof(*base);
	p = (const char *)(base + 1);

	while (tlen > 0) {
		ext = (const struct sadb_ext *)(const void *)p;
		if (tlen < sizeof(*ext)) {
			printf("kdebug_sadb: ext_len too big (%zu > %zu).\n",
			    sizeof(*ext), tlen);
			return;
		}
		printf("sadb_ext{ len=%u type=%u(%s) }\n", ext->sadb_ext_len,
		    ext->sadb_ext_type,
		    kdebug_sadb_exttype(ext->sadb_ext_type));
		if (ext->sadb_ext_len == 0) {
			printf("kdebug_sadb: invalid ext_len=0 was passed.\n");
			return;
		}
		extlen = PFKEY_EXTLEN(ext);
		if (extlen > tlen) {
			printf("kdebug_sadb: ext_len too big (%zu > %zu).\n",
			    extlen, tlen);
			return;
		}
		type = ext->sadb_ext_type;
		if (extlen < kdebug_minlen(type)) {
			printf("kdebug_sadb: ext_len too small (%zu < %zu).\n",
			    extlen, kdebug_minlen(type));
			return;
		}

		switch (type) {
		case SADB_EXT_SA:
			kdebug_sadb_sa((const struct sadb_sa *)
			    (const void *)ext);
			break;
		case SADB_EXT_LIFETIME_CURRENT:
		case SADB_EXT_LIFETIME_HARD:
		case SADB_EXT_LIFETIME_SOFT:
		case SADB_X_EXT_LFT_CUR_SW_OFFL:
		case SADB_X_EXT_LFT_CUR_HW_OFFL:
			kdebug_sadb_lifetime((const struct sadb_lifetime *)
			    (const void *)ext);
			break;
		case SADB_EXT_ADDRESS_SRC:
		case SADB_EXT_ADDRESS_DST:
		case SADB_EXT_ADDRESS_PROXY:
		case SADB_X_EXT_NAT_T_OAI:
		case SADB_X_EXT_NAT_T_OAR:
		case SADB_X_EXT_NEW_ADDRESS_SRC:
		case SADB_X_EXT_NEW_ADDRESS_DST:
			kdebug_sadb_address(ext, extlen);
			break;
		case SADB_EXT_KEY_AUTH:
		case SADB_EXT_KEY_ENCRYPT:
			kdebug_sadb_key((const struct sadb_key *)
			    (const void *)ext, extlen);
			break;
		case SADB_EXT_IDENTITY_SRC:
		case SADB_EXT_IDENTITY_DST:
			kdebug_sadb_identity((const struct sadb_ident *)
			    (const void *)ext, extlen);
			break;
		case SADB_EXT_SENSITIVITY:
		case SADB_EXT_SPIRANGE:
		case SADB_X_EXT_KMPRIVATE:
			break;
		case SADB_EXT_PROPOSAL:
			kdebug_sadb_prop((const struct sadb_prop *)
			    (const void *)ext, extlen);
			break;
		case SADB_EXT_SUPPORTED_AUTH:
		case SADB_EXT_SUPPORTED_ENCRYPT:
			kdebug_sadb_supported((const struct sadb_supported *)
			    (const void *)ext, extlen);
			break;
		case SADB_X_EXT_POLICY:
			kdebug_sadb_x_policy((const struct sadb_x_policy *)
			    (const void *)ext, extlen);
			break;
		case SADB_X_EXT_SA2:
			kdebug_sadb_x_sa2((const struct sadb_x_sa2 *)
			    (const void *)ext);
			break;
		case SADB_X_EXT_SA_REPLAY:
			printf("sadb_x_sa_replay{ replay=%u }\n",
			    ((const struct sadb_x_sa_replay *)(const void *)
			    ext)->sadb_x_sa_replay_replay);
			break;
		case SADB_X_EXT_NAT_T_TYPE:
		case SADB_X_EXT_NAT_T_SPORT:
		case SADB_X_EXT_NAT_T_DPORT:
			kdebug_sadb_x_natt(ext);
			break;
		case SADB_X_EXT_NAT_T_FRAG:
			printf("sadb_x_nat_t_frag{ fraglen=%u }\n",
			    ((const struct sadb_x_nat_t_frag *)(const void *)
			    ext)->sadb_x_nat_t_frag_fraglen);
			break;
		case SADB_X_EXT_IF_HW_OFFL:
			offl = (const struct sadb_x_if_hw_offl *)
			    (const void *)ext;
			printf("sadb_x_if_hw_offl{ flags=0x%08x if=%.*s }\n",
			    offl->sadb_x_if_hw_offl_flags,
			    (int)strnlen(offl->sadb_x_if_hw_offl_if,
			    sizeof(offl->sadb_x_if_hw_offl_if)),
			    offl->sadb_x_if_hw_offl_if);
			break;
		default:
			printf("kdebug_sadb: invalid ext_type %u\n", type);
			return;
		}

		tlen -= extlen;
		p += extlen;
	}
}

/* Hex, a blank every 4 bytes, a newline every 32 (setkey -D keys). */
void
ipsec_hexdump(char *buf, int len)
{
	int i;

	if (buf == NULL)
		return;
	for (i = 0; i < len; i++) {
		if (i != 0 && i % 32 == 0)
			printf("\n");
		if (i % 4 == 0)
			printf(" ");
		printf("%02x", (unsigned char)buf[i]);
	}
}

void
ipsec_bindump(char *buf, int len)
{
	int i;

	if (buf == NULL)
		return;
	for (i = 0; i < len; i++)
		printf("%c", (unsigned char)buf[i]);
}
