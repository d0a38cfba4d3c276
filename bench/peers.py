"""Times the peers (aas-core3.0-python, basyx-python-sdk) reading and writing the same files
as our crates; run by bench/peers.sh with the oracle venv's python. Prints one JSON line per
measurement: {"library", "format", "op", "seconds": [each run]}.

    python bench/peers.py <runs> <env.json> <env.xml> <env.aasx> <out dir>
"""
import json
import os
import sys
import time

import aas_core3.jsonization as core_json
import aas_core3.xmlization as core_xml
from basyx.aas import model
from basyx.aas.adapter import aasx
from basyx.aas.adapter import json as basyx_json
from basyx.aas.adapter import xml as basyx_xml

runs, json_path, xml_path, aasx_path, out = int(sys.argv[1]), *sys.argv[2:6]


def timed(library, fmt, op, action):
    seconds = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"library": library, "format": fmt, "op": op, "seconds": seconds}), flush=True)
    return result


def core_json_read():
    with open(json_path, encoding="utf-8") as f:
        return core_json.environment_from_jsonable(json.load(f))


def core_json_write(env):
    with open(os.path.join(out, "core.json"), "w", encoding="utf-8") as f:
        json.dump(core_json.to_jsonable(env), f)


def core_xml_write(env):
    with open(os.path.join(out, "core.xml"), "w", encoding="utf-8") as f:
        f.write(core_xml.to_str(env))


env = timed("aas-core3.0-python", "json", "read", core_json_read)
timed("aas-core3.0-python", "json", "write", lambda: core_json_write(env))
env = timed("aas-core3.0-python", "xml", "read", lambda: core_xml.environment_from_file(xml_path))
timed("aas-core3.0-python", "xml", "write", lambda: core_xml_write(env))


def basyx_json_read():
    with open(json_path, encoding="utf-8") as f:
        return basyx_json.read_aas_json_file(f)


def basyx_json_write(store):
    with open(os.path.join(out, "basyx.json"), "w", encoding="utf-8") as f:
        basyx_json.write_aas_json_file(f, store)


def basyx_xml_read():
    with open(xml_path, "rb") as f:
        return basyx_xml.read_aas_xml_file(f)


def basyx_xml_write(store):
    with open(os.path.join(out, "basyx.xml"), "wb") as f:
        basyx_xml.write_aas_xml_file(f, store)


def basyx_aasx_read():
    store, files = model.DictObjectStore(), aasx.DictSupplementaryFileContainer()
    with aasx.AASXReader(aasx_path) as reader:
        reader.read_into(store, files)
    return store, files


def basyx_aasx_write(store, files):
    with aasx.AASXWriter(os.path.join(out, "basyx.aasx")) as writer:
        writer.write_all_aas_objects("/aasx/data.json", store, files)


store = timed("basyx-python-sdk", "json", "read", basyx_json_read)
timed("basyx-python-sdk", "json", "write", lambda: basyx_json_write(store))
store = timed("basyx-python-sdk", "xml", "read", basyx_xml_read)
timed("basyx-python-sdk", "xml", "write", lambda: basyx_xml_write(store))
store, files = timed("basyx-python-sdk", "aasx", "read", basyx_aasx_read)
timed("basyx-python-sdk", "aasx", "write", lambda: basyx_aasx_write(store, files))
