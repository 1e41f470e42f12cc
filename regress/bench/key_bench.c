/*
 * Key engine benchmarks, printed as ratios from one run:
 *  - SPD lookup: ns per packet lookup with 10, 1k and 100k policies,
 *    through the index, and through FreeBSD's linear first-match scan of
 *    the same list (the reference); growth 100k/10 for both.
 *  - SA add: µs per SADB_ADD (whole PF_KEY path, in-process) while the
 *    SAD holds 1k and 100k SAs; growth 100k/1k.
 * Kernel code (reaches into the SPD), built with -D_KERNEL.
 */
#include <ukern/ukern.h>

#include <net/pfkeyv2.h>
#include <netipsec/ipsec.h>
#include <netipsec/keydb.h>
#include <netipsec/key.h>
#include <netipsec/key_var.h>
#include <netipsec/keysock.h>

#include <stdio.h>
#include <time.h>

MALLOC_DEFINE(M_BENCH, "bench", "benchmark policies");

static uint32_t rs = 2463534242u;

static uint32_t
rnd(void)
{

	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return (rs);
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec * 1e9 + ts.tv_nsec);
}

static void
set4(union sockaddr_union *su, uint32_t a, uint16_t port)
{

	memset(su, 0, sizeof(*su));
	su->sin.sin_family = AF_INET;
	su->sin.sin_addr.s_addr = htonl(a);
	su->sin.sin_port = htons(port);
}

static volatile uintptr_t sink;

static struct secpolicy *
linear(const struct secpolicyindex *pkt)
{
	struct secpolicy *sp;

	TAILQ_FOREACH(sp, &sptree[pkt->dir], chain)
		if (key_spd_cmpspidx_withmask(&sp->spidx, pkt))
			return (sp);
	return (NULL);
}

/*
 * n host-to-host policies (as an IKE daemon installs them) plus a few
 * subnet ones; packets hit random policies, and some miss.
 */
static void
bench_spd(int n, double *idx_ns, double *lin_ns)
{
	struct secpolicyindex *pkts;
	struct secpolicy *sp;
	int i, npkt, reps, r;
	double t0;

	SPTREE_WLOCK();
	for (i = 0; i < n; i++) {
		sp = malloc(sizeof(*sp), M_BENCH, M_WAITOK | M_ZERO);
		set4(&sp->spidx.src, 0x0a000000 + i, 0);
		set4(&sp->spidx.dst, 0x0b000000 + i, 0);
		sp->spidx.prefs = sp->spidx.prefd = 32;
		/* Every size has both shapes: the index probes each once. */
		if (i % 1000 == 999 || i == n - 1)
			sp->spidx.prefs = sp->spidx.prefd = 24;
		sp->spidx.ul_proto = IPSEC_ULPROTO_ANY;
		sp->spidx.dir = IPSEC_DIR_OUTBOUND;
		sp->policy = IPSEC_POLICY_IPSEC;
		sp->id = i + 1;
		if (key_spd_exact(&sp->spidx) != NULL ||
		    key_spd_insert(sp) != 0)
			free(sp, M_BENCH);
	}
	SPTREE_WUNLOCK();

	npkt = 4096;
	pkts = malloc(npkt * sizeof(*pkts), M_BENCH, M_WAITOK | M_ZERO);
	for (i = 0; i < npkt; i++) {
		r = rnd() % (n + n / 10 + 1);	/* ~10% misses */
		set4(&pkts[i].src, 0x0a000000 + r, 1000);
		set4(&pkts[i].dst, 0x0b000000 + r, 80);
		pkts[i].ul_proto = IPPROTO_TCP;
		pkts[i].dir = IPSEC_DIR_OUTBOUND;
	}
	reps = 200;
	t0 = now_ns();
	for (r = 0; r < reps; r++)
		for (i = 0; i < npkt; i++)
			sink += (uintptr_t)key_spd_match(&pkts[i]);
	*idx_ns = (now_ns() - t0) / ((double)reps * npkt);
	/* The linear scan is slow at 100k: fewer lookups. */
	reps = n >= 100000 ? 1 : n >= 1000 ? 10 : 200;
	npkt = n >= 100000 ? 256 : npkt;
	t0 = now_ns();
	for (r = 0; r < reps; r++)
		for (i = 0; i < npkt; i++)
			sink += (uintptr_t)linear(&pkts[i]);
	*lin_ns = (now_ns() - t0) / ((double)reps * npkt);
	free(pkts, M_BENCH);

	SPTREE_WLOCK();
	while ((sp = TAILQ_FIRST(&sptree[IPSEC_DIR_OUTBOUND])) != NULL) {
		key_spd_remove(sp);
		free(sp, M_BENCH);
	}
	SPTREE_WUNLOCK();
}

