# Builds the Windows installer: PyInstaller bundle, then Inno Setup (ISCC.exe on PATH).
# Not verified here (no Windows machine); see packaging/README.md.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
python -m venv .venv-win
.\.venv-win\Scripts\python -m pip install --upgrade pip
.\.venv-win\Scripts\python -m pip install -e ".[package]"
.\.venv-win\Scripts\pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\floortwin.spec
$env:FLOORTWIN_VERSION = (Select-String -Path pyproject.toml -Pattern '^version = "(.*)"').Matches[0].Groups[1].Value
ISCC.exe packaging\windows\floortwin.iss
# Smoke test: the installed-to-be bundle renders the demo
.\dist\floortwin\floortwin.exe --demo --no-plant --screenshot dist\windows-smoke.png
