//! The twinsphere envelope of any bytes, on a fixed topic: a typed error or an event.
#![no_main]
use events_core::{TopicScheme, envelope};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scheme = TopicScheme::twinsphere();
    for topic in [
        "twinsphere/shells/dXJuOmFhczox/updated",
        "twinsphere/submodels/dXJuOnNtOjE/deleted",
    ] {
        if let Ok(topic) = scheme.parse(topic) {
            let _ = envelope::decode(&topic, data, 1 << 20);
        }
    }
});
