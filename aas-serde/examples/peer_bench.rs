//! Our side of `bench/peers.sh`: read and write of the same JSON, XML and AASX files as the
//! Python peers, each timed `runs` times, one JSON line per measurement.
//!
//! ```sh
//! cargo run --release -p aas-serde --example peer_bench -- <runs> <env.json> <env.xml> <env.aasx> <out dir>
//! ```

use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use aas_model::Environment;
use aas_serde::Format;
use aas_serde::aasx::{AasxReader, AasxWriter};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn timed<T>(
    format: &str,
    op: &str,
    runs: usize,
    mut action: impl FnMut() -> Result<T>,
) -> Result<T> {
    let mut seconds = Vec::new();
    let mut result = None;
    for _ in 0..runs {
        let started = Instant::now();
        result = Some(action()?);
        seconds.push(started.elapsed().as_secs_f64());
    }
    println!(
        r#"{{"library": "aas-rs", "format": "{format}", "op": "{op}", "seconds": {seconds:?}}}"#
    );
    result.ok_or_else(|| "no runs".into())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let usage = "peer_bench <runs> <env.json> <env.xml> <env.aasx> <out dir>";
    let runs: usize = args.get(1).ok_or(usage)?.parse()?;
    let (json, xml, aasx, out) = (
        args.get(2).ok_or(usage)?,
        args.get(3).ok_or(usage)?,
        args.get(4).ok_or(usage)?,
        Path::new(args.get(5).ok_or(usage)?),
    );
    let env: Environment = timed("json", "read", runs, || {
        Ok(aas_serde::json::from_slice(&std::fs::read(json)?)?)
    })?;
    if !Path::new(aasx).exists() {
        // The package the peers read too: the same environment, JSON spec part.
        let mut writer =
            AasxWriter::new(BufWriter::new(std::fs::File::create(aasx)?), Format::Json);
        writer.write_environment(&env)?;
        writer.finish()?;
    }
    timed("json", "write", runs, || {
        Ok(aas_serde::json::to_writer(
            BufWriter::new(std::fs::File::create(out.join("ours.json"))?),
            &env,
        )?)
    })?;
    let env: Environment = timed("xml", "read", runs, || {
        Ok(aas_serde::xml::from_slice(&std::fs::read(xml)?)?)
    })?;
    timed("xml", "write", runs, || {
        Ok(aas_serde::xml::to_writer(
            BufWriter::new(std::fs::File::create(out.join("ours.xml"))?),
            &env,
        )?)
    })?;
    let env: Environment = timed("aasx", "read", runs, || {
        Ok(AasxReader::new(std::fs::File::open(aasx)?)?.environment()?)
    })?;
    timed("aasx", "write", runs, || {
        let mut writer = AasxWriter::new(
            BufWriter::new(std::fs::File::create(out.join("ours.aasx"))?),
            Format::Json,
        );
        writer.write_environment(&env)?;
        writer.finish()?;
        Ok(())
    })?;
    Ok(())
}
