#!/usr/bin/env bash
# Installs the system libraries floortwin needs on Debian/Ubuntu when they are missing:
# a virtual X server for tests, and the X11/xcb/EGL/GL libraries that Qt's xcb platform and VTK load.
# Does nothing when everything is present; needs root (or sudo) only when something must be installed.
set -euo pipefail

pkgs=(xvfb xauth libgl1 libegl1 libglx-mesa0 libgl1-mesa-dri libosmesa6
      libxkbcommon0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
      libxcb-render-util0 libxcb-xinerama0 libxcb-shape0 libxcb-cursor0 libxcb-xkb1 libxcb-xfixes0
      libdbus-1-3 libfontconfig1 libxrender1 libxi6 libxt6 libsm6 libice6 libglib2.0-0 libxext6
      fonts-dejavu-core
      mosquitto  # the MQTT broker of the MQTT / Sparkplug B tests (the demo publishes to one when it is there)
      binutils)  # strip: make package strips pybullet's and VTK's libraries

command -v dpkg-query >/dev/null 2>&1 || { echo "system-deps: not a Debian system; install Xvfb and the X11/GL libraries by hand" >&2; exit 0; }

# Node.js and npm run the independent OPC UA server (node-opcua) of the interoperability tests.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "system-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "system-deps: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
