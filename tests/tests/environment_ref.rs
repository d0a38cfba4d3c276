//! An `EnvironmentRef` of borrowed elements writes exactly the bytes of the `Environment` that
//! holds them, in JSON, XML and AASX, for every expected corpus environment; so does the JSON
//! of its elements joined.

use aas_conformance_tests::{category, is_event_payload, read_json_corpus_file};
use aas_serde::aasx::AasxWriter;
use aas_serde::{Document, EnvironmentRef, Format};

type WriteSpec<'a> = &'a dyn Fn(&mut AasxWriter<Vec<u8>>) -> Result<(), aas_serde::aasx::Error>;

#[test]
fn environment_ref_writes_the_bytes_of_the_environment() {
    let mut compared = 0;
    // Every fourth file: the comparison is exact, and these cover every class.
    for path in category("Json", "Expected")
        .iter()
        .filter(|p| !is_event_payload(p))
        .step_by(4)
    {
        let Ok(Document::Environment(env)) = read_json_corpus_file(path) else {
            continue;
        };
        let shells: Vec<_> = env.asset_administration_shells.iter().flatten().collect();
        let submodels: Vec<_> = env.submodels.iter().flatten().collect();
        let concept_descriptions: Vec<_> = env.concept_descriptions.iter().flatten().collect();
        let borrowed = EnvironmentRef {
            asset_administration_shells: &shells,
            submodels: &submodels,
            concept_descriptions: &concept_descriptions,
        };
        assert_eq!(
            aas_serde::json::to_vec(&borrowed),
            aas_serde::json::to_vec(&env),
            "{}",
            path.display()
        );
        // The JSON of each element, as a store keeps it, joined.
        assert_eq!(
            aas_serde::json::join_environment(
                &shells
                    .iter()
                    .map(aas_serde::json::to_vec)
                    .collect::<Vec<_>>(),
                &submodels
                    .iter()
                    .map(aas_serde::json::to_vec)
                    .collect::<Vec<_>>(),
                &concept_descriptions
                    .iter()
                    .map(aas_serde::json::to_vec)
                    .collect::<Vec<_>>(),
            ),
            aas_serde::json::to_vec(&env),
            "{} joined",
            path.display()
        );
        // Files the XML writer refuses (characters XML cannot hold) are refused both ways.
        match (
            aas_serde::xml::to_vec(&borrowed),
            aas_serde::xml::to_vec(&env),
        ) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", path.display()),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{}: {a:?} vs {b:?}", path.display()),
        }
        for format in [Format::Json, Format::Xml] {
            let package = |write: WriteSpec<'_>| {
                let mut writer = AasxWriter::new(Vec::new(), format);
                write(&mut writer).and_then(|()| writer.finish()).ok()
            };
            assert_eq!(
                package(&|w| w.write_environment(&borrowed)),
                package(&|w| w.write_environment(&env)),
                "{} {format:?}",
                path.display()
            );
        }
        compared += 1;
    }
    assert!(compared > 500, "{compared} environments");
}
