//! The `convert` and `validate` commands, run as a user runs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aas_conformance_tests::testgen;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reference-server"))
}

/// Runs the binary. These tests read the V3.0 corpus: `convert` and `validate` read its JSON as
/// V3.0 (`--aas 3.0`), as before V3.1 was supported; the version tests below use [`bin`].
fn run(args: &[&Path]) -> Output {
    let mut command = bin();
    match args.split_first() {
        Some((first, rest))
            if *first == Path::new("convert") || *first == Path::new("validate") =>
        {
            command.arg(first).args(["--aas", "3.0"]).args(rest)
        }
        _ => command.args(args),
    };
    command.output().expect("run reference-server")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir.join(name)
}

fn maximal_environment() -> PathBuf {
    testgen("Json").join("SelfContained/Expected/Environment/maximal.json")
}

fn null_violation() -> PathBuf {
    testgen("Json").join(
        "ContainedInEnvironment/Unexpected/Unserializable/NullViolation/Property/valueType.json",
    )
}

#[test]
fn convert_writes_a_file_that_reads_back_to_the_same_model() {
    let out = scratch("converted.json");
    let output = run(&[Path::new("convert"), &maximal_environment(), &out]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let original: aas_model::Environment =
        aas_serde::json::from_slice(&std::fs::read(maximal_environment()).unwrap()).unwrap();
    let converted: aas_model::Environment =
        aas_serde::json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(original, converted);
}

#[test]
fn convert_of_unreadable_input_exits_2_with_one_line_naming_file_and_path() {
    let out = scratch("never-written.json");
    let _ = std::fs::remove_file(&out);
    let output = run(&[Path::new("convert"), &null_violation(), &out]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.contains("valueType.json"), "stderr: {stderr}");
    assert!(
        stderr.contains("$.submodels[0].submodelElements[0].valueType"),
        "stderr: {stderr}"
    );
    assert!(!out.exists(), "no output is written for unreadable input");
}

#[test]
fn convert_refuses_unknown_extensions() {
    let output = run(&[
        Path::new("convert"),
        &maximal_environment(),
        &scratch("out.txt"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported file extension"));
}

#[test]
fn convert_keeps_event_payload_roots() {
    let input = testgen("Json").join("SelfContained/Expected/EventPayload/maximal.json");
    let out = scratch("payload.json");
    let output = run(&[Path::new("convert"), &input, &out]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let payload: aas_model::EventPayload =
        aas_serde::json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(payload.time_stamp, "2022-04-01T24:00:00-00:00");
}

#[test]
fn validate_exits_0_when_all_read_and_2_when_one_cannot_be_read() {
    let ok = run(&[Path::new("validate"), &maximal_environment()]);
    assert_eq!(ok.status.code(), Some(0));
    let valid = format!("{}: AAS 3.0: valid\n", maximal_environment().display());
    assert_eq!(String::from_utf8_lossy(&ok.stdout), valid);

    let mixed = run(&[
        Path::new("validate"),
        &maximal_environment(),
        &null_violation(),
        Path::new("/no/such/file.json"),
    ]);
    assert_eq!(mixed.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&mixed.stderr);
    assert_eq!(
        stderr.lines().count(),
        2,
        "one line per unreadable file: {stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&mixed.stdout),
        valid,
        "errors go to stderr, only the readable file's version line to stdout"
    );
}

#[test]
fn help_lists_the_subcommands() {
    let output = bin().arg("--help").output().expect("run");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("convert") && stdout.contains("validate") && stdout.contains("serve"),
        "{stdout}"
    );
}

fn constraint_violation() -> PathBuf {
    testgen("Json").join("ContainedInEnvironment/Unexpected/Invalid/ConstraintViolation/SubmodelElementList/id_short_in_a_value.json")
}

#[test]
fn validate_prints_findings_as_file_path_constraint_message_and_exits_1() {
    let output = run(&[
        Path::new("validate"),
        &maximal_environment(),
        &constraint_violation(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let expected = format!(
        "{}: AAS 3.0: valid\n\
         {violation}: submodels[0].submodelElements[0].value[0] (someList): AASd-120: items of a submodel element list must not have an idShort; remove it (AAS V3.0)\n\
         {violation}: AAS 3.0: 1 finding(s)\n",
        maximal_environment().display(),
        violation = constraint_violation().display()
    );
    assert_eq!(stdout, expected);
    assert!(output.stderr.is_empty());
}

#[test]
fn validate_exit_code_is_the_worst_of_all_files() {
    let output = run(&[
        Path::new("validate"),
        &constraint_violation(),
        &null_violation(),
        &maximal_environment(),
    ]);
    assert_eq!(output.status.code(), Some(2), "unreadable beats findings");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).lines().count(),
        3,
        "one finding and two version lines"
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr).lines().count(), 1);
}

#[test]
fn convert_with_verify_refuses_a_model_with_findings_and_converts_a_valid_one() {
    let out = scratch("verified.json");
    let _ = std::fs::remove_file(&out);
    let refused = run(&[
        Path::new("convert"),
        Path::new("--verify"),
        &constraint_violation(),
        &out,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("AASd-120"));
    assert!(
        !out.exists(),
        "nothing is written for a model with findings"
    );

    let without_flag = run(&[Path::new("convert"), &constraint_violation(), &out]);
    assert_eq!(
        without_flag.status.code(),
        Some(0),
        "without --verify invalid models convert"
    );

    let _ = std::fs::remove_file(&out);
    let valid = run(&[
        Path::new("convert"),
        Path::new("--verify"),
        &maximal_environment(),
        &out,
    ]);
    assert_eq!(valid.status.code(), Some(0));
    assert!(out.exists());
}

#[test]
fn convert_goes_from_json_to_xml_and_back_without_loss() {
    let xml = scratch("maximal.xml");
    let json = scratch("maximal-again.json");
    assert_eq!(
        run(&[Path::new("convert"), &maximal_environment(), &xml])
            .status
            .code(),
        Some(0)
    );
    assert!(
        std::fs::read_to_string(&xml)
            .unwrap()
            .contains("<environment xmlns=\"https://admin-shell.io/aas/3/0\">")
    );
    assert_eq!(
        run(&[Path::new("convert"), &xml, &json]).status.code(),
        Some(0)
    );
    let original: aas_model::Environment =
        aas_serde::json::from_slice(&std::fs::read(maximal_environment()).unwrap()).unwrap();
    let again: aas_model::Environment =
        aas_serde::json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(original, again);
    let validated = run(&[Path::new("validate"), &xml]);
    assert_eq!(
        validated.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&validated.stdout)
    );
}

#[test]
fn a_string_xml_cannot_hold_is_a_write_error_and_leaves_no_file() {
    let input = scratch("control-character.json");
    std::fs::write(
        &input,
        r#"{"submodels":[{"modelType":"Submodel","id":"urn:sm","submodelElements":[{"modelType":"Property","idShort":"P","valueType":"xs:string","value":"bell\u0007"}]}]}"#,
    )
    .unwrap();
    let out = scratch("control-character.xml");
    let _ = std::fs::remove_file(&out);
    let output = run(&[Path::new("convert"), &input, &out]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "/environment/submodels/submodel/submodelElements/property/value: character U+0007"
        ),
        "{stderr}"
    );
    assert!(!out.exists(), "no broken file is left behind");
    // Only this output's temporary files: tests running beside it write theirs into the same
    // directory (counting those failed this test now and then).
    let leftovers: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("control-character.xml.") && name.ends_with(".partial"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files removed: {leftovers:?}"
    );
}

fn read_package(path: &Path) -> aas_serde::aasx::AasxReader<std::fs::File> {
    aas_serde::aasx::AasxReader::new(std::fs::File::open(path).unwrap()).unwrap()
}

#[test]
fn convert_writes_packages_with_either_spec_format_and_reads_them_back() {
    for (flag, part) in [("xml", "/aasx/data.xml"), ("json", "/aasx/data.json")] {
        let package = scratch(&format!("maximal-{flag}.aasx"));
        let back = scratch(&format!("maximal-from-{flag}.json"));
        let output = run(&[
            Path::new("convert"),
            Path::new("--spec-format"),
            Path::new(flag),
            &maximal_environment(),
            &package,
        ]);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(read_package(&package).spec_parts()[0].name, part);
        assert_eq!(
            run(&[Path::new("convert"), &package, &back]).status.code(),
            Some(0)
        );
        let original: aas_model::Environment =
            aas_serde::json::from_slice(&std::fs::read(maximal_environment()).unwrap()).unwrap();
        let again: aas_model::Environment =
            aas_serde::json::from_slice(&std::fs::read(&back).unwrap()).unwrap();
        assert_eq!(original, again);
    }
}

#[test]
fn package_to_package_keeps_supplementary_files_and_thumbnail() {
    let source = scratch("with-files.aasx");
    let mut file = aas_model::File::new("application/pdf").with_id_short("Manual");
    file.value = Some("/aasx/suppl/manual.pdf".into());
    let mut submodel = aas_model::Submodel::new("urn:sm");
    submodel.submodel_elements = Some(vec![file.into()]);
    let env = aas_model::Environment {
        submodels: Some(vec![submodel]),
        ..aas_model::Environment::new()
    };
    let mut writer = aas_serde::aasx::AasxWriter::new(
        std::fs::File::create(&source).unwrap(),
        aas_serde::Format::Xml,
    );
    writer.write_environment(&env).unwrap();
    writer
        .add_supplementary_file(
            "/aasx/suppl/manual.pdf",
            "application/pdf",
            &b"%PDF manual"[..],
        )
        .unwrap();
    writer
        .set_thumbnail("/aasx/thumbnail.png", "image/png", &b"\x89PNG"[..])
        .unwrap();
    writer.finish().unwrap();

    let copy = scratch("copy.aasx");
    let output = run(&[
        Path::new("convert"),
        Path::new("--spec-format"),
        Path::new("json"),
        &source,
        &copy,
    ]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut package = read_package(&copy);
    assert_eq!(package.environment().unwrap(), env);
    assert_eq!(package.supplementary_files(), ["/aasx/suppl/manual.pdf"]);
    let mut content = Vec::new();
    std::io::Read::read_to_end(
        &mut package.open("/aasx/suppl/manual.pdf").unwrap(),
        &mut content,
    )
    .unwrap();
    assert_eq!(content, b"%PDF manual");
    assert_eq!(package.thumbnail(), Some("/aasx/thumbnail.png"));
}

/// A zip with the given entries.
fn zip_file(path: &Path, entries: &[(&str, &[u8])]) {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, content) in entries {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(content).unwrap();
    }
    writer.finish().unwrap();
}

#[test]
fn validate_reads_packages_and_prints_repairs_as_warnings() {
    let package = scratch("legacy.aasx");
    let rels = |type_: &str, target: &str| {
        format!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r" Type="http://www.admin-shell.io/aasx/relationships/{type_}" Target="{target}"/></Relationships>"#
        )
    };
    let env = aas_serde::xml::to_vec(&aas_model::Environment::new()).unwrap();
    zip_file(
        &package,
        &[
            (
                "_rels/.rels",
                rels("aasx-origin", "/aasx/aasx-origin").as_bytes(),
            ),
            ("aasx/aasx-origin", b""),
            (
                "aasx/_rels/aasx-origin.rels",
                rels("aas-spec", "/aasx/data.xml").as_bytes(),
            ),
            ("aasx/data.xml", &env),
        ],
    );
    let output = run(&[Path::new("validate"), &package]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "warnings do not change the exit code"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("warning:") && stderr.contains("legacy namespace"),
        "{stderr}"
    );
}

#[test]
fn an_event_payload_cannot_become_a_package() {
    let input = testgen("Json").join("SelfContained/Expected/EventPayload/maximal.json");
    let output = run(&[Path::new("convert"), &input, &scratch("payload.aasx")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("an event payload cannot go into an AASX package")
    );
}

#[test]
fn hostile_packages_are_refused_and_write_nothing_outside_the_target() {
    let dir = scratch("hostile");
    std::fs::create_dir_all(&dir).unwrap();
    let package = dir.join("evil.aasx");
    zip_file(
        &package,
        &[("../evil", b"owned"), ("aasx/data.xml", b"<x/>")],
    );
    let out = dir.join("out.json");
    let output = run(&[Path::new("convert"), &package, &out]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsafe entry name \"../evil\""));
    assert!(!out.exists());
    assert!(
        !dir.parent().unwrap().join("evil").exists(),
        "nothing is extracted"
    );
}

#[test]
fn validate_refuses_a_relationship_bomb_with_one_line_naming_the_limit() {
    use std::io::Write;
    // 100,001 small relationships (4 MB of XML, a few hundred KB deflated; varied enough to
    // compress far less than the zip-bomb ratio limit): one more than a part may hold.
    let mut rels = String::from(
        r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="o" Type="http://admin-shell.io/aasx/relationships/aasx-origin" Target="/aasx/aasx-origin"/>"#,
    );
    for i in 0..100_000 {
        rels.push_str(&format!(
            "<Relationship Id=\"r{i}\" Type=\"t\" Target=\"/{i}\"/>\n"
        ));
    }
    rels.push_str("</Relationships>");
    let package = scratch("relationship-bomb.aasx");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&package).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    writer.start_file("_rels/.rels", options).unwrap();
    writer.write_all(rels.as_bytes()).unwrap();
    writer.start_file("aasx/aasx-origin", options).unwrap();
    writer.finish().unwrap();
    assert!(
        std::fs::metadata(&package).unwrap().len() < 1 << 20,
        "the bomb stays small"
    );

    let output = run(&[Path::new("validate"), &package]);
    assert_eq!(output.status.code(), Some(2), "unreadable");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("relationship-bomb.aasx")
            && stderr.contains("\"/_rels/.rels\" holds more than 100000 relationships")
            && stderr.contains("max_relationships_per_part"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

// ---- AAS versions ----------------------------------------------------------------------------

/// An environment valid in both versions, and the same with a shell of `AssetKind` `Role`
/// (new in V3.1), as JSON files.
fn version_inputs() -> (PathBuf, PathBuf) {
    let both = scratch("both-versions.json");
    let role = scratch("role.json");
    let shell = |kind: &str| {
        format!(
            r#"{{"assetAdministrationShells":[{{"modelType":"AssetAdministrationShell","id":"urn:aas:1","assetInformation":{{"assetKind":"{kind}","globalAssetId":"urn:asset:1"}}}}]}}"#
        )
    };
    // Tests running at once write the same files: each writes a file of its own and renames
    // it into place, so that no test reads one another is truncating.
    for (path, kind) in [(&both, "Instance"), (&role, "Role")] {
        let own = path.with_extension(format!("{:?}.tmp", std::thread::current().id()));
        std::fs::write(&own, shell(kind)).unwrap();
        std::fs::rename(&own, path).unwrap();
    }
    (both, role)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_prints_each_files_version_json_as_aas_says() {
    let (both, _) = version_inputs();
    for (flag, says) in [
        (None, "AAS 3.1"),
        (Some("3.0"), "AAS 3.0"),
        (Some("3.1"), "AAS 3.1"),
    ] {
        let mut command = bin();
        command.arg("validate");
        if let Some(flag) = flag {
            command.args(["--aas", flag]);
        }
        let output = command.arg(&both).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        assert_eq!(
            text(&output.stdout),
            format!("{}: {says}: valid\n", both.display()),
            "--aas {flag:?}"
        );
    }
}

/// Needs aas-serde's versioned XML reader (issue 20): at 9461f0d every XML file reads as 3.1.
#[test]
fn validate_reads_xml_by_its_namespace_whatever_aas_says() {
    let (both, _) = version_inputs();
    let xml = scratch("both-versions-3-0.xml");
    let made = bin()
        .args(["convert", "--to-aas", "3.0"])
        .arg(&both)
        .arg(&xml)
        .output()
        .unwrap();
    assert_eq!(made.status.code(), Some(0), "{}", text(&made.stderr));
    let output = bin()
        .args(["validate", "--aas", "3.1"])
        .arg(&xml)
        .output()
        .unwrap();
    assert_eq!(
        text(&output.stdout),
        format!("{}: AAS 3.0: valid\n", xml.display())
    );
}

#[test]
fn validate_verifies_by_the_version_read_as_role_is_refused_in_3_0_only() {
    let (_, role) = version_inputs();
    let as_3_1 = bin().args(["validate"]).arg(&role).output().unwrap();
    assert_eq!(as_3_1.status.code(), Some(0), "{}", text(&as_3_1.stdout));
    let as_3_0 = bin()
        .args(["validate", "--aas", "3.0"])
        .arg(&role)
        .output()
        .unwrap();
    assert_ne!(as_3_0.status.code(), Some(0));
    let said = text(&as_3_0.stdout) + &text(&as_3_0.stderr);
    assert!(said.contains("Role"), "{said}");
}

#[test]
fn convert_writes_xml_and_packages_in_the_version_asked_for_default_the_inputs() {
    let (both, _) = version_inputs();
    let namespace = |version: &str| format!("xmlns=\"https://admin-shell.io/aas/{version}\"");
    for (flags, expected) in [
        (vec![], "3/1"),
        (vec!["--aas", "3.0"], "3/0"),
        (vec!["--to-aas", "3.0"], "3/0"),
        (vec!["--aas", "3.0", "--to-aas", "3.1"], "3/1"),
    ] {
        let xml = scratch(&format!("asked-{}.xml", flags.join("")));
        let output = bin()
            .arg("convert")
            .args(&flags)
            .arg(&both)
            .arg(&xml)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{flags:?}: {}",
            text(&output.stderr)
        );
        let written = std::fs::read_to_string(&xml).unwrap();
        assert!(
            written.contains(&namespace(expected)),
            "{flags:?}: {written}"
        );
    }
    let package = scratch("asked-3-0.aasx");
    let output = bin()
        .args(["convert", "--to-aas", "3.0"])
        .arg(&both)
        .arg(&package)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let mut reader = read_package(&package);
    let mut spec = String::new();
    std::io::Read::read_to_string(&mut reader.open("/aasx/data.xml").unwrap(), &mut spec).unwrap();
    assert!(spec.contains(&namespace("3/0")), "{spec}");
}

/// Needs aas-model's conversion rules (issue 20): at 9461f0d `convert` reports nothing.
#[test]
fn convert_to_3_0_of_a_role_shell_is_refused_with_the_report_and_written_with_lossy() {
    let (_, role) = version_inputs();
    let out = scratch("role-3-0.json");
    let _ = std::fs::remove_file(&out);
    let refused = bin()
        .args(["convert", "--to-aas", "3.0"])
        .arg(&role)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let report = text(&refused.stderr);
    assert!(
        report.contains("AAS 3.1 -> 3.0")
            && report.contains("assetKind")
            && report.contains("--lossy"),
        "{report}"
    );
    assert!(!out.exists(), "nothing written");

    let lossy = bin()
        .args(["convert", "--to-aas", "3.0", "--lossy"])
        .arg(&role)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(lossy.status.code(), Some(0), "{}", text(&lossy.stderr));
    assert!(
        text(&lossy.stderr).contains("assetKind"),
        "the report is still printed"
    );
    let written: aas_model::Environment =
        aas_serde::json::from_slice_as(&std::fs::read(&out).unwrap(), aas_model::Version::V3_0)
            .unwrap();
    let kind = written.asset_administration_shells.unwrap()[0]
        .asset_information
        .asset_kind;
    assert_eq!(
        kind,
        aas_model::AssetKind::NotApplicable,
        "the documented rule"
    );
}

#[test]
fn an_unknown_aas_version_is_refused_naming_the_supported_ones() {
    let (both, _) = version_inputs();
    for args in [["validate", "--aas", "2.0"], ["convert", "--to-aas", "3.2"]] {
        let output = bin()
            .args(args)
            .arg(&both)
            .arg(scratch("never.json"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(stderr.contains("use 3.0 or 3.1"), "{args:?}: {stderr}");
    }
}

/// Needs aas-model's V3.1 lengths (issue 20): 2048 characters for identifiers.
#[test]
fn convert_of_an_event_payload_to_3_0_reports_what_becomes_invalid() {
    let long = format!("urn:{}", "x".repeat(2010));
    let reference = |value: &str| {
        format!(
            r#"{{"type":"ModelReference","keys":[{{"type":"Submodel","value":"{value}"}},{{"type":"BasicEventElement","value":"Event"}}]}}"#
        )
    };
    let input = scratch("long-key-payload.json");
    std::fs::write(
        &input,
        format!(
            r#"{{"source":{},"observableReference":{},"timeStamp":"2024-01-01T00:00:00Z"}}"#,
            reference(&long),
            reference("urn:sm:1")
        ),
    )
    .unwrap();
    let valid = bin().arg("validate").arg(&input).output().unwrap();
    assert_eq!(valid.status.code(), Some(0), "{}", text(&valid.stdout));
    let out = scratch("long-key-payload-3-0.json");
    let _ = std::fs::remove_file(&out);
    let refused = bin()
        .args(["convert", "--to-aas", "3.0"])
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("stays invalid in AAS V3.0"),
        "{}",
        text(&refused.stderr)
    );
    assert!(!out.exists());
    let lossy = bin()
        .args(["convert", "--to-aas", "3.0", "--lossy"])
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(lossy.status.code(), Some(0), "{}", text(&lossy.stderr));
    assert!(out.exists());
}

/// A finding both versions have is no conversion loss, though its message names the version.
#[test]
fn convert_of_an_event_payload_invalid_in_both_versions_to_3_1_loses_nothing() {
    let long = format!("urn:{}", "x".repeat(3000));
    let input = scratch("too-long-key-payload.json");
    std::fs::write(
        &input,
        format!(
            r#"{{"source":{{"type":"ModelReference","keys":[{{"type":"Submodel","value":"{long}"}}]}},"observableReference":{{"type":"ModelReference","keys":[{{"type":"Submodel","value":"urn:sm:1"}}]}},"timeStamp":"2024-01-01T00:00:00Z"}}"#
        ),
    )
    .unwrap();
    for version in ["3.0", "3.1"] {
        let invalid = bin()
            .args(["validate", "--aas", version])
            .arg(&input)
            .output()
            .unwrap();
        assert_eq!(invalid.status.code(), Some(1), "invalid in {version}");
    }
    let out = scratch("too-long-key-payload-3-1.json");
    let _ = std::fs::remove_file(&out);
    let converted = bin()
        .args(["convert", "--aas", "3.0", "--to-aas", "3.1"])
        .arg(&input)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        converted.status.code(),
        Some(0),
        "{}",
        text(&converted.stderr)
    );
    assert!(out.exists(), "written without --lossy");
}

#[test]
fn the_version_options_the_readmes_document_are_the_ones_the_binary_takes() {
    let help = |args: &[&str]| text(&bin().args(args).arg("--help").output().unwrap().stdout);
    let convert = help(&["convert"]);
    let validate = help(&["validate"]);
    let serve = help(&["serve"]);
    for option in ["--aas <VERSION>", "--to-aas <VERSION>", "--lossy"] {
        assert!(convert.contains(option), "convert {option}: {convert}");
    }
    assert!(validate.contains("--aas <VERSION>"), "{validate}");
    for option in [
        "--aas-version <VERSION>",
        "AAS_SERVER_AAS_VERSION",
        "--convert-stored-data",
        "AAS_SERVER_CONVERT_STORED_DATA",
    ] {
        assert!(serve.contains(option), "serve {option}: {serve}");
    }
    let workspace =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let crate_readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for promise in [
        "--aas 3.0|3.1",
        "--to-aas 3.0|3.1",
        "--lossy",
        "aas-version",
    ] {
        assert!(workspace.contains(promise), "README.md: {promise}");
        assert!(
            crate_readme.contains(promise),
            "reference-server/README.md: {promise}"
        );
    }
    for row in [
        "| `--aas-version 3.0\\|3.1` | `AAS_SERVER_AAS_VERSION` | `aas-version = \"3.1\"` | `3.1`",
        "| `--convert-stored-data` | `AAS_SERVER_CONVERT_STORED_DATA` (`true`) | `convert-stored-data` |",
    ] {
        assert!(crate_readme.contains(row), "configuration table: {row}");
    }
}
