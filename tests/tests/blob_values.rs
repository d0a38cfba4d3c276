//! `SubmodelElement::holds_blob_value` says whether `drop_blob_values` would drop something:
//! on every element of both aas-core testgen corpora, and on blobs nested in each kind of
//! container.

use aas_conformance_tests::Corpus;
use aas_model::{
    AasSubmodelElements, Blob, Entity, EntityType, Operation, OperationVariable, SubmodelElement,
    SubmodelElementCollection, SubmodelElementList,
};
use aas_serde::Document;

fn agrees(element: &SubmodelElement) -> bool {
    let mut copy = element.clone();
    element.holds_blob_value() == copy.drop_blob_values()
}

#[test]
fn holds_blob_value_is_what_drop_blob_values_drops() {
    let mut checked = 0;
    for corpus in [Corpus::V3_0, Corpus::V3_1] {
        for path in corpus.readable("Json") {
            let Ok(Document::Environment(env)) = corpus.read_json(&path) else {
                continue;
            };
            for submodel in env.submodels.iter().flatten() {
                for element in submodel.submodel_elements.iter().flatten() {
                    assert!(agrees(element), "{}: {element:?}", path.display());
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked} elements");

    let mut blob = Blob::new("application/octet-stream");
    blob.value = Some(vec![1, 2, 3]);
    let blob = SubmodelElement::Blob(blob.with_id_short("B"));
    let mut list = SubmodelElementList::new(AasSubmodelElements::Blob);
    list.value = Some(vec![blob.clone()]);
    let mut entity = Entity::new(EntityType::SelfManagedEntity);
    entity.statements = Some(vec![SubmodelElement::SubmodelElementList(list)]);
    let mut operation = Operation::new();
    operation.inoutput_variables = Some(vec![OperationVariable::new(entity)]);
    let mut collection = SubmodelElementCollection::new();
    collection.value = Some(vec![operation.into()]);
    let nested = SubmodelElement::SubmodelElementCollection(collection);
    assert!(nested.holds_blob_value());
    assert!(agrees(&nested));
    let mut without = nested.clone();
    without.drop_blob_values();
    assert!(!without.holds_blob_value());
}
