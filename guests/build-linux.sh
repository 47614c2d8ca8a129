#!/usr/bin/env bash
# Builds the Linux guests, guests/linux/*.c, with Debian's riscv64-linux-gnu-gcc (glibc, lp64d)
# as static RV64GC executables into guests/build/linux/ (scripts/setup-guests.sh installs the
# compiler). Tests run each under memspace and under qemu-riscv64 and compare.
set -euo pipefail
cd "$(dirname "$0")"
OUT=build/linux
mkdir -p "$OUT"
for source in linux/*.c; do
  name=$(basename "$source" .c)
  riscv64-linux-gnu-gcc -O2 -static -o "$OUT/$name" "$source" -lm
done
echo "Linux guests built in $(pwd)/$OUT"
