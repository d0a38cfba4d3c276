//! Python `re` patterns for jsonpath-ng's `=~` (`re.search(pattern, value)`), read by a port
//! of CPython 3.11's `re._parser` (and the two checks of `re._compiler`: fixed-width
//! look-behinds and the `t` flag) and written out in `fancy_regex`'s syntax, every construct
//! spelled so that the crate reads it as Python meant it:
//!
//! - literals as `\x{…}` (no character is special to one and plain to the other), classes
//!   without nesting or set operations (`[`, `&&`, `--` are literals to Python);
//! - `\d`, `\s`, `\w`, `\b` by Python's definitions (`str.isdecimal`, `str.isspace`,
//!   `str.isalnum() or '_'`; their ASCII forms under the `a` flag), not the crate's;
//! - `$` without the `m` flag matches at the end and before a final newline, `\Z` only at the
//!   end, `^` and `$` follow the `m` flag of their own group;
//! - the `x` flag handled here (the crate's verbose mode also ignores spaces in classes);
//! - back-references, look-around, atomic groups, possessive repeats and conditionals as the
//!   crate writes them; anything else `fancy_regex` lacks is refused as unsupported.
//!
//! A pattern without those constructs is handed to the `regex` crate whole and runs in linear
//! time; one with them runs in `fancy_regex`'s backtracking engine, bounded by
//! [`MAX_REGEX_BACKTRACK`](super::MAX_REGEX_BACKTRACK) (where Python would backtrack without end).

use std::collections::HashMap;

use crate::limits::{Limit, LimitExceeded};

/// A compiled `=~` pattern.
#[derive(Debug)]
pub(super) struct PythonRegex {
    regex: fancy_regex::Regex,
    /// Whether the pattern needs the backtracking engine (see the module docs).
    backtracks: bool,
}

/// Why a pattern was not compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PatternError {
    /// Python's `re` raises `re.error` (or `OverflowError`) on this pattern.
    Invalid(String),
    /// Valid Python, but a construct we do not translate (listed in the crate docs).
    Unsupported(&'static str),
    Limit(LimitExceeded),
}

/// How many compiled patterns each thread keeps (emptied when full): a filter tests each
/// candidate with the same pattern, and the engine evaluates the same paths every tick.
/// Python's `re` keeps 512; a compiled pattern may take up to
/// [`MAX_REGEX_SIZE`](super::MAX_REGEX_SIZE), so fewer here.
const CACHE: usize = 16;

thread_local! {
    static COMPILED: std::cell::RefCell<HashMap<String, std::rc::Rc<PythonRegex>>> =
        std::cell::RefCell::new(HashMap::new());
}

impl PythonRegex {
    /// [`compile`](Self::compile), from this thread's cache when it was compiled before.
    pub(super) fn cached(pattern: &str) -> Result<std::rc::Rc<Self>, PatternError> {
        if let Some(hit) = COMPILED.with(|cache| cache.borrow().get(pattern).cloned()) {
            return Ok(hit);
        }
        let compiled = std::rc::Rc::new(Self::compile(pattern)?);
        COMPILED.with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() >= CACHE {
                cache.clear();
            }
            cache.insert(pattern.to_owned(), compiled.clone());
        });
        Ok(compiled)
    }

    /// `re.compile(pattern)`, as its `search` sees it.
    pub(super) fn compile(pattern: &str) -> Result<Self, PatternError> {
        let translated = translate(pattern)?;
        let backtracks = needs_backtracking(&translated);
        let regex = fancy_regex::RegexBuilder::new(&translated)
            .backtrack_limit(super::MAX_REGEX_BACKTRACK)
            .delegate_size_limit(super::MAX_REGEX_SIZE)
            .delegate_dfa_size_limit(super::MAX_REGEX_SIZE)
            .build()
            .map_err(|e| match e {
                fancy_regex::Error::CompileError(inner)
                    if matches!(
                        &inner,
                        fancy_regex::CompileError::InnerError(built) if built.size_limit().is_some()
                    ) =>
                {
                    PatternError::Limit(LimitExceeded::new(Limit::JsonPathRegexSize, None))
                }
                // Repeats and look-arounds nest a group or two more in the translation.
                fancy_regex::Error::ParseError(_, fancy_regex::ParseError::RecursionExceeded) => {
                    PatternError::Limit(LimitExceeded::new(Limit::JsonPathRegexNesting, None))
                }
                _ => PatternError::Unsupported("this Python pattern (the regex engine refused it)"),
            })?;
        Ok(Self { regex, backtracks })
    }

    /// The work one [`search`](Self::search) in `text` counts against
    /// [`MAX_WORK`](super::MAX_WORK): a step per 16 bytes, and 1000 more for a pattern the
    /// backtracking engine runs (its own bound, [`MAX_REGEX_BACKTRACK`](super::MAX_REGEX_BACKTRACK),
    /// is per match).
    pub(super) fn work(&self, text: &str) -> usize {
        text.len() / 16 + 1 + if self.backtracks { 1000 } else { 0 }
    }

    /// Whether `re.search` finds a match anywhere in `text`.
    pub(super) fn search(&self, text: &str) -> Result<bool, LimitExceeded> {
        self.regex
            .is_match(text)
            .map_err(|_| LimitExceeded::new(Limit::JsonPathRegexBacktrack, None))
    }
}

// --- the parser -------------------------------------------------------------------------------

/// One token of `re._parser.Tokenizer`: a character, or a backslash and the character after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    Esc(char),
}

mod flag {
    pub(super) const I: u8 = 1;
    pub(super) const L: u8 = 2;
    pub(super) const M: u8 = 4;
    pub(super) const S: u8 = 8;
    pub(super) const X: u8 = 16;
    pub(super) const A: u8 = 32;
    pub(super) const T: u8 = 64;
    pub(super) const U: u8 = 128;
    pub(super) const TYPE: u8 = A | L | U;

    pub(super) fn of(c: char) -> Option<u8> {
        Some(match c {
            'i' => I,
            'L' => L,
            'm' => M,
            's' => S,
            'x' => X,
            'a' => A,
            't' => T,
            'u' => U,
            _ => return None,
        })
    }
}

