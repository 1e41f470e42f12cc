/*-
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * What the IKE engine may ask of the kernel (iked.8, PROCESSES).  The
 * engine parses every packet from the network; if a peer ever owns it,
 * the parent's PF_KEY socket must not become the peer's.  So the parent
 * passes on only the messages iked sends, each checked like untrusted
 * input:
 *
 *	REGISTER, X_SPDDUMP, X_SPDGET	what iked learns at start
 *	GETSPI, UPDATE, ADD, DELETE	ESP, AH and IPComp SAs (REGISTER: ESP
 *					and AH)
 *	ACQUIRE				only a failed one (RFC 2367 3.1.6)
 *	X_SPDUPDATE, X_SPDADD		an IPsec policy of global scope
 *					whose every ESP or AH request is
 *					"require" or "unique", with at least
 *					one (IPComp's at any level beside):
 *					never bypass, none or discard, so no
 *					cleartext hole
 *	X_SPDDELETE2			only a policy the engine put in
 *
 * each in the engine's own name (its pid in sadb_msg_pid).
 * Everything else (FLUSH, X_SPDFLUSH, DUMP, X_PROMISC, policies of
 * another type, deletion of the admin's policies) is refused with
 * EPERM, a malformed message with EINVAL.  The ids of the engine's
 * policies are learned from the kernel's replies (pfkey_filter_learn).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpfkey.h>
#include <netipsec/ipsec.h>

#include "iked.h"

#define PFKEY_FILTER_MAXLEN	(64 * 1024)	/* iked's are far smaller */

struct pfkey_id {
	RB_ENTRY(pfkey_id)	 pi_node;
	uint32_t		 pi_id;
};

int	pfkey_id_cmp(const struct pfkey_id *, const struct pfkey_id *);

int
pfkey_id_cmp(const struct pfkey_id *a, const struct pfkey_id *b)
{
	return (a->pi_id < b->pi_id ? -1 : a->pi_id > b->pi_id);
}

RB_HEAD(pfkey_idtree, pfkey_id);
RB_PROTOTYPE(pfkey_idtree, pfkey_id, pi_node, pfkey_id_cmp);
RB_GENERATE(pfkey_idtree, pfkey_id, pi_node, pfkey_id_cmp);

struct pfkey_ids {
	struct pfkey_idtree	 pi_tree;
	u_int			 pi_count;
};

struct pfkey_ids *
pfkey_ids_new(void)
{
	struct pfkey_ids	*ids;

	if ((ids = calloc(1, sizeof(*ids))) == NULL)
		return (NULL);
	RB_INIT(&ids->pi_tree);
	return (ids);
}

static void
pfkey_ids_clear(struct pfkey_ids *ids)
{
	struct pfkey_id	*pi;

	while ((pi = RB_MIN(pfkey_idtree, &ids->pi_tree)) != NULL) {
		RB_REMOVE(pfkey_idtree, &ids->pi_tree, pi);
		free(pi);
	}
	ids->pi_count = 0;
}

void
pfkey_ids_free(struct pfkey_ids *ids)
{
	if (ids == NULL)
		return;
	pfkey_ids_clear(ids);
	free(ids);
}

u_int
pfkey_ids_count(const struct pfkey_ids *ids)
{
	return (ids->pi_count);
}

static int
pfkey_ids_has(const struct pfkey_ids *ids, uint32_t id)
{
	struct pfkey_id	 key;

	key.pi_id = id;
	return (RB_FIND(pfkey_idtree, (struct pfkey_idtree *)&ids->pi_tree,
	    &key) != NULL);
}

/*
 * A copy at 8-byte alignment, so that the extensions may be read in
 * place: NULL if len is not a whole PF_KEY message.
 */
