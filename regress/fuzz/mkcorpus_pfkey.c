/*
 * Writes the seed corpus of fuzz_pfkey: one valid message of each kind,
 * built with the tests' PF_KEY builder.  Built and run from regress/fuzz:
 * cc -std=c11 -I../../sys -o mkcorpus_pfkey mkcorpus_pfkey.c \
 *     ../lib/pfkey_build.c && ./mkcorpus_pfkey corpus/pfkey
 */
#include <sys/types.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netipsec/ipsec.h>

#include "../lib/pfkey_build.h"

static const char *dir;

static void
save(const char *name, struct pb_msg *m)
{
	char path[512];
	FILE *f;

	pb_finish(m);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(m->u.buf, 1, m->len, f) != m->len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
addrs(struct pb_msg *m, const char *s, const char *d)
{

	pb_addr(m, SADB_EXT_ADDRESS_SRC, s, 0, -1, 255);
	pb_addr(m, SADB_EXT_ADDRESS_DST, d, 0, -1, 255);
}

int
main(int argc, char **argv)
{
	struct pb_msg m;

	if (argc != 2)
		return (2);
	dir = argv[1];
	pb_init(&m, SADB_GETSPI, SADB_SATYPE_ESP, 1, 1);
	addrs(&m, "192.0.2.1", "192.0.2.2");
	pb_spirange(&m, 0x100, 0xffff);
	pb_sa2(&m, IPSEC_MODE_TRANSPORT, 7);
	save("getspi", &m);
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, 1);
	pb_sa(&m, 0x1000, 4, SADB_AALG_SHA1HMAC, SADB_X_EALG_AESCBC, 0x40);
	addrs(&m, "192.0.2.1", "192.0.2.2");
	pb_key(&m, SADB_EXT_KEY_AUTH, "01234567890123456789", 20);
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "0123456789012345", 16);
	pb_lifetime(&m, SADB_EXT_LIFETIME_HARD, 0, 0, 100, 0);
	pb_lifetime(&m, SADB_EXT_LIFETIME_SOFT, 0, 0, 80, 0);
	save("add_esp", &m);
	pb_init(&m, SADB_ADD, SADB_SATYPE_ESP, 0, 1);
	pb_sa(&m, 0x2000, 0, 0, SADB_X_EALG_AESGCM16, 0);
	addrs(&m, "2001:db8::1", "2001:db8::2");
	pb_key(&m, SADB_EXT_KEY_ENCRYPT, "01234567890123456789", 20);
	{
		struct sadb_x_nat_t_type *t;
		struct sadb_x_nat_t_port *p;

		t = pb_ext(&m, SADB_X_EXT_NAT_T_TYPE, sizeof(*t));
		t->sadb_x_nat_t_type_type = UDP_ENCAP_ESPINUDP;
		p = pb_ext(&m, SADB_X_EXT_NAT_T_SPORT, sizeof(*p));
		p->sadb_x_nat_t_port_port = 0x9411;
		p = pb_ext(&m, SADB_X_EXT_NAT_T_DPORT, sizeof(*p));
		p->sadb_x_nat_t_port_port = 0x9411;
	}
	save("add_gcm_natt6", &m);
	pb_init(&m, SADB_UPDATE, SADB_SATYPE_ESP, 1, 1);
	pb_sa(&m, 0x1000, 4, 0, 0, 0);
	addrs(&m, "192.0.2.1", "192.0.2.2");
	pb_addr(&m, SADB_X_EXT_NEW_ADDRESS_DST, "192.0.2.9", 0, -1, 255);
	save("update_newaddr", &m);
	pb_init(&m, SADB_DELETE, SADB_SATYPE_ESP, 0, 1);
	addrs(&m, "192.0.2.1", "192.0.2.2");
	save("deleteall", &m);
	pb_init(&m, SADB_REGISTER, SADB_SATYPE_ESP, 0, 1);
	save("register", &m);
	pb_init(&m, SADB_DUMP, SADB_SATYPE_UNSPEC, 0, 1);
	save("dump", &m);
	pb_init(&m, SADB_X_PROMISC, 1, 0, 1);
	save("promisc", &m);
	pb_init(&m, SADB_X_SPDADD, SADB_SATYPE_UNSPEC, 0, 1);
	pb_addr(&m, SADB_EXT_ADDRESS_SRC, "10.0.0.0", 0, 8, 6);
	pb_addr(&m, SADB_EXT_ADDRESS_DST, "10.1.0.0", 80, 16, 6);
	pb_policy(&m, IPSEC_DIR_OUTBOUND, IPSEC_POLICY_IPSEC, 0, 0);
	pb_policy_req(&m, IPPROTO_ESP, IPSEC_MODE_TUNNEL, IPSEC_LEVEL_UNIQUE, 0,
	    "192.0.2.1", "192.0.2.2");
	pb_policy_req(&m, IPPROTO_AH, IPSEC_MODE_TRANSPORT, IPSEC_LEVEL_REQUIRE, 0,
	    NULL, NULL);
	pb_lifetime(&m, SADB_EXT_LIFETIME_HARD, 0, 0, 10, 5);
	save("spdadd_tunnel", &m);
	pb_init(&m, SADB_X_SPDDELETE2, SADB_SATYPE_UNSPEC, 0, 1);
	pb_policy(&m, 0, 0, 1, 0);
	save("spddelete2", &m);
	pb_init(&m, SADB_X_SPDDUMP, SADB_SATYPE_UNSPEC, 0, 1);
	save("spddump", &m);
	pb_init(&m, SADB_ACQUIRE, SADB_SATYPE_ESP, 1, 1);
	addrs(&m, "192.0.2.1", "192.0.2.2");
	pb_ext(&m, SADB_EXT_PROPOSAL, 8 + 72);
	save("acquire", &m);
	return (0);
}
