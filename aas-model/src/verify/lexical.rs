//! Lexical spaces: the patterns of the metamodel's string types and of the `xs:` data types.
//!
//! The regular expressions are those of aas-core-meta (the machine-readable V3.0 and V3.1
//! metamodels), built from the same fragments, and compiled once; where V3.1 changed one
//! (idShort, `xs:anyURI`), both are here and the caller passes the version. Rust's `regex` runs in linear time, so no
//! input can make a check slow. One deliberate difference from Python's `re`: `$` here
//! matches only at the very end, so a trailing newline is never accepted.

use std::sync::LazyLock;

use regex::Regex;

use crate::Version;
use crate::enums::DataTypeDefXsd;

fn compile(pattern: &str) -> Regex {
    // The patterns are constants of this module, covered by its tests: a failure to compile
    // is a bug in this file, not a property of any input.
    regex::RegexBuilder::new(pattern)
        .size_limit(64 << 20)
        .build()
        .unwrap_or_else(|e| panic!("built-in pattern does not compile: {e}"))
}

macro_rules! pattern {
    ($name:ident, $build:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| compile(&$build));
    };
}

/// AASd-130: only characters XML 1.0 allows (`\t \n \r`, U+0020–U+D7FF, U+E000–U+FFFD,
/// U+10000–U+10FFFF). Rust strings hold no surrogates, so this excludes control characters
/// and U+FFFE / U+FFFF.
pub(crate) fn is_xml_serializable(s: &str) -> bool {
    if s.bytes()
        .all(|b| (0x20..0x80).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return true;
    }
    s.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
}

/// Length in characters (code points), as the metamodel counts it; cheap when short.
pub(crate) fn char_len_exceeds(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().count() > max
}

// The idShort patterns are checked by hand (every referable has one, and a regex search costs
// more than the check): V3.0 `^[a-zA-Z][a-zA-Z0-9_]*$`, V3.1
// `^[a-zA-Z][a-zA-Z0-9_-]*[a-zA-Z0-9_]+$` (hyphens allowed, but not last, and at least two
// characters). The tests compare both with the patterns.
pattern!(VERSION, "^(0|[1-9][0-9]*)$");

const DIGIT: &str = "[0-9]";

fn year_frag() -> String {
    format!("-?(([1-9]{DIGIT}{DIGIT}{DIGIT}+)|(0{DIGIT}{DIGIT}{DIGIT}))")
}
const MONTH_FRAG: &str = "((0[1-9])|(1[0-2]))";
fn day_frag() -> String {
    format!("((0[1-9])|([12]{DIGIT})|(3[01]))")
}
fn hour_frag() -> String {
    format!("(([01]{DIGIT})|(2[0-3]))")
}
fn minute_frag() -> String {
    format!("[0-5]{DIGIT}")
}
fn second_frag() -> String {
    format!("([0-5]{DIGIT})(\\.{DIGIT}+)?")
}
const END_OF_DAY_FRAG: &str = "24:00:00(\\.0+)?";
fn timezone_frag() -> String {
    format!("(Z|(\\+|-)((0{DIGIT}|1[0-3]):{}|14:00))", minute_frag())
}
fn time_of_day() -> String {
    format!(
        "(({}:{}:{})|{END_OF_DAY_FRAG})",
        hour_frag(),
        minute_frag(),
        second_frag()
    )
}

pattern!(
    DATE_TIME_UTC,
    format!(
        "^{}-{MONTH_FRAG}-{}T{}(Z|\\+00:00|-00:00)$",
        year_frag(),
        day_frag(),
        time_of_day()
    )
);
pattern!(
    DATE,
    format!(
        "^{}-{MONTH_FRAG}-{}{}?$",
        year_frag(),
        day_frag(),
        timezone_frag()
    )
);
pattern!(
    DATE_TIME,
    format!(
        "^{}-{MONTH_FRAG}-{}T{}{}?$",
        year_frag(),
        day_frag(),
        time_of_day(),
        timezone_frag()
    )
);

pattern!(MIME_TYPE, {
    let tchar = "[!#$%&'*+\\-.^_`|~0-9a-zA-Z]";
    let token = format!("({tchar})+");
    let ows = "[ \\t]*";
    let obs_text = "[\\x80-\\xff]";
    let qd_text = format!("([\\t !#-\\[\\]-~]|{obs_text})");
    let quoted_pair = format!("\\\\([\\t !-~]|{obs_text})");
    let quoted_string = format!("\"({qd_text}|{quoted_pair})*\"");
    let parameter = format!("{token}=({token}|{quoted_string})");
    format!("^{token}/{token}({ows};{ows}{parameter})*$")
});

