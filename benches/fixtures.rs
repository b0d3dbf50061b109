//! Request bodies shared by the benches: the test fixtures, and a large generated one.
#![allow(dead_code)]

pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A minimal Play Builder test call.
pub fn minimal() -> Vec<u8> {
    fixture("play_builder")
}

/// A typical Private Play request: enrolled user, AudioPlayer context, a few parameters.
pub fn typical() -> Vec<u8> {
    fixture("private_play_full")
}

/// A large request (~16 KB): the typical one with many more parameters.
pub fn large() -> Vec<u8> {
    let mut request: serde_json::Value = serde_json::from_slice(&typical()).unwrap();
    let parameters = request["action"]["parameters"].as_object_mut().unwrap();
    for i in 0..200 {
        parameters.insert(
            format!("backendParameter{i:03}"),
            serde_json::json!({"type": "BID_QT_COUNT", "value": format!("값 {i}")}),
        );
    }
    serde_json::to_vec(&request).unwrap()
}
