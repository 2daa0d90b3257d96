# OCR Lab: `make lab` opens the course, `make test` runs every test. Both create .venv on first use.
VENV   ?= .venv
PYTHON ?= python3
STAMP  := $(VENV)/.installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# CPU=1: PyTorch's CPU-only wheels (a few hundred MB) instead of the multi-GB CUDA build, on Linux without a GPU
CPU    ?=
PIP_EXTRA := $(if $(filter 1,$(CPU)),--extra-index-url https://download.pytorch.org/whl/cpu,)

.PHONY: lab test test-fast clean-venv

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install $(PIP_EXTRA) -r requirements.txt
	touch $(STAMP)

lab: $(STAMP)  ## install (first time) and open the course in JupyterLab, in your own copy (workspace/)
	mkdir -p workspace
	cp -n notebooks/*.ipynb workspace/  # new notebooks arrive; a notebook you have edited is never overwritten
	cd workspace && ../$(VENV)/bin/jupyter lab $(ROOT_FLAG) 00_welcome.ipynb

test: $(STAMP)  ## install (first time) and run unit tests, notebooks (quick mode) and the browser test
	OCRLAB_QUICK=1 OCRLAB_PROGRESS=0 $(VENV)/bin/pytest

test-fast: $(STAMP)  ## unit tests only
	OCRLAB_QUICK=1 $(VENV)/bin/pytest tests -m "not browser"

clean-venv:
	rm -rf $(VENV)
