#!/usr/bin/env bash
# Prints deb-src entries (deb822 format) mirroring this machine's own apt entries for its
# Debian release: the same URIs, components and keyring as the existing `deb` entries whose
# suite is the release's codename (from /etc/os-release). So the project names no package host:
# it uses whichever the machine is configured with. Prints nothing if there is no such entry.
# APT_ETC_DIR reads another folder than /etc/apt (for testing).
set -euo pipefail
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || exit 0
apt_dir=${APT_ETC_DIR:-/etc/apt}
shopt -s nullglob
# deb822 files: a stanza is a run of non-blank lines; keep those of Types deb with our suite.
for file in "$apt_dir"/sources.list.d/*.sources; do
  [ "$(basename "$file")" = memspace-deb-src.sources ] && continue
  awk -v codename="$codename" '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " codename " ") && uris != "" && enabled != "no") {
        print "Types: deb-src"; print "URIs: " uris; print "Suites: " codename; print "Components: " components
        if (signed != "") print "Signed-By: " signed
        print ""
      }
      types = ""; uris = ""; suites = ""; components = ""; signed = ""; enabled = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    { key = tolower($1); sub(/^[^:]*:[ \t]*/, "") }
    key == "types:" { types = $0 } key == "uris:" { uris = $0 } key == "suites:" { suites = $0 }
    key == "components:" { components = $0 } key == "signed-by:" { signed = $0 } key == "enabled:" { enabled = tolower($0) }
    END { flush() }
  ' "$file"
done
# One-line files: "deb [options] URI SUITE COMPONENTS...".
for file in "$apt_dir"/sources.list "$apt_dir"/sources.list.d/*.list; do
  [ -f "$file" ] || continue
  awk -v codename="$codename" '
    $1 != "deb" { next }
    {
      i = 2; signed = ""
      if ($2 ~ /^\[/) { while (i <= NF) { if ($i ~ /^signed-by=/) { signed = $i; sub(/^signed-by=/, "", signed); sub(/\]$/, "", signed) } if ($i ~ /\]$/) { i++; break } i++ } }
      uri = $i; suite = $(i + 1); components = ""
      for (j = i + 2; j <= NF; j++) components = components (components == "" ? "" : " ") $j
      if (suite != codename) next
      print "Types: deb-src"; print "URIs: " uri; print "Suites: " codename; print "Components: " components
      if (signed != "") print "Signed-By: " signed
      print ""
    }
  ' "$file"
done
