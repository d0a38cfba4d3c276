//! Reading and writing of every class: one field table per class (in XSD order, which is also
//! the order we write JSON members in) generates both directions.

use std::io::Write;

use aas_model::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::error::{Error, ErrorKind};
use super::parser::{Mark, Parser};
use super::writer::Writer;
use crate::version::Since;

/// A property name as the writer emits it, `,"name":`: the writer copies it in one piece
/// (leaving the comma out before the first member).
macro_rules! member {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}

/// A class that can be read from JSON: every class of the metamodel, `Environment` and
/// `EventPayload` included, and [`Document`](crate::Document) (either root, told apart by
/// its properties). Implemented by this crate only: the method is hidden, its parser
/// private.
pub trait FromJson: Sized {
    #[doc(hidden)]
    fn read_json(p: &mut Parser<'_>) -> Result<Self, Error>;
}

/// What can be written as JSON: every class of the metamodel, lists of them (as arrays),
/// [`Document`](crate::Document) and [`EnvironmentRef`](crate::EnvironmentRef) (as the
/// environment it stands for). Implemented by this crate only: the methods are hidden, the
/// writer private.
pub trait ToJson {
    #[doc(hidden)]
    fn write_json<W: Write>(&self, w: &mut Writer<W>);

    /// Whether this is an empty list (left out when optional).
    #[doc(hidden)]
    fn is_empty_list(&self) -> bool {
        false
    }
}

impl FromJson for String {
    fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        p.string_owned()
    }
}

impl ToJson for String {
    fn write_json<W: Write>(&self, w: &mut Writer<W>) {
        w.string(self);
    }
}

impl FromJson for bool {
    fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        p.boolean()
    }
}

impl ToJson for bool {
    fn write_json<W: Write>(&self, w: &mut Writer<W>) {
        w.boolean(*self);
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        p.begin_array("an array")?;
        // Most lists of the metamodel hold one item; `Vec` would reserve four on the first
        // push, and a list grown by doubling keeps up to half its capacity unused. Both would
        // stay for the life of the model.
        let mut items = Vec::with_capacity(1);
        let mut first = true;
        while p.next_item(&mut first)? {
            let index = items.len();
            items.push(T::read_json(p).map_err(|e| e.in_index(index))?);
        }
        items.shrink_to_fit();
        Ok(items)
    }
}

impl<T: ToJson> ToJson for [T] {
    fn write_json<W: Write>(&self, w: &mut Writer<W>) {
        w.begin_array();
        for item in self {
            w.item();
            item.write_json(w);
        }
        w.end_array();
    }

    fn is_empty_list(&self) -> bool {
        self.is_empty()
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json<W: Write>(&self, w: &mut Writer<W>) {
        self.as_slice().write_json(w);
    }

    fn is_empty_list(&self) -> bool {
        self.is_empty()
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write_json<W: Write>(&self, w: &mut Writer<W>) {
        (**self).write_json(w);
    }

    fn is_empty_list(&self) -> bool {
        (**self).is_empty_list()
    }
}

impl ToJson for crate::EnvironmentRef<'_> {
    fn write_json<W: Write>(&self, w: &mut Writer<W>) {
        // The field order and names of `Environment`'s writer.
        w.begin_object();
        if !self.asset_administration_shells.is_empty() {
            w.key(member!("assetAdministrationShells"));
            self.asset_administration_shells.write_json(w);
        }
        if !self.submodels.is_empty() {
            w.key(member!("submodels"));
            self.submodels.write_json(w);
        }
        if !self.concept_descriptions.is_empty() {
            w.key(member!("conceptDescriptions"));
            self.concept_descriptions.write_json(w);
        }
        w.end_object();
    }
}

impl<T: FromJson> FromJson for Box<T> {
    fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        T::read_json(p).map(Box::new)
    }
}

impl<T: ToJson> ToJson for Box<T> {
    fn write_json<W: Write>(&self, w: &mut Writer<W>) {
        (**self).write_json(w);
    }
}

