/// One of the limits every parser and renderer of this crate holds (the values are listed in
/// the crate documentation, section "Limits"); [`LimitExceeded`] names the one exceeded.
///
/// ```
/// use sdt_core::jsonpath::{JsonPath, JsonPathError};
/// use sdt_core::Limit;
///
/// let deep = format!("${}.a{}", "[?(@".repeat(40), ")]".repeat(40));
/// match JsonPath::parse(&deep) {
///     Err(JsonPathError::Limit(exceeded)) => {
///         assert_eq!(exceeded.limit, Limit::JsonPathDepth);
///         assert_eq!(exceeded.actual, Some(80));
///         assert!(exceeded.to_string().contains("sdt_core::jsonpath::MAX_DEPTH"));
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// [`crate::jsonpath::MAX_LENGTH`]: bytes of a JSONPath.
    JsonPathLength,
    /// [`crate::jsonpath::MAX_DEPTH`]: nesting of `[` and `(` in a JSONPath.
    JsonPathDepth,
    /// [`crate::jsonpath::MAX_STEPS`]: how deeply evaluating a jsonpath-ng path recurses.
    JsonPathSteps,
    /// [`crate::jsonpath::MAX_WORK`]: steps one JSONPath evaluation may take.
    JsonPathWork,
    /// [`crate::jsonpath::MAX_RESULT_BYTES`]: bytes the results of one JSONPath evaluation may hold.
    JsonPathResult,
    /// [`crate::jsonpath::MAX_REGEX_SIZE`]: compiled size of a `=~` pattern.
    JsonPathRegexSize,
    /// [`crate::jsonpath::MAX_REGEX_BACKTRACK`]: backtracking of one `=~` match.
    JsonPathRegexBacktrack,
    /// [`crate::jsonpath::MAX_REGEX_NESTING`]: nesting of groups in a `=~` pattern.
    JsonPathRegexNesting,
    /// [`crate::mustache::MAX_TEMPLATE_LENGTH`]: bytes of a mustache template.
    MustacheLength,
    /// [`crate::mustache::MAX_SECTION_DEPTH`]: nesting of mustache sections.
    MustacheDepth,
    /// [`crate::mustache::MAX_WORK`]: tags and section passes one rendering may take.
    MustacheWork,
    /// [`crate::mustache::MAX_OUTPUT`]: bytes one mustache rendering may produce.
    MustacheOutput,
    /// [`crate::python_format::MAX_TEMPLATE_LENGTH`]: bytes of a Python template.
    PythonLength,
    /// [`crate::python_format::MAX_OUTPUT`]: bytes one Python rendering may produce.
    PythonOutput,
    /// [`crate::python_format::MAX_DIGITS_VALUE`]: a width or precision in a Python format spec.
    PythonDigits,
}

impl Limit {
    /// The limit's value.
    pub const fn value(self) -> usize {
        match self {
            Limit::JsonPathLength => crate::jsonpath::MAX_LENGTH,
            Limit::JsonPathDepth => crate::jsonpath::MAX_DEPTH,
            Limit::JsonPathSteps => crate::jsonpath::MAX_STEPS,
            Limit::JsonPathWork => crate::jsonpath::MAX_WORK,
            Limit::JsonPathResult => crate::jsonpath::MAX_RESULT_BYTES,
            Limit::JsonPathRegexSize => crate::jsonpath::MAX_REGEX_SIZE,
            Limit::JsonPathRegexBacktrack => crate::jsonpath::MAX_REGEX_BACKTRACK,
            Limit::JsonPathRegexNesting => crate::jsonpath::MAX_REGEX_NESTING,
            Limit::MustacheLength => crate::mustache::MAX_TEMPLATE_LENGTH,
            Limit::MustacheDepth => crate::mustache::MAX_SECTION_DEPTH,
            Limit::MustacheWork => crate::mustache::MAX_WORK,
            Limit::MustacheOutput => crate::mustache::MAX_OUTPUT,
            Limit::PythonLength => crate::python_format::MAX_TEMPLATE_LENGTH,
            Limit::PythonOutput => crate::python_format::MAX_OUTPUT,
            Limit::PythonDigits => crate::python_format::MAX_DIGITS_VALUE,
        }
    }

