//! What the (de)serializations of the metamodel versions differ in, beyond the XML namespace
//! and the attributes V3.0 requires (the `v30` kind of the schema tables).

use aas_model::*;

/// The first metamodel version that has a literal: V3.1 added `AssetKind::Role`, every other
/// literal is V3.0's. Readers refuse a literal newer than the version they read.
pub(crate) trait Since: Copy {
    fn since(self) -> Version {
        Version::V3_0
    }
}

impl Since for AssetKind {
    fn since(self) -> Version {
        match self {
            AssetKind::Role => Version::V3_1,
            _ => Version::V3_0,
        }
    }
}

impl Since for ModellingKind {}
impl Since for QualifierKind {}
impl Since for EntityType {}
impl Since for Direction {}
impl Since for StateOfEvent {}
impl Since for ReferenceTypes {}
impl Since for AasSubmodelElements {}
impl Since for KeyTypes {}
impl Since for DataTypeDefXsd {}
impl Since for DataTypeIec61360 {}