macro_rules! json_enum {
    ($($enum:ident),+) => {$(
        impl FromJson for $enum {
            fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
                let at = p.mark();
                let literal = p.string("a string")?;
                let value = $enum::from_literal(&literal).ok_or_else(|| {
                    p.error_at(at.pos, ErrorKind::UnknownLiteral {
                        literal: literal.into_owned(),
                        enumeration: stringify!($enum),
                    })
                })?;
                // Constant `V3_0` for all but `AssetKind`: the comparison folds away.
                let since = Since::since(value);
                if since > p.version() {
                    return Err(p.error_at(at.pos, ErrorKind::LiteralNotInVersion {
                        literal: value.as_str(),
                        enumeration: stringify!($enum),
                        version: p.version(),
                        since,
                    }));
                }
                Ok(value)
            }
        }

        impl ToJson for $enum {
            fn write_json<W: Write>(&self, w: &mut Writer<W>) {
                w.string(self.as_str());
            }
        }
    )+};
}

json_enum!(
    ModellingKind,
    AssetKind,
    QualifierKind,
    EntityType,
    Direction,
    StateOfEvent,
    ReferenceTypes,
    AasSubmodelElements,
    KeyTypes,
    DataTypeDefXsd,
    DataTypeIec61360
);

/// Reads a property value into its slot; a second occurrence is an error.
#[inline]
fn read_into<T: FromJson>(
    p: &mut Parser<'_>,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), Error> {
    if slot.is_some() {
        return Err(p
            .error(ErrorKind::DuplicateProperty(name.into()))
            .in_property(name));
    }
    *slot = Some(T::read_json(p).map_err(|e| e.in_property(name))?);
    Ok(())
}

/// Reads a base64 string into bytes.
fn read_base64(p: &mut Parser<'_>) -> Result<Vec<u8>, Error> {
    let at = p.mark();
    let text = p.string("a string (base64)")?;
    BASE64
        .decode(text.as_bytes())
        .map_err(|e| p.error_at(at.pos, ErrorKind::InvalidBase64(e.to_string())))
}

fn read_base64_into(
    p: &mut Parser<'_>,
    slot: &mut Option<Vec<u8>>,
    name: &'static str,
) -> Result<(), Error> {
    if slot.is_some() {
        return Err(p
            .error(ErrorKind::DuplicateProperty(name.into()))
            .in_property(name));
    }
    *slot = Some(read_base64(p).map_err(|e| e.in_property(name))?);
    Ok(())
}

fn write_base64<W: Write>(w: &mut Writer<W>, bytes: &[u8]) {
    let buf = w.buffer();
    buf.push(b'"');
    let start = buf.len();
    buf.resize(start + bytes.len().div_ceil(3) * 4, 0);
    // The slice has exactly the encoded length, so encoding cannot fail.
    let written = BASE64.encode_slice(bytes, &mut buf[start..]).unwrap_or(0);
    buf.truncate(start + written);
    buf.push(b'"');
}

fn required<T>(
    p: &Parser<'_>,
    slot: Option<T>,
    property: &'static str,
    class: &'static str,
) -> Result<T, Error> {
    slot.ok_or_else(|| p.error(ErrorKind::MissingProperty { property, class }))
}

/// An attribute V3.0 requires and V3.1 made optional.
fn required_in_v30<T>(
    p: &Parser<'_>,
    slot: Option<T>,
    property: &'static str,
    class: &'static str,
) -> Result<Option<T>, Error> {
    match slot {
        None if p.version() == Version::V3_0 => Err(p.error(ErrorKind::MissingInVersion {
            property,
            class,
            version: Version::V3_0,
        })),
        slot => Ok(slot),
    }
}

fn unexpected(p: &Parser<'_>, property: &str, class: &'static str) -> Error {
    p.error(ErrorKind::UnexpectedProperty {
        property: property.into(),
        class,
    })
    .in_property(property)
}

/// Checks a `modelType` value against the one class allowed.
fn read_model_type(p: &mut Parser<'_>, expected: &'static str, seen: bool) -> Result<bool, Error> {
    if seen {
        return Err(p
            .error(ErrorKind::DuplicateProperty("modelType".into()))
            .in_property("modelType"));
    }
    let at = p.mark();
    let found = p
        .string("a string")
        .map_err(|e| e.in_property("modelType"))?;
    if found != expected {
        return Err(p
            .error_at(
                at.pos,
                ErrorKind::WrongModelType {
                    found: found.into_owned(),
                    expected,
                },
            )
            .in_property("modelType"));
    }
    Ok(true)
}

