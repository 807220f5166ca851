#!/usr/bin/env bash
# Qt's offscreen/xcb platform plugins need a few system libraries that a minimal Debian image lacks.
# Installed only when missing, and only when we are root with apt-get (CI and dev machines here);
# elsewhere we print what to install instead of failing.
set -u
missing=()
for lib in libEGL.so.1 libGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || missing+=("$lib")
done
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs="libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0"
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system libraries for Qt (missing: ${missing[*]})"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
else
  echo "warning: Qt may need these system packages: $pkgs (missing: ${missing[*]})" >&2
fi
