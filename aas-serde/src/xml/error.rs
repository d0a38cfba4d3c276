//! Errors of the XML reader and writer.

use std::fmt;

/// One step of an element path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSegment {
    /// An element, by its local name.
    Element(String),
    /// An item of a list, by its local name and its position in the list (from 0, as in the
    /// JSON path of the same model).
    Item(String, usize),
}

/// What was wrong with the XML input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not well-formed XML.
    #[error("malformed XML: {0}")]
    Syntax(String),
    /// The input is not UTF-8.
    #[error("the document is not UTF-8")]
    InvalidUtf8,
    /// A document type declaration (not supported: no DTDs, no custom entities).
    #[error("document type declarations are not supported")]
    Dtd,
    /// An element outside the namespace of the document's version (the root's namespace), or
    /// a root element in no namespace of a supported version.
    #[error("element <{element}> is {namespace}, not in {expected}")]
    WrongNamespace {
        /// The element's local name.
        element: String,
        /// Where the element is instead, as a phrase: `in the namespace "…"`, `in no
        /// namespace` or `in the undeclared namespace prefix "…"`.
        namespace: String,
        /// The namespace (or, for the root, the namespaces) expected.
        expected: &'static str,
    },
    /// A document of an AAS version this reader does not read (its namespace says which).
    #[error(
        "AAS {version} is not supported (namespace {namespace}): this reader reads AAS V3.0 (https://admin-shell.io/aas/3/0) and V3.1 (https://admin-shell.io/aas/3/1)"
    )]
    UnsupportedVersion {
        /// The version the namespace names: `V1.0`, `V2.0` or `V3.2`.
        version: &'static str,
        /// The namespace as declared.
        namespace: String,
    },
    /// A literal of a newer version than the document's (`AssetKind` `Role` in a V3.0
    /// document).
    #[error(
        "{literal:?} of {enumeration} is AAS V{since} only; this document is V{version} (by its namespace)"
    )]
    LiteralNotInVersion {
        /// The literal, e.g. `Role`.
        literal: &'static str,
        /// The enumeration's name in the metamodel, e.g. `AssetKind`.
        enumeration: &'static str,
        /// The version of the document.
        version: aas_model::Version,
        /// The first version that has the literal.
        since: aas_model::Version,
    },
    /// An attribute (the mapping has none, except namespace declarations).
    #[error("unexpected attribute {0:?}: the AAS XML mapping has no attributes")]
    UnexpectedAttribute(String),
    /// An element the class does not have.
    #[error("unexpected element <{element}> in {class}")]
    UnexpectedElement {
        /// The element's local name.
        element: String,
        /// The class being read, e.g. `Submodel`.
        class: &'static str,
    },
    /// Text where only elements may stand.
    #[error("unexpected text {0:?}: only elements are allowed here")]
    UnexpectedText(String),
    /// An element where only text may stand.
    #[error("expected text, found element <{0}>")]
    ExpectedText(String),
    /// A required element is missing.
    #[error("required element <{element}> of {class} is missing")]
    MissingElement {
        /// The element's name in the XML mapping, e.g. `id`.
        element: &'static str,
        /// The class being read.
        class: &'static str,
    },
    /// An element the document's version requires and a later version made optional
    /// (`entityType`, `first`, `second`, `contentType`, `valueId` in V3.0).
    #[error(
        "required element <{element}> of {class} is missing: AAS V{version} requires it (optional since V3.1); this document is V{version} (by its namespace)"
    )]
    MissingInVersion {
        /// The element's name in the XML mapping, e.g. `entityType`.
        element: &'static str,
        /// The class being read.
        class: &'static str,
        /// The version of the document.
        version: aas_model::Version,
    },
    /// The same element twice.
    #[error("duplicate element <{0}>")]
    DuplicateElement(String),
    /// A wrapper that must hold exactly one element of a class.
    #[error("expected exactly one {0} element here")]
    ExpectedOneElement(&'static str),
    /// The root element is not the expected one.
    #[error("root element <{found}> is not <{expected}>")]
    WrongRoot {
        /// The root element the class read takes, e.g. `environment`.
        expected: &'static str,
        /// The root element's local name.
        found: String,
    },
    /// A text that is none of the enumeration's literals.
    #[error("{literal:?} is not a literal of {enumeration}")]
    UnknownLiteral {
        /// The text as written.
        literal: String,
        /// The enumeration's name in the metamodel, e.g. `DataTypeDefXsd`.
        enumeration: &'static str,
    },
    /// A boolean other than `true`, `false`, `1`, `0`.
    #[error("{0:?} is not a boolean (true, false, 1 or 0)")]
    InvalidBoolean(String),
    /// Base64 that does not decode (or an empty Blob value).
    #[error("invalid base64: {0}")]
    InvalidBase64(String),
    /// A character XML 1.0 does not allow.
    #[error("character U+{0:04X} is not allowed in XML 1.0")]
    ForbiddenCharacter(u32),
    /// Nesting deeper than the reader allows.
    #[error("elements nested deeper than {0} levels")]
    TooDeep(usize),
    /// Reading the input failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// An error of the XML reader: what was wrong, the element path and the position.
///
/// `Display` gives one line, e.g. `/environment/submodels/submodel[0]/submodelElements/property[0]/valueType:
/// "xs:foo" is not a literal of DataTypeDefXsd (line 12, column 21)`.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
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

    /// Line of the offending input, from 1 (0 when the input could not be read at all).
    pub fn line(&self) -> usize {
        self.line
    }

    /// Column (in bytes) of the offending input, from 1.
    pub fn column(&self) -> usize {
        self.column
    }

    /// The element path, outermost first.
    pub fn path(&self) -> impl Iterator<Item = &PathSegment> {
        self.path_rev.iter().rev()
    }

    /// The element path as text: `/environment/submodels/submodel[0]/id`.
    pub fn path_string(&self) -> String {
        let mut s = String::new();
        for segment in self.path() {
            s.push('/');
            match segment {
                PathSegment::Element(name) => s.push_str(name),
                PathSegment::Item(name, index) => {
                    s.push_str(name);
                    s.push_str(&format!("[{index}]"));
                }
            }
        }
        if s.is_empty() {
            s.push('/');
        }
        s
    }

    pub(crate) fn in_element(mut self, name: &str) -> Self {
        self.path_rev.push(PathSegment::Element(name.to_owned()));
        self
    }

    pub(crate) fn in_item(mut self, name: &str, index: usize) -> Self {
        self.path_rev
            .push(PathSegment::Item(name.to_owned(), index));
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

/// An error of the XML writer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A string holds a character XML 1.0 cannot represent (NUL and other control characters,
    /// U+FFFE, U+FFFF): no file is better than a broken one.
    #[error(
        "{path}: character U+{character:04X} cannot be written in XML 1.0; remove it from the model"
    )]
    ForbiddenCharacter {
        /// The element path of the string, e.g. `/environment/submodels/submodel/idShort`
        /// (without list positions).
        path: String,
        /// The character's code point.
        character: u32,
    },
    /// Writing to the output failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}