static int
out_null(void *arg, const struct sadb_msg *msg, size_t len, int flags)
{

	(void)arg;
	(void)msg;
	(void)len;
	(void)flags;
	return (0);
}

/* One ESP ADD message, AES-GCM-128, spi and addresses varied. */
struct addmsg {
	struct sadb_msg		msg;
	struct sadb_sa		sa;
	struct sadb_address	src;
	struct sockaddr_in	srcsa;
	struct sadb_address	dst;
	struct sockaddr_in	dstsa;
	struct sadb_key		key;
	uint8_t			keydata[24];
};

static void
mkadd(struct addmsg *m, uint32_t spi)
{

	memset(m, 0, sizeof(*m));
	m->msg.sadb_msg_version = PF_KEY_V2;
	m->msg.sadb_msg_type = SADB_ADD;
	m->msg.sadb_msg_satype = SADB_SATYPE_ESP;
	m->msg.sadb_msg_len = PFKEY_UNIT64(sizeof(*m));
	m->sa.sadb_sa_len = PFKEY_UNIT64(sizeof(m->sa));
	m->sa.sadb_sa_exttype = SADB_EXT_SA;
	m->sa.sadb_sa_spi = htonl(spi);
	m->sa.sadb_sa_encrypt = SADB_X_EALG_AESGCM16;
	m->src.sadb_address_len = PFKEY_UNIT64(sizeof(m->src) + 16);
	m->src.sadb_address_exttype = SADB_EXT_ADDRESS_SRC;
	m->src.sadb_address_prefixlen = 32;
	m->src.sadb_address_proto = 255;
	m->srcsa.sin_family = AF_INET;
	m->srcsa.sin_addr.s_addr = htonl(0xc0000200 + (spi & 0xff));
	m->dst = m->src;
	m->dst.sadb_address_exttype = SADB_EXT_ADDRESS_DST;
	m->dstsa.sin_family = AF_INET;
	m->dstsa.sin_addr.s_addr = htonl(0xc6336400 + (spi >> 8 & 0xffff));
	m->key.sadb_key_len = PFKEY_UNIT64(sizeof(m->key) + 24);
	m->key.sadb_key_exttype = SADB_EXT_KEY_ENCRYPT;
	m->key.sadb_key_bits = 160;
}

static double
bench_add(struct keycb *kp, uint32_t *spi, int fill, int n)
{
	struct addmsg m;
	double t0;
	int i;

	for (i = 0; i < fill; i++) {
		mkadd(&m, (*spi)++);
		if (key_send(kp, &m, sizeof(m)) != 0)
			abort();
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		mkadd(&m, (*spi)++);
		(void)key_send(kp, &m, sizeof(m));
	}
	return ((now_ns() - t0) / n / 1000.0);
}

int
main(void)
{
	static const int sizes[] = { 10, 1000, 100000 };
	double idx[3], lin[3], a1k, a100k;
	struct sadb_msg flush;
	struct keycb *kp;
	uint32_t spi;
	u_int nsa, nsp;
	size_t i;

	ukern_init();
	key_init();
	printf("SPD lookup (ns per packet; reference: FreeBSD's linear "
	    "first-match scan, same list, same run)\n");
	printf("%10s %12s %12s %10s\n", "policies", "indexed", "linear",
	    "speedup");
	for (i = 0; i < nitems(sizes); i++) {
		bench_spd(sizes[i], &idx[i], &lin[i]);
		printf("%10d %12.1f %12.1f %9.1fx\n", sizes[i], idx[i], lin[i],
		    lin[i] / idx[i]);
	}
	printf("growth 100k/10: indexed %.2fx (goal <= 2x), linear %.0fx\n",
	    idx[2] / idx[0], lin[2] / lin[0]);

	kp = keysock_attach(out_null, NULL);
	spi = 0x1000;
	a1k = bench_add(kp, &spi, 1000 - 1000, 1000);
	a100k = bench_add(kp, &spi, 100000 - 1000, 1000);
	key_counts(&nsa, &nsp);
	printf("\nSA add (us per SADB_ADD, in-process PF_KEY path)\n");
	printf("%10s %12s\n", "SAs", "us/add");
	printf("%10d %12.2f\n", 1000, a1k);
	printf("%10u %12.2f\n", nsa, a100k);
	printf("growth 100k/1k: %.2fx (flat = 1x)\n", a100k / a1k);
	memset(&flush, 0, sizeof(flush));
	flush.sadb_msg_version = PF_KEY_V2;
	flush.sadb_msg_type = SADB_FLUSH;
	flush.sadb_msg_len = 2;
	(void)key_send(kp, &flush, sizeof(flush));
	keysock_detach(kp);
	key_destroy();
	return (0);
}
