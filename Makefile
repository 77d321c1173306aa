# postroom: `make demo` runs the whole pipeline on sample post; `make test` runs every check.
# Both install what is missing first: Debian packages (apt, as root or through sudo) and the
# Python environment (uv, bootstrapped into .tools/ because Debian's Python refuses pip, PEP 668).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
# Trust the system's CA store (which an organisation's TLS-inspecting proxy CA is added to).
export UV_NATIVE_TLS := 1
CA_BUNDLE := $(wildcard /etc/ssl/certs/ca-certificates.crt)
# The environment's packages are compiled to bytecode once, when uv installs them (importing
# Prefect from source costs ~2.8 s per process, ~1.1 s from bytecode); the project's own modules
# are not cached in __pycache__ beside the sources.
export UV_COMPILE_BYTECODE := 1
export PYTHONDONTWRITEBYTECODE := 1

APT_PACKAGES := tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng tesseract-ocr-osd \
	fonts-dejavu-core fonts-liberation2 chromium libatomic1 postgresql-15
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
TOOLS := .tools
UV := $(TOOLS)/bin/uv
BIN := .venv/bin
DEMO_DIR := build/demo-post
DEMO_COUNT ?= 12
DEMO_SEED ?= $(shell date +%s)

.PHONY: help install system-packages python-env demo test lint typecheck pytest stop clean

help:
	@echo "make demo   install, start the local stack, process $(DEMO_COUNT) sample letters"
	@echo "make test   install, then ruff, mypy and the whole pytest suite"
	@echo "make stop   stop the local stack (postroom down)"

install: system-packages python-env

system-packages:
	@missing=""; for pkg in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q "install ok installed" \
	    || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  case "$$missing" in *postgresql*) \
	  if ! grep -qs '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then \
	    echo "  (PostgreSQL without a main cluster: the tests start throwaway clusters of their own)"; \
	    $(SUDO) mkdir -p /etc/postgresql-common; \
	    echo "create_main_cluster = false" | $(SUDO) tee -a /etc/postgresql-common/createcluster.conf >/dev/null; \
	  fi;; esac; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check $(if $(CA_BUNDLE),--cert $(CA_BUNDLE)) uv

python-env: $(UV)
	$(UV) sync --frozen --quiet --python python3

demo: install
	$(BIN)/postroom up
	rm -rf $(DEMO_DIR)
	$(BIN)/postroom samples $(DEMO_DIR) --count $(DEMO_COUNT) --seed $(DEMO_SEED)
	$(BIN)/postroom drop --prefix scanner-1/ $$(find $(DEMO_DIR) -type f ! -name truth.jsonl | sort)
	$(BIN)/postroom process
	@echo
	@echo "The stack keeps running: watch it at http://127.0.0.1:4200 (Prefect UI)."
	@echo "Search the records at http://127.0.0.1:8040 (the token: $(BIN)/postroom status)."
	@echo "Letters the machine was unsure of wait for you: $(BIN)/postroom review list"
	@echo "  (answer in the Prefect UI: open the run, 'Resume', fill in the form)"
	@echo "Records: $(BIN)/postroom records list   Stop: make stop"

stop:
	$(BIN)/postroom down

# Each phase is timed; the summary is printed even when a phase fails.
test:
	@phase() { local name=$$1; shift; local t0=$$SECONDS; echo "== $$name"; \
	  if "$$@"; then times+=("$$name: $$((SECONDS - t0)) s"); \
	  else rc=$$?; times+=("$$name: FAILED after $$((SECONDS - t0)) s"); summary; exit $$rc; fi; }; \
	summary() { echo; echo "== phase times"; printf '   %s\n' "$${times[@]}"; }; \
	times=(); \
	phase install $(MAKE) --no-print-directory install; \
	phase ruff bash -c "$(BIN)/ruff check . && $(BIN)/ruff format --check ."; \
	phase mypy $(BIN)/mypy; \
	phase pytest $(BIN)/pytest; \
	summary

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest

clean:
	rm -rf build .mypy_cache .ruff_cache .pytest_cache

# The OCR benchmark (bench/ocr.py): postroom end to end, its OCR step alone, raw tesseract and
# OCRmyPDF 17 on the same generated letters. OCRmyPDF gets a venv of its own under .bench/ (never
# in postroom's environment) and needs Ghostscript from Debian.
BENCH_OCR_PAGES ?= 100
OCRMYPDF_VENV := .bench/ocrmypdf

.PHONY: bench-ocr
bench-ocr: install $(OCRMYPDF_VENV)/bin/ocrmypdf
	$(BIN)/python bench/ocr.py --pages $(BENCH_OCR_PAGES)

$(OCRMYPDF_VENV)/bin/ocrmypdf: | $(UV)
	@dpkg-query -W -f='$${Status}' ghostscript 2>/dev/null | grep -q "install ok installed" || { \
	  echo "installing Debian package: ghostscript"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends ghostscript; }
	$(UV) venv --quiet --allow-existing --python python3 $(OCRMYPDF_VENV)
	$(UV) pip install --quiet --python $(OCRMYPDF_VENV)/bin/python "ocrmypdf>=17,<18"

# The classification evaluation (bench/classify.py): rules, rules + model, a few-shot model and an
# MLP baseline on OCR'd letters whose wording was held out of training (OCR cached in .bench/).
.PHONY: bench-classify
bench-classify: install
	$(BIN)/python bench/classify.py
