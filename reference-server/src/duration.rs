//! Durations in settings: whole seconds (`3600`), or a number with a unit `s`, `m`, `h` or
//! `d` (`90m`, `24h`, `7d`). In the configuration file either a string or an integer (seconds).

use std::time::Duration;

use serde::Deserialize;

/// Why a duration setting is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a duration: seconds, or a number with s, m, h or d (e.g. 90m, 24h)")]
pub struct DurationError(pub String);

/// Reads `3600`, `3600s`, `90m`, `24h` or `7d`.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let bad = || DurationError(text.to_owned());
    let trimmed = text.trim();
    let (number, unit) = match trimmed.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => trimmed.split_at(at),
        None => (trimmed, "s"),
    };
    let seconds_per_unit: u64 = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    let number: u64 = number.parse().map_err(|_| bad())?;
    number
        .checked_mul(seconds_per_unit)
        .map(Duration::from_secs)
        .ok_or_else(bad)
}

/// A duration in the configuration file: `"24h"` or `86400`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationSetting(pub Duration);

impl<'de> Deserialize<'de> for DurationSetting {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Seconds(u64),
            Text(String),
        }
        match Written::deserialize(deserializer)? {
            Written::Seconds(seconds) => Ok(Self(Duration::from_secs(seconds))),
            Written::Text(text) => parse(&text).map(Self).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_seconds_or_a_number_with_a_unit() {
        assert_eq!(parse("3600"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse("90m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("7d"), Ok(Duration::from_secs(604_800)));
        for bad in [
            "",
            "h",
            "24 hours",
            "1.5h",
            "-1",
            "24H",
            "99999999999999999999d",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_file_takes_a_string_or_seconds() -> Result<(), toml::de::Error> {
        #[derive(Deserialize)]
        struct File {
            a: DurationSetting,
            b: DurationSetting,
        }
        let file: File = toml::from_str("a = \"90m\"\nb = 60\n")?;
        assert_eq!(
            (file.a.0, file.b.0),
            (Duration::from_secs(5400), Duration::from_secs(60))
        );
        assert!(toml::from_str::<File>("a = \"soon\"\nb = 1\n").is_err());
        Ok(())
    }
}
