"""Generates jsonpath_cases.json: what jsonpath-ng 1.16.0's ext parser finds, for the golden
test of sdt-core's JSONPath dialect. Run with the venv of scripts/test-venv.sh:

    $(bash scripts/test-venv.sh) sdt-core/tests/golden/gen_jsonpath.py > sdt-core/tests/golden/jsonpath_cases.json

Each case: {"document" (index), "path", "values"} or {"document", "path", "error"}.
"""
import copy
import json
import sys

import jsonpath_ng
from jsonpath_ng.ext import parse

documents = [
    # 0: a position stream (the SDT example)
    [{"value": {"addr": "3ef8", "position": [1.5, 2, 3]}}, {"value": {"addr": "aaaa", "position": [9, 9, 9]}}],
    # 1: a light bulb
    [{"value": {"state": {"on": True, "bri": 254, "sat": 144, "name": "bulb"}}}],
    # 2: a submodel
    {"idShort": "Nameplate", "submodelElements": [
        {"idShort": "SerialNumber", "modelType": "Property", "valueType": "xs:string", "value": "SN-001"},
        {"idShort": "YearOfConstruction", "modelType": "Property", "valueType": "xs:int", "value": "2021"},
        {"idShort": "Weight", "modelType": "Property", "valueType": "xs:double", "value": 12.5},
        {"idShort": "ManufacturerName", "modelType": "MultiLanguageProperty",
         "value": [{"language": "en", "text": "ACME"}, {"language": "de", "text": "ACME GmbH"}]}]},
    # 3: mixed values
    {"num": 7, "neg": -3, "float": 2.5, "text": "hello world", "csv": "a,b,c", "flag": False, "nothing": None,
     "tags": ["c", "a", "b"], "nums": [5, 1, 4, 2, 3], "empty": [], "obj": {"k1": 1, "k2": "two", "k3": [3]},
     "objects": [{"cow": 2, "cat": 3, "name": "x"}, {"cow": 1, "cat": 5, "name": "y"}, {"cow": 3, "name": "z"}],
     "deep": {"a": {"b": {"c": "found", "n": 1}}, "b": {"c": "other"}},
     "odd keys": {"with space": 1, "dash-key": 2, "0": "zero"}},
]

paths = [
    # the SDT descriptions
    "$[?value.addr='3ef8'].value.position[0]", "$[?value.addr='3ef8'].value.position[1]",
    "$[?value.addr='3ef8'].value.position[2]", "$[?value.addr='zzzz'].value.position[0]",
    "$[0].value.state.on", "$[0].value.state.bri", "$[0].value.state.sat", "$[*].value.addr",
    "$[?(@.value.addr == '3ef8')].value", "$[?@.value.addr=='aaaa'].value.position", "$..addr", "$..position[0]",
    "$[-1].value.addr", "$[0:1].value.addr", "$[1:].value.addr", "$[:1].value.position[*]",
    # basics
    "$", "$.num", "$.missing", "$.obj.k2", "$['obj']['k1']", "$[\"obj\"]", "$.obj.*", "$.obj[*]", "$.tags[0]",
    "$.tags[-1]", "$.tags[1:]", "$.tags[:2]", "$.tags[0:3]", "$.tags[5]", "$.nums[*]", "$.empty[*]", "$.empty[0]",
    "$.deep..c", "$..c", "$..n", "$.deep.*.c", "$.deep.a.b", "$.'odd keys'.'with space'", "$['odd keys']['dash-key']",
    "$['odd keys']['0']", "$.objects[*].name", "$.objects[0,2].name", "$.objects[*]['cow','cat']", "$.nothing",
    "$.flag", "$.num.foo", "$.text[0]", "$.*", "$..*",
    # filters, ng style and RFC style
    "$.objects[?cow > 1].name", "$.objects[?cow >= 2].name", "$.objects[?cow < 2].name", "$.objects[?cow != 1].name",
    "$.objects[?cow = 1].name", "$.objects[?cow == 1].name", "$.objects[?(@.cow == 3)].name", "$.objects[?@.cow==3].name",
    "$.objects[?cat].name", "$.objects[?(@.cat)].name", "$.objects[?!@.cat].name", "$.objects[?name = 'y'].cow",
    "$.objects[?name == \"z\"].cow", "$.objects[?cow > 1 & cat > 2].name", "$.objects[?cow > 1 && cat > 2].name",
    "$.objects[?cow == 1 || cow == 3].name", "$.objects[?(cow == 1 || cow == 3)].name", "$.objects[?name =~ 'x|z'].cow",
    "$.objects[?name =~ '^y'].cow", "$.objects[?@.cow > $.num].name", "$.objects[?@.cow < $.nums[4]].name",
    "$.nums[?@ > 2]", "$.nums[?(@ >= 3)]", "$.tags[?@ == 'a']", "$.tags[?@ > 'a']", "$.obj[?@ == 1]",
    "$.submodelElements[?idShort='SerialNumber'].value", "$.submodelElements[?idShort='ManufacturerName'].value[?language='de'].text",
    "$.submodelElements[?modelType = 'Property' & valueType = 'xs:int'].idShort",
    "$.submodelElements[?(@.value > 10)].idShort", "$.submodelElements[?value].idShort",
    "$.submodelElements[?@.valueType == 'xs:double'].value", "$.submodelElements[*].idShort",
    "$.submodelElements[?idShort =~ 'Name'].idShort", "$..[?language == 'en'].text", "$..language",
    "$.submodelElements[?value == '2021'].idShort", "$.submodelElements[?value == 2021].idShort",
    "$.objects[?cow > 1][?cat > 2].name", "$.objects[?length(@.name) == 1].cow", "$.objects[?count(@.*) == 2].name",
    "$.objects[?search(@.name, '[xy]')].cow", "$.objects[?match(@.name, 'x')].cow", "$.objects[?value(@.cow) == 2].name",
    "$.tags[?length(@) == 1]",
    # extensions
    "$.csv.`len`", "$.tags.`len`", "$.obj.`len`", "$.num.`len`", "$.obj.`keys`", "$.tags.`sorted`", "$.nums.`sorted`",
    "$.num.`str()`", "$.float.`str()`", "$.text.`len`", "$.objects.`len`", "$.missing.`len`",
    # errors
    "$.[", "$[?", "$.objects[?cow >]", "$..", "nope", "$.objects[?cow = ]",
]

cases = []
for index, document in enumerate(documents):
    for path in paths:
        doc = copy.deepcopy(document)
        try:
            values = [match.value for match in parse(path).find(doc)]
            json.dumps(values)
            cases.append({"document": index, "path": path, "values": values})
        except Exception as error:
            cases.append({"document": index, "path": path, "error": type(error).__name__})
json.dump({"jsonpath_ng": jsonpath_ng.__version__, "documents": documents, "cases": cases}, sys.stdout, indent=1)
print()