macro_rules! field_read {
    (bytes, $p:ident, $slot:ident, $json:literal) => {
        read_base64_into($p, &mut $slot, $json)?
    };
    ($kind:ident, $p:ident, $slot:ident, $json:literal) => {
        read_into($p, &mut $slot, $json)?
    };
}

macro_rules! field_finish {
    (req, $p:ident, $slot:ident, $json:literal, $class:ident) => {
        required($p, $slot, $json, stringify!($class))?
    };
    (v30, $p:ident, $slot:ident, $json:literal, $class:ident) => {
        required_in_v30($p, $slot, $json, stringify!($class))?
    };
    ($kind:ident, $p:ident, $slot:ident, $json:literal, $class:ident) => {
        $slot
    };
}

macro_rules! field_write {
    (req, $w:ident, $json:literal, $value:expr) => {{
        $w.key(member!($json));
        $value.write_json($w);
    }};
    (opt, $w:ident, $json:literal, $value:expr) => {
        field_write!(v30, $w, $json, $value)
    };
    (v30, $w:ident, $json:literal, $value:expr) => {
        if let Some(value) = $value {
            if !value.is_empty_list() {
                $w.key(member!($json));
                value.write_json($w);
            }
        }
    };
    (bytes, $w:ident, $json:literal, $value:expr) => {
        if let Some(value) = $value {
            $w.key(member!($json));
            write_base64($w, value);
        }
    };
}

/// The writer of a class from its field table: `modelType` first (readers can then dispatch
/// without looking ahead), then the fields in XSD order.
macro_rules! json_write {
    ($class:ident, $model_type:expr, $xml:literal,
     { $($field:ident : $kind:ident $json:literal $([$item:literal])?),* $(,)? }) => {
        impl ToJson for $class {
            fn write_json<W: Write>(&self, w: &mut Writer<W>) {
                w.begin_object();
                let model_type: Option<&'static str> = $model_type;
                if let Some(model_type) = model_type {
                    w.key(member!("modelType"));
                    w.string(model_type);
                }
                $(field_write!($kind, w, $json, &self.$field);)*
                w.end_object();
            }
        }
    };
}

/// Reader and writer of a class that is not a submodel element.
macro_rules! json_class {
    ($class:ident, $model_type:expr, $xml:literal,
     { $($field:ident : $kind:ident $json:literal $([$item:literal])?),* $(,)? }) => {
        json_write!($class, $model_type, $xml, { $($field : $kind $json),* });

        impl FromJson for $class {
            fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
                let model_type: Option<&'static str> = $model_type;
                p.begin_object(concat!("an object (", stringify!($class), ")"))?;
                $(let mut $field = None;)*
                let mut model_type_seen = false;
                let mut first = true;
                while let Some(key) = p.next_key(&mut first)? {
                    match &*key {
                        $($json => field_read!($kind, p, $field, $json),)*
                        "modelType" if model_type.is_some() => {
                            model_type_seen = read_model_type(p, model_type.unwrap_or_default(), model_type_seen)?;
                        }
                        other => return Err(unexpected(p, other, stringify!($class))),
                    }
                }
                if let (Some(expected), false) = (model_type, model_type_seen) {
                    return Err(p.error(ErrorKind::MissingModelType { expected }));
                }
                Ok($class { $($field: field_finish!($kind, p, $field, $json, $class),)* })
            }
        }
    };
}

crate::schema::classes!(json_class);

/// The properties only an event payload has at its root.
const EVENT_PAYLOAD_KEYS: &[&str] = &[
    "source",
    "sourceSemanticId",
    "observableReference",
    "observableSemanticId",
    "topic",
    "subjectId",
    "timeStamp",
    "payload",
];

/// An environment, unless the root has a property that only an event payload has.
impl FromJson for crate::Document {
    fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        let start = p.mark();
        match Environment::read_json(p) {
            Ok(env) => Ok(crate::Document::Environment(env)),
            Err(e) => match (e.kind(), e.path().count()) {
                (ErrorKind::UnexpectedProperty { property, .. }, 1)
                    if EVENT_PAYLOAD_KEYS.contains(&property.as_str()) =>
                {
                    p.reset(start);
                    EventPayload::read_json(p).map(crate::Document::EventPayload)
                }
                _ => Err(e),
            },
        }
    }
}

