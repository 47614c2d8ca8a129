#!/usr/bin/env bash
# Installs what the guests and their oracles need: Debian's riscv64-unknown-elf-gcc, picolibc
# and the Lua 5.4 source package; riscv64-linux-gnu-gcc for the glibc guests and qemu-user to
# compare them with; valgrind, whose cachegrind and lackey the cache simulator is checked
# against; Debian's chromium, in which the trace report is checked headless; wabt, whose
# wat2wasm compiles the WebAssembly guest (guests/wasm/*.wat) the wasm heap test runs;
# gdb-multiarch, the debugger the gdb stub is tested with. Then
# builds the guests into guests/build/ (guests/build.sh, guests/build-linux.sh).
# Needs root for apt-get on a fresh machine; CI runs it from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
need_install=0
command -v riscv64-unknown-elf-gcc > /dev/null || need_install=1
[ -f /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs ] || need_install=1
command -v riscv64-linux-gnu-gcc > /dev/null || need_install=1
command -v qemu-riscv64 > /dev/null || need_install=1
command -v valgrind > /dev/null || need_install=1
command -v chromium > /dev/null || need_install=1
command -v wat2wasm > /dev/null || need_install=1
command -v gdb-multiarch > /dev/null || need_install=1
OWN_SOURCES=/etc/apt/sources.list.d/memspace-deb-src.sources
other_deb_src=$(grep -lsE '^[[:space:]]*(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -vxF "$OWN_SOURCES" || true)
if [ -z "$other_deb_src" ]; then
  # Lua comes from Debian's source package: enable deb-src entries matching the machine's own.
  entries=$(bash scripts/lib/deb-src.sh)
  if [ -z "$entries" ]; then
    echo "setup-guests: no apt 'deb' entry for this Debian release to derive a deb-src entry from; add one for Lua's source package" >&2
    exit 1
  fi
  if [ "$(cat "$OWN_SOURCES" 2>/dev/null)" != "$entries" ]; then
    printf '%s\n' "$entries" > "$OWN_SOURCES"
    need_install=1
  fi
fi
# A registry can fail for a moment: try a few times before giving up.
retry() {
  local attempt
  for attempt in 1 2 3; do
    "$@" && return 0
    echo "setup-guests: '$*' failed (attempt $attempt), retrying" >&2
    sleep $((attempt * 5))
  done
  return 1
}
if [ "$need_install" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  retry apt-get update -qq
  retry apt-get install -y -qq gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf binutils-riscv64-unknown-elf gcc-riscv64-linux-gnu qemu-user valgrind chromium wabt gdb-multiarch > /dev/null
fi
bash guests/build.sh --native
bash guests/build-linux.sh
