//! The serialized shape of every class, written once and expanded by each format's codec.
//!
//! A class entry is `(Class, modelType, xml element name, { fields })`; a field is
//! `rust_name: kind "serializedName" ["itemElement"]`, in the order of the XSD (which JSON
//! writers follow too). Kinds: `req` (required), `opt` (optional), `bytes` (optional, base64).
//! The bracketed XML item name is given for lists: `["key"]` wraps each item in `<key>`;
//! `["*"]` names each item by its class (`<property>`, `<range>`, …).

/// Calls `$m!(Class, modelType, "xmlName", { fields })` for every class that is not a submodel
/// element.
macro_rules! classes {
    ($m:ident) => {
        $m!(LangString, None, "langString", { language: req "language", text: req "text" });
        $m!(Key, None, "key", { type_: req "type", value: req "value" });
        $m!(Reference, None, "reference", {
            type_: req "type", referred_semantic_id: opt "referredSemanticId",
            keys: req "keys" ["key"],
        });
        $m!(Extension, None, "extension", {
            semantic_id: opt "semanticId",
            supplemental_semantic_ids: opt "supplementalSemanticIds" ["reference"],
            name: req "name", value_type: opt "valueType", value: opt "value",
            refers_to: opt "refersTo" ["reference"],
        });
        $m!(AdministrativeInformation, None, "administrativeInformation", {
            embedded_data_specifications: opt "embeddedDataSpecifications" ["embeddedDataSpecification"],
            version: opt "version", revision: opt "revision", creator: opt "creator",
            template_id: opt "templateId",
        });
        $m!(Qualifier, None, "qualifier", {
            semantic_id: opt "semanticId",
            supplemental_semantic_ids: opt "supplementalSemanticIds" ["reference"],
            kind: opt "kind", type_: req "type", value_type: req "valueType", value: opt "value",
            value_id: opt "valueId",
        });
        $m!(AssetAdministrationShell, Some("AssetAdministrationShell"), "assetAdministrationShell", {
            extensions: opt "extensions" ["extension"], category: opt "category",
            id_short: opt "idShort", display_name: opt "displayName" ["langStringNameType"],
            description: opt "description" ["langStringTextType"],
            administration: opt "administration", id: req "id",
            embedded_data_specifications: opt "embeddedDataSpecifications" ["embeddedDataSpecification"],
            derived_from: opt "derivedFrom", asset_information: req "assetInformation",
            submodels: opt "submodels" ["reference"],
        });
        $m!(AssetInformation, None, "assetInformation", {
            asset_kind: req "assetKind", global_asset_id: opt "globalAssetId",
            specific_asset_ids: opt "specificAssetIds" ["specificAssetId"],
            asset_type: opt "assetType", default_thumbnail: opt "defaultThumbnail",
        });
        $m!(Resource, None, "resource", { path: req "path", content_type: opt "contentType" });
        $m!(SpecificAssetId, None, "specificAssetId", {
            semantic_id: opt "semanticId",
            supplemental_semantic_ids: opt "supplementalSemanticIds" ["reference"],
            name: req "name", value: req "value", external_subject_id: opt "externalSubjectId",
        });
        $m!(Submodel, Some("Submodel"), "submodel", {
            extensions: opt "extensions" ["extension"], category: opt "category",
            id_short: opt "idShort", display_name: opt "displayName" ["langStringNameType"],
            description: opt "description" ["langStringTextType"],
            administration: opt "administration", id: req "id", kind: opt "kind",
            semantic_id: opt "semanticId",
            supplemental_semantic_ids: opt "supplementalSemanticIds" ["reference"],
            qualifiers: opt "qualifiers" ["qualifier"],
            embedded_data_specifications: opt "embeddedDataSpecifications" ["embeddedDataSpecification"],
            submodel_elements: opt "submodelElements" ["*"],
        });
        $m!(OperationVariable, None, "operationVariable", { value: req "value" });
        $m!(EventPayload, None, "eventPayload", {
            source: req "source", source_semantic_id: opt "sourceSemanticId",
            observable_reference: req "observableReference",
            observable_semantic_id: opt "observableSemanticId", topic: opt "topic",
            subject_id: opt "subjectId", time_stamp: req "timeStamp", payload: bytes "payload",
        });
        $m!(ConceptDescription, Some("ConceptDescription"), "conceptDescription", {
            extensions: opt "extensions" ["extension"], category: opt "category",
            id_short: opt "idShort", display_name: opt "displayName" ["langStringNameType"],
            description: opt "description" ["langStringTextType"],
            administration: opt "administration", id: req "id",
            embedded_data_specifications: opt "embeddedDataSpecifications" ["embeddedDataSpecification"],
            is_case_of: opt "isCaseOf" ["reference"],
        });
        $m!(Environment, None, "environment", {
            asset_administration_shells: opt "assetAdministrationShells" ["assetAdministrationShell"],
            submodels: opt "submodels" ["submodel"],
            concept_descriptions: opt "conceptDescriptions" ["conceptDescription"],
        });
        $m!(EmbeddedDataSpecification, None, "embeddedDataSpecification", {
            data_specification: req "dataSpecification",
            data_specification_content: req "dataSpecificationContent",
        });
        $m!(LevelType, None, "levelType", { min: req "min", nom: req "nom", typ: req "typ", max: req "max" });
        $m!(ValueReferencePair, None, "valueReferencePair", { value: req "value", value_id: v30 "valueId" });
        $m!(ValueList, None, "valueList", { value_reference_pairs: req "valueReferencePairs" ["valueReferencePair"] });
        $m!(DataSpecificationIec61360, Some("DataSpecificationIec61360"), "dataSpecificationIec61360", {
            preferred_name: req "preferredName" ["langStringPreferredNameTypeIec61360"],
            short_name: opt "shortName" ["langStringShortNameTypeIec61360"], unit: opt "unit",
            unit_id: opt "unitId", source_of_definition: opt "sourceOfDefinition",
            symbol: opt "symbol", data_type: opt "dataType",
            definition: opt "definition" ["langStringDefinitionTypeIec61360"],
            value_format: opt "valueFormat", value_list: opt "valueList", value: opt "value",
            level_type: opt "levelType",
        });
    };
}

