# Thin wrappers over dev.py, which needs nothing but Python 3.11+.
PY ?= python3
PG ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: dev demo check test test-pg bench migrate

dev:        ## install Tocsin and the dev tools into .venv
	$(PY) dev.py tocsin version
	$(PY) dev.py check >/dev/null || true

demo:       ## populated demo instance on embedded SQLite
	$(PY) dev.py demo

check:      ## ruff format, ruff check, mypy --strict, import-linter
	$(PY) dev.py check

test:       ## the whole suite (PostgreSQL and Chromium parts skip with a reason when absent)
	$(PY) dev.py test

test-pg:    ## the suite with PostgreSQL required
	TOCSIN_TEST_POSTGRES_URL=$(PG) $(PY) dev.py test

bench:      ## benchmarks; results in bench/results/*.json
	$(PY) dev.py bench

migrate:    ## upgrade the configured database
	$(PY) dev.py tocsin db upgrade
