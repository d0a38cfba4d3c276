//! The enumerations of the metamodel, with their serialized literals.
//!
//! Every enumeration has `as_str()` (the literal as JSON and XML write it), `from_literal()`
//! (exact, case-sensitive, as the schemas demand) and `ALL` (every literal in schema order).

use std::fmt;

/// Error of [`std::str::FromStr`] on an enumeration: the text is none of its literals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{literal:?} is not a literal of {enumeration}")]
pub struct UnknownLiteral {
    /// Name of the enumeration, e.g. `DataTypeDefXsd`.
    pub enumeration: &'static str,
    /// The text that matched no literal.
    pub literal: String,
}

macro_rules! literal_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $literal:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub enum $name {
            $( $(#[$vmeta])* #[doc = concat!("`", $literal, "`")] $variant, )+
        }

        impl $name {
            /// Every literal, in the order of the schema.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The literal as serialized in JSON and XML.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $literal),+ }
            }

            /// The value of an exact (case-sensitive) literal, or `None`.
            pub fn from_literal(literal: &str) -> Option<Self> {
                match literal { $($literal => Some($name::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownLiteral;
            fn from_str(s: &str) -> Result<Self, UnknownLiteral> {
                Self::from_literal(s).ok_or_else(|| UnknownLiteral {
                    enumeration: stringify!($name),
                    literal: s.to_owned(),
                })
            }
        }
    };
}

literal_enum! {
    /// Whether an element is a template or an instance (`HasKind.kind`).
    ModellingKind { Template = "Template", Instance = "Instance" }
}

literal_enum! {
    /// Kind of the asset of a shell (`AssetInformation.assetKind`). V3.1 adds `Role`.
    #[non_exhaustive]
    AssetKind {
        Type = "Type",
        Instance = "Instance",
        NotApplicable = "NotApplicable",
        /// V3.1 only: the asset is a role (a function an asset can take).
        Role = "Role",
    }
}

literal_enum! {
    /// Kind of a qualifier.
    QualifierKind {
        ValueQualifier = "ValueQualifier",
        ConceptQualifier = "ConceptQualifier",
        TemplateQualifier = "TemplateQualifier",
    }
}

literal_enum! {
    /// Whether an entity is managed by the shell of the asset or by another one.
    EntityType { CoManagedEntity = "CoManagedEntity", SelfManagedEntity = "SelfManagedEntity" }
}

literal_enum! {
    /// Direction of a `BasicEventElement` (lower-case literals).
    Direction { Input = "input", Output = "output" }
}

literal_enum! {
    /// Whether a `BasicEventElement` emits events (lower-case literals).
    StateOfEvent { On = "on", Off = "off" }
}

literal_enum! {
    /// Kind of a `Reference`.
    ReferenceTypes { ExternalReference = "ExternalReference", ModelReference = "ModelReference" }
}

literal_enum! {
    /// Submodel element types, as `SubmodelElementList.typeValueListElement` names them.
    AasSubmodelElements {
        AnnotatedRelationshipElement = "AnnotatedRelationshipElement",
        BasicEventElement = "BasicEventElement",
        Blob = "Blob",
        Capability = "Capability",
        DataElement = "DataElement",
        Entity = "Entity",
        EventElement = "EventElement",
        File = "File",
        MultiLanguageProperty = "MultiLanguageProperty",
        Operation = "Operation",
        Property = "Property",
        Range = "Range",
        ReferenceElement = "ReferenceElement",
        RelationshipElement = "RelationshipElement",
        SubmodelElement = "SubmodelElement",
        SubmodelElementCollection = "SubmodelElementCollection",
        SubmodelElementList = "SubmodelElementList",
    }
}

literal_enum! {
    /// Type of a `Key`.
    KeyTypes {
        AnnotatedRelationshipElement = "AnnotatedRelationshipElement",
        AssetAdministrationShell = "AssetAdministrationShell",
        BasicEventElement = "BasicEventElement",
        Blob = "Blob",
        Capability = "Capability",
        ConceptDescription = "ConceptDescription",
        DataElement = "DataElement",
        Entity = "Entity",
        EventElement = "EventElement",
        File = "File",
        FragmentReference = "FragmentReference",
        GlobalReference = "GlobalReference",
        Identifiable = "Identifiable",
        MultiLanguageProperty = "MultiLanguageProperty",
        Operation = "Operation",
        Property = "Property",
        Range = "Range",
        Referable = "Referable",
        ReferenceElement = "ReferenceElement",
        RelationshipElement = "RelationshipElement",
        Submodel = "Submodel",
        SubmodelElement = "SubmodelElement",
        SubmodelElementCollection = "SubmodelElementCollection",
        SubmodelElementList = "SubmodelElementList",
    }
}

literal_enum! {
    /// XML Schema data types allowed for values (`valueType`).
    DataTypeDefXsd {
        AnyUri = "xs:anyURI",
        Base64Binary = "xs:base64Binary",
        Boolean = "xs:boolean",
        Byte = "xs:byte",
        Date = "xs:date",
        DateTime = "xs:dateTime",
        Decimal = "xs:decimal",
        Double = "xs:double",
        Duration = "xs:duration",
        Float = "xs:float",
        GDay = "xs:gDay",
        GMonth = "xs:gMonth",
        GMonthDay = "xs:gMonthDay",
        GYear = "xs:gYear",
        GYearMonth = "xs:gYearMonth",
        HexBinary = "xs:hexBinary",
        Int = "xs:int",
        Integer = "xs:integer",
        Long = "xs:long",
        NegativeInteger = "xs:negativeInteger",
        NonNegativeInteger = "xs:nonNegativeInteger",
        NonPositiveInteger = "xs:nonPositiveInteger",
        PositiveInteger = "xs:positiveInteger",
        Short = "xs:short",
        String = "xs:string",
        Time = "xs:time",
        UnsignedByte = "xs:unsignedByte",
        UnsignedInt = "xs:unsignedInt",
        UnsignedLong = "xs:unsignedLong",
        UnsignedShort = "xs:unsignedShort",
    }
}

literal_enum! {
    /// Data types of the IEC 61360 data specification.
    DataTypeIec61360 {
        Date = "DATE",
        String = "STRING",
        StringTranslatable = "STRING_TRANSLATABLE",
        IntegerMeasure = "INTEGER_MEASURE",
        IntegerCount = "INTEGER_COUNT",
        IntegerCurrency = "INTEGER_CURRENCY",
        RealMeasure = "REAL_MEASURE",
        RealCount = "REAL_COUNT",
        RealCurrency = "REAL_CURRENCY",
        Boolean = "BOOLEAN",
        Iri = "IRI",
        Irdi = "IRDI",
        Rational = "RATIONAL",
        RationalMeasure = "RATIONAL_MEASURE",
        Time = "TIME",
        Timestamp = "TIMESTAMP",
        File = "FILE",
        Html = "HTML",
        Blob = "BLOB",
    }
}

impl KeyTypes {
    /// `GenericFragmentKeys`: `FragmentReference`.
    pub const fn is_generic_fragment_key(self) -> bool {
        matches!(self, KeyTypes::FragmentReference)
    }

    /// `GenericGloballyIdentifiables`: `GlobalReference`.
    pub const fn is_generic_globally_identifiable(self) -> bool {
        matches!(self, KeyTypes::GlobalReference)
    }

    /// `AasIdentifiables`: shell, submodel, concept description and `Identifiable`.
    pub const fn is_aas_identifiable(self) -> bool {
        matches!(
            self,
            KeyTypes::AssetAdministrationShell
                | KeyTypes::ConceptDescription
                | KeyTypes::Identifiable
                | KeyTypes::Submodel
        )
    }

    /// `AasSubmodelElementsAsKeys` (= `AasReferableNonIdentifiables`): the 17 submodel element
    /// types, abstract ones included.
    pub const fn is_submodel_element(self) -> bool {
        self.as_submodel_element().is_some()
    }

    /// `AasReferables`: identifiables, submodel elements and `Referable`.
    pub const fn is_aas_referable(self) -> bool {
        self.is_aas_identifiable()
            || self.is_submodel_element()
            || matches!(self, KeyTypes::Referable)
    }

    /// `GloballyIdentifiables`: `GlobalReference` and the AAS identifiables.
    pub const fn is_globally_identifiable(self) -> bool {
        self.is_generic_globally_identifiable() || self.is_aas_identifiable()
    }

    /// `FragmentKeys`: submodel elements and `FragmentReference`.
    pub const fn is_fragment_key(self) -> bool {
        self.is_submodel_element() || self.is_generic_fragment_key()
    }

    /// The submodel element type this key type names, if it names one.
    pub const fn as_submodel_element(self) -> Option<AasSubmodelElements> {
        use AasSubmodelElements as S;
        Some(match self {
            KeyTypes::AnnotatedRelationshipElement => S::AnnotatedRelationshipElement,
            KeyTypes::BasicEventElement => S::BasicEventElement,
            KeyTypes::Blob => S::Blob,
            KeyTypes::Capability => S::Capability,
            KeyTypes::DataElement => S::DataElement,
            KeyTypes::Entity => S::Entity,
            KeyTypes::EventElement => S::EventElement,
            KeyTypes::File => S::File,
            KeyTypes::MultiLanguageProperty => S::MultiLanguageProperty,
            KeyTypes::Operation => S::Operation,
            KeyTypes::Property => S::Property,
            KeyTypes::Range => S::Range,
            KeyTypes::ReferenceElement => S::ReferenceElement,
            KeyTypes::RelationshipElement => S::RelationshipElement,
            KeyTypes::SubmodelElement => S::SubmodelElement,
            KeyTypes::SubmodelElementCollection => S::SubmodelElementCollection,
            KeyTypes::SubmodelElementList => S::SubmodelElementList,
            _ => return None,
        })
    }
}

impl AasSubmodelElements {
    /// The key type that refers to an element of this type.
    pub const fn key_type(self) -> KeyTypes {
        use AasSubmodelElements as S;
        match self {
            S::AnnotatedRelationshipElement => KeyTypes::AnnotatedRelationshipElement,
            S::BasicEventElement => KeyTypes::BasicEventElement,
            S::Blob => KeyTypes::Blob,
            S::Capability => KeyTypes::Capability,
            S::DataElement => KeyTypes::DataElement,
            S::Entity => KeyTypes::Entity,
            S::EventElement => KeyTypes::EventElement,
            S::File => KeyTypes::File,
            S::MultiLanguageProperty => KeyTypes::MultiLanguageProperty,
            S::Operation => KeyTypes::Operation,
            S::Property => KeyTypes::Property,
            S::Range => KeyTypes::Range,
            S::ReferenceElement => KeyTypes::ReferenceElement,
            S::RelationshipElement => KeyTypes::RelationshipElement,
            S::SubmodelElement => KeyTypes::SubmodelElement,
            S::SubmodelElementCollection => KeyTypes::SubmodelElementCollection,
            S::SubmodelElementList => KeyTypes::SubmodelElementList,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_literal_parses_back_to_its_value() {
        for v in DataTypeDefXsd::ALL {
            assert_eq!(DataTypeDefXsd::from_literal(v.as_str()), Some(*v));
        }
        for v in KeyTypes::ALL {
            assert_eq!(v.as_str().parse::<KeyTypes>(), Ok(*v));
        }
        assert_eq!(DataTypeDefXsd::ALL.len(), 30);
        assert_eq!(KeyTypes::ALL.len(), 24);
        assert_eq!(AasSubmodelElements::ALL.len(), 17);
    }

    #[test]
    fn literals_are_case_sensitive() {
        assert_eq!(Direction::from_literal("Input"), None);
        assert_eq!(Direction::from_literal("input"), Some(Direction::Input));
        let err = "xs:String".parse::<DataTypeDefXsd>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "\"xs:String\" is not a literal of DataTypeDefXsd"
        );
    }

    #[test]
    fn key_type_subsets_follow_the_metamodel() {
        assert!(KeyTypes::GlobalReference.is_globally_identifiable());
        assert!(KeyTypes::Submodel.is_globally_identifiable());
        assert!(!KeyTypes::Property.is_globally_identifiable());
        assert!(KeyTypes::Property.is_fragment_key());
        assert!(KeyTypes::FragmentReference.is_fragment_key());
        assert!(!KeyTypes::Submodel.is_fragment_key());
        assert!(KeyTypes::Referable.is_aas_referable());
        assert_eq!(
            KeyTypes::ALL
                .iter()
                .filter(|k| k.is_submodel_element())
                .count(),
            17
        );
    }
}
