"""A CRUD flow through aas-python-http-client 1.0.3 (PyPI, generated from IDTA's Part 2 OpenAPI,
bodies and answers as BaSyx Python objects) against a running reference server.

    python crud_flow.py <server base URL>

Run by reference-server/tests/clients.rs with the test venv (scripts/test-venv.sh). Covers
every submodel element type (create, read, value, replace, delete, create again), attachments
(File element) and the thumbnail, `$value` reads and writes, paging with cursors, and the
superpath `/shells/{aas}/submodels/{sm}/...`.

Writes one JSON line per step to stdout:
    {"step": "...", "events": ["twinsphere/submodels/<b64 id>/updated", ...]}
the MQTT topics the step's call must cause (the Rust test subscribes and compares), and
    {"failure": "..."}
for each assertion that failed (the flow goes on where it can). Exits 0 when the flow ran to
its end (failures are reported as lines), 3 when a package is missing.
"""

import base64
import json
import sys
import traceback

try:
    import aas_python_http_client as client
    from aas_python_http_client.rest import ApiException
    from basyx.aas import model
    from basyx.aas.adapter.json import AASToJsonEncoder
except ImportError as error:  # a clear message, never a skip
    print(
        "crud_flow.py: a Python package is missing from the test venv "
        f"(scripts/test-venv.sh pins aas-python-http-client==1.0.3 and basyx-python-sdk): {error}",
        file=sys.stderr,
    )
    sys.exit(3)

BASE = sys.argv[1]
AAS_ID = "urn:aas-rs:clients:shell"
SM_ID = "urn:aas-rs:clients:submodel"
PAGED_IDS = [f"urn:aas-rs:clients:paged:{n}" for n in range(3)]
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082")

failures = 0
# Whether the last call succeeded (2xx): a call that failed must cause no event.
last_ok = False


def b64(identifier):
    return base64.urlsafe_b64encode(identifier.encode()).decode().rstrip("=")


def topic(kind, identifier, change):
    return f"twinsphere/{kind}/{b64(identifier)}/{change}"


def emit(step, events):
    """The events the last call causes: `events` when it succeeded, none when it failed."""
    print(json.dumps({"step": step, "events": events if last_ok else []}), flush=True)


def fail(message):
    global failures
    failures += 1
    print(json.dumps({"failure": message}), flush=True)


def check(condition, message):
    if not condition:
        fail(message)
    return condition


def raw(step, function, *args, expect, **kwargs):
    """Calls an API method of the client (its `_with_http_info` variant, answer not decoded):
    (whether the status was `expect`, body bytes); another status is a failure of `step`."""
    global last_ok
    last_ok = False
    try:
        answer = getattr(function.__self__, function.__name__ + "_with_http_info")(
            *args, _preload_content=False, **kwargs)
        if isinstance(answer, tuple):  # (response, status, headers) of methods with an answer type
            answer = answer[0]
        status, body = answer.status, answer.data
    except ApiException as error:
        status, body = error.status, (error.body or b"")
    except Exception as error:  # the client itself failed (serialization, connection)
        fail(f"{step}: the client raised {type(error).__name__}: {error}")
        return False, b""
    if isinstance(body, str):
        body = body.encode()
    ok = check(status == expect,
               f"{step}: status {status}, expected {expect}: {body[:300].decode(errors='replace')}")
    # A change answered with another success code (204 for 200) still happened: its events too.
    last_ok = 200 <= status < 300
    return ok, body


def as_json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def typed(step, function, *args, **kwargs):
    """Calls an API method as a client user does: the answer decoded (BaSyx objects)."""
    try:
        return function(*args, **kwargs)
    except Exception as error:
        fail(f"{step}: the client raised {type(error).__name__}: {error}")
        return None


def global_ref(value):
    return model.ExternalReference((model.Key(model.KeyTypes.GLOBAL_REFERENCE, value),))


