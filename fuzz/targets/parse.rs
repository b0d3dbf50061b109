// The `parse` fuzz target's logic, shared by `fuzz/fuzz_targets/parse.rs` (libFuzzer, nightly)
// and `tests/fuzz_corpus.rs` (the corpus replay on stable): both `include!` this file, so it
// holds items only (no inner attributes) and names paths relative to itself.
//
// Arbitrary bytes go into `ActionRequest::from_bytes`. Besides "never panics", it checks:
// - the scanner + serde fallback agrees with plain serde (`serde_json::from_str`) on
//   accept/reject (a body must also read as a `serde_json::Value`: what the layer forwards, a
//   handler reads), and when both accept, on the serialized value, on `Debug` and on the raw
//   fragments' text (kept "exactly as it arrived");
// - a body that is not UTF-8 is refused (JSON is UTF-8; serde_json alone lets invalid UTF-8
//   through inside strings it skips, so it is no oracle there);
// - a parsed request serializes, and that JSON parses back to the same value;
// - `Debug` of a request does not depend on its credentials (`userToken`, `accessToken`) nor on
//   the personal `tag`: two requests differing only in those values print the same. This is the
//   property "Debug never shows the token"; a substring search would fire falsely on a short
//   token such as "a". The speaker's identifiers (`deviceUniqueId`, `userKey`, `deviceKey`) show
//   as a short prefix and their length: two requests whose identifiers differ only after
//   `Truncated::MAX_PREFIX` characters, at the same length, print the same.

use bytes::Bytes;
use nugu_proxy::request::mask::Truncated;
use nugu_proxy::ActionRequest;
use serde_json::Value;

/// Where the credentials and the tag sit in a request; `Debug` must show nothing of them.
const HIDDEN: [&[&str]; 3] = [
    &["profile", "privatePlay", "enrolledUser", "userToken"],
    &["context", "session", "accessToken"],
    &["profile", "privatePlay", "enrolledUser", "tag"],
];

/// Where the speaker's identifiers sit; `Debug` shows a prefix and the length only.
const TRUNCATED: [&[&str]; 3] = [
    &["profile", "privatePlay", "deviceUniqueId"],
    &["profile", "privatePlay", "userKey"],
    &["profile", "privatePlay", "deviceKey"],
];

pub fn run(data: &[u8]) {
    let parsed = ActionRequest::from_bytes(Bytes::copy_from_slice(data));
    if let Err(error) = &parsed {
        // Formatting an error must not panic either.
        let _ = (error.to_string(), format!("{error:?}"), error.path());
    }
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(parsed.is_err(), "a body that is not UTF-8 was accepted");
        return;
    };
    let reference = serde_json::from_str::<ActionRequest>(text)
        .and_then(|r| serde_json::from_str::<Value>(text).map(|_| r));
    let request = match (parsed, reference) {
        (Err(_), Err(_)) => return,
        (Ok(_), Err(e)) => panic!("from_bytes accepted what serde rejects: {e}"),
        (Err(e), Ok(_)) => panic!("from_bytes rejected what serde accepts: {e}"),
        (Ok(fast), Ok(slow)) => {
            assert_same(&fast, &slow);
            fast
        }
    };
    let _ = format!("{request:?}");

    // Serialize and parse again: the same request.
    let json = serde_json::to_vec(&request).expect("a parsed request serializes");
    let again = ActionRequest::from_bytes(Bytes::from(json)).expect("a serialized request parses");
    assert_eq!(
        serde_json::to_value(&request).ok(),
        serde_json::to_value(&again).ok(),
        "serialize then parse changed the request"
    );

    check_debug_hides_credentials(&request);
}

/// The scanner's result and serde's are the same request.
fn assert_same(fast: &ActionRequest, slow: &ActionRequest) {
    // `to_value` fails on what serde_json's `Value` cannot hold (a number such as 1e400 in a
    // raw part): then both must fail.
    let (a, b) = (serde_json::to_value(fast), serde_json::to_value(slow));
    assert_eq!(
        a.is_ok(),
        b.is_ok(),
        "to_value: {:?} vs {:?}",
        a.err(),
        b.err()
    );
    if let (Ok(a), Ok(b)) = (a, b) {
        assert_eq!(a, b, "from_bytes and serde parsed different requests");
    }
    assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "Debug differs");
    let raw = |r: &ActionRequest| {
        [
            r.event().map(|j| j.get().to_owned()),
            r.context()
                .supported_interfaces()
                .map(|j| j.get().to_owned()),
            r.context().private_play().map(|j| j.get().to_owned()),
            r.context().device().state().map(|j| j.get().to_owned()),
        ]
    };
    assert_eq!(raw(fast), raw(slow), "raw JSON fragments differ");
}

fn check_debug_hides_credentials(request: &ActionRequest) {
    let Ok(value) = serde_json::to_value(request) else {
        return;
    };
    let mut has_hidden = false;
    let variant = |fill: char| {
        let mut v = value.clone();
        for path in HIDDEN {
            if let Some(Value::String(s)) = pointer_mut(&mut v, path) {
                // Different contents and lengths, so neither can hide in the other's output.
                *s = fill.to_string().repeat(s.len() + 1);
            }
        }
        for path in TRUNCATED {
            if let Some(Value::String(s)) = pointer_mut(&mut v, path) {
                // The same prefix and length, different contents after the prefix.
                let kept = s.chars().take(Truncated::MAX_PREFIX);
                let filled = s.chars().skip(Truncated::MAX_PREFIX).map(|_| fill);
                *s = kept.chain(filled).collect();
            }
        }
        serde_json::from_value::<ActionRequest>(v).expect("a request with other tokens parses")
    };
    for path in HIDDEN.iter().chain(&TRUNCATED) {
        let mut v = value.clone();
        has_hidden |= matches!(pointer_mut(&mut v, path), Some(Value::String(_)));
    }
    if !has_hidden {
        return;
    }
    let original = serde_json::from_value::<ActionRequest>(value.clone()).expect("re-parse");
    let (a, b) = (variant('A'), variant('b'));
    let shown = format!("{original:?}");
    assert_eq!(
        shown,
        format!("{a:?}"),
        "Debug depends on a credential's or an identifier's value"
    );
    assert_eq!(
        shown,
        format!("{b:?}"),
        "Debug depends on a credential's or an identifier's value"
    );
}

fn pointer_mut<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter()
        .try_fold(value, |v, key| v.as_object_mut()?.get_mut(*key))
}