static struct sadb_msg *
pfkey_filter_copy(const void *buf, size_t len, caddr_t *mhp)
{
	struct sadb_msg	*msg;

	if (len < sizeof(*msg) || len > PFKEY_FILTER_MAXLEN ||
	    len % sizeof(uint64_t) != 0)
		return (NULL);
	if ((msg = malloc(len)) == NULL)
		return (NULL);
	memcpy(msg, buf, len);
	if (msg->sadb_msg_version != PF_KEY_V2 ||
	    PFKEY_UNUNIT64((size_t)msg->sadb_msg_len) != len ||
	    pfkey_align(msg, mhp) == -1 || pfkey_check(mhp) == -1) {
		free(msg);
		return (NULL);
	}
	return (msg);
}

/* An IPsec policy of requests that all require IPsec. */
static int
pfkey_filter_policy(const struct sadb_x_policy *xpl)
{
	const struct sadb_x_ipsecrequest	*xisr;
	const uint8_t				*p, *end;
	size_t					 len, rlen;
	u_int					 nsec;

	len = PFKEY_UNUNIT64((size_t)xpl->sadb_x_policy_len);
	if (len < sizeof(*xpl))
		return (EINVAL);
	if (xpl->sadb_x_policy_type != IPSEC_POLICY_IPSEC)
		return (EPERM);
	if (xpl->sadb_x_policy_dir != IPSEC_DIR_INBOUND &&
	    xpl->sadb_x_policy_dir != IPSEC_DIR_OUTBOUND)
		return (EPERM);
	/* Not a socket's or an interface's: those are not iked's. */
	if (xpl->sadb_x_policy_scope != IPSEC_POLICYSCOPE_ANY &&
	    xpl->sadb_x_policy_scope != IPSEC_POLICYSCOPE_GLOBAL)
		return (EPERM);
	p = (const uint8_t *)(xpl + 1);
	end = (const uint8_t *)xpl + len;
	nsec = 0;
	while (p < end) {
		if ((size_t)(end - p) < sizeof(*xisr))
			return (EINVAL);
		xisr = (const void *)p;
		rlen = xisr->sadb_x_ipsecrequest_len;
		if (rlen < sizeof(*xisr) || rlen > (size_t)(end - p) ||
		    rlen % sizeof(uint64_t) != 0)
			return (EINVAL);
		p += rlen;
		/* IPComp protects nothing: any level, beside ESP or AH. */
		if (xisr->sadb_x_ipsecrequest_proto == IPPROTO_IPCOMP)
			continue;
		if (xisr->sadb_x_ipsecrequest_proto != IPPROTO_ESP &&
		    xisr->sadb_x_ipsecrequest_proto != IPPROTO_AH)
			return (EPERM);
		if (xisr->sadb_x_ipsecrequest_level != IPSEC_LEVEL_REQUIRE &&
		    xisr->sadb_x_ipsecrequest_level != IPSEC_LEVEL_UNIQUE)
			return (EPERM);
		nsec++;
	}
	return (nsec > 0 ? 0 : EPERM);	/* not without ESP or AH */
}

/*
 * 0 if the parent may pass the message of len bytes that the engine
 * (pid) sent to the kernel, else the errno of the refusal.
 */
