.PHONY: run test setup lint

run:            ## set up and run the whole system on the embedded default
	scripts/run.sh

test:           ## set up and run every check and test (both backends)
	scripts/test.sh

setup:
	scripts/setup.sh

lint:           ## the pre-commit hooks on every file: ruff, mypy, import-linter, the portal's ESLint, Prettier and tsc
	@[ -x .venv/bin/pre-commit ] && [ -d portal/node_modules ] || scripts/setup.sh
	.venv/bin/pre-commit run --all-files --show-diff-on-failure