/// Python's `MAXREPEAT` on 64-bit builds: a repeat count must stay below it.
const MAXREPEAT: u64 = u32::MAX as u64;
/// Python's `MAXWIDTH`, where widths saturate.
const MAXWIDTH: u64 = 1 << 63;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Category {
    Digit,
    NotDigit,
    Space,
    NotSpace,
    Word,
    NotWord,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Beginning,
    End,
    BeginningString,
    EndString,
    Boundary,
    NonBoundary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetItem {
    Literal(u32),
    Range(u32, u32),
    Category(Category),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RepeatMode {
    Greedy,
    Lazy,
    Possessive,
}

type Seq = Vec<Node>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Literal(u32),
    Any,
    Set {
        negate: bool,
        items: Vec<SetItem>,
    },
    Category(Category),
    At(At),
    Repeat {
        min: u64,
        max: Option<u64>,
        mode: RepeatMode,
        item: Box<Node>,
    },
    Group {
        capture: bool,
        add: u8,
        del: u8,
        body: Vec<Seq>,
    },
    Atomic(Vec<Seq>),
    Assert {
        behind: bool,
        negate: bool,
        body: Vec<Seq>,
    },
    GroupRef(usize),
    GroupRefExists {
        group: usize,
        yes: Seq,
        no: Option<Seq>,
    },
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    /// Flags set by `(?…)` at the start (the global ones).
    flags: u8,
    /// Widths of the groups opened so far (index 0: the whole match); `None` while open.
    group_widths: Vec<Option<(u64, u64)>>,
    group_names: HashMap<String, usize>,
    /// Inside a look-behind: the number of groups when it started.
    lookbehind_groups: Option<usize>,
    /// Groups named by number in conditionals, checked against the total at the end.
    conditional_refs: Vec<usize>,
    repeats: bool,
    depth: usize,
}

fn tokenize(pattern: &str) -> Result<Vec<Tok>, PatternError> {
    let mut toks = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next) => toks.push(Tok::Esc(next)),
                None => return Err(PatternError::Invalid("bad escape (end of pattern)".into())),
            }
        } else {
            toks.push(Tok::Char(c));
        }
    }
    Ok(toks)
}

/// Whether the translation uses what only the backtracking engine runs: look-around
/// (`(?=`, `(?!`, `(?<=`, `(?<!`, also from `\b`, `\B` and `$`), back-references (`\k<`),
/// atomic groups and possessive repeats (`(?>`) and conditionals (`(?(`).
/// Literals are all written as `\x{…}`, so these texts occur only as syntax.
fn needs_backtracking(translated: &str) -> bool {
    ["(?=", "(?!", "(?<", "\\k<", "(?>", "(?("]
        .iter()
        .any(|syntax| translated.contains(syntax))
}

fn invalid<T>(message: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError::Invalid(message.into()))
}

/// The pattern in `fancy_regex`'s syntax, or why Python's `re` refuses it.
fn translate(pattern: &str) -> Result<String, PatternError> {
    let mut parser = Parser {
        toks: tokenize(pattern)?,
        pos: 0,
        flags: 0,
        group_widths: vec![None],
        group_names: HashMap::new(),
        lookbehind_groups: None,
        conditional_refs: Vec::new(),
        repeats: false,
        depth: 0,
    };
    let body = parser.parse_sub(false, 0)?;
    if parser.flags & flag::A != 0 && parser.flags & flag::U != 0 {
        return invalid("ASCII and UNICODE flags are incompatible");
    }
    if parser.flags & flag::L != 0 {
        return invalid("cannot use LOCALE flag with a str pattern");
    }
    if parser.peek().is_some() {
        return invalid(format!("unbalanced parenthesis in {pattern:?}"));
    }
    let groups = parser.group_widths.len();
    if let Some(&group) = parser.conditional_refs.iter().find(|&&g| g >= groups) {
        return invalid(format!("invalid group reference {group}"));
    }
    if parser.flags & flag::T != 0 && parser.repeats {
        return invalid("internal: unsupported template operator MAX_REPEAT");
    }
    let mut out = String::with_capacity(pattern.len() * 2 + 8);
    let flags = parser.flags;
    if flags & flag::I != 0 {
        out.push_str("(?i)");
    }
    out.push_str("(?:");
    for (i, seq) in body.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        for (j, node) in seq.iter().enumerate() {
            // A `$` nothing follows may consume the final newline: no look-ahead needed.
            if j + 1 == seq.len() && *node == Node::At(At::End) && flags & flag::M == 0 {
                out.push_str("(?:\\n?\\z)");
            } else {
                emit(node, flags, &mut out);
            }
        }
    }
    out.push(')');
    Ok(out)
}

