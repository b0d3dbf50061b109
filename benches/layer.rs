//! The layer alone, no network: a typical NUGU request through `PrivatePlayLayer` into a
//! trivial handler, against the same handler without the layer. Also counts heap allocations
//! per request with a counting global allocator.

mod fixtures;

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{Extensions, HeaderValue, Request, Response};
use http_body_util::Full;
use nugu_proxy::layer::ApiKey;
use nugu_proxy::transport::{ConnectionInfo, TlsInfo, TlsVersion, Transport};
use nugu_proxy::{ActionRequest, ActionResponse, EnrolledUser, Play, PrivatePlayLayer};
use tower::{service_fn, Layer, Service};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed unchanged to the system allocator; this only counts them.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const KEY: &str = "bench-api-key";

fn request(body: &Bytes, length: &HeaderValue, connection: &Extensions) -> Request<Full<Bytes>> {
    let mut request = Request::post("/nugu/check_in")
        .header("content-type", "application/json")
        .header("authorization", "token bench-api-key")
        .header("content-length", length.clone()) // as hyper hands on the client's header
        .body(Full::new(body.clone()))
        .unwrap();
    request.extensions_mut().extend(connection.clone());
    request
}

/// The handler with the layer: reads the typed values the layer inserted.
async fn check_in(req: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    let action = req.extensions().get::<ActionRequest>().unwrap();
    let user = req.extensions().get::<EnrolledUser>().unwrap();
    Ok(ActionResponse::from_request(action)
        .output("userName", user.name().unwrap_or_default())
        .into_http())
}

/// The same handler without the layer: answers a fixed JSON body.
async fn fixed(_: Request<Full<Bytes>>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        br#"{"version":"2.0","resultCode":"OK","output":{"userName":"x"}}"#,
    ))))
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    // The services never wait on anything: polling once completes them.
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("the bench services complete without waiting"),
    }
}

fn layer(c: &mut Criterion) {
    let body = Bytes::from(fixtures::typical());
    let length = HeaderValue::from(body.len());
    // What the crate's server gives each request of a connection.
    let connection = ConnectionInfo::new(
        "127.0.0.1:1".parse().unwrap(),
        Transport::Tls(TlsInfo::new(TlsVersion::Tls13, Some(b"h2".to_vec()), None)),
    )
    .request_extensions();
    let mut with_layer =
        PrivatePlayLayer::new(ApiKey::new(KEY).unwrap()).layer(service_fn(check_in));
    let mut without = service_fn(fixed);
    // The same with the action's backend parameters declared (two sent null, one left out).
    let play = Play::new().action("check_in", ["userName", "checkInTime", "reason"]);
    let mut declared = PrivatePlayLayer::new(ApiKey::new(KEY).unwrap())
        .play(play)
        .layer(service_fn(check_in));

    // Allocations per request, measured outside criterion's timing.
    let with = allocations(|| {
        let response = block_on(with_layer.call(request(&body, &length, &connection))).unwrap();
        assert_eq!(response.status(), 200);
    });
    let plain = allocations(|| {
        black_box(block_on(without.call(request(&body, &length, &connection))).unwrap());
    });
    let with_play = allocations(|| {
        let response = block_on(declared.call(request(&body, &length, &connection))).unwrap();
        assert_eq!(response.status(), 200);
    });
    println!("allocations per request, with layer + typed handler: {with}");
    println!("allocations per request, the same with a declared Play: {with_play}");
    println!("allocations per request, without layer, fixed body: {plain}");
    // The request itself (built here as a server would) costs both sides the same.
    println!(
        "allocations per request, the layer and handler's own: {}",
        with - plain
    );

    let mut group = c.benchmark_group("layer");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("with PrivatePlayLayer (typical request)", |b| {
        b.iter(|| block_on(with_layer.call(request(&body, &length, &connection))).unwrap())
    });
    group.bench_function(
        "with PrivatePlayLayer and a declared Play (typical request)",
        |b| b.iter(|| block_on(declared.call(request(&body, &length, &connection))).unwrap()),
    );
    group.bench_function("without layer (fixed JSON)", |b| {
        b.iter(|| block_on(without.call(request(&body, &length, &connection))).unwrap())
    });
    group.finish();
}

fn allocations(mut run: impl FnMut()) -> usize {
    run(); // warm up: first-use allocations do not count
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    const N: usize = 1000;
    for _ in 0..N {
        run();
    }
    (ALLOCATIONS.load(Ordering::Relaxed) - before) / N
}

criterion_group!(benches, layer);
criterion_main!(benches);
