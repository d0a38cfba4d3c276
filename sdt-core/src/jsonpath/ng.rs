//! jsonpath-ng 1.16.0's "ext" dialect as jsonpath-ng implements it: its lexer rule by rule, its
//! LALR tables (`ng_table.rs`, generated from jsonpath-ng's own), the same syntax tree, and each
//! node's `find` ported with Python's value semantics (`True` is not `1` in filters but is in
//! `sorted`, `str()` prints like Python, slices like Python's). Paths this parser rejects fall
//! back to RFC 9535 in `super`.

use std::rc::Rc;

use serde_json::{Map, Value};

use super::ng_table::{ACTIONS, GOTO, NONTERMINALS, PRODUCTIONS, TERMINALS};
use super::python_re::{PatternError, PythonRegex};
use crate::limits::{Limit, LimitExceeded};

/// Why a path is not jsonpath-ng's, or why jsonpath-ng would raise while evaluating it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum NgError {
    /// The lexer found no token at byte `at`.
    #[error("unexpected character {found:?} at byte {at}")]
    Lex { at: usize, found: char },
    #[error("unclosed {0} at the end of the path")]
    Unclosed(&'static str),
    #[error("the integer {0} is too large (at most 38 digits)")]
    IntegerTooLarge(String),
    /// The LALR parser met a token no rule expects there.
    #[error("unexpected {found} at byte {at}")]
    Syntax { at: usize, found: String },
    /// A rule's action refused what it parsed (as jsonpath-ng's raises).
    #[error("{0}")]
    Rule(String),
    /// jsonpath-ng raises this Python exception while evaluating the path on this document.
    #[error("jsonpath-ng raises {class} here: {message}")]
    Raises {
        class: &'static str,
        message: String,
    },
    /// Valid jsonpath-ng, but a construct we do not evaluate (listed in the crate docs).
    #[error("{0} is not supported")]
    Unsupported(&'static str),
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
}

fn raises(class: &'static str, message: impl Into<String>) -> NgError {
    NgError::Raises {
        class,
        message: message.into(),
    }
}

// --- lexer ------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A one-character literal (`.`, `[`, `$`, `@`, `*`…).
    Lit(char),
    DoubleDot,
    And,
    Or,
    Where,
    WhereNot,
    Bool(bool),
    Null,
    Id {
        text: String,
        quoted: bool,
    },
    Number(i128),
    Float(f64),
    Named(String),
    FilterOp(Op),
    /// `/` ascending or `\` descending.
    SortDirection(char),
    End,
}

impl Tok {
    fn terminal(&self) -> &'static str {
        match self {
            Tok::Lit(c) => match c {
                '!' => "!",
                '$' => "$",
                '&' => "&",
                '(' => "(",
                ')' => ")",
                '*' => "*",
                '+' => "+",
                ',' => ",",
                '-' => "-",
                '.' => ".",
                '/' => "/",
                ':' => ":",
                '?' => "?",
                '@' => "@",
                '[' => "[",
                ']' => "]",
                '|' => "|",
                // `~` is a literal of the lexer that no rule uses.
                _ => "~",
            },
            Tok::DoubleDot => "DOUBLEDOT",
            Tok::And => "AND",
            Tok::Or => "OR",
            Tok::Where => "WHERE",
            Tok::WhereNot => "WHERENOT",
            Tok::Bool(_) => "BOOL",
            Tok::Null => "NULL",
            Tok::Id { .. } => "ID",
            Tok::Number(_) => "NUMBER",
            Tok::Float(_) => "FLOAT",
            Tok::Named(_) => "NAMED_OPERATOR",
            Tok::FilterOp(_) => "FILTER_OP",
            Tok::SortDirection(_) => "SORT_DIRECTION",
            Tok::End => "$end",
        }
    }
}

/// Comparison operators of filters (`=` and `==` are the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Regex,
}

const LITERALS: &str = "*.[]()$,:|&~?@+*/-!";

fn id_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn id_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '@' || c == '-'
}

/// Python's `\s` on `str`: `str.isspace()`, which also counts the separators U+001C..U+001F.
fn python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The tokens of `path`, as jsonpath-ng's ext lexer cuts them: at each position its rules are
/// tried in its order (BOOL, SORT_DIRECTION, ID, FLOAT, NUMBER, quotes, backquote, newline,
/// FILTER_OP, DOUBLEDOT, OR, AND) and the first that matches wins, then the literals; spaces
/// and tabs between tokens are skipped.
fn lex(path: &str) -> Result<Vec<(usize, Tok)>, NgError> {
    let chars: Vec<(usize, char)> = path.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(path.len(), |&(o, _)| o);
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        let start = offset(i);
        if c == ' ' || c == '\t' {
            i += 1;
            continue;
        }
        // BOOL: `true` / `false` not followed by an identifier character.
        let word_end = |from: usize, word: &str| -> Option<usize> {
            let n = word.chars().count();
            let matches = word
                .chars()
                .enumerate()
                .all(|(k, w)| at(from + k) == Some(w));
            (matches && !at(from + n).is_some_and(id_continue)).then_some(from + n)
        };
        if let Some(end) = word_end(i, "true") {
            tokens.push((start, Tok::Bool(true)));
            i = end;
            continue;
        }
        if let Some(end) = word_end(i, "false") {
            tokens.push((start, Tok::Bool(false)));
            i = end;
            continue;
        }
        // SORT_DIRECTION: `,?\s*(/|\\)`.
        {
            let mut j = i;
            if at(j) == Some(',') {
                j += 1;
            }
            while at(j).is_some_and(python_space) {
                j += 1;
            }
            if let Some(d @ ('/' | '\\')) = at(j) {
                tokens.push((start, Tok::SortDirection(d)));
                i = j + 1;
                continue;
            }
        }
        // A newline is skipped by its own rule, tried after SORT_DIRECTION (`\s` takes it).
        if c == '\n' {
            i += 1;
            continue;
        }
        // ID: `@?[a-zA-Z_][a-zA-Z0-9_@\-]*`, with the reserved words.
        {
            let j = if c == '@' { i + 1 } else { i };
            if at(j).is_some_and(id_start) {
                let mut end = j + 1;
                while at(end).is_some_and(id_continue) {
                    end += 1;
                }
                let text: String = chars[i..end].iter().map(|&(_, c)| c).collect();
                tokens.push((
                    start,
                    match text.as_str() {
                        "where" => Tok::Where,
                        "wherenot" => Tok::WhereNot,
                        "null" => Tok::Null,
                        _ => Tok::Id {
                            text,
                            quoted: false,
                        },
                    },
                ));
                i = end;
                continue;
            }
        }
        // FLOAT `-?\d+\.\d+`, then NUMBER `-?\d+`.
        {
            let mut j = if c == '-' { i + 1 } else { i };
            let digits_start = j;
            while at(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            if j > digits_start {
                let mut end = j;
                let mut float = false;
                if at(j) == Some('.') && at(j + 1).is_some_and(|c| c.is_ascii_digit()) {
                    end = j + 1;
                    while at(end).is_some_and(|c| c.is_ascii_digit()) {
                        end += 1;
                    }
                    float = true;
                }
                let text = &path[start..offset(end)];
                let token = if float {
                    // Rust's and Python's `float()` both round the decimal text correctly.
                    Tok::Float(
                        text.parse()
                            .map_err(|_| NgError::Rule(format!("bad number {text}")))?,
                    )
                } else {
                    Tok::Number(
                        text.parse()
                            .map_err(|_| NgError::IntegerTooLarge(text.to_owned()))?,
                    )
                };
                tokens.push((start, token));
                i = end;
                continue;
            }
        }
        // Quoted names and strings, and backquoted named operators.
        if matches!(c, '\'' | '"' | '`') {
            let mut text = String::new();
            let mut j = i + 1;
            loop {
                match at(j) {
                    None => {
                        return Err(NgError::Unclosed(match c {
                            '`' => "backquote",
                            _ => "quote",
                        }));
                    }
                    Some('\\') => match at(j + 1) {
                        // `\\.`: `.` matches anything but a newline.
                        Some(escaped) if escaped != '\n' => {
                            text.push(escaped);
                            j += 2;
                        }
                        _ => {
                            return Err(NgError::Lex {
                                at: offset(j),
                                found: '\\',
                            });
                        }
                    },
                    Some(q) if q == c => break,
                    Some(other) => {
                        text.push(other);
                        j += 1;
                    }
                }
            }
            tokens.push((
                start,
                if c == '`' {
                    Tok::Named(text)
                } else {
                    Tok::Id { text, quoted: true }
                },
            ));
            i = j + 1;
            continue;
        }
        // FILTER_OP: `=~|==?|<=|>=|!=|<|>`.
        let next = at(i + 1);
        let op = match (c, next) {
            ('=', Some('~')) => Some((Op::Regex, 2)),
            ('=', Some('=')) => Some((Op::Eq, 2)),
            ('=', _) => Some((Op::Eq, 1)),
            ('<', Some('=')) => Some((Op::Le, 2)),
            ('>', Some('=')) => Some((Op::Ge, 2)),
            ('!', Some('=')) => Some((Op::Ne, 2)),
            ('<', _) => Some((Op::Lt, 1)),
            ('>', _) => Some((Op::Gt, 1)),
            _ => None,
        };
        if let Some((op, n)) = op {
            tokens.push((start, Tok::FilterOp(op)));
            i += n;
            continue;
        }
        let two = match (c, next) {
            ('.', Some('.')) => Some(Tok::DoubleDot),
            ('|', Some('|')) => Some(Tok::Or),
            ('&', Some('&')) => Some(Tok::And),
            _ => None,
        };
        if let Some(token) = two {
            tokens.push((start, token));
            i += 2;
            continue;
        }
        if LITERALS.contains(c) {
            tokens.push((start, Tok::Lit(c)));
            i += 1;
            continue;
        }
        return Err(NgError::Lex {
            at: start,
            found: c,
        });
    }
    tokens.push((path.len(), Tok::End));
    Ok(tokens)
}

