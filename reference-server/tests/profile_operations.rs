//! The operations of the repository profiles' SSP-001 beyond reading (issue 22): PUT, PATCH and
//! DELETE of a submodel under its shell, PATCH of `$metadata`, PUT that creates, the success
//! codes the profile files list, trailing slashes, empty lists from BaSyx Python clients,
//! `/description` and `/openapi.json`; in process, with the events each change puts in the
//! outbox. Then, in server processes: a V3.0 server and `serve --load` with conflicting files.

use reqwest::Method;
use serde_json::{Value, json};

mod support;

use support::{Api, DataDir, InProcess, Launch, Server, TestResult, b64, call};

const AAS: &str = "urn:aas:profile";
const SM: &str = "urn:sm:profile";

fn shell(id: &str, submodels: &[&str]) -> Value {
    let references: Vec<Value> = submodels
        .iter()
        .map(|sm| json!({"type": "ModelReference", "keys": [{"type": "Submodel", "value": sm}]}))
        .collect();
    json!({"id": id, "modelType": "AssetAdministrationShell",
        "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:asset:profile"},
        "submodels": references})
}

fn submodel(id: &str) -> Value {
    json!({"id": id, "modelType": "Submodel", "idShort": "Data",
    "submodelElements": [
        {"modelType": "Property", "idShort": "Temp", "valueType": "xs:int", "value": "21"},
        {"modelType": "SubmodelElementCollection", "idShort": "Group", "value": [
            {"modelType": "Property", "idShort": "Inner", "valueType": "xs:string", "value": "x"}]}]})
}

fn under_shell(aas: &str, sm: &str) -> String {
    format!("/shells/{}/submodels/{}", b64(aas), b64(sm))
}

fn alone(sm: &str) -> String {
    format!("/submodels/{}", b64(sm))
}

fn topic(collection: &str, id: &str, kind: &str) -> String {
    format!("twinsphere/{collection}/{}/{kind}", b64(id))
}

/// A shell referring to `SM` (which is not stored yet) and to nothing else.
async fn with_shell(api: &InProcess) -> TestResult {
    let (status, answer) = call(api, Method::POST, "/shells", Some(shell(AAS, &[SM]))).await?;
    assert_eq!(status, 201, "{answer}");
    Ok(())
}

/// The topics of the events added to the outbox since `before` of them.
async fn events_since(api: &InProcess, before: usize) -> Result<Vec<String>, support::Failure> {
    Ok(api.outbox_topics().await?.split_off(before))
}

