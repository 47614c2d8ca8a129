#!/usr/bin/env bash
# Builds the RV64IMAC guests into guests/build/ with Debian's riscv64-unknown-elf-gcc and
# picolibc (scripts/setup-guests.sh installs them). With --native, also builds the same
# programs for this machine, so tests can compare the emulated output with the real one.
# Lua 5.4 comes from Debian's source package (apt-get source), unpacked under build/.
set -euo pipefail
cd "$(dirname "$0")"
OUT=build
mkdir -p "$OUT"
CC=riscv64-unknown-elf-gcc
# picolibc's default memory map (64 KiB flash, 32 KiB RAM) is for microcontrollers: give the
# guests 16 MiB for code at 0x10000 (as on Linux), 256 MiB of RAM and a 1 MiB stack.
CFLAGS=(-march=rv64imac -mabi=lp64 -O2 -specs=picolibc.specs --crt0=hosted -static
  -Wl,--defsym=__flash=0x10000 -Wl,--defsym=__flash_size=0x1000000
  -Wl,--defsym=__ram=0x10000000 -Wl,--defsym=__ram_size=0x10000000 -Wl,--defsym=__stack_size=0x100000)
NATIVE=0
[ "${1:-}" = "--native" ] && NATIVE=1

for source in src/*.c; do
  name=$(basename "$source" .c)
  "$CC" "${CFLAGS[@]}" -o "$OUT/$name.elf" "$source" runtime/memspace_os.c
  [ "$NATIVE" = 1 ] && gcc -O2 -o "$OUT/$name.native" "$source"
done

# Lua: a program nobody here wrote, built from Debian's source package.
LUA_DIR="$OUT/lua"
if [ ! -f "$LUA_DIR/src/lapi.c" ]; then
  rm -rf "$OUT/lua-download" && mkdir -p "$OUT/lua-download"
  for attempt in 1 2 3; do
    (cd "$OUT/lua-download" && apt-get source --download-only lua5.4 > /dev/null 2>&1) && break
    [ "$attempt" = 3 ] && { echo "build.sh: apt-get source lua5.4 failed (is a deb-src entry enabled?)" >&2; exit 1; }
    sleep $((attempt * 5))
  done
  mkdir -p "$LUA_DIR"
  tar -xzf "$OUT"/lua-download/lua5.4_*.orig.tar.gz -C "$LUA_DIR" --strip-components=1
fi
source ./lua-sources.sh
"$CC" "${CFLAGS[@]}" -DLUA_USE_C89 -I"$LUA_DIR/src" -o "$OUT/lua.elf" lua/main.c "${LUA_SOURCES[@]}" runtime/memspace_os.c -lm
[ "$NATIVE" = 1 ] && gcc -O2 -I"$LUA_DIR/src" -o "$OUT/lua.native" lua/main.c "${LUA_SOURCES[@]}" -lm
echo "guests built in $(pwd)/$OUT"
