//! `verify_within_as` against `verify_as`: after a change of one element of a submodel without
//! findings, the findings within the element and its ancestors are all of the submodel's.
//!
//! The submodels are every valid one of both aas-core testgen corpora (JSON). Each element of
//! each is changed in turn: replaced by an element of another file (invalid files included, so
//! the changes bring findings of every kind, at the element and at its parent), renamed to a
//! sibling's idShort (AASd-022 at the parent) and to one the pattern refuses.

use aas_conformance_tests::Corpus;
use aas_model::{IdShortPath, PathStep, Submodel, SubmodelElement, verify_as, verify_within_as};
use aas_serde::Document;

fn submodels(corpus: Corpus, verdict: aas_conformance_tests::Verdict) -> Vec<Submodel> {
    corpus
        .files("Json", verdict)
        .iter()
        .filter_map(|path| match corpus.read_json(path) {
            Ok(Document::Environment(env)) => Some(env.submodels.unwrap_or_default()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Every element path of `submodel` with the element there.
fn elements(submodel: &Submodel) -> Vec<(IdShortPath, SubmodelElement)> {
    submodel
        .id_short_paths()
        .iter()
        .filter_map(|text| {
            let path: IdShortPath = text.parse().ok()?;
            let element = submodel.element(&path)?;
            Some((path, element))
        })
        .collect()
}

fn renamed(path: &IdShortPath, name: &str) -> Option<IdShortPath> {
    let steps = path.steps();
    let (PathStep::IdShort(_), parents) = steps.split_last()? else {
        return None;
    };
    let step = PathStep::IdShort(name.to_owned());
    Some(match path.prefix(parents.len()) {
        Some(parent) => parent.child(step),
        None => name.parse().ok()?,
    })
}

#[test]
fn findings_within_a_changed_element_are_all_the_findings_of_its_submodel() {
    let mut compared = 0;
    let mut with_findings = 0;
    for corpus in [Corpus::V3_0, Corpus::V3_1] {
        let version = corpus.version;
        let donors: Vec<SubmodelElement> =
            submodels(corpus, aas_conformance_tests::Verdict::Invalid)
                .iter()
                .chain(submodels(corpus, aas_conformance_tests::Verdict::Ok).iter())
                .flat_map(|submodel| elements(submodel).into_iter().map(|(_, element)| element))
                .collect();
        assert!(
            donors.len() > 100,
            "{version}: {} donor elements",
            donors.len()
        );
        let mut next_donor = 0;
        for submodel in submodels(corpus, aas_conformance_tests::Verdict::Ok) {
            if verify_as(&submodel, version).next().is_some() {
                continue;
            }
            let paths = elements(&submodel);
            for (path, element) in &paths {
                let mut changes: Vec<(Submodel, IdShortPath)> = Vec::new();
                for _ in 0..3 {
                    let mut donor = donors[next_donor % donors.len()].clone();
                    next_donor += 7;
                    let mut changed = submodel.clone();
                    if let (Some(PathStep::IdShort(_)), Some(name)) =
                        (path.steps().last(), element.id_short())
                    {
                        *donor.id_short_mut() = Some(name.to_owned());
                    }
                    changed.element_mut(path, |slot| *slot = donor);
                    changes.push((changed, path.clone()));
                }
                let sibling = paths
                    .iter()
                    .filter(|(other, _)| other.steps().len() == path.steps().len() && other != path)
                    .find_map(|(other, _)| match other.steps().last() {
                        Some(PathStep::IdShort(name)) => Some(name.clone()),
                        _ => None,
                    });
                for name in sibling.into_iter().chain(["_refused".to_owned()]) {
                    let Some(new_path) = renamed(path, &name) else {
                        continue;
                    };
                    let mut changed = submodel.clone();
                    changed.element_mut(path, |slot| *slot.id_short_mut() = Some(name.clone()));
                    changes.push((changed, new_path));
                }
                for (changed, at) in changes {
                    let all: Vec<_> = verify_as(&changed, version).collect();
                    let within: Vec<_> = verify_within_as(&changed, &at, version).collect();
                    assert_eq!(within, all, "{version}, {} changed at {at}", changed.id);
                    compared += 1;
                    with_findings += usize::from(!all.is_empty());
                }
            }
        }
    }
    eprintln!("{compared} changes compared, {with_findings} with findings");
    assert!(compared > 1000, "{compared} changes compared");
    assert!(
        with_findings > compared / 4,
        "{with_findings} of {compared} had findings"
    );
}
