//! Synchronized digital twins: keep a twin in step with a device on an IoT platform by polling
//! it, extracting values with JSONPath and rendering data properties with templates.
//!
//! This release holds the template engines: [`python_format`] (CPython's `str.format`).
//!
//! # Dependencies
//!
//! - `serde_json`: the platform's answers and template variables are JSON values.
//! - `thiserror`: typed errors.

#![forbid(unsafe_code)]
#![warn(missing_debug_implementations)]

pub mod python_format;