def sm_ref(identifier):
    return model.ModelReference((model.Key(model.KeyTypes.SUBMODEL, identifier),), model.Submodel)


def elements():
    """One element of each of the 14 submodel element types, with semantic ids."""
    sem = lambda name: global_ref(f"urn:aas-rs:clients:semantics:{name}")
    first, second = global_ref("urn:aas-rs:clients:first"), global_ref("urn:aas-rs:clients:second")
    return [
        model.Property("Temperature", model.datatypes.Double, 21.5, semantic_id=sem("temperature"),
                       description=model.MultiLanguageTextType({"en": "Temperature"})),
        model.MultiLanguageProperty("Label", value=model.MultiLanguageTextType({"en": "pump", "de": "Pumpe"}),
                                    semantic_id=sem("label")),
        model.Range("Limits", model.datatypes.Int, min=1, max=5, semantic_id=sem("limits")),
        model.ReferenceElement("Manufacturer", value=global_ref("urn:aas-rs:clients:manufacturer"),
                               semantic_id=sem("manufacturer")),
        model.Blob("Blob", content_type="application/octet-stream", value=b"\x00\x01blob",
                   semantic_id=sem("blob")),
        model.File("Manual", content_type="application/pdf", value=None, semantic_id=sem("manual")),
        model.SubmodelElementCollection("Nameplate", value=[
            model.Property("Serial", model.datatypes.String, "SN-1")], semantic_id=sem("nameplate")),
        model.SubmodelElementList("Readings", type_value_list_element=model.Property,
                                  value_type_list_element=model.datatypes.Int,
                                  value=[model.Property(None, model.datatypes.Int, 1),
                                         model.Property(None, model.datatypes.Int, 2)],
                                  semantic_id=sem("readings")),
        model.Entity("Motor", entity_type=model.EntityType.SELF_MANAGED_ENTITY,
                     global_asset_id="urn:aas-rs:clients:motor",
                     statement=[model.Property("Power", model.datatypes.Double, 1.5)],
                     semantic_id=sem("motor")),
        model.BasicEventElement("Alarm", observed=sm_ref(SM_ID), direction=model.Direction.OUTPUT,
                                state=model.StateOfEvent.ON, semantic_id=sem("alarm")),
        model.Operation("Reset", input_variable=[model.Property("Force", model.datatypes.Boolean, False)],
                        semantic_id=sem("reset")),
        model.Capability("Pumping", semantic_id=sem("pumping")),
        model.RelationshipElement("Drives", first=first, second=second, semantic_id=sem("drives")),
        model.AnnotatedRelationshipElement("Feeds", first=first, second=second,
                                           annotation=[model.Property("Rate", model.datatypes.Int, 3)],
                                           semantic_id=sem("feeds")),
    ]


def model_type(value):
    return value.get("modelType") if isinstance(value, dict) else None


