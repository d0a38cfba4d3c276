#!/usr/bin/env python3
"""Writes BaSyx Python 2.2's example data with BaSyx's own writers, for our readers to read.

Usage: basyx22_write_examples.py OUT_DIR

BaSyx 2.2 (PyPI `basyx-python-sdk==2.2.0`, AAS V3.1) builds its example data in
`basyx.aas.examples.data`; for each example (see EXAMPLES in basyx22_check_examples.py) this
writes into OUT_DIR:
  NAME.json       `write_aas_json_file`
  NAME.xml        `write_aas_xml_file` (namespace https://admin-shell.io/aas/3/1)
  NAME.xml.aasx   `AASXWriter`, XML spec part, with BaSyx's TestFile.pdf as the supplementary
                  file `/TestFile.pdf` that two examples' File elements name
  NAME.json.aasx  the same with a JSON spec part
and prints one line per file written: `NAME<TAB>FILE`, after `basyx<TAB>VERSION` (the
installed basyx-python-sdk) and `pdf<TAB>PATH` (BaSyx's own `examples/data/TestFile.pdf`, the
supplementary file's bytes).
"""

import importlib.metadata
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from basyx.aas.adapter import aasx  # noqa: E402
from basyx.aas.adapter import json as basyx_json  # noqa: E402
from basyx.aas.adapter import xml as basyx_xml  # noqa: E402
from basyx.aas.examples.data import TEST_PDF_FILE  # noqa: E402

from basyx22_check_examples import EXAMPLES, SUPPLEMENTARY_FILE  # noqa: E402


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    print(f"basyx\t{importlib.metadata.version('basyx-python-sdk')}")
    print(f"pdf\t{TEST_PDF_FILE}")
    for name, (create, _check) in EXAMPLES.items():
        objects = create()
        path = os.path.join(out_dir, f"{name}.json")
        with open(path, "w", encoding="utf-8") as f:
            basyx_json.write_aas_json_file(f, objects)
        print(f"{name}\t{path}")
        path = os.path.join(out_dir, f"{name}.xml")
        with open(path, "wb") as f:
            basyx_xml.write_aas_xml_file(f, objects)
        print(f"{name}\t{path}")
        for write_json, suffix in ((False, "xml"), (True, "json")):
            files = aasx.DictSupplementaryFileContainer()
            with open(TEST_PDF_FILE, "rb") as pdf:
                stored = files.add_file(SUPPLEMENTARY_FILE, pdf, "application/pdf")
            assert stored == SUPPLEMENTARY_FILE, stored
            path = os.path.join(out_dir, f"{name}.{suffix}.aasx")
            # failsafe=False: a File whose supplementary file is missing is an error, not a
            # warning in a log no one reads.
            with aasx.AASXWriter(path, failsafe=False) as writer:
                writer.write_all_aas_objects(
                    f"/aasx/data.{suffix}", objects, files, write_json=write_json
                )
            print(f"{name}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
