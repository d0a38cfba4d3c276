"""The Python side of sdt-core's differential harness (tests/differential/harness.rs).

Reads JSON lines from stdin, one case each, and writes one JSON line per case to stdout, in order:
  {"p": path, "d": document}       -> jsonpath_ng.ext.parse(path).find(document) values
  {"t": template, "v": variables}  -> template.format(**variables)
Answers are {"ok": [values...]} / {"ok": "text"}, {"err": "ExceptionClass"}, or
{"skip": why} when the answer has no JSON form (NaN, a Python object). One process serves a
whole batch: starting Python per case would cost more than the cases.
"""
import json
import resource
import signal
import sys
import warnings
from importlib.metadata import version

warnings.simplefilter("ignore")

from jsonpath_ng.ext import parse  # noqa: E402


# Fuzz inputs include paths whose results grow exponentially (`$[0,0,0,0,0,0,0,0]` ten times):
# Python would run for hours or exhaust memory, where we stop at a documented limit. Such a
# case answers "skip" (not compared) after SECONDS or MEMORY.
SECONDS = 2
MEMORY = 2 << 30


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


signal.signal(signal.SIGALRM, _alarm)
resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run(case):
    """The answer as one JSON line."""
    try:
        signal.alarm(SECONDS)
        try:
            text = json.dumps(run_case(case), ensure_ascii=False, allow_nan=False)
        finally:
            # The alarm fires once: if it fires here, the handler below takes it.
            signal.alarm(0)
    except (Timeout, MemoryError) as error:
        text = '{"skip": "Python gave up: %s"}' % type(error).__name__
    return text


def run_case(case):
    if "p" in case:
        try:
            values = [match.value for match in parse(case["p"]).find(case["d"])]
        except (Timeout, MemoryError):
            raise
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
    except (Timeout, MemoryError):
        raise
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
        out.write(run(json.loads(line)))
        out.write("\n")
    out.flush()


main()
