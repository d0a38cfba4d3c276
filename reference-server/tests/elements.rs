//! The submodel-element, shell-part, serialization and description endpoints: success and
//! failure paths, in process (the router called directly); loading a package at start, in a
//! server process.

use reqwest::Method;
use serde_json::{Value, json};

mod support;

use support::{DataDir, Failure, InProcess, Server, TestResult, b64};

/// The media type of AASX packages.
const AASX: &str = "application/asset-administration-shell-package+xml";

/// A client of one API (in process, or a server process): `call` answers status and JSON (or
/// `Null`), `raw` the status, headers and bytes.
struct Client<'a, A: support::Api> {
    api: &'a A,
}

impl<A: support::Api> Client<'_, A> {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), Failure> {
        support::call(self.api, method, path, body).await
    }

    async fn get(&self, path: &str) -> Result<(u16, Value), Failure> {
        self.call(Method::GET, path, None).await
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure> {
        self.api.request_with(method, path, headers, body).await
    }

    async fn multipart(
        &self,
        path: &str,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<u16, Failure> {
        let boundary = "----aas-rs-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"fileName\"\r\n\r\n{file_name}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        Ok(self
            .raw(Method::PUT, path, &[], Some((&content_type, body)))
            .await?
            .0)
    }
}

const SM: &str = "urn:sm:elements";
const AAS: &str = "urn:aas:elements";

fn submodel() -> Value {
    json!({"id": SM, "modelType": "Submodel", "idShort": "Data",
    "semanticId": {"type": "ExternalReference", "keys": [{"type": "GlobalReference", "value": "urn:sem:data"}]},
    "submodelElements": [
        {"modelType": "SubmodelElementCollection", "idShort": "Group", "value": [
            {"modelType": "Property", "idShort": "Temp", "valueType": "xs:int", "value": "21"},
            {"modelType": "SubmodelElementCollection", "idShort": "Inner", "value": [
                {"modelType": "Property", "idShort": "Deep", "valueType": "xs:string", "value": "x"}]}]},
        {"modelType": "SubmodelElementList", "idShort": "List", "typeValueListElement": "Property",
         "valueTypeListElement": "xs:double", "value": [
            {"modelType": "Property", "valueType": "xs:double", "value": "1.5"},
            {"modelType": "Property", "valueType": "xs:double", "value": "2.5"}]},
        {"modelType": "File", "idShort": "Manual", "contentType": "application/pdf"},
        {"modelType": "Blob", "idShort": "Raw", "contentType": "application/octet-stream", "value": "AQID"},
        {"modelType": "Capability", "idShort": "Can"}
    ]})
}

fn shell() -> Value {
    json!({"id": AAS, "modelType": "AssetAdministrationShell", "idShort": "Machine",
        "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:asset:1",
            "specificAssetIds": [{"name": "serial", "value": "S-1"}]},
        "submodels": [{"type": "ModelReference", "keys": [{"type": "Submodel", "value": SM}]}]})
}

async fn setup<A: support::Api>(api: &A) -> Result<Client<'_, A>, Failure> {
    let api = Client { api };
    assert_eq!(
        api.call(Method::POST, "/submodels", Some(submodel()))
            .await?
            .0,
        201
    );
    assert_eq!(
        api.call(Method::POST, "/shells", Some(shell())).await?.0,
        201
    );
    Ok(api)
}

fn el(path: &str) -> String {
    format!("/submodels/{}/submodel-elements/{path}", b64(SM))
}

