# The two set-up commands of the README: `make demo` and `make test`.
# Both create .venv if needed and install the package with its test extras (once: a stamp file
# records the install, so later runs are quick), then run.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
GROK := $(VENV)/bin/grok
STAMP := $(VENV)/.grokconsole-installed

.PHONY: demo test install clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(GROK) run --condition grokking --follow
	$(GROK) run --condition standard --follow
	$(GROK) ls
	@echo
	@echo "Watch runs live with:      $(GROK) watch"
	@echo "Export paper figures with: $(GROK) export-figures"

test: $(STAMP)
	$(PY) -m pytest -q

clean-venv:
	rm -rf $(VENV)
