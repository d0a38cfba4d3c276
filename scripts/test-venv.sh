#!/usr/bin/env bash
# Prints the python of a venv with the Python peers the tests use, creating it once under
# ${AAS_RS_CACHE:-~/.cache/aas-rs}: the CloudEvents SDK (PyPI `cloudevents`, reads our
# CloudEvents), moto's S3 server (PyPI `moto[server]`, the S3 target's tests), jsonpath-ng
# 1.16 (sdt-core/tests/golden/gen_jsonpath.py makes the JSONPath golden file with it) and
# BaSyx Python 2.2 (PyPI `basyx-python-sdk`, a V3.1 release: tests/tests/basyx22_interop.rs
# exchanges its example data with it; the oracle venv of ../shared/tools keeps basyx 2.0.1,
# V3.0), and aas-python-http-client 1.0.3 (PyPI, the Part 2 client generated from IDTA's
# OpenAPI: reference-server/tests/clients/crud_flow.py drives the server through it; it requires
# basyx-python-sdk unpinned, which the pin above holds at 2.2.0). The five install side by side
# without a conflict.
#
# A new package list is installed over the venv in place (pip moves pinned versions either
# way) rather than into a new one: worktrees of other branches share this venv, and removing
# it under them would break their running tests; each list leaves its own stamp.
set -euo pipefail
venv="${AAS_RS_CACHE:-$HOME/.cache/aas-rs}/venv-tests"
packages=("cloudevents==2.2.0" "moto[server]==5.2.5" "jsonpath-ng==1.16.0" "basyx-python-sdk==2.2.0"
  "aas-python-http-client==1.0.3")
stamp="$venv/.installed-$(echo "${packages[*]}" | md5sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  [ -x "$venv/bin/pip" ] || { rm -rf "$venv"; python3 -m venv "$venv" >&2; }
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}" >&2
  touch "$stamp"
fi
echo "$venv/bin/python"
