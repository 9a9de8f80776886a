//! `docs/asyncapi.json` is generated from the `contracts` crate (`contracts::asyncapi::document()`:
//! payload schemas from the Rust types, channels from the subjects, streams and consumers from
//! `nats/`). This test fails when the committed file is stale; regenerate it with
//!
//!     UPDATE_DOCS=1 cargo test -p e2e --test asyncapi

use std::path::{Path, PathBuf};

fn committed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace root")
        .join(contracts::asyncapi::PATH)
}

fn rendered() -> String {
    let mut text = serde_json::to_string_pretty(&contracts::asyncapi::document())
        .expect("the document serialises");
    text.push('\n');
    text
}

#[test]
fn the_committed_asyncapi_document_is_generated_from_the_contracts() {
    let path = committed_path();
    let expected = rendered();
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&path, &expected)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        eprintln!("rewrote {}", path.display());
        return;
    }
    let how = "regenerate it with `UPDATE_DOCS=1 cargo test -p e2e --test asyncapi` and commit it";
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}; {how}", path.display()));
    let committed: serde_json::Value = serde_json::from_str(&committed)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}; {how}", path.display()));
    let generated = contracts::asyncapi::document();
    if committed != generated {
        let first_difference = expected
            .lines()
            .zip(std::fs::read_to_string(&path).unwrap_or_default().lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (want, have))| {
                format!(
                    "\n  first differing line {}:\n    committed: {have}\n    generated: {want}",
                    i + 1
                )
            })
            .unwrap_or_default();
        panic!(
            "{} is out of date with the contracts crate{first_difference}\n{how}",
            path.display()
        );
    }
}
