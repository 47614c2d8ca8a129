#!/bin/bash
# Installs what `memspace bench alloc` compares against: Debian's mimalloc and jemalloc
# (glibc's malloc is always there) and gcc for the C driver. Needs root (or sudo).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq gcc libmimalloc2.0 libjemalloc2