// --- syntax tree ------------------------------------------------------------------------------

/// A node of jsonpath-ng's syntax tree (the class it builds, same name).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Root,
    This,
    Parent,
    Child(Box<Node>, Box<Node>),
    Descendants(Box<Node>, Box<Node>),
    Where(Box<Node>, Box<Node>),
    WhereNot(Box<Node>, Box<Node>),
    Union(Box<Node>, Box<Node>),
    Intersect(Box<Node>, Box<Node>),
    Fields(Vec<String>),
    Wildcard,
    Index(Vec<i128>),
    Slice(Option<i128>, Option<i128>, Option<i128>),
    Len,
    Keys,
    Path,
    /// `` `sorted` `` (no keys) or `[/a, \b]`.
    Sorted(Option<Vec<(Node, bool)>>),
    Str,
    Split,
    Sub,
    /// The conjunction of its expressions.
    Filter(Vec<Node>),
    Expression {
        target: Box<Node>,
        comparison: Option<(Op, Literal)>,
    },
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
    Operation(Box<Operand>, char, Box<Operand>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Literal {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Null,
    Query(Box<Node>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Operand {
    Path(Node),
    Str(String),
    Int(i128),
    Float(f64),
}

impl Node {
    /// How deeply evaluation recurses into this tree: steps joined by `.`, `..`, `|` and
    /// `where` are evaluated in a loop (see `Evaluator::spine`) and add nothing; each filter,
    /// expression, operator and sort key adds one level. Computed without recursing along
    /// those joins either, so a path of thousands of steps costs no stack here.
    pub(super) fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut node = self;
        loop {
            match node {
                Node::Child(left, right)
                | Node::Descendants(left, right)
                | Node::Where(left, right)
                | Node::WhereNot(left, right)
                | Node::Union(left, right) => {
                    deepest = deepest.max(right.depth());
                    node = left;
                }
                other => return deepest.max(other.own_depth()),
            }
        }
    }

    fn own_depth(&self) -> usize {
        let list = |nodes: &[Node]| 1 + nodes.iter().map(Node::depth).max().unwrap_or(0);
        match self {
            Node::Intersect(a, b) => 1 + a.depth().max(b.depth()),
            Node::Sorted(Some(keys)) => 1 + keys.iter().map(|(n, _)| n.depth()).max().unwrap_or(0),
            Node::Filter(nodes) | Node::And(nodes) | Node::Or(nodes) => list(nodes),
            Node::Expression { target, comparison } => {
                let value = match comparison {
                    Some((_, Literal::Query(q))) => q.depth(),
                    _ => 0,
                };
                1 + target.depth().max(value)
            }
            Node::Not(n) => 1 + n.depth(),
            Node::Operation(a, _, b) => {
                let d = |o: &Operand| match o {
                    Operand::Path(n) => n.depth(),
                    _ => 0,
                };
                1 + d(a).max(d(b))
            }
            _ => 1,
        }
    }

    /// Whether evaluating this path can read a datum's context (the values it was found in):
    /// only `` `parent` `` and a `$` that is not the first step of the whole path do. Without
    /// either, `evaluate` leaves the contexts out (one allocation less per step). Walks along
    /// `.`/`..`/`|`/`where` joins in a loop, as `depth` does.
    pub(super) fn reads_context(&self) -> bool {
        let mut node = self;
        loop {
            match node {
                Node::Child(left, right)
                | Node::Descendants(left, right)
                | Node::Where(left, right)
                | Node::WhereNot(left, right)
                | Node::Union(left, right) => {
                    if right.mentions_root_or_parent() {
                        return true;
                    }
                    node = left;
                }
                Node::Root => return false,
                other => return other.mentions_root_or_parent(),
            }
        }
    }

    /// Whether `$` or `` `parent` `` appears anywhere in this tree.
    fn mentions_root_or_parent(&self) -> bool {
        let path = |o: &Operand| matches!(o, Operand::Path(n) if n.mentions_root_or_parent());
        match self {
            Node::Root | Node::Parent => true,
            Node::Child(..)
            | Node::Descendants(..)
            | Node::Where(..)
            | Node::WhereNot(..)
            | Node::Union(..) => {
                let mut node = self;
                loop {
                    match node {
                        Node::Child(a, b)
                        | Node::Descendants(a, b)
                        | Node::Where(a, b)
                        | Node::WhereNot(a, b)
                        | Node::Union(a, b) => {
                            if b.mentions_root_or_parent() {
                                return true;
                            }
                            node = a;
                        }
                        other => return other.mentions_root_or_parent(),
                    }
                }
            }
            Node::Intersect(a, b) => a.mentions_root_or_parent() || b.mentions_root_or_parent(),
            Node::Sorted(Some(keys)) => keys.iter().any(|(n, _)| n.mentions_root_or_parent()),
            Node::Filter(nodes) | Node::And(nodes) | Node::Or(nodes) => {
                nodes.iter().any(Node::mentions_root_or_parent)
            }
            Node::Expression { target, comparison } => {
                target.mentions_root_or_parent()
                    || matches!(comparison, Some((_, Literal::Query(q))) if q.mentions_root_or_parent())
            }
            Node::Not(n) => n.mentions_root_or_parent(),
            Node::Operation(a, _, b) => path(a) || path(b),
            Node::This
            | Node::Fields(_)
            | Node::Wildcard
            | Node::Index(_)
            | Node::Slice(..)
            | Node::Len
            | Node::Keys
            | Node::Path
            | Node::Sorted(None)
            | Node::Str
            | Node::Split
            | Node::Sub => false,
        }
    }

    /// `Filter._references_root`: whether `$` appears where the filter's expressions reach.
    fn references_root(&self) -> bool {
        match self {
            Node::Root => true,
            Node::Filter(nodes) | Node::And(nodes) | Node::Or(nodes) => {
                nodes.iter().any(Node::references_root)
            }
            Node::Expression { target, comparison } => {
                target.references_root()
                    || matches!(comparison, Some((_, Literal::Query(q))) if q.references_root())
            }
            Node::Child(..)
            | Node::Descendants(..)
            | Node::Where(..)
            | Node::WhereNot(..)
            | Node::Union(..) => {
                let mut node = self;
                loop {
                    match node {
                        Node::Child(a, b)
                        | Node::Descendants(a, b)
                        | Node::Where(a, b)
                        | Node::WhereNot(a, b)
                        | Node::Union(a, b) => {
                            if b.references_root() {
                                return true;
                            }
                            node = a;
                        }
                        other => return other.references_root(),
                    }
                }
            }
            Node::Intersect(a, b) => a.references_root() || b.references_root(),
            Node::Operation(a, _, b) => [a, b]
                .iter()
                .any(|o| matches!(&***o, Operand::Path(n) if n.references_root())),
            _ => false,
        }
    }
}

// --- parser -----------------------------------------------------------------------------------

/// What the parser's stack holds for each grammar symbol.
#[derive(Debug)]
enum Sym {
    Tok(Tok),
    Node(Node),
    Names(Vec<String>),
    Indices(Vec<i128>),
    MaybeInt(Option<i128>),
    Operator(char),
    Nodes(Vec<Node>),
    Sort(Node, bool),
    Sorts(Vec<(Node, bool)>),
    Name(String),
    Empty,
}

fn terminal_index(name: &str) -> Option<u8> {
    TERMINALS
        .iter()
        .position(|t| *t == name)
        .and_then(|i| u8::try_from(i).ok())
}

/// PLY reduces without looking ahead in a state whose only action is one reduction.
fn defaulted(state: usize) -> Option<i16> {
    match ACTIONS.get(state) {
        Some([(_, action)]) if *action < 0 => Some(*action),
        _ => None,
    }
}

/// Parses `path` as jsonpath-ng's ext parser does, with PLY's LR driver over its tables.
pub(super) fn parse(path: &str) -> Result<Node, NgError> {
    let tokens = lex(path)?;
    let mut tokens = tokens.into_iter();
    let mut states: Vec<usize> = vec![0];
    let mut symbols: Vec<Sym> = Vec::new();
    let mut lookahead: Option<(usize, Tok)> = None;
    loop {
        let state = *states
            .last()
            .ok_or(NgError::Rule("empty parser stack".into()))?;
        let action = match defaulted(state) {
            Some(action) => Some(action),
            None => {
                if lookahead.is_none() {
                    lookahead = Some(tokens.next().unwrap_or((path.len(), Tok::End)));
                }
                let (_, token) = lookahead.as_ref().ok_or(NgError::Rule("no token".into()))?;
                let terminal = terminal_index(token.terminal());
                ACTIONS.get(state).and_then(|actions| {
                    actions
                        .iter()
                        .find(|(t, _)| Some(*t) == terminal)
                        .map(|&(_, a)| a)
                })
            }
        };
        match action {
            Some(0) => {
                return match symbols.pop() {
                    Some(Sym::Node(node)) => Ok(node),
                    other => Err(NgError::Rule(format!("parser ended on {other:?}"))),
                };
            }
            Some(shift) if shift > 0 => {
                let (_, token) = lookahead.take().ok_or(NgError::Rule("no token".into()))?;
                states.push(shift as usize);
                symbols.push(Sym::Tok(token));
            }
            Some(reduce) => {
                let production = (-reduce) as usize;
                let &(lhs, len, _) = PRODUCTIONS
                    .get(production)
                    .ok_or(NgError::Rule(format!("no production {production}")))?;
                let split = symbols
                    .len()
                    .checked_sub(len)
                    .ok_or(NgError::Rule("parser stack underflow".into()))?;
                let rhs: Vec<Sym> = symbols.drain(split..).collect();
                states.truncate(states.len() - len);
                symbols.push(reduce_by(production, rhs)?);
                let top = *states
                    .last()
                    .ok_or(NgError::Rule("empty parser stack".into()))?;
                let next = GOTO
                    .get(top)
                    .and_then(|gotos| gotos.iter().find(|(n, _)| *n as usize == lhs))
                    .map(|&(_, s)| s as usize)
                    .ok_or_else(|| {
                        NgError::Rule(format!(
                            "no goto from state {top} on {}",
                            NONTERMINALS.get(lhs).unwrap_or(&"?")
                        ))
                    })?;
                states.push(next);
            }
            None => {
                let (at, token) = lookahead.unwrap_or((path.len(), Tok::End));
                let found = match token {
                    Tok::End => "the end of the path".to_owned(),
                    other => format!("{other:?}"),
                };
                return Err(NgError::Syntax { at, found });
            }
        }
    }
}

fn bad(production: usize) -> NgError {
    NgError::Rule(format!(
        "unexpected symbols for rule {}",
        PRODUCTIONS[production].2
    ))
}

fn node(sym: Sym, production: usize) -> Result<Node, NgError> {
    match sym {
        Sym::Node(node) => Ok(node),
        _ => Err(bad(production)),
    }
}

fn boxed(sym: Sym, production: usize) -> Result<Box<Node>, NgError> {
    node(sym, production).map(Box::new)
}

/// `_conjunction`: one expression alone, several as an `And`.
fn conjunction(mut nodes: Vec<Node>) -> Node {
    if nodes.len() == 1
        && let Some(node) = nodes.pop()
    {
        return node;
    }
    and(nodes)
}

/// `And(...)`/`Or(...)` flatten operands of their own kind.
fn and(nodes: Vec<Node>) -> Node {
    let mut out = Vec::new();
    for n in nodes {
        match n {
            Node::And(inner) => out.extend(inner),
            other => out.push(other),
        }
    }
    Node::And(out)
}

fn or(nodes: Vec<Node>) -> Node {
    let mut out = Vec::new();
    for n in nodes {
        match n {
            Node::Or(inner) => out.extend(inner),
            other => out.push(other),
        }
    }
    Node::Or(out)
}

/// An operand of `+ - * /`: a lone field name stands for the string itself (jsonpath-ng:
/// "if we have choice between a field or a string we always choice string").
fn operand(sym: Sym, production: usize) -> Result<Operand, NgError> {
    Ok(match sym {
        Sym::Tok(Tok::Number(n)) => Operand::Int(n),
        Sym::Tok(Tok::Float(f)) => Operand::Float(f),
        Sym::Tok(Tok::Id { text, .. }) => Operand::Str(text),
        Sym::Node(Node::Fields(mut names)) if names.len() == 1 => match names.pop() {
            Some(name) => Operand::Str(name),
            None => return Err(bad(production)),
        },
        Sym::Node(node) => Operand::Path(node),
        _ => return Err(bad(production)),
    })
}

/// The action of rule `production` (jsonpath-ng's `p_*` functions, same numbering as its table).
fn reduce_by(production: usize, rhs: Vec<Sym>) -> Result<Sym, NgError> {
    let mut rhs = rhs.into_iter();
    let mut next = || rhs.next().ok_or_else(|| bad(production));
    Ok(match production {
        1..=6 => {
            let left = boxed(next()?, production)?;
            next()?;
            let right = boxed(next()?, production)?;
            Sym::Node(match production {
                1 => Node::Child(left, right),
                2 => Node::Descendants(left, right),
                3 => Node::Where(left, right),
                4 => Node::WhereNot(left, right),
                5 => Node::Union(left, right),
                _ => Node::Intersect(left, right),
            })
        }
        7..=14 => {
            let left = operand(next()?, production)?;
            let Sym::Operator(op) = next()? else {
                return Err(bad(production));
            };
            let right = operand(next()?, production)?;
            Sym::Node(Node::Operation(Box::new(left), op, Box::new(right)))
        }
        15 => match next()? {
            Sym::Node(node) => Sym::Node(node),
            Sym::Names(names) => Sym::Node(Node::Fields(names)),
            _ => return Err(bad(production)),
        },
        16..=19 => match next()? {
            Sym::Tok(Tok::Lit(c)) => Sym::Operator(c),
            // `/` is lexed as a sort direction first.
            Sym::Tok(Tok::SortDirection(c)) => Sym::Operator(c),
            _ => return Err(bad(production)),
        },
        20 => {
            let Sym::Tok(Tok::Named(name)) = next()? else {
                return Err(bad(production));
            };
            Sym::Node(match name.as_str() {
                "len" => Node::Len,
                "keys" => Node::Keys,
                "path" => Node::Path,
                "sorted" => Node::Sorted(None),
                "this" => Node::This,
                "parent" => Node::Parent,
                n if n.starts_with("split(") => Node::Split,
                n if n.starts_with("sub(") => Node::Sub,
                // `Str` checks `re.match(r"str\(\)")`: a prefix.
                n if n.starts_with("str()") => Node::Str,
                n if n.starts_with("str(") => {
                    return Err(NgError::Rule(format!("{n} is not valid")));
                }
                n => return Err(NgError::Rule(format!("unknown named operator `{n}`"))),
            })
        }
        21 => Sym::Node(Node::Root),
        22 => {
            next()?;
            match next()? {
                Sym::Indices(indices) => Sym::Node(Node::Index(indices)),
                _ => return Err(bad(production)),
            }
        }
        23 => {
            next()?;
            Sym::Node(node(next()?, production)?)
        }
        24 => {
            next()?;
            match next()? {
                Sym::Names(names) => Sym::Node(Node::Fields(names)),
                _ => return Err(bad(production)),
            }
        }
        25 => Sym::Node(Node::Expression {
            target: boxed(next()?, production)?,
            comparison: None,
        }),
        26..=31 => {
            let target = boxed(next()?, production)?;
            let Sym::Tok(Tok::FilterOp(op)) = next()? else {
                return Err(bad(production));
            };
            let value = match next()? {
                Sym::Tok(Tok::Id { text, .. }) => Literal::Str(text),
                Sym::Tok(Tok::Float(f)) => Literal::Float(f),
                Sym::Tok(Tok::Number(n)) => Literal::Int(n),
                Sym::Tok(Tok::Bool(b)) => Literal::Bool(b),
                // The regex operator has always taken the bare word as its pattern.
                Sym::Tok(Tok::Null) if op == Op::Regex => Literal::Str("null".into()),
                Sym::Tok(Tok::Null) => Literal::Null,
                Sym::Node(query) => {
                    if op == Op::Regex {
                        return Err(NgError::Rule(
                            "the regex operator requires a literal pattern, not a query".into(),
                        ));
                    }
                    Literal::Query(Box::new(query))
                }
                _ => return Err(bad(production)),
            };
            Sym::Node(Node::Expression {
                target,
                comparison: Some((op, value)),
            })
        }
        32..=34 | 68 | 73 => {
            let left = boxed(next()?, production)?;
            next()?;
            let right = match next()? {
                Sym::Names(names) => Node::Fields(names),
                Sym::Indices(indices) => Node::Index(indices),
                Sym::Node(node) => node,
                Sym::Sorts(sorts) => Node::Sorted(Some(sorts)),
                _ => return Err(bad(production)),
            };
            Sym::Node(Node::Child(left, Box::new(right)))
        }
        35 => {
            next()?;
            Sym::Node(node(next()?, production)?)
        }
        36 => next()?,
        37 | 47 => Sym::Node(Node::Wildcard),
        38 => match next()? {
            Sym::Tok(Tok::Number(n)) => Sym::Names(vec![n.to_string()]),
            _ => return Err(bad(production)),
        },
        39 => Sym::Node(Node::This),
        40 => Sym::Node(Node::Root),
        41 => match next()? {
            Sym::Tok(Tok::Id { text, .. }) => Sym::Names(vec![text]),
            _ => return Err(bad(production)),
        },
        42 | 46 => {
            let left = next()?;
            next()?;
            match (left, next()?) {
                (Sym::Names(mut a), Sym::Names(b)) => {
                    a.extend(b);
                    Sym::Names(a)
                }
                (Sym::Indices(mut a), Sym::Indices(b)) => {
                    a.extend(b);
                    Sym::Indices(a)
                }
                _ => return Err(bad(production)),
            }
        }
        43 | 45 => {
            let left = boxed(next()?, production)?;
            next()?;
            let name = match next()? {
                Sym::Name(name) => name,
                Sym::Tok(Tok::Id { text, .. }) => text,
                _ => return Err(bad(production)),
            };
            Sym::Node(Node::Child(left, Box::new(Node::Fields(vec![name]))))
        }
        44 => match next()? {
            Sym::Tok(Tok::Number(n)) => Sym::Indices(vec![n]),
            _ => return Err(bad(production)),
        },
        48 => {
            let left = boxed(next()?, production)?;
            next()?;
            let Sym::Tok(Tok::Number(n)) = next()? else {
                return Err(bad(production));
            };
            Sym::Node(Node::Child(left, Box::new(Node::Index(vec![n]))))
        }
        49 | 50 => {
            let mut parts = Vec::new();
            for (k, sym) in [next()?, next()?, next()?].into_iter().enumerate() {
                if k % 2 == 0 {
                    parts.push(sym);
                }
            }
            if production == 50 {
                next()?;
                parts.push(next()?);
            }
            let mut ints = parts.into_iter().map(|s| match s {
                Sym::MaybeInt(n) => Ok(n),
                _ => Err(bad(production)),
            });
            let start = ints.next().transpose()?.flatten();
            let end = ints.next().transpose()?.flatten();
            let step = ints.next().transpose()?.flatten();
            Sym::Node(Node::Slice(start, end, step))
        }
        51..=53 | 57 | 58 => {
            let name = match next()? {
                Sym::Tok(Tok::Id { text, .. }) => text,
                Sym::Tok(Tok::Null) => "null".to_owned(),
                Sym::Tok(Tok::Bool(b)) => b.to_string(),
                _ => return Err(bad(production)),
            };
            if production >= 57 {
                Sym::Names(vec![name])
            } else {
                Sym::Name(name)
            }
        }
        54 => match next()? {
            Sym::Tok(Tok::Number(n)) => Sym::MaybeInt(Some(n)),
            _ => return Err(bad(production)),
        },
        55 => Sym::MaybeInt(None),
        56 => Sym::Empty,
        59 => {
            next()?;
            Sym::Node(Node::Not(boxed(next()?, production)?))
        }
        60 | 62 => next()?,
        61 => {
            let Sym::Nodes(mut left) = next()? else {
                return Err(bad(production));
            };
            next()?;
            let Sym::Nodes(right) = next()? else {
                return Err(bad(production));
            };
            let right = conjunction(right);
            if left.len() == 1 && matches!(left.first(), Some(Node::Or(_))) {
                if let Some(Node::Or(operands)) = left.first_mut() {
                    match right {
                        Node::Or(more) => operands.extend(more),
                        other => operands.push(other),
                    }
                }
                Sym::Nodes(left)
            } else {
                Sym::Nodes(vec![or(vec![conjunction(left), right])])
            }
        }
        63 | 64 => {
            let Sym::Nodes(mut left) = next()? else {
                return Err(bad(production));
            };
            next()?;
            let Sym::Nodes(right) = next()? else {
                return Err(bad(production));
            };
            left.extend(right);
            Sym::Nodes(left)
        }
        65 => Sym::Nodes(vec![node(next()?, production)?]),
        66 => {
            next()?;
            next()?
        }
        67 => {
            next()?;
            match next()? {
                Sym::Nodes(nodes) => Sym::Node(Node::Filter(nodes)),
                _ => return Err(bad(production)),
            }
        }
        69 => {
            let left = boxed(next()?, production)?;
            next()?;
            next()?;
            let filter = boxed(next()?, production)?;
            Sym::Node(Node::Descendants(left, filter))
        }
        70 => {
            let Sym::Tok(Tok::SortDirection(d)) = next()? else {
                return Err(bad(production));
            };
            Sym::Sort(node(next()?, production)?, d != '/')
        }
        71 => match next()? {
            Sym::Sort(n, reverse) => Sym::Sorts(vec![(n, reverse)]),
            _ => return Err(bad(production)),
        },
        72 => match (next()?, next()?) {
            (Sym::Sorts(mut a), Sym::Sorts(b)) => {
                a.extend(b);
                Sym::Sorts(a)
            }
            _ => return Err(bad(production)),
        },
        74 => Sym::Node(Node::This),
        _ => return Err(bad(production)),
    })
}

// --- evaluation -------------------------------------------------------------------------------

/// A value found: borrowed from the document or computed (`len`, `str()`, arithmetic…).
#[derive(Debug, Clone)]
pub(super) enum Val<'a> {
    Doc(&'a Value),
    Own(Rc<Value>),
}

impl Val<'_> {
    fn get(&self) -> &Value {
        match self {
            Val::Doc(v) => v,
            Val::Own(v) => v,
        }
    }
}

/// `DatumInContext`: a value and the datum it was found in (for `$` and `` `parent` ``).
#[derive(Debug, Clone)]
struct Datum<'a> {
    value: Val<'a>,
    context: Option<Rc<Datum<'a>>>,
    /// The document as handed to `find`, not yet wrapped: only `` `sorted` `` notices.
    raw: bool,
}