impl Parser {
    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.pos).copied()
    }

    fn get(&mut self) -> Option<Tok> {
        let tok = self.peek();
        if tok.is_some() {
            self.pos += 1;
        }
        tok
    }

    fn matches(&mut self, c: char) -> bool {
        if self.peek() == Some(Tok::Char(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn next_is_char(&self, pred: impl Fn(char) -> bool) -> bool {
        matches!(self.peek(), Some(Tok::Char(c)) if pred(c))
    }

    /// `getwhile(n, charset)`: up to `n` plain characters that pass `pred`.
    fn get_while(&mut self, n: usize, pred: impl Fn(char) -> bool) -> String {
        let mut out = String::new();
        for _ in 0..n {
            match self.peek() {
                Some(Tok::Char(c)) if pred(c) => {
                    out.push(c);
                    self.pos += 1;
                }
                _ => break,
            }
        }
        out
    }

    /// `getuntil(terminator)`: the tokens before `terminator`, as Python spells them.
    fn get_until(&mut self, terminator: char, name: &str) -> Result<String, PatternError> {
        let mut out = String::new();
        loop {
            match self.get() {
                None if out.is_empty() => return invalid(format!("missing {name}")),
                None => return invalid(format!("missing {terminator}, unterminated name")),
                Some(Tok::Char(c)) if c == terminator => {
                    if out.is_empty() {
                        return invalid(format!("missing {name}"));
                    }
                    return Ok(out);
                }
                Some(Tok::Char(c)) => out.push(c),
                Some(Tok::Esc(c)) => {
                    out.push('\\');
                    out.push(c);
                }
            }
        }
    }

    fn check_group_name(name: &str) -> Result<(), PatternError> {
        let mut chars = name.chars();
        let identifier = chars
            .next()
            .is_some_and(|c| c == '_' || unicode_ident::is_xid_start(c))
            && chars.all(unicode_ident::is_xid_continue);
        if identifier {
            Ok(())
        } else {
            invalid(format!("bad character in group name {name:?}"))
        }
    }

    fn check_group(&self, group: usize) -> bool {
        self.group_widths.get(group).is_some_and(Option::is_some)
    }

    fn check_lookbehind_group(&self, group: usize) -> Result<(), PatternError> {
        if let Some(start) = self.lookbehind_groups {
            if !self.check_group(group) {
                return invalid("cannot refer to an open group");
            }
            if group >= start {
                return invalid("cannot refer to group defined in the same lookbehind subpattern");
            }
        }
        Ok(())
    }

    /// `_parse_sub`: alternatives separated by `|`.
    fn parse_sub(&mut self, mut verbose: bool, nested: usize) -> Result<Vec<Seq>, PatternError> {
        let mut items = Vec::new();
        loop {
            let first = nested == 0 && items.is_empty();
            items.push(self.parse(verbose, nested + 1, first)?);
            if !self.matches('|') {
                break;
            }
            if nested == 0 {
                verbose = self.flags & flag::X != 0;
            }
        }
        Ok(items)
    }

    /// `_parse`: one alternative.
    fn parse(&mut self, verbose: bool, nested: usize, first: bool) -> Result<Seq, PatternError> {
        // Every nesting (groups, look-arounds, conditionals' branches) passes through here.
        self.depth += 1;
        if self.depth > super::MAX_REGEX_NESTING {
            return Err(PatternError::Limit(LimitExceeded::new(
                Limit::JsonPathRegexNesting,
                None,
            )));
        }
        let seq = self.parse_alternative(verbose, nested, first);
        self.depth -= 1;
        seq
    }

    fn parse_alternative(
        &mut self,
        mut verbose: bool,
        nested: usize,
        first: bool,
    ) -> Result<Seq, PatternError> {
        let mut seq: Seq = Vec::new();
        loop {
            let this = match self.peek() {
                None | Some(Tok::Char('|' | ')')) => break,
                Some(tok) => tok,
            };
            self.pos += 1;
            if verbose && let Tok::Char(c) = this {
                if matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c') {
                    continue;
                }
                if c == '#' {
                    while !matches!(self.get(), None | Some(Tok::Char('\n'))) {}
                    continue;
                }
            }
            let c = match this {
                Tok::Esc(c) => {
                    let node = self.escape(c)?;
                    seq.push(node);
                    continue;
                }
                Tok::Char(c) => c,
            };
            match c {
                '[' => {
                    let node = self.set()?;
                    seq.push(node);
                }
                '*' | '+' | '?' | '{' => {
                    let here = self.pos;
                    let (min, max) = match c {
                        '?' => (0, Some(1)),
                        '*' => (0, None),
                        '+' => (1, None),
                        _ => {
                            if self.next_is_char(|c| c == '}') {
                                seq.push(Node::Literal('{' as u32));
                                continue;
                            }
                            let lo = self.get_while(usize::MAX, |c| c.is_ascii_digit());
                            let hi = if self.matches(',') {
                                Some(self.get_while(usize::MAX, |c| c.is_ascii_digit()))
                            } else {
                                None
                            };
                            if !self.matches('}') {
                                seq.push(Node::Literal('{' as u32));
                                self.pos = here;
                                continue;
                            }
                            let min = if lo.is_empty() { 0 } else { repeat_count(&lo)? };
                            let max = match &hi {
                                None if lo.is_empty() => None,
                                None => Some(min),
                                Some(hi) if hi.is_empty() => None,
                                Some(hi) => Some(repeat_count(hi)?),
                            };
                            if max.is_some_and(|max| max < min) {
                                return invalid("min repeat greater than max repeat");
                            }
                            (min, max)
                        }
                    };
                    let item = match seq.pop() {
                        None | Some(Node::At(_)) => return invalid("nothing to repeat"),
                        Some(Node::Repeat { .. }) => return invalid("multiple repeat"),
                        Some(item) => item,
                    };
                    let mode = if self.matches('?') {
                        RepeatMode::Lazy
                    } else if self.matches('+') {
                        RepeatMode::Possessive
                    } else {
                        RepeatMode::Greedy
                    };
                    self.repeats = true;
                    seq.push(Node::Repeat {
                        min,
                        max,
                        mode,
                        item: Box::new(item),
                    });
                }
                '.' => seq.push(Node::Any),
                '(' => {
                    if let Some(node) = self.group(verbose, nested, first && seq.is_empty())? {
                        seq.push(node);
                    } else if first && seq.is_empty() {
                        // Global flags: `x` applies from here on.
                        verbose = self.flags & flag::X != 0;
                    }
                }
                '^' => seq.push(Node::At(At::Beginning)),
                '$' => seq.push(Node::At(At::End)),
                c => seq.push(Node::Literal(c as u32)),
            }
        }
        Ok(seq)
    }

    /// After `(`: a group, or `None` for a comment or global flags (nothing to add).
    fn group(
        &mut self,
        verbose: bool,
        nested: usize,
        first: bool,
    ) -> Result<Option<Node>, PatternError> {
        let mut capture = true;
        let mut atomic = false;
        let mut name = None;
        let (mut add, mut del) = (0, 0);
        if self.matches('?') {
            let Some(tok) = self.get() else {
                return invalid("unexpected end of pattern");
            };
            let c = match tok {
                Tok::Char(c) => c,
                Tok::Esc(c) => return invalid(format!("unknown extension ?\\{c}")),
            };
            match c {
                'P' => {
                    if self.matches('<') {
                        let n = self.get_until('>', "group name")?;
                        Self::check_group_name(&n)?;
                        name = Some(n);
                    } else if self.matches('=') {
                        let n = self.get_until(')', "group name")?;
                        Self::check_group_name(&n)?;
                        let Some(&group) = self.group_names.get(&n) else {
                            return invalid(format!("unknown group name {n:?}"));
                        };
                        if !self.check_group(group) {
                            return invalid("cannot refer to an open group");
                        }
                        self.check_lookbehind_group(group)?;
                        return Ok(Some(Node::GroupRef(group)));
                    } else {
                        return match self.get() {
                            None => invalid("unexpected end of pattern"),
                            Some(_) => invalid("unknown extension ?P"),
                        };
                    }
                }
                ':' => capture = false,
                '#' => loop {
                    match self.get() {
                        None => return invalid("missing ), unterminated comment"),
                        Some(Tok::Char(')')) => return Ok(None),
                        Some(_) => {}
                    }
                },
                '=' | '!' | '<' => {
                    let (behind, kind) = if c == '<' {
                        match self.get() {
                            None => return invalid("unexpected end of pattern"),
                            Some(Tok::Char(k @ ('=' | '!'))) => (true, k),
                            Some(_) => return invalid("unknown extension ?<"),
                        }
                    } else {
                        (false, c)
                    };
                    let outer = self.lookbehind_groups;
                    if behind && outer.is_none() {
                        self.lookbehind_groups = Some(self.group_widths.len());
                    }
                    let body = self.parse_sub(verbose, nested + 1)?;
                    if behind && outer.is_none() {
                        self.lookbehind_groups = None;
                    }
                    if !self.matches(')') {
                        return invalid("missing ), unterminated subpattern");
                    }
                    if behind {
                        let (lo, hi) = self.alternatives_width(&body);
                        if lo > u64::from(u32::MAX) {
                            return invalid("looks too much behind");
                        }
                        if lo != hi {
                            return invalid("look-behind requires fixed-width pattern");
                        }
                    }
                    return Ok(Some(Node::Assert {
                        behind,
                        negate: kind == '!',
                        body,
                    }));
                }
                '(' => return self.conditional(verbose, nested).map(Some),
                '>' => {
                    capture = false;
                    atomic = true;
                }
                c if flag::of(c).is_some() || c == '-' => match self.flags_group(c)? {
                    None => {
                        if !first {
                            return invalid("global flags not at the start of the expression");
                        }
                        return Ok(None);
                    }
                    Some((a, d)) => {
                        add = a;
                        del = d;
                        capture = false;
                    }
                },
                c => return invalid(format!("unknown extension ?{c}")),
            }
        }
        let group = if capture {
            if let Some(n) = &name
                && let Some(previous) = self.group_names.get(n)
            {
                return invalid(format!(
                    "redefinition of group name {n:?} as group {}; was group {previous}",
                    self.group_widths.len()
                ));
            }
            let group = self.group_widths.len();
            self.group_widths.push(None);
            if let Some(n) = name {
                self.group_names.insert(n, group);
            }
            Some(group)
        } else {
            None
        };
        let sub_verbose = (verbose || add & flag::X != 0) && del & flag::X == 0;
        let body = self.parse_sub(sub_verbose, nested + 1)?;
        if !self.matches(')') {
            return invalid("missing ), unterminated subpattern");
        }
        if let Some(group) = group {
            let width = self.alternatives_width(&body);
            if let Some(slot) = self.group_widths.get_mut(group) {
                *slot = Some(width);
            }
        }
        Ok(Some(if atomic {
            Node::Atomic(body)
        } else {
            Node::Group {
                capture,
                add,
                del,
                body,
            }
        }))
    }

    /// `(?(` group `)` yes `|` no `)`, after `(?(`.
    fn conditional(&mut self, verbose: bool, nested: usize) -> Result<Node, PatternError> {
        let name = self.get_until(')', "group name")?;
        let mut chars = name.chars();
        let is_identifier = chars
            .next()
            .is_some_and(|c| c == '_' || unicode_ident::is_xid_start(c))
            && chars.all(unicode_ident::is_xid_continue);
        let group = if is_identifier {
            match self.group_names.get(&name) {
                Some(&group) => group,
                None => return invalid(format!("unknown group name {name:?}")),
            }
        } else {
            let Some(group) = python_int(&name) else {
                return invalid(format!("bad character in group name {name:?}"));
            };
            if group == 0 {
                return invalid("bad group number");
            }
            if group >= u64::from(u32::MAX / 2) {
                return invalid(format!("invalid group reference {group}"));
            }
            let group = group as usize;
            self.conditional_refs.push(group);
            group
        };
        self.check_lookbehind_group(group)?;
        if self.group_widths.get(group).is_some_and(Option::is_none) {
            // Python asks whether the group has closed, `fancy_regex` whether it has started.
            return Err(PatternError::Unsupported(
                "a conditional on a group it is inside of, in =~",
            ));
        }
        let yes = self.parse(verbose, nested + 1, false)?;
        let no = if self.matches('|') {
            let no = self.parse(verbose, nested + 1, false)?;
            if self.next_is_char(|c| c == '|') {
                return invalid("conditional backref with more than two branches");
            }
            Some(no)
        } else {
            None
        };
        if !self.matches(')') {
            return invalid("missing ), unterminated subpattern");
        }
        Ok(Node::GroupRefExists { group, yes, no })
    }

    /// `_parse_flags`: `None` for global flags (`(?i)`), else the flags a group turns on and off.
    fn flags_group(&mut self, mut c: char) -> Result<Option<(u8, u8)>, PatternError> {
        let (mut add, mut del) = (0u8, 0u8);
        if c != '-' {
            loop {
                let Some(f) = flag::of(c) else {
                    return invalid("unknown flag");
                };
                if f == flag::L {
                    return invalid("bad inline flags: cannot use 'L' flag with a str pattern");
                }
                add |= f;
                if f & flag::TYPE != 0 && add & flag::TYPE != f {
                    return invalid("bad inline flags: flags 'a', 'u' and 'L' are incompatible");
                }
                c = match self.get() {
                    None => return invalid("missing -, : or )"),
                    Some(Tok::Char(c)) => c,
                    Some(Tok::Esc(_)) => return invalid("missing -, : or )"),
                };
                if matches!(c, ')' | '-' | ':') {
                    break;
                }
                if flag::of(c).is_none() {
                    return invalid(if c.is_alphabetic() {
                        "unknown flag"
                    } else {
                        "missing -, : or )"
                    });
                }
            }
        }
        if c == ')' {
            self.flags |= add;
            return Ok(None);
        }
        if add & flag::T != 0 {
            return invalid("bad inline flags: cannot turn on global flag");
        }
        if c == '-' {
            c = match self.get() {
                None => return invalid("missing flag"),
                Some(Tok::Char(c)) => c,
                Some(Tok::Esc(_)) => return invalid("missing flag"),
            };
            if flag::of(c).is_none() {
                return invalid(if c.is_alphabetic() {
                    "unknown flag"
                } else {
                    "missing flag"
                });
            }
            loop {
                let Some(f) = flag::of(c) else {
                    return invalid("unknown flag");
                };
                if f & flag::TYPE != 0 {
                    return invalid("bad inline flags: cannot turn off flags 'a', 'u' and 'L'");
                }
                del |= f;
                c = match self.get() {
                    None => return invalid("missing :"),
                    Some(Tok::Char(c)) => c,
                    Some(Tok::Esc(_)) => return invalid("missing :"),
                };
                if c == ':' {
                    break;
                }
                if flag::of(c).is_none() {
                    return invalid(if c.is_alphabetic() {
                        "unknown flag"
                    } else {
                        "missing :"
                    });
                }
            }
        }
        if del & flag::T != 0 {
            return invalid("bad inline flags: cannot turn off global flag");
        }
        if add & del != 0 {
            return invalid("bad inline flags: flag turned on and off");
        }
        Ok(Some((add, del)))
    }

    /// `_escape`: an escape outside a class.
    fn escape(&mut self, c: char) -> Result<Node, PatternError> {
        Ok(match c {
            'A' => Node::At(At::BeginningString),
            'b' => Node::At(At::Boundary),
            'B' => Node::At(At::NonBoundary),
            'Z' => Node::At(At::EndString),
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => match category(c) {
                Some(cat) => Node::Category(cat),
                None => return invalid(format!("bad escape \\{c}")),
            },
            '0' => {
                let digits = self.get_while(2, |c| ('0'..='7').contains(&c));
                Node::Literal(u32::from_str_radix(&format!("0{digits}"), 8).unwrap_or(0))
            }
            '1'..='9' => {
                let octal = |c: char| ('0'..='7').contains(&c);
                let mut digits = c.to_string();
                if let Some(Tok::Char(d)) = self.peek()
                    && d.is_ascii_digit()
                {
                    self.pos += 1;
                    digits.push(d);
                    if octal(c) && octal(d) && self.next_is_char(octal) {
                        if let Some(Tok::Char(e)) = self.get() {
                            digits.push(e);
                        }
                        let value = u32::from_str_radix(&digits, 8).unwrap_or(u32::MAX);
                        if value > 0o377 {
                            return invalid(format!(
                                "octal escape value \\{digits} outside of range 0-0o377"
                            ));
                        }
                        return Ok(Node::Literal(value));
                    }
                }
                let group: usize = digits.parse().unwrap_or(usize::MAX);
                if group >= self.group_widths.len() {
                    return invalid(format!("invalid group reference {group}"));
                }
                if !self.check_group(group) {
                    return invalid("cannot refer to an open group");
                }
                self.check_lookbehind_group(group)?;
                Node::GroupRef(group)
            }
            c => Node::Literal(self.literal_escape(c)?),
        })
    }

    /// The escapes `_escape` and `_class_escape` share: `\a \f \n \r \t \v \\`, `\x \u \U`,
    /// `\N{…}`, and a non-letter escaping itself.
    fn literal_escape(&mut self, c: char) -> Result<u32, PatternError> {
        let hex = |parser: &mut Self, n: usize| -> Result<u32, PatternError> {
            let digits = parser.get_while(n, |c| c.is_ascii_hexdigit());
            if digits.len() != n {
                return invalid(format!("incomplete escape \\{c}{digits}"));
            }
            u32::from_str_radix(&digits, 16)
                .or_else(|_| invalid(format!("bad escape \\{c}{digits}")))
        };
        Ok(match c {
            'a' => 0x07,
            'f' => 0x0c,
            'n' => 0x0a,
            'r' => 0x0d,
            't' => 0x09,
            'v' => 0x0b,
            'x' => hex(self, 2)?,
            'u' => hex(self, 4)?,
            'U' => {
                let value = hex(self, 8)?;
                if value > 0x10ffff {
                    return invalid(format!("bad escape \\U{value:08x}"));
                }
                value
            }
            'N' => {
                if !self.matches('{') {
                    return invalid("missing {");
                }
                self.get_until('}', "character name")?;
                return Err(PatternError::Unsupported(
                    "\\N{…} (named Unicode characters) in =~",
                ));
            }
            c if c.is_ascii_alphabetic() => return invalid(format!("bad escape \\{c}")),
            c => c as u32,
        })
    }

    /// `_class_escape`: an escape inside `[…]`.
    fn class_escape(&mut self, c: char) -> Result<SetItem, PatternError> {
        Ok(match c {
            'b' => SetItem::Literal(0x08),
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => match category(c) {
                Some(cat) => SetItem::Category(cat),
                None => return invalid(format!("bad escape \\{c}")),
            },
            '0'..='7' => {
                let digits = self.get_while(2, |c| ('0'..='7').contains(&c));
                let value = u32::from_str_radix(&format!("{c}{digits}"), 8).unwrap_or(u32::MAX);
                if value > 0o377 {
                    return invalid(format!(
                        "octal escape value \\{c}{digits} outside of range 0-0o377"
                    ));
                }
                SetItem::Literal(value)
            }
            '8' | '9' => return invalid(format!("bad escape \\{c}")),
            c => SetItem::Literal(self.literal_escape(c)?),
        })
    }

    /// A class, after its `[`.
    fn set(&mut self) -> Result<Node, PatternError> {
        let mut items: Vec<SetItem> = Vec::new();
        let negate = self.matches('^');
        loop {
            let this = match self.get() {
                None => return invalid("unterminated character set"),
                Some(Tok::Char(']')) if !items.is_empty() => break,
                Some(tok) => tok,
            };
            let code1 = match this {
                Tok::Esc(c) => self.class_escape(c)?,
                Tok::Char(c) => SetItem::Literal(c as u32),
            };
            if self.matches('-') {
                let that = match self.get() {
                    None => return invalid("unterminated character set"),
                    Some(Tok::Char(']')) => {
                        items.push(code1);
                        items.push(SetItem::Literal('-' as u32));
                        break;
                    }
                    Some(tok) => tok,
                };
                let code2 = match that {
                    Tok::Esc(c) => self.class_escape(c)?,
                    Tok::Char(c) => SetItem::Literal(c as u32),
                };
                match (code1, code2) {
                    (SetItem::Literal(lo), SetItem::Literal(hi)) if lo <= hi => {
                        items.push(SetItem::Range(lo, hi));
                    }
                    _ => return invalid("bad character range"),
                }
            } else {
                items.push(code1);
            }
        }
        Ok(Node::Set { negate, items })
    }

    fn alternatives_width(&self, alternatives: &[Seq]) -> (u64, u64) {
        let mut lo = MAXWIDTH;
        let mut hi = 0;
        for seq in alternatives {
            let (l, h) = self.seq_width(seq);
            lo = lo.min(l);
            hi = hi.max(h);
        }
        if alternatives.is_empty() {
            lo = 0;
        }
        (lo, hi)
    }

    /// `SubPattern.getwidth`: the fewest and most characters a sequence matches.
    fn seq_width(&self, seq: &[Node]) -> (u64, u64) {
        let (mut lo, mut hi) = (0u64, 0u64);
        for node in seq {
            let (l, h) = match node {
                Node::Literal(_) | Node::Any | Node::Set { .. } | Node::Category(_) => (1, 1),
                Node::At(_) | Node::Assert { .. } => (0, 0),
                Node::Group { body, .. } | Node::Atomic(body) => self.alternatives_width(body),
                Node::Repeat { min, max, item, .. } => {
                    let (l, h) = self.seq_width(std::slice::from_ref(item));
                    let hi = match max {
                        None if h > 0 => MAXWIDTH,
                        None => 0,
                        Some(max) => h.saturating_mul(*max),
                    };
                    (l.saturating_mul(*min), hi)
                }
                Node::GroupRef(group) => self
                    .group_widths
                    .get(*group)
                    .copied()
                    .flatten()
                    .unwrap_or((0, 0)),
                Node::GroupRefExists { yes, no, .. } => {
                    let (l, h) = self.seq_width(yes);
                    match no {
                        Some(no) => {
                            let (nl, nh) = self.seq_width(no);
                            (l.min(nl), h.max(nh))
                        }
                        None => (0, h),
                    }
                }
            };
            lo = lo.saturating_add(l);
            hi = hi.saturating_add(h);
        }
        (lo.min(MAXWIDTH), hi.min(MAXWIDTH))
    }
}

fn category(c: char) -> Option<Category> {
    Some(match c {
        'd' => Category::Digit,
        'D' => Category::NotDigit,
        's' => Category::Space,
        'S' => Category::NotSpace,
        'w' => Category::Word,
        'W' => Category::NotWord,
        _ => return None,
    })
}

/// A repeat count as Python reads it: `OverflowError` from `MAXREPEAT` on.
fn repeat_count(digits: &str) -> Result<u64, PatternError> {
    match digits.parse::<u64>() {
        Ok(n) if n < MAXREPEAT => Ok(n),
        _ => invalid("the repetition number is too large"),
    }
}

/// `int(text)` for a conditional's group number: spaces around, a sign, digits with single
/// underscores between them (ASCII digits only).
fn python_int(text: &str) -> Option<u64> {
    let text = text.trim_matches(|c: char| c.is_whitespace());
    let (negative, digits) = match text.strip_prefix(['+', '-']) {
        Some(rest) => (text.starts_with('-'), rest),
        None => (false, text),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let value: u64 = digits.replace('_', "").parse().ok()?;
    if negative && value != 0 {
        return None;
    }
    Some(value)
}

// --- writing fancy_regex's syntax -------------------------------------------------------------

/// Python's word characters, `str.isalnum() or '_'` (the crate's `\w` also takes marks and
/// connector punctuation, and not `²` or `½`); ASCII ones under the `a` flag.
fn word_class(ascii: bool) -> &'static str {
    if ascii { "0-9A-Za-z_" } else { "\\p{L}\\p{N}_" }
}

/// The class body of a category (inside `[…]`), and whether it is negated.
fn category_class(cat: Category, ascii: bool) -> (bool, &'static str) {
    match cat {
        Category::Digit | Category::NotDigit => (
            cat == Category::NotDigit,
            if ascii { "0-9" } else { "\\p{Nd}" },
        ),
        // `str.isspace()`: the crate's `\s` and the four separators U+001C–U+001F.
        Category::Space | Category::NotSpace => (
            cat == Category::NotSpace,
            if ascii {
                "\\t\\n\\x{B}\\x{C}\\r "
            } else {
                "\\s\\x{1C}-\\x{1F}"
            },
        ),
        Category::Word | Category::NotWord => (cat == Category::NotWord, word_class(ascii)),
    }
}

fn push_char(code: u32, out: &mut String) {
    match char::from_u32(code) {
        Some(c) if c.is_ascii_alphanumeric() => out.push(c),
        _ => {
            out.push_str(&format!("\\x{{{code:X}}}"));
        }
    }
}

/// A class that matches nothing (Python's lone surrogates never occur in JSON strings).
const NOTHING: &str = "[^\\x{0}-\\x{10FFFF}]";

/// `lo..=hi` without the surrogates, which are not characters of a Rust string.
fn push_range(lo: u32, hi: u32, out: &mut String) {
    for (lo, hi) in [(lo, hi.min(0xD7FF)), (lo.max(0xE000), hi)] {
        if lo <= hi {
            push_char(lo, out);
            if hi > lo {
                out.push('-');
                push_char(hi, out);
            }
        }
    }
}

fn is_surrogate(code: u32) -> bool {
    (0xD800..=0xDFFF).contains(&code)
}

/// Python's `_combine_flags`.
fn combine_flags(flags: u8, add: u8, del: u8) -> u8 {
    let flags = if add & flag::TYPE != 0 {
        flags & !flag::TYPE
    } else {
        flags
    };
    (flags | add) & !del
}

fn emit_alternatives(body: &[Seq], flags: u8, out: &mut String) {
    for (i, seq) in body.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        for node in seq {
            emit(node, flags, out);
        }
    }
}

