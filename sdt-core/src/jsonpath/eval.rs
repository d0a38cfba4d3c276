//! RFC 9535 evaluation of jsonpath-rust's parsed query, with a work budget.
//!
//! jsonpath-rust parses; this module evaluates, because jsonpath-rust's evaluator has no bound
//! on its work (`$[0,0,0,0,0,0,0,0]` k times gives 8^k nodes, `$..*..*..*` grows with the
//! document's depth at every `..*`) and clones along the way. Here every node a segment visits
//! or selects, every node a descendant walk passes, every child a filter tests and every node a
//! comparison looks at is one step of [`MAX_WORK`](super::MAX_WORK); strings compared or
//! measured cost a step per [`BYTES_PER_STEP`] bytes, strings searched by a regular expression
//! [`REGEX_STEPS_PER_BYTE`] steps per byte. Nodes are `&Value`s into the document; nothing is
//! cloned here.
//!
//! Recursion follows the query's nesting only (a filter inside a filter inside …), which the
//! parser bounds ([`MAX_DEPTH`](super::MAX_DEPTH)); descendant walks and deep equality keep
//! their own stacks, so a deep document costs heap, not call stack.

use std::cmp::Ordering;
use std::collections::HashMap;

use jsonpath_rust::parser::model::{
    Comparable, Comparison, Filter, FilterAtom, FnArg, JpQuery, Literal, Segment, Selector,
    SingularQuery, SingularQuerySegment, Test, TestFunction,
};
use regex::{Regex, RegexBuilder};
use serde_json::{Map, Value};

use crate::limits::{Limit, LimitExceeded};

/// Bytes of a string that cost one step when a string is compared, measured or searched.
pub(super) const BYTES_PER_STEP: usize = 64;

/// Steps each byte of a string costs when `match()`/`search()` scan it: the `regex` crate may
/// fall back from its DFA to its much slower NFA simulation (Unicode word boundaries do that).
pub(super) const REGEX_STEPS_PER_BYTE: usize = 4;

/// Steps a regular expression costs to compile (each distinct pattern, once while it stays in
/// the cache), on top of one step per byte of the pattern: compiling one near
/// [`MAX_REGEX_SIZE`](super::MAX_REGEX_SIZE) takes milliseconds.
pub(super) const REGEX_COMPILE_STEPS: usize = 100_000;

/// Compiled patterns kept per evaluation (each holds up to two
/// [`MAX_REGEX_SIZE`](super::MAX_REGEX_SIZE) of memory); the cache is emptied when full.
const REGEX_CACHE: usize = 16;

type Steps<T> = Result<T, LimitExceeded>;

/// The nodes `query` selects from `document`, in RFC 9535 order (duplicates kept).
pub(super) fn evaluate<'a>(query: &JpQuery, document: &'a Value) -> Steps<Vec<&'a Value>> {
    let mut evaluator = Evaluator {
        root: document,
        work: 0,
        regexes: HashMap::new(),
    };
    evaluator.query(&query.segments, document)
}

struct Evaluator<'a> {
    root: &'a Value,
    /// Steps taken so far.
    work: usize,
    /// Compiled patterns by (pattern, whole-string match); `None`: not a valid pattern.
    regexes: HashMap<(String, bool), Option<Regex>>,
}

