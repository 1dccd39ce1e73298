# Two commands: `make run` and `make test`. Everything else is a detail of those.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: run serve test lint bench bench-web db-stop clean

$(STAMP): pyproject.toml
	@test -x $(PY) || { python=$$(bin/find-python) && "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	bin/ensure-keys
	$(PY) manage.py migrate --no-input
	$(PY) manage.py load_demo --if-empty
	@echo "Serving on http://127.0.0.1:8000 (Ctrl-C stops)"
	$(PY) manage.py runserver 127.0.0.1:8000

serve: $(STAMP)
	bin/serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
		$(PY) manage.py check --deploy --fail-level WARNING
	$(BIN)/pytest

bench: $(STAMP)
	$(PY) -m bench
	$(PY) -m bench.web

bench-web: $(STAMP)
	$(PY) -m bench.web

db-stop: $(STAMP)
	$(PY) -c 'from config.database import embedded_server; embedded_server().stop()' || true

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
