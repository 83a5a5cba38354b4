# The two README commands: `make` (the whole reproduction, default CPU profile) and `make test`.
PROFILE ?= cpu
VENV    := .venv
PY      := $(VENV)/bin/python

.PHONY: all env test lint

all: env
	$(VENV)/bin/hofvsr info

env:
	python3 tools/setup_env.py

test: env
	$(VENV)/bin/ruff check .
	$(PY) -m pytest