/// A ValueType value (RFC 9535, 2.4.1) other than Nothing.
#[derive(Debug, Clone, Copy)]
enum Operand<'a, 'q> {
    Node(&'a Value),
    Literal(&'q Literal),
    Count(usize),
}

/// What a function returns.
enum Returned<'a, 'q> {
    /// ValueType: `None` is Nothing.
    Value(Option<Operand<'a, 'q>>),
    /// LogicalType.
    Logical(bool),
}

/// A JSON value or literal as comparisons see it.
#[derive(Debug, Clone, Copy)]
enum View<'x> {
    Null,
    Bool(bool),
    Number(Number),
    String(&'x str),
    Array(&'x [Value]),
    Object(&'x Map<String, Value>),
}

#[derive(Debug, Clone, Copy)]
enum Number {
    Int(i128),
    Float(f64),
}

impl<'x> View<'x> {
    fn of(value: &'x Value) -> Self {
        match value {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(*b),
            Value::Number(n) => View::Number(match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Number::Int(i128::from(i)),
                (None, Some(u)) => Number::Int(i128::from(u)),
                (None, None) => Number::Float(n.as_f64().unwrap_or(f64::NAN)),
            }),
            Value::String(s) => View::String(s),
            Value::Array(items) => View::Array(items),
            Value::Object(map) => View::Object(map),
        }
    }

    fn of_operand(operand: Operand<'x, 'x>) -> Self {
        match operand {
            Operand::Node(value) => View::of(value),
            Operand::Literal(literal) => match literal {
                Literal::Int(i) => View::Number(Number::Int(i128::from(*i))),
                Literal::Float(f) => View::Number(Number::Float(*f)),
                Literal::String(s) => View::String(s),
                Literal::Bool(b) => View::Bool(*b),
                Literal::Null => View::Null,
            },
            Operand::Count(n) => View::Number(Number::Int(n as i128)),
        }
    }
}

/// The children of an array or object, in order.
enum Children<'a> {
    Array(std::slice::Iter<'a, Value>),
    Object(serde_json::map::Values<'a>),
}

impl<'a> Children<'a> {
    fn of(value: &'a Value) -> Option<Self> {
        match value {
            Value::Array(items) => Some(Children::Array(items.iter())),
            Value::Object(map) => Some(Children::Object(map.values())),
            _ => None,
        }
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = &'a Value;

    fn next(&mut self) -> Option<&'a Value> {
        match self {
            Children::Array(items) => items.next(),
            Children::Object(values) => values.next(),
        }
    }
}

/// The element at an index (negative: from the end).
fn element(items: &[Value], index: i64) -> Option<&Value> {
    let index = if index < 0 {
        i64::try_from(items.len()).ok()?.checked_add(index)?
    } else {
        index
    };
    items.get(usize::try_from(index).ok()?)
}

/// The indices a slice selects from an array of `len` elements (RFC 9535, 2.3.4.2.2).
fn slice_indices(
    len: usize,
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
) -> impl Iterator<Item = usize> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    let step = step.unwrap_or(1);
    let normalize = |i: i64| if i >= 0 { i } else { len.saturating_add(i) };
    let (mut i, bound) = match step.cmp(&0) {
        Ordering::Greater => (
            normalize(start.unwrap_or(0)).clamp(0, len),
            normalize(end.unwrap_or(len)).clamp(0, len),
        ),
        Ordering::Less => (
            normalize(start.unwrap_or(len - 1)).clamp(-1, len - 1),
            end.map_or(-1, |end| normalize(end).clamp(-1, len - 1)),
        ),
        Ordering::Equal => (0, 0),
    };
    std::iter::from_fn(move || {
        let more = match step.cmp(&0) {
            Ordering::Greater => i < bound,
            Ordering::Less => bound < i,
            Ordering::Equal => false,
        };
        if !more {
            return None;
        }
        let index = usize::try_from(i).ok();
        i = i.saturating_add(step);
        index
    })
}

impl<'a> Evaluator<'a> {
    fn charge(&mut self, steps: usize) -> Steps<()> {
        self.work = self.work.saturating_add(steps);
        if self.work > super::MAX_WORK {
            return Err(LimitExceeded::new(Limit::JsonPathWork, None));
        }
        Ok(())
    }

    fn charge_bytes(&mut self, bytes: usize) -> Steps<()> {
        self.charge(1 + bytes / BYTES_PER_STEP)
    }

    fn select_into(&mut self, out: &mut Vec<&'a Value>, node: &'a Value) -> Steps<()> {
        self.charge(1)?;
        out.push(node);
        Ok(())
    }

    /// A query's segments applied to `start` (the root or the current node).
    fn query(&mut self, segments: &[Segment], start: &'a Value) -> Steps<Vec<&'a Value>> {
        let mut nodes = vec![start];
        for segment in segments {
            let mut next = Vec::new();
            for &node in &nodes {
                self.segment(segment, node, &mut next)?;
            }
            nodes = next;
            if nodes.is_empty() {
                break;
            }
        }
        Ok(nodes)
    }

    fn segment(
        &mut self,
        segment: &Segment,
        node: &'a Value,
        out: &mut Vec<&'a Value>,
    ) -> Steps<()> {
        match segment {
            Segment::Selector(selector) => self.selector(selector, node, out),
            Segment::Selectors(selectors) => {
                for selector in selectors {
                    self.selector(selector, node, out)?;
                }
                Ok(())
            }
            Segment::Descendant(inner) => {
                // The node and its descendants, parents before children, each given to the
                // inner segment in turn (RFC 9535, 2.5.2.2).
                self.charge(1)?;
                self.segment(inner, node, out)?;
                let mut stack: Vec<Children<'a>> = Children::of(node).into_iter().collect();
                while let Some(children) = stack.last_mut() {
                    match children.next() {
                        None => {
                            stack.pop();
                        }
                        Some(child) => {
                            self.charge(1)?;
                            self.segment(inner, child, out)?;
                            stack.extend(Children::of(child));
                        }
                    }
                }
                Ok(())
            }
        }
    }

    fn selector(
        &mut self,
        selector: &Selector,
        node: &'a Value,
        out: &mut Vec<&'a Value>,
    ) -> Steps<()> {
        match (selector, node) {
            (Selector::Name(name), Value::Object(map)) => {
                if let Some(child) = map.get(name) {
                    self.select_into(out, child)?;
                }
            }
            (Selector::Wildcard, _) => {
                for child in Children::of(node).into_iter().flatten() {
                    self.select_into(out, child)?;
                }
            }
            (Selector::Index(index), Value::Array(items)) => {
                if let Some(child) = element(items, *index) {
                    self.select_into(out, child)?;
                }
            }
            (Selector::Slice(start, end, step), Value::Array(items)) => {
                for index in slice_indices(items.len(), *start, *end, *step) {
                    if let Some(child) = items.get(index) {
                        self.select_into(out, child)?;
                    }
                }
            }
            (Selector::Filter(filter), _) => {
                for child in Children::of(node).into_iter().flatten() {
                    self.charge(1)?;
                    if self.logical(filter, child)? {
                        self.select_into(out, child)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn logical(&mut self, filter: &Filter, current: &'a Value) -> Steps<bool> {
        match filter {
            Filter::Or(filters) => {
                for filter in filters {
                    if self.logical(filter, current)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Filter::And(filters) => {
                for filter in filters {
                    if !self.logical(filter, current)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Filter::Atom(FilterAtom::Filter { expr, not }) => {
                Ok(self.logical(expr, current)? != *not)
            }
            Filter::Atom(FilterAtom::Test { expr, not }) => Ok(self.test(expr, current)? != *not),
            Filter::Atom(FilterAtom::Comparison(comparison)) => {
                self.comparison(comparison, current)
            }
        }
    }

    /// A test expression: a query selects at least one node, or a function is true.
    fn test(&mut self, test: &Test, current: &'a Value) -> Steps<bool> {
        match test {
            Test::RelQuery(segments) => Ok(!self.query(segments, current)?.is_empty()),
            Test::AbsQuery(query) => Ok(!self.query(&query.segments, self.root)?.is_empty()),
            Test::Function(function) => match self.function(function, current)? {
                Returned::Logical(result) => Ok(result),
                // Not well-typed; refused when the path is parsed.
                Returned::Value(_) => Ok(false),
            },
        }
    }

    fn comparison<'q>(&mut self, comparison: &'q Comparison, current: &'a Value) -> Steps<bool>
    where
        'a: 'q,
    {
        let (left, right) = comparison.vals();
        let left = self.comparable(left, current)?;
        let right = self.comparable(right, current)?;
        Ok(match comparison {
            Comparison::Eq(..) => self.equal(left, right)?,
            Comparison::Ne(..) => !self.equal(left, right)?,
            Comparison::Lt(..) => self.less(left, right)?,
            Comparison::Gt(..) => self.less(right, left)?,
            Comparison::Lte(..) => self.less(left, right)? || self.equal(left, right)?,
            Comparison::Gte(..) => self.less(right, left)? || self.equal(left, right)?,
        })
    }

    fn comparable<'q>(
        &mut self,
        comparable: &'q Comparable,
        current: &'a Value,
    ) -> Steps<Option<Operand<'a, 'q>>>
    where
        'a: 'q,
    {
        match comparable {
            Comparable::Literal(literal) => Ok(Some(Operand::Literal(literal))),
            Comparable::SingularQuery(query) => {
                Ok(self.singular(query, current)?.map(Operand::Node))
            }
            Comparable::Function(function) => match self.function(function, current)? {
                Returned::Value(value) => Ok(value),
                // Not well-typed; refused when the path is parsed.
                Returned::Logical(_) => Ok(None),
            },
        }
    }

    fn singular(&mut self, query: &SingularQuery, current: &'a Value) -> Steps<Option<&'a Value>> {
        let (mut node, segments) = match query {
            SingularQuery::Current(segments) => (current, segments),
            SingularQuery::Root(segments) => (self.root, segments),
        };
        for segment in segments {
            self.charge(1)?;
            let next = match (segment, node) {
                (SingularQuerySegment::Name(name), Value::Object(map)) => map.get(name),
                (SingularQuerySegment::Index(index), Value::Array(items)) => element(items, *index),
                _ => None,
            };
            match next {
                Some(next) => node = next,
                None => return Ok(None),
            }
        }
        Ok(Some(node))
    }

    /// RFC 9535 `==` (2.3.5.2.2): Nothing equals only Nothing; numbers by value; arrays and
    /// objects member by member.
    fn equal(&mut self, left: Option<Operand>, right: Option<Operand>) -> Steps<bool> {
        let (left, right) = match (left, right) {
            (None, None) => return Ok(true),
            (Some(left), Some(right)) => (View::of_operand(left), View::of_operand(right)),
            _ => return Ok(false),
        };
        let mut pending = vec![(left, right)];
        while let Some((left, right)) = pending.pop() {
            self.charge(1)?;
            let equal = match (left, right) {
                (View::Null, View::Null) => true,
                (View::Bool(a), View::Bool(b)) => a == b,
                (View::Number(a), View::Number(b)) => {
                    compare_numbers(a, b) == Some(Ordering::Equal)
                }
                (View::String(a), View::String(b)) => {
                    self.charge_bytes(a.len().min(b.len()))?;
                    a == b
                }
                (View::Array(a), View::Array(b)) => {
                    if a.len() == b.len() {
                        pending.extend(a.iter().zip(b).map(|(a, b)| (View::of(a), View::of(b))));
                    }
                    a.len() == b.len()
                }
                (View::Object(a), View::Object(b)) => {
                    let mut same = a.len() == b.len();
                    for (key, a) in a {
                        if !same {
                            break;
                        }
                        self.charge_bytes(key.len())?;
                        match b.get(key) {
                            Some(b) => pending.push((View::of(a), View::of(b))),
                            None => same = false,
                        }
                    }
                    same
                }
                _ => false,
            };
            if !equal {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// RFC 9535 `<`: numbers by value, strings by Unicode scalar values; else false.
    fn less(&mut self, left: Option<Operand>, right: Option<Operand>) -> Steps<bool> {
        let (Some(left), Some(right)) = (left, right) else {
            return Ok(false);
        };
        self.charge(1)?;
        Ok(match (View::of_operand(left), View::of_operand(right)) {
            (View::Number(a), View::Number(b)) => compare_numbers(a, b) == Some(Ordering::Less),
            (View::String(a), View::String(b)) => {
                self.charge_bytes(a.len().min(b.len()))?;
                // UTF-8 byte order is Unicode scalar value order.
                a < b
            }
            _ => false,
        })
    }

    fn function<'q>(
        &mut self,
        function: &'q TestFunction,
        current: &'a Value,
    ) -> Steps<Returned<'a, 'q>>
    where
        'a: 'q,
    {
        self.charge(1)?;
        Ok(match function {
            TestFunction::Length(argument) => {
                let length = match self
                    .value_argument(argument, current)?
                    .map(View::of_operand)
                {
                    Some(View::String(s)) => {
                        self.charge_bytes(s.len())?;
                        Some(s.chars().count())
                    }
                    Some(View::Array(items)) => Some(items.len()),
                    Some(View::Object(map)) => Some(map.len()),
                    _ => None,
                };
                Returned::Value(length.map(Operand::Count))
            }
            TestFunction::Count(argument) => {
                let nodes = self.nodes_argument(argument, current)?;
                Returned::Value(Some(Operand::Count(nodes.len())))
            }
            TestFunction::Value(argument) => match self.nodes_argument(argument, current)?[..] {
                [node] => Returned::Value(Some(Operand::Node(node))),
                _ => Returned::Value(None),
            },
            TestFunction::Match(subject, pattern) => {
                Returned::Logical(self.regex(subject, pattern, current, true)?)
            }
            TestFunction::Search(subject, pattern) => {
                Returned::Logical(self.regex(subject, pattern, current, false)?)
            }
            // Refused when the path is parsed.
            TestFunction::Custom(..) => Returned::Logical(false),
        })
    }

    /// A ValueType argument: a literal, a singular query's node, or a function's value.
    fn value_argument<'q>(
        &mut self,
        argument: &'q FnArg,
        current: &'a Value,
    ) -> Steps<Option<Operand<'a, 'q>>>
    where
        'a: 'q,
    {
        match argument {
            FnArg::Literal(literal) => Ok(Some(Operand::Literal(literal))),
            FnArg::Test(test) => match &**test {
                Test::Function(function) => match self.function(function, current)? {
                    Returned::Value(value) => Ok(value),
                    Returned::Logical(_) => Ok(None),
                },
                _ => match self.nodes_argument(argument, current)?[..] {
                    [node] => Ok(Some(Operand::Node(node))),
                    _ => Ok(None),
                },
            },
            FnArg::Filter(_) => Ok(None),
        }
    }

    /// A NodesType argument: the nodes a query selects.
    fn nodes_argument(&mut self, argument: &FnArg, current: &'a Value) -> Steps<Vec<&'a Value>> {
        match argument {
            FnArg::Test(test) => match &**test {
                Test::RelQuery(segments) => self.query(segments, current),
                Test::AbsQuery(query) => self.query(&query.segments, self.root),
                Test::Function(_) => Ok(Vec::new()),
            },
            _ => Ok(Vec::new()),
        }
    }

    /// `match()` (`whole`) or `search()`: false unless both are strings and the pattern is an
    /// I-Regexp the `regex` crate compiles.
    fn regex(
        &mut self,
        subject: &FnArg,
        pattern: &FnArg,
        current: &'a Value,
        whole: bool,
    ) -> Steps<bool> {
        let subject = self.value_argument(subject, current)?.map(View::of_operand);
        let pattern = self.value_argument(pattern, current)?.map(View::of_operand);
        let (Some(View::String(subject)), Some(View::String(pattern))) = (subject, pattern) else {
            return Ok(false);
        };
        let key = (pattern.to_owned(), whole);
        if !self.regexes.contains_key(&key) {
            self.charge(REGEX_COMPILE_STEPS.saturating_add(pattern.len()))?;
            if self.regexes.len() >= REGEX_CACHE {
                self.regexes.clear();
            }
            let compiled = RegexBuilder::new(&translate_regex(pattern, whole))
                .size_limit(super::MAX_REGEX_SIZE)
                .dfa_size_limit(super::MAX_REGEX_SIZE)
                .build()
                .ok();
            self.regexes.insert(key.clone(), compiled);
        }
        self.charge(
            subject
                .len()
                .saturating_mul(REGEX_STEPS_PER_BYTE)
                .saturating_add(1),
        )?;
        Ok(match self.regexes.get(&key) {
            Some(Some(regex)) => regex.is_match(subject),
            _ => false,
        })
    }
}

/// Numbers by mathematical value (integers exactly, as far as `f64` tells them apart).
fn compare_numbers(a: Number, b: Number) -> Option<Ordering> {
    match (a, b) {
        (Number::Int(a), Number::Int(b)) => Some(a.cmp(&b)),
        (Number::Float(a), Number::Float(b)) => a.partial_cmp(&b),
        (Number::Int(a), Number::Float(b)) => compare_int_float(a, b),
        (Number::Float(a), Number::Int(b)) => compare_int_float(b, a).map(Ordering::reverse),
    }
}

fn compare_int_float(int: i128, float: f64) -> Option<Ordering> {
    match (int as f64).partial_cmp(&float)? {
        // Equal as floats: integers past 2^53 may still differ.
        Ordering::Equal if float.fract() == 0.0 && float.abs() < 1e38 => {
            Some(int.cmp(&(float as i128)))
        }
        ordering => Some(ordering),
    }
}

/// Translates an I-Regexp (RFC 9485) into the `regex` crate's syntax, as jsonpath-rust 1.0.12
/// does: `.` outside a class matches anything but `\n` and `\r` (the crate's `.` matches `\r`),
/// and `match()` anchors the whole pattern (`a|b` does not match "ab").
fn translate_regex(pattern: &str, whole: bool) -> String {
    let mut translated = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                translated.push(c);
                if let Some(escaped) = chars.next() {
                    translated.push(escaped);
                }
            }
            '[' if !in_class => {
                in_class = true;
                translated.push(c);
            }
            ']' if in_class => {
                in_class = false;
                translated.push(c);
            }
            '.' if !in_class => translated.push_str(r"[^\n\r]"),
            _ => translated.push(c),
        }
    }
    if whole {
        format!("^(?:{translated})$")
    } else {
        translated
    }
}

/// Why a query is not well-typed (RFC 9535 2.4.3); each names the function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum TypeError {
    #[error("the result of {0} must be compared")]
    NotCompared(String),
    #[error("{0} cannot be compared")]
    NotComparable(String),
    #[error("the argument of {0} must be a query")]
    NotAQuery(String),
    #[error("{0} is not an RFC 9535 function")]
    UnknownFunction(String),
    #[error("{inner} gives no value for {function}")]
    NoValue { inner: String, function: String },
    #[error(
        "{0} takes a value: a literal, a singular query or a function's value, not a query selecting several nodes"
    )]
    NotSingular(String),
    #[error("{0} takes a value, not a logical expression")]
    LogicalArgument(String),
}

/// Refuses a query RFC 9535 does not call well-typed (2.4.3) where jsonpath-rust's parser lets
/// it through: a function of ValueType as a test (`[?length(@)]`), a non-singular query where a
/// value is expected (`length(@.*)`), and function names RFC 9535 does not define.
pub(super) fn check_types(query: &JpQuery) -> Result<(), TypeError> {
    check_segments(&query.segments)
}

fn check_segments(segments: &[Segment]) -> Result<(), TypeError> {
    for segment in segments {
        match segment {
            Segment::Descendant(inner) => check_segments(std::slice::from_ref(&**inner))?,
            Segment::Selector(selector) => check_selector(selector)?,
            Segment::Selectors(selectors) => {
                for selector in selectors {
                    check_selector(selector)?;
                }
            }
        }
    }
    Ok(())
}

fn check_selector(selector: &Selector) -> Result<(), TypeError> {
    match selector {
        Selector::Filter(filter) => check_filter(filter),
        _ => Ok(()),
    }
}

fn check_filter(filter: &Filter) -> Result<(), TypeError> {
    match filter {
        Filter::Or(filters) | Filter::And(filters) => filters.iter().try_for_each(check_filter),
        Filter::Atom(FilterAtom::Filter { expr, .. }) => check_filter(expr),
        Filter::Atom(FilterAtom::Test { expr, .. }) => match &**expr {
            Test::RelQuery(segments) => check_segments(segments),
            Test::AbsQuery(query) => check_segments(&query.segments),
            Test::Function(function) => {
                if returns_value(function) {
                    return Err(TypeError::NotCompared(function_name(function)));
                }
                check_function(function)
            }
        },
        Filter::Atom(FilterAtom::Comparison(comparison)) => {
            let (left, right) = comparison.vals();
            for side in [left, right] {
                if let Comparable::Function(function) = side {
                    if !returns_value(function) {
                        return Err(TypeError::NotComparable(function_name(function)));
                    }
                    check_function(function)?;
                }
            }
            Ok(())
        }
    }
}

fn returns_value(function: &TestFunction) -> bool {
    matches!(
        function,
        TestFunction::Length(_) | TestFunction::Count(_) | TestFunction::Value(_)
    )
}

fn function_name(function: &TestFunction) -> String {
    match function {
        TestFunction::Length(_) => "length()".into(),
        TestFunction::Count(_) => "count()".into(),
        TestFunction::Value(_) => "value()".into(),
        TestFunction::Match(..) => "match()".into(),
        TestFunction::Search(..) => "search()".into(),
        TestFunction::Custom(name, _) => format!("{name}()"),
    }
}

fn check_function(function: &TestFunction) -> Result<(), TypeError> {
    let name = function_name(function);
    match function {
        TestFunction::Length(argument) => check_value_argument(argument, &name),
        TestFunction::Match(subject, pattern) | TestFunction::Search(subject, pattern) => {
            check_value_argument(subject, &name)?;
            check_value_argument(pattern, &name)
        }
        TestFunction::Count(argument) | TestFunction::Value(argument) => match argument {
            FnArg::Test(test) => match &**test {
                Test::RelQuery(segments) => check_segments(segments),
                Test::AbsQuery(query) => check_segments(&query.segments),
                Test::Function(_) => Err(TypeError::NotAQuery(name)),
            },
            _ => Err(TypeError::NotAQuery(name)),
        },
        TestFunction::Custom(..) => Err(TypeError::UnknownFunction(name)),
    }
}

fn check_value_argument(argument: &FnArg, name: &str) -> Result<(), TypeError> {
    let singular = |segments: &[Segment]| {
        segments.iter().all(|segment| {
            matches!(
                segment,
                Segment::Selector(Selector::Name(_) | Selector::Index(_))
            )
        })
    };
    match argument {
        FnArg::Literal(_) => Ok(()),
        FnArg::Test(test) => match &**test {
            Test::RelQuery(segments) if singular(segments) => Ok(()),
            Test::AbsQuery(query) if singular(&query.segments) => Ok(()),
            Test::Function(function) if returns_value(function) => check_function(function),
            Test::Function(function) => Err(TypeError::NoValue {
                inner: function_name(function),
                function: name.to_owned(),
            }),
            _ => Err(TypeError::NotSingular(name.to_owned())),
        },
        FnArg::Filter(_) => Err(TypeError::LogicalArgument(name.to_owned())),
    }
}