pattern!(RFC_2396, {
    let alphanum = "[a-zA-Z0-9]";
    let mark = "[-_.!~*'()]";
    let unreserved = format!("({alphanum}|{mark})");
    let hex = "([0-9]|[aA]|[bB]|[cC]|[dD]|[eE]|[fF])";
    let escaped = format!("%{hex}{hex}");
    let pchar = format!("({unreserved}|{escaped}|[:@&=+$,])");
    let param = format!("({pchar})*");
    let segment = format!("({pchar})*(;{param})*");
    let path_segments = format!("{segment}(/{segment})*");
    let abs_path = format!("/{path_segments}");
    let scheme = "[a-zA-Z][a-zA-Z0-9+\\-.]*";
    let userinfo = format!("({unreserved}|{escaped}|[;:&=+$,])*");
    let domainlabel = format!("({alphanum}|{alphanum}({alphanum}|-)*{alphanum})");
    let toplabel = format!("([a-zA-Z]|[a-zA-Z]({alphanum}|-)*{alphanum})");
    let hostname = format!("({domainlabel}\\.)*{toplabel}(\\.)?");
    let ipv4address = "[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+";
    let host = format!("({hostname}|{ipv4address})");
    let hostport = format!("{host}(:[0-9]*)?");
    let server = format!("(({userinfo}@)?{hostport})?");
    let reg_name = format!("({unreserved}|{escaped}|[$,;:@&=+])+");
    let authority = format!("({server}|{reg_name})");
    let net_path = format!("//{authority}({abs_path})?");
    let reserved = "[;/?:@&=+$,]";
    let uric = format!("({reserved}|{unreserved}|{escaped})");
    let query = format!("({uric})*");
    let hier_part = format!("({net_path}|{abs_path})(\\?{query})?");
    let uric_no_slash = format!("({unreserved}|{escaped}|[;?:@&=+$,])");
    let opaque_part = format!("{uric_no_slash}({uric})*");
    let absoluteuri = format!("{scheme}:({hier_part}|{opaque_part})");
    let fragment = format!("({uric})*");
    let rel_segment = format!("({unreserved}|{escaped}|[;@&=+$,])+");
    let rel_path = format!("{rel_segment}({abs_path})?");
    let relativeuri = format!("({net_path}|{abs_path}|{rel_path})(\\?{query})?");
    format!("^({absoluteuri}|{relativeuri})?(#{fragment})?$")
});

pattern!(BCP_47, {
    let alphanum = "[a-zA-Z0-9]";
    let singleton = "[0-9A-WY-Za-wy-z]";
    let extension = format!("{singleton}(-({alphanum}){{2,8}})+");
    let extlang = "[a-zA-Z]{3}(-[a-zA-Z]{3}){0,2}";
    let irregular = "(en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE)";
    let regular =
        "(art-lojban|cel-gaulish|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang)";
    let grandfathered = format!("({irregular}|{regular})");
    let language = format!("([a-zA-Z]{{2,3}}(-{extlang})?|[a-zA-Z]{{4}}|[a-zA-Z]{{5,8}})");
    let script = "[a-zA-Z]{4}";
    let region = "([a-zA-Z]{2}|[0-9]{3})";
    let variant = format!("(({alphanum}){{5,8}}|[0-9]({alphanum}){{3}})");
    let privateuse = format!("[xX](-({alphanum}){{1,8}})+");
    let langtag =
        format!("{language}(-{script})?(-{region})?(-{variant})*(-{extension})*(-{privateuse})?");
    format!("^({langtag}|{privateuse}|{grandfathered})$")
});

pattern!(ENGLISH, "^(en|EN)(-.*)?$");

pattern!(ANY_URI, {
    let scheme = "[a-zA-Z][a-zA-Z0-9+\\-.]*";
    let ucschar = "[\\u{a0}-\\u{d7ff}\\u{f900}-\\u{fdcf}\\u{fdf0}-\\u{ffef}\\u{10000}-\\u{1fffd}\\u{20000}-\\u{2fffd}\\u{30000}-\\u{3fffd}\\u{40000}-\\u{4fffd}\\u{50000}-\\u{5fffd}\\u{60000}-\\u{6fffd}\\u{70000}-\\u{7fffd}\\u{80000}-\\u{8fffd}\\u{90000}-\\u{9fffd}\\u{a0000}-\\u{afffd}\\u{b0000}-\\u{bfffd}\\u{c0000}-\\u{cfffd}\\u{d0000}-\\u{dfffd}\\u{e1000}-\\u{efffd}]";
    let iunreserved = format!("([a-zA-Z0-9\\-._~]|{ucschar})");
    let pct_encoded = "%[0-9A-Fa-f][0-9A-Fa-f]";
    let sub_delims = "[!$&'()*+,;=]";
    let iuserinfo = format!("({iunreserved}|{pct_encoded}|{sub_delims}|:)*");
    let h16 = "[0-9A-Fa-f]{1,4}";
    let dec_octet = "([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])";
    let ipv4address = format!("{dec_octet}\\.{dec_octet}\\.{dec_octet}\\.{dec_octet}");
    let ls32 = format!("({h16}:{h16}|{ipv4address})");
    let ipv6address = format!(
        "(({h16}:){{6}}{ls32}|::({h16}:){{5}}{ls32}|({h16})?::({h16}:){{4}}{ls32}|(({h16}:)?{h16})?::({h16}:){{3}}{ls32}|(({h16}:){{0,2}}{h16})?::({h16}:){{2}}{ls32}|(({h16}:){{0,3}}{h16})?::{h16}:{ls32}|(({h16}:){{0,4}}{h16})?::{ls32}|(({h16}:){{0,5}}{h16})?::{h16}|(({h16}:){{0,6}}{h16})?::)"
    );
    let unreserved = "[a-zA-Z0-9\\-._~]";
    let ipvfuture = format!("[vV][0-9A-Fa-f]+\\.({unreserved}|{sub_delims}|:)+");
    let ip_literal = format!("\\[({ipv6address}|{ipvfuture})\\]");
    let ireg_name = format!("({iunreserved}|{pct_encoded}|{sub_delims})*");
    let ihost = format!("({ip_literal}|{ipv4address}|{ireg_name})");
    let iauthority = format!("({iuserinfo}@)?{ihost}(:[0-9]*)?");
    let ipchar = format!("({iunreserved}|{pct_encoded}|{sub_delims}|[:@])");
    let isegment = format!("({ipchar})*");
    let ipath_abempty = format!("(/{isegment})*");
    let isegment_nz = format!("({ipchar})+");
    let ipath_absolute = format!("/({isegment_nz}(/{isegment})*)?");
    let ipath_rootless = format!("{isegment_nz}(/{isegment})*");
    // `({ipchar}){0}` in aas-core: the empty path.
    let ipath_empty = "";
    let ihier_part =
        format!("(//{iauthority}{ipath_abempty}|{ipath_absolute}|{ipath_rootless}|{ipath_empty})");
    let iprivate = "[\\u{e000}-\\u{f8ff}\\u{f0000}-\\u{ffffd}\\u{100000}-\\u{10fffd}]";
    let iquery = format!("({ipchar}|{iprivate}|[/?])*");
    let ifragment = format!("({ipchar}|[/?])*");
    let isegment_nz_nc = format!("({iunreserved}|{pct_encoded}|{sub_delims}|@)+");
    let ipath_noscheme = format!("{isegment_nz_nc}(/{isegment})*");
    let irelative_part =
        format!("(//{iauthority}{ipath_abempty}|{ipath_absolute}|{ipath_noscheme}|{ipath_empty})");
    let irelative_ref = format!("{irelative_part}(\\?{iquery})?(#{ifragment})?");
    let iri = format!("{scheme}:{ihier_part}(\\?{iquery})?(#{ifragment})?");
    format!("^({iri}|{irelative_ref})$")
});