fn emit(node: &Node, flags: u8, out: &mut String) {
    let ascii = flags & flag::A != 0;
    // Under `a` and `i` only ASCII letters match their other case: the crate's `(?i)` would
    // also pair `k` with the Kelvin sign, so the cases are spelled out and `i` turned off.
    let ascii_fold = ascii && flags & flag::I != 0;
    match node {
        Node::Literal(code) => {
            if is_surrogate(*code) {
                out.push_str(NOTHING);
            } else if ascii_fold {
                out.push_str("(?-i:");
                emit_set(false, &[SetItem::Literal(*code)], flags, out);
                out.push(')');
            } else {
                push_char(*code, out);
            }
        }
        Node::Any => out.push_str(if flags & flag::S != 0 {
            "(?s:.)"
        } else {
            "(?-s:.)"
        }),
        Node::Set { negate, items } => {
            if ascii_fold {
                out.push_str("(?-i:");
                emit_set(*negate, items, flags, out);
                out.push(')');
            } else {
                emit_set(*negate, items, flags, out);
            }
        }
        Node::Category(cat) => {
            out.push_str("(?-i:");
            emit_set(false, &[SetItem::Category(*cat)], flags, out);
            out.push(')');
        }
        Node::At(at) => {
            let multiline = flags & flag::M != 0;
            let word = word_class(ascii);
            match at {
                At::Beginning if multiline => out.push_str("(?m:^)"),
                At::Beginning | At::BeginningString => out.push_str("\\A"),
                At::End if multiline => out.push_str("(?m:$)"),
                At::End => out.push_str("(?=\\n?\\z)"),
                At::EndString => out.push_str("\\z"),
                // `\b` and `\B` never match in an empty string (CPython's sre).
                At::Boundary => out.push_str(&format!(
                    "(?-i:(?<=[{word}])(?![{word}])|(?<![{word}])(?=[{word}]))"
                )),
                At::NonBoundary => out.push_str(&format!(
                    "(?-i:(?<=[{word}])(?=[{word}])|(?<![{word}])(?![{word}])(?!\\A\\z))"
                )),
            }
        }
        Node::Repeat {
            min,
            max,
            mode,
            item,
        } => {
            // A possessive repeat is an atomic group around the greedy one (the crate refuses
            // `++` after some items, e.g. an empty group).
            if *mode == RepeatMode::Possessive {
                out.push_str("(?>");
            }
            if matches_only_empty(item) {
                // The crate refuses to repeat an empty group or an assertion, which Python
                // repeats. Repeating what matches only the empty string is matching it once
                // (at least once), or trying it and else nothing (zero times allowed): written
                // so, the width stays fixed for look-behinds.
                out.push_str("(?:");
                let mut once = String::new();
                emit(item, flags, &mut once);
                match (*min, mode) {
                    (0, RepeatMode::Lazy) => out.push_str(&format!("|{once}")),
                    (0, _) => out.push_str(&format!("{once}|")),
                    _ => out.push_str(&once),
                }
                out.push(')');
                if *mode == RepeatMode::Possessive {
                    out.push(')');
                }
                return;
            }
            out.push_str("(?:");
            emit(item, flags, out);
            out.push(')');
            match (min, max) {
                (0, None) => out.push('*'),
                (1, None) => out.push('+'),
                (0, Some(1)) => out.push('?'),
                (min, None) => out.push_str(&format!("{{{min},}}")),
                (min, Some(max)) if min == max => out.push_str(&format!("{{{min}}}")),
                (min, Some(max)) => out.push_str(&format!("{{{min},{max}}}")),
            }
            match mode {
                RepeatMode::Greedy => {}
                RepeatMode::Lazy => out.push('?'),
                RepeatMode::Possessive => out.push(')'),
            }
        }
        Node::Group {
            capture,
            add,
            del,
            body,
        } => {
            let inner = combine_flags(flags, *add, *del);
            out.push_str(if *capture { "(" } else { "(?:" });
            match (flags & flag::I != 0, inner & flag::I != 0) {
                (false, true) => out.push_str("(?i)"),
                (true, false) => out.push_str("(?-i)"),
                _ => {}
            }
            emit_alternatives(body, inner, out);
            out.push(')');
        }
        Node::Atomic(body) => {
            out.push_str("(?>");
            emit_alternatives(body, flags, out);
            out.push(')');
        }
        Node::Assert {
            behind,
            negate,
            body,
        } => {
            out.push_str(match (behind, negate) {
                (false, false) => "(?=",
                (false, true) => "(?!",
                (true, false) => "(?<=",
                (true, true) => "(?<!",
            });
            emit_alternatives(body, flags, out);
            out.push(')');
        }
        Node::GroupRef(group) => out.push_str(&format!("\\k<{group}>")),
        Node::GroupRefExists { group, yes, no } => {
            out.push_str(&format!("(?({group})"));
            for node in yes {
                emit(node, flags, out);
            }
            out.push('|');
            if let Some(no) = no {
                for node in no {
                    emit(node, flags, out);
                }
            }
            out.push(')');
        }
    }
}

