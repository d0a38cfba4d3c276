//! The one retry policy of the workspace's reconnect and retry loops: waits that start at
//! `initial` and double after each further failure up to `max` ([`Backoff`]), and the count
//! of consecutive failures a loop keeps ([`Retry`]).
//!
//! Used by the MQTT reconnection (feature `mqtt`), the outbox drain (per-entry waits and
//! the outage wait) and by the reference server (broker connection, accept errors, WAL
//! checkpoints). A maintained crate (`backon`, `backoff`) would bring its own sleep and
//! future adapters for what is a doubling and a minimum; the loops keep their own sleep,
//! logging and reset rules.

use std::time::Duration;

/// Waits between attempts: `initial` after the first failure, doubled after each further
/// one, at most `max` (the doubling saturates, it never overflows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    /// 100 ms doubling up to 30 s (the MQTT reconnection's).
    fn default() -> Self {
        Self::new(Duration::from_millis(100), Duration::from_secs(30))
    }
}

impl Backoff {
    /// Waits from `initial` up to `max`.
    pub const fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max }
    }

    /// The wait after the `failures`-th consecutive failure (0 counts as 1):
    /// `initial × 2^(failures − 1)`, at most `max`.
    pub fn after(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.initial.saturating_mul(1 << doublings).min(self.max)
    }

    /// A count of consecutive failures under this policy, none yet.
    pub fn retry(self) -> Retry {
        Retry {
            backoff: self,
            failures: 0,
        }
    }
}

/// The consecutive failures of a loop and the wait each one asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    backoff: Backoff,
    failures: u32,
}

impl Retry {
    /// Counts a failure; the wait before the next attempt.
    pub fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        self.backoff.after(self.failures)
    }

    /// An attempt worked: the next failure waits [`Backoff::initial`] again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// The failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn waits_double_from_initial_up_to_max_and_never_overflow() {
        let backoff = Backoff::new(100 * MS, 1000 * MS);
        let waits: Vec<Duration> = (0..=6).map(|n| backoff.after(n)).collect();
        assert_eq!(
            waits,
            [100, 100, 200, 400, 800, 1000, 1000].map(|ms| ms * MS)
        );
        let huge = Backoff::new(Duration::from_secs(1), Duration::MAX);
        assert_eq!(huge.after(u32::MAX), Duration::from_secs(1 << 31));
        assert_eq!(
            Backoff::new(Duration::MAX, Duration::MAX).after(40),
            Duration::MAX
        );
    }

    #[test]
    fn a_retry_counts_failures_and_a_success_starts_again() {
        let mut retry = Backoff::new(10 * MS, 35 * MS).retry();
        assert_eq!(retry.failures(), 0);
        let waits = [
            retry.failed(),
            retry.failed(),
            retry.failed(),
            retry.failed(),
        ];
        assert_eq!(waits, [10 * MS, 20 * MS, 35 * MS, 35 * MS]);
        assert_eq!(retry.failures(), 4);
        retry.succeeded();
        assert_eq!((retry.failures(), retry.failed()), (0, 10 * MS));
    }

    #[test]
    fn the_default_is_the_mqtt_reconnection() {
        assert_eq!(
            Backoff::default(),
            Backoff::new(Duration::from_millis(100), Duration::from_secs(30))
        );
    }
}
