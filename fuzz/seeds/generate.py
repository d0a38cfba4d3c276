#!/usr/bin/env python3
"""Writes the committed seeds of every fuzz target into fuzz/seeds/<target>/ (run from anywhere:
`python3 fuzz/seeds/generate.py`; it replaces the files it writes and nothing else).

A handful per target, so that the replay test (fuzz/checks/tests/replay.rs) reaches every check
without ../shared, and, for jsonpath, mustache, python_format and server_requests, inputs that
already sit at or just past the depth and size limits (sdt-core's jsonpath::MAX_DEPTH 64 and
MAX_LENGTH 4096, mustache::MAX_SECTION_DEPTH 16, MAX_WORK and MAX_OUTPUT, python_format's
MAX_TEMPLATE_LENGTH 16 KiB and MAX_OUTPUT 1 MiB, aas-serde's JSON MAX_DEPTH 128 and aas-model's
128 idShort path steps), so that the fuzzer starts next to the limits instead of having to
grow there byte by byte. `fuzz/run.sh` passes this directory to libFuzzer beside the corpus.
"""
import base64
import gzip
import io
import json
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    directory = os.path.join(HERE, target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def compact(value):
    return json.dumps(value, separators=(",", ":"))


# --- AAS models ------------------------------------------------------------------------------

def property_(id_short, value="1"):
    return {"idShort": id_short, "modelType": "Property", "valueType": "xs:int", "value": value}


def nested_collection(depth):
    """`depth` SubmodelElementCollections, one in the other (two JSON levels each)."""
    element = property_("Leaf")
    for level in range(depth):
        element = {"idShort": f"C{level}", "modelType": "SubmodelElementCollection", "value": [element]}
    return element


def environment(elements):
    return {
        "assetAdministrationShells": [{
            "id": "urn:seed:aas", "idShort": "Shell", "modelType": "AssetAdministrationShell",
            "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:seed:asset"},
            "submodels": [{"type": "ModelReference", "keys": [{"type": "Submodel", "value": "urn:seed:sm"}]}],
        }],
        "submodels": [{"id": "urn:seed:sm", "idShort": "Sm", "modelType": "Submodel", "submodelElements": elements}],
        "conceptDescriptions": [{"id": "urn:seed:cd", "modelType": "ConceptDescription"}],
    }


SMALL = environment([
    property_("P"),
    {"idShort": "M", "modelType": "MultiLanguageProperty", "value": [{"language": "en", "text": "hi"}]},
    {"idShort": "R", "modelType": "Range", "valueType": "xs:double", "min": "0.5", "max": "2E3"},
    {"idShort": "B", "modelType": "Blob", "contentType": "application/octet-stream", "value": "AAEC"},
])


def xml_element(element, indent=""):
    kind = element["modelType"]
    tag = kind[0].lower() + kind[1:]
    inner = f"<idShort>{element['idShort']}</idShort>"
    if kind == "Property":
        inner += f"<valueType>{element['valueType']}</valueType><value>{element['value']}</value>"
    else:
        inner += "<value>" + "".join(xml_element(child) for child in element["value"]) + "</value>"
    return f"<{tag}>{inner}</{tag}>"


def xml_environment(elements):
    return ('<environment xmlns="https://admin-shell.io/aas/3/0"><submodels><submodel>'
            '<idShort>Sm</idShort><id>urn:seed:sm</id><submodelElements>'
            + "".join(xml_element(e) for e in elements)
            + "</submodelElements></submodel></submodels></environment>")