/// Whether the crate's parser reads `node` as nothing, an assertion or a conditional.
fn matches_only_empty(node: &Node) -> bool {
    match node {
        Node::At(_) | Node::Assert { .. } | Node::GroupRefExists { .. } => true,
        Node::Group {
            capture: false,
            body,
            ..
        } => body.iter().all(|seq| seq.iter().all(matches_only_empty)),
        _ => false,
    }
}

fn emit_set(negate: bool, items: &[SetItem], flags: u8, out: &mut String) {
    // Under `i` (Unicode) the crate folds a whole class; Python folds the literals and ranges
    // but tests `\w`, `\d`, `\s` on the character as it is: the categories go apart, unfolded.
    let ignore_case = flags & flag::I != 0 && flags & flag::A == 0;
    let (categories, rest): (Vec<SetItem>, Vec<SetItem>) = items
        .iter()
        .partition(|item| matches!(item, SetItem::Category(_)));
    if ignore_case && !categories.is_empty() {
        let mut unfolded = String::from("(?-i:");
        emit_plain_set(negate, &categories, flags, &mut unfolded);
        unfolded.push(')');
        match (negate, rest.is_empty()) {
            (_, true) => out.push_str(&unfolded),
            (false, false) => {
                out.push_str("(?:");
                out.push_str(&unfolded);
                out.push('|');
                emit_plain_set(false, &rest, flags, out);
                out.push(')');
            }
            // In neither: not a category (checked ahead) and not a folded literal.
            (true, false) => {
                out.push_str("(?:(?=");
                out.push_str(&unfolded);
                out.push(')');
                emit_plain_set(true, &rest, flags, out);
                out.push(')');
            }
        }
        return;
    }
    emit_plain_set(negate, items, flags, out);
}

