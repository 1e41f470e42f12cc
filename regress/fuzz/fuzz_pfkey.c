/*
 * libFuzzer target: PF_KEY messages from an untrusted local client, fed to
 * the key engine exactly as netipsecd feeds them (key_send on an attached
 * socket).  The engine keeps its state between inputs, as a daemon does;
 * replies are discarded.  Dumps are streamed as to a slow reader: the
 * socket is "full" every few dump messages and each input lets a pending
 * dump go on a little, so later inputs change the tables under it and
 * meet its EBUSY.  Build: see regress/fuzz/run.sh.
 */
#include <sys/types.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <net/pfkeyv2.h>
#include <netipsec/key.h>
#include <netipsec/keysock.h>

int	ukern_init(void);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned int fuzz_dumpmsgs;

static int
fuzz_output(void *arg, const struct sadb_msg *msg, size_t len, int flags)
{

	(void)arg;
	(void)msg;
	(void)len;
	if ((flags & KEY_OUT_DUMP) && ++fuzz_dumpmsgs % 5 == 0)
		return (EWOULDBLOCK);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keycb *kp, *kp2;
	static int inited;
	u_int nsa, nsp;

	if (!inited) {
		ukern_init();
		key_init();
		kp = keysock_attach(fuzz_output, NULL);
		kp2 = keysock_attach(fuzz_output, NULL);
		inited = 1;
	}
	(void)key_send(kp, data, size);
	(void)key_dump_resume(kp);
	/* Keep the tables small so that every input stays fast. */
	key_counts(&nsa, &nsp);
	if (nsa + nsp > 4096) {
		static const struct sadb_msg fl = { PF_KEY_V2, SADB_FLUSH, 0,
		    0, 2, 0, 0, 0 };
		static const struct sadb_msg spfl = { PF_KEY_V2,
		    SADB_X_SPDFLUSH, 0, 0, 2, 0, 0, 0 };

		(void)key_send(kp2, &fl, sizeof(fl));
		(void)key_send(kp2, &spfl, sizeof(spfl));
	}
	return (0);
}
