//! A cap on the embedded broker's log lines. rumqttd logs every failed accept and every client
//! that closes before its CONNECT at `error`, without any limit: connect-and-close loops, or
//! running out of file descriptors (its accept loop retries at once), wrote gigabytes of log
//! in seconds. Its lines beyond [`LINES_PER_SECOND`] in one second are dropped, and the number
//! dropped is said once the second is over.

use std::sync::Mutex;
use std::time::Instant;

/// How many of rumqttd's log lines pass in one second.
pub const LINES_PER_SECOND: u64 = 20;

#[derive(Debug)]
pub struct BrokerLogLimit {
    window: Mutex<Window>,
}

#[derive(Debug)]
struct Window {
    started: Instant,
    passed: u64,
    dropped: u64,
}

impl Default for BrokerLogLimit {
    fn default() -> Self {
        Self {
            window: Mutex::new(Window {
                started: Instant::now(),
                passed: 0,
                dropped: 0,
            }),
        }
    }
}

impl BrokerLogLimit {
    /// Whether an event of this target may be logged now.
    pub fn allows(&self, target: &str) -> bool {
        if !target.starts_with("rumqttd") {
            return true;
        }
        let mut window = self
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if window.started.elapsed().as_secs() >= 1 {
            if window.dropped > 0 {
                // Not through tracing: this runs inside its filter.
                eprintln!(
                    "reference-server: {} log lines of the embedded MQTT broker dropped \
                     (at most {LINES_PER_SECOND} a second)",
                    window.dropped
                );
            }
            *window = Window {
                started: Instant::now(),
                passed: 0,
                dropped: 0,
            };
        }
        if window.passed < LINES_PER_SECOND {
            window.passed += 1;
            true
        } else {
            window.dropped += 1;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_lines_beyond_the_cap_in_one_second_are_dropped_and_others_never() {
        let limit = BrokerLogLimit::default();
        let passed = (0..1000)
            .filter(|_| limit.allows("rumqttd::server::broker"))
            .count();
        assert_eq!(passed as u64, LINES_PER_SECOND);
        assert!((0..1000).all(|_| limit.allows("reference_server::serve")));
    }
}
