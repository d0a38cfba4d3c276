//! Synchronized digital twins: keep a twin in step with a device on an IoT platform by polling
//! it, extracting values with JSONPath and rendering data properties with templates.
//!
//! [`description`] compiles a synchronization description (JSONPaths in [`jsonpath`], templates
//! in [`python_format`] and [`mustache`]); [`platform`] talks to the IoT platform; [`engine`]
//! polls, writes changed values through a [`engine::TwinSink`] and sends commands back.
//!
//! ```
//! use sdt_core::description::SyncDescription;
//! use serde_json::json;
//!
//! // The position example of the contract: a filter in the jsonpath-ng dialect, a Python template.
//! let description: SyncDescription = serde_json::from_value(json!({
//!     "iot_attributes": [
//!         {"name": "x", "value": "$[?value.addr='3ef8'].value.position[0]"},
//!         {"name": "y", "value": "$[?value.addr='3ef8'].value.position[1]"}],
//!     "thingin_attributes": [
//!         {"name": "DT:data", "value": "{{\"coordX\":{x},\"coordY\":{y}}}", "frequency_sec": 30}]
//! }))?;
//! let answer = json!([{"value": {"addr": "3ef8", "position": [1.5, 2, 3]}}]);
//! let run = description.compile()?.dry_run(&answer);
//! assert_eq!(run.values["DT:data"], json!(r#"{"coordX":1.5,"coordY":2}"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Dependencies
//!
//! - `serde_json`: the platform's answers and template variables are JSON values.
//! - `jsonpath-rust`: RFC 9535 JSONPath (our translator turns the jsonpath-ng dialect into it).
//! - `ramhorns`: mustache parsing and rendering (our `Content` over `serde_json::Value`).
//! - `serde`: descriptions and platform definitions as users write them.
//! - feature `client` (default): `reqwest` (rustls): the platform client; `tokio`: polling tasks, timers; `async-trait`: the
//!   object-safe [`engine::TwinSink`]; `tracing`: failed fetches and skipped properties.
//! - `thiserror`: typed errors.

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod description;
#[cfg(feature = "client")]
pub mod engine;
pub mod jsonpath;
pub mod mustache;
#[cfg(feature = "client")]
pub mod platform;
pub mod playground;
pub mod python_format;