impl<'a> Datum<'a> {
    fn wrap(&self) -> Datum<'a> {
        Datum {
            raw: false,
            ..self.clone()
        }
    }
    fn new(value: Val<'a>, context: Option<Rc<Datum<'a>>>) -> Self {
        Datum {
            value,
            context,
            raw: false,
        }
    }
    fn owned(value: Value) -> Self {
        Datum::new(Val::Own(Rc::new(value)), None)
    }
    /// The datum as the context of its children: one allocation shared by all of them.
    fn as_parent(&self) -> Rc<Datum<'a>> {
        Rc::new(self.wrap())
    }
}

/// Child values of a datum: borrowed from the document when the datum is, copied otherwise.
fn children<'a>(datum: &Datum<'a>) -> Vec<(Option<&'a str>, Val<'a>)> {
    match &datum.value {
        Val::Doc(Value::Array(items)) => items.iter().map(|v| (None, Val::Doc(v))).collect(),
        Val::Doc(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| (Some(k.as_str()), Val::Doc(v)))
            .collect(),
        Val::Own(value) => match &**value {
            Value::Array(items) => items
                .iter()
                .map(|v| (None, Val::Own(Rc::new(v.clone()))))
                .collect(),
            Value::Object(map) => map
                .values()
                .map(|v| (None, Val::Own(Rc::new(v.clone()))))
                .collect(),
            _ => Vec::new(),
        },
        Val::Doc(_) => Vec::new(),
    }
}

