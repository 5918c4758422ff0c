# The two commands of the README. Both create .venv on first use.
PY := .venv/bin/python
STAMP := .venv/.mmppm-installed

.PHONY: toy test lint format

$(STAMP): requirements/constraints.txt requirements/runtime.txt requirements/tests.txt requirements/webui.txt requirements/lint.txt setup.py tools/install.sh
	bash tools/install.sh
	touch $@

# Main job: toy data + tiny offline SD (generated if absent) -> toy test run.
toy: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) tools/run_toy.py

# Test suite.
test: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) -m pytest tests -q

# Lint and format gate (OpenMMLab's flake8 + isort + yapf, settings in
# setup.cfg, and the layer contracts of mmppm/, setup.cfg [importlinter]):
# fails on any finding; `make format` applies isort and yapf.
LINT_PATHS := $(wildcard setup.py mmppm tools tests configs demo projects)
lint: $(STAMP)
	.venv/bin/flake8 $(LINT_PATHS)
	.venv/bin/isort --check-only --diff $(LINT_PATHS)
	.venv/bin/yapf --recursive --diff $(LINT_PATHS)
	.venv/bin/lint-imports --config setup.cfg --no-cache

format: $(STAMP)
	.venv/bin/isort $(LINT_PATHS)
	.venv/bin/yapf --recursive --in-place $(LINT_PATHS)
