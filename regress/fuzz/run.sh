#!/bin/sh
# Build every libFuzzer target with clang (ASan+UBSan) and run each for
# FUZZ_SECONDS (default 30), starting from the committed seed corpus.
# Grown corpora and crash files stay in a work directory (FUZZ_WORK,
# default /tmp/netipsec-fuzz); a crash fails the run.
set -eu
cd "$(dirname "$0")"
TOP=$(cd ../.. && pwd)
SECONDS_EACH=${FUZZ_SECONDS:-30}
WORK=${FUZZ_WORK:-/tmp/netipsec-fuzz}
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "fuzz: $CC not found (apt-get install clang)"; exit 1; }

BSD_CFLAGS=$(pkg-config --cflags libbsd-overlay 2>/dev/null || true)
BSD_LIBS=$(pkg-config --libs libbsd-overlay 2>/dev/null || true)
CFLAGS="-std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -D_DEFAULT_SOURCE
    -I$TOP/sys -I$TOP/lib/libpfkey $BSD_CFLAGS"
mkdir -p "$WORK/obj"

# fuzz_pfkey: the kernel layer's PF_KEY parser (key_send/key_parse).
for f in "$TOP"/sys/netipsec/*.c "$TOP"/sys/ukern/*.c; do
	$CC $CFLAGS -fsanitize=fuzzer-no-link -D_KERNEL -DINVARIANTS \
	    -c "$f" -o "$WORK/obj/k_$(basename "$f" .c).o"
done
$CC $CFLAGS -o "$WORK/fuzz_pfkey" fuzz_pfkey.c "$WORK"/obj/k_*.o \
    -lcrypto -lz -lpthread $BSD_LIBS

# fuzz_hook: the packet path (ipsec_hook), with the unit tests' helpers.
$CC $CFLAGS -fsanitize=fuzzer-no-link -D_KERNEL -DINVARIANTS \
    -c ../lib/mchain.c -o "$WORK/obj/mchain.o"
$CC $CFLAGS -o "$WORK/fuzz_hook" fuzz_hook.c ../netipsec/keytest.c \
    ../lib/pfkey_build.c "$WORK/obj/mchain.o" "$WORK"/obj/k_*.o \
    -lcrypto -lz -lpthread $BSD_LIBS
# fuzz_sockpolicy: sockets' policies, then the packet path.
$CC $CFLAGS -o "$WORK/fuzz_sockpolicy" fuzz_sockpolicy.c \
    ../netipsec/keytest.c ../lib/pfkey_build.c "$WORK"/obj/k_*.o \
    -lcrypto -lz -lpthread $BSD_LIBS
targets_k="pfkey hook sockpolicy"

# fuzz_imsg: what a daemon's process reads from another (sbin/common).
$CC $CFLAGS -I"$TOP/sbin/common" -o "$WORK/fuzz_imsg" fuzz_imsg.c \
    "$TOP/sbin/common/imsg.c"
targets_k="$targets_k imsg"

# fuzz_policy: ipsec_set_policy(3) and ipsec_dump_policy(3).
targets="$targets_k"
if [ -f fuzz_policy.c ]; then
	for f in "$TOP"/lib/libpfkey/*.c; do
		case $f in *preload*) continue;; esac
		$CC $CFLAGS -fsanitize=fuzzer-no-link \
		    -c "$f" -o "$WORK/obj/l_$(basename "$f" .c).o"
	done
	$CC $CFLAGS -o "$WORK/fuzz_policy" fuzz_policy.c "$WORK"/obj/l_*.o \
	    $BSD_LIBS
	targets="$targets policy"
fi

# fuzz_setkey: setkey(8)'s tokenizer and parser, with libpfkey.
if [ -f fuzz_setkey.c ] && ls "$WORK"/obj/l_*.o >/dev/null 2>&1; then
	for f in token parse msg; do
		$CC $CFLAGS -fsanitize=fuzzer-no-link \
		    -c "$TOP/sbin/setkey/$f.c" -o "$WORK/obj/s_$f.o"
	done
	$CC $CFLAGS -o "$WORK/fuzz_setkey" fuzz_setkey.c "$WORK"/obj/s_*.o \
	    "$WORK"/obj/l_*.o $BSD_LIBS
	targets="$targets setkey"
fi

# fuzz_ikedconf: sbin/iked's configuration parser (parse.y) and printer,
# with the daemon's sources it calls (the rule index of policy.c, the
# address helpers of net.c, and what those reach).
EV_LIBS=$(pkg-config --libs libevent 2>/dev/null || echo -levent)
IKED_SRCS=""
for f in config print crypto dh net kernel ikesa halfopen policy natt auth ca \
    ikev1 ikev2 ikemsg ikemsg_frag ikebuf ikev1_pld ikev2_pld; do
	IKED_SRCS="$IKED_SRCS $TOP/sbin/iked/$f.c"
done
if [ -f fuzz_ikedconf.c ] && ls "$WORK"/obj/l_*.o >/dev/null 2>&1; then
	YACC=$(command -v byacc || echo yacc)
	$YACC -o "$WORK/obj/iked_parse.c" "$TOP/sbin/iked/parse.y"
	$CC $CFLAGS -I"$TOP/sbin/iked" -o "$WORK/fuzz_ikedconf" \
	    fuzz_ikedconf.c "$WORK/obj/iked_parse.c" $IKED_SRCS \
	    "$TOP/sbin/common/log.c" "$WORK"/obj/l_*.o $EV_LIBS -lcrypto \
	    $BSD_LIBS
	targets="$targets ikedconf"
fi

# fuzz_privsep: what iked's parent and engine read from each other.
if [ -f fuzz_privsep.c ] && [ -f "$WORK/obj/iked_parse.c" ]; then
	$CC $CFLAGS -I"$TOP/sbin/iked" -o "$WORK/fuzz_privsep" \
	    fuzz_privsep.c "$TOP/sbin/iked/cfgmsg.c" \
	    "$TOP/sbin/iked/pfkey_filter.c" "$TOP/sbin/common/imsg.c" \
	    "$WORK/obj/iked_parse.c" $IKED_SRCS "$TOP/sbin/common/log.c" \
	    "$WORK"/obj/l_*.o $EV_LIBS -lcrypto $BSD_LIBS
	targets="$targets privsep"
fi

# fuzz_auth: what iked's ca process reads from the engine (auth.c), and
# the certificates and signatures of peers (ca.c).
if [ -f fuzz_auth.c ] && [ -f "$WORK/obj/iked_parse.c" ]; then
	$CC $CFLAGS -I"$TOP/sbin/iked" -o "$WORK/fuzz_auth" \
	    fuzz_auth.c "$WORK/obj/iked_parse.c" $IKED_SRCS \
	    "$TOP/sbin/common/log.c" "$WORK"/obj/l_*.o $EV_LIBS -lcrypto \
	    $BSD_LIBS
	targets="$targets auth"
fi

# fuzz_ikectl: iked's control socket, the command line as the daemon
# frames and parses it.
if [ -f fuzz_ikectl.c ]; then
	$CC $CFLAGS -I"$TOP/sbin/iked" -o "$WORK/fuzz_ikectl" fuzz_ikectl.c \
	    "$TOP/sbin/iked/control_cmd.c" $BSD_LIBS
	targets="$targets ikectl"
fi

# fuzz_ikev1, fuzz_ikev2: sbin/iked's IKE message parsers and decoders.
if [ -f fuzz_ikev2.c ]; then
	IKEMSG_SRCS="$TOP/sbin/iked/ikemsg.c $TOP/sbin/iked/ikemsg_frag.c
	    $TOP/sbin/iked/ikebuf.c $TOP/sbin/iked/ikev1_pld.c
	    $TOP/sbin/iked/ikev2_pld.c"
	for v in 1 2; do
		$CC $CFLAGS -I"$TOP/sbin/iked" -o "$WORK/fuzz_ikev$v" \
		    fuzz_ikev$v.c $IKEMSG_SRCS $BSD_LIBS
	done
	targets="$targets ikev1 ikev2"
fi

# fuzz_iked: iked's responder, whole datagrams through ikesa_recv.
if [ -f fuzz_iked.c ] && ls "$WORK"/obj/l_*.o >/dev/null 2>&1 &&
    [ -f "$WORK/obj/iked_parse.c" ]; then
	$CC $CFLAGS -I"$TOP/sbin/iked" -o "$WORK/fuzz_iked" fuzz_iked.c \
	    $IKED_SRCS "$WORK/obj/iked_parse.c" \
	    "$TOP/sbin/common/log.c" "$WORK"/obj/l_*.o $EV_LIBS -lcrypto \
	    $BSD_LIBS
	targets="$targets iked"
fi
status=0
for t in $targets; do
	mkdir -p "$WORK/corpus-$t" "$WORK/crash-$t"
	echo "fuzz: $t for ${SECONDS_EACH}s"
	if ! "$WORK/fuzz_$t" -max_total_time="$SECONDS_EACH" \
	    -artifact_prefix="$WORK/crash-$t/" -print_final_stats=1 \
	    "$WORK/corpus-$t" "corpus/$t" >"$WORK/fuzz-$t.log" 2>&1; then
		echo "fuzz: $t FAILED; see $WORK/fuzz-$t.log and $WORK/crash-$t/"
		tail -30 "$WORK/fuzz-$t.log"
		status=1
	else
		grep -E 'stat::number_of_executed_units|cov:' \
		    "$WORK/fuzz-$t.log" | tail -2
	fi
done
exit $status
