#!/usr/bin/env python3
"""Writes BENCHMARKS.md (to stdout) from the outputs of scripts/bench.

Reads criterion's estimates under target/criterion, the allocation counts printed by
benches/layer.rs, and the wrk rounds in <out>/e2e.tsv.
"""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "target/bench-run"
CRITERION = "target/criterion"
SIZES = {"minimal": "play_builder.json", "typical": "private_play_full.json", "large": None}


def estimate(group, name, size=None):
    parts = [CRITERION, group, name] + ([size] if size else []) + ["new", "estimates.json"]
    with open(os.path.join(*parts)) as f:
        data = json.load(f)
    return data["median"]["point_estimate"]  # ns


def body_bytes(size):
    path = os.path.join(CRITERION, "parse", "typed ActionRequest", size, "new", "benchmark.json")
    with open(path) as f:
        return json.load(f)["throughput"]["Bytes"]


def machine():
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, {platform.system()} {platform.release()}"


def main():
    # When the run ended (its last file), so that regenerating the report keeps the run's date.
    ended = os.path.getmtime(os.path.join(OUT, "e2e.tsv"))
    now = datetime.datetime.fromtimestamp(ended, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print("# Benchmarks\n")
    print(f"Measured {now} on {machine()} by `scripts/bench` (rewrites this file).")
    print("Machines here are shared and noisy: compare the ratios, which come from one run")
    print("side by side, rather than the absolute figures.\n")

    print("## Parsing a request body (`benches/parse.rs`)\n")
    print("Median of criterion's samples. *typed* is `ActionRequest::from_bytes` (the full typed")
    print("model); *baseline* is what a play developer writes by hand,")
    print("`serde_json::from_slice::<Value>` then `.pointer(\"/profile/privatePlay/enrolledUser\")`;")
    print("*floor* is serde_json merely skipping the document (`IgnoredAny`).\n")
    print("| body | bytes | typed | baseline | floor | baseline / typed | typed / floor |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for size in SIZES:
        typed = estimate("parse", "typed ActionRequest", size)
        base = estimate("parse", "baseline Value+pointer", size)
        floor = estimate("parse", "floor IgnoredAny", size)
        n = body_bytes(size)
        mbs = lambda ns: n / ns * 1e9 / 1e6
        print(f"| {size} | {n} | {typed:,.0f} ns ({mbs(typed):,.0f} MB/s) | {base:,.0f} ns "
              f"({mbs(base):,.0f} MB/s) | {floor:,.0f} ns ({mbs(floor):,.0f} MB/s) | "
              f"**{base / typed:.2f}x** | {typed / floor:.2f}x |")

    print("\n## The layer alone, no network (`benches/layer.rs`)\n")
    with_layer = estimate("layer", "with PrivatePlayLayer (typical request)")
    without = estimate("layer", "without layer (fixed JSON)")
    allocs = {}
    with open(os.path.join(OUT, "layer.txt")) as f:
        for line in f:
            m = re.match(r"allocations per request, (.*): (\d+)", line)
            if m:
                allocs[m.group(1)] = int(m.group(2))
    print("A typical request through `PrivatePlayLayer` into a handler that reads the typed")
    print("enrolled user and builds an `ActionResponse`, against the same request into a handler")
    print("answering a fixed body without the layer.\n")
    print("| | time per request | heap allocations per request |")
    print("|---|---:|---:|")
    print(f"| with layer + typed handler | {with_layer:,.0f} ns | "
          f"{allocs.get('with layer + typed handler', '?')} |")
    print(f"| without layer, fixed body | {without:,.0f} ns | "
          f"{allocs.get('without layer, fixed body', '?')} |")
    print(f"| **the layer's cost** | **{with_layer - without:,.0f} ns** | |")

    rows = []
    with open(os.path.join(OUT, "e2e.tsv")) as f:
        for line in f:
            side, rnd, req, dur, p50, p99, se, so, cpu, user = line.split("\t")
            rows.append(dict(side=side, round=int(rnd), req=int(req), dur=int(dur), p50=int(p50),
                             p99=int(p99), status_errors=int(se), socket_errors=int(so),
                             cpu=float(cpu), user=float(user)))
    print("\n## End to end over loopback HTTPS (`scripts/bench`, wrk)\n")
    print("The crate's HTTPS server (TLS 1.3, HTTP/1.1 keep-alive) on 127.0.0.1, with")
    print("`PrivatePlayLayer` and a check-in handler (*layer*), against the same server without")
    print("the layer answering a fixed JSON body (*plain*). wrk with one thread and "
          f"{os.environ.get('BENCH_CONNECTIONS', '16')} connections POSTs the typical request;")
    print("rounds alternate layer, plain, layer, plain. CPU is the server process's user + system")
    print("time over the round, from `/proc/<pid>/stat`; *user* is its user-space part (TLS,")
    print("HTTP, the layer, the handler), the rest is the kernel's (sockets, epoll, scheduling).\n")
    print("| round | side | requests/s | p50 | p99 | server CPU per request | of which user | errors |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        rps = r["req"] / (r["dur"] / 1e6)
        print(f"| {r['round']} | {r['side']} | {rps:,.0f} | {r['p50'] / 1000:.2f} ms | "
              f"{r['p99'] / 1000:.2f} ms | {r['cpu'] / r['req'] * 1e6:.1f} µs | "
              f"{r['user'] / r['req'] * 1e6:.1f} µs | "
              f"{r['status_errors'] + r['socket_errors']} |")
    summary = {}
    for side in ("layer", "plain"):
        mine = [r for r in rows if r["side"] == side]
        summary[side] = dict(
            rps=sum(r["req"] for r in mine) / (sum(r["dur"] for r in mine) / 1e6),
            cpu=sum(r["cpu"] for r in mine) / sum(r["req"] for r in mine) * 1e6,
            user=sum(r["user"] for r in mine) / sum(r["req"] for r in mine) * 1e6,
            p50=statistics.median(r["p50"] for r in mine) / 1000,
            p99=statistics.median(r["p99"] for r in mine) / 1000,
            errors=sum(r["status_errors"] + r["socket_errors"] for r in mine),
        )
    layer, plain = summary["layer"], summary["plain"]
    print("\n| | requests/s | p50 (median of rounds) | p99 (median of rounds) | "
          "server CPU per request | of which user | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for side in ("layer", "plain"):
        s = summary[side]
        print(f"| {side} | {s['rps']:,.0f} | {s['p50']:.2f} ms | {s['p99']:.2f} ms | "
              f"{s['cpu']:.1f} µs | {s['user']:.1f} µs | {s['errors']} |")
    print(f"\n**The layer keeps {layer['rps'] / plain['rps'] * 100:.1f}% of the throughput** and "
          f"costs **{layer['cpu'] - plain['cpu']:.2f} µs of server CPU per request** "
          "(the difference of the CPU-per-request figures), of which "
          f"{layer['user'] - plain['user']:.2f} µs in user space.")
    print()
    with open("scripts/bench_notes.md") as f:
        print(f.read().rstrip())


if __name__ == "__main__":
    main()
