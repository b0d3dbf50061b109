//! Heap allocations the crate makes per request, which issue 15's budget counts on: a parse
//! makes one, the request's `Arc`, for a request with up to eight parameters; the layer's values
//! fit in the extensions the server gives each request without growing them. A counting global
//! allocator, per thread, so that the test harness's own threads do not count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use nugu_proxy::layer::Authentication;
use nugu_proxy::transport::{ConnectionInfo, Transport};
use nugu_proxy::ActionRequest;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the thread's slot may be gone while the thread shuts down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is passed unchanged to the system allocator; this only counts them.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations `ActionRequest::from_bytes` makes on `body` (a static body: cloning it
/// allocates nothing, as for the layer's body bytes).
fn allocations(body: &'static [u8]) -> usize {
    let body = Bytes::from_static(body);
    let before = ALLOCATIONS.with(Cell::get);
    let request = ActionRequest::from_bytes(body).unwrap();
    let after = ALLOCATIONS.with(Cell::get);
    drop(request);
    after - before
}

#[test]
fn a_parse_allocates_once() {
    for (name, body) in [
        ("minimal", &include_bytes!("fixtures/play_builder.json")[..]),
        (
            "typical",
            &include_bytes!("fixtures/private_play_full.json")[..],
        ),
        ("no parameters", br#"{"action":{"actionName":"a"}}"#),
        (
            "eight parameters",
            br#"{"version":"2.0","action":{"actionName":"a","parameters":{
                "a":{"value":"1"},"b":{"value":"2"},"c":{"value":"3"},"d":{"value":"4"},
                "e":{"value":"5"},"f":{"value":"6"},"g":{"value":"7"},"h":null}},"context":{}}"#,
        ),
    ] {
        assert_eq!(allocations(body), 1, "{name}");
    }
}

#[test]
fn more_parameters_than_fit_inline_are_still_parsed() {
    let params: Vec<String> = (0..9)
        .map(|i| format!(r#""p{i}":{{"value":"{i}"}}"#))
        .collect();
    let body = format!(
        r#"{{"action":{{"actionName":"a","parameters":{{{}}}}}}}"#,
        params.join(",")
    );
    let request = ActionRequest::from_slice(&body).unwrap();
    assert_eq!(request.parameters().len(), 9);
    assert_eq!(request.parameters().value("p8"), Some("8"));
    // The ninth parameter moves them all into an allocation of their own: two in all.
    let body: &'static [u8] = Box::leak(body.into_bytes().into_boxed_slice());
    assert_eq!(allocations(body), 2);
}

#[test]
fn the_layers_four_values_fit_in_the_extensions_a_connection_gives_each_request() {
    let proxy = "10.0.0.2:443".parse().unwrap();
    let template =
        ConnectionInfo::new(proxy, Transport::TrustedProxy { proxy }).request_extensions();
    let action = ActionRequest::from_bytes(Bytes::from_static(include_bytes!(
        "fixtures/private_play_full.json"
    )))
    .unwrap();
    let play = action.private_play().unwrap().clone();
    let user = play.enrolled_user().unwrap().clone();

    let mut extensions = template.clone();
    let before = ALLOCATIONS.with(Cell::get);
    // What `PrivatePlayLayer` inserts for a Private Play request.
    extensions.insert(user);
    extensions.insert(play);
    extensions.insert(Authentication::ApiKey);
    extensions.insert(action);
    let after = ALLOCATIONS.with(Cell::get);
    // One box per value (`http::Extensions` boxes each) and no growth of the map; a map that
    // held only the `ConnectionInfo` would grow at the third insert.
    assert_eq!(after - before, 4);
    assert!(extensions.get::<ConnectionInfo>().is_some());
    assert_eq!(extensions.len(), 5);
}