fn member<'a>(datum: &Datum<'a>, name: &str) -> Option<Val<'a>> {
    match &datum.value {
        Val::Doc(Value::Object(map)) => map.get(name).map(Val::Doc),
        Val::Own(value) => match &**value {
            Value::Object(map) => map.get(name).map(|v| Val::Own(Rc::new(v.clone()))),
            _ => None,
        },
        Val::Doc(_) => None,
    }
}

fn element<'a>(datum: &Datum<'a>, index: usize) -> Option<Val<'a>> {
    match &datum.value {
        Val::Doc(Value::Array(items)) => items.get(index).map(Val::Doc),
        Val::Own(value) => match &**value {
            Value::Array(items) => items.get(index).map(|v| Val::Own(Rc::new(v.clone()))),
            _ => None,
        },
        Val::Doc(_) => None,
    }
}

pub(super) struct Evaluator {
    work: usize,
    max_work: usize,
    /// Whether found values keep their context (see `Node::reads_context`).
    contexts: bool,
}

type Found<'a> = Result<Vec<Datum<'a>>, NgError>;

/// Evaluates `node` on `document` as `node.find(document)` does, with a work budget.
/// `contexts` is `node.reads_context()` (computed once, when the path is parsed).
pub(super) fn evaluate<'a>(
    node: &Node,
    document: &'a Value,
    max_work: usize,
    contexts: bool,
) -> Result<Vec<Val<'a>>, NgError> {
    let mut evaluator = Evaluator {
        work: 0,
        max_work,
        contexts,
    };
    let root = Datum {
        value: Val::Doc(document),
        context: None,
        raw: true,
    };
    Ok(evaluator
        .find(node, &root)?
        .into_iter()
        .map(|d| d.value)
        .collect())
}

