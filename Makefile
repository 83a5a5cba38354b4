# The two README commands: `make` (the whole reproduction) and `make test` (what CI runs).
#   make                    default CPU profile: environment, dataset, 3 searches, final
#                           training, notebooks, HTML book (book/_build/html/index.html)
#   make PROFILE=paper      the paper's budget (GPU); PROFILE=smoke for a minutes-long check
#   make remote-check       a smoke search whose trials NNI runs over SSH (local sshd)
PROFILE ?= cpu
VENV    := .venv

.PHONY: all env test book remote-check

all: env
	$(VENV)/bin/hofvsr reproduce --profile $(PROFILE)

env:
	python3 tools/setup_env.py

test: env
	-sh tools/install_sshd.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -m "not reproduction" --durations=25
	$(VENV)/bin/python -m pytest -m reproduction --durations=5

# NNI's remote (SSH) training service against a throw-away sshd on 127.0.0.1
remote-check: env
	-sh tools/install_sshd.sh
	$(VENV)/bin/python -m pytest tests/test_remote.py -v -rs

book: env
	$(VENV)/bin/hofvsr reproduce --profile $(PROFILE) --only 03 04 06