// V3.1 (aas-core3.1): `xs:anyURI` is "defined by RFC 2396, as amended by RFC 2732" (XSD 1.0),
// so non-ASCII characters are no longer valid and IPv6 literals are. Not the same as
// `RFC_2396` (no RFC 2732 amendments there), which the `Path` type uses.
pattern!(ANY_URI_V3_1, {
    let alphanum = "[a-zA-Z0-9]";
    let mark = "[-_.!~*'()]";
    let unreserved = format!("({alphanum}|{mark})");
    let hex = "[0-9a-fA-F]";
    let escaped = format!("%{hex}{hex}");
    let pchar = format!("({unreserved}|{escaped}|[:@&=+$,])");
    let param = format!("({pchar})*");
    let segment = format!("({pchar})*(;{param})*");
    let path_segments = format!("{segment}(/{segment})*");
    let abs_path = format!("/{path_segments}");
    let scheme = "[a-zA-Z][a-zA-Z0-9+\\-.]*";
    let userinfo = format!("({unreserved}|{escaped}|[;:&=+$,])*");
    let domainlabel = format!("({alphanum}|{alphanum}({alphanum}|-)*{alphanum})");
    let toplabel = format!("([a-zA-Z]|[a-zA-Z]({alphanum}|-)*{alphanum})");
    let hostname = format!("({domainlabel}\\.)*{toplabel}(\\.)?");
    let ipv4address = "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}";
    let hex4 = "[0-9A-Fa-f]{1,4}";
    let hexseq = format!("{hex4}(:{hex4})*");
    let hexpart = format!("({hexseq}|{hexseq}::({hexseq})?|::({hexseq})?)");
    let ipv6address = format!("{hexpart}(:{ipv4address})?");
    let ipv6reference = format!("\\[{ipv6address}\\]");
    let host = format!("({hostname}|{ipv4address}|{ipv6reference})");
    let hostport = format!("{host}(:[0-9]*)?");
    let server = format!("(({userinfo}@)?{hostport})?");
    let reg_name = format!("({unreserved}|{escaped}|[$,;:@&=+])+");
    let authority = format!("({server}|{reg_name})");
    let net_path = format!("//{authority}({abs_path})?");
    let reserved = "[;/?:@&=+$,\\[\\]]";
    let uric = format!("({reserved}|{unreserved}|{escaped})");
    let query = format!("({uric})*");
    let hier_part = format!("({net_path}|{abs_path})(\\?{query})?");
    let uric_no_slash = format!("({unreserved}|{escaped}|[;?:@&=+$,])");
    let opaque_part = format!("{uric_no_slash}({uric})*");
    let absoluteuri = format!("{scheme}:({hier_part}|{opaque_part})");
    let fragment = format!("({uric})*");
    let rel_segment = format!("({unreserved}|{escaped}|[;@&=+$,])+");
    let rel_path = format!("{rel_segment}({abs_path})?");
    let relativeuri = format!("({net_path}|{abs_path}|{rel_path})(\\?{query})?");
    format!("^({absoluteuri}|{relativeuri})?(#{fragment})?$")
});

pattern!(BASE64_BINARY, {
    let b04 = "[AQgw]\\x20?";
    let b16 = "[AEIMQUYcgkosw048]\\x20?";
    let b64_char = "[A-Za-z0-9+/]";
    let b64 = format!("{b64_char}\\x20?");
    let b64quad = format!("({b64}{b64}{b64}{b64})");
    let b64_final_quad = format!("({b64}{b64}{b64}{b64_char})");
    let padded_8 = format!("{b64}{b04}= ?=");
    let padded_16 = format!("{b64}{b64}{b16}=");
    let b64final = format!("({b64_final_quad}|{padded_16}|{padded_8})");
    format!("^({b64quad}*{b64final})?$")
});