#[tokio::test]
async fn elements_are_read_added_replaced_patched_and_deleted_by_id_short_path() -> TestResult {
    let server = InProcess::new()?;
    let api = setup(&server).await?;
    let before = server.outbox_topics().await?.len();

    let (status, temp) = api.get(&el("Group.Temp")).await?;
    assert_eq!((status, temp["value"].as_str()), (200, Some("21")));
    assert_eq!(api.get(&el("List%5B1%5D")).await?.1["value"], "2.5");
    assert_eq!(api.get(&el("Group.Nope")).await?.0, 404);
    assert_eq!(api.get(&el("List%5B2%5D")).await?.0, 404);
    let (status, body) = api.get(&el("Group..Temp")).await?;
    assert_eq!(status, 400);
    assert!(
        body["messages"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("idShort")
    );
    assert_eq!(
        api.get(&format!(
            "/submodels/{}/submodel-elements/Group",
            b64("urn:other")
        ))
        .await?
        .0,
        404
    );

    let added = json!({"modelType": "Property", "idShort": "Humidity", "valueType": "xs:int", "value": "40"});
    let (status, headers, _) = api
        .raw(
            Method::POST,
            &el("Group"),
            &[],
            Some(("application/json", added.to_string().into_bytes())),
        )
        .await?;
    assert_eq!(status, 201);
    let location = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(api.get(&location).await?.1["idShort"], "Humidity");
    assert_eq!(
        api.call(Method::POST, &el("Group"), Some(added.clone()))
            .await?
            .0,
        409
    );
    assert_eq!(
        api.call(Method::POST, &el("Group.Temp"), Some(added.clone()))
            .await?
            .0,
        404
    );
    let top = json!({"modelType": "Property", "idShort": "Top", "valueType": "xs:string"});
    assert_eq!(
        api.call(
            Method::POST,
            &format!("/submodels/{}/submodel-elements", b64(SM)),
            Some(top)
        )
        .await?
        .0,
        201
    );

    let renamed =
        json!({"modelType": "Property", "idShort": "Other", "valueType": "xs:int", "value": "1"});
    assert_eq!(
        api.call(Method::PUT, &el("Group.Temp"), Some(renamed))
            .await?
            .0,
        400
    );
    let replacement =
        json!({"modelType": "Property", "idShort": "Temp", "valueType": "xs:int", "value": "25"});
    assert_eq!(
        api.call(Method::PUT, &el("Group.Temp"), Some(replacement))
            .await?
            .0,
        204
    );
    assert_eq!(
        api.get(&format!("{}/$value", el("Group.Temp"))).await?.1,
        json!({"Temp": 25})
    );

    assert_eq!(
        api.call(
            Method::PATCH,
            &format!("{}/$value", el("Group.Temp")),
            Some(json!({"Temp": 30}))
        )
        .await?
        .0,
        204
    );
    assert_eq!(
        api.call(
            Method::PATCH,
            &format!("{}/$value", el("Group.Temp")),
            Some(json!(31))
        )
        .await?
        .0,
        204
    );
    assert_eq!(api.get(&el("Group.Temp")).await?.1["value"], "31");
    let (status, body) = api
        .call(
            Method::PATCH,
            &format!("{}/$value", el("Group.Temp")),
            Some(json!("warm")),
        )
        .await?;
    assert_eq!(status, 400, "an xs:int cannot be \"warm\": {body}");
    assert_eq!(
        api.get(&el("Group.Temp")).await?.1["value"],
        "31",
        "a refused change leaves the element"
    );
    assert_eq!(
        api.call(
            Method::PATCH,
            &format!("/submodels/{}/$value", b64(SM)),
            Some(json!({"List": [7, 8]}))
        )
        .await?
        .0,
        204
    );
    assert_eq!(
        api.get(&format!("{}/$value", el("List"))).await?.1,
        json!({"List": [7, 8]})
    );
    assert_eq!(
        api.call(
            Method::PATCH,
            &format!("/submodels/{}/$value", b64(SM)),
            Some(json!({"Nope": 1}))
        )
        .await?
        .0,
        400
    );

    assert_eq!(
        api.call(Method::DELETE, &el("Group.Humidity"), None)
            .await?
            .0,
        204
    );
    assert_eq!(api.get(&el("Group.Humidity")).await?.0, 404);
    assert_eq!(
        api.call(Method::DELETE, &el("Group.Humidity"), None)
            .await?
            .0,
        404
    );

    let topics = server.outbox_topics().await?;
    let updated = format!("twinsphere/submodels/{}/updated", b64(SM));
    assert_eq!(
        topics.len() - before,
        7,
        "one event per successful change: {topics:?}"
    );
    assert!(topics[before..].iter().all(|t| *t == updated), "{topics:?}");
    Ok(())
}

/// Element changes are verified only where they can break a rule (the element and its
/// ancestors' own checks): what breaks a rule of the parent list is still refused.
#[tokio::test]
async fn element_changes_are_refused_for_what_they_break_in_the_element_and_its_parents()
-> TestResult {
    let server = InProcess::new()?;
    let api = setup(&server).await?;
    let refused = |answer: (u16, Value), rule: &str| {
        assert_eq!(answer.0, 400, "{answer:?}");
        assert!(answer.1.to_string().contains(rule), "{rule}: {answer:?}");
    };
    let file = json!({"modelType": "File", "contentType": "application/pdf"});
    refused(
        api.call(Method::PUT, &el("List%5B0%5D"), Some(file))
            .await?,
        "AASd-108",
    );
    let int = json!({"modelType": "Property", "valueType": "xs:int", "value": "1"});
    refused(
        api.call(Method::POST, &el("List"), Some(int)).await?,
        "AASd-109",
    );
    refused(
        api.call(
            Method::PATCH,
            &format!("{}/$value", el("Group.Temp")),
            Some(json!("warm")),
        )
        .await?,
        "valueType",
    );
    let bad = json!({"modelType": "Capability", "idShort": "1st"});
    let answer = api
        .call(Method::POST, el("").trim_end_matches('/'), Some(bad))
        .await?;
    refused(answer, "AASd-002");
    // Nothing of it was stored.
    assert_eq!(
        api.get(&el("List%5B0%5D")).await?.1["modelType"],
        "Property"
    );
    assert_eq!(
        api.get(&el("List")).await?.1["value"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert_eq!(api.get(&el("Group.Temp")).await?.1["value"], "21");
    Ok(())
}

/// A new top-level element is verified under its own idShort, even one that reads as an
/// idShort path of several steps (`Group.Temp`, `List[0]`): it must not be taken for the
/// element that path names.
#[tokio::test]
async fn a_new_element_whose_id_short_reads_as_a_path_is_verified_itself() -> TestResult {
    let server = InProcess::new()?;
    let api = setup(&server).await?;
    let top = el("").trim_end_matches('/').to_owned();
    for id_short in ["Group.Temp", "List[0]", "Nowhere.Else"] {
        let bad = json!({"modelType": "Property", "idShort": id_short,
            "valueType": "xs:int", "value": "not a number"});
        let answer = api.call(Method::POST, &top, Some(bad)).await?;
        assert_eq!(answer.0, 400, "{id_short}: {answer:?}");
        assert!(answer.1.to_string().contains("AASd-002"), "{answer:?}");
    }
    let (status, submodel) = api.get(&format!("/submodels/{}", b64(SM))).await?;
    assert_eq!(status, 200);
    assert_eq!(
        submodel["submodelElements"].as_array().map(Vec::len),
        Some(5),
        "nothing was added"
    );
    Ok(())
}

#[tokio::test]
async fn content_modifiers_level_and_extent_shape_the_answer() -> TestResult {
    let server = InProcess::new()?;
    let api = setup(&server).await?;
    let sm = format!("/submodels/{}", b64(SM));

    let (_, metadata) = api.get(&format!("{sm}/$metadata")).await?;
    assert_eq!(metadata["idShort"], "Data");
    assert!(metadata.get("submodelElements").is_none());
    let (_, value) = api.get(&format!("{sm}/$value")).await?;
    assert_eq!(value["Group"]["Temp"], 21);
    assert_eq!(value["List"], json!([1.5, 2.5]));
    assert_eq!(
        value["Raw"],
        json!({"contentType": "application/octet-stream"}),
        "no blob value by default"
    );
    assert!(value.get("Can").is_none(), "a capability has no value");
    assert_eq!(
        api.get(&format!("{sm}/$reference")).await?.1["keys"][0]["value"],
        SM
    );
    let (_, paths) = api.get(&format!("{sm}/$path")).await?;
    assert_eq!(
        paths,
        json!([
            "Group",
            "Group.Temp",
            "Group.Inner",
            "Group.Inner.Deep",
            "List",
            "List[0]",
            "List[1]",
            "Manual",
            "Raw",
            "Can"
        ])
    );

    let (_, core) = api.get(&format!("{sm}?level=core")).await?;
    assert!(
        core["submodelElements"][0].get("value").is_none(),
        "core: children without theirs"
    );
    let (_, deep) = api.get(&sm).await?;
    assert_eq!(
        deep["submodelElements"][0]["value"][1]["value"][0]["idShort"],
        "Deep"
    );
    assert!(deep["submodelElements"][3].get("value").is_none());
    let (_, with_blob) = api.get(&format!("{sm}?extent=withBlobValue")).await?;
    assert_eq!(with_blob["submodelElements"][3]["value"], "AQID");
    assert_eq!(api.get(&format!("{sm}?level=shallow")).await?.0, 400);
    assert_eq!(api.get(&format!("{sm}?extent=all")).await?.0, 400);

    let (_, group_core) = api.get(&format!("{}?level=core", el("Group"))).await?;
    assert!(group_core["value"][1].get("value").is_none());
    assert_eq!(
        api.get(&format!("{}/$path", el("Group"))).await?.1,
        json!(["Group", "Group.Temp", "Group.Inner", "Group.Inner.Deep"])
    );
    assert_eq!(
        api.get(&format!("{}/$path", el("Group.Temp"))).await?.0,
        400
    );
    assert_eq!(api.get(&format!("{}/$metadata", el("Can"))).await?.0, 400);
    assert_eq!(api.get(&format!("{}/$value", el("Can"))).await?.0, 400);
    let (_, reference) = api.get(&format!("{}/$reference", el("Group.Temp"))).await?;
    assert_eq!(
        reference["keys"],
        json!([{"type": "Submodel", "value": SM},
        {"type": "SubmodelElementCollection", "value": "Group"}, {"type": "Property", "value": "Temp"}])
    );

    let (_, page) = api.get(&format!("{sm}/submodel-elements?limit=2")).await?;
    assert_eq!(page["result"].as_array().map(Vec::len), Some(2));
    let cursor = page["paging_metadata"]["cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, rest) = api
        .get(&format!("{sm}/submodel-elements?limit=10&cursor={cursor}"))
        .await?;
    assert_eq!(rest["result"].as_array().map(Vec::len), Some(3));
    assert!(rest["paging_metadata"].get("cursor").is_none());
    assert_eq!(
        api.get(&format!("{sm}/submodel-elements?limit=0")).await?.0,
        400
    );
    assert_eq!(
        api.get(&format!("{sm}/submodel-elements?limit=x")).await?.0,
        400
    );
    assert_eq!(
        api.get(&format!("{sm}/submodel-elements/$path")).await?.1["result"]
            .as_array()
            .map(Vec::len),
        Some(10)
    );

    assert_eq!(
        api.get(&format!("/submodels?semanticId={}", b64("urn:sem:data")))
            .await?
            .1["result"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        api.get(&format!("/submodels?semanticId={}", b64("urn:sem:none")))
            .await?
            .1["result"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert_eq!(
        api.get("/submodels?idShort=Data").await?.1["result"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        api.get("/submodels/$reference").await?.1["result"][0]["keys"][0]["value"],
        SM
    );
    assert_eq!(api.get("/submodels?semanticId=%25%25").await?.0, 400);
    Ok(())
}

#[tokio::test]
async fn attachments_of_files_and_blobs_are_stored_served_and_removed() -> TestResult {
    let server = InProcess::new()?;
    let api = setup(&server).await?;
    let manual = format!("{}/attachment", el("Manual"));
    assert_eq!(api.get(&manual).await?.0, 404, "nothing stored yet");
    assert_eq!(
        api.multipart(&manual, "guide.pdf", "application/pdf", b"%PDF-1.7 test")
            .await?,
        204
    );
    let (status, headers, bytes) = api.raw(Method::GET, &manual, &[], None).await?;
    assert_eq!(status, 200);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert!(
        headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("guide.pdf"))
    );
    assert_eq!(bytes, b"%PDF-1.7 test");
    assert_eq!(
        api.get(&el("Manual")).await?.1["value"],
        "/aasx/files/guide.pdf"
    );

    let (_, _, blob) = api
        .raw(Method::GET, &format!("{}/attachment", el("Raw")), &[], None)
        .await?;
    assert_eq!(blob, [1, 2, 3]);
    assert_eq!(
        api.get(&format!("{}/attachment", el("Group.Temp")))
            .await?
            .0,
        405
    );
    assert_eq!(
        api.multipart(
            &format!("{}/attachment", el("Group.Temp")),
            "a.txt",
            "text/plain",
            b"x"
        )
        .await?,
        405
    );
    assert_eq!(
        api.multipart(
            &format!("{}/attachment", el("Missing")),
            "a.txt",
            "text/plain",
            b"x"
        )
        .await?,
        404
    );

    assert_eq!(api.call(Method::DELETE, &manual, None).await?.0, 200);
    assert_eq!(api.get(&manual).await?.0, 404);
    assert!(api.get(&el("Manual")).await?.1.get("value").is_none());
    Ok(())
}

#[tokio::test]
async fn shell_parts_superpath_and_filters_answer_per_part2() -> TestResult {
    let server = InProcess::new()?;
    let api = setup(&server).await?;
    let shell = format!("/shells/{}", b64(AAS));

    assert_eq!(
        api.get(&format!("{shell}/$reference")).await?.1["keys"][0],
        json!({"type": "AssetAdministrationShell", "value": AAS})
    );
    assert_eq!(
        api.get(&format!(
            "{shell}/submodels/{}/submodel-elements/Group.Temp",
            b64(SM)
        ))
        .await?
        .1["value"],
        "21"
    );
    assert_eq!(
        api.get(&format!("{shell}/submodels/{}/$value", b64(SM)))
            .await?
            .1["Group"]["Temp"],
        21
    );
    assert_eq!(
        api.get(&format!(
            "{shell}/submodels/{}",
            b64("urn:sm:not-referenced")
        ))
        .await?
        .0,
        404
    );
    assert_eq!(
        api.get(&format!(
            "/shells/{}/submodels/{}",
            b64("urn:nope"),
            b64(SM)
        ))
        .await?
        .0,
        404
    );

    let (status, info) = api.get(&format!("{shell}/asset-information")).await?;
    assert_eq!(
        (status, info["globalAssetId"].as_str()),
        (200, Some("urn:asset:1"))
    );
    let new_info = json!({"assetKind": "Type", "globalAssetId": "urn:asset:2"});
    assert_eq!(
        api.call(
            Method::PUT,
            &format!("{shell}/asset-information"),
            Some(new_info)
        )
        .await?
        .0,
        204
    );
    assert_eq!(
        api.get(&shell).await?.1["assetInformation"]["assetKind"],
        "Type"
    );
    assert_eq!(
        api.call(
            Method::PUT,
            &format!("{shell}/asset-information"),
            Some(json!({"assetKind": "Bogus"}))
        )
        .await?
        .0,
        400
    );

    let refs = format!("{shell}/submodel-refs");
    assert_eq!(
        api.get(&refs).await?.1["result"].as_array().map(Vec::len),
        Some(1)
    );
    let reference =
        json!({"type": "ModelReference", "keys": [{"type": "Submodel", "value": "urn:sm:2"}]});
    assert_eq!(
        api.call(Method::POST, &refs, Some(reference.clone()))
            .await?
            .0,
        201
    );
    assert_eq!(api.call(Method::POST, &refs, Some(reference)).await?.0, 409);
    assert_eq!(
        api.call(Method::DELETE, &format!("{refs}/{}", b64("urn:sm:2")), None)
            .await?
            .0,
        204
    );
    assert_eq!(
        api.call(Method::DELETE, &format!("{refs}/{}", b64("urn:sm:2")), None)
            .await?
            .0,
        404
    );

    let thumbnail = format!("{shell}/asset-information/thumbnail");
    assert_eq!(api.get(&thumbnail).await?.0, 404);
    assert_eq!(
        api.multipart(&thumbnail, "machine.png", "image/png", b"\x89PNG fake")
            .await?,
        204
    );
    let (_, image_headers, image) = api.raw(Method::GET, &thumbnail, &[], None).await?;
    assert_eq!(
        image_headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    assert_eq!(image, b"\x89PNG fake");
    assert_eq!(
        api.get(&shell).await?.1["assetInformation"]["defaultThumbnail"]["path"],
        "/aasx/machine.png"
    );
    assert_eq!(api.call(Method::DELETE, &thumbnail, None).await?.0, 200);
    assert_eq!(api.call(Method::DELETE, &thumbnail, None).await?.0, 404);

    assert_eq!(
        api.get("/shells?idShort=Machine").await?.1["result"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        api.get("/shells?idShort=None").await?.1["result"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let asset = b64(&json!({"name": "globalAssetId", "value": "urn:asset:2"}).to_string());
    assert_eq!(
        api.get(&format!("/shells?assetIds={asset}")).await?.1["result"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(api.get("/shells?assetIds=bm90LWpzb24").await?.0, 400);
    assert_eq!(
        api.get("/shells/$reference").await?.1["result"][0]["keys"][0]["value"],
        AAS
    );
    Ok(())
}

#[tokio::test]
async fn serialization_answers_json_xml_and_aasx_with_stored_files_and_description_lists_profiles()
-> TestResult {
    let data = DataDir::new("elements-serialization");
    let server = InProcess::new()?;
    let api = setup(&server).await?;
    let cd =
        json!({"id": "urn:sem:data", "modelType": "ConceptDescription", "idShort": "DataConcept"});
    assert_eq!(
        api.call(Method::POST, "/concept-descriptions", Some(cd))
            .await?
            .0,
        201
    );
    assert_eq!(
        api.multipart(
            &format!("{}/attachment", el("Manual")),
            "guide.pdf",
            "application/pdf",
            b"%PDF-1.7 test"
        )
        .await?,
        204
    );
    assert_eq!(
        api.get("/concept-descriptions?idShort=DataConcept")
            .await?
            .1["result"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        api.get("/concept-descriptions?idShort=Other").await?.1["result"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    let query = format!("/serialization?aasIds={}&submodelIds={}", b64(AAS), b64(SM));
    let (status, environment) = api.get(&query).await?;
    assert_eq!(status, 200);
    assert_eq!(environment["assetAdministrationShells"][0]["id"], AAS);
    assert_eq!(environment["submodels"][0]["id"], SM);
    assert_eq!(
        environment["conceptDescriptions"][0]["id"], "urn:sem:data",
        "referenced by the semantic id"
    );
    let (_, without) = api
        .get(&format!("{query}&includeConceptDescriptions=false"))
        .await?;
    assert!(without.get("conceptDescriptions").is_none());

    let (status, _, xml) = api
        .raw(Method::GET, &query, &[("accept", "application/xml")], None)
        .await?;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&xml).contains("<environment"));
    let (status, _, package) = api
        .raw(Method::GET, &query, &[("accept", AASX)], None)
        .await?;
    assert_eq!(status, 200);
    let file = data.0.with_extension("serialized.aasx");
    std::fs::write(&file, &package)?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package.to_vec()))?;
    let mut pdf = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_name("aasx/files/guide.pdf")?, &mut pdf)?;
    assert_eq!(pdf, b"%PDF-1.7 test", "the package carries the stored file");
    aas_conformance_tests::assert_aas_core_accepts(std::slice::from_ref(&file));

    let (refused, _, _) = api
        .raw(Method::GET, &query, &[("accept", "text/csv")], None)
        .await?;
    assert_eq!(refused, 406);
    assert_eq!(
        api.get(&format!("/serialization?aasIds={}", b64("urn:unknown")))
            .await?
            .0,
        404
    );
    assert_eq!(api.get("/serialization?aasIds=%25").await?.0, 400);
    assert_eq!(
        api.get("/serialization?includeConceptDescriptions=maybe")
            .await?
            .0,
        400
    );
    let (_, all) = api.get("/serialization").await?;
    assert_eq!(
        all["submodels"].as_array().map(Vec::len),
        Some(1),
        "no ids: everything"
    );

    let (status, description) = api.get("/description").await?;
    assert_eq!(status, 200);
    assert!(
        description["profiles"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p
                .as_str()
                .is_some_and(|p| p.ends_with("SubmodelRepositoryServiceSpecification/SSP-002"))))
    );
    assert_eq!(api.get("/no-such-endpoint").await?.0, 404);
    Ok(())
}

#[tokio::test]
async fn a_package_loaded_at_start_brings_its_files_and_loading_it_again_announces_nothing()
-> TestResult {
    let source = InProcess::new()?;
    let api = setup(&source).await?;
    assert_eq!(
        api.multipart(
            &format!("{}/attachment", el("Manual")),
            "guide.pdf",
            "application/pdf",
            b"%PDF manual"
        )
        .await?,
        204
    );
    let thumbnail = format!("/shells/{}/asset-information/thumbnail", b64(AAS));
    assert_eq!(
        api.multipart(&thumbnail, "machine.png", "image/png", b"\x89PNG thumb")
            .await?,
        204
    );
    let (_, _, package) = api
        .raw(Method::GET, "/serialization", &[("accept", AASX)], None)
        .await?;
    let data = DataDir::new("elements-package-loaded");
    let file = data.0.with_extension("load.aasx");
    std::fs::write(&file, &package)?;

    let launch = support::Launch::hold_events()
        .arg("--load")
        .arg(file.display().to_string());
    let mut loaded = Server::launch(&data, &launch)?;
    let api = Client { api: &loaded };
    let (_, _, pdf) = api
        .raw(
            Method::GET,
            &format!("{}/attachment", el("Manual")),
            &[],
            None,
        )
        .await?;
    assert_eq!(pdf, b"%PDF manual");
    let (_, png_headers, png) = api.raw(Method::GET, &thumbnail, &[], None).await?;
    assert_eq!(
        png_headers
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    assert_eq!(png, b"\x89PNG thumb");
    let announced = loaded.outbox_topics()?.len();
    assert_eq!(
        announced, 2,
        "a created event for the shell and the submodel"
    );
    loaded.terminate()?;

    let again = Server::launch(&data, &launch)?;
    assert_eq!(
        again.outbox_topics()?.len(),
        announced,
        "stored the same already: nothing new"
    );
    std::fs::remove_file(&file)?;
    Ok(())
}
