//! Parsing NUGU request bodies: the typed model against what a play developer writes by hand
//! (`serde_json::Value` then a pointer lookup), and against serde_json skipping the whole
//! document (the floor).

mod fixtures;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nugu_proxy::ActionRequest;
use serde::de::IgnoredAny;
use std::hint::black_box;
use std::time::Duration;

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (size, body) in [
        ("minimal", fixtures::minimal()),
        ("typical", fixtures::typical()),
        ("large", fixtures::large()),
    ] {
        let bytes = Bytes::from(body);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("typed ActionRequest", size),
            &bytes,
            |b, body| {
                // Bytes::clone is a reference count: the layer hands the body over the same way.
                b.iter(|| ActionRequest::from_bytes(black_box(body.clone())).unwrap())
            },
        );
        group.bench_with_input(
            BenchmarkId::new("baseline Value+pointer", size),
            &bytes,
            |b, body| {
                b.iter(|| {
                    let value: serde_json::Value = serde_json::from_slice(black_box(body)).unwrap();
                    black_box(value.pointer("/profile/privatePlay/enrolledUser").cloned())
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("floor IgnoredAny", size),
            &bytes,
            |b, body| b.iter(|| serde_json::from_slice::<IgnoredAny>(black_box(body)).unwrap()),
        );
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
