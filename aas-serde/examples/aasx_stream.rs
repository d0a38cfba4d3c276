//! Streams a large package through the AASX writer and reader, and the same data through a
//! plain `zip` copy, one step per run so that each can be measured on its own
//! (`bench/aasx_stream.sh` runs them under `/usr/bin/time -v`).
//!
//! ```sh
//! aasx_stream write  ENV.json SUPPL.bin OUT.aasx   # environment + supplementary file → package
//! aasx_stream read   IN.aasx                       # environment + every supplementary file
//! aasx_stream zip    ENV.json SUPPL.bin OUT.zip    # the same two files, plain zip, same deflate
//! aasx_stream unzip  IN.zip                        # every entry of a plain zip
//! ```

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::time::Instant;

use aas_serde::Format;
use aas_serde::aasx::{AasxReader, AasxWriter};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn options() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let start = Instant::now();
    let bytes =
        match args
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["write", env, suppl, out] => {
                let env: aas_model::Environment =
                    aas_serde::json::from_reader(BufReader::new(File::open(env)?))?;
                let mut writer = AasxWriter::new(BufWriter::new(File::create(out)?), Format::Xml);
                writer.write_environment(&env)?;
                drop(env);
                writer.add_supplementary_file(
                    "/aasx/suppl/large.bin",
                    "application/octet-stream",
                    BufReader::new(File::open(suppl)?),
                )?;
                writer.finish()?.flush()?;
                std::fs::metadata(out)?.len()
            }
            ["read", package] => {
                let mut reader = AasxReader::new(BufReader::new(File::open(package)?))?;
                let env = reader.environment()?;
                let shells = env.submodels.as_ref().map_or(0, Vec::len);
                drop(env);
                let mut total = 0;
                for part in reader.supplementary_files().to_vec() {
                    total += io::copy(&mut reader.open(&part)?, &mut io::sink())?;
                }
                eprintln!("{shells} submodels, {total} bytes of supplementary files");
                total
            }
            ["zip", env, suppl, out] => {
                let mut writer = zip::ZipWriter::new_stream(BufWriter::new(File::create(out)?));
                for (name, path) in [("aasx/data.json", env), ("aasx/suppl/large.bin", suppl)] {
                    writer.start_file(name, options())?;
                    io::copy(&mut BufReader::new(File::open(path)?), &mut writer)?;
                }
                writer.finish()?.into_inner().flush()?;
                std::fs::metadata(out)?.len()
            }
            ["unzip", archive] => {
                let mut archive = zip::ZipArchive::new(BufReader::new(File::open(archive)?))?;
                let mut total = 0;
                for i in 0..archive.len() {
                    let mut entry = archive.by_index(i)?;
                    let mut sink = Vec::new();
                    if entry.size() < 64 << 20 {
                        entry.read_to_end(&mut sink)?;
                        total += sink.len() as u64;
                    } else {
                        total += io::copy(&mut entry, &mut io::sink())?;
                    }
                }
                total
            }
            _ => return Err(
                "usage: aasx_stream write ENV SUPPL OUT | read IN | zip ENV SUPPL OUT | unzip IN"
                    .into(),
            ),
        };
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{} {bytes} bytes in {seconds:.2} s ({:.0} MB/s)",
        args[0],
        bytes as f64 / seconds / 1e6
    );
    Ok(())
}
