//! Any text as a topic of both schemes.
#![no_main]
use events_core::TopicScheme;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for scheme in [TopicScheme::twinsphere(), TopicScheme::cloud_events()] {
            if let Ok(topic) = scheme.parse(text) {
                let again = scheme.topic(topic.element, &topic.id, topic.kind);
                assert_eq!(
                    scheme.parse(&again).ok().as_ref(),
                    Some(&topic),
                    "topic round trip"
                );
            }
        }
    }
});