/// Calls `$m!(Class, Some("Class"), "xmlName", { fields })` for every submodel element class,
/// with the properties all of them share first.
macro_rules! submodel_elements {
    ($m:ident) => {
        $crate::schema::submodel_elements!(@with_common $m,
            (RelationshipElement, "relationshipElement", { first: v30 "first", second: v30 "second" }),
            (AnnotatedRelationshipElement, "annotatedRelationshipElement", {
                first: v30 "first", second: v30 "second", annotations: opt "annotations" ["*"],
            }),
            (Property, "property", { value_type: req "valueType", value: opt "value", value_id: opt "valueId" }),
            (MultiLanguageProperty, "multiLanguageProperty", {
                value: opt "value" ["langStringTextType"], value_id: opt "valueId",
            }),
            (Range, "range", { value_type: req "valueType", min: opt "min", max: opt "max" }),
            (ReferenceElement, "referenceElement", { value: opt "value" }),
            (Blob, "blob", { value: bytes "value", content_type: v30 "contentType" }),
            (File, "file", { value: opt "value", content_type: v30 "contentType" }),
            (SubmodelElementCollection, "submodelElementCollection", { value: opt "value" ["*"] }),
            (SubmodelElementList, "submodelElementList", {
                order_relevant: opt "orderRelevant", semantic_id_list_element: opt "semanticIdListElement",
                type_value_list_element: req "typeValueListElement",
                value_type_list_element: opt "valueTypeListElement", value: opt "value" ["*"],
            }),
            (Entity, "entity", {
                statements: opt "statements" ["*"], entity_type: v30 "entityType",
                global_asset_id: opt "globalAssetId", specific_asset_ids: opt "specificAssetIds" ["specificAssetId"],
            }),
            (BasicEventElement, "basicEventElement", {
                observed: req "observed", direction: req "direction", state: req "state",
                message_topic: opt "messageTopic", message_broker: opt "messageBroker",
                last_update: opt "lastUpdate", min_interval: opt "minInterval", max_interval: opt "maxInterval",
            }),
            (Operation, "operation", {
                input_variables: opt "inputVariables" ["operationVariable"],
                output_variables: opt "outputVariables" ["operationVariable"],
                inoutput_variables: opt "inoutputVariables" ["operationVariable"],
            }),
            (Capability, "capability", {}),
        );
    };
    (@with_common $m:ident, $( ($class:ident, $xml:literal, { $($own:tt)* }) ),* $(,)?) => {
        $(
            $m!($class, Some(stringify!($class)), $xml, {
                extensions: opt "extensions" ["extension"], category: opt "category",
                id_short: opt "idShort", display_name: opt "displayName" ["langStringNameType"],
                description: opt "description" ["langStringTextType"], semantic_id: opt "semanticId",
                supplemental_semantic_ids: opt "supplementalSemanticIds" ["reference"],
                qualifiers: opt "qualifiers" ["qualifier"],
                embedded_data_specifications: opt "embeddedDataSpecifications" ["embeddedDataSpecification"],
                $($own)*
            });
        )*
    };
}

pub(crate) use {classes, submodel_elements};
