//! How often and how long the push engine tries an upload: the only retry layer.

use std::fmt;
use std::time::Duration;

/// How the push engine tries an upload again after a transient failure
/// ([`crate::PushError::is_transient`]: connection failures, timeouts, HTTP 408, 429, 5xx).
///
/// This is the only retry layer: targets built by [`crate::TargetConfig::build`] have
/// object_store's own retries turned off, so one attempt of a single-request upload is exactly
/// one HTTP request. (The engine's layer was kept rather than object_store's because it covers
/// every [`crate::PushTarget`], not only object_store's HTTP clients, and because its count
/// and time bound are exact: object_store retries each HTTP request on its own, with random
/// jitter, and its `retry_timeout` only stops new retries.)
///
/// The schedule: attempt 1 starts at once. When attempt `k` fails transiently and
/// `k < max_attempts`, the engine waits `min(initial_backoff × 2^(k-1), max_backoff)` and
/// starts attempt `k + 1`, unless that start would come later than `within` after attempt 1
/// started: then it gives up at once. An attempt in progress is never cut off (a large upload
/// may take longer than `within`); each HTTP request has the client's own time limits (see
/// the crate documentation). Failures that are not transient are never retried.
///
/// The default: at most **3 attempts**, waiting **1 s** and then **2 s**, none starting later
/// than **15 s** after the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    within: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(4),
            within: Duration::from_secs(15),
        }
    }
}

/// What the engine does after a transient failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterFailure {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    GiveUp(GaveUp),
}

/// Why the engine stopped trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GaveUp {
    /// `max_attempts` were made.
    Attempts,
    /// The next attempt would have started later than `within` after the first.
    Time { within: Duration },
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GaveUp::Attempts => f.write_str("the attempts allowed are used up"),
            GaveUp::Time { within } => write!(
                f,
                "another attempt would start more than {within:?} after the first"
            ),
        }
    }
}

impl RetryPolicy {
    /// The default policy (3 attempts, waits of 1 s and 2 s, within 15 s).
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `attempts` attempts in all (the first included); 0 counts as 1.
    #[must_use]
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first wait, doubled after each further failure up to `max` (a `max` below
    /// `initial` counts as `initial`).
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// No attempt starts later than this after the first.
    #[must_use]
    pub fn with_within(mut self, within: Duration) -> Self {
        self.within = within;
        self
    }

    /// The most attempts an upload gets, the first included (at least 1; default 3).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait after the first failed attempt (default 1 s).
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }

    /// The longest wait between two attempts, however many doublings (default 4 s).
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }

    /// How long after the first attempt started a further attempt may still start (default
    /// 15 s).
    pub fn within(&self) -> Duration {
        self.within
    }

    /// The wait after attempt `failed_attempt` (counted from 1) failed:
    /// `min(initial_backoff × 2^(failed_attempt-1), max_backoff)`.
    pub fn backoff(&self, failed_attempt: u32) -> Duration {
        let doublings = failed_attempt.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }

    /// What to do after attempt `attempt` failed transiently, `elapsed` after attempt 1
    /// started.
    pub(crate) fn after_failure(&self, attempt: u32, elapsed: Duration) -> AfterFailure {
        if attempt >= self.max_attempts {
            return AfterFailure::GiveUp(GaveUp::Attempts);
        }
        let wait = self.backoff(attempt);
        if elapsed.saturating_add(wait) > self.within {
            return AfterFailure::GiveUp(GaveUp::Time {
                within: self.within,
            });
        }
        AfterFailure::RetryAfter(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn the_default_makes_three_attempts_waiting_one_then_two_seconds_within_fifteen() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.after_failure(1, Duration::ZERO),
            AfterFailure::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            policy.after_failure(2, Duration::from_secs(1)),
            AfterFailure::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            policy.after_failure(3, Duration::from_secs(3)),
            AfterFailure::GiveUp(GaveUp::Attempts)
        );
        // A slow first attempt leaves no time for a second.
        assert_eq!(
            policy.after_failure(1, Duration::from_millis(14_001)),
            AfterFailure::GiveUp(GaveUp::Time {
                within: Duration::from_secs(15)
            })
        );
        assert_eq!(
            policy.after_failure(1, Duration::from_secs(14)),
            AfterFailure::RetryAfter(Duration::from_secs(1)),
            "a retry starting exactly at the bound is allowed"
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum_and_never_overflows() {
        let policy = RetryPolicy::new().with_backoff(10 * MS, 35 * MS);
        let waits: Vec<Duration> = (1..=5).map(|k| policy.backoff(k)).collect();
        assert_eq!(waits, [10 * MS, 20 * MS, 35 * MS, 35 * MS, 35 * MS]);
        let huge = RetryPolicy::new().with_backoff(Duration::from_secs(1), Duration::MAX);
        assert_eq!(huge.backoff(u32::MAX), Duration::from_secs(1 << 31));
    }

    #[test]
    fn zero_attempts_count_as_one_and_a_low_maximum_as_the_initial_wait() {
        let policy = RetryPolicy::new()
            .with_max_attempts(0)
            .with_backoff(50 * MS, 10 * MS);
        assert_eq!(policy.max_attempts(), 1);
        assert_eq!(policy.max_backoff(), 50 * MS);
        assert_eq!(
            policy.after_failure(1, Duration::ZERO),
            AfterFailure::GiveUp(GaveUp::Attempts)
        );
    }
}
