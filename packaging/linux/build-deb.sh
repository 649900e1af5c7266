#!/usr/bin/env bash
# Wraps the PyInstaller bundle (dist/floortwin/) as a .deb and a tarball.
#   packaging/linux/build-deb.sh VERSION     (run by `make package`; PKG_DIST and PKG_BUILD as in the Makefile)
# The .deb installs the bundle in /opt/floortwin, a `floortwin` command in /usr/bin, a desktop entry and
# the icon. Its dependencies are the system libraries Qt and VTK load at run time (X11/xcb, GL, fonts).
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION="${1:?usage: build-deb.sh VERSION}"
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
DIST="${PKG_DIST:-dist}"
BUNDLE="$DIST/floortwin"
test -x "$BUNDLE/floortwin" || { echo "no PyInstaller bundle in $BUNDLE: run make package" >&2; exit 1; }

STAGE="${PKG_BUILD:-build}/deb/floortwin_${VERSION}_${ARCH}"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/icons/hicolor/scalable/apps" "$STAGE/usr/share/doc/floortwin"
cp -a "$BUNDLE" "$STAGE/opt/floortwin"
ln -s /opt/floortwin/floortwin "$STAGE/usr/bin/floortwin"
cp resources/icons/floortwin.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/floortwin.svg"
cp README.md "$STAGE/usr/share/doc/floortwin/"
cat > "$STAGE/usr/share/applications/floortwin.desktop" <<DESKTOP
[Desktop Entry]
Type=Application
Name=floortwin
GenericName=Factory digital twin
Comment=A digital twin of a factory floor: 3D layout, live OPC UA state, heat maps, what-if simulation
Exec=floortwin %f
Icon=floortwin
Terminal=false
Categories=Engineering;Science;Qt;
MimeType=application/json;
DESKTOP
SIZE_KB=$(du -sk "$STAGE/opt" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: floortwin
Version: ${VERSION}
Architecture: ${ARCH}
Maintainer: floortwin developers <floortwin@users.noreply.github.com>
Installed-Size: ${SIZE_KB}
Depends: libgl1, libegl1, libglib2.0-0, libfontconfig1, libfreetype6, libdbus-1-3, libxkbcommon0, libxkbcommon-x11-0, libx11-6, libx11-xcb1, libxext6, libxrender1, libxcb1, libxcb-cursor0 | libxcb-xinerama0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-shape0, libxcb-xfixes0, libxcb-xkb1
Section: science
Priority: optional
Homepage: https://github.com/floortwin/floortwin
Description: desktop digital twin of a factory floor
 floortwin shows a factory in 3D from real machine meshes, overlays live OPC UA
 state with alarms, trends and history, draws material and machine heat maps,
 edits the layout with collision checks, and runs what-if production
 simulations compared with the recorded actuals. Self-contained: it brings its
 own Python, Qt and VTK.
CONTROL
dpkg-deb --root-owner-group -Zgzip -z3 --build "$STAGE" "$DIST/floortwin_${VERSION}_${ARCH}.deb" >/dev/null
tar -C "$DIST" -czf "$DIST/floortwin-${VERSION}-linux-${ARCH}.tar.gz" floortwin
ls -l "$DIST"/*.deb "$DIST"/*.tar.gz
