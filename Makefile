# The two commands of the README. Both create .venv on first use.
PY := .venv/bin/python
STAMP := .venv/.mmppm-installed

.PHONY: toy test

$(STAMP): requirements/constraints.txt requirements/runtime.txt requirements/tests.txt requirements/webui.txt setup.py tools/install.sh
	bash tools/install.sh
	touch $@

# Main job: toy data + tiny offline SD (generated if absent) -> toy test run.
toy: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) tools/run_toy.py

# Test suite.
test: $(STAMP)
	HF_HUB_OFFLINE=1 $(PY) -m pytest tests -q
