#!/usr/bin/env bash
# Builds floortwin.app and a .dmg on macOS (PyInstaller BUNDLE from packaging/floortwin.spec, then hdiutil).
# Not verified here (no Mac); see packaging/README.md. Signing and notarisation need the maintainer's
# Developer ID: set CODESIGN_IDENTITY to sign.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
python3 -m venv .venv-mac
.venv-mac/bin/python -m pip install --upgrade pip
.venv-mac/bin/python -m pip install -e '.[package]'
.venv-mac/bin/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller packaging/floortwin.spec
if [ -n "${CODESIGN_IDENTITY:-}" ]; then
  codesign --deep --force --options runtime --sign "$CODESIGN_IDENTITY" dist/floortwin.app
fi
rm -f "dist/floortwin-$VERSION-macos.dmg"
hdiutil create -volname floortwin -srcfolder dist/floortwin.app -ov -format UDZO "dist/floortwin-$VERSION-macos.dmg"
# Smoke test: the bundle renders the demo
dist/floortwin.app/Contents/MacOS/floortwin --demo --no-plant --screenshot dist/macos-smoke.png
