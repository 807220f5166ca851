# Two commands do everything: `make run` launches the app, `make test` runs the suite.
# Both create .venv and install the project on first use (and again when pyproject.toml changes), which
# includes compiling the engine's kernels into numba's per-user cache (`canns-studio warm-up --jobs 2`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench screenshots bundle bundle-check desktop-install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "CANN Studio needs Python >= 3.11, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	bash packaging/linux/ensure_system_libs.sh
	@echo "Compiling the engine's kernels into the per-user cache, once (~1 min), so the app starts ready:"
	$(BIN)/canns-studio warm-up --jobs 2
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/canns-studio

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q
	$(BIN)/ruff check .

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# The user guide's screenshots, taken again from the real app (offscreen, ~1 min): docs/screenshots.py.
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots.py

# The double-click app (packaging/README.md): PyInstaller comes from the `packaging` extra, installed on demand.
PACKAGING_STAMP := $(VENV)/.packaging-installed

$(PACKAGING_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[test,packaging]'
	touch $(PACKAGING_STAMP)

bundle: $(PACKAGING_STAMP)
	$(BIN)/python -m PyInstaller --noconfirm --clean --log-level WARN packaging/canns-studio.spec
	@du -sh dist/canns-studio
	@echo "Compiling the kernels the bundle ships, for each portable CPU level (~2 min), so its first start is ready:"
	dist/canns-studio/canns-studio warm-up --ship --jobs 2

bundle-check: $(PACKAGING_STAMP)
	$(BIN)/python packaging/smoke_test.py

desktop-install:
	bash packaging/linux/install-desktop.sh

clean:
	rm -rf $(VENV) build dist .pytest_cache