pattern!(
    DECIMAL,
    "^((\\+|-)?([0-9]+\\.[0-9]+|\\.[0-9]+)|(\\+|-)?[0-9]+)$"
);
pattern!(
    DOUBLE,
    "^((\\+|-)?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([Ee](\\+|-)?[0-9]+)?|-?INF|NaN)$"
);
pattern!(
    DURATION,
    "^-?P((([0-9]+Y([0-9]+M)?([0-9]+D)?|([0-9]+M)([0-9]+D)?|([0-9]+D))(T(([0-9]+H)([0-9]+M)?([0-9]+(\\.[0-9]+)?S)?|([0-9]+M)([0-9]+(\\.[0-9]+)?S)?|([0-9]+(\\.[0-9]+)?S)))?)|(T(([0-9]+H)([0-9]+M)?([0-9]+(\\.[0-9]+)?S)?|([0-9]+M)([0-9]+(\\.[0-9]+)?S)?|([0-9]+(\\.[0-9]+)?S))))$"
);
const TZ: &str = "(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?";
pattern!(G_DAY, format!("^---(0[1-9]|[12][0-9]|3[01]){TZ}$"));
pattern!(G_MONTH, format!("^--(0[1-9]|1[0-2]){TZ}$"));
pattern!(
    G_MONTH_DAY,
    format!("^--(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]){TZ}$")
);
pattern!(G_YEAR, format!("^-?([1-9][0-9]{{3,}}|0[0-9]{{3}}){TZ}$"));
pattern!(
    G_YEAR_MONTH,
    format!("^-?([1-9][0-9]{{3,}}|0[0-9]{{3}})-(0[1-9]|1[0-2]){TZ}$")
);
pattern!(HEX_BINARY, "^([0-9a-fA-F]{2})*$");
pattern!(
    TIME,
    format!("^(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?|(24:00:00(\\.0+)?)){TZ}$")
);
pattern!(INTEGER, "^[-+]?[0-9]+$");
pattern!(NON_NEGATIVE_INTEGER, "^(-0|\\+?[0-9]+)$");
pattern!(POSITIVE_INTEGER, "^\\+?0*[1-9][0-9]*$");
pattern!(NON_POSITIVE_INTEGER, "^(\\+0|0|-[0-9]+)$");
pattern!(NEGATIVE_INTEGER, "^(-0*[1-9][0-9]*)$");

/// The idShort pattern (AASd-002) of `version`.
pub(crate) fn matches_id_short(s: &str, version: Version) -> bool {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let bytes = s.as_bytes();
    let Some((first, rest)) = bytes.split_first() else {
        return false;
    };
    if !first.is_ascii_alphabetic() {
        return false;
    }
    match version {
        Version::V3_0 => rest.iter().all(word),
        Version::V3_1 => match rest.split_last() {
            Some((last, middle)) => word(last) && middle.iter().all(|b| word(b) || *b == b'-'),
            None => false,
        },
    }
}

pub(crate) fn matches_version(s: &str) -> bool {
    VERSION.is_match(s)
}

pub(crate) fn matches_mime_type(s: &str) -> bool {
    MIME_TYPE.is_match(s)
}

pub(crate) fn matches_rfc_2396(s: &str) -> bool {
    RFC_2396.is_match(s)
}

pub(crate) fn matches_bcp_47(s: &str) -> bool {
    BCP_47.is_match(s)
}

pub(crate) fn is_english(language: &str) -> bool {
    ENGLISH.is_match(language)
}

pub(crate) fn matches_duration(s: &str) -> bool {
    DURATION.is_match(s)
}

pub(crate) fn matches_date_time_utc(s: &str) -> bool {
    DATE_TIME_UTC.is_match(s)
}

/// An `xs:dateTime` in UTC whose date exists (29 February only in leap years).
pub(crate) fn is_date_time_utc(s: &str) -> bool {
    matches_date_time_utc(s) && s.split('T').next().is_some_and(date_exists)
}

fn is_leap_year(year: i128) -> bool {
    // XSD counts 1 BCE as year -1; astronomically that is year 0.
    let year = if year < 0 { -year - 1 } else { year };
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Whether the date at the start of `s` (`-?YYYY…-MM-DD`, already matched by a pattern)
/// exists: no year 0, days within the month.
fn date_exists(s: &str) -> bool {
    let (negative, rest) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut parts = rest.splitn(3, '-');
    let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let day: u32 = match day.get(..2).and_then(|d| d.parse().ok()) {
        Some(d) => d,
        None => return false,
    };
    let Ok(month) = month.parse::<u32>() else {
        return false;
    };
    // Years beyond i128 are far beyond any calendar question: only their leap-ness matters,
    // which the last four digits decide.
    let year_value: i128 = match year.parse::<i128>() {
        Ok(y) => y,
        Err(_) => {
            year.get(year.len().saturating_sub(4)..)
                .and_then(|y| y.parse().ok())
                .unwrap_or(1)
                + 10_000
        }
    };
    if year_value == 0 {
        return false;
    }
    let year_value = if negative { -year_value } else { year_value };
    let max_day = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year_value) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=max_day).contains(&day)
}