#[tokio::test]
async fn put_under_a_shell_creates_with_201_replaces_with_204_and_only_a_submodel_it_refers_to()
-> TestResult {
    let api = InProcess::new()?;
    with_shell(&api).await?;
    let before = api.outbox_topics().await?.len();
    let path = under_shell(AAS, SM);
    let body = ("application/json", submodel(SM).to_string().into_bytes());
    let (status, headers, created) = api.request(Method::PUT, &path, Some(body)).await?;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&created));
    assert_eq!(serde_json::from_slice::<Value>(&created)?["id"], SM);
    assert_eq!(
        headers.get("location").map(|v| v.to_str()).transpose()?,
        Some(path.as_str())
    );
    let mut renamed = submodel(SM);
    renamed["idShort"] = json!("Renamed");
    assert_eq!(call(&api, Method::PUT, &path, Some(renamed)).await?.0, 204);
    assert_eq!(
        call(&api, Method::GET, &path, None).await?.1["idShort"],
        "Renamed"
    );
    assert_eq!(
        events_since(&api, before).await?,
        [
            topic("submodels", SM, "created"),
            topic("submodels", SM, "updated")
        ]
    );

    // A submodel the shell does not refer to, or a shell that does not exist: 404, and
    // nothing is stored.
    let other = "urn:sm:other";
    let (status, answer) = call(
        &api,
        Method::PUT,
        &under_shell(AAS, other),
        Some(submodel(other)),
    )
    .await?;
    assert_eq!(status, 404, "{answer}");
    assert!(answer["messages"][0]["text"].is_string(), "{answer}");
    let missing_shell = under_shell("urn:aas:missing", SM);
    assert_eq!(
        call(&api, Method::PUT, &missing_shell, Some(submodel(SM)))
            .await?
            .0,
        404
    );
    assert_eq!(call(&api, Method::GET, &alone(other), None).await?.0, 404);
    // The body's id must be the path's.
    let (status, _) = call(&api, Method::PUT, &path, Some(submodel(other))).await?;
    assert_eq!(status, 400);
    assert_eq!(events_since(&api, before).await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn patch_of_a_submodel_updates_an_existing_one_and_answers_404_for_a_missing_one()
-> TestResult {
    let api = InProcess::new()?;
    with_shell(&api).await?;
    assert_eq!(
        call(&api, Method::POST, "/submodels", Some(submodel(SM)))
            .await?
            .0,
        201
    );
    let before = api.outbox_topics().await?.len();
    for (path, id_short) in [(under_shell(AAS, SM), "ViaShell"), (alone(SM), "Alone")] {
        let mut changed = submodel(SM);
        changed["idShort"] = json!(id_short);
        changed["submodelElements"] = json!([]);
        let (status, answer) = call(&api, Method::PATCH, &path, Some(changed)).await?;
        assert_eq!(status, 204, "{path}: {answer}");
        let (_, stored) = call(&api, Method::GET, &path, None).await?;
        assert_eq!(stored["idShort"], id_short);
        assert!(stored.get("submodelElements").is_none(), "{stored}");
    }
    assert_eq!(
        events_since(&api, before).await?,
        [
            topic("submodels", SM, "updated"),
            topic("submodels", SM, "updated")
        ]
    );
    // PATCH does not create (PUT does).
    let missing = "urn:sm:missing";
    let (status, answer) = call(
        &api,
        Method::PATCH,
        &alone(missing),
        Some(submodel(missing)),
    )
    .await?;
    assert_eq!(status, 404, "{answer}");
    assert_eq!(call(&api, Method::GET, &alone(missing), None).await?.0, 404);
    Ok(())
}

#[tokio::test]
async fn delete_under_a_shell_deletes_the_submodel_and_the_shells_reference_with_both_events()
-> TestResult {
    let api = InProcess::new()?;
    let kept = "urn:sm:kept";
    let (status, _) = call(&api, Method::POST, "/shells", Some(shell(AAS, &[SM, kept]))).await?;
    assert_eq!(status, 201);
    for id in [SM, kept] {
        let (status, _) = call(&api, Method::POST, "/submodels", Some(submodel(id))).await?;
        assert_eq!(status, 201);
    }
    // A shell that does not refer to the submodel deletes nothing.
    let (status, _) = call(&api, Method::POST, "/shells", Some(shell("urn:aas:b", &[]))).await?;
    assert_eq!(status, 201);
    let before = api.outbox_topics().await?.len();
    let unrelated = under_shell("urn:aas:b", SM);
    assert_eq!(call(&api, Method::DELETE, &unrelated, None).await?.0, 404);
    assert_eq!(call(&api, Method::GET, &alone(SM), None).await?.0, 200);

    let path = under_shell(AAS, SM);
    assert_eq!(call(&api, Method::DELETE, &path, None).await?.0, 204);
    assert_eq!(call(&api, Method::GET, &alone(SM), None).await?.0, 404);
    let (_, refs) = call(
        &api,
        Method::GET,
        &format!("/shells/{}/submodel-refs", b64(AAS)),
        None,
    )
    .await?;
    let refs = refs["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(refs[0]["keys"][0]["value"], kept);
    assert_eq!(
        events_since(&api, before).await?,
        [
            topic("shells", AAS, "updated"),
            topic("submodels", SM, "deleted")
        ]
    );
    assert_eq!(call(&api, Method::DELETE, &path, None).await?.0, 404);
    assert_eq!(events_since(&api, before).await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn patch_of_submodel_metadata_sets_its_attributes_and_keeps_its_elements() -> TestResult {
    let api = InProcess::new()?;
    with_shell(&api).await?;
    assert_eq!(
        call(&api, Method::POST, "/submodels", Some(submodel(SM)))
            .await?
            .0,
        201
    );
    let before = api.outbox_topics().await?.len();
    for (path, category) in [(under_shell(AAS, SM), "PARAMETER"), (alone(SM), "CONSTANT")] {
        let metadata = json!({"id": SM, "modelType": "Submodel", "idShort": "Meta",
            "category": category});
        let metadata_path = format!("{path}/$metadata");
        let (status, answer) = call(&api, Method::PATCH, &metadata_path, Some(metadata)).await?;
        assert_eq!(status, 204, "{answer}");
        let (_, stored) = call(&api, Method::GET, &path, None).await?;
        assert_eq!(
            (&stored["idShort"], &stored["category"]),
            (&json!("Meta"), &json!(category))
        );
        assert_eq!(stored["submodelElements"], submodel(SM)["submodelElements"]);
    }
    assert_eq!(events_since(&api, before).await?.len(), 2);

    let metadata_path = format!("{}/$metadata", alone(SM));
    let with_elements = submodel(SM);
    let other_id = json!({"id": "urn:sm:other", "modelType": "Submodel"});
    for refused in [with_elements, other_id] {
        let (status, answer) = call(&api, Method::PATCH, &metadata_path, Some(refused)).await?;
        assert_eq!(status, 400, "{answer}");
    }
    let missing = format!("{}/$metadata", alone("urn:sm:missing"));
    let body = json!({"id": "urn:sm:missing", "modelType": "Submodel"});
    assert_eq!(
        call(&api, Method::PATCH, &missing, Some(body)).await?.0,
        404
    );
    assert_eq!(events_since(&api, before).await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn patch_of_element_metadata_sets_its_attributes_and_keeps_its_value() -> TestResult {
    let api = InProcess::new()?;
    with_shell(&api).await?;
    assert_eq!(
        call(&api, Method::POST, "/submodels", Some(submodel(SM)))
            .await?
            .0,
        201
    );
    let before = api.outbox_topics().await?.len();
    for (prefix, category) in [(under_shell(AAS, SM), "PARAMETER"), (alone(SM), "VARIABLE")] {
        let path = format!("{prefix}/submodel-elements/Temp/$metadata");
        let metadata = json!({"modelType": "Property", "idShort": "Temp", "valueType": "xs:int",
            "category": category});
        let (status, answer) = call(&api, Method::PATCH, &path, Some(metadata)).await?;
        assert_eq!(status, 204, "{answer}");
        let element = format!("{prefix}/submodel-elements/Temp");
        let (_, stored) = call(&api, Method::GET, &element, None).await?;
        assert_eq!(
            (&stored["category"], &stored["value"]),
            (&json!(category), &json!("21"))
        );
    }
    // A collection keeps its elements.
    let group = format!("{}/submodel-elements/Group", alone(SM));
    let metadata = json!({"modelType": "SubmodelElementCollection", "idShort": "Group",
        "description": [{"language": "en", "text": "a group"}]});
    let (status, answer) = call(
        &api,
        Method::PATCH,
        &format!("{group}/$metadata"),
        Some(metadata),
    )
    .await?;
    assert_eq!(status, 204, "{answer}");
    let (_, stored) = call(&api, Method::GET, &group, None).await?;
    assert_eq!(stored["description"][0]["text"], "a group");
    assert_eq!(stored["value"][0]["idShort"], "Inner");
    assert_eq!(
        events_since(&api, before).await?,
        vec![topic("submodels", SM, "updated"); 3]
    );

    let temp = format!("{}/submodel-elements/Temp/$metadata", alone(SM));
    let refused = [
        // a value is not metadata
        json!({"modelType": "Property", "idShort": "Temp", "valueType": "xs:int", "value": "3"}),
        // another type
        json!({"modelType": "Range", "idShort": "Temp", "valueType": "xs:int"}),
        // another idShort
        json!({"modelType": "Property", "idShort": "Other", "valueType": "xs:int"}),
    ];
    for body in refused {
        let (status, answer) = call(&api, Method::PATCH, &temp, Some(body.clone())).await?;
        assert_eq!(status, 400, "{body}: {answer}");
    }
    let missing = format!("{}/submodel-elements/Missing/$metadata", alone(SM));
    let body = json!({"modelType": "Property", "idShort": "Missing", "valueType": "xs:int"});
    assert_eq!(
        call(&api, Method::PATCH, &missing, Some(body)).await?.0,
        404
    );
    assert_eq!(events_since(&api, before).await?.len(), 3);
    Ok(())
}

#[tokio::test]
async fn put_of_a_missing_element_creates_it_in_its_container_with_201() -> TestResult {
    let api = InProcess::new()?;
    assert_eq!(
        call(&api, Method::POST, "/submodels", Some(submodel(SM)))
            .await?
            .0,
        201
    );
    let before = api.outbox_topics().await?.len();
    let path = format!("{}/submodel-elements/Group.Added", alone(SM));
    let added = json!({"modelType": "Property", "idShort": "Added", "valueType": "xs:int",
        "value": "1"});
    let body = ("application/json", added.to_string().into_bytes());
    let (status, headers, answer) = api.request(Method::PUT, &path, Some(body)).await?;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
    assert_eq!(serde_json::from_slice::<Value>(&answer)?, added);
    assert_eq!(
        headers.get("location").map(|v| v.to_str()).transpose()?,
        Some(path.as_str())
    );
    let mut changed = added.clone();
    changed["value"] = json!("2");
    assert_eq!(call(&api, Method::PUT, &path, Some(changed)).await?.0, 204);
    assert_eq!(call(&api, Method::GET, &path, None).await?.1["value"], "2");
    assert_eq!(events_since(&api, before).await?.len(), 2);

    // No container at the path, or a name that is not the body's idShort: nothing created.
    let orphan = format!("{}/submodel-elements/Missing.Added", alone(SM));
    assert_eq!(
        call(&api, Method::PUT, &orphan, Some(added.clone()))
            .await?
            .0,
        404
    );
    let misnamed = format!("{}/submodel-elements/Group.Other", alone(SM));
    assert_eq!(
        call(&api, Method::PUT, &misnamed, Some(added)).await?.0,
        400
    );
    // PATCH of an element does not create.
    let patched = format!("{}/submodel-elements/Group.Patched", alone(SM));
    let body = json!({"modelType": "Property", "idShort": "Patched", "valueType": "xs:int"});
    assert_eq!(
        call(&api, Method::PATCH, &patched, Some(body)).await?.0,
        404
    );
    assert_eq!(events_since(&api, before).await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn put_of_a_shell_or_concept_description_answers_201_when_it_creates_and_204_after()
-> TestResult {
    let api = InProcess::new()?;
    let shell_path = format!("/shells/{}", b64(AAS));
    let cd = "urn:cd:profile";
    let cd_path = format!("/concept-descriptions/{}", b64(cd));
    let cd_body = json!({"id": cd, "modelType": "ConceptDescription"});
    for (path, body) in [(shell_path, shell(AAS, &[])), (cd_path, cd_body)] {
        let (status, answer) = call(&api, Method::PUT, &path, Some(body.clone())).await?;
        assert_eq!(status, 201, "{path}: {answer}");
        assert_eq!(answer["id"], body["id"]);
        assert_eq!(call(&api, Method::PUT, &path, Some(body)).await?.0, 204);
    }
    Ok(())
}

#[tokio::test]
async fn a_path_with_a_trailing_slash_is_served_as_the_path_without_it() -> TestResult {
    let api = InProcess::new()?;
    let (status, _) = call(&api, Method::POST, "/shells/", Some(shell(AAS, &[SM]))).await?;
    assert_eq!(status, 201);
    let (status, _) = call(&api, Method::POST, "/submodels", Some(submodel(SM))).await?;
    assert_eq!(status, 201);
    for path in [
        format!("/shells/{}/", b64(AAS)),
        format!("{}/", under_shell(AAS, SM)),
        format!("{}/submodel-elements/Temp/", alone(SM)),
        format!("{}/submodel-elements/?limit=1", alone(SM)),
        "/description/".to_owned(),
    ] {
        let (status, answer) = call(&api, Method::GET, &path, None).await?;
        assert_eq!(status, 200, "{path}: {answer}");
    }
    // The same answer as without the slash.
    let with = call(&api, Method::GET, &format!("/shells/{}/", b64(AAS)), None).await?;
    let without = call(&api, Method::GET, &format!("/shells/{}", b64(AAS)), None).await?;
    assert_eq!(with, without);
    // Swagger UI still answers (it redirects `/swagger` to `/swagger/`: not trimmed).
    let (status, _, _) = api.request(Method::GET, "/swagger/", None).await?;
    assert_eq!(status, 200);
    Ok(())
}

#[tokio::test]
async fn an_entity_with_empty_lists_as_basyx_python_writes_it_is_stored_and_real_errors_are_not()
-> TestResult {
    let api = InProcess::new()?;
    // What BaSyx Python 2.1 and 2.2 send for every Entity.
    let basyx = json!({"id": SM, "modelType": "Submodel", "idShort": "Data", "submodelElements": [
        {"modelType": "Entity", "idShort": "Machine", "entityType": "SelfManagedEntity",
         "globalAssetId": "urn:asset:machine", "specificAssetIds": [], "statements": []}]});
    let (status, answer) = call(&api, Method::POST, "/submodels", Some(basyx)).await?;
    assert_eq!(status, 201, "{answer}");
    let entity = &answer["submodelElements"][0];
    assert!(entity.get("specificAssetIds").is_none(), "{answer}");
    assert!(entity.get("statements").is_none(), "{answer}");
    // An empty list where one is required is still refused.
    let keys = json!({"id": "urn:sm:keys", "modelType": "Submodel",
        "semanticId": {"type": "ExternalReference", "keys": []}});
    let (status, answer) = call(&api, Method::POST, "/submodels", Some(keys)).await?;
    assert_eq!(status, 400, "{answer}");
    assert!(answer.to_string().contains("keys"), "{answer}");
    // A member given twice is refused as the strict reader refuses it, empty list or not.
    let twice =
        br#"{"modelType": "Submodel", "id": "urn:dup:1", "id": "urn:dup:2", "qualifiers": []}"#;
    let (status, _, answer) = api
        .request_with(
            Method::POST,
            "/submodels",
            &[],
            Some(("application/json", twice.to_vec())),
        )
        .await?;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&answer));
    Ok(())
}

#[tokio::test]
async fn description_and_openapi_name_the_v3_1_profiles_and_success_codes() -> TestResult {
    let api = InProcess::new()?;
    let (_, description) = call(&api, Method::GET, "/description", None).await?;
    let profiles = description["profiles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        profiles.contains(&json!(
            "https://admin-shell.io/aas/API/3/1/ConceptDescriptionRepositoryServiceSpecification/SSP-001"
        )),
        "{profiles:?}"
    );
    let (_, document) = call(&api, Method::GET, "/openapi.json", None).await?;
    let codes = |path: &str, method: &str| -> Vec<String> {
        let responses = &document["paths"][path][method]["responses"];
        let mut codes: Vec<String> = (responses.as_object().into_iter().flatten())
            .map(|(code, _)| code.clone())
            .filter(|code| code.starts_with('2'))
            .collect();
        codes.sort();
        codes
    };
    for (path, method) in [
        ("/shells/{aas}", "put"),
        ("/submodels/{sm}", "put"),
        ("/shells/{aas}/submodels/{sm}", "put"),
        ("/submodels/{sm}/submodel-elements/{path}", "put"),
        ("/concept-descriptions/{cd}", "put"),
    ] {
        assert_eq!(codes(path, method), ["201", "204"], "{method} {path}");
    }
    // V3.1 lists 204 beside the deprecated 200 for the thumbnail; we answer 200.
    assert_eq!(
        codes("/shells/{aas}/asset-information/thumbnail", "delete"),
        ["200", "204"]
    );
    for (path, method) in [
        (
            "/submodels/{sm}/submodel-elements/{path}/attachment",
            "delete",
        ),
        (
            "/shells/{aas}/submodels/{sm}/submodel-elements/{path}/attachment",
            "delete",
        ),
    ] {
        assert_eq!(codes(path, method), ["200"], "{method} {path}");
    }
    for (path, method) in [
        ("/shells/{aas}/submodels/{sm}", "patch"),
        ("/shells/{aas}/submodels/{sm}", "delete"),
        ("/submodels/{sm}/$metadata", "patch"),
        ("/shells/{aas}/submodels/{sm}/$metadata", "patch"),
        (
            "/submodels/{sm}/submodel-elements/{path}/$metadata",
            "patch",
        ),
        (
            "/shells/{aas}/submodels/{sm}/submodel-elements/{path}/$metadata",
            "patch",
        ),
    ] {
        assert_eq!(codes(path, method), ["204"], "{method} {path}");
    }
    let serialization = &document["paths"]["/serialization"]["get"]["responses"]["200"]["content"];
    for media in [
        "application/json",
        "application/xml",
        "application/asset-administration-shell-package+xml",
    ] {
        assert!(
            serialization.get(media).is_some(),
            "{media}: {serialization}"
        );
    }
    Ok(())
}

/// V3.0's profiles list only 204 for the PUTs that may create; the concept description profile
/// is `ConceptDescriptionRepositoryServiceSpecification`, as the V3.0.4 file's
/// `x-profile-identifier` says (its directory is named `ConceptDescriptionServiceSpecification`).
#[tokio::test]
async fn a_v3_0_server_answers_put_with_204_and_names_the_v3_0_profiles() -> TestResult {
    let data = DataDir::new("profile-3-0");
    let launch = Launch::hold_events().arg("--aas-version").arg("3.0");
    let server = Server::launch(&data, &launch)?;
    let path = format!("/shells/{}", b64(AAS));
    let (status, answer) = call(&server, Method::PUT, &path, Some(shell(AAS, &[]))).await?;
    assert_eq!(status, 204, "{answer}");
    assert_eq!(call(&server, Method::GET, &path, None).await?.0, 200);
    let (_, description) = call(&server, Method::GET, "/description", None).await?;
    let profiles = description["profiles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        profiles.contains(&json!(
            "https://admin-shell.io/aas/API/3/0/ConceptDescriptionRepositoryServiceSpecification/SSP-001"
        )),
        "{profiles:?}"
    );
    let (_, document) = call(&server, Method::GET, "/openapi.json", None).await?;
    let responses = &document["paths"]["/shells/{aas}"]["put"]["responses"];
    assert!(responses.get("204").is_some() && responses.get("201").is_none());
    Ok(())
}

#[tokio::test]
async fn load_warns_of_a_later_file_holding_an_earlier_files_id_with_other_content() -> TestResult {
    let data = DataDir::new("profile-load-conflict");
    std::fs::create_dir_all(&data.0)?;
    let files = data.0.parent().ok_or("no parent")?;
    let first = files.join(format!("conflict-first-{}.json", std::process::id()));
    let second = files.join(format!("conflict-second-{}.json", std::process::id()));
    let same = files.join(format!("conflict-same-{}.json", std::process::id()));
    let environment = |id_short: &str| {
        let mut changed = submodel(SM);
        changed["idShort"] = json!(id_short);
        json!({"submodels": [changed]}).to_string()
    };
    std::fs::write(&first, environment("First"))?;
    std::fs::write(&second, environment("Second"))?;
    std::fs::write(&same, environment("Second"))?;
    let mut launch = Launch::hold_events();
    for file in [&first, &second, &same] {
        launch = launch.arg("--load").arg(file.display().to_string());
    }
    let server = Server::launch(&data, &launch)?;
    let (_, stored) = call(&server, Method::GET, &alone(SM), None).await?;
    assert_eq!(stored["idShort"], "Second", "the later file wins");
    let log = server.log_text();
    let warnings: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("WARN") && line.contains("with other content"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "the same content twice is no conflict: {log}"
    );
    for part in [
        first.display().to_string(),
        second.display().to_string(),
        format!("{SM:?}"),
    ] {
        assert!(warnings[0].contains(&part), "{part} in {}", warnings[0]);
    }
    for file in [first, second, same] {
        let _ = std::fs::remove_file(file);
    }
    Ok(())
}

/// Writes a package holding the submodel `urn:sm:pkg` with a File whose bytes are `pdf`.
fn package_with_manual(path: &std::path::Path, pdf: &[u8]) -> TestResult {
    let mut file = aas_model::File::new("application/pdf").with_id_short("Manual");
    file.value = Some("/aasx/suppl/manual.pdf".into());
    let mut submodel = aas_model::Submodel::new("urn:sm:pkg");
    submodel.submodel_elements = Some(vec![file.into()]);
    let environment = aas_model::Environment {
        submodels: Some(vec![submodel]),
        ..aas_model::Environment::new()
    };
    let mut writer =
        aas_serde::aasx::AasxWriter::new(std::fs::File::create(path)?, aas_serde::Format::Json);
    writer.write_environment(&environment)?;
    writer.add_supplementary_file("/aasx/suppl/manual.pdf", "application/pdf", pdf)?;
    writer.finish()?;
    Ok(())
}

#[tokio::test]
async fn load_warns_of_a_later_package_replacing_an_earlier_packages_file_of_the_same_element()
-> TestResult {
    let data = DataDir::new("profile-load-file-conflict");
    std::fs::create_dir_all(&data.0)?;
    let files = data.0.parent().ok_or("no parent")?;
    let first = files.join(format!("files-first-{}.aasx", std::process::id()));
    let second = files.join(format!("files-second-{}.aasx", std::process::id()));
    package_with_manual(&first, b"%PDF first")?;
    package_with_manual(&second, b"%PDF second")?;
    let launch = (Launch::hold_events())
        .arg("--load")
        .arg(first.display().to_string())
        .arg("--load")
        .arg(second.display().to_string());
    let server = Server::launch(&data, &launch)?;
    let log = server.log_text();
    let warning = log
        .lines()
        .find(|line| line.contains("WARN") && line.contains("manual.pdf"))
        .ok_or_else(|| format!("no warning of the replaced file: {log}"))?;
    for part in [first.display().to_string(), second.display().to_string()] {
        assert!(warning.contains(&part), "{part} in {warning}");
    }
    for file in [first, second] {
        let _ = std::fs::remove_file(file);
    }
    Ok(())
}