def generic():
    # Collections 61 deep reach JSON MAX_DEPTH 128 (4 levels above them, 2 each, 1 below); 62 pass it.
    for name, env in [("small", SMALL), ("collections-40-deep", environment([nested_collection(40)])),
                      ("collections-61-deep", environment([nested_collection(61)])),
                      ("collections-62-deep", environment([nested_collection(62)]))]:
        for target in ("json_read", "verify"):
            write(target, f"seed-{name}.json", compact(env))
    write("json_read", "seed-arrays-200-deep.json", "[" * 200 + "]" * 200)
    # In XML too, collections 61 deep reach MAX_DEPTH 128 (a property's value element is the
    # 128th level); 62 pass it.
    for name, elements in [("small", [property_("P")]), ("collections-40-deep", [nested_collection(40)]),
                           ("collections-61-deep", [nested_collection(61)]),
                           ("collections-62-deep", [nested_collection(62)])]:
        write("xml_read", f"seed-{name}.xml", xml_environment(elements))
    write("xml_read", "seed-elements-200-deep.xml", "<a>" * 200 + "</a>" * 200)

    # aasx_read: a small package (origin -> JSON spec -> supplementary file), and the bare JSON.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        class Package:  # entries with a fixed time, so that the seed is the same on every run
            @staticmethod
            def writestr(name, data):
                zipped.writestr(zipfile.ZipInfo(name, date_time=(2026, 12, 1, 0, 0, 0)), data,
                                compress_type=zipfile.ZIP_DEFLATED)
        package = Package()
        ns = "http://admin-shell.io/aasx/relationships/"
        rels = ('<?xml version="1.0" encoding="utf-8"?><Relationships xmlns='
                '"http://schemas.openxmlformats.org/package/2006/relationships">{}</Relationships>')
        rel = '<Relationship Type="{}" Target="{}" Id="{}"/>'
        package.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="utf-8"?><Types xmlns='
                         '"http://schemas.openxmlformats.org/package/2006/content-types">'
                         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                         '<Default Extension="json" ContentType="application/json"/>'
                         '<Default Extension="txt" ContentType="text/plain"/>'
                         '<Override PartName="/aasx/aasx-origin" ContentType="text/plain"/></Types>')
        package.writestr("_rels/.rels", rels.format(rel.format(ns + "aasx-origin", "/aasx/aasx-origin", "r1")))
        package.writestr("aasx/aasx-origin", "Intentionally empty.")
        package.writestr("aasx/_rels/aasx-origin.rels", rels.format(rel.format(ns + "aas-spec", "/aasx/data.json", "r2")))
        package.writestr("aasx/_rels/data.json.rels", rels.format(rel.format(ns + "aas-suppl", "/aasx/files/f.txt", "r3")))
        package.writestr("aasx/data.json", compact(SMALL))
        package.writestr("aasx/files/f.txt", "hello")
    write("aasx_read", "seed-package.aasx", buffer.getvalue())
    write("aasx_read", "seed-not-a-zip.json", compact(SMALL))

    # Events: an envelope (gzip JSON) and CloudEvents (plain and gzip), topics of both schemes.
    sm = {"id": "urn:sm:1", "idShort": "Sm", "modelType": "Submodel"}
    envelope = {"version": "1", "timestamp": "2026-12-03T10:00:00Z", "payload": compact(sm),
                "affectedShellIds": ["urn:aas:1"]}
    write("envelope_decode", "seed-submodel", gzip.compress(compact(envelope).encode(), mtime=0))
    write("envelope_decode", "seed-shell", gzip.compress(compact(
        {"version": "1", "timestamp": "2026-12-03T10:00:00.5+01:00",
         "payload": compact({"id": "urn:aas:1", "modelType": "AssetAdministrationShell",
                             "assetInformation": {"assetKind": "Instance"}})}).encode(), mtime=0))
    event = {"specversion": "1.0", "id": "1", "type": "io.admin-shell.events.v1.updated",
             "source": "https://aas.example.com/submodels/dXJuOnNtOjE", "time": "2026-12-03T10:00:00Z",
             "datacontenttype": "application/json", "data": sm}
    write("cloud_event_decode", "seed-updated.json", compact(event))
    write("cloud_event_decode", "seed-updated.gz", gzip.compress(compact(event).encode(), mtime=0))
    deleted = dict(event, type="io.admin-shell.events.v1.deleted")
    del deleted["data"], deleted["datacontenttype"]
    write("cloud_event_decode", "seed-deleted.json", compact(deleted))
    for i, topic in enumerate(["twinsphere/shells/dXJuOmFhczox/created", "twinsphere/submodels/dXJuOnNtOjE=/deleted",
                               "io.admin-shell.events.v1/submodels/dXJuOnNtOjE/updated"]):
        write("topic_parse", f"seed-{i}", topic)

    # push_target: SAS URLs, target configurations, job requests, object names.
    for i, text in enumerate([
        "https://acct.blob.core.windows.net/twins?sv=2022-11-02&sp=rcw&se=2099-01-01T00:00:00Z&sr=c&sig=abc%2Bdef%3D",
        "http://127.0.0.1:10000/devstoreaccount1/twins?sp=cw&se=2099-01-01&sig=x",
        "https://acct.blob.core.windows.net/twins/blob.json?sp=r&sig=y",
        '{"name": "a", "type": "azure-blob-storage", "configuration": {"blobSasUrl": "https://a.blob.core.windows.net/c?sp=w&sig=s"}}',
        '{"name": "a", "type": "azure-blob-storage", "configuration": {"blobContainerSasUrl": "https://a.blob.core.windows.net/c?sp=c&sig=s"}}',
        '{"name": "d", "type": "local-directory", "configuration": {"path": "out"}}',
        '{"name": "s", "type": "s3", "configuration": {"bucket": "b", "region": "eu-west-1", "endpoint": "http://127.0.0.1:9000", "accessKeyId": "k", "secretAccessKey": "s"}}',
        '{"pushTargetName": "a", "serializationFormat": "application/json", "shellIds": ["urn:a"], "submodelIds": [], "includeConceptDescriptions": true}',
        "shells/a/../b.json",
    ]):
        write("push_target", f"seed-{i}", text)

    # sync_description: the contract's two examples, and a deep path and template.
    fixtures = os.path.join(HERE, "..", "..", "sdt-core", "tests", "fixtures")
    for name in sorted(os.listdir(fixtures)):
        with open(os.path.join(fixtures, name), "rb") as f:
            write("sync_description", f"seed-{name}", f.read())
    write("sync_description", "seed-deep.json", compact({
        "iot_attributes": [{"name": "t", "path": "$" + "[?(@" * 30 + ".on" + ")]" * 30}],
        "thingin_attributes": [{"name": "p", "value_template": "mustache",
                                "value": "{{#t}}" * 15 + "{{t}}" + "{{/t}}" * 15}],
    }))

    # verify_arbitrary: byte strings that `arbitrary` turns into environments.
    write("verify_arbitrary", "seed-zeros", bytes(64))
    write("verify_arbitrary", "seed-ones", bytes([1]) * 256)
    write("verify_arbitrary", "seed-counting", bytes(range(256)) * 4)


