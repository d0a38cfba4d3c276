//! aas-test-engines 1.0.3 (`check_server`, from the oracle venv) against the server started
//! with `--load` on corpus data: the read profiles of the AAS repository and the submodel
//! repository (SSP-002) pass with no error.

use serde_json::{Value, json};

mod support;

use support::{DataDir, Launch, Server, TestResult};

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

#[test]
fn aas_test_engines_passes_the_repository_read_profiles() -> TestResult {
    let data = DataDir::new("conformance");
    std::fs::create_dir_all(&data.0)?;
    let file = data.0.join("corpus-environment.json");
    std::fs::write(&file, corpus_environment()?.to_string())?;
    // aas-test-engines 1.0.3 checks V3.0 (its profiles, the V3.0 namespace and schema): a
    // V3.0 server, loading the V3.0 corpus as V3.0.
    let server = Server::launch(
        &data,
        &Launch::default()
            .arg("--aas-version")
            .arg("3.0")
            .arg("--load")
            .arg(file.display().to_string()),
    )?;
    for profile in [
        "https://admin-shell.io/aas/API/3/0/AssetAdministrationShellRepositoryServiceSpecification/SSP-002",
        "https://admin-shell.io/aas/API/3/0/SubmodelRepositoryServiceSpecification/SSP-002",
    ] {
        let output = std::process::Command::new(aas_conformance_tests::oracle_python())
            .args([
                "-m",
                "aas_test_engines",
                "check_server",
                &server.base,
                profile,
            ])
            .args(["--output", "json"])
            .output()?;
        assert!(
            output.status.success(),
            "check_server failed to run: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout)?;
        let mut found = Vec::new();
        errors(&report, "", &mut found);
        assert!(found.is_empty(), "{profile}:\n{}", found.join("\n"));
        let mut counts = Vec::new();
        summary(&report, &mut counts);
        assert_eq!(counts.len(), 2, "{profile}: {counts:?}");
        for line in &counts {
            let numbers: Vec<&str> = line
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .split('/')
                .map(str::trim)
                .collect();
            assert!(
                numbers.len() == 2 && numbers[0] == numbers[1] && numbers[0] != "0",
                "{profile}: {line}"
            );
        }
    }
    Ok(())
}
