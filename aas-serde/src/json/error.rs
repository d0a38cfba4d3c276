//! The error of reading JSON: what was wrong, the JSON path of the value, and its position.

use std::fmt;

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// A property of an object.
    Property(String),
    /// An item of an array.
    Index(usize),
}

/// What was wrong with the input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not JSON.
    #[error("invalid JSON: {0}")]
    Syntax(String),
    /// A string is not valid UTF-8.
    #[error("invalid UTF-8 in a string")]
    InvalidUtf8,
    /// A value of the wrong JSON type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What the position takes, e.g. `a string`, `an array`.
        expected: &'static str,
        /// What the input has there, e.g. `a number`, `the end of the input`.
        found: &'static str,
    },
    /// `null` where a value is required; optional properties are left out instead.
    #[error("null is not allowed: leave the property out or give a value")]
    Null,
    /// A property the class does not have.
    #[error("unexpected property {property:?} for {class}")]
    UnexpectedProperty {
        /// The property's name as written.
        property: String,
        /// The class being read, e.g. `Submodel`.
        class: &'static str,
    },
    /// The same property twice in one object.
    #[error("duplicate property {0:?}")]
    DuplicateProperty(String),
    /// A required property is missing.
    #[error("required property {property:?} of {class} is missing")]
    MissingProperty {
        /// The property's name in the JSON mapping, e.g. `id`.
        property: &'static str,
        /// The class being read.
        class: &'static str,
    },
    /// A property the version read as requires and a later version made optional
    /// (`entityType`, `first`, `second`, `contentType`, `valueId` in V3.0).
    #[error(
        "required property {property:?} of {class} is missing: AAS V{version} requires it (optional since V3.1); the input is read as V{version}"
    )]
    MissingInVersion {
        /// The property's name in the JSON mapping, e.g. `entityType`.
        property: &'static str,
        /// The class being read.
        class: &'static str,
        /// The version the input is read as.
        version: aas_model::Version,
    },
    /// `modelType` is missing where it is required.
    #[error("required property \"modelType\" is missing (expected {expected})")]
    MissingModelType {
        /// The classes the position takes: one class's name, or `a submodel element class`,
        /// `a data element class`, ….
        expected: &'static str,
    },
    /// `modelType` names another class than the position allows.
    #[error("modelType {found:?} is not allowed here (expected {expected})")]
    WrongModelType {
        /// The `modelType` as written.
        found: String,
        /// The classes the position takes, as in [`ErrorKind::MissingModelType`].
        expected: &'static str,
    },
    /// A string that is none of the enumeration's literals.
    #[error("{literal:?} is not a literal of {enumeration}")]
    UnknownLiteral {
        /// The string as written.
        literal: String,
        /// The enumeration's name in the metamodel, e.g. `DataTypeDefXsd`.
        enumeration: &'static str,
    },
    /// A literal of a newer version than the one the input is read as (`AssetKind` `Role`
    /// read as V3.0).
    #[error("{literal:?} of {enumeration} is AAS V{since} only; the input is read as V{version}")]
    LiteralNotInVersion {
        /// The literal, e.g. `Role`.
        literal: &'static str,
        /// The enumeration's name in the metamodel, e.g. `AssetKind`.
        enumeration: &'static str,
        /// The version the input is read as.
        version: aas_model::Version,
        /// The first version that has the literal.
        since: aas_model::Version,
    },
    /// A base64 value that does not decode.
    #[error("invalid base64: {0}")]
    InvalidBase64(String),
    /// Nesting deeper than the reader allows.
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
    /// Reading the input failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// An error of the JSON reader: what was wrong, where (JSON path, line and column).
///
/// `Display` gives one line: `$.submodels[2].submodelElements[0].valueType: "xs:foo" is not a
/// literal of DataTypeDefXsd (line 12, column 26)`.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    /// Innermost segment first: segments are added while the error travels outward.
    path_rev: Vec<PathSegment>,
    line: usize,
    column: usize,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, line: usize, column: usize) -> Self {
        Self {
            kind,
            path_rev: Vec::new(),
            line,
            column,
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Line of the offending value, counted from 1 (0 when the input could not be read).
    pub fn line(&self) -> usize {
        self.line
    }

    /// Column (in bytes) of the offending value, counted from 1.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The JSON path of the offending value, outermost segment first.
    pub fn path(&self) -> impl Iterator<Item = &PathSegment> {
        self.path_rev.iter().rev()
    }

    /// The JSON path as text, e.g. `$.submodels[2].submodelElements[0].valueType`.
    pub fn path_string(&self) -> String {
        let mut s = String::from("$");
        for segment in self.path() {
            match segment {
                PathSegment::Property(name) => {
                    s.push('.');
                    s.push_str(name);
                }
                PathSegment::Index(i) => {
                    s.push('[');
                    s.push_str(&i.to_string());
                    s.push(']');
                }
            }
        }
        s
    }

    pub(crate) fn in_property(mut self, name: &str) -> Self {
        self.path_rev.push(PathSegment::Property(name.to_owned()));
        self
    }

    pub(crate) fn in_index(mut self, index: usize) -> Self {
        self.path_rev.push(PathSegment::Index(index));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path_string(), self.kind)?;
        if self.line > 0 {
            write!(f, " (line {}, column {})", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::new(ErrorKind::Io(e), 0, 0)
    }
}
