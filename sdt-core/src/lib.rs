//! Synchronized digital twins: keep a twin in step with a device on an IoT platform by polling
//! it, extracting values with JSONPath and rendering data properties with templates.
//!
//! This release holds the building blocks: [`jsonpath`] (the jsonpath-ng ext dialect and RFC 9535)
//! and [`python_format`] (CPython's `str.format`).
//!
//! # Dependencies
//!
//! - `serde_json`: the platform's answers and template variables are JSON values.
//! - `jsonpath-rust`: RFC 9535 JSONPath (our translator turns the jsonpath-ng dialect into it).
//! - `thiserror`: typed errors.

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod jsonpath;
pub mod python_format;
