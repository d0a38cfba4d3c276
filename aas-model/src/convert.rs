//! Conversion of a model from one metamodel version to another, with a report of everything
//! that changes or stops being valid: nothing is dropped silently.
//!
//! (Skeleton: the rules are filled in by issue 20.)

use std::fmt;

use crate::{AssetAdministrationShell, ConceptDescription, Environment, Submodel, Version};

/// What a conversion did or would do to one place of the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionEntry {
    /// Path in the JSON mapping's names, as in verification findings.
    pub path: String,
    /// What the target version cannot carry, or what stops being valid in it.
    pub problem: String,
    /// The documented rule applied (`None`: the value is kept and stays invalid).
    pub rule: Option<String>,
}

impl fmt::Display for ConversionEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)?;
        if let Some(rule) = &self.rule {
            write!(f, "; {rule}")?;
        }
        Ok(())
    }
}

/// Everything a conversion changes or leaves invalid; empty when nothing is lost.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversionReport {
    /// The version converted from.
    pub from: Version,
    /// The version converted to.
    pub to: Version,
    /// One entry per change or problem, in document order.
    pub entries: Vec<ConversionEntry>,
}

impl ConversionReport {
    /// Whether the conversion keeps everything (the model is the same and valid).
    pub fn is_lossless(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Display for ConversionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AAS {} -> {}: {} problem(s)",
            self.from,
            self.to,
            self.entries.len()
        )?;
        for entry in &self.entries {
            write!(f, "\n  {entry}")?;
        }
        Ok(())
    }
}

/// A conversion that would lose something, refused: the model is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{report}\n(refused: allow loss to convert anyway)")]
pub struct ConversionRefused {
    pub report: ConversionReport,
}

/// What can be converted: an environment and each identifiable on its own.
pub trait Convertible: sealed::Sealed {}

impl Convertible for Environment {}
impl Convertible for Submodel {}
impl Convertible for AssetAdministrationShell {}
impl Convertible for ConceptDescription {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Environment {}
    impl Sealed for crate::Submodel {}
    impl Sealed for crate::AssetAdministrationShell {}
    impl Sealed for crate::ConceptDescription {}
}

/// The report of converting `model` from `from` to `to`, without changing it.
pub fn check<T: Convertible>(model: &T, from: Version, to: Version) -> ConversionReport {
    let _ = model;
    ConversionReport {
        from,
        to,
        entries: Vec::new(),
    }
}

/// Converts `model` from `from` to `to`. When the report is not empty and `allow_loss` is
/// false, refuses and leaves `model` unchanged; otherwise applies each documented rule and
/// returns the report.
pub fn convert<T: Convertible>(
    model: &mut T,
    from: Version,
    to: Version,
    allow_loss: bool,
) -> Result<ConversionReport, ConversionRefused> {
    let report = check(model, from, to);
    if !report.is_lossless() && !allow_loss {
        return Err(ConversionRefused { report });
    }
    Ok(report)
}
