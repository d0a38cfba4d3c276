#!/usr/bin/env bash
# Prints the python of a venv with the CloudEvents Python SDK (PyPI `cloudevents`), creating
# it once under ${AAS_RS_CACHE:-~/.cache/aas-rs}. The events interop tests read our
# CloudEvents with it.
set -euo pipefail
venv="${AAS_RS_CACHE:-$HOME/.cache/aas-rs}/venv-events"
version="2.2.0"
if [ ! -f "$venv/.cloudevents-$version" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "cloudevents==$version" >&2
  touch "$venv/.cloudevents-$version"
fi
echo "$venv/bin/python"
