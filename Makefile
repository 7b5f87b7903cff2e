# pulsecoach developer tasks. Every target installs into $(VENV) first when needed.

VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench clean distclean

install: $(STAMP)

# Re-installed whenever pyproject.toml changes (or the virtualenv is gone).
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: python3.11 (or python3) not found" >&2; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -e '.[dev]'
	touch $@

demo: $(STAMP)
	$(VENV)/bin/pulsecoach demo

# pytest's exit code is passed on as is: 5 ("no tests collected") fails the build.
test: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	@if [ -d bench ]; then \
		$(VENV)/bin/python -m bench; \
	else \
		echo "no bench/ directory: nothing to run"; \
	fi

# Caches and build output; `distclean` also removes the virtualenv.
clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist
	find . -name __pycache__ -type d -not -path '*/site-packages/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
