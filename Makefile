# The two README commands: `make` (the whole reproduction) and `make test` (what CI runs).
#   make                    default CPU profile: environment, dataset, 3 searches, final
#                           training, notebooks, HTML book (book/_build/html/index.html)
#   make PROFILE=paper      the paper's budget (GPU); PROFILE=smoke for a minutes-long check
PROFILE ?= cpu
VENV    := .venv

.PHONY: all env test book

all: env
	$(VENV)/bin/hofvsr reproduce --profile $(PROFILE)

env:
	python3 tools/setup_env.py

test: env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest

book: env
	$(VENV)/bin/hofvsr reproduce --profile $(PROFILE) --only 03 04 06
