//! `reference-server`: the command-line entry of the aas-rs toolkit.
//!
//! Subcommands:
//! - `convert <IN> <OUT>`: reads an AAS file and writes it in the format of `OUT`'s extension,
//!   in the AAS version `--to-aas` names (default: the input's), with a conversion report.
//! - `validate <FILE>...`: reads files and reports their AAS version and what is wrong with
//!   them.
//!
//! JSON carries no version: `--aas 3.0|3.1` says which version JSON input is read as (default
//! 3.1); XML and AASX files go by their namespace.
//!
//! - `serve` (also without a subcommand): the AAS repository API (IDTA Part 2) over SQLite,
//!   change events over MQTT, the push and synchronized-twin APIs.
//! - `new-api-key`: a random API key and the line that configures its hash.
//!
//! Exit codes: 0 success; 1 some file reads but has findings (`validate`, `convert --verify`),
//! or the conversion to another version would lose something (`convert` without `--lossy`);
//! 2 some file cannot be read or written (or the command line is wrong).

#![forbid(unsafe_code)]

use reference_server::{Outcome, auth, config, convert, serve, validate};

use std::path::PathBuf;

use aas_model::Version;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's malloc: the server builds and drops a model of many small
/// strings per write (see the `mimalloc` line of Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Reference server and command-line tool of the aas-rs Asset Administration Shell toolkit.
#[derive(Debug, Parser)]
#[command(
    name = "reference-server",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a subcommand: `serve` with these options.
    #[command(flatten)]
    serve: config::Overrides,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Convert an AAS file between formats (chosen by the file extensions: .json, .xml, .aasx).
    ///
    /// Models that fail verification are converted as they are, unless `--verify` is given;
    /// unreadable input is always refused.
    Convert {
        /// The file to read.
        input: PathBuf,
        /// The file to write; its extension names the format.
        output: PathBuf,
        /// Write indented output.
        #[arg(long)]
        pretty: bool,
        /// Verify the model first; with findings, print them and write nothing (exit code 1).
        #[arg(long)]
        verify: bool,
        /// Format of the environment inside an .aasx output.
        #[arg(long, value_enum, default_value_t = SpecFormat::Xml)]
        spec_format: SpecFormat,
        /// The AAS version JSON input is read as (3.0 or 3.1); XML and AASX input go by their
        /// namespace.
        #[arg(long = "aas", value_name = "VERSION", default_value_t = Version::LATEST)]
        aas: Version,
        /// The AAS version to write (3.0 or 3.1) [default: the input's]. The conversion report
        /// goes to stderr; a conversion that loses something writes nothing (exit code 1)
        /// unless `--lossy` is given.
        #[arg(long = "to-aas", value_name = "VERSION")]
        to_aas: Option<Version>,
        /// Write even when the conversion loses something, applying the documented rules (the
        /// report is still printed).
        #[arg(long)]
        lossy: bool,
    },
    /// Read AAS files and report what is wrong with them.
    ///
    /// Each file is verified by the rules of its AAS version. Findings go to stdout as
    /// `FILE: PATH: CONSTRAINT: message`, then one line per file `FILE: AAS 3.1: valid` (or
    /// `: N finding(s)`); errors go to stderr. Exit code 0 when every file is valid, 1 when
    /// some file reads but has findings, 2 when some file cannot be read.
    Validate {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The AAS version JSON files are read as (3.0 or 3.1); XML and AASX files go by their
        /// namespace.
        #[arg(long = "aas", value_name = "VERSION", default_value_t = Version::LATEST)]
        aas: Version,
    },
    /// Serve the AAS repository API and announce changes over MQTT (what the binary does
    /// without a subcommand).
    Serve(Box<config::Overrides>),
    /// Make a new random API key: prints the key (give it to the client) and the line that
    /// configures its SHA-256 hash (only the hash is kept by the server).
    NewApiKey {
        /// What the key may do.
        #[arg(long, value_enum, default_value_t = auth::Role::Read)]
        role: auth::Role,
    },
}

/// Format of the environment inside a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SpecFormat {
    Json,
    Xml,
}

fn start_server(overrides: config::Overrides) -> Outcome {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{Layer, filter::FilterExt};
    let levels = tracing_subscriber::EnvFilter::try_from_env("AAS_SERVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rumqttd=warn"));
    let broker_limit = reference_server::broker_log::BrokerLogLimit::default();
    // Dynamic: asked at every event (a plain `filter_fn` is cached per callsite).
    let rate = tracing_subscriber::filter::dynamic_filter_fn(move |metadata, _| {
        !metadata.is_event() || broker_limit.allows(metadata.target())
    });
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_filter(levels.and(rate)),
        )
        .init();
    match config::Settings::resolve(overrides) {
        Ok(settings) => serve::run(settings),
        Err(error) => {
            eprintln!("reference-server: {error}");
            Outcome::Unreadable
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::Convert {
            input,
            output,
            pretty,
            verify,
            spec_format,
            aas,
            to_aas,
            lossy,
        }) => {
            let spec_format = match spec_format {
                SpecFormat::Json => aas_serde::Format::Json,
                SpecFormat::Xml => aas_serde::Format::Xml,
            };
            let write = aas_serde::WriteOptions {
                pretty,
                spec_format,
                version: aas,
            };
            let options = convert::ConvertOptions {
                json_version: aas,
                to: to_aas,
                lossy,
                verify,
            };
            convert::run(&input, &output, write, options)
        }
        Some(Command::Validate { files, aas }) => validate::run(&files, aas),
        Some(Command::Serve(overrides)) => start_server(*overrides),
        Some(Command::NewApiKey { role }) => match auth::new_key() {
            Ok((key, hash)) => {
                let role = format!("{role:?}").to_lowercase();
                println!("key:    {key}");
                println!("flag:   --api-key {role}:{hash}");
                println!(
                    "config: [[api-keys]]\n        sha256 = \"{hash}\"\n        role = \"{role}\""
                );
                Outcome::Ok
            }
            Err(_) => {
                eprintln!("reference-server: no random numbers from the system");
                Outcome::Unreadable
            }
        },
        None => start_server(cli.serve),
    };
    ExitCode::from(outcome as u8)
}
