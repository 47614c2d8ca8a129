#!/usr/bin/env bash
# Builds the Linux guests, guests/linux/*.c, with Debian's riscv64-linux-gnu-gcc (glibc, lp64d)
# as static RV64GC executables into guests/build/linux/ (scripts/setup-guests.sh installs the
# compiler). Tests run each under memspace and under qemu-riscv64 and compare. The guests in
# linux-debug/ are built without optimisation and with debug information, for gdb.
# The benchmark programs (src/*.c, and Lua when guests/build.sh has unpacked it) are built the
# same way into build/linux-bench/: one binary that memspace and qemu-riscv64 both run, so
# bench:guests can set them side by side (the picolibc builds are bare-metal, which qemu's
# Linux user mode cannot run).
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
BENCH_OUT=build/linux-bench
mkdir -p "$BENCH_OUT"
for source in src/*.c; do
  riscv64-linux-gnu-gcc -O2 -static -o "$BENCH_OUT/$(basename "$source" .c)" "$source"
done
LUA_DIR=build/lua
if [ -f "$LUA_DIR/src/lapi.c" ]; then
  source ./lua-sources.sh
  riscv64-linux-gnu-gcc -O2 -static -DLUA_USE_C89 -I"$LUA_DIR/src" -o "$BENCH_OUT/lua" lua/main.c "${LUA_SOURCES[@]}" -lm
fi
echo "Linux guests built in $(pwd)/$OUT and $(pwd)/$BENCH_OUT"
