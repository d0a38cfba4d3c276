//! Our own conformance walk of IDTA's Part 2 profile documents (`spec/openapi` of the shared
//! docs: one OpenAPI YAML per service specification profile, V3.0.4 and V3.1.2): for a server of
//! each AAS version,
//! - `/description` (at the root and at each single-object service base) lists exactly the
//!   profiles we claim;
//! - every operation of every claimed profile is in `/openapi.json` with exactly the success
//!   status codes the profile document lists;
//! - every operation, called on the running server with ids that do not exist (and minimal
//!   bodies), answers a status code the document lists for it (or its `default`), never 405 and
//!   never the router's "no such endpoint"; every error answer is a Part 2 `Result`
//!   (`messages`); a GET answers the same with a trailing slash.
//!
//! Every problem is one line of the failure message.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use yaml_rust2::{Yaml, YamlLoader};

mod support;

use support::{Api, DataDir, Failure, Launch, Server, b64, call, multipart};

/// The single-object services are served for one shell or submodel below these prefixes,
/// followed by the base64url id (decided for issue 22).
const AAS_SERVICE_PREFIX: &str = "/services/aas";
const SUBMODEL_SERVICE_PREFIX: &str = "/services/submodel";

/// The profiles the root `/description` claims (service specification, profile), of the
/// server's version.
const ROOT_CLAIMS: &[(&str, &str)] = &[
    (
        "AssetAdministrationShellRepositoryServiceSpecification",
        "SSP-001",
    ),
    (
        "AssetAdministrationShellRepositoryServiceSpecification",
        "SSP-002",
    ),
    ("SubmodelRepositoryServiceSpecification", "SSP-001"),
    ("SubmodelRepositoryServiceSpecification", "SSP-002"),
    (
        "ConceptDescriptionRepositoryServiceSpecification",
        "SSP-001",
    ),
    // Not V3.1's SSP-002 of concept descriptions: that is the Query profile
    // (`POST /query/concept-descriptions`), which this server does not implement.
];

/// The profiles `{prefix}/{id}/description` claims for the single-object services.
const AAS_SERVICE_CLAIMS: &[(&str, &str)] = &[
    ("AssetAdministrationShellServiceSpecification", "SSP-001"),
    ("AssetAdministrationShellServiceSpecification", "SSP-002"),
];
const SUBMODEL_SERVICE_CLAIMS: &[(&str, &str)] = &[
    ("SubmodelServiceSpecification", "SSP-001"),
    ("SubmodelServiceSpecification", "SSP-002"),
    ("SubmodelServiceSpecification", "SSP-003"),
];

const SHELL: &str = "urn:aas-rs:profiles:shell";
const SUBMODEL: &str = "urn:aas-rs:profiles:submodel";
const MISSING_SHELL: &str = "urn:aas-rs:profiles:missing-shell";
const MISSING_SUBMODEL: &str = "urn:aas-rs:profiles:missing-submodel";
const MISSING_CD: &str = "urn:aas-rs:profiles:missing-concept-description";
const MISSING_ELEMENT: &str = "MissingElement.Missing";
const MISSING_HANDLE: &str = "missing-handle";

/// One profile document: its identifier and operations.
struct Profile {
    identifier: String,
    file: PathBuf,
    operations: Vec<Operation>,
}

/// One operation of a profile document.
#[derive(Clone)]
struct Operation {
    method: String,
    /// The path as the document writes it (`/shells/{aasIdentifier}`).
    path: String,
    /// Every status code the document lists (2xx and errors).
    listed: BTreeSet<u16>,
    has_default: bool,
    /// The request body: content type and the schema's name (or `multipart`).
    body: Option<(String, String)>,
}

impl Operation {
    fn success(&self) -> BTreeSet<u16> {
        self.listed
            .iter()
            .copied()
            .filter(|code| (200..300).contains(code))
            .collect()
    }
}

fn version_folder(version: &str) -> &'static str {
    match version {
        "3.0" => "v3.0.4",
        _ => "v3.1.2",
    }
}

