#!/usr/bin/env bash
# Checks deploy/ as far as this machine can without a Docker engine:
# compose.yaml parses and wires the services as intended, and the Dockerfile
# builds with the same command as `make build`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

fail() { echo "deploy/check.sh: FAIL: $*" >&2; exit 1; }

# 1. The Dockerfile's build command is the Makefile's.
make_build="$(make -s -n --no-print-directory build | grep -E '^cargo build ' || true)"
[[ -n "$make_build" ]] || fail "no 'cargo build' line in 'make -n build'"
grep -qF "$make_build" deploy/Dockerfile || fail "deploy/Dockerfile does not run '$make_build'"
echo "ok: Dockerfile and Makefile build with: $make_build"

# 2. The builder image's Rust is the toolchain used here (major.minor).
local_rust="$(rustc --version | awk '{print $2}' | cut -d. -f1,2)"
grep -qE "^FROM rust:${local_rust//./\\.}-bookworm AS builder" deploy/Dockerfile ||
  fail "Dockerfile builder is not rust:${local_rust}-bookworm"
grep -qx 'ENTRYPOINT \["steward"\]' deploy/Dockerfile || fail "ENTRYPOINT is not [\"steward\"]"
grep -qx 'EXPOSE 50051' deploy/Dockerfile || fail "EXPOSE 50051 missing"
grep -qE '^USER (steward|[1-9][0-9]*)' deploy/Dockerfile || fail "runtime user is not non-root"
grep -qx 'target/' .dockerignore || fail ".dockerignore must exclude target/"
echo "ok: Dockerfile (rust:${local_rust}-bookworm, non-root, EXPOSE 50051, ENTRYPOINT steward)"

# 3. compose.yaml parses and is wired as intended.
python3 -c 'import yaml' 2>/dev/null ||
  python3 -m pip install --quiet --disable-pip-version-check 'PyYAML>=6'
python3 - deploy/compose.yaml <<'PY'
import os, sys
from urllib.parse import urlparse
import yaml

path = sys.argv[1]
with open(path) as f:
    doc = yaml.safe_load(f)

def check(cond, msg):
    if not cond:
        sys.exit(f"deploy/check.sh: FAIL: {path}: {msg}")

svcs = doc.get("services", {})
check({"postgres", "mailpit", "steward"} <= set(svcs), "services postgres, mailpit, steward expected")
pg, mp, st = svcs["postgres"], svcs["mailpit"], svcs["steward"]
check(str(pg.get("image", "")).startswith("postgres:15"), "postgres image must be postgres:15")
check("healthcheck" in pg, "postgres needs a healthcheck")
check(str(mp.get("image", "")).startswith("axllent/mailpit"), "mailpit image must be axllent/mailpit")

build = st.get("build", {})
ctx = os.path.normpath(os.path.join(os.path.dirname(path), build.get("context", ".")))
check(os.path.samefile(ctx, "."), f"steward build context {ctx} is not the repository root")
check(os.path.isfile(os.path.join(ctx, build.get("dockerfile", "Dockerfile"))), "steward dockerfile not found")
check(st.get("depends_on", {}).get("postgres", {}).get("condition") == "service_healthy",
      "steward must depend on a healthy postgres")

env = st.get("environment", {})
known = {"STEWARD_LISTEN", "STEWARD_DATABASE_URL", "STEWARD_SMTP_URL", "STEWARD_MAIL_DIR",
         "STEWARD_MAIL_FROM", "STEWARD_SECRET_KEY", "STEWARD_SECRET_KEY_FILE",
         "STEWARD_ALLOWED_EMAIL_DOMAINS", "STEWARD_LOG_FORMAT",
         "STEWARD_BOOTSTRAP_ADMIN_USERNAME", "STEWARD_BOOTSTRAP_ADMIN_EMAIL"}
check(not set(env) - known, f"unknown variables {sorted(set(env) - known)}")
db = urlparse(env.get("STEWARD_DATABASE_URL", ""))
check(db.scheme == "postgres" and db.hostname == "postgres", "STEWARD_DATABASE_URL must point at the postgres service")
check((db.username, db.password, db.path.lstrip("/")) ==
      (pg["environment"]["POSTGRES_USER"], pg["environment"]["POSTGRES_PASSWORD"], pg["environment"]["POSTGRES_DB"]),
      "STEWARD_DATABASE_URL credentials/database differ from the postgres service's")
smtp = urlparse(env.get("STEWARD_SMTP_URL", ""))
check(smtp.hostname == "mailpit" and smtp.port == 1025, "STEWARD_SMTP_URL must be smtp://mailpit:1025")
check(("STEWARD_SECRET_KEY" in env) != ("STEWARD_SECRET_KEY_FILE" in env),
      "exactly one of STEWARD_SECRET_KEY / STEWARD_SECRET_KEY_FILE")
if "STEWARD_SECRET_KEY_FILE" in env:
    name = os.path.basename(env["STEWARD_SECRET_KEY_FILE"])
    check(name in st.get("secrets", []) and name in doc.get("secrets", {}),
          f"secret {name} must be declared and given to steward")
print("ok: compose.yaml parses; postgres (healthy) -> steward <- mailpit wired")
PY
echo "deploy/check.sh: all checks passed"
