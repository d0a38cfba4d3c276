#!/usr/bin/env python3
"""Writes AASX packages with basyx-python-sdk, for our reader to read.

Usage: basyx_write_aasx.py OUT_DIR JSON_FILE...

For every JSON file that basyx reads strictly, writes into OUT_DIR (named by the input's
position in the argument list):
  N.xml.aasx   basyx's package with an XML spec part
  N.json.aasx  basyx's package with a JSON spec part
  N.json       basyx's own JSON of the same objects
  N.xml        basyx's own XML of the same objects
(basyx rewrites some values, and writes defaults such as `kind` in XML but not in JSON, so a
package is compared with basyx's own plain file of the same format, not with the input)
and prints `N<TAB>INPUT<TAB>OK` (or `SKIPPED <reason>` when basyx cannot read the input).
"""

import os
import sys

from basyx.aas.adapter import aasx
from basyx.aas.adapter import json as basyx_json
from basyx.aas.adapter import xml as basyx_xml


def main() -> int:
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for n, path in enumerate(sys.argv[2:]):
        try:
            with open(path, encoding="utf-8-sig") as f:
                objects = basyx_json.read_aas_json_file(f, failsafe=False)
        except Exception as e:  # basyx raises many kinds of errors
            print(f"{n}\t{path}\tSKIPPED {type(e).__name__}")
            continue
        files = aasx.DictSupplementaryFileContainer()
        for write_json, suffix in ((False, "xml"), (True, "json")):
            with aasx.AASXWriter(os.path.join(out_dir, f"{n}.{suffix}.aasx")) as writer:
                writer.write_all_aas_objects(f"/aasx/data.{suffix}", objects, files, write_json=write_json)
        with open(os.path.join(out_dir, f"{n}.json"), "w", encoding="utf-8") as f:
            basyx_json.write_aas_json_file(f, objects)
        with open(os.path.join(out_dir, f"{n}.xml"), "wb") as f:
            basyx_xml.write_aas_xml_file(f, objects)
        print(f"{n}\t{path}\tOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
