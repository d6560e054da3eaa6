# softmax-lab: `make lab` to learn, `make test` to check everything.
# Both set up .venv first; set-up reruns only when the dependency files change.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NB     ?= notebooks/*.ipynb
PORT   ?= 8888
# On Linux, PyPI's torch is a CUDA build of several GB. Without an NVIDIA GPU, a CPU build is
# enough: make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH_INDEX ?=
# configurable-http-proxy (npm), JupyterHub's proxy, installed under build/ for make hub-smoke
CHP_VERSION := 5.3.0
CHP_STAMP   := build/chp/.installed-$(CHP_VERSION)

export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The kernels' environment (MPLBACKEND, PYTHONHASHSEED) is set by tools/notebooks.py.

.PHONY: help setup lab test unit nbval nbval-portable lint notebooks nav check-notebooks bench test-browser site test-site clean

help:
	@echo "make lab        set up .venv and open JupyterLab on notebooks/ (127.0.0.1, token)"
	@echo "make test       set up .venv, then unit tests, strict nbval on every notebook, lint"
	@echo "make notebooks  re-execute notebooks in place (NB=notebooks/03_numerical_stability.ipynb for one)"
	@echo "make nbval-portable  strict nbval under AVX2 and baseline x86-64 CPU code paths (NB=... for some)"
	@echo "make bench      run the benchmarks in benchmarks/"
	@echo "make test-browser  run every notebook in JupyterLab in headless Chromium"
	@echo "make assignments   nbgrader course in build/course (source/, release/) from the notebooks"
	@echo "make hub-smoke     course hub on 127.0.0.1: three students run notebook 01, then all stops"
	@echo "make site       build the course website into build/site/ (offline, notebooks not executed)"
	@echo "make test-site  build it, then check every page in headless Chromium"

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "softmax-lab needs Python 3.11 or newer as '$(PYTHON)': install it (e.g. apt install python3 python3-venv) or run make PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "softmax-lab needs Python >= 3.11; '$(PYTHON)' is $$($(PYTHON) -V 2>&1). Run make PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "could not create $(VENV): install the venv module (e.g. apt install python3-venv)"; exit 1; }
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -e '.[notebooks,test]'
	$(PY) -m ipykernel install --sys-prefix --name softmax-lab --display-name "Python (softmax-lab)" >/dev/null
	@touch $(STAMP)
	@echo "set-up done: $(VENV) is ready"

lab: $(STAMP)
	$(PY) -m tools.lab --port $(PORT)

test: $(STAMP) check-notebooks unit nbval lint

check-notebooks: $(STAMP)
	$(PY) -m tools.check_notebooks notebooks

unit: $(STAMP)
	$(PY) -m pytest -q

nbval: $(STAMP)
	$(PY) -m tools.strict_nbval notebooks

# Strict nbval again under the CPU code paths of an ordinary AVX2 laptop and of a baseline
# x86-64-v2 machine: NumPy, torch and OpenBLAS each pick their kernels from these variables.
PORTABLE_AVX2     := NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell
PORTABLE_BASELINE := NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR" ATEN_CPU_CAPABILITY=default OPENBLAS_CORETYPE=Nehalem

nbval-portable: $(STAMP)
	@echo "strict nbval on AVX2 code paths"
	$(PORTABLE_AVX2) $(PY) -m tools.strict_nbval $(NB)
	@echo "strict nbval on baseline x86-64 code paths"
	$(PORTABLE_BASELINE) $(PY) -m tools.strict_nbval $(NB)

lint: $(STAMP)
	$(VENV)/bin/ruff check softmax_lab tests tools benchmarks notebooks docs
	$(VENV)/bin/ruff format --check softmax_lab tests tools benchmarks docs

notebooks: $(STAMP)
	$(PY) -m tools.run_notebooks $(NB)
	$(PY) -m tools.navigation --fix

nav: $(STAMP)
	$(PY) -m tools.navigation --fix

bench: $(STAMP)
	$(PY) benchmarks/bench_softmax.py

test-browser: $(STAMP)
	$(PY) -m tools.browser_check notebooks

# The course website: Sphinx + myst-nb over the committed notebooks (docs/, tools/build_site.py).
# Its packages are the `site` extra of pyproject.toml, installed once beside the others.
SITE_STAMP := $(VENV)/.installed-site

$(SITE_STAMP): $(STAMP)
	$(PY) -m pip install --quiet $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -e '.[notebooks,test,site]'
	@touch $(SITE_STAMP)

site: $(SITE_STAMP)
	$(PY) -m tools.build_site

test-site: site
	$(PY) -c 'from tools.browser_check import ensure_chromium; ensure_chromium()'
	$(PY) -m pytest -q -p no:cacheprovider tests/test_site.py
	$(PY) -m tools.site_check build/site --notebooks notebooks

.PHONY: assignments chp hub-smoke

assignments: $(STAMP)
	$(PY) -m tools.assignments

chp: $(CHP_STAMP)

$(CHP_STAMP):
	@command -v npm >/dev/null 2>&1 || { echo "make hub-smoke needs Node.js and npm (e.g. apt install nodejs npm)"; exit 1; }
	npm install --prefix build/chp --no-audit --no-fund --loglevel=error configurable-http-proxy@$(CHP_VERSION)
	@touch $(CHP_STAMP)

hub-smoke: $(STAMP) $(CHP_STAMP)
	$(PY) -m tools.hub_smoke

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info artifacts