impl<'a> Val<'a> {
    /// The value, copied out of the document only if it was computed.
    pub(super) fn into_value(self) -> Value {
        match self {
            Val::Doc(v) => v.clone(),
            Val::Own(v) => Rc::try_unwrap(v).unwrap_or_else(|rc| (*rc).clone()),
        }
    }
    pub(super) fn as_value(&self) -> &Value {
        self.get()
    }
}

impl Evaluator {
    /// The context for a datum's children: the datum itself, when the path can read it.
    fn parent_of<'a>(&self, datum: &Datum<'a>) -> Option<Rc<Datum<'a>>> {
        self.contexts.then(|| datum.as_parent())
    }

    fn tick(&mut self, steps: usize) -> Result<(), NgError> {
        self.work = self.work.saturating_add(steps);
        if self.work > self.max_work {
            return Err(LimitExceeded::new(Limit::JsonPathWork, None).into());
        }
        Ok(())
    }

    fn find<'a>(&mut self, node: &Node, datum: &Datum<'a>) -> Found<'a> {
        self.tick(1)?;
        match node {
            Node::Root => {
                let mut top = datum;
                while let Some(context) = &top.context {
                    top = context;
                }
                Ok(vec![Datum::new(top.value.clone(), None)])
            }
            Node::This => Ok(vec![datum.wrap()]),
            Node::Parent => match &datum.context {
                Some(context) => Ok(vec![(**context).clone()]),
                None => Err(raises(
                    "AssertionError",
                    "`parent` of a value without parent",
                )),
            },
            Node::Child(..)
            | Node::Where(..)
            | Node::WhereNot(..)
            | Node::Union(..)
            | Node::Descendants(..) => self.spine(node, datum),
            Node::Intersect(..) => Err(raises(
                "NotImplementedError",
                "jsonpath-ng does not evaluate `&` between paths",
            )),
            Node::Fields(names) => {
                self.tick(names.len())?;
                let parent = self.parent_of(datum);
                let mut out = Vec::new();
                for name in names {
                    if let Some(v) = member(datum, name) {
                        out.push(Datum::new(v, parent.clone()));
                    }
                }
                Ok(out)
            }
            Node::Wildcard => {
                let kids = children(datum);
                self.tick(kids.len())?;
                let parent = self.parent_of(datum);
                Ok(kids
                    .into_iter()
                    .map(|(_, v)| Datum::new(v, parent.clone()))
                    .collect())
            }
            Node::Index(indices) => {
                let Value::Array(items) = datum.value.get() else {
                    return Ok(Vec::new());
                };
                let len = items.len() as i128;
                let parent = self.parent_of(datum);
                self.tick(indices.len())?;
                let mut out = Vec::new();
                for &i in indices {
                    if len > 0 && -len <= i && i < len {
                        let at = if i < 0 { i + len } else { i } as usize;
                        if let Some(v) = element(datum, at) {
                            out.push(Datum::new(v, parent.clone()));
                        }
                    }
                }
                Ok(out)
            }
            Node::Slice(start, end, step) => {
                let Value::Array(items) = datum.value.get() else {
                    return Ok(Vec::new());
                };
                if *step == Some(0) {
                    return Ok(Vec::new());
                }
                let positions = python_slice(items.len(), *start, *end, *step);
                self.tick(positions.len())?;
                let parent = self.parent_of(datum);
                Ok(positions
                    .into_iter()
                    .filter_map(|i| element(datum, i).map(|v| Datum::new(v, parent.clone())))
                    .collect())
            }
            Node::Len => Ok(match datum.value.get() {
                Value::String(s) => vec![Datum::owned(Value::from(s.chars().count()))],
                Value::Array(items) => vec![Datum::owned(Value::from(items.len()))],
                Value::Object(map) => vec![Datum::owned(Value::from(map.len()))],
                _ => Vec::new(),
            }),
            Node::Keys => Ok(match datum.value.get() {
                Value::Object(map) => map
                    .keys()
                    .map(|k| Datum::owned(Value::String(k.clone())))
                    .collect(),
                _ => Vec::new(),
            }),
            Node::Str => Ok(vec![Datum::owned(Value::String(
                crate::python_format::to_str(datum.value.get()),
            ))]),
            Node::Path => Err(NgError::Unsupported("the named operator `path`")),
            Node::Split => Err(NgError::Unsupported("the named operator `split(...)`")),
            Node::Sub => Err(NgError::Unsupported("the named operator `sub(...)`")),
            Node::Sorted(keys) => self.sorted(keys.as_deref(), datum),
            Node::Filter(expressions) => {
                let candidates = children(datum);
                let with_root = expressions.iter().any(Node::references_root);
                let parent = self.parent_of(datum);
                let mut out = Vec::new();
                for (_, value) in candidates {
                    self.tick(1)?;
                    let context = if with_root { parent.clone() } else { None };
                    let candidate = Datum::new(value.clone(), context);
                    let mut all = true;
                    for expression in expressions {
                        if self.find(expression, &candidate)?.is_empty() {
                            all = false;
                            break;
                        }
                    }
                    if all {
                        out.push(Datum::new(value, parent.clone()));
                    }
                }
                Ok(out)
            }
            Node::Expression { target, comparison } => {
                self.expression(target, comparison.as_ref(), datum)
            }
            Node::Not(target) => {
                let found = self.find(target, &datum.wrap())?;
                Ok(if found.is_empty() {
                    vec![datum.wrap()]
                } else {
                    Vec::new()
                })
            }
            Node::And(operands) => {
                for operand in operands {
                    if self.find(operand, datum)?.is_empty() {
                        return Ok(Vec::new());
                    }
                }
                Ok(vec![datum.wrap()])
            }
            Node::Or(operands) => {
                for operand in operands {
                    if !self.find(operand, datum)?.is_empty() {
                        return Ok(vec![datum.wrap()]);
                    }
                }
                Ok(Vec::new())
            }
            Node::Operation(left, op, right) => self.operation(left, *op, right, datum),
        }
    }

    /// `a.b.c`, `a..b`, `a where b`, `a | b` nest to the left (`((a.b).c)`), one level per
    /// step: evaluated along that spine in a loop, so a long path costs no stack.
    fn spine<'a>(&mut self, node: &Node, datum: &Datum<'a>) -> Found<'a> {
        let mut steps = Vec::new();
        let mut base = node;
        while let Node::Child(left, right)
        | Node::Where(left, right)
        | Node::WhereNot(left, right)
        | Node::Union(left, right)
        | Node::Descendants(left, right) = base
        {
            steps.push((base, &**right));
            base = left;
        }
        let mut current = self.find(base, datum)?;
        for (step, right) in steps.into_iter().rev() {
            self.tick(1)?;
            current = match step {
                Node::Child(..) => {
                    let mut out = Vec::new();
                    for sub in &current {
                        let found = self.find(right, sub)?;
                        // Counted as selected: a path like `$[0,0,0,0]...` multiplies its
                        // results without visiting anything new.
                        self.tick(found.len())?;
                        if out.is_empty() {
                            out = found;
                        } else {
                            out.extend(found);
                        }
                    }
                    out
                }
                Node::Where(..) | Node::WhereNot(..) => {
                    let keep = matches!(step, Node::Where(..));
                    let mut out = Vec::new();
                    for sub in current {
                        if self.find(right, &sub)?.is_empty() != keep {
                            out.push(sub);
                        }
                    }
                    out
                }
                Node::Union(..) => {
                    // Both sides of `|` start from the datum the whole path started from.
                    let mut out = current;
                    out.extend(self.find(right, datum)?);
                    self.tick(out.len())?;
                    out
                }
                _ => self.descendants(current, right)?,
            };
        }
        Ok(current)
    }

    /// `Descendants.find` after its left side: `right` on each match and every node under it,
    /// depth first, in document order.
    fn descendants<'a>(&mut self, left: Vec<Datum<'a>>, right: &Node) -> Found<'a> {
        let mut out = Vec::new();
        let mut stack = left;
        stack.reverse();
        while let Some(current) = stack.pop() {
            let found = self.find(right, &current)?;
            self.tick(found.len())?;
            out.extend(found);
            let parent = self.parent_of(&current);
            let mut kids: Vec<Datum<'a>> = children(&current)
                .into_iter()
                .map(|(_, v)| Datum::new(v, parent.clone()))
                .collect();
            self.tick(kids.len())?;
            kids.reverse();
            stack.extend(kids);
        }
        Ok(out)
    }

    fn expression<'a>(
        &mut self,
        target: &Node,
        comparison: Option<&(Op, Literal)>,
        datum: &Datum<'a>,
    ) -> Found<'a> {
        let wrapped = datum.wrap();
        let found = self.find(target, &wrapped)?;
        let Some((op, literal)) = comparison else {
            return Ok(found);
        };
        if let Literal::Query(query) = literal {
            let values = self.find(query, &wrapped)?;
            if found.is_empty() || values.is_empty() {
                return Ok(
                    if equality_only(*op, found.is_empty() && values.is_empty()) {
                        if found.is_empty() {
                            vec![wrapped]
                        } else {
                            found
                        }
                    } else {
                        Vec::new()
                    },
                );
            }
            let mut out = Vec::new();
            for m in found {
                let mut any = false;
                for v in &values {
                    self.tick(1)?;
                    if compare(*op, m.value.get(), v.value.get())? {
                        any = true;
                        break;
                    }
                }
                if any {
                    out.push(m);
                }
            }
            return Ok(out);
        }
        if found.is_empty() {
            return Ok(if *op == Op::Ne {
                vec![wrapped]
            } else {
                Vec::new()
            });
        }
        let mut regex: Option<Rc<PythonRegex>> = None;
        let mut out = Vec::new();
        for m in found {
            self.tick(1)?;
            let value = m.value.get();
            let keep = match literal {
                Literal::Null => equality_only(*op, value.is_null()),
                Literal::Bool(b) if *op != Op::Regex => {
                    equality_only(*op, value.as_bool() == Some(*b))
                }
                _ if *op != Op::Regex && value.is_boolean() => equality_only(*op, false),
                _ if *op == Op::Regex => match value {
                    Value::String(text) => {
                        let Literal::Str(pattern) = literal else {
                            return Err(raises(
                                "TypeError",
                                "=~ needs a string pattern (first argument must be string or compiled pattern)",
                            ));
                        };
                        if regex.is_none() {
                            regex = Some(compile(pattern)?);
                        }
                        if let Some(r) = &regex {
                            self.tick(r.work(text))?;
                        }
                        match &regex {
                            Some(r) => r.search(text)?,
                            None => false,
                        }
                    }
                    _ => false,
                },
                Literal::Str(s) => compare(*op, value, &Value::String(s.clone()))?,
                Literal::Int(n) => compare_number(*op, value, Num::Int(*n)),
                Literal::Float(f) => compare_number(*op, value, Num::Float(*f)),
                _ => false,
            };
            if keep {
                out.push(m);
            }
        }
        Ok(out)
    }

    fn sorted<'a>(&mut self, keys: Option<&[(Node, bool)]>, datum: &Datum<'a>) -> Found<'a> {
        if datum.raw {
            return Err(raises(
                "AttributeError",
                "`sorted` applied to the document itself (jsonpath-ng reads `.value` of a plain value)",
            ));
        }
        let value = datum.value.get();
        let not_iterable = || {
            raises(
                "TypeError",
                "`sorted` returns a datum, not a list, for this value (jsonpath-ng then iterates over it)",
            )
        };
        let mut items: Vec<Value> = match (value, keys) {
            (Value::Object(_), Some(_)) => return Err(not_iterable()),
            (Value::Object(map), None) => map.keys().map(|k| Value::String(k.clone())).collect(),
            (Value::Array(items), _) => items.clone(),
            _ => return Err(not_iterable()),
        };
        self.tick(items.len().saturating_mul(4))?;
        let mut failure = None;
        match keys {
            None => items.sort_by(|a, b| match python_lt(b, a) {
                Ok(true) => std::cmp::Ordering::Greater,
                Ok(false) => match python_lt(a, b) {
                    Ok(true) => std::cmp::Ordering::Less,
                    Ok(false) => std::cmp::Ordering::Equal,
                    Err(e) => {
                        failure.get_or_insert(e);
                        std::cmp::Ordering::Equal
                    }
                },
                Err(e) => {
                    failure.get_or_insert(e);
                    std::cmp::Ordering::Equal
                }
            }),
            Some(keys) => {
                // The sort keys' values, found once per element.
                let mut keyed = Vec::with_capacity(items.len());
                for item in items {
                    let holder = Datum::owned(item.clone());
                    let mut found = Vec::new();
                    for (key, _) in keys {
                        let values: Vec<Value> = self
                            .find(key, &holder)?
                            .into_iter()
                            .map(|d| d.value.into_value())
                            .collect();
                        found.push(values);
                    }
                    keyed.push((item, found));
                }
                keyed.sort_by(|(_, a), (_, b)| {
                    for (k, (_, reverse)) in keys.iter().enumerate() {
                        let (Some([l]), Some([r])) =
                            (a.get(k).map(Vec::as_slice), b.get(k).map(Vec::as_slice))
                        else {
                            continue;
                        };
                        if python_eq(l, r) {
                            continue;
                        }
                        return match python_lt(l, r) {
                            Ok(true) if *reverse => std::cmp::Ordering::Greater,
                            Ok(true) => std::cmp::Ordering::Less,
                            Ok(false) if *reverse => std::cmp::Ordering::Less,
                            Ok(false) => std::cmp::Ordering::Greater,
                            Err(e) => {
                                failure.get_or_insert(e);
                                std::cmp::Ordering::Equal
                            }
                        };
                    }
                    std::cmp::Ordering::Equal
                });
                items = keyed.into_iter().map(|(item, _)| item).collect();
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(vec![Datum::owned(Value::Array(items))])
    }

    fn operation<'a>(
        &mut self,
        left: &Operand,
        op: char,
        right: &Operand,
        datum: &Datum<'a>,
    ) -> Found<'a> {
        let constant = |o: &Operand| -> Result<Option<Value>, NgError> {
            Ok(match o {
                Operand::Path(_) => None,
                Operand::Str(s) => Some(Value::String(s.clone())),
                Operand::Int(n) => Some(int_value(*n)?),
                Operand::Float(f) => Some(Value::from(*f)),
            })
        };
        let (l, r) = (constant(left)?, constant(right)?);
        let mut results = Vec::new();
        match (left, right) {
            (Operand::Path(lp), Operand::Path(rp)) => {
                let lf = self.find(lp, datum)?;
                let rf = self.find(rp, datum)?;
                if lf.is_empty() || lf.len() != rf.len() {
                    return Ok(Vec::new());
                }
                for (a, b) in lf.iter().zip(&rf) {
                    match arithmetic(op, a.value.get(), b.value.get())? {
                        Some(v) => results.push(v),
                        None => return Ok(Vec::new()),
                    }
                }
            }
            (Operand::Path(lp), _) => {
                let Some(r) = r else { return Ok(Vec::new()) };
                for a in self.find(lp, datum)? {
                    match arithmetic(op, a.value.get(), &r)? {
                        Some(v) => results.push(v),
                        None => return Ok(Vec::new()),
                    }
                }
            }
            (_, Operand::Path(rp)) => {
                let Some(l) = l else { return Ok(Vec::new()) };
                for b in self.find(rp, datum)? {
                    match arithmetic(op, &l, b.value.get())? {
                        Some(v) => results.push(v),
                        None => return Ok(Vec::new()),
                    }
                }
            }
            _ => {
                if let (Some(l), Some(r)) = (l, r)
                    && let Some(v) = arithmetic(op, &l, &r)?
                {
                    results.push(v);
                }
            }
        }
        Ok(results.into_iter().map(Datum::owned).collect())
    }
}

