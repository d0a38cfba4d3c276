//! Large submodels kept decoded for the changes of their elements.
//!
//! A submodel is stored as one JSON row, so changing one of its elements reads, decodes,
//! changes, serializes and writes all of it. For a 50,000-element submodel (5.5 MB) the
//! decoding was a third of each change's time under the writer lock. The writer keeps the
//! submodels it wrote last, decoded, with the JSON it wrote; a change that finds the stored
//! JSON equal to the kept JSON takes the kept submodel instead of decoding the row.
//!
//! Equality with the row, checked in the change's own transaction, is the whole validity
//! rule: whatever wrote the row since (another writer of the file, a rolled-back group, a
//! replacement of the whole submodel), a kept submodel is only used when it is exactly what
//! the row holds. Nothing needs invalidating for correctness; entries are dropped when their
//! submodel is replaced or deleted only to free the memory early.

use std::sync::{Arc, Mutex, PoisonError};

use aas_model::Submodel;

/// Submodels whose JSON is shorter are not kept: they decode in well under a millisecond.
pub const MIN_KEPT_JSON: usize = 256 * 1024;

/// The most JSON kept, over all entries. Decoded, a submodel takes about five times its JSON
/// (measured: 4.6 to 5.3 times), so this keeps about 80 MiB at most.
pub const MAX_KEPT_JSON: usize = 16 * 1024 * 1024;

/// The submodels kept, most recently written first.
#[derive(Default)]
pub(super) struct SubmodelCache {
    entries: Mutex<Vec<Entry>>,
}

struct Entry {
    id: String,
    /// The JSON written for `submodel`, byte for byte what the row held after the write.
    json: String,
    submodel: Arc<Submodel>,
}

impl SubmodelCache {
    /// The submodel `id` if the one kept was written as `stored` (taken out: the change may
    /// alter it). Cloned when others still hold it (a change being announced).
    pub(super) fn take(&self, id: &str, stored: &str) -> Option<Submodel> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let at = entries.iter().position(|entry| entry.id == id)?;
        let entry = entries.remove(at);
        (entry.json == stored).then(|| Arc::unwrap_or_clone(entry.submodel))
    }

    /// Keeps `submodel` as written with `json`, when it is large enough to be worth it.
    pub(super) fn keep(&self, json: String, submodel: Arc<Submodel>) {
        if json.len() < MIN_KEPT_JSON || json.len() > MAX_KEPT_JSON {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|entry| entry.id != submodel.id);
        entries.insert(
            0,
            Entry {
                id: submodel.id.clone(),
                json,
                submodel,
            },
        );
        let mut total = 0;
        entries.retain(|entry| {
            total += entry.json.len();
            total <= MAX_KEPT_JSON
        });
    }

    /// Drops what is kept of `id` (replaced or deleted: it will not match again).
    pub(super) fn forget(&self, id: &str) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|entry| entry.id != id);
    }

    /// The ids kept, most recent first (the tests').
    #[cfg(test)]
    pub(super) fn ids(&self) -> Vec<String> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|entry| entry.id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(cache: &SubmodelCache, id: &str, json_len: usize) {
        cache.keep("x".repeat(json_len), Arc::new(Submodel::new(id)));
    }

    #[test]
    fn only_large_submodels_are_kept_within_the_total_newest_first() {
        let cache = SubmodelCache::default();
        kept(&cache, "small", MIN_KEPT_JSON - 1);
        kept(&cache, "huge", MAX_KEPT_JSON + 1);
        assert!(cache.ids().is_empty());
        let third = MAX_KEPT_JSON / 3 + 1;
        for id in ["a", "b", "c"] {
            kept(&cache, id, third);
        }
        assert_eq!(
            cache.ids(),
            ["c", "b"],
            "the oldest dropped past 32 MiB in all"
        );
        kept(&cache, "b", MIN_KEPT_JSON);
        assert_eq!(cache.ids(), ["b", "c"], "written again: first, once");
        assert_eq!((MIN_KEPT_JSON, MAX_KEPT_JSON), (256 << 10, 16 << 20));
    }

    #[test]
    fn a_kept_submodel_is_taken_only_with_the_json_it_was_written_as() {
        let cache = SubmodelCache::default();
        let json = "y".repeat(MIN_KEPT_JSON);
        cache.keep(json.clone(), Arc::new(Submodel::new("s")));
        assert!(cache.take("s", "other").is_none());
        assert!(cache.ids().is_empty(), "a mismatch drops it");
        cache.keep(json.clone(), Arc::new(Submodel::new("s")));
        assert_eq!(cache.take("s", &json).map(|s| s.id), Some("s".to_owned()));
        assert!(cache.take("s", &json).is_none(), "taken out");
    }
}
