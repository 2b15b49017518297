# `make run` and `make test` do all the set-up on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
# The CPU build of torch; a plain `torch` requirement pulls a CUDA build of several GB. Override on other machines.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
# The browser tests drive Debian's Chromium; installed with apt when missing (as root, or with sudo).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# `qa add` reads scanned PDFs and pictures with Debian's Tesseract (English, Russian, Kazakh); the OCR tests draw their
# pages with DejaVu Sans.
TESSERACT := /usr/share/tesseract-ocr/5/tessdata/kaz.traineddata

.PHONY: install run test test-fast index eval lint clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY) $(TESSERACT)
	$(PIP) install --quiet --upgrade pip
	$(PIP) show torch >/dev/null 2>&1 || $(PIP) install --quiet "$(TORCH_SPEC)"
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver

$(TESSERACT):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-eng tesseract-ocr-rus \
		tesseract-ocr-kaz fonts-dejavu-core

index: $(STAMP)
	$(PY) -m qa index

run: $(STAMP)
	$(PY) -m qa index --if-needed
	$(PY) app.py

# Lint (ruff, mypy), then every test: the real model, the app in Chromium, the reference libraries.
test: lint $(CHROMIUM)
	$(PY) -m pytest -q

# The unit tests with the fixture corpus and word-hash encoder: no model, no browser, no process of their own.
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

eval: $(STAMP)
	$(PY) -m qa eval --split dev
	$(PY) -m qa eval --split test

lint: $(STAMP)
	$(VENV)/bin/ruff check qa qa_tools tests app.py
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) index/CURRENT index/build-*
