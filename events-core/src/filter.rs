//! Which submodels announce their changes, by semantic id: all when no entry is given;
//! otherwise those whose semantic id equals an entry or matches an entry's `$regex=` pattern
//! (twinsphere's `publish.submodels.semanticIds`).
//!
//! ```
//! use events_core::SemanticIdFilter;
//!
//! let filter = SemanticIdFilter::new(&["urn:nameplate", "$regex=^urn:acme:"])?;
//! assert!(filter.admits(Some("urn:acme:motor")));
//! assert!(!filter.admits(Some("urn:other")));
//! assert!(SemanticIdFilter::default().admits(None), "no entries: every submodel");
//! # Ok::<(), events_core::FilterError>(())
//! ```

use regex::Regex;

/// The prefix that makes an entry a pattern rather than an id.
const PATTERN_PREFIX: &str = "$regex=";

/// A pattern entry that is no regular expression.
#[derive(Debug, thiserror::Error)]
#[error("submodel semantic id filter {filter:?}: {source}")]
pub struct FilterError {
    /// The entry as given.
    pub filter: String,
    /// Why the pattern after `$regex=` does not compile.
    #[source]
    pub source: regex::Error,
}

/// Which submodels announce their changes, by semantic id: all when no entry is given;
/// otherwise those whose semantic id equals an entry or matches an entry's `$regex=` pattern
/// (twinsphere's `publish.submodels.semanticIds`).
///
/// ```
/// use events_core::SemanticIdFilter;
///
/// let filter = SemanticIdFilter::new(&["urn:nameplate", "$regex=^urn:acme:"])?;
/// assert!(filter.admits(Some("urn:acme:motor")));
/// assert!(!filter.admits(Some("urn:other")));
/// assert!(SemanticIdFilter::default().admits(None), "no entries: every submodel");
/// # Ok::<(), events_core::FilterError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SemanticIdFilter {
    exact: Vec<String>,
    patterns: Vec<Regex>,
}

impl SemanticIdFilter {
    /// A filter of these entries: ids, and patterns after `$regex=` (the `regex` crate's
    /// syntax, unanchored: `^…$` to match whole ids).
    ///
    /// # Errors
    ///
    /// [`FilterError`] naming the first entry whose pattern is no regular expression.
    pub fn new<S: AsRef<str>>(entries: &[S]) -> Result<Self, FilterError> {
        let mut filter = Self::default();
        for entry in entries {
            let entry = entry.as_ref();
            match entry.strip_prefix(PATTERN_PREFIX) {
                Some(pattern) => {
                    let pattern = Regex::new(pattern).map_err(|source| FilterError {
                        filter: entry.to_owned(),
                        source,
                    })?;
                    filter.patterns.push(pattern);
                }
                None => filter.exact.push(entry.to_owned()),
            }
        }
        Ok(filter)
    }

    /// Whether a submodel with this semantic id (the value of its first key) announces
    /// changes; one without a semantic id only when the filter has no entries.
    pub fn admits(&self, semantic_id: Option<&str>) -> bool {
        if self.exact.is_empty() && self.patterns.is_empty() {
            return true;
        }
        semantic_id.is_some_and(|id| {
            self.exact.iter().any(|e| e == id) || self.patterns.iter().any(|p| p.is_match(id))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semantic_id_filter_admits_exact_ids_and_regex_matches_only() -> Result<(), FilterError> {
        let everything = SemanticIdFilter::new::<&str>(&[])?;
        assert!(everything.admits(None));
        let filter = SemanticIdFilter::new(&["urn:a", "$regex=^urn:acme:"])?;
        assert!(filter.admits(Some("urn:a")));
        assert!(filter.admits(Some("urn:acme:x")));
        assert!(!filter.admits(Some("urn:ab")));
        assert!(!filter.admits(Some("urn:b")));
        assert!(!filter.admits(None));
        Ok(())
    }

    #[test]
    fn a_pattern_that_is_no_regular_expression_is_an_error_naming_the_entry() {
        let error = SemanticIdFilter::new(&["$regex=("]).map(drop);
        assert!(error.is_err_and(|e| {
            e.filter == "$regex=("
                && e.to_string()
                    .starts_with("submodel semantic id filter \"$regex=(\": ")
        }));
    }
}
