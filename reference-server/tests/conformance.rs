//! aas-test-engines 1.0.3 (`check_server`, from the oracle venv) against the server started
//! with `--load` on corpus data: the read profiles (SSP-002) of the AAS repository and the
//! submodel repository, and of the AAS service and the submodel service (at their base URLs
//! for one shell and one submodel), pass with no error, 100 % each.

use serde_json::{Value, json};

mod support;

use support::{DataDir, Launch, Server, TestResult, b64};

const ELEMENT_TYPES: [&str; 14] = [
    "Property",
    "MultiLanguageProperty",
    "Range",
    "ReferenceElement",
    "Blob",
    "File",
    "SubmodelElementCollection",
    "SubmodelElementList",
    "Entity",
    "BasicEventElement",
    "Operation",
    "Capability",
    "RelationshipElement",
    "AnnotatedRelationshipElement",
];

/// One environment from the corpus' `maximal.json` files: a shell, one submodel holding the
/// maximal element of every type (idShorts made unique), and a concept description.
fn corpus_environment() -> Result<Value, Box<dyn std::error::Error>> {
    let base = aas_conformance_tests::testgen("Json").join("ContainedInEnvironment/Expected");
    let read = |class: &str| -> Result<Value, Box<dyn std::error::Error>> {
        Ok(serde_json::from_slice(&std::fs::read(
            base.join(class).join("maximal.json"),
        )?)?)
    };
    let mut shell = read("AssetAdministrationShell")?["assetAdministrationShells"][0].clone();
    let mut submodel = Value::Null;
    let mut elements = Vec::new();
    for class in ELEMENT_TYPES {
        let environment = read(class)?;
        let source = &environment["submodels"][0];
        if submodel.is_null() {
            submodel = source.clone();
        }
        for element in source["submodelElements"].as_array().into_iter().flatten() {
            let mut element = element.clone();
            let id_short = format!("{}{class}", element["idShort"].as_str().unwrap_or("e"));
            element["idShort"] = json!(id_short);
            elements.push(element);
        }
    }
    submodel["submodelElements"] = Value::Array(elements);
    shell["submodels"] = json!([{"type": "ModelReference",
        "keys": [{"type": "Submodel", "value": submodel["id"]}]}]);
    let cds = read("ConceptDescription")?["conceptDescriptions"].clone();
    Ok(
        json!({"assetAdministrationShells": [shell], "submodels": [submodel], "conceptDescriptions": cds}),
    )
}

/// Every result node at error level or worse (2: error, 3: critical), as a path of messages.
fn errors(node: &Value, trail: &str, out: &mut Vec<String>) {
    let message = node["m"].as_str().unwrap_or_default().trim();
    let here = format!("{trail} / {message}");
    let children = node["s"].as_array().map(Vec::as_slice).unwrap_or_default();
    if node["l"].as_i64().unwrap_or(0) >= 2
        && children.iter().all(|c| c["l"].as_i64().unwrap_or(0) < 2)
    {
        out.push(here.clone());
    }
    for child in children {
        errors(child, &here, out);
    }
}

fn summary(node: &Value, out: &mut Vec<String>) {
    if let Some(message) = node["m"].as_str()
        && message.contains("tests passed")
    {
        out.push(message.to_owned());
    }
    for child in node["s"].as_array().into_iter().flatten() {
        summary(child, out);
    }
}

/// A V3.0 server (aas-test-engines 1.0.3 checks V3.0: its profiles, the V3.0 namespace and
/// schema) loading the V3.0 corpus environment; the environment with it.
fn corpus_server(name: &str) -> Result<(DataDir, Server, Value), Box<dyn std::error::Error>> {
    let data = DataDir::new(name);
    std::fs::create_dir_all(&data.0)?;
    let file = data.0.join("corpus-environment.json");
    let environment = corpus_environment()?;
    std::fs::write(&file, environment.to_string())?;
    let server = Server::launch(
        &data,
        &Launch::default()
            .arg("--aas-version")
            .arg("3.0")
            .arg("--load")
            .arg(file.display().to_string()),
    )?;
    Ok((data, server, environment))
}

/// Runs `check_server` for `profile` on the service at `base`: what falls short of 100 %, one
/// line each (empty: every check passed).
fn check_server(base: &str, profile: &str) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let output = std::process::Command::new(aas_conformance_tests::oracle_python())
        .args(["-m", "aas_test_engines", "check_server", base, profile])
        .args(["--output", "json"])
        .output()?;
    // It exits with 1 when a check fails, and still writes its report.
    let report: Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "check_server {profile} gave no JSON report ({e}; {}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    let mut found = Vec::new();
    if !output.status.success() {
        found.push(format!("check_server exited with {}", output.status));
    }
    errors(&report, "", &mut found);
    let mut counts = Vec::new();
    summary(&report, &mut counts);
    if counts.len() != 2 {
        found.push(format!("expected 2 \"tests passed\" summaries: {counts:?}"));
    }
    for line in &counts {
        let numbers: Vec<&str> = line
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .split('/')
            .map(str::trim)
            .collect();
        if !(numbers.len() == 2 && numbers[0] == numbers[1] && numbers[0] != "0") {
            found.push(format!("not 100 %: {line}"));
        }
    }
    Ok(found
        .into_iter()
        .map(|line| {
            let line = line.replace(&format!(" / Checking compliance to {profile}"), "");
            format!("{profile} at {base}: {line}")
        })
        .collect())
}

#[test]
fn aas_test_engines_passes_the_repository_read_profiles() -> TestResult {
    let (_data, server, _) = corpus_server("conformance")?;
    let mut problems = Vec::new();
    for profile in [
        "https://admin-shell.io/aas/API/3/0/AssetAdministrationShellRepositoryServiceSpecification/SSP-002",
        "https://admin-shell.io/aas/API/3/0/SubmodelRepositoryServiceSpecification/SSP-002",
    ] {
        problems.extend(check_server(&server.base, profile)?);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// The single-object services are served for one shell at `/services/aas/{base64url id}` and
/// for one submodel at `/services/submodel/{base64url id}` (issue 22).
#[test]
fn aas_test_engines_passes_the_service_read_profiles_at_their_base_urls() -> TestResult {
    let (_data, server, environment) = corpus_server("conformance-services")?;
    let shell = environment["assetAdministrationShells"][0]["id"]
        .as_str()
        .ok_or("the corpus shell has no id")?;
    let submodel = environment["submodels"][0]["id"]
        .as_str()
        .ok_or("the corpus submodel has no id")?;
    let mut problems = Vec::new();
    for (base, profile) in [
        (
            format!("{}/services/aas/{}", server.base, b64(shell)),
            "https://admin-shell.io/aas/API/3/0/AssetAdministrationShellServiceSpecification/SSP-002",
        ),
        (
            format!("{}/services/submodel/{}", server.base, b64(submodel)),
            "https://admin-shell.io/aas/API/3/0/SubmodelServiceSpecification/SSP-002",
        ),
    ] {
        problems.extend(check_server(&base, profile)?);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}
