#!/usr/bin/env python3
"""Reads files with BaSyx Python 2.2 and compares them with BaSyx's own example objects.

Usage: basyx22_check_examples.py NAME=FILE...

NAME is one of the examples below; FILE is JSON, XML (namespace https://admin-shell.io/aas/3/1)
or AASX, by its extension. Each file is read strictly (`failsafe=False`: what BaSyx would only
log is an error) and compared with the objects the example's `create_*` function builds, by
BaSyx's own `AASDataChecker` (`basyx.aas.examples.data._helper`, through the example module's
`check_full_example` where it has one). Of a package, the supplementary files are also read:
each must hold BaSyx's TestFile.pdf, and an example whose File elements name
SUPPLEMENTARY_FILE must find it. Prints one line per file:
  FILE<TAB>OK<TAB>N checks
  FILE<TAB>FAIL<TAB>K of N checks failed: CHECK | CHECK ...
  FILE<TAB>ERROR<TAB>EXCEPTION: MESSAGE        (BaSyx could not read it)
and exits 0 when it could run at all (the caller judges the lines).
"""

import hashlib
import sys

from basyx.aas import model
from basyx.aas.adapter import aasx
from basyx.aas.adapter import json as basyx_json
from basyx.aas.adapter import xml as basyx_xml
from basyx.aas.examples.data import (
    TEST_PDF_FILE,
    create_example,
    example_aas,
    example_aas_mandatory_attributes,
    example_aas_missing_attributes,
    example_submodel_template,
)
from basyx.aas.examples.data._helper import AASDataChecker

# The path two examples' File elements give (`value="/TestFile.pdf"`).
SUPPLEMENTARY_FILE = "/TestFile.pdf"


def _template_store() -> model.DictIdentifiableStore:
    store: model.DictIdentifiableStore = model.DictIdentifiableStore()
    store.add(example_submodel_template.create_example_submodel_template())
    return store


def _check_all(checker: AASDataChecker, store: model.DictIdentifiableStore) -> None:
    # `create_example` (all four examples in one store) has no check function of its own;
    # the example modules' `check_full_example` do exactly this with their own store.
    checker.check_identifiable_store(store, create_example())


# name -> (what builds the example, BaSyx's check of a store against it)
EXAMPLES = {
    "full": (example_aas.create_full_example, example_aas.check_full_example),
    "mandatory": (
        example_aas_mandatory_attributes.create_full_example,
        example_aas_mandatory_attributes.check_full_example,
    ),
    "missing": (
        example_aas_missing_attributes.create_full_example,
        example_aas_missing_attributes.check_full_example,
    ),
    "template": (_template_store, example_submodel_template.check_full_example),
    "all": (create_example, _check_all),
}


def _names_supplementary_file(store: model.DictIdentifiableStore) -> bool:
    from basyx.aas.util import traversal

    for obj in store:
        if isinstance(obj, model.Submodel):
            for element in traversal.walk_submodel(obj):
                if isinstance(element, model.File) and element.value == SUPPLEMENTARY_FILE:
                    return True
    return False


def _read(path: str):
    """The objects of a file and, of a package, the problems of its supplementary files."""
    problems = []
    if path.endswith(".aasx"):
        store: model.DictIdentifiableStore = model.DictIdentifiableStore()
        files = aasx.DictSupplementaryFileContainer()
        with aasx.AASXReader(path, failsafe=False) as reader:
            reader.read_into(store, files)
        with open(TEST_PDF_FILE, "rb") as f:
            pdf_sha = hashlib.sha256(f.read()).digest()
        for name in files:
            if files.get_sha256(name) != pdf_sha:
                problems.append(f"supplementary file {name} is not TestFile.pdf")
        return store, files, problems
    if path.endswith(".json"):
        with open(path, encoding="utf-8-sig") as f:
            return basyx_json.read_aas_json_file(f, failsafe=False), None, problems
    if path.endswith(".xml"):
        with open(path, "rb") as f:
            return basyx_xml.read_aas_xml_file(f, failsafe=False), None, problems
    raise ValueError(f"unknown extension: {path}")


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    for arg in sys.argv[1:]:
        name, _, path = arg.partition("=")
        create, check = EXAMPLES[name]
        try:
            store, files, problems = _read(path)
        except Exception as e:  # BaSyx raises many kinds of errors
            message = " ".join(str(e).split())
            print(f"{path}\tERROR\t{type(e).__name__}: {message}")
            continue
        if files is not None and _names_supplementary_file(create()):
            if SUPPLEMENTARY_FILE not in files:
                problems.append(f"supplementary file {SUPPLEMENTARY_FILE} missing")
        checker = AASDataChecker(raise_immediately=False)
        check(checker, store)
        failed = [" ".join(repr(c).split()) for c in checker.failed_checks] + problems
        total = len(checker.checks) + len(problems)
        if failed:
            print(f"{path}\tFAIL\t{len(failed)} of {total} checks failed: {' | '.join(failed)}")
        else:
            print(f"{path}\tOK\t{total} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