fn identifier(version: &str, service: &str, profile: &str) -> String {
    format!(
        "https://admin-shell.io/aas/API/{}/{service}/{profile}",
        version.replace('.', "/")
    )
}

/// Every `V3.x_SSP-*.yaml` of the version's folder, by profile identifier.
fn profile_documents(version: &str) -> Result<BTreeMap<String, Profile>, Failure> {
    let root = aas_conformance_tests::openapi_profiles_dir().join(version_folder(version));
    let mut profiles = BTreeMap::new();
    for service in std::fs::read_dir(&root)? {
        let service = service?.path();
        if !service.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&service)? {
            let file = file?.path();
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !(name.contains("_SSP-") && name.ends_with(".yaml")) {
                continue;
            }
            let profile = read_profile(&file)?;
            profiles.insert(profile.identifier.clone(), profile);
        }
    }
    Ok(profiles)
}

fn read_profile(file: &Path) -> Result<Profile, Failure> {
    let text = std::fs::read_to_string(file)?;
    let documents =
        YamlLoader::load_from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let document = documents
        .first()
        .ok_or_else(|| format!("{}: empty", file.display()))?;
    let identifier = document["info"]["x-profile-identifier"]
        .as_str()
        .ok_or_else(|| format!("{}: no info.x-profile-identifier", file.display()))?
        .to_owned();
    let mut operations = Vec::new();
    let paths = document["paths"]
        .as_hash()
        .ok_or_else(|| format!("{}: no paths", file.display()))?;
    for (path, item) in paths {
        let path = path.as_str().unwrap_or_default().to_owned();
        for method in ["get", "put", "post", "patch", "delete"] {
            let operation = &item[method];
            if operation.is_badvalue() {
                continue;
            }
            let mut listed = BTreeSet::new();
            let mut has_default = false;
            for (code, _) in operation["responses"].as_hash().into_iter().flatten() {
                let code = match code {
                    Yaml::Integer(code) => code.to_string(),
                    Yaml::String(code) => code.clone(),
                    _ => continue,
                };
                if code == "default" {
                    has_default = true;
                } else if let Ok(code) = code.parse() {
                    listed.insert(code);
                }
            }
            let body = operation["requestBody"]["content"]
                .as_hash()
                .and_then(|content| content.iter().next())
                .map(|(content_type, media)| {
                    let content_type = content_type.as_str().unwrap_or_default().to_owned();
                    let schema = media["schema"]["$ref"]
                        .as_str()
                        .and_then(|r| r.rsplit('/').next())
                        .unwrap_or("multipart")
                        .to_owned();
                    (content_type, schema)
                });
            operations.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                listed,
                has_default,
                body,
            });
        }
    }
    Ok(Profile {
        identifier,
        file: file.to_owned(),
        operations,
    })
}

/// `{anything}` → `{}`: path templates compared whatever their parameters are called.
fn normalized(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in path.chars() {
        match c {
            '{' => {
                inside = true;
                out.push_str("{}");
            }
            '}' => inside = false,
            _ if inside => {}
            _ => out.push(c),
        }
    }
    out
}

/// The path with its parameters filled in: missing ids, except the base's own id.
fn concrete(path: &str) -> String {
    path.replace("{aasIdentifier}", &b64(MISSING_SHELL))
        .replace("{submodelIdentifier}", &b64(MISSING_SUBMODEL))
        .replace("{cdIdentifier}", &b64(MISSING_CD))
        .replace("{idShortPath}", MISSING_ELEMENT)
        .replace("{handleId}", MISSING_HANDLE)
}

