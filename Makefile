# The two commands: `make run` opens the window, `make test` runs ruff and the tests.
# Both create or update .venv in the repo and are idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Qt's runtime libraries, missing on a bare Debian machine.
QT_LIBS := libglib-2.0.so.0 libGL.so.1 libEGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3
QT_PKGS := libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3
LDCONFIG := $(shell command -v ldconfig 2>/dev/null || echo /sbin/ldconfig)

.PHONY: run test venv qt-libs lint bench clean

run: venv qt-libs
	$(PY) main.py $(ARGS)

test: lint qt-libs
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

venv: $(STAMP)

$(PY):
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not create $(VENV) with $(PYTHON). On Debian, as root: apt-get install -y python3-venv"; exit 1; }

# Reinstalled only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

qt-libs:
	@missing=""; for lib in $(QT_LIBS); do \
	  $(LDCONFIG) -p 2>/dev/null | grep -q "$$lib" || missing="$$missing $$lib"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Qt's system libraries (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(QT_PKGS) >/dev/null; \
	  else \
	    echo "Qt needs system libraries that are missing:$$missing. As root, run:"; \
	    echo "apt-get install -y --no-install-recommends $(QT_PKGS)"; \
	    exit 1; \
	  fi; \
	fi

bench: venv
	$(PY) benchmarks/bench_training.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
