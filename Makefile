# The two commands: `make run` and `make test`. Everything else is optional.
.PHONY: run test setup watch release help
.DEFAULT_GOAL := help

run: ## Install what is missing, build, and serve at http://localhost:3000
	@scripts/run.sh

test: ## Install what is missing, then run the Rust and Playwright tests
	@scripts/test.sh

setup: ## Only install the tools (WASM target, cargo-leptos, wasm-bindgen, Chromium, npm packages)
	@scripts/setup.sh --test

watch: ## Development server with live reload
	@scripts/setup.sh && cargo leptos watch --split

release: ## The release build to deploy (optimised, content-hashed, precompressed)
	@scripts/release.sh

help:
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'