/// The positions `range(len)[start:end:step]` holds (step not 0), as Python computes them.
fn python_slice(
    len: usize,
    start: Option<i128>,
    end: Option<i128>,
    step: Option<i128>,
) -> Vec<usize> {
    let len = len as i128;
    let step = step.unwrap_or(1);
    let adjust = |bound: Option<i128>, default: i128| -> i128 {
        match bound {
            None => default,
            Some(b) if b < 0 => {
                let b = b + len;
                if b < 0 {
                    if step < 0 { -1 } else { 0 }
                } else {
                    b
                }
            }
            Some(b) if b >= len => {
                if step < 0 {
                    len - 1
                } else {
                    len
                }
            }
            Some(b) => b,
        }
    };
    let mut out = Vec::new();
    if step > 0 {
        let (mut i, end) = (adjust(start, 0), adjust(end, len));
        while i < end {
            out.push(i as usize);
            i += step;
        }
    } else {
        let (mut i, end) = (adjust(start, len - 1), adjust(end, -1));
        while i > end {
            out.push(i as usize);
            i += step;
        }
    }
    out
}

fn compile(pattern: &str) -> Result<Rc<PythonRegex>, NgError> {
    PythonRegex::cached(pattern).map_err(|e| match e {
        PatternError::Invalid(message) => {
            raises("re.error", format!("{message} in the pattern {pattern:?}"))
        }
        PatternError::Unsupported(what) => NgError::Unsupported(what),
        PatternError::Limit(exceeded) => NgError::Limit(exceeded),
    })
}

