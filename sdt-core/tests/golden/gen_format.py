"""Generates format_cases.json: str.format(**variables) outputs of CPython for the golden test
of sdt-core's Python template engine. Run with CPython 3.11:

    python3 sdt-core/tests/golden/gen_format.py > sdt-core/tests/golden/format_cases.json

Each case: {"template", "variables" (JSON), "output"} or {"template", "variables", "error"}
(the exception class name).
"""
import json
import sys

values = {
    "s": "ab", "long": "abcdef", "empty": "", "quote": "it's", "both": "it's \"x\"", "uni": "héllo ✓",
    "nl": "a\nb\tc\\", "i": 5, "neg": -42, "zero": 0, "big": 1234567, "huge": 12345678901234567890,
    "f": 3.14159, "nf": -2.5, "f0": 0.0, "nz": -0.0, "whole": 100.0, "tiny": 1.5e-7, "large": 1e16,
    "r": 0.1 + 0.2, "pct": 0.256, "t": True, "fa": False, "none": None, "lst": [1, "a", None, True, 2.5],
    "obj": {"a": 1, "b": "x", "c": [1, 2]}, "nested": {"d": {"k": "v"}, "l": [10, 20]}, "w": 8, "p": 3,
}

templates = []
# Plain fields of every value, and the conversions.
for name in values:
    templates += ["{%s}" % name, "{%s!r}" % name, "{%s!s}" % name, "{%s!a}" % name]
# Format specs by kind.
string_specs = ["", "s", ">8", "<8", "^8", "*^9", "-<6", ".3", "10.2", "^", "0>5", "=8", "+", ",", "#", "d"]
int_specs = ["", "d", "+d", " d", "5d", "05d", "<5", "^7", "=+8", "*>8", ",", "_", ",d", "x", "X", "#x", "#X",
             "o", "#o", "b", "#b", "_b", "08b", "c", "e", ".2e", "f", ".1f", "%", "g", "G", "n", ".2", "s", "z"]
float_specs = ["", "f", ".2f", ".0f", "#.0f", "08.3f", "+.1f", " f", "e", ".3e", "E", "g", ".3g", "#g", "G", "%",
               ".1%", ",", ",.2f", "_.1f", "10", "<10", "^12.4", "=+10.2f", ".2", ".1", "z.1f", "d", "n", ".10g",
               "x", "s", ".0e", ".0%"]
for name in ["s", "long", "empty", "uni"]:
    templates += ["{%s:%s}" % (name, spec) for spec in string_specs]
for name in ["i", "neg", "zero", "big", "huge", "t"]:
    templates += ["{%s:%s}" % (name, spec) for spec in int_specs]
for name in ["f", "nf", "f0", "nz", "whole", "tiny", "large", "r", "pct"]:
    templates += ["{%s:%s}" % (name, spec) for spec in float_specs]
for name in ["none", "lst", "obj"]:
    templates += ["{%s:}" % name, "{%s:>10}" % name, "{%s!s:>20}" % name, "{%s!r:^30}" % name]
# Field names, nesting, escapes, errors.
templates += [
    "{nested[d][k]}", "{nested[l][1]}", "{nested[l][5]}", "{obj[a]}", "{obj[zz]}", "{lst[0]}", "{lst[-1]}",
    "{obj.a}", "{missing}", "{0}", "{}", "{f:{w}.{p}f}", "{s:>{w}}", "{s:{w}}", "{{literal}}", "{{{s}}}",
    "a }} b {{ c", "}", "{", "{s", "{s!x}", "{s!}", "x {s} y {i} z", "{i:d} items at {f:.2f} each", "{ s }",
    "{s:>8}|{i:<4}|{f:^9.2f}|", "{\"coordX\":{f},\"coordY\":{i}}", "{{\"coordX\":{f},\"coordY\":{i},\"coordZ\":{neg}}}",
    "{\"on\":{t}}", "{t}{fa}{none}", "{s:%Y}", "{i:,.2f}", "{f:,d}", "{s:=<8}", "{i:=<8}", "{i:0=8}", "{nf:010.2f}",
]
cases = []
for template in templates:
    try:
        cases.append({"template": template, "variables": values, "output": template.format(**values)})
    except Exception as error:  # the class of error is what we compare
        cases.append({"template": template, "variables": values, "error": type(error).__name__})
# The variables are the same for every case: keep them once.
json.dump({"python": sys.version.split()[0], "variables": values,
           "cases": [{k: v for k, v in c.items() if k != "variables"} for c in cases]},
          sys.stdout, indent=1, ensure_ascii=False)
print()