impl ToJson for crate::Document {
    fn write_json<W: Write>(&self, w: &mut Writer<W>) {
        match self {
            crate::Document::Environment(env) => env.write_json(w),
            crate::Document::EventPayload(payload) => payload.write_json(w),
        }
    }
}

impl FromJson for DataSpecificationContent {
    fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        DataSpecificationIec61360::read_json(p)
            .map(DataSpecificationContent::DataSpecificationIec61360)
    }
}

impl ToJson for DataSpecificationContent {
    fn write_json<W: Write>(&self, w: &mut Writer<W>) {
        match self {
            DataSpecificationContent::DataSpecificationIec61360(c) => c.write_json(w),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Submodel elements.
//
// `modelType` may come last (aas-core writes it last), so an element is read in one pass into
// the union of all submodel element properties and built once its class is known. Only `value`
// has a type that depends on the class; it is read by its JSON token (string, object, array of
// lang strings or of elements) and read again from its saved position in the rare case where
// that guess does not fit the class.
// ---------------------------------------------------------------------------------------------

/// Which submodel element classes a position accepts.
#[derive(Clone, Copy)]
pub(crate) struct Allowed {
    pub(crate) description: &'static str,
    pub(crate) accepts: fn(AasSubmodelElements) -> bool,
}

fn is_concrete(t: AasSubmodelElements) -> bool {
    !matches!(
        t,
        AasSubmodelElements::DataElement
            | AasSubmodelElements::EventElement
            | AasSubmodelElements::SubmodelElement
    )
}

fn is_data_element(t: AasSubmodelElements) -> bool {
    use AasSubmodelElements as T;
    matches!(
        t,
        T::Property | T::MultiLanguageProperty | T::Range | T::ReferenceElement | T::Blob | T::File
    )
}

const ANY_ELEMENT: Allowed = Allowed {
    description: "a submodel element class",
    accepts: is_concrete,
};
const DATA_ELEMENT: Allowed = Allowed {
    description: "a data element class",
    accepts: is_data_element,
};

/// Declares the union of submodel element properties: the struct, one bit per property (to
/// tell properties that the final class does not have) and the read loop.
macro_rules! sme_union {
    ($($field:ident : $ty:ty = $json:literal),* $(,)?) => {
        struct SmeFields {
            $($field: Option<$ty>,)*
            /// `value` with where it started.
            value: Option<(Mark, Guess)>,
            model_type: Option<AasSubmodelElements>,
            /// Bit `i` set: property `SME_KEYS[i]` was given.
            seen: u64,
            /// Where each given property's value started, for errors found later.
            at: [usize; SME_KEYS.len()],
        }

        /// Every property name of any submodel element; `value` is last.
        const SME_KEYS: &[&str] = &[$($json,)* "value"];

        impl SmeFields {
            fn new() -> Self {
                SmeFields {
                    $($field: None,)*
                    value: None,
                    model_type: None,
                    seen: 0,
                    at: [0; SME_KEYS.len()],
                }
            }

            /// Boxed: the union is large, and it would otherwise sit in every stack frame of
            /// nested elements.
            fn read(p: &mut Parser<'_>, allowed: Allowed) -> Result<Box<SmeFields>, Error> {
                p.begin_object("an object (submodel element)")?;
                let mut f = Box::new(SmeFields::new());
                let mut first = true;
                while let Some(key) = p.next_key(&mut first)? {
                    let at = p.mark().pos;
                    let bit = match &*key {
                        "modelType" => {
                            f.read_model_type(p, allowed)?;
                            continue;
                        }
                        "value" => {
                            if f.value.is_some() {
                                return Err(p.error(ErrorKind::DuplicateProperty("value".into())).in_property("value"));
                            }
                            let mark = p.mark();
                            let guess = f.read_value(p).map_err(|e| e.in_property("value"))?;
                            f.value = Some((mark, guess));
                            SME_KEYS.len() - 1
                        }
                        $($json => {
                            read_into(p, &mut f.$field, $json)?;
                            key_index($json)
                        })*
                        other => {
                            let class = f.model_type.map_or("any submodel element", AasSubmodelElements::as_str);
                            return Err(unexpected(p, other, class));
                        }
                    };
                    f.seen |= 1 << bit;
                    f.at[bit] = at;
                }
                Ok(f)
            }
        }
    };
}

/// Index of a property name in `SME_KEYS` (evaluated at compile time).
const fn key_index(name: &str) -> usize {
    let mut i = 0;
    while i < SME_KEYS.len() {
        if const_str_eq(SME_KEYS[i], name) {
            return i;
        }
        i += 1;
    }
    panic!("not a submodel element property")
}

const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Bit mask of the given property names.
const fn key_mask(names: &[&str]) -> u64 {
    let mut mask = 0;
    let mut i = 0;
    while i < names.len() {
        mask |= 1 << key_index(names[i]);
        i += 1;
    }
    mask
}

sme_union! {
    extensions: Vec<Extension> = "extensions",
    category: String = "category",
    id_short: String = "idShort",
    display_name: Vec<LangString> = "displayName",
    description: Vec<LangString> = "description",
    semantic_id: Reference = "semanticId",
    supplemental_semantic_ids: Vec<Reference> = "supplementalSemanticIds",
    qualifiers: Vec<Qualifier> = "qualifiers",
    embedded_data_specifications: Vec<EmbeddedDataSpecification> = "embeddedDataSpecifications",
    first: Reference = "first",
    second: Reference = "second",
    annotations: Vec<DataElement> = "annotations",
    value_type: DataTypeDefXsd = "valueType",
    value_id: Reference = "valueId",
    min: String = "min",
    max: String = "max",
    content_type: String = "contentType",
    order_relevant: bool = "orderRelevant",
    semantic_id_list_element: Reference = "semanticIdListElement",
    type_value_list_element: AasSubmodelElements = "typeValueListElement",
    value_type_list_element: DataTypeDefXsd = "valueTypeListElement",
    statements: Vec<SubmodelElement> = "statements",
    entity_type: EntityType = "entityType",
    global_asset_id: String = "globalAssetId",
    specific_asset_ids: Vec<SpecificAssetId> = "specificAssetIds",
    observed: Reference = "observed",
    direction: Direction = "direction",
    state: StateOfEvent = "state",
    message_topic: String = "messageTopic",
    message_broker: Reference = "messageBroker",
    last_update: String = "lastUpdate",
    min_interval: String = "minInterval",
    max_interval: String = "maxInterval",
    input_variables: Vec<OperationVariable> = "inputVariables",
    output_variables: Vec<OperationVariable> = "outputVariables",
    inoutput_variables: Vec<OperationVariable> = "inoutputVariables",
}

/// The properties every submodel element has.
const COMMON_KEYS: &[&str] = &[
    "extensions",
    "category",
    "idShort",
    "displayName",
    "description",
    "semanticId",
    "supplementalSemanticIds",
    "qualifiers",
    "embeddedDataSpecifications",
];

/// How a class reads its `value`.
#[derive(Clone, Copy, PartialEq)]
enum ValueKind {
    Text,
    Bytes,
    Reference,
    LangStrings,
    Elements,
}

fn value_kind(class: AasSubmodelElements) -> Option<ValueKind> {
    use AasSubmodelElements as T;
    Some(match class {
        T::Property | T::File => ValueKind::Text,
        T::Blob => ValueKind::Bytes,
        T::ReferenceElement => ValueKind::Reference,
        T::MultiLanguageProperty => ValueKind::LangStrings,
        T::SubmodelElementCollection | T::SubmodelElementList => ValueKind::Elements,
        _ => return None,
    })
}

/// `value` as read before the class was known.
enum Guess {
    Read(Value),
    /// Reading it as this kind failed with this error; it was skipped.
    Failed(ValueKind, Error),
}

/// The value of a class's `value`, once the class is known.
enum Value {
    Text(String),
    Bytes(Vec<u8>),
    Reference(Reference),
    LangStrings(Vec<LangString>),
    Elements(Vec<SubmodelElement>),
}

impl SmeFields {
    fn read_model_type(&mut self, p: &mut Parser<'_>, allowed: Allowed) -> Result<(), Error> {
        if self.model_type.is_some() {
            return Err(p
                .error(ErrorKind::DuplicateProperty("modelType".into()))
                .in_property("modelType"));
        }
        let at = p.mark();
        let name = p
            .string("a string")
            .map_err(|e| e.in_property("modelType"))?;
        match AasSubmodelElements::from_literal(&name).filter(|t| (allowed.accepts)(*t)) {
            Some(t) => {
                self.model_type = Some(t);
                Ok(())
            }
            None => Err(p
                .error_at(
                    at.pos,
                    ErrorKind::WrongModelType {
                        found: name.into_owned(),
                        expected: allowed.description,
                    },
                )
                .in_property("modelType")),
        }
    }

    /// Reads `value`: directly when the class is known, else by guessing from the JSON token.
    fn read_value(&mut self, p: &mut Parser<'_>) -> Result<Guess, Error> {
        if let Some(kind) = self.model_type.and_then(value_kind) {
            return read_value_as(p, kind).map(Guess::Read);
        }
        let kind = match p.peek() {
            Some(b'"') => return p.string_owned().map(|s| Guess::Read(Value::Text(s))),
            Some(b'{') => ValueKind::Reference,
            Some(b'[') if looks_like_lang_strings(p) => ValueKind::LangStrings,
            Some(b'[') => ValueKind::Elements,
            _ => return Err(p.wrong_type("a value")),
        };
        let mark = p.mark();
        match read_value_as(p, kind) {
            Ok(value) => Ok(Guess::Read(value)),
            Err(error) => {
                p.reset(mark);
                p.skip_value()?;
                Ok(Guess::Failed(kind, error))
            }
        }
    }

    /// Fails if a property was given that `class` does not have.
    fn check_keys(&self, p: &Parser<'_>, own: u64, class: &'static str) -> Result<(), Error> {
        let foreign = self.seen & !(own | key_mask(COMMON_KEYS));
        if foreign == 0 {
            return Ok(());
        }
        let bit = foreign.trailing_zeros() as usize;
        let name = SME_KEYS[bit];
        Err(p
            .error_at(
                self.at[bit],
                ErrorKind::UnexpectedProperty {
                    property: name.into(),
                    class,
                },
            )
            .in_property(name))
    }

    /// The value of `value` for a class that reads it as `kind`.
    fn take_value(&mut self, p: &mut Parser<'_>, kind: ValueKind) -> Result<Option<Value>, Error> {
        let Some((mark, guess)) = self.value.take() else {
            return Ok(None);
        };
        let value = match (kind, guess) {
            // The guess was right and the value is wrong: its error is the one to report.
            // (Reading it again would read nested elements again, once per level of nesting:
            // exponential in the depth.)
            (kind, Guess::Failed(guessed, error)) if guessed == kind => {
                return Err(error.in_property("value"));
            }
            (ValueKind::Bytes, Guess::Read(Value::Text(s))) => {
                Value::Bytes(BASE64.decode(s.as_bytes()).map_err(|e| {
                    p.error_at(mark.pos, ErrorKind::InvalidBase64(e.to_string()))
                        .in_property("value")
                })?)
            }
            (ValueKind::Text, Guess::Read(Value::Text(s))) => Value::Text(s),
            (ValueKind::Bytes, Guess::Read(Value::Bytes(b))) => Value::Bytes(b),
            (ValueKind::Reference, Guess::Read(Value::Reference(r))) => Value::Reference(r),
            (ValueKind::LangStrings, Guess::Read(Value::LangStrings(l))) => Value::LangStrings(l),
            (ValueKind::Elements, Guess::Read(Value::Elements(e))) => Value::Elements(e),
            // The guess does not fit: read again, as the class wants it.
            (kind, _) => {
                let end = p.mark();
                p.reset(mark);
                let value = read_value_as(p, kind).map_err(|e| e.in_property("value"))?;
                p.reset(end);
                value
            }
        };
        Ok(Some(value))
    }
}

/// Whether the array at the parser's position starts with an object whose first property is
/// `language` or `text` (a lang string), without moving the parser.
fn looks_like_lang_strings(p: &mut Parser<'_>) -> bool {
    let mark = p.mark();
    let mut first = true;
    let result = p.begin_array("an array").is_ok()
        && matches!(p.next_item(&mut first), Ok(true))
        && p.begin_object("an object").is_ok()
        && matches!(p.next_key(&mut true), Ok(Some(key)) if key == "language" || key == "text");
    p.reset(mark);
    result
}

fn read_value_as(p: &mut Parser<'_>, kind: ValueKind) -> Result<Value, Error> {
    Ok(match kind {
        ValueKind::Text => Value::Text(p.string_owned()?),
        ValueKind::Bytes => Value::Bytes(read_base64(p)?),
        ValueKind::Reference => Value::Reference(Reference::read_json(p)?),
        ValueKind::LangStrings => Value::LangStrings(Vec::read_json(p)?),
        ValueKind::Elements => Value::Elements(Vec::read_json(p)?),
    })
}

macro_rules! value_as {
    ($variant:ident, $value:expr) => {
        match $value {
            Some(Value::$variant(v)) => Some(v),
            _ => None,
        }
    };
}

/// Builds a submodel element class from the union: checks the properties given, moves the
/// common ones and the class's own ones into the struct. `$value` names how `value` is read.
macro_rules! sme_build {
    ($f:ident, $p:ident, $class:ident, value: $value:ident,
     { $($field:ident : $kind:ident $json:literal),* $(,)? }) => {{
        const OWN: u64 = key_mask(&[$($json,)* "value"]);
        $f.check_keys($p, OWN, stringify!($class))?;
        let value = $f.take_value($p, ValueKind::$value)?;
        sme_build!(@fields $f, $p, $class, { value: value_as!($value, value), }, $($field : $kind $json),*)
    }};
    ($f:ident, $p:ident, $class:ident, { $($field:ident : $kind:ident $json:literal),* $(,)? }) => {{
        const OWN: u64 = key_mask(&[$($json),*]);
        $f.check_keys($p, OWN, stringify!($class))?;
        sme_build!(@fields $f, $p, $class, {}, $($field : $kind $json),*)
    }};
    (@fields $f:ident, $p:ident, $class:ident, { $($extra:tt)* }, $($field:ident : $kind:ident $json:literal),*) => {
        $class {
            extensions: $f.extensions,
            category: $f.category,
            id_short: $f.id_short,
            display_name: $f.display_name,
            description: $f.description,
            semantic_id: $f.semantic_id,
            supplemental_semantic_ids: $f.supplemental_semantic_ids,
            qualifiers: $f.qualifiers,
            embedded_data_specifications: $f.embedded_data_specifications,
            $($extra)*
            $($field: sme_build!(@finish $kind, $p, $f.$field, $json, $class),)*
        }
    };
    (@finish req, $p:ident, $slot:expr, $json:literal, $class:ident) => {
        required($p, $slot, $json, stringify!($class))?
    };
    (@finish opt, $p:ident, $slot:expr, $json:literal, $class:ident) => { $slot };
    (@finish v30, $p:ident, $slot:expr, $json:literal, $class:ident) => {
        required_in_v30($p, $slot, $json, stringify!($class))?
    };
}

fn read_submodel_element(p: &mut Parser<'_>, allowed: Allowed) -> Result<SubmodelElement, Error> {
    let fields = SmeFields::read(p, allowed)?;
    build_submodel_element(fields, p, allowed)
}

/// Kept out of `read_submodel_element`: its frame holds a temporary of every class and must not
/// sit on the stack while nested elements are read.
#[inline(never)]
fn build_submodel_element(
    mut f: Box<SmeFields>,
    p: &mut Parser<'_>,
    allowed: Allowed,
) -> Result<SubmodelElement, Error> {
    let Some(class) = f.model_type else {
        return Err(p.error(ErrorKind::MissingModelType {
            expected: allowed.description,
        }));
    };
    use AasSubmodelElements as T;
    let p = &mut *p;
    Ok(match class {
        T::RelationshipElement => {
            SubmodelElement::RelationshipElement(sme_build!(f, p, RelationshipElement, {
                first: v30 "first", second: v30 "second",
            }))
        }
        T::AnnotatedRelationshipElement => {
            SubmodelElement::AnnotatedRelationshipElement(sme_build!(f, p,
            AnnotatedRelationshipElement, {
                first: v30 "first", second: v30 "second", annotations: opt "annotations",
            }))
        }
        T::Property => SubmodelElement::Property(sme_build!(f, p, Property, value: Text, {
            value_type: req "valueType", value_id: opt "valueId",
        })),
        T::MultiLanguageProperty => SubmodelElement::MultiLanguageProperty(sme_build!(f, p,
            MultiLanguageProperty, value: LangStrings, { value_id: opt "valueId" })),
        T::Range => SubmodelElement::Range(sme_build!(f, p, Range, {
            value_type: req "valueType", min: opt "min", max: opt "max",
        })),
        T::ReferenceElement => {
            SubmodelElement::ReferenceElement(sme_build!(f, p, ReferenceElement,
            value: Reference, {}))
        }
        T::Blob => SubmodelElement::Blob(sme_build!(f, p, Blob, value: Bytes, {
            content_type: v30 "contentType",
        })),
        T::File => SubmodelElement::File(sme_build!(f, p, File, value: Text, {
            content_type: v30 "contentType",
        })),
        T::SubmodelElementCollection => {
            SubmodelElement::SubmodelElementCollection(sme_build!(f, p,
            SubmodelElementCollection, value: Elements, {}))
        }
        T::SubmodelElementList => SubmodelElement::SubmodelElementList(sme_build!(f, p,
        SubmodelElementList, value: Elements, {
            order_relevant: opt "orderRelevant",
            semantic_id_list_element: opt "semanticIdListElement",
            type_value_list_element: req "typeValueListElement",
            value_type_list_element: opt "valueTypeListElement",
        })),
        T::Entity => SubmodelElement::Entity(sme_build!(f, p, Entity, {
            statements: opt "statements", entity_type: v30 "entityType",
            global_asset_id: opt "globalAssetId", specific_asset_ids: opt "specificAssetIds",
        })),
        T::BasicEventElement => {
            SubmodelElement::BasicEventElement(sme_build!(f, p, BasicEventElement, {
                observed: req "observed", direction: req "direction", state: req "state",
                message_topic: opt "messageTopic", message_broker: opt "messageBroker",
                last_update: opt "lastUpdate", min_interval: opt "minInterval",
                max_interval: opt "maxInterval",
            }))
        }
        T::Operation => SubmodelElement::Operation(sme_build!(f, p, Operation, {
            input_variables: opt "inputVariables", output_variables: opt "outputVariables",
            inoutput_variables: opt "inoutputVariables",
        })),
        T::Capability => SubmodelElement::Capability(sme_build!(f, p, Capability, {})),
        T::DataElement | T::EventElement | T::SubmodelElement => {
            // Refused by `read_model_type`; kept as an error rather than a panic.
            return Err(p.error(ErrorKind::WrongModelType {
                found: class.as_str().into(),
                expected: allowed.description,
            }));
        }
    })
}

impl FromJson for SubmodelElement {
    fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        read_submodel_element(p, ANY_ELEMENT)
    }
}

impl FromJson for DataElement {
    fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        let element = read_submodel_element(p, DATA_ELEMENT)?;
        DataElement::try_from(element).map_err(|other| {
            p.error(ErrorKind::WrongModelType {
                found: other.element_type().as_str().into(),
                expected: DATA_ELEMENT.description,
            })
        })
    }
}

macro_rules! single_element_root {
    ($($class:ident),+) => {$(
        /// Read as a submodel element whose `modelType` must name this class.
        impl FromJson for $class {
            fn read_json(p: &mut Parser<'_>) -> Result<Self, Error> {
                fn only(t: AasSubmodelElements) -> bool {
                    t == AasSubmodelElements::$class
                }
                let allowed = Allowed { description: stringify!($class), accepts: only };
                match read_submodel_element(p, allowed)? {
                    SubmodelElement::$class(element) => Ok(element),
                    other => Err(p.error(ErrorKind::WrongModelType {
                        found: other.element_type().as_str().into(),
                        expected: stringify!($class),
                    })),
                }
            }
        }
    )+};
}

aas_model::__with_submodel_element_classes!(single_element_root!());

crate::schema::submodel_elements!(json_write);

macro_rules! write_variants {
    ($enum:ident: $($variant:ident),+) => {
        impl ToJson for $enum {
            fn write_json<W: Write>(&self, w: &mut Writer<W>) {
                match self {
                    $($enum::$variant(e) => e.write_json(w),)+
                }
            }
        }
    };
}

aas_model::__with_submodel_element_classes!(write_variants!(SubmodelElement:));
write_variants!(DataElement: Property, MultiLanguageProperty, Range, ReferenceElement, Blob, File);