/// `EQUALITY_ONLY_OPERATOR_MAP`: an operator applied to values that are only equal or not.
fn equality_only(op: Op, equal: bool) -> bool {
    match op {
        Op::Ne => !equal,
        Op::Eq | Op::Le | Op::Ge | Op::Regex => equal,
        Op::Lt | Op::Gt => false,
    }
}

#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

/// A JSON number as Python holds it (`bool` excluded: `_is_number`).
fn number(value: &Value) -> Option<Num> {
    let Value::Number(n) = value else { return None };
    if let Some(i) = n.as_i64() {
        Some(Num::Int(i.into()))
    } else if let Some(u) = n.as_u64() {
        Some(Num::Int(u.into()))
    } else {
        n.as_f64().map(Num::Float)
    }
}

/// A number as Python's `==` and `<` see it, `bool` included (`True` is 1).
fn python_number(value: &Value) -> Option<Num> {
    match value {
        Value::Bool(b) => Some(Num::Int(i128::from(*b))),
        _ => number(value),
    }
}

/// Python's exact ordering of ints and floats (no rounding of the int).
fn order(a: Num, b: Num) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => int_float(x, y),
        (Num::Float(x), Num::Int(y)) => int_float(y, x).map(Ordering::reverse),
    }
}

fn int_float(i: i128, f: f64) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering;
    if f.is_nan() {
        return None;
    }
    // 2^127: beyond every i128.
    const LIMIT: f64 = 1.7014118346046923e38;
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f < -LIMIT {
        return Some(Ordering::Greater);
    }
    let floor = f.floor();
    let whole = floor as i128;
    match i.cmp(&whole) {
        Ordering::Equal if f > floor => Some(Ordering::Less),
        other => Some(other),
    }
}

