#!/bin/sh
# make bench: build and run each benchmark; each prints its own reference.
set -eu
cd "$(dirname "$0")"
${MAKE:-make} -s all
./key_bench
./esp_bench
./setkey_bench.sh
./tunnel_bench.sh
./ike_bench.sh
# The same handshakes with certificates (issue 14): ECDSA P-256, Ed25519.
for a in ecdsa ed25519; do
	IKE_BENCH_AUTH=$a IKE_BENCH_NS="${IKE_BENCH_CERT_NS:-100 1000}" \
	    ./ike_bench.sh
done
