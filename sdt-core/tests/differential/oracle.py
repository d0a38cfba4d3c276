"""The Python side of sdt-core's differential harness (tests/differential/harness.rs).

Reads JSON lines from stdin, one case each, and writes one JSON line per case to stdout, in order:
  {"p": path, "d": document}       -> jsonpath_ng.ext.parse(path).find(document) values
  {"t": template, "v": variables}  -> template.format(**variables)
Answers are {"ok": [values...]} / {"ok": "text"}, {"err": "ExceptionClass"}, or
{"skip": why} when the answer has no JSON form (NaN, a Python object). One process serves a
whole batch: starting Python per case would cost more than the cases.
"""
import json
import sys
import warnings
from importlib.metadata import version

warnings.simplefilter("ignore")

from jsonpath_ng.ext import parse  # noqa: E402


def run(case):
    if "p" in case:
        try:
            values = [match.value for match in parse(case["p"]).find(case["d"])]
        except RecursionError:
            return {"err": "RecursionError"}
        except Exception as error:  # the class is what is compared
            return {"err": type(error).__name__}
        try:
            json.dumps(values, allow_nan=False)
        except (TypeError, ValueError) as error:
            return {"skip": f"unrepresentable: {error}"}
        return {"ok": values}
    try:
        return {"ok": case["t"].format(**case["v"])}
    except Exception as error:
        return {"err": type(error).__name__}


def main():
    out = sys.stdout
    # First line: what answers, so that the harness refuses another jsonpath-ng or Python.
    out.write(json.dumps({"jsonpath_ng": version("jsonpath-ng"), "python": sys.version.split()[0]}))
    out.write("\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        answer = run(json.loads(line))
        out.write(json.dumps(answer, ensure_ascii=False, allow_nan=False))
        out.write("\n")
    out.flush()


main()