fn apply(op: Op, ordering: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    match (op, ordering) {
        (_, None) => op == Op::Ne,
        (Op::Eq | Op::Regex, Some(o)) => o == Equal,
        (Op::Ne, Some(o)) => o != Equal,
        (Op::Lt, Some(o)) => o == Less,
        (Op::Le, Some(o)) => o != Greater,
        (Op::Gt, Some(o)) => o == Greater,
        (Op::Ge, Some(o)) => o != Less,
    }
}

/// `_compare` with a number on the right.
fn compare_number(op: Op, value: &Value, right: Num) -> bool {
    match number(value) {
        Some(left) => apply(op, order(left, right)),
        None => equality_only(op, false),
    }
}

/// `_compare`: numbers with numbers and strings with strings are ordered; anything else is
/// only equal (`_equal`) or not.
fn compare(op: Op, left: &Value, right: &Value) -> Result<bool, NgError> {
    if let (Some(a), Some(b)) = (number(left), number(right)) {
        return Ok(apply(op, order(a, b)));
    }
    if let (Value::String(a), Value::String(b)) = (left, right) {
        if op == Op::Regex {
            return Ok(compile(b)?.search(a)?);
        }
        return Ok(apply(op, Some(a.cmp(b))));
    }
    Ok(equality_only(op, rfc_equal(left, right)))
}

/// `_equal`: RFC 9535 equality (`true` is never `1`), numbers compared as Python does.
fn rfc_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Bool(_), _) | (_, Value::Bool(_)) => false,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| rfc_equal(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            same_keys(a, b)
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| rfc_equal(v, w)))
        }
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => false,
        _ => python_eq(left, right),
    }
}

fn same_keys(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len() && a.keys().all(|k| b.contains_key(k))
}

/// Python's `==` on JSON values (`True == 1`, `1 == 1.0`).
fn python_eq(left: &Value, right: &Value) -> bool {
    if let (Some(a), Some(b)) = (python_number(left), python_number(right)) {
        return order(a, b) == Some(std::cmp::Ordering::Equal);
    }
    match (left, right) {
        (Value::Null, Value::Null) => true,
        (Value::String(a), Value::String(b)) => a == b,
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| python_eq(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            same_keys(a, b)
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| python_eq(v, w)))
        }
        _ => false,
    }
}

/// Python's `<` on JSON values; a `TypeError` where Python has no order.
fn python_lt(left: &Value, right: &Value) -> Result<bool, NgError> {
    if let (Some(a), Some(b)) = (python_number(left), python_number(right)) {
        return Ok(order(a, b) == Some(std::cmp::Ordering::Less));
    }
    match (left, right) {
        (Value::String(a), Value::String(b)) => Ok(a < b),
        (Value::Array(a), Value::Array(b)) => {
            for (x, y) in a.iter().zip(b) {
                if !python_eq(x, y) {
                    return python_lt(x, y);
                }
            }
            Ok(a.len() < b.len())
        }
        _ => Err(raises(
            "TypeError",
            format!(
                "'<' not supported between {} and {}",
                python_type(left),
                python_type(right)
            ),
        )),
    }
}

fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn int_value(n: i128) -> Result<Value, NgError> {
    if let Ok(i) = i64::try_from(n) {
        Ok(Value::from(i))
    } else if let Ok(u) = u64::try_from(n) {
        Ok(Value::from(u))
    } else {
        Err(NgError::Unsupported("an integer result beyond 64 bits"))
    }
}

/// The most bytes a `*` repetition may produce (strings and lists); Python has no limit.
const MAX_REPEAT_BYTES: usize = 1 << 20;

/// `+ - * /` on two values as Python computes them; `None` where Python raises `TypeError`
/// (jsonpath-ng then finds nothing).
fn arithmetic(op: char, left: &Value, right: &Value) -> Result<Option<Value>, NgError> {
    if let (Some(a), Some(b)) = (python_number(left), python_number(right)) {
        return match (a, b) {
            (Num::Int(x), Num::Int(y)) => match op {
                '+' => x.checked_add(y).map(int_value).transpose(),
                '-' => x.checked_sub(y).map(int_value).transpose(),
                '*' => x.checked_mul(y).map(int_value).transpose(),
                _ => {
                    if y == 0 {
                        return Err(raises("ZeroDivisionError", "division by zero"));
                    }
                    Ok(Some(Value::from(x as f64 / y as f64)))
                }
            }
            .and_then(|v| {
                v.map(Some)
                    .ok_or(NgError::Unsupported("an integer result beyond 128 bits"))
            }),
            _ => {
                let f = |n: Num| match n {
                    Num::Int(i) => i as f64,
                    Num::Float(f) => f,
                };
                let (x, y) = (f(a), f(b));
                let result = match op {
                    '+' => x + y,
                    '-' => x - y,
                    '*' => x * y,
                    _ => {
                        if y == 0.0 {
                            return Err(raises("ZeroDivisionError", "float division by zero"));
                        }
                        x / y
                    }
                };
                Ok(Some(Value::from(result)))
            }
        };
    }
    let repeat = |unit: usize, n: &Value| -> Result<Option<usize>, NgError> {
        let Some(Num::Int(n)) = python_number(n) else {
            return Ok(None);
        };
        let n = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
        if unit.saturating_mul(n) > MAX_REPEAT_BYTES {
            return Err(LimitExceeded::new(Limit::JsonPathResult, None).into());
        }
        Ok(Some(n))
    };
    Ok(match (op, left, right) {
        ('+', Value::String(a), Value::String(b)) => Some(Value::String(format!("{a}{b}"))),
        ('+', Value::Array(a), Value::Array(b)) => {
            Some(Value::Array(a.iter().chain(b).cloned().collect()))
        }
        ('*', Value::String(s), n) | ('*', n, Value::String(s)) => {
            repeat(s.len().max(1), n)?.map(|n| Value::String(s.repeat(n)))
        }
        ('*', Value::Array(items), n) | ('*', n, Value::Array(items)) => {
            repeat(items.len().max(1) * 16, n)?.map(|n| {
                Value::Array(
                    std::iter::repeat_n(items.iter(), n)
                        .flatten()
                        .cloned()
                        .collect(),
                )
            })
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_select_what_python_slices_select() {
        assert_eq!(python_slice(5, None, None, Some(-1)), vec![4, 3, 2, 1, 0]);
        assert_eq!(python_slice(5, Some(-2), None, None), vec![3, 4]);
        assert_eq!(python_slice(5, Some(1), Some(-1), Some(2)), vec![1, 3]);
        assert_eq!(
            python_slice(3, Some(10), Some(-10), Some(-1)),
            vec![2, 1, 0]
        );
    }

    #[test]
    fn ints_and_floats_compare_exactly() {
        let big = 9_007_199_254_740_993_i128;
        assert_eq!(
            order(Num::Int(big), Num::Float(9_007_199_254_740_992.0)),
            Some(std::cmp::Ordering::Greater)
        );
        assert_eq!(
            order(Num::Int(0), Num::Float(-0.0)),
            Some(std::cmp::Ordering::Equal)
        );
    }

    #[test]
    fn the_lexer_cuts_tokens_in_jsonpath_ngs_rule_order() -> Result<(), NgError> {
        let kinds: Vec<&str> = lex("$[?a.b-c=1 && x==true]")?
            .into_iter()
            .map(|(_, t)| t.terminal())
            .collect();
        assert_eq!(
            kinds,
            [
                "$",
                "[",
                "?",
                "ID",
                ".",
                "ID",
                "FILTER_OP",
                "NUMBER",
                "AND",
                "ID",
                "FILTER_OP",
                "BOOL",
                "]",
                "$end"
            ]
        );
        Ok(())
    }
}