/// A minimal body of the schema the document names (ids that exist nowhere, or the service
/// base's own).
fn body_of(schema: &str, base_id: Option<&str>, serial: usize) -> Value {
    let fresh = format!("urn:aas-rs:profiles:new:{serial}");
    let id = base_id.map(str::to_owned).unwrap_or(fresh);
    let property = json!({"modelType": "Property", "idShort": "Minimal", "valueType": "xs:string", "value": "x"});
    match schema {
        "AssetAdministrationShell" => json!({"modelType": "AssetAdministrationShell", "id": id,
            "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:aas-rs:profiles:asset"}}),
        "AssetInformation" => {
            json!({"assetKind": "Instance", "globalAssetId": "urn:aas-rs:profiles:asset"})
        }
        "ConceptDescription" => json!({"modelType": "ConceptDescription", "id": id}),
        "Submodel" => json!({"modelType": "Submodel", "id": id, "submodelElements": [property]}),
        "SubmodelMetadata" => json!({"modelType": "Submodel", "id": id}),
        "SubmodelValue" => json!({"Minimal": "y"}),
        "SubmodelElement" => property,
        "SubmodelElementMetadata" => {
            json!({"modelType": "Property", "idShort": "Minimal", "valueType": "xs:string"})
        }
        "SubmodelElementValue" => json!("y"),
        "Reference" => json!({"type": "ModelReference",
            "keys": [{"type": "Submodel", "value": "urn:aas-rs:profiles:missing-reference"}]}),
        "OperationRequest" | "OperationRequestAsync" => {
            json!({"inputArguments": [], "inoutputArguments": [], "clientTimeoutDuration": "PT10S"})
        }
        "OperationRequestValueOnly" | "OperationRequestAsyncValueOnly" => {
            json!({"inputArguments": {}, "inoutputArguments": {}, "clientTimeoutDuration": "PT10S"})
        }
        "Query" => {
            json!({"$condition": {"$eq": [{"$field": "$aas#idShort"}, {"$strVal": "none"}]}})
        }
        _ => json!({}),
    }
}

/// The messages' texts of a Part 2 `Result`, or `None` when the answer is not one.
fn result_messages(bytes: &[u8]) -> Option<Vec<String>> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let messages = value.get("messages")?.as_array()?;
    Some(
        messages
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
            .collect(),
    )
}

/// Where an operation is served and which profiles list it.
struct Served {
    /// The full path template on our server (prefix + document path).
    template: String,
    /// The base's own id (single-object services), for bodies.
    base_id: Option<&'static str>,
    /// The concrete path prefix (single-object services: the base with its id).
    prefix: String,
    operation: Operation,
    profiles: Vec<String>,
}