/// A value of xs:byte, short, int, long or an unsigned one: aas-core's patterns
/// (`^[-+]?0*[0-9]{1,n}$`, unsigned `^(-0|\+?0*[0-9]{1,n})$`, with `n` the digits of the
/// type's largest magnitude) and the range `min..=max`, checked without a regex. The patterns'
/// digit limit needs no check of its own: a number with more significant digits is out of
/// range. (Checking values against their types was a third of verifying the server
/// benchmark's 50 KB submodel, mostly in regex matching; the test
/// `bounded_integers_equal_the_patterns_and_ranges` compares the two.)
fn is_bounded_integer(value: &str, min: i128, max: i128) -> bool {
    let digits = match value.as_bytes().first() {
        Some(b'+') => &value[1..],
        // Unsigned types allow exactly one negative spelling: `-0`.
        Some(b'-') if min >= 0 => return value == "-0",
        Some(b'-') => &value[1..],
        _ => value,
    };
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && integer_in_range(value, min, max)
}

/// An integer literal (already matched by a pattern) within `min..=max`.
fn integer_in_range(s: &str, min: i128, max: i128) -> bool {
    let digits = s.trim_start_matches(['+', '-']).trim_start_matches('0');
    if digits.len() > 38 {
        return false;
    }
    let magnitude: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().unwrap_or(i128::MAX)
    };
    let value = if s.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    (min..=max).contains(&value)
}

fn is_xs_double(s: &str) -> bool {
    DOUBLE.is_match(s) && (matches!(s, "INF" | "-INF") || is_finite_as(s, f64::MAX_10_EXP))
}

fn is_xs_float(s: &str) -> bool {
    DOUBLE.is_match(s) && (matches!(s, "INF" | "-INF") || is_finite_as(s, f32::MAX_10_EXP))
}

/// Whether a number matched by `DOUBLE` stays finite as a binary float whose largest value
/// is below 10^(`max_10_exp` + 1). Most values are far from that bound and are decided by
/// their decimal order of magnitude alone: parsing them (slow for long mantissas) is left to
/// the few within one order of it.
fn is_finite_as(s: &str, max_10_exp: i32) -> bool {
    let parse = || {
        s.parse::<f64>().is_ok_and(|v| {
            !v.is_infinite() && (max_10_exp > f32::MAX_10_EXP || !(v as f32).is_infinite())
        })
    };
    let Some(order) = decimal_order(s) else {
        return parse();
    };
    match order.cmp(&i64::from(max_10_exp)) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Equal => parse(),
        std::cmp::Ordering::Greater => false,
    }
}

/// The decimal order of magnitude of a number literal (`[+-]digits[.digits][(e|E)[+-]digits]`):
/// n such that 10^n ≤ |value| < 10^(n+1). `None` for zero, `NaN` or anything else, which the
/// caller decides by parsing.
fn decimal_order(s: &str) -> Option<i64> {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
        None => (unsigned, "0"),
    };
    let exponent_digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
    if exponent_digits.is_empty() || !exponent_digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Any exponent of more than 18 digits is beyond both bounds either way.
    let magnitude: i64 = match exponent_digits.trim_start_matches('0') {
        digits if digits.len() > 18 => 1 << 62,
        "" => 0,
        digits => digits.parse().ok()?,
    };
    let exponent = if exponent.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !integer
        .bytes()
        .chain(fraction.bytes())
        .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let integer = integer.trim_start_matches('0');
    let order = if integer.is_empty() {
        let leading_zeros = fraction.bytes().position(|b| b != b'0')?;
        -(i64::try_from(leading_zeros).ok()?) - 1
    } else {
        i64::try_from(integer.len()).ok()? - 1
    };
    Some(order.saturating_add(exponent))
}

