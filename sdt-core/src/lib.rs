//! Synchronized digital twins: keep a twin in step with a device on an IoT platform by polling
//! it, extracting values with JSONPath and rendering data properties with templates.
//!
//! This release holds the building blocks: [`jsonpath`] (the jsonpath-ng ext dialect and RFC 9535)
//! [`python_format`] (CPython's `str.format`) and [`mustache`] (mustache over JSON values).
//!
//! # Dependencies
//!
//! - `serde_json`: the platform's answers and template variables are JSON values.
//! - `jsonpath-rust`: RFC 9535 JSONPath (our translator turns the jsonpath-ng dialect into it).
//! - `ramhorns`: mustache parsing and rendering (our `Content` over `serde_json::Value`).
//! - `serde`: descriptions and platform definitions as users write them.
//! - `reqwest` (rustls): the platform client; `tokio`: polling tasks, timers; `async-trait`: the
//!   object-safe [`engine::TwinSink`]; `tracing`: failed fetches and skipped properties.
//! - `thiserror`: typed errors.

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod description;
pub mod engine;
pub mod jsonpath;
pub mod mustache;
pub mod platform;
pub mod python_format;