/// The profiles `/description` at `path` lists.
async fn described(server: &Server, path: &str) -> Result<BTreeSet<String>, String> {
    let (status, body) = call(server, reqwest::Method::GET, path, None)
        .await
        .map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("{status} {body}"));
    }
    Ok(body["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect())
}

/// The whole walk for a server of `version`: the list of problems.
async fn walk(version: &str) -> Result<(Vec<String>, usize), Failure> {
    let documents = profile_documents(version)?;
    let data = DataDir::new(&format!("profiles-{}", version.replace('.', "")));
    let server = Server::launch(&data, &Launch::default().arg("--aas-version").arg(version))?;
    let mut problems = Vec::new();

    // The shell and submodel the single-object service bases serve.
    let shell = json!({"modelType": "AssetAdministrationShell", "id": SHELL,
        "assetInformation": {"assetKind": "Instance", "globalAssetId": "urn:aas-rs:profiles:asset"},
        "submodels": [{"type": "ModelReference", "keys": [{"type": "Submodel", "value": SUBMODEL}]}]});
    let submodel = json!({"modelType": "Submodel", "id": SUBMODEL, "submodelElements": [
        {"modelType": "Property", "idShort": "Temperature", "valueType": "xs:double", "value": "21.5"}]});
    for (path, body) in [("/shells", shell), ("/submodels", submodel)] {
        let (status, answer) = call(&server, reqwest::Method::POST, path, Some(body)).await?;
        if status != 201 {
            return Err(format!("set-up: POST {path}: {status} {answer}").into());
        }
    }
    let aas_base = format!("{AAS_SERVICE_PREFIX}/{}", b64(SHELL));
    let submodel_base = format!("{SUBMODEL_SERVICE_PREFIX}/{}", b64(SUBMODEL));

    // /description at the root and at each service base: exactly the claimed profiles.
    let claims = |list: &[(&str, &str)]| -> BTreeSet<String> {
        list.iter()
            .map(|(service, profile)| identifier(version, service, profile))
            .filter(|id| documents.contains_key(id))
            .collect()
    };
    // (concrete base, its template, claims, the base's own id)
    let sites = [
        ("", String::new(), ROOT_CLAIMS, None),
        (
            aas_base.as_str(),
            format!("{AAS_SERVICE_PREFIX}/{{aasIdentifier}}"),
            AAS_SERVICE_CLAIMS,
            Some(SHELL),
        ),
        (
            submodel_base.as_str(),
            format!("{SUBMODEL_SERVICE_PREFIX}/{{submodelIdentifier}}"),
            SUBMODEL_SERVICE_CLAIMS,
            Some(SUBMODEL),
        ),
    ];
    for (base, _, list, _) in &sites {
        let expected = claims(list);
        match described(&server, &format!("{base}/description")).await {
            Ok(listed) => {
                for missing in expected.difference(&listed) {
                    problems.push(format!("GET {base}/description: does not list {missing}"));
                }
                for extra in listed.difference(&expected) {
                    problems.push(format!(
                        "GET {base}/description: lists {extra}, which is not claimed here{}",
                        if documents.contains_key(extra) {
                            ""
                        } else {
                            " (no IDTA profile document has this identifier)"
                        }
                    ));
                }
            }
            Err(error) => problems.push(format!("GET {base}/description: {error}")),
        }
    }

    // Every operation of every claimed profile, once per (method, full path).
    let mut served: BTreeMap<(String, String), Served> = BTreeMap::new();
    for (base, template_prefix, list, base_id) in &sites {
        for id in claims(list) {
            let profile = &documents[&id];
            // `AssetAdministrationShellRepositoryServiceSpecification/SSP-001` → `AssetAdministrationShellRepository/SSP-001`
            let short = id
                .rsplit("/API/")
                .next()
                .unwrap_or(&id)
                .splitn(3, '/')
                .nth(2)
                .unwrap_or(&id)
                .replace("ServiceSpecification", "");
            for operation in &profile.operations {
                let template = format!("{template_prefix}{}", operation.path);
                let key = (normalized(&template), operation.method.clone());
                match served.get_mut(&key) {
                    Some(entry) => {
                        if entry.operation.success() != operation.success() {
                            problems.push(format!(
                                "documents disagree: {} {template}: {:?} in {}, {:?} in {}",
                                operation.method,
                                entry.operation.success(),
                                entry.profiles.join(", "),
                                operation.success(),
                                profile.file.display()
                            ));
                        }
                        entry.profiles.push(short.clone());
                    }
                    None => {
                        served.insert(
                            key,
                            Served {
                                template,
                                base_id: *base_id,
                                prefix: base.to_string(),
                                operation: operation.clone(),
                                profiles: vec![short.clone()],
                            },
                        );
                    }
                }
            }
        }
    }

    // (a) /openapi.json: each operation, with exactly the documented success codes.
    let (status, openapi) = call(&server, reqwest::Method::GET, "/openapi.json", None).await?;
    if status != 200 {
        return Err(format!("GET /openapi.json: {status}").into());
    }
    let mut documented: BTreeMap<(String, String), BTreeSet<u16>> = BTreeMap::new();
    for (path, item) in openapi["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let codes = operation["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(code, _)| code.parse::<u16>().ok())
                .filter(|code| (200..300).contains(code))
                .collect();
            documented.insert((normalized(path), method.to_uppercase()), codes);
        }
    }
    for (key, entry) in &served {
        let expected = entry.operation.success();
        let what = format!(
            "{} {} [{}]",
            entry.operation.method,
            entry.template,
            entry.profiles.join(", ")
        );
        match documented.get(key) {
            None => problems.push(format!("/openapi.json lacks {what}")),
            Some(codes) if *codes != expected => problems.push(format!(
                "/openapi.json: {what}: success codes {codes:?}, the profile lists {expected:?}"
            )),
            Some(_) => {}
        }
    }

    // The router's own "no such endpoint" answer, to tell it from a "not found" of an id.
    let (_, _, fallback) = server
        .request(reqwest::Method::GET, "/i22-no-such-endpoint", None)
        .await?;
    let fallback = result_messages(&fallback);

    // (b) each operation called for real.
    for (serial, entry) in served.values().enumerate() {
        let operation = &entry.operation;
        let path = format!("{}{}", entry.prefix, concrete(&operation.path));
        let what = format!(
            "{} {} [{}]",
            operation.method,
            entry.template,
            entry.profiles.join(", ")
        );
        let body = operation
            .body
            .as_ref()
            .map(|(content_type, schema)| -> (String, Vec<u8>) {
                if content_type.starts_with("multipart/") {
                    multipart("missing.pdf", b"%PDF-1.4\n%%EOF\n")
                } else {
                    let value = body_of(schema, entry.base_id, serial);
                    (content_type.clone(), value.to_string().into_bytes())
                }
            });
        let method = reqwest::Method::from_bytes(operation.method.as_bytes())?;
        let (status, _, answer) = server
            .request(
                method.clone(),
                &path,
                body.as_ref().map(|(t, b)| (t.as_str(), b.clone())),
            )
            .await?;
        let messages = result_messages(&answer);
        if status == 405 {
            problems.push(format!("{what}: 405 (method not served)"));
        } else if status == 404 && (messages.is_none() || messages == fallback) {
            problems.push(format!(
                "{what}: 404 from routing (no such endpoint){}",
                if operation.listed.contains(&404) {
                    ""
                } else {
                    "; 404 is not listed"
                }
            ));
        } else if !operation.listed.contains(&status) && !operation.has_default {
            problems.push(format!(
                "{what}: {status}, the profile lists {:?} and no default",
                operation.listed
            ));
        }
        if status >= 400 && status != 405 && messages.is_none() {
            problems.push(format!(
                "{what}: {status} without a Part 2 Result body: {}",
                String::from_utf8_lossy(&answer)
                    .chars()
                    .take(200)
                    .collect::<String>()
            ));
        }
        // A trailing slash changes nothing (IDTA's test engine asks for it).
        if operation.method == "GET" {
            let slashed = format!("{path}/");
            let (again, _, answer) = server.request(method, &slashed, None).await?;
            let routed_away = again == 404
                && messages != fallback
                && fallback.is_some()
                && result_messages(&answer) == fallback;
            if again != status || routed_away {
                let how = if routed_away {
                    " from routing (no such endpoint)"
                } else {
                    ""
                };
                problems.push(format!(
                    "{what}: {again}{how} with a trailing slash ({status} without)"
                ));
            }
        }
    }
    Ok((problems, served.len()))
}

async fn check(version: &str) -> support::TestResult {
    let (problems, operations) = walk(version).await?;
    let count = |needle: &str| problems.iter().filter(|p| p.contains(needle)).count();
    assert!(
        problems.is_empty(),
        "AAS {version}: {} problem(s) in {operations} operations of the claimed profiles \
         ({} /description, {} missing from /openapi.json, {} with other success codes there, \
         {} answered 405, {} not routed (404), {} with a trailing slash, {} without a Part 2 body):\n{}",
        problems.len(),
        count("/description:"),
        count("/openapi.json lacks"),
        count("success codes"),
        count(": 405"),
        count("404 from routing") - count("from routing (no such endpoint) with a trailing slash"),
        count("trailing slash"),
        count("without a Part 2"),
        problems.join("\n")
    );
    Ok(())
}

#[tokio::test]
async fn every_operation_of_the_claimed_v3_0_profiles_is_served_as_documented()
-> support::TestResult {
    check("3.0").await
}

#[tokio::test]
async fn every_operation_of_the_claimed_v3_1_profiles_is_served_as_documented()
-> support::TestResult {
    check("3.1").await
}