# --- the four targets with a depth and size dimension -----------------------------------------

def jsonpath():
    seeds = {
        "dialect-filter": "$[?value.addr='3ef8'].value.position[0]",
        "dialect-and": "$.objects[?(@.cow > 1 & @.name = 'x')].name",
        "dialect-regex": "$.objects[?(@.name =~ 'x|y')]",
        "union-slices": "$.a[0,0,0,1:3,-1:,::2]",
        "descendants": "$..b[?(@ == true)]",
        "wildcards-3": "$..*..*..*",
    }
    # Filters nested in filters: `[?(@` opens two levels, so n of them nest 2n deep (the limit
    # is 64: 31 and 32 sit below and at it, 33 and 35 just past it).
    for n in (10, 25, 31, 32, 33, 35):
        seeds[f"filters-{2 * n}-deep"] = "$" + "[?(@" * n + ".a" + ")]" * n
        seeds[f"exists-{2 * n}-deep"] = "$.c" + "[?(@.d" * n + ")]" * n
    for n in (50, 63, 64, 65, 70):
        seeds[f"brackets-{n}-deep"] = "$" + "[" * (n - 1) + "[0]" + "]" * (n - 1)
        seeds[f"parens-{n}-deep"] = "$[?" + "(" * n + "@.cow > 1" + ")" * n + "]"
    seeds["index-chain-1000"] = "$" + "[0]" * 1000
    seeds["long-name-4096"] = "$." + "a" * 4094
    seeds["long-name-4097"] = "$." + "a" * 4095
    for name, text in seeds.items():
        write("jsonpath", f"seed-{name}", text)


