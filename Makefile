# Two commands: `make run` and `make test`. Everything else is a detail of those.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# Every dependency, pinned with its hashes for every platform (`make lock` updates it).
LOCK := requirements.lock

.PHONY: run serve test lint typecheck layers lock bench bench-web db-stop backup restore clean

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(PY) || { python=$$(bin/find-python) && "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# After changing the dependencies in pyproject.toml: pin them again, with hashes.
lock:
	test -x $(BIN)/uv || $(PY) -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.12 \
		--generate-hashes --quiet -o $(LOCK)

# The demo, DEBUG off (config/settings/dev.py); `PORT=8001 make run` when 8000 is taken.
run: $(STAMP)
	bin/run

serve: $(STAMP)
	bin/serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy with django-stubs over config, consent and offers (settings in pyproject.toml);
# incremental, its cache in .mypy_cache/.
typecheck: $(STAMP)
	$(BIN)/mypy

# The layers as code: each app imports only those below it (contracts in pyproject.toml,
# the picture in docs/architecture.md).
layers: $(STAMP)
	$(BIN)/lint-imports --no-cache

test: lint typecheck layers
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
		$(PY) manage.py check --deploy --fail-level WARNING
	# Far from UTC (Chatham Islands, UTC+13:45 in summer): a naive date or hour shows.
	TZ=Pacific/Chatham $(BIN)/pytest

# About 15 minutes on 2 cores (README, Benchmarks): the engine at three scales, the web
# tier under load, CPU per page against the floor, choices at saturation.
bench: $(STAMP)
	$(PY) -m bench
	$(PY) -m bench.web
	$(PY) -m bench.cpu --prepare
	$(PY) -m bench.choices

bench-web: $(STAMP)
	$(PY) -m bench.web

# The database, the ledger's keys and the checkpoint files, into backups/<time>/.
backup: $(STAMP)
	$(PY) manage.py backup

# Put a backup back (stop the app first): make restore FROM=backups/backup-…
restore: $(STAMP)
	@test -n "$(FROM)" || { echo "usage: make restore FROM=backups/backup-<time>"; exit 2; }
	$(PY) manage.py restore "$(FROM)" --yes

db-stop: $(STAMP)
	$(PY) -c 'from infra.database import embedded_server; embedded_server().stop()' || true

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache staticfiles