fn emit_plain_set(negate: bool, items: &[SetItem], flags: u8, out: &mut String) {
    let ascii = flags & flag::A != 0;
    let ascii_fold = ascii && flags & flag::I != 0;
    let mut body = String::new();
    for item in items {
        match *item {
            SetItem::Literal(code) => push_range(code, code, &mut body),
            SetItem::Range(lo, hi) => push_range(lo, hi, &mut body),
            SetItem::Category(cat) => {
                let (negated, class) = category_class(cat, ascii);
                if negated {
                    body.push_str(&format!("[^{class}]"));
                } else {
                    body.push_str(class);
                }
            }
        }
        if ascii_fold {
            // The other case of the ASCII letters in the item.
            let (lo, hi) = match *item {
                SetItem::Literal(code) => (code, code),
                SetItem::Range(lo, hi) => (lo, hi),
                SetItem::Category(_) => continue,
            };
            for (start, end, shift) in [(0x41u32, 0x5Au32, 0x20u32), (0x61, 0x7A, 0)] {
                let (l, h) = (lo.max(start), hi.min(end));
                if l <= h {
                    let other = |c: u32| if shift > 0 { c + shift } else { c - 0x20 };
                    push_range(other(l), other(h), &mut body);
                }
            }
        }
    }
    match (negate, body.is_empty()) {
        (false, true) => out.push_str(NOTHING),
        (true, true) => out.push_str("[\\x{0}-\\x{10FFFF}]"),
        (negate, false) => {
            out.push('[');
            if negate {
                out.push('^');
            }
            out.push_str(&body);
            out.push(']');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(pattern: &str, text: &str) -> Result<bool, PatternError> {
        let regex = PythonRegex::compile(pattern)?;
        regex.search(text).map_err(PatternError::Limit)
    }

    #[test]
    fn patterns_python_refuses_are_refused() {
        for pattern in [
            "x**",
            "r???",
            "^*",
            "$+",
            "(*)",
            "|?",
            "a{2}{3}",
            "[r--]",
            "[-^--]",
            "[?--]",
            "[[--]",
            "\\z",
            "\\8",
            "\\1",
            "(a)\\2",
            "(a\\1)",
            "[z-a]",
            "a{3,2}",
            "(?P<1>a)",
            "(?P=x)",
            "(?<=a|bc)",
            "a(?i)",
            "(?L)",
            "(?au)",
            "(?-a:x)",
            "(?t:a)",
            "(?t)a*",
            "\\x4",
            "\\u12",
            "[\\d-z]",
            "(?#x",
            "a)",
            "(?x",
            "\\",
        ] {
            assert!(
                matches!(PythonRegex::compile(pattern), Err(PatternError::Invalid(_))),
                "{pattern}"
            );
        }
    }

    #[test]
    fn patterns_match_as_python_matches_them() -> Result<(), PatternError> {
        for (pattern, text, expected) in [
            ("^abc$", "abc\n", true),
            ("^abc$", "abc\n\n", false),
            ("a$\\n", "a\n", true),
            ("\\0", "\0", true),
            ("\\101", "A", true),
            ("[[2]||]", "[2]||]", true),
            ("[a&&b]", "&", true),
            ("a{,3}b{2}c{x", "bbc{x", true),
            ("{}", "{}", true),
            ("x{1,2", "x{1,2", true),
            ("[]a]\\Z", "]", true),
            ("\\w", "\u{b2}", true),
            ("\\w", "\u{301}", false),
            ("\\s", "\u{1c}", true),
            ("(?a)\\w", "é", false),
            ("(?ai)k", "\u{212a}", false),
            ("(?ai)k", "K", true),
            ("\\B", "", false),
            ("\\bx\\b", "é x", true),
            ("(a)\\1", "aa", true),
            ("(?P<n>a)(?P=n)", "aa", true),
            ("(?<=a)b", "ab", true),
            ("(?>a+)a", "aaa", false),
            ("a++a", "aaa", false),
            ("(a)?(?(1)b|c)", "c", true),
            ("(?x) a b # comment", "ab", true),
            ("(?x)[ ]", " ", true),
            ("a(?#c)*", "aaa", true),
            ("(?i:A)a", "aa", true),
            ("(?i:A)A", "aa", false),
            ("(?m)^b", "a\nb", true),
            ("^b", "a\nb", false),
            (".", "\n", false),
            ("(?s).", "\n", true),
            ("(?:)+x", "x", true),
            ("(?:(?=a))*a", "a", true),
            ("(a)?(?(1)a|b)*c", "bbc", true),
            ("(?i)[\\w]", "\u{345}", false),
            ("(?i)[^\\W]", "\u{345}", false),
            ("(?i)[\\W]", "\u{345}", true),
            ("(?i)[^\\w]", "\u{345}", true),
            ("(?i)[a\\d]", "A", true),
            ("(?i)[^a\\d]", "A", false),
            ("(?i)[^a\\d]", "-", true),
            ("(?<=(?:)*a)x", "ax", true),
            ("(?<=(?:\\b)*a)x", "ax", true),
            ("(?:(?=a))+?a", "a", true),
        ] {
            assert_eq!(search(pattern, text)?, expected, "{pattern:?} on {text:?}");
        }
        Ok(())
    }

    #[test]
    fn conditionals_nested_past_the_limit_stop_there() {
        let pattern = format!("(a){}{}", "(?(1)".repeat(400), ")".repeat(400));
        assert!(matches!(
            PythonRegex::compile(&pattern),
            Err(PatternError::Limit(LimitExceeded {
                limit: Limit::JsonPathRegexNesting,
                ..
            }))
        ));
    }

    #[test]
    fn a_conditional_on_a_group_it_is_inside_of_is_refused_as_unsupported() {
        for pattern in ["(a(?(1)b|c))", "(?P<n>a(?(n)b|c))"] {
            assert!(
                matches!(
                    PythonRegex::compile(pattern),
                    Err(PatternError::Unsupported(_))
                ),
                "{pattern}"
            );
        }
    }

    #[test]
    fn named_characters_are_refused_as_unsupported() {
        assert!(matches!(
            PythonRegex::compile("\\N{DIGIT ONE}"),
            Err(PatternError::Unsupported(_))
        ));
        assert!(matches!(
            PythonRegex::compile("\\N"),
            Err(PatternError::Invalid(_))
        ));
    }

    #[test]
    fn catastrophic_backtracking_stops_at_the_limit() {
        let text = format!("{}b", "a".repeat(64));
        let result = PythonRegex::compile("(?:a|(?=a)a)+c").map(|r| r.search(&text));
        assert!(
            matches!(
                result,
                Ok(Err(LimitExceeded {
                    limit: Limit::JsonPathRegexBacktrack,
                    ..
                }))
            ),
            "{result:?}"
        );
    }
}
