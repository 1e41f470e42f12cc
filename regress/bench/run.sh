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
