#!/usr/bin/env bash
# Builds the Linux guests, guests/linux/*.c, with Debian's riscv64-linux-gnu-gcc (glibc, lp64d)
# as static RV64GC executables into guests/build/linux/ (scripts/setup-guests.sh installs the
# compiler). Tests run each under memspace and under qemu-riscv64 and compare. The guests in
# linux-debug/ are built without optimisation and with debug information, for gdb.
set -euo pipefail
cd "$(dirname "$0")"
OUT=build/linux
mkdir -p "$OUT"
for source in linux/*.c; do
  name=$(basename "$source" .c)
  riscv64-linux-gnu-gcc -O2 -static -o "$OUT/$name" "$source" -lm
done
for source in linux-debug/*.c; do
  name=$(basename "$source" .c)
  riscv64-linux-gnu-gcc -O0 -g -static -o "$OUT/$name" "$source"
done
echo "Linux guests built in $(pwd)/$OUT"