    /// The constant that holds it, as a user would write it.
    pub const fn name(self) -> &'static str {
        match self {
            Limit::JsonPathLength => "sdt_core::jsonpath::MAX_LENGTH",
            Limit::JsonPathDepth => "sdt_core::jsonpath::MAX_DEPTH",
            Limit::JsonPathSteps => "sdt_core::jsonpath::MAX_STEPS",
            Limit::JsonPathWork => "sdt_core::jsonpath::MAX_WORK",
            Limit::JsonPathResult => "sdt_core::jsonpath::MAX_RESULT_BYTES",
            Limit::JsonPathRegexSize => "sdt_core::jsonpath::MAX_REGEX_SIZE",
            Limit::JsonPathRegexBacktrack => "sdt_core::jsonpath::MAX_REGEX_BACKTRACK",
            Limit::JsonPathRegexNesting => "sdt_core::jsonpath::MAX_REGEX_NESTING",
            Limit::MustacheLength => "sdt_core::mustache::MAX_TEMPLATE_LENGTH",
            Limit::MustacheDepth => "sdt_core::mustache::MAX_SECTION_DEPTH",
            Limit::MustacheWork => "sdt_core::mustache::MAX_WORK",
            Limit::MustacheOutput => "sdt_core::mustache::MAX_OUTPUT",
            Limit::PythonLength => "sdt_core::python_format::MAX_TEMPLATE_LENGTH",
            Limit::PythonOutput => "sdt_core::python_format::MAX_OUTPUT",
            Limit::PythonDigits => "sdt_core::python_format::MAX_DIGITS_VALUE",
        }
    }

    /// What is measured, and in which unit.
    const fn measure(self) -> (&'static str, &'static str) {
        match self {
            Limit::JsonPathLength => ("JSONPath length", " bytes"),
            Limit::JsonPathDepth => ("JSONPath nesting depth", ""),
            Limit::JsonPathSteps => ("JSONPath evaluation nesting", ""),
            Limit::JsonPathWork => (
                "JSONPath evaluation work",
                " steps (nodes visited, selected and compared)",
            ),
            Limit::JsonPathResult => ("JSONPath results", " bytes"),
            Limit::JsonPathRegexSize => ("compiled =~ pattern", " bytes"),
            Limit::JsonPathRegexBacktrack => ("backtracking of a =~ match", " steps"),
            Limit::JsonPathRegexNesting => ("group nesting of a =~ pattern", ""),
            Limit::MustacheLength => ("mustache template length", " bytes"),
            Limit::MustacheDepth => ("mustache section nesting depth", ""),
            Limit::MustacheWork => (
                "mustache rendering work",
                " steps (tags and section passes)",
            ),
            Limit::MustacheOutput => ("mustache output", " bytes"),
            Limit::PythonLength => ("Python template length", " bytes"),
            Limit::PythonOutput => ("Python template output", " bytes"),
            Limit::PythonDigits => ("Python format width or precision", ""),
        }
    }
}

/// An input, or the work or output of a rendering, over a [`Limit`]. Inputs are measured before
/// they are parsed; renderings stop as soon as they pass the limit, so `actual` is `None` for
/// them (how much more they would have taken is not known).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct LimitExceeded {
    /// The limit passed.
    pub limit: Limit,
    /// How large the input was, in the limit's unit (bytes, nesting levels); `None` for a
    /// rendering or evaluation stopped as soon as it passed the limit.
    pub actual: Option<usize>,
}

impl LimitExceeded {
    pub(crate) fn new(limit: Limit, actual: Option<usize>) -> Self {
        Self { limit, actual }
    }

    fn describe(&self) -> String {
        let (what, unit) = self.limit.measure();
        let actual = match self.actual {
            Some(actual) => format!(" {actual}{unit}"),
            None => String::new(),
        };
        format!(
            "{what}{actual} exceeds the limit of {}{unit} ({})",
            self.limit.value(),
            self.limit.name()
        )
    }
}
