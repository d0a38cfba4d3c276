//! Building references and their string form.
//!
//! The string form follows the book clause "Serialization of Values of Type Reference":
//! `[ModelRef](Submodel)urn:x, (Property)Temperature`, with the referred semantic id inside the
//! prefix when there is one: `[ModelRef- (GlobalReference)urn:s -](Submodel)urn:x`. The prefix
//! is optional when parsing; without it the type is taken from the first key.

use std::fmt;
use std::str::FromStr;

use crate::classes::{Key, Reference};
use crate::enums::{KeyTypes, ReferenceTypes};

impl Reference {
    /// A reference of the given type with the given keys.
    pub fn new(type_: ReferenceTypes, keys: Vec<Key>) -> Self {
        Self {
            type_,
            referred_semantic_id: None,
            keys,
        }
    }

    /// An external reference with one `GlobalReference` key, the usual form of a semantic id.
    pub fn global(value: impl Into<String>) -> Self {
        Self::new(
            ReferenceTypes::ExternalReference,
            vec![Key::new(KeyTypes::GlobalReference, value)],
        )
    }

    /// A model reference with the given keys.
    pub fn model(keys: Vec<Key>) -> Self {
        Self::new(ReferenceTypes::ModelReference, keys)
    }

    /// A model reference to a submodel.
    pub fn to_submodel(id: impl Into<String>) -> Self {
        Self::model(vec![Key::new(KeyTypes::Submodel, id)])
    }

    /// A model reference to a shell.
    pub fn to_shell(id: impl Into<String>) -> Self {
        Self::model(vec![Key::new(KeyTypes::AssetAdministrationShell, id)])
    }

    /// A model reference to a concept description.
    pub fn to_concept_description(id: impl Into<String>) -> Self {
        Self::model(vec![Key::new(KeyTypes::ConceptDescription, id)])
    }

    /// Sets the referred semantic id (builder style).
    pub fn with_referred_semantic_id(mut self, semantic_id: Reference) -> Self {
        self.referred_semantic_id = Some(Box::new(semantic_id));
        self
    }

    /// Whether this is a model reference.
    pub fn is_model_reference(&self) -> bool {
        self.type_ == ReferenceTypes::ModelReference
    }

    /// The first key, if any.
    pub fn first_key(&self) -> Option<&Key> {
        self.keys.first()
    }

    /// The last key, if any: for a model reference, the referred element.
    pub fn last_key(&self) -> Option<&Key> {
        self.keys.last()
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}){}", self.type_, self.value)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.type_ {
            ReferenceTypes::ExternalReference => "ExternalRef",
            ReferenceTypes::ModelReference => "ModelRef",
        };
        match &self.referred_semantic_id {
            Some(semantic_id) => write!(f, "[{prefix}- {semantic_id} -]")?,
            None => write!(f, "[{prefix}]")?,
        }
        for (i, key) in self.keys.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            key.fmt(f)?;
        }
        Ok(())
    }
}

/// Error of parsing the string form of a [`Reference`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid reference string at character {position}: {reason}")]
pub struct ParseReferenceError {
    /// Character offset in the input where the problem starts.
    pub position: usize,
    /// What is wrong.
    pub reason: String,
}

impl FromStr for Reference {
    type Err = ParseReferenceError;

    fn from_str(s: &str) -> Result<Self, ParseReferenceError> {
        let (reference, rest) = parse_reference(s, 0, 0)?;
        if !rest.is_empty() {
            return Err(ParseReferenceError {
                position: s.len() - rest.len(),
                reason: format!("unexpected trailing text {rest:?}"),
            });
        }
        Ok(reference)
    }
}

/// Referred semantic ids nested deeper than this in the string form of a reference are
/// refused (the parser recurses once per level: stack safety on hostile input). The JSON and
/// XML readers refuse nesting deeper than 128 levels, so no readable reference nests deeper.
pub const MAX_REFERENCE_NESTING: usize = 128;

