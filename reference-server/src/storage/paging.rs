//! What every backend's listings share: the conditions a filter makes (matched against the
//! `<table>_keys` side tables both backends keep) and the cursors pages are continued with.
//!
//! A listing cursor is opaque to clients: base64url of `<table>:<seq>`, so a cursor of one
//! collection is refused by another, and anything else is a [`StorageError::BadCursor`]. The
//! event feed and the dead letters page on their sequence numbers, written as they are.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{ConceptDescriptionFilter, ShellFilter, StorageError, SubmodelFilter};

/// One condition of a listing: the element has a row (`kind`, `value`) in its table's
/// `<table>_keys` (kinds: `idShort`, `asset:<name>`, `semanticId`, `isCaseOf`,
/// `dataSpecification`; see [`super::FilterKeys`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Condition<'a> {
    pub(super) kind: String,
    pub(super) value: &'a str,
}

impl<'a> Condition<'a> {
    fn new(kind: impl Into<String>, value: &'a str) -> Self {
        Self {
            kind: kind.into(),
            value,
        }
    }
}

impl ShellFilter {
    /// Asset ids first: the first condition leads the query, and an asset id is usually more
    /// selective than an idShort.
    pub(super) fn conditions(&self) -> Vec<Condition<'_>> {
        let mut conditions: Vec<Condition<'_>> = self
            .asset_ids
            .iter()
            .map(|(name, value)| Condition::new(format!("asset:{name}"), value))
            .collect();
        conditions.extend(
            self.id_short
                .as_deref()
                .map(|v| Condition::new("idShort", v)),
        );
        conditions
    }
}

impl SubmodelFilter {
    pub(super) fn conditions(&self) -> Vec<Condition<'_>> {
        let mut conditions = Vec::new();
        conditions.extend(
            self.semantic_id
                .as_deref()
                .map(|v| Condition::new("semanticId", v)),
        );
        conditions.extend(
            self.id_short
                .as_deref()
                .map(|v| Condition::new("idShort", v)),
        );
        conditions
    }
}

impl ConceptDescriptionFilter {
    pub(super) fn conditions(&self) -> Vec<Condition<'_>> {
        let mut conditions = Vec::new();
        conditions.extend(
            self.is_case_of
                .as_deref()
                .map(|v| Condition::new("isCaseOf", v)),
        );
        conditions.extend(
            self.data_specification
                .as_deref()
                .map(|v| Condition::new("dataSpecification", v)),
        );
        conditions.extend(
            self.id_short
                .as_deref()
                .map(|v| Condition::new("idShort", v)),
        );
        conditions
    }
}

/// The cursor after the element with `seq` in `table`.
pub(super) fn cursor_after(table: &str, seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{table}:{seq}"))
}

/// The `seq` a listing cursor of `table` continues after (0: from the start).
pub(super) fn listing_cursor(table: &str, cursor: Option<&str>) -> Result<i64, StorageError> {
    let Some(text) = cursor else {
        return Ok(0);
    };
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|decoded| {
            let (of, seq) = decoded.split_once(':')?;
            let seq: i64 = seq.parse().ok()?;
            (of == table && seq >= 0).then_some(seq)
        })
        .ok_or_else(|| StorageError::BadCursor(text.to_owned()))
}

/// The sequence a cursor of the event feed or the dead letters continues after (0: from
/// the start): the last sequence of the previous page.
pub(super) fn sequence_cursor(cursor: Option<&str>) -> Result<i64, StorageError> {
    match cursor {
        None => Ok(0),
        // Cursors are the sequence numbers this server gave: never negative.
        Some(text) => text
            .parse()
            .ok()
            .filter(|sequence: &i64| *sequence >= 0)
            .ok_or_else(|| StorageError::BadCursor(text.to_owned())),
    }
}

/// The page of `items` (one more than `limit` was read when there is a next page) and its
/// cursor, made by `cursor_of` from the last item kept.
pub(super) fn page_of<T, K>(
    mut items: Vec<(K, T)>,
    limit: usize,
    cursor_of: impl Fn(&K) -> String,
) -> super::Page<T> {
    let more = items.len() > limit;
    items.truncate(limit);
    let cursor = if more {
        items.last().map(|(key, _)| cursor_of(key))
    } else {
        None
    };
    super::Page {
        items: items.into_iter().map(|(_, item)| item).collect(),
        cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_opaque_and_bound_to_their_collection() {
        let cursor = cursor_after("shells", 42);
        assert_eq!(listing_cursor("shells", Some(&cursor)).ok(), Some(42));
        for foreign in [
            cursor_after("submodels", 42),
            "42".to_owned(),
            "x".to_owned(),
            String::new(),
            URL_SAFE_NO_PAD.encode("shells:-1"),
            URL_SAFE_NO_PAD.encode("shells:"),
        ] {
            assert!(
                matches!(
                    listing_cursor("shells", Some(&foreign)),
                    Err(StorageError::BadCursor(_))
                ),
                "{foreign:?}"
            );
        }
    }
}
