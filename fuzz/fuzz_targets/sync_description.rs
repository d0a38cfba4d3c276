//! Any JSON as a synchronization description: compiled (or refused) and dry-run on a fixed answer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sdt_core::description::SyncDescription;

fuzz_target!(|data: &[u8]| {
    if let Ok(description) = serde_json::from_slice::<SyncDescription>(data)
        && let Ok(compiled) = description.compile()
    {
        let answer = serde_json::json!([{"value": {"addr": "3ef8", "position": [1.5, 2, 3], "state": {"on": true}}}]);
        let run = compiled.dry_run(&answer);
        for (name, _) in compiled.properties() {
            let _ = compiled.render_command(name, &run.variables);
        }
    }
});
