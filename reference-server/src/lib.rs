//! The reference server of the aas-rs toolkit, as a library: the binary `reference-server`
//! is its command line (see `main.rs` and the crate README).
//!
//! It wires the library crates to storage and transports: the AAS repository API (IDTA Part 2)
//! over SQLite, change events over MQTT (`events-core`), push targets and jobs (`push-core`),
//! synchronized twins (`sdt-core`). The library exists so that the fuzz harness (and tests)
//! can call the HTTP API in process through [`serve::in_memory_router`]; everything else is
//! the binary's, and not meant as an API for other crates.

#![forbid(unsafe_code)]

pub mod auth;
mod broker;
pub mod broker_log;
pub mod config;
mod connections;
pub mod convert;
mod duration;
mod findings;
mod http;
mod mqtt_front;
mod mqtt_tls;
mod openapi;
mod outbound;
mod parse_errors;
mod publisher;
mod push;
mod secrets;
pub mod serve;
mod service;
mod storage;
mod sync;
pub mod validate;

/// The outcome of a command, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok = 0,
    Findings = 1,
    Unreadable = 2,
}
