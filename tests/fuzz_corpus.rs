//! Replays the fuzz corpus on stable: every file of `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` goes through the same `run` that the libFuzzer target calls
//! (`fuzz/targets/<target>.rs`, included here). The fuzzing itself is `scripts/fuzz`.

use std::path::{Path, PathBuf};

mod parse {
    include!("../fuzz/targets/parse.rs");
}

mod layer {
    include!("../fuzz/targets/layer.rs");
}

/// The inputs of `target`, in a stable order, with the path for the failure message.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let hidden = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if path.is_file() && !hidden {
                files.push(path);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let data = std::fs::read(&path).unwrap();
            (path, data)
        })
        .collect()
}

fn replay(target: &str, run: fn(&[u8])) {
    let inputs = inputs(target);
    // An empty or missing corpus would make this test pass without testing anything.
    assert!(
        inputs.len() >= 10,
        "fuzz/corpus/{target} holds only {} inputs",
        inputs.len()
    );
    for (path, data) in &inputs {
        let outcome = std::panic::catch_unwind(|| run(data));
        assert!(outcome.is_ok(), "{} fails", path.display());
    }
}

#[test]
fn parse_corpus() {
    replay("parse", parse::run);
}

#[test]
fn layer_corpus() {
    replay("layer", layer::run);
}
