//! The library crates' docs as docs.rs and crates.io show them (issue 25): each crate's README
//! is its crate docs and opens with an example that runs as a doctest, undocumented public
//! items are linted, docs.rs builds with every feature and marks what needs one, and a module
//! is either public or re-exported flat, never both (one path per item).
//!
//! That the examples run is the doc-test step's job (`cargo test --doc`, which runs the README
//! through `include_str!`); this test checks that the first example is one it runs.

use std::path::{Path, PathBuf};

const LIBRARY_CRATES: [&str; 5] = [
    "aas-model",
    "aas-serde",
    "push-core",
    "events-core",
    "sdt-core",
];

fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The lines of `lib.rs` that open an inner attribute (`#![...]`), joined.
fn inner_attributes(lib: &str) -> String {
    lib.lines()
        .filter(|line| line.starts_with("#!["))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The info string of the first fenced code block and the headings before it.
fn first_code_block(readme: &str) -> Option<(String, Vec<String>)> {
    let mut headings = Vec::new();
    for line in readme.lines() {
        if let Some(info) = line.strip_prefix("```") {
            return Some((info.trim().to_owned(), headings));
        }
        if line.starts_with('#') {
            headings.push(line.to_owned());
        }
    }
    None
}

#[test]
fn every_library_crate_readme_is_its_crate_docs_and_opens_with_a_running_example() {
    for name in LIBRARY_CRATES {
        let dir = crate_dir(name);
        let lib = read(&dir.join("src/lib.rs"));
        assert!(
            inner_attributes(&lib).contains("#![doc = include_str!(\"../README.md\")]"),
            "{name}: lib.rs does not take its crate docs from README.md"
        );
        let readme = read(&dir.join("README.md"));
        let (info, headings) =
            first_code_block(&readme).unwrap_or_else(|| panic!("{name}: README has no example"));
        // rustdoc runs a block whose info string is empty or `rust` (plus attributes such as
        // `edition2024`); `no_run`, `ignore`, `compile_fail`, `text` and other languages are not
        // run.
        let runs = info
            .split(',')
            .map(str::trim)
            .filter(|attribute| !attribute.is_empty())
            .all(|attribute| attribute == "rust" || attribute.starts_with("edition"));
        assert!(
            runs,
            "{name}: the README's first example ```{info} is not run as a doctest"
        );
        // The title, and at most a heading that names the example, come before it.
        let sections: Vec<&String> = headings
            .iter()
            .filter(|h| h.starts_with("##") && !h.to_lowercase().contains("example"))
            .collect();
        assert!(
            sections.is_empty(),
            "{name}: sections {sections:?} come before the first example"
        );
    }
}

#[test]
fn every_library_crate_lints_undocumented_and_unreachable_public_items() {
    for name in LIBRARY_CRATES {
        let attributes = inner_attributes(&read(&crate_dir(name).join("src/lib.rs")));
        for lint in ["missing_docs", "unreachable_pub"] {
            // warn, turned into errors by the test command's clippy `-D warnings`, or deny.
            let linted = attributes
                .lines()
                .filter(|line| line.starts_with("#![warn(") || line.starts_with("#![deny("))
                .any(|line| line.contains(lint));
            assert!(linted, "{name}: lib.rs does not lint {lint}");
        }
    }
}

#[test]
fn every_library_crate_builds_on_docs_rs_with_every_feature_marked() {
    for name in LIBRARY_CRATES {
        let dir = crate_dir(name);
        let manifest = read(&dir.join("Cargo.toml"));
        let metadata = manifest
            .split("[package.metadata.docs.rs]")
            .nth(1)
            .unwrap_or_else(|| panic!("{name}: no [package.metadata.docs.rs]"));
        let metadata = metadata.split("\n[").next().unwrap_or_default();
        assert!(
            metadata.contains("all-features = true"),
            "{name}: docs.rs does not build every feature"
        );
        assert!(
            metadata.contains(r#"rustdoc-args = ["--cfg", "docsrs"]"#),
            "{name}: docs.rs does not set --cfg docsrs"
        );
        let attributes = inner_attributes(&read(&dir.join("src/lib.rs")));
        assert!(
            attributes.contains("#![cfg_attr(docsrs, feature(doc_cfg))]"),
            "{name}: docs.rs builds do not mark feature-gated items (doc_cfg)"
        );
    }
}

/// A module is part of the API by design (`pub mod json;`, its items used as `json::…`) or
/// private with its items re-exported at the root; one that is both gives its items two
/// paths.
#[test]
fn no_library_module_is_both_public_and_re_exported() {
    for name in LIBRARY_CRATES {
        let lib = read(&crate_dir(name).join("src/lib.rs"));
        let public: Vec<&str> = lib
            .lines()
            .filter_map(|line| line.trim().strip_prefix("pub mod "))
            .map(|rest| rest.trim_end_matches(';').trim())
            .collect();
        for line in lib.lines().map(str::trim) {
            if let Some(path) = line.strip_prefix("pub use ") {
                let path = path
                    .trim_start_matches("crate::")
                    .trim_start_matches("self::");
                let module = path.split("::").next().unwrap_or_default();
                assert!(
                    !public.contains(&module),
                    "{name}: module {module} is public and also re-exported ({line})"
                );
            }
        }
    }
}