def mustache():
    seeds = {
        "variables": "{{a.b.c}} {{{s}}} {{&s}} {{s}} {{#list}}{{x}}{{.}}{{/list}}",
        "inverted-and-comments": "{{^f}}no{{/f}}{{! comment }}{{=<% %>=}}<% t %><%={{ }}=%>",
        "partial": "{{>p}}{{#a}}{{>p}}{{/a}}",
    }
    # Sections nested 15, 16 (the limit) and 17 deep, over a boolean (one pass each), a list
    # (three passes each: 3^15 passes, far past MAX_WORK), and inverted ones.
    for n in (15, 16, 17):
        seeds[f"sections-t-{n}-deep"] = "{{#t}}" * n + "{{s}}" + "{{/t}}" * n
        seeds[f"sections-list-{n}-deep"] = "{{#list}}" * n + "{{.}}" + "{{/list}}" * n
        seeds[f"inverted-{n}-deep"] = "{{^f}}" * n + "x" + "{{/f}}" * n
        seeds[f"mixed-{n}-deep"] = "".join("{{#a}}{{^f}}"[i % 2 * 6:i % 2 * 6 + 6] for i in range(n)) + "{{b.c}}" + \
            "".join(("{{/a}}", "{{/f}}")[i % 2] for i in reversed(range(n)))
    seeds["unclosed-16"] = "{{#a}}" * 16
    seeds["output-bomb"] = "{{#list}}" * 8 + "{{s}}" * 64 + "{{/list}}" * 8
    seeds["long-16384"] = ("{{s}}" * 4000 + "x" * 16384)[:16384]
    seeds["long-16385"] = "x" * 16385
    for name, text in seeds.items():
        write("mustache", f"seed-{name}", text)


def python_format():
    seeds = {
        "fields": "{s} {i:05d} {f:.2} {big:,} {t} {n} {l[1]} {o[k][0]}",
        "nested-spec": "{f:{w}.{p}} {s:>{w}} {0:>{1}} {:{}}",
        "conversions": "{s!r:^20} {s!a} {i!s:*<9} {f:+.3e} {i:#x} {i:#b} {f:%}",
        "escapes": "{{}} {{{s}}} }}{{",
        "width-10000": "{s:>10000}",
        "width-10001": "{s:>10001}",
        "precision-10000": "{f:.10000f}",
    }
    # Output near and past MAX_OUTPUT (1 MiB): 104 and 105 fields of 10,000 characters.
    seeds["output-1MiB"] = "{s:>10000}" * 104
    seeds["output-over-1MiB"] = "{s:>10000}" * 105
    seeds["long-16384"] = ("{i}" * 5000 + "x" * 16384)[:16384]
    seeds["long-16385"] = "y" * 16385
    seeds["braces-deep"] = "{" * 64 + "}" * 64
    for name, text in seeds.items():
        write("python_format", f"seed-{name}", text)


