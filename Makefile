.PHONY: run test setup lint

run:            ## set up and run the whole system on the embedded default
	scripts/run.sh

test:           ## set up and run every check and test (both backends)
	scripts/test.sh

setup:
	scripts/setup.sh

lint:
	.venv/bin/ruff check backend bench && .venv/bin/ruff format --check backend bench && .venv/bin/mypy backend/src
