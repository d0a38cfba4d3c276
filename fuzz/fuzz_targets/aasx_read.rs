//! AASX read of any bytes (a zip or not): an error or an environment.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut reader) = aas_serde::aasx::AasxReader::new(std::io::Cursor::new(data)) {
        let _ = reader.environment();
        for file in reader.supplementary_files().to_vec() {
            if let Ok(mut part) = reader.open(&file) {
                let _ = std::io::copy(&mut part, &mut std::io::sink());
            }
        }
    }
});