def server_requests():
    # A seed is a selector byte (the endpoint: aas_rs_fuzz_checks::server_endpoints) and the
    # bytes sent; up to four requests, joined by 0xFF.
    def request(selector, body):
        return bytes([selector]) + (body if isinstance(body, bytes) else compact(body).encode())

    def join(*requests):
        return b"\xff".join(requests)

    seeds = {
        "post-property": request(9, property_("New")),
        "put-value": request(13, "42"),
        "patch-collection-value": request(14, {"Q": "x"}),
        "patch-list-value": request(15, ["2.5"]),
        "patch-mlp-value": request(16, [{"en": "x"}]),
        "patch-range-value": request(17, {"min": "0", "max": "3"}),
        "patch-submodel-value": request(8, {"P": "7", "C": {"Q": "y"}}),
        "patch-metadata": request(18, {"idShort": "P", "modelType": "Property", "valueType": "xs:int"}),
        "evaluate-jsonpath": request(22, {"kind": "jsonpath", "doc": {"a": [1, 2]}, "path": "$.a[*]"}),
        "evaluate-mustache": request(22, {"kind": "mustache", "template": "{{x}}", "vars": {"x": 1}}),
        "dry-run": request(23, {"description": {"iot_attributes": [{"name": "t", "path": "$.t"}],
                                                "thingin_attributes": []}, "sample": {"t": 1}}),
        "get-path": request(24, b"C.Q?level=core"),
        "get-list-item": request(24, b"L[0]/$value"),
        "delete-path": request(25, b"C"),
        "list-shells": request(26, b"limit=1&cursor=x"),
        "get-submodel": request(27, b"level=deep&extent=withBlobValue"),
        "attachment": request(21, b'--fuzz\r\nContent-Disposition: form-data; name="file"; filename="f.txt"\r\n'
                                  b"Content-Type: text/plain\r\n\r\nhello\r\n--fuzz--\r\n"),
        "post-then-delete": join(request(9, property_("X")), request(25, b"X"), request(26, b"")),
    }
    # Deep bodies: collections nested 30, 60 and 63 deep (two JSON levels each, plus the
    # envelope: around aas-serde's JSON MAX_DEPTH 128), posted, put, and as a new submodel.
    for n in (30, 60, 63, 64):
        seeds[f"post-collection-{n}-deep"] = request(9, nested_collection(n))
        seeds[f"post-into-C-{n}-deep"] = request(10, nested_collection(n))
    seeds["put-submodel-60-deep"] = request(5, {"id": "urn:fuzz:sm", "idShort": "Sm", "modelType": "Submodel",
                                                "submodelElements": [nested_collection(60)]})
    # ValueOnly bodies 60 and 130 deep, and deep JSON that is no model at all.
    value = "v"
    for _ in range(60):
        value = {"Q": value}
    seeds["patch-value-60-deep"] = request(14, value)
    seeds["patch-value-arrays-130-deep"] = request(15, "[" * 130 + "]" * 130)
    seeds["post-arrays-60-deep"] = request(0, "[" * 60 + "]" * 60)
    seeds["post-objects-60-deep"] = request(4, '{"a":' * 60 + "1" + "}" * 60)
    # idShort paths of 64, 128 (the limit) and 129 steps, and deep paths and templates to the
    # SDT playground.
    for n in (64, 128, 129):
        seeds[f"get-path-{n}-steps"] = request(24, ".".join(["C"] * n).encode())
    # Wide bodies just under -max_len (64 KiB): libFuzzer starts its length limit at the
    # largest input, so these let it mutate at full size from the start.
    wide = {"idShort": "Wide", "modelType": "SubmodelElementCollection",
            "value": [property_(f"P{i}", str(i)) for i in range(840)]}
    seeds["post-collection-840-wide"] = request(9, wide)
    seeds["patch-value-60KiB-string"] = request(13, json.dumps("x" * 61000).encode())
    seeds["get-brackets-70-deep"] = request(24, b"L" + b"[0]" * 70)
    seeds["evaluate-jsonpath-62-deep"] = request(22, {"kind": "jsonpath", "doc": {"a": [1, {"a": 2}]},
                                                      "path": "$" + "[?(@" * 31 + ".a" + ")]" * 31})
    seeds["evaluate-mustache-16-deep"] = request(22, {"kind": "mustache", "template": "{{#x}}" * 16 + "{{x}}" + "{{/x}}" * 16,
                                                      "vars": {"x": [1, 2]}})
    seeds["evaluate-python-wide"] = request(22, {"kind": "format", "template": "{x:>10000}" * 100, "vars": {"x": 1}})
    for name, data in seeds.items():
        write("server_requests", f"seed-{name}", data)


if __name__ == "__main__":
    generic()
    jsonpath()
    mustache()
    python_format()
    server_requests()