/// Parses a reference at the start of `s` (whose first character is at `offset` of the whole
/// input), `nesting` referred semantic ids deep. Returns the reference and the unparsed rest,
/// which is empty at top level and starts with ` -]` inside a referred semantic id.
fn parse_reference(
    s: &str,
    offset: usize,
    nesting: usize,
) -> Result<(Reference, &str), ParseReferenceError> {
    let nested = nesting > 0;
    let err = |rest: &str, reason: String| ParseReferenceError {
        position: offset + s.len() - rest.len(),
        reason,
    };
    if nesting > MAX_REFERENCE_NESTING {
        return Err(err(
            s,
            format!(
                "referred semantic ids nested deeper than {MAX_REFERENCE_NESTING} levels (MAX_REFERENCE_NESTING)"
            ),
        ));
    }
    let mut rest = s;
    let mut type_ = None;
    let mut referred = None;
    if let Some(after) = rest.strip_prefix('[') {
        let (name, after_name) = if let Some(a) = after.strip_prefix("ModelRef") {
            (ReferenceTypes::ModelReference, a)
        } else if let Some(a) = after.strip_prefix("ExternalRef") {
            (ReferenceTypes::ExternalReference, a)
        } else {
            return Err(err(
                after,
                "expected `ModelRef` or `ExternalRef` after `[`".into(),
            ));
        };
        type_ = Some(name);
        rest = if let Some(inner) = after_name.strip_prefix("- ") {
            let inner_offset = offset + s.len() - inner.len();
            let (semantic_id, after_inner) = parse_reference(inner, inner_offset, nesting + 1)?;
            referred = Some(Box::new(semantic_id));
            after_inner.strip_prefix(" -]").ok_or_else(|| {
                err(
                    after_inner,
                    "expected ` -]` after the referred semantic id".into(),
                )
            })?
        } else {
            after_name
                .strip_prefix(']')
                .ok_or_else(|| err(after_name, "expected `]`".into()))?
        };
    }
    let mut keys = Vec::new();
    loop {
        let after_paren = rest
            .strip_prefix('(')
            .ok_or_else(|| err(rest, "expected `(` and a key type".into()))?;
        let close = after_paren
            .find(')')
            .ok_or_else(|| err(after_paren, "expected `)` after the key type".into()))?;
        let key_type = KeyTypes::from_literal(&after_paren[..close]).ok_or_else(|| {
            err(
                after_paren,
                format!("{:?} is not a key type", &after_paren[..close]),
            )
        })?;
        let value_start = &after_paren[close + 1..];
        // A key value ends where the next key (", (KeyType)") or the referred semantic id's
        // closing " -]" begins; values may themselves contain ", ".
        let end = key_value_end(value_start, nested);
        keys.push(Key::new(key_type, &value_start[..end]));
        rest = &value_start[end..];
        match rest.strip_prefix(", ") {
            Some(next) => rest = next,
            None => break,
        }
    }
    let type_ = type_.unwrap_or(match keys.first().map(|k| k.type_) {
        Some(t) if t.is_aas_identifiable() => ReferenceTypes::ModelReference,
        _ => ReferenceTypes::ExternalReference,
    });
    Ok((
        Reference {
            type_,
            referred_semantic_id: referred,
            keys,
        },
        rest,
    ))
}

fn key_value_end(s: &str, nested: bool) -> usize {
    // Inside a referred semantic id the value also stops at the closing " -]".
    let limit = if nested {
        s.find(" -]").unwrap_or(s.len())
    } else {
        s.len()
    };
    let s = &s[..limit];
    let mut search_from = 0;
    while let Some(found) = s[search_from..].find(", (").map(|i| i + search_from) {
        let after = &s[found + 3..];
        if let Some(close) = after.find(')')
            && KeyTypes::from_literal(&after[..close]).is_some()
        {
            return found;
        }
        search_from = found + 1;
    }
    limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_form_matches_the_book_examples() {
        let r = Reference::model(vec![
            Key::new(KeyTypes::Submodel, "https://example.com/aas/1/1/1234859590"),
            Key::new(KeyTypes::Property, "Temperature"),
        ]);
        assert_eq!(
            r.to_string(),
            "[ModelRef](Submodel)https://example.com/aas/1/1/1234859590, (Property)Temperature"
        );
        let with_semantics = Reference::to_submodel("https://example.com/aas/1/1/1234859590")
            .with_referred_semantic_id(Reference::new(
                ReferenceTypes::ExternalReference,
                vec![Key::new(KeyTypes::GlobalReference, "0173-1#02-BAA120#008")],
            ));
        assert_eq!(
            with_semantics.to_string(),
            "[ModelRef- [ExternalRef](GlobalReference)0173-1#02-BAA120#008 -](Submodel)https://example.com/aas/1/1/1234859590"
        );
    }

    #[test]
    fn string_form_parses_back_including_commas_in_values() {
        let r = Reference::model(vec![
            Key::new(KeyTypes::Submodel, "urn:a, b"),
            Key::new(KeyTypes::SubmodelElementList, "list"),
            Key::new(KeyTypes::Property, "0"),
        ])
        .with_referred_semantic_id(Reference::global("urn:sem, x"));
        assert_eq!(r.to_string().parse::<Reference>(), Ok(r));
    }

    #[test]
    fn string_form_without_prefix_takes_the_type_from_the_first_key()
    -> Result<(), ParseReferenceError> {
        let r: Reference = "(GlobalReference)0173-1#02-BAA120#008".parse()?;
        assert_eq!(r, Reference::global("0173-1#02-BAA120#008"));
        let m: Reference = "(Submodel)urn:x, (Property)T".parse()?;
        assert!(m.is_model_reference());
        Ok(())
    }

    #[test]
    fn bad_string_forms_are_errors_with_a_position() {
        let e = "(Nope)x".parse::<Reference>().unwrap_err();
        assert_eq!(e.position, 1);
        assert!("[ModelRef".parse::<Reference>().is_err());
        assert!("".parse::<Reference>().is_err());
        assert!("[ModelRef- (Submodel)x".parse::<Reference>().is_err());
    }
}
