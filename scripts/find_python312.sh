#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter (every-eval-ever's floor): $EEE_PYTHON if set, else
# python3.13/python3.12 on PATH, else the newest 3.12+ that pyenv has installed. Exit 1 if none.
set -euo pipefail
ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }
if [ -n "${EEE_PYTHON:-}" ]; then
  ok "$EEE_PYTHON" && { command -v "$EEE_PYTHON"; exit 0; }
  echo "EEE_PYTHON=$EEE_PYTHON is not a Python >= 3.12" >&2; exit 1
fi
for name in python3.13 python3.12; do
  if command -v "$name" >/dev/null 2>&1 && ok "$(command -v "$name")"; then command -v "$name"; exit 0; fi
done
root=$( (command -v pyenv >/dev/null 2>&1 && pyenv root) || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for candidate in $(ls -d "$root"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V); do
  ok "$candidate" && { echo "$candidate"; exit 0; }
done
echo "no Python >= 3.12 found (looked at EEE_PYTHON, python3.13/python3.12 on PATH, $root/versions)" >&2
exit 1