fn is_xs_g_month_day(s: &str) -> bool {
    if !G_MONTH_DAY.is_match(s) {
        return false;
    }
    let month: u32 = s[2..4].parse().unwrap_or(0);
    let day: u32 = s[5..7].parse().unwrap_or(0);
    let max = match month {
        2 => 29,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= max
}

/// Whether `value` is in the lexical space of `value_type` under the newest version
/// ([`Version::LATEST`]); see [`value_matches_type_as`].
pub fn value_matches_type(value: &str, value_type: DataTypeDefXsd) -> bool {
    value_matches_type_as(value, value_type, Version::LATEST)
}

/// Whether `value` is in the lexical space of `value_type` as `version` defines it (aas-core's
/// `value_consistent_with_xsd_type`). The versions differ only for `xs:anyURI`: an IRI
/// (RFC 3987) in V3.0, a URI (RFC 2396 with RFC 2732) in V3.1, where non-ASCII characters
/// must be percent-encoded.
pub fn value_matches_type_as(value: &str, value_type: DataTypeDefXsd, version: Version) -> bool {
    use DataTypeDefXsd as T;
    match value_type {
        T::AnyUri => match version {
            Version::V3_0 => ANY_URI.is_match(value),
            Version::V3_1 => ANY_URI_V3_1.is_match(value),
        },
        T::Base64Binary => BASE64_BINARY.is_match(value),
        T::Boolean => matches!(value, "true" | "false" | "1" | "0"),
        T::Byte => is_bounded_integer(value, -128, 127),
        T::Date => DATE.is_match(value) && date_exists(value),
        T::DateTime => {
            DATE_TIME.is_match(value) && value.split('T').next().is_some_and(date_exists)
        }
        T::Decimal => DECIMAL.is_match(value),
        T::Double => is_xs_double(value),
        T::Duration => DURATION.is_match(value),
        T::Float => is_xs_float(value),
        T::GDay => G_DAY.is_match(value),
        T::GMonth => G_MONTH.is_match(value),
        T::GMonthDay => is_xs_g_month_day(value),
        T::GYear => G_YEAR.is_match(value),
        T::GYearMonth => G_YEAR_MONTH.is_match(value),
        T::HexBinary => HEX_BINARY.is_match(value),
        T::Int => is_bounded_integer(value, i32::MIN.into(), i32::MAX.into()),
        T::Integer => INTEGER.is_match(value),
        T::Long => is_bounded_integer(value, i64::MIN.into(), i64::MAX.into()),
        T::NegativeInteger => NEGATIVE_INTEGER.is_match(value),
        T::NonNegativeInteger => NON_NEGATIVE_INTEGER.is_match(value),
        T::NonPositiveInteger => NON_POSITIVE_INTEGER.is_match(value),
        T::PositiveInteger => POSITIVE_INTEGER.is_match(value),
        T::Short => is_bounded_integer(value, i16::MIN.into(), i16::MAX.into()),
        T::String => is_xml_serializable(value),
        T::Time => TIME.is_match(value),
        T::UnsignedByte => is_bounded_integer(value, 0, u8::MAX.into()),
        T::UnsignedInt => is_bounded_integer(value, 0, u32::MAX.into()),
        T::UnsignedLong => is_bounded_integer(value, 0, u64::MAX.into()),
        T::UnsignedShort => is_bounded_integer(value, 0, u16::MAX.into()),
    }
}

/// Whether `value` is a non-negative integer literal (AASd-128 list indices).
pub(crate) fn matches_non_negative_integer(value: &str) -> bool {
    NON_NEGATIVE_INTEGER.is_match(value)
}

/// Compares two values of a numeric type (decimal and integer types exactly, double and
/// float as `f64`); `None` when either is not a number of that type or the type is not numeric.
pub(crate) fn compare_numbers(
    a: &str,
    b: &str,
    value_type: DataTypeDefXsd,
) -> Option<std::cmp::Ordering> {
    use DataTypeDefXsd as T;
    match value_type {
        T::Double | T::Float => {
            let (x, y) = (parse_xs_float(a)?, parse_xs_float(b)?);
            x.partial_cmp(&y)
        }
        T::Decimal
        | T::Integer
        | T::Long
        | T::Int
        | T::Short
        | T::Byte
        | T::NonNegativeInteger
        | T::PositiveInteger
        | T::NonPositiveInteger
        | T::NegativeInteger
        | T::UnsignedLong
        | T::UnsignedInt
        | T::UnsignedShort
        | T::UnsignedByte => {
            if !(value_matches_type(a, value_type) && value_matches_type(b, value_type)) {
                return None;
            }
            Some(compare_decimals(a, b))
        }
        _ => None,
    }
}

fn parse_xs_float(s: &str) -> Option<f64> {
    match s {
        "INF" => Some(f64::INFINITY),
        "-INF" => Some(f64::NEG_INFINITY),
        "NaN" => None,
        _ if DOUBLE.is_match(s) => s.parse().ok(),
        _ => None,
    }
}

/// Compares two decimal literals (`[+-]?digits[.digits]`) exactly, at any length.
fn compare_decimals(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn split(s: &str) -> (bool, &str, &str) {
        let negative = s.starts_with('-');
        let s = s.trim_start_matches(['+', '-']);
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        (
            negative,
            int.trim_start_matches('0'),
            frac.trim_end_matches('0'),
        )
    }
    fn magnitude((_, ai, af): (bool, &str, &str), (_, bi, bf): (bool, &str, &str)) -> Ordering {
        ai.len()
            .cmp(&bi.len())
            .then_with(|| ai.cmp(bi))
            .then_with(|| af.cmp(bf))
    }
    let (x, y) = (split(a), split(b));
    let zero = |(_, i, f): (bool, &str, &str)| i.is_empty() && f.is_empty();
    let sign = |v: (bool, &str, &str)| {
        if zero(v) {
            0
        } else if v.0 {
            -1
        } else {
            1
        }
    };
    match sign(x).cmp(&sign(y)) {
        Ordering::Equal if sign(x) < 0 => magnitude(y, x),
        Ordering::Equal => magnitude(x, y),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn every_pattern_compiles() {
        for re in [
            &ANY_URI_V3_1,
            &VERSION,
            &DATE_TIME_UTC,
            &DATE,
            &DATE_TIME,
            &MIME_TYPE,
            &RFC_2396,
            &BCP_47,
            &ENGLISH,
            &ANY_URI,
            &BASE64_BINARY,
            &DECIMAL,
            &DOUBLE,
            &DURATION,
            &G_DAY,
            &G_MONTH,
            &G_MONTH_DAY,
            &G_YEAR,
            &G_YEAR_MONTH,
            &HEX_BINARY,
            &TIME,
            &INTEGER,
            &NON_NEGATIVE_INTEGER,
            &POSITIVE_INTEGER,
            &NON_POSITIVE_INTEGER,
            &NEGATIVE_INTEGER,
        ] {
            let _ = re.is_match("");
        }
    }

    /// Every string of up to 5 characters over an alphabet with each class the patterns tell
    /// apart, and the boundary values of each type with and without leading zeros: the
    /// hand-written checks of the bounded integer types and xs:boolean agree with aas-core's
    /// patterns (and the ranges).
    #[test]
    fn bounded_integers_equal_the_patterns_and_ranges() {
        use DataTypeDefXsd as T;
        let types: [(T, &str, i128, i128); 8] = [
            (T::Byte, "^[-+]?0*[0-9]{1,3}$", -128, 127),
            (
                T::Short,
                "^[-+]?0*[0-9]{1,5}$",
                i16::MIN.into(),
                i16::MAX.into(),
            ),
            (
                T::Int,
                "^[-+]?0*[0-9]{1,10}$",
                i32::MIN.into(),
                i32::MAX.into(),
            ),
            (
                T::Long,
                "^[-+]?0*[0-9]{1,20}$",
                i64::MIN.into(),
                i64::MAX.into(),
            ),
            (
                T::UnsignedByte,
                "^(-0|\\+?0*[0-9]{1,3})$",
                0,
                u8::MAX.into(),
            ),
            (
                T::UnsignedShort,
                "^(-0|\\+?0*[0-9]{1,5})$",
                0,
                u16::MAX.into(),
            ),
            (
                T::UnsignedInt,
                "^(-0|\\+?0*[0-9]{1,10})$",
                0,
                u32::MAX.into(),
            ),
            (
                T::UnsignedLong,
                "^(-0|\\+?0*[0-9]{1,20})$",
                0,
                u64::MAX.into(),
            ),
        ];
        let alphabet = ['0', '1', '9', '+', '-', ' ', 'a', '.'];
        let mut values = vec![String::new()];
        for length in 1..=5 {
            let mut of_length = vec![String::new()];
            for _ in 0..length {
                of_length = of_length
                    .iter()
                    .flat_map(|prefix| alphabet.iter().map(move |c| format!("{prefix}{c}")))
                    .collect();
            }
            values.extend(of_length);
        }
        for (_, _, min, max) in types {
            for bound in [min - 1, min, max, max + 1, 0] {
                for spelled in [
                    bound.to_string(),
                    format!("+{bound}"),
                    format!("{}{:0>25}", if bound < 0 { "-" } else { "" }, bound.abs()),
                ] {
                    values.push(spelled);
                }
            }
        }
        values.extend(
            [
                "-00",
                "+-1",
                "1\n",
                "\u{0661}",
                "00000000000000000000000001",
            ]
            .map(String::from),
        );
        for (value_type, pattern, min, max) in types {
            let re = compile(pattern);
            for value in &values {
                let expected = re.is_match(value) && integer_in_range(value, min, max);
                assert_eq!(
                    value_matches_type_as(value, value_type, Version::V3_0),
                    expected,
                    "{value:?} as {value_type:?}"
                );
            }
        }
        let boolean = compile("^(true|false|1|0)$");
        for value in &values {
            assert_eq!(
                value_matches_type_as(value, T::Boolean, Version::V3_0),
                boolean.is_match(value),
                "{value:?} as xs:boolean"
            );
        }
        for value in ["true", "false", "1", "0"] {
            assert!(value_matches_type_as(value, T::Boolean, Version::V3_0));
        }
    }

    /// Every string of up to 4 characters over an alphabet with each class the patterns tell
    /// apart (and a non-ASCII letter): the hand-written idShort check agrees with the patterns.
    #[test]
    fn id_short_check_equals_the_patterns_of_both_versions() {
        let v3_0 = compile("^[a-zA-Z][a-zA-Z0-9_]*$");
        let v3_1 = compile("^[a-zA-Z][a-zA-Z0-9_-]*[a-zA-Z0-9_]+$");
        let alphabet = ['a', 'Z', '0', '9', '_', '-', ' ', '.', 'é', '\n'];
        let mut strings = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            strings.extend(last.iter().cloned());
        }
        for s in &strings {
            assert_eq!(
                matches_id_short(s, Version::V3_0),
                v3_0.is_match(s),
                "{s:?} as V3.0"
            );
            assert_eq!(
                matches_id_short(s, Version::V3_1),
                v3_1.is_match(s),
                "{s:?} as V3.1"
            );
        }
    }

    /// The order-of-magnitude shortcut of xs:double and xs:float decides as parsing does, near
    /// both bounds and far from them.
    #[test]
    fn double_and_float_range_shortcut_equals_parsing() {
        let by_parsing = |s: &str, float: bool| {
            matches!(s, "INF" | "-INF")
                || s.parse::<f64>()
                    .is_ok_and(|v| !v.is_infinite() && (!float || !(v as f32).is_infinite()))
        };
        let mut values = vec![
            "0".to_owned(),
            "-0.0".into(),
            ".5".into(),
            "1.".into(),
            "NaN".into(),
            "INF".into(),
            "1e400".into(),
            "1e-400".into(),
            "0.0000e999999999999999999999".into(),
            "1e99999999999999999999999".into(),
            "-1E-99999999999999999999999".into(),
        ];
        for mantissa in [
            "1",
            "1.7976931348623157",
            "1.7976931348623159",
            "17.9769",
            "0.179769",
            "3.4028234",
            "3.4028236",
            "0.00034028236",
            "9.99999",
            "000123.456",
        ] {
            for exponent in [
                36, 37, 38, 39, 40, 300, 304, 305, 306, 307, 308, 309, 310, -40, -330,
            ] {
                values.push(format!("{mantissa}e{exponent}"));
                values.push(format!("-{mantissa}E{exponent:+}"));
            }
        }
        for value in &values {
            assert!(DOUBLE.is_match(value), "{value}");
            assert_eq!(
                is_xs_double(value),
                by_parsing(value, false),
                "{value} as xs:double"
            );
            assert_eq!(
                is_xs_float(value),
                by_parsing(value, true),
                "{value} as xs:float"
            );
        }
    }

    #[test]
    fn february_29_exists_only_in_leap_years() {
        assert!(value_matches_type("2024-02-29", DataTypeDefXsd::Date));
        assert!(!value_matches_type("2023-02-29", DataTypeDefXsd::Date));
        assert!(!value_matches_type("1900-02-29", DataTypeDefXsd::Date));
        assert!(value_matches_type("2000-02-29", DataTypeDefXsd::Date));
        // -0001 is 1 BCE, astronomical year 0: a leap year.
        assert!(value_matches_type("-0001-02-29", DataTypeDefXsd::Date));
        assert!(!value_matches_type("-0002-02-29", DataTypeDefXsd::Date));
        assert!(!value_matches_type("0000-01-01", DataTypeDefXsd::Date));
        assert!(!is_date_time_utc("2023-02-29T00:00:00Z"));
        assert!(is_date_time_utc("2024-02-29T24:00:00Z"));
        assert!(!is_date_time_utc("2024-02-28T00:00:00+01:00"));
    }

    #[test]
    fn integer_types_check_their_ranges() {
        assert!(value_matches_type("127", DataTypeDefXsd::Byte));
        assert!(!value_matches_type("128", DataTypeDefXsd::Byte));
        assert!(value_matches_type("-0000000128", DataTypeDefXsd::Byte));
        assert!(value_matches_type(
            "18446744073709551615",
            DataTypeDefXsd::UnsignedLong
        ));
        assert!(!value_matches_type(
            "18446744073709551616",
            DataTypeDefXsd::UnsignedLong
        ));
        assert!(value_matches_type("-0", DataTypeDefXsd::UnsignedInt));
        assert!(!value_matches_type("-1", DataTypeDefXsd::UnsignedInt));
        assert!(value_matches_type(
            "-9223372036854775808",
            DataTypeDefXsd::Long
        ));
        assert!(!value_matches_type(
            "9223372036854775808",
            DataTypeDefXsd::Long
        ));
        assert!(value_matches_type(
            "123456789012345678901234567890",
            DataTypeDefXsd::Integer
        ));
    }

    #[test]
    fn floats_refuse_overflow_and_wrong_spellings() {
        assert!(value_matches_type(
            "1.7976931348623157e308",
            DataTypeDefXsd::Double
        ));
        assert!(!value_matches_type("1e309", DataTypeDefXsd::Double));
        assert!(value_matches_type("-INF", DataTypeDefXsd::Double));
        assert!(!value_matches_type("inf", DataTypeDefXsd::Double));
        assert!(!value_matches_type("nan", DataTypeDefXsd::Float));
        assert!(value_matches_type("3.4028235e38", DataTypeDefXsd::Float));
        assert!(!value_matches_type("3.5e38", DataTypeDefXsd::Float));
        assert!(value_matches_type("1.", DataTypeDefXsd::Double));
    }

    #[test]
    fn strings_other_types_and_languages() {
        assert!(value_matches_type(
            "P1Y2M3DT5H20M30.123S",
            DataTypeDefXsd::Duration
        ));
        assert!(!value_matches_type("P", DataTypeDefXsd::Duration));
        assert!(value_matches_type("--02-29", DataTypeDefXsd::GMonthDay));
        assert!(!value_matches_type("--04-31", DataTypeDefXsd::GMonthDay));
        assert!(value_matches_type("0F+40A==", DataTypeDefXsd::Base64Binary));
        assert!(!value_matches_type("0F+40A=", DataTypeDefXsd::Base64Binary));
        assert!(!value_matches_type("abc", DataTypeDefXsd::HexBinary));
        assert!(value_matches_type(
            "https://example.com/a b",
            DataTypeDefXsd::String
        ));
        assert!(!value_matches_type(
            "https://example.com/a b",
            DataTypeDefXsd::AnyUri
        ));
        assert!(!value_matches_type("a\u{1}", DataTypeDefXsd::String));
        assert!(!value_matches_type("true\n", DataTypeDefXsd::Boolean));
        assert!(
            matches_bcp_47("zh-CN-a-myext-x-private")
                && matches_bcp_47("en-GB-oed")
                && !matches_bcp_47("e")
        );
        assert!(matches_mime_type("text/plain; charset=\"utf-8\"") && !matches_mime_type("text"));
        assert!(matches_rfc_2396("file:///a/b%20c.pdf") && !matches_rfc_2396("a b"));
        assert!(is_xml_serializable("ok\t\u{10FFFF}") && !is_xml_serializable("\u{FFFE}"));
    }

    #[test]
    fn numbers_compare_exactly() {
        use DataTypeDefXsd as T;
        assert_eq!(
            compare_numbers("10", "9", T::Integer),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare_numbers("-10", "-9", T::Integer),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare_numbers("0.10", "+.1", T::Decimal),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare_numbers("-0", "0", T::Decimal),
            Some(Ordering::Equal)
        );
        assert_eq!(
            compare_numbers("1.05", "1.5", T::Decimal),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare_numbers(
                "12345678901234567890123",
                "12345678901234567890124",
                T::Integer
            ),
            Some(Ordering::Less)
        );
        assert_eq!(
            compare_numbers("-INF", "1e3", T::Double),
            Some(Ordering::Less)
        );
        assert_eq!(compare_numbers("NaN", "1", T::Double), None);
        assert_eq!(compare_numbers("a", "1", T::Int), None);
        assert_eq!(compare_numbers("2020", "2021", T::GYear), None);
    }
}
