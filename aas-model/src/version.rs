//! Which version of the metamodel a model is read, verified or written as.

use std::fmt;

/// A version of the AAS metamodel (IDTA-01001 Part 1).
///
/// One model type holds every version (V3.1 is almost a superset of V3.0: fields V3.0
/// requires are `Option` here, and `AssetKind::Role` exists); the version decides which values
/// are valid ([`verify_as`](crate::verify_as)), how XML is named and which JSON a reader
/// accepts. A future version is one more variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
pub enum Version {
    /// AAS V3.0 (IDTA-01001-3-0, XML namespace `https://admin-shell.io/aas/3/0`).
    V3_0,
    /// AAS V3.1 (IDTA-01001-3-1, XML namespace `https://admin-shell.io/aas/3/1`): the newest,
    /// and the default.
    #[default]
    V3_1,
}

impl Version {
    /// Every supported version, oldest first.
    pub const ALL: &'static [Version] = &[Version::V3_0, Version::V3_1];

    /// The newest supported version (what `verify` and the readers use when not told).
    pub const LATEST: Version = Version::V3_1;

    /// The version as people write it: `"3.0"`, `"3.1"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Version::V3_0 => "3.0",
            Version::V3_1 => "3.1",
        }
    }

    /// The namespace of the version's XML mapping.
    pub const fn xml_namespace(self) -> &'static str {
        match self {
            Version::V3_0 => "https://admin-shell.io/aas/3/0",
            Version::V3_1 => "https://admin-shell.io/aas/3/1",
        }
    }

    /// The version whose XML namespace this is.
    pub fn from_xml_namespace(namespace: &str) -> Option<Version> {
        Version::ALL
            .iter()
            .copied()
            .find(|v| v.xml_namespace() == namespace)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of parsing a [`Version`]: not one this crate supports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("AAS version {0:?} is not supported; use 3.0 or 3.1")]
pub struct UnknownVersion(pub String);

impl std::str::FromStr for Version {
    type Err = UnknownVersion;

    /// `3.0`, `3.1`, also written `V3.0`, `v3.1`, `3_1`.
    fn from_str(s: &str) -> Result<Version, UnknownVersion> {
        let trimmed = s.trim();
        let bare = trimmed
            .strip_prefix(['v', 'V'])
            .unwrap_or(trimmed)
            .replace('_', ".");
        Version::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == bare)
            .ok_or_else(|| UnknownVersion(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_the_forms_people_write() {
        for text in ["3.1", "V3.1", "v3.1", "3_1", " 3.1 "] {
            assert_eq!(text.parse::<Version>(), Ok(Version::V3_1), "{text}");
        }
        assert_eq!("3.0".parse::<Version>(), Ok(Version::V3_0));
        assert!("2.0".parse::<Version>().is_err());
        assert_eq!(Version::default(), Version::LATEST);
        assert_eq!(
            Version::from_xml_namespace("https://admin-shell.io/aas/3/1"),
            Some(Version::V3_1)
        );
    }
}