int
pfkey_filter(const void *buf, size_t len, uint32_t pid,
    const struct pfkey_ids *ids)
{
	caddr_t				 mhp[SADB_EXT_MAX + 1];
	const struct sadb_x_policy	*xpl;
	struct sadb_msg			*msg;
	int				 error = 0;

	if ((msg = pfkey_filter_copy(buf, len, mhp)) == NULL)
		return (EINVAL);
	if (msg->sadb_msg_errno != 0 && msg->sadb_msg_type != SADB_ACQUIRE) {
		free(msg);
		return (EINVAL);
	}
	if (msg->sadb_msg_pid != pid) {
		free(msg);
		return (EPERM);		/* in another's name */
	}
	xpl = (const void *)mhp[SADB_X_EXT_POLICY];
	switch (msg->sadb_msg_type) {
	case SADB_GETSPI:
	case SADB_UPDATE:
	case SADB_ADD:
	case SADB_DELETE:
		/* A child's IPComp pair (IKEv2 IPCOMP_SUPPORTED). */
		if (msg->sadb_msg_satype == SADB_X_SATYPE_IPCOMP)
			break;
		/* FALLTHROUGH */
	case SADB_REGISTER:
		if (msg->sadb_msg_satype != SADB_SATYPE_ESP &&
		    msg->sadb_msg_satype != SADB_SATYPE_AH)
			error = EPERM;
		break;
	case SADB_X_SPDDUMP:
	case SADB_X_SPDGET:
		break;
	case SADB_ACQUIRE:
		/* A failed negotiation: the header alone, with its errno. */
		if (msg->sadb_msg_errno == 0 || len != sizeof(*msg))
			error = EPERM;
		break;
	case SADB_X_SPDUPDATE:
	case SADB_X_SPDADD:
		if (xpl == NULL || mhp[SADB_EXT_ADDRESS_SRC] == NULL ||
		    mhp[SADB_EXT_ADDRESS_DST] == NULL)
			error = EINVAL;
		else
			error = pfkey_filter_policy(xpl);
		break;
	case SADB_X_SPDDELETE2:
		if (xpl == NULL)
			error = EINVAL;
		else if (!pfkey_ids_has(ids, xpl->sadb_x_policy_id))
			error = EPERM;
		break;
	default:
		error = EPERM;
		break;
	}
	explicit_bzero(msg, len);
	free(msg);
	return (error);
}

/*
 * The kernel's message of len bytes, on its way to the engine (pid):
 * remember the policies the engine put in, forget the ones gone.
 */
void
pfkey_filter_learn(const void *buf, size_t len, uint32_t pid,
    struct pfkey_ids *ids)
{
	caddr_t				 mhp[SADB_EXT_MAX + 1];
	const struct sadb_x_policy	*xpl;
	struct sadb_msg			*msg, hdr;
	struct pfkey_id			*pi, key;

	/* Most of what passes is no SPD news: no copy for those. */
	if (len < sizeof(hdr))
		return;
	memcpy(&hdr, buf, sizeof(hdr));
	switch (hdr.sadb_msg_type) {
	case SADB_X_SPDUPDATE:
	case SADB_X_SPDADD:
	case SADB_X_SPDDELETE:
	case SADB_X_SPDDELETE2:
	case SADB_X_SPDEXPIRE:
	case SADB_X_SPDFLUSH:
		break;
	default:
		return;
	}
	if ((msg = pfkey_filter_copy(buf, len, mhp)) == NULL)
		return;
	xpl = (const void *)mhp[SADB_X_EXT_POLICY];
	if (msg->sadb_msg_errno != 0)
		goto done;
	switch (msg->sadb_msg_type) {
	case SADB_X_SPDUPDATE:
	case SADB_X_SPDADD:
		if (xpl == NULL || msg->sadb_msg_pid != pid)
			break;
		if ((pi = calloc(1, sizeof(*pi))) == NULL)
			break;
		pi->pi_id = xpl->sadb_x_policy_id;
		if (RB_INSERT(pfkey_idtree, &ids->pi_tree, pi) != NULL)
			free(pi);
		else
			ids->pi_count++;
		break;
	case SADB_X_SPDDELETE:
	case SADB_X_SPDDELETE2:
	case SADB_X_SPDEXPIRE:
		if (xpl == NULL)
			break;
		key.pi_id = xpl->sadb_x_policy_id;
		if ((pi = RB_FIND(pfkey_idtree, &ids->pi_tree, &key)) != NULL) {
			RB_REMOVE(pfkey_idtree, &ids->pi_tree, pi);
			free(pi);
			ids->pi_count--;
		}
		break;
	case SADB_X_SPDFLUSH:
		pfkey_ids_clear(ids);
		break;
	default:
		break;
	}
 done:
	explicit_bzero(msg, len);
	free(msg);
}
