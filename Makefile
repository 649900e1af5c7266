# floortwin — the two-command quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test bench sysdeps lint clean schema package package-test docs-images

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Open the demo plant in the main window.
run: $(STAMP)
	$(PY) main.py --demo $(ARGS)

INTEROP := tests/interop/node_modules/.installed
# The suite runs on one worker per core (at most 4; pytest-xdist), each with its own virtual X server; a test
# file stays on one worker, so its module fixtures (a recorded plant, a built world) are made once.
# `make test TEST_WORKERS=` runs it in one process.
TEST_WORKERS ?= -n auto --maxprocesses 4 --dist loadfile

$(INTEROP): tests/interop/package.json tests/interop/package-lock.json
	cd tests/interop && npm ci --no-audit --no-fund --loglevel=error
	touch $(INTEROP)

## Install what the tests need (Xvfb, X/GL libraries, Node.js + node-opcua, Python test extras) and run the whole suite.
test: sysdeps $(STAMP) $(INTEROP)
	$(PY) -m pytest $(TEST_WORKERS) --durations 25

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)

# Where the package is put together and where it lands (e.g. make package PKG_BUILD=/tmp/ft-build PKG_DIST=/tmp/ft-dist).
PKG_BUILD ?= build
PKG_DIST ?= dist

## A self-contained Linux application (PyInstaller, packaging/floortwin.spec) as a .deb and a tarball in dist/.
package: sysdeps $(STAMP)
	$(PY) -m pip install --quiet -e '.[package]'
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath $(PKG_DIST) --workpath $(PKG_BUILD)/pyinstaller packaging/floortwin.spec
	PKG_BUILD=$(PKG_BUILD) PKG_DIST=$(PKG_DIST) bash packaging/linux/build-deb.sh $(VERSION)

## Build the package, print its installed size by part against the ≤ 400 MB target (bench/startup.py's JSON
## line), unpack the .deb into a clean prefix and render the demo with it (no dev venv involved).
package-test: package
	$(PY) bench/startup.py --size-only --package $(PKG_DIST)/floortwin/floortwin
	FLOORTWIN_DEB=$(PKG_DIST)/floortwin_$(VERSION)_$$(dpkg --print-architecture).deb $(PY) -m pytest -p no:cacheprovider tests/installer -q

## Every benchmark; each ends with one JSON line of figures and ratios.
bench: sysdeps $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,bench]'
	@for b in bench/[a-z]*.py; do \
	  case $$b in bench/genfactory.py|bench/_*) continue;; esac; \
	  echo "== $$b"; xvfb-run -a -s "-screen 0 1920x1080x24" $(PY) $$b || exit 1; \
	done

## System packages a fresh Debian/Ubuntu machine lacks (only installs what is missing).
sysdeps:
	@bash packaging/linux/system-deps.sh

## Regenerate the JSON Schema of the factory format (docs/factory.schema.json).
schema: $(STAMP)
	$(PY) -m app.model.schema docs/factory.schema.json

## Regenerate the documentation screenshots (docs/images/*.png) from the real window with the demo plant live.
## DOCS_IMAGES_ARGS passes options, e.g. make docs-images DOCS_IMAGES_ARGS="--only replay" or "--matrix /tmp/matrix".
docs-images: sysdeps $(STAMP)
	xvfb-run -a -s "-screen 0 1920x1080x24" $(PY) docs/make_images.py $(DOCS_IMAGES_ARGS)

lint: $(STAMP)
	$(PY) -m pip install --quiet ruff mypy import-linter
	$(VENV)/bin/ruff check app tests bench main.py plugins docs/make_images.py
	$(VENV)/bin/lint-imports   # the layer and no-GUI contracts in pyproject's [tool.importlinter]
	$(VENV)/bin/mypy   # the packages listed in pyproject's [tool.mypy] files

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