def main():
    config = client.Configuration()
    config.host = BASE
    api_client = client.ApiClient(config)
    shells = client.AssetAdministrationShellRepositoryAPIApi(api_client)
    submodels = client.SubmodelRepositoryAPIApi(api_client)
    cds = client.ConceptDescriptionRepositoryAPIApi(api_client)
    aas, sm = b64(AAS_ID), b64(SM_ID)
    shell_updated = topic("shells", AAS_ID, "updated")
    sm_updated = topic("submodels", SM_ID, "updated")

    # --- create ------------------------------------------------------------------------------
    shell = model.AssetAdministrationShell(
        model.AssetInformation(model.AssetKind.INSTANCE, global_asset_id="urn:aas-rs:clients:asset"),
        AAS_ID, id_short="Pump", submodel={sm_ref(SM_ID)})
    raw("POST /shells", shells.post_asset_administration_shell, shell, expect=201)
    emit("POST /shells", [topic("shells", AAS_ID, "created")])
    all_elements = elements()
    submodel = model.Submodel(SM_ID, id_short="Operational", submodel_element=all_elements)
    created, body = raw("POST /submodels (14 element types)", submodels.post_submodel, submodel, expect=201)
    emit("POST /submodels", [topic("submodels", SM_ID, "created")])
    refused = set()
    if not created:
        # Go on with the element types the server accepted one by one, so that one refused type
        # does not hide what the flow would find for the others (each refusal is a failure above).
        text = body.decode(errors="replace")
        refused = {e.id_short for e in all_elements if f"({e.id_short})" in text}
        fail(f"element types refused in POST /submodels, left out of the rest of the flow: "
             f"{sorted(type(e).__name__ for e in all_elements if e.id_short in refused)}")
        kept = [e for e in elements() if e.id_short not in refused]
        raw("POST /submodels (the types accepted)", submodels.post_submodel,
            model.Submodel(SM_ID, id_short="Operational", submodel_element=kept), expect=201)
        emit("POST /submodels (the types accepted)", [topic("submodels", SM_ID, "created")])
        all_elements = [e for e in all_elements if e.id_short not in refused]

    got = typed("GET /shells/{aas}", shells.get_asset_administration_shell_by_id, aas)
    check(isinstance(got, model.AssetAdministrationShell) and got.id == AAS_ID,
          f"GET /shells/{{aas}}: decoded as {type(got).__name__}, not the shell {AAS_ID}")
    got = typed("GET /submodels/{sm}", submodels.get_submodel_by_id, sm)
    if check(isinstance(got, model.Submodel), f"GET /submodels/{{sm}}: decoded as {type(got).__name__}"):
        names = sorted(e.id_short for e in got.submodel_element)
        check(names == sorted(e.id_short for e in all_elements),
              f"GET /submodels/{{sm}}: elements {names}")

    # --- every element type: read, $value, replace, delete, create again ----------------------
    for element in all_elements:
        name, kind = element.id_short, type(element).__name__
        ok, body = raw(f"GET element {kind}", submodels.get_submodel_element_by_path_submodel_repo,
                       sm, name, expect=200)
        got = as_json(body)
        check(not ok or (model_type(got) == kind and got.get("idShort") == name),
              f"GET element {kind}: {str(got)[:200]}")
        if kind not in ("Operation", "Capability", "BasicEventElement"):
            raw(f"GET element {kind} $value",
                submodels.get_submodel_element_by_path_value_only_submodel_repo, sm, name, expect=200)
        raw(f"PUT element {kind}", submodels.put_submodel_element_by_path_submodel_repo,
            element, sm, name, expect=204)
        emit(f"PUT element {kind}", [sm_updated])
        raw(f"DELETE element {kind}", submodels.delete_submodel_element_by_path_submodel_repo,
            sm, name, expect=204)
        emit(f"DELETE element {kind}", [sm_updated])
        raw(f"GET deleted element {kind}", submodels.get_submodel_element_by_path_submodel_repo,
            sm, name, expect=404)
        raw(f"POST element {kind}", submodels.post_submodel_element_submodel_repository,
            element, sm, expect=201)
        emit(f"POST element {kind}", [sm_updated])

    # --- $value -------------------------------------------------------------------------------
    raw("PATCH Temperature/$value", submodels.patch_submodel_element_by_path_value_only_submodel_repo,
        json.dumps("42.5"), sm, "Temperature", expect=204)
    emit("PATCH Temperature/$value", [sm_updated])
    ok, body = raw("GET Temperature/$value", submodels.get_submodel_element_by_path_value_only_submodel_repo,
                   sm, "Temperature", expect=200)
    value = as_json(body)
    check(not ok or value in ("42.5", 42.5, {"Temperature": "42.5"}, {"Temperature": 42.5}),
          f"GET Temperature/$value after PATCH: {value!r}")
    ok, body = raw("GET /submodels/{sm}/$value", submodels.get_submodel_by_id_value_only, sm, expect=200)
    value = as_json(body) or {}
    check(not ok or str(value.get("Temperature")) == "42.5" and value.get("Nameplate") == {"Serial": "SN-1"},
          f"GET /submodels/{{sm}}/$value: {str(value)[:300]}")

    # --- attachments and the thumbnail ---------------------------------------------------------
    pdf_path = "manual.pdf"
    with open(pdf_path, "wb") as out:
        out.write(PDF)
    raw("PUT Manual/attachment", submodels.put_file_by_path_submodel_repo,
        "manual.pdf", pdf_path, sm, "Manual", expect=204)
    emit("PUT Manual/attachment", [sm_updated])
    ok, body = raw("GET Manual/attachment", submodels.get_file_by_path_submodel_repo, sm, "Manual", expect=200)
    check(not ok or body == PDF, f"GET Manual/attachment: {len(body)} bytes, not the {len(PDF)} uploaded")
    raw("DELETE Manual/attachment", submodels.delete_file_by_path_submodel_repo, sm, "Manual", expect=200)
    emit("DELETE Manual/attachment", [sm_updated])
    raw("GET deleted Manual/attachment", submodels.get_file_by_path_submodel_repo, sm, "Manual", expect=404)
    png_path = "thumbnail.png"
    with open(png_path, "wb") as out:
        out.write(PNG)
    raw("PUT thumbnail", shells.put_thumbnail_aas_repository, "thumbnail.png", png_path, aas, expect=204)
    emit("PUT thumbnail", [shell_updated])
    ok, body = raw("GET thumbnail", shells.get_thumbnail_aas_repository, aas, expect=200)
    check(not ok or body == PNG, f"GET thumbnail: {len(body)} bytes, not the {len(PNG)} uploaded")
    raw("DELETE thumbnail", shells.delete_thumbnail_aas_repository, aas, expect=200)
    emit("DELETE thumbnail", [shell_updated])

    # --- paging (cursor) -----------------------------------------------------------------------
    for identifier in PAGED_IDS:
        raw(f"POST /submodels {identifier}", submodels.post_submodel,
            model.Submodel(identifier, id_short="Paged"), expect=201)
        emit(f"POST /submodels {identifier}", [topic("submodels", identifier, "created")])
    seen, cursor, pages = [], None, 0
    while pages < 10:
        kwargs = {"limit": 1}
        if cursor:
            kwargs["cursor"] = cursor
        _, body = raw("GET /submodels?limit=1", submodels.get_all_submodels, expect=200, **kwargs)
        page = as_json(body) or {}
        pages += 1
        seen += [s.get("id") for s in page.get("result", [])]
        check(len(page.get("result", [])) <= 1, f"GET /submodels?limit=1: {len(page.get('result', []))} results")
        cursor = (page.get("paging_metadata") or {}).get("cursor")
        if not cursor:
            break
    check(sorted(seen) == sorted([SM_ID] + PAGED_IDS),
          f"paging through /submodels one at a time: {seen} in {pages} pages")
    typed_page = typed("GET /submodels (decoded)", submodels.get_all_submodels, limit=2)
    check(typed_page is not None and len(getattr(typed_page, "result", None) or []) == 2,
          f"GET /submodels?limit=2 decoded: {typed_page!r}"[:300])
    _, body = raw("GET /shells/{aas}/submodel-refs?limit=1", shells.get_all_submodel_references_aas_repository,
                  aas, limit=1, expect=200)
    page = as_json(body) or {}
    check(len(page.get("result", [])) == 1, f"GET submodel-refs?limit=1: {page}")

    # --- the superpath -------------------------------------------------------------------------
    ok, body = raw("GET superpath submodel", shells.get_submodel_by_id_aas_repository, aas, sm, expect=200)
    check(not ok or (as_json(body) or {}).get("id") == SM_ID, f"GET superpath submodel: {body[:200]}")
    ok, body = raw("GET superpath element", shells.get_submodel_element_by_path_aas_repository,
                   aas, sm, "Nameplate.Serial", expect=200)
    check(not ok or (as_json(body) or {}).get("value") == "SN-1", f"GET superpath Nameplate.Serial: {body[:200]}")
    raw("PATCH superpath element $value", shells.patch_submodel_element_value_by_path_value_only,
        json.dumps("SN-2"), aas, sm, "Nameplate.Serial", expect=204)
    emit("PATCH superpath element $value", [sm_updated])
    ok, body = raw("GET superpath element $value", shells.get_submodel_element_by_path_value_only_aas_repository,
                   aas, sm, "Nameplate.Serial", expect=200)
    check(not ok or as_json(body) in ("SN-2", {"Serial": "SN-2"}), f"GET superpath $value after PATCH: {body[:200]}")
    raw("POST superpath element", shells.post_submodel_element_aas_repository,
        model.Property("Added", model.datatypes.Int, 7), aas, sm, expect=201)
    emit("POST superpath element", [sm_updated])
    raw("DELETE superpath element", shells.delete_submodel_element_by_path_aas_repository,
        aas, sm, "Added", expect=204)
    emit("DELETE superpath element", [sm_updated])
    replacement = model.Submodel(SM_ID, id_short="Operational",
                                 submodel_element=[e for e in elements() if e.id_short not in refused])
    raw("PUT superpath submodel", shells.put_submodel_by_id_aas_repository, replacement, aas, sm, expect=204)
    emit("PUT superpath submodel", [sm_updated])
    raw("PATCH superpath submodel", shells.patch_submodel_aas_repository, replacement, aas, sm, expect=204)
    emit("PATCH superpath submodel", [sm_updated])
    raw("GET superpath missing submodel", shells.get_submodel_by_id_aas_repository,
        aas, b64(PAGED_IDS[0]), expect=404)

    # --- submodel references, concept descriptions, deletes ------------------------------------
    raw("POST submodel-ref", shells.post_submodel_reference_aas_repository, sm_ref(PAGED_IDS[0]), aas, expect=201)
    emit("POST submodel-ref", [shell_updated])
    raw("DELETE submodel-ref", shells.delete_submodel_reference_by_id_aas_repository,
        aas, b64(PAGED_IDS[0]), expect=204)
    emit("DELETE submodel-ref", [shell_updated])
    cd = model.ConceptDescription("urn:aas-rs:clients:cd", id_short="TemperatureConcept")
    raw("POST /concept-descriptions", cds.post_concept_description, cd, expect=201)
    emit("POST /concept-descriptions", [])
    raw("GET /concept-descriptions/{cd}", cds.get_concept_description_by_id, b64(cd.id), expect=200)
    raw("DELETE /concept-descriptions/{cd}", cds.delete_concept_description_by_id, b64(cd.id), expect=204)
    emit("DELETE /concept-descriptions/{cd}", [])
    raw("DELETE superpath submodel", shells.delete_submodel_by_id_aas_repository, aas, sm, expect=204)
    emit("DELETE superpath submodel", [topic("submodels", SM_ID, "deleted"), shell_updated])
    raw("GET deleted submodel", submodels.get_submodel_by_id, sm, expect=404)
    for identifier in PAGED_IDS:
        raw(f"DELETE /submodels {identifier}", submodels.delete_submodel_by_id, b64(identifier), expect=204)
        emit(f"DELETE /submodels {identifier}", [topic("submodels", identifier, "deleted")])
    raw("DELETE /shells/{aas}", shells.delete_asset_administration_shell_by_id, aas, expect=204)
    emit("DELETE /shells/{aas}", [topic("shells", AAS_ID, "deleted")])
    ok, body = raw("GET /shells", shells.get_all_asset_administration_shells, expect=200)
    check(not ok or (as_json(body) or {}).get("result") == [], f"GET /shells after the deletes: {body[:200]}")


if __name__ == "__main__":
    try:
        main()
    except Exception:
        fail("the flow stopped: " + traceback.format_exc())
    print(json.dumps({"done": True, "failures": failures}), flush=True)
