//! Dropping duplicates and late arrivals: an event is processed only when it is newer than the
//! last one processed for the same element.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use crate::topic::ElementType;

/// Remembers the newest timestamp processed per element, for at most `capacity` elements
/// (the least recently seen is forgotten first).
#[derive(Debug, Clone)]
pub struct Deduplicator {
    capacity: usize,
    /// Element → (newest timestamp, the tick it was last seen at).
    newest: HashMap<(ElementType, String), (DateTime<Utc>, u64)>,
    /// Tick → element, oldest first, for eviction.
    by_tick: BTreeMap<u64, (ElementType, String)>,
    tick: u64,
}

impl Deduplicator {
    /// A deduplicator remembering at most `capacity` elements (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            newest: HashMap::new(),
            by_tick: BTreeMap::new(),
            tick: 0,
        }
    }

    /// Whether an event for this element at this time is new (then it is remembered); `false`
    /// for a duplicate or an event older than one already processed.
    ///
    /// An event without a time (a CloudEvent may leave out `time`) cannot be ordered: it is
    /// always accepted and changes nothing remembered, so neither it nor later events of its
    /// element are dropped because of it.
    pub fn accept(
        &mut self,
        element: ElementType,
        id: &str,
        timestamp: impl Into<Option<DateTime<Utc>>>,
    ) -> bool {
        let Some(timestamp) = timestamp.into() else {
            return true;
        };
        self.tick += 1;
        let key = (element, id.to_owned());
        if let Some((newest, tick)) = self.newest.get(&key).copied() {
            self.by_tick.remove(&tick);
            let accepted = timestamp > newest;
            let kept = if accepted { timestamp } else { newest };
            self.newest.insert(key.clone(), (kept, self.tick));
            self.by_tick.insert(self.tick, key);
            return accepted;
        }
        if self.newest.len() >= self.capacity
            && let Some((_, oldest)) = self.by_tick.pop_first()
        {
            self.newest.remove(&oldest);
        }
        self.newest.insert(key.clone(), (timestamp, self.tick));
        self.by_tick.insert(self.tick, key);
        true
    }

    /// How many elements are remembered.
    pub fn len(&self) -> usize {
        self.newest.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.newest.is_empty()
    }
}

/// Gives strictly increasing timestamps per publisher, even for several events within one
/// tick of the clock, so that consumers can deduplicate by timestamp.
#[derive(Debug, Clone, Default)]
pub struct EventClock {
    last: Option<DateTime<Utc>>,
}

impl EventClock {
    /// A clock that has given no timestamp yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next timestamp: now, or one microsecond after the last one if the clock has not
    /// moved on (or went back).
    pub fn next_timestamp(&mut self) -> DateTime<Utc> {
        let now = Utc::now();
        let next = match self.last {
            Some(last) if now <= last => last + chrono::Duration::microseconds(1),
            _ => now,
        };
        self.last = Some(next);
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap_or_default()
    }

    #[test]
    fn duplicates_and_late_arrivals_are_dropped_per_element() {
        let mut d = Deduplicator::new(10);
        assert!(d.accept(ElementType::Shell, "a", at(10)));
        assert!(!d.accept(ElementType::Shell, "a", at(10)), "duplicate");
        assert!(!d.accept(ElementType::Shell, "a", at(9)), "late");
        assert!(d.accept(ElementType::Shell, "a", at(11)));
        assert!(
            d.accept(ElementType::Submodel, "a", at(5)),
            "another element type"
        );
        assert!(d.accept(ElementType::Shell, "b", at(1)), "another id");
    }

    #[test]
    fn events_without_a_time_are_always_accepted_and_drop_nothing_later() {
        let mut d = Deduplicator::new(10);
        assert!(d.accept(ElementType::Submodel, "a", None));
        assert!(
            d.accept(ElementType::Submodel, "a", None),
            "a second one too"
        );
        assert!(d.is_empty(), "nothing is remembered of them");
        assert!(
            d.accept(ElementType::Submodel, "a", at(1)),
            "a timed one after them"
        );
        assert!(
            d.accept(ElementType::Submodel, "a", None),
            "and one without a time again"
        );
        assert!(
            !d.accept(ElementType::Submodel, "a", at(1)),
            "timed duplicates still drop"
        );
    }

    #[test]
    fn memory_is_bounded_and_the_least_recently_seen_is_forgotten() {
        let mut d = Deduplicator::new(2);
        assert!(d.accept(ElementType::Shell, "a", at(10)));
        assert!(d.accept(ElementType::Shell, "b", at(10)));
        assert!(
            !d.accept(ElementType::Shell, "a", at(10)),
            "a is seen again, b is now the oldest"
        );
        assert!(d.accept(ElementType::Shell, "c", at(10)));
        assert_eq!(d.len(), 2);
        assert!(!d.accept(ElementType::Shell, "a", at(10)), "a was kept");
        assert!(d.accept(ElementType::Shell, "b", at(10)), "b was forgotten");
    }

    #[test]
    fn the_event_clock_never_repeats_or_goes_back() {
        let mut clock = EventClock::new();
        let mut last = clock.next_timestamp();
        for _ in 0..10_000 {
            let next = clock.next_timestamp();
            assert!(next > last);
            last = next;
        }
    }
}
