#!/usr/bin/env python3
"""Writes BENCHMARKS.md (to stdout) from the outputs of scripts/bench.

Reads criterion's estimates under target/criterion, the allocation counts printed by
benches/layer.rs, and the load runs (wrk, h2load) in <out>/e2e.tsv.
"""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys

TARGET_DIR = os.environ.get("CARGO_TARGET_DIR", "target")  # where cargo builds, as cargo reads it
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TARGET_DIR, "bench-run")
CRITERION = os.path.join(TARGET_DIR, "criterion")
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


SIDES = {
    "bare": "bare hyper 1 + tokio-rustls, fixed answer (ceiling; `bench_bare fixed`)",
    "plain": "this crate's server without the layer (`bench_server plain`)",
    "layer": "this crate's server + `PrivatePlayLayer` + check-in handler (`bench_server layer`)",
    "serde": "issue #15's quick prototype: borrowed serde parse + echo, on the bare serving (`bench_bare serde`)",
    "axum": "axum 0.8 `Json<Value>` + pointer, on the bare serving (`bench_bare axum`)",
}
PROTOCOLS = {
    "h1": ("HTTP/1.1 keep-alive",
           "wrk -t{BENCH_THREADS} -c{BENCH_CONNECTIONS}: {BENCH_CONNECTIONS} connections kept alive, "
           "one request in flight on each."),
    "h2": ("HTTP/2",
           "h2load -t{BENCH_THREADS} -c{BENCH_H2_CLIENTS} -m{BENCH_H2_STREAMS}: {BENCH_H2_CLIENTS} "
           "connections with up to {BENCH_H2_STREAMS} concurrent streams each (as many requests in "
           "flight as the HTTP/1.1 run by default); p50/p99 from its per-request log."),
    "new": ("A new connection per request (TLS handshake included)",
            "wrk -t{BENCH_THREADS} -c{BENCH_CONNECTIONS} with `Connection: close`: the server closes "
            "after each response and wrk reconnects, so every request pays a TCP connect and a TLS "
            "handshake. wrk (OpenSSL) offers the session of its previous connection, so against a "
            "server that resumes sessions (all five here, with rustls's stateless tickets) "
            "each handshake is a resumed TLS 1.3 one (PSK with a fresh X25519 exchange, no "
            "certificate signature). wrk starts a request's clock after the handshake, so p50/p99 "
            "leave it out; requests/s and server CPU include it."),
}
DEFAULTS = {"BENCH_THREADS": "2", "BENCH_CONNECTIONS": "64", "BENCH_H2_CLIENTS": "16",
            "BENCH_H2_STREAMS": "4"}


def read_rounds():
    rows = []
    with open(os.path.join(OUT, "e2e.tsv")) as f:
        for line in f:
            proto, side, rnd, req, dur, p50, p99, se, so, cpu, user = line.rstrip("\n").split("\t")
            rows.append(dict(proto=proto, side=side, round=int(rnd), req=int(req), dur=int(dur),
                             p50=int(p50), p99=int(p99), errors=int(se) + int(so),
                             cpu=float(cpu), user=float(user)))
    for r in rows:
        r["rps"] = r["req"] / (r["dur"] / 1e6) if r["dur"] else 0.0
    return rows


def e2e(rows):
    settings = {k: os.environ.get(k, v) for k, v in DEFAULTS.items()}
    rounds = sorted({r["round"] for r in rows})
    print("\n## End to end over loopback HTTPS (`scripts/bench`)\n")
    print("Five servers on 127.0.0.1, each on its own self-signed certificate, TLS 1.3 (rustls, ring")
    print("provider): *bare* hyper 1 + tokio-rustls answering a fixed JSON body after reading the")
    print("request (no timeouts, no limits: the ceiling), the crate's server without the layer")
    print("answering the same body (*plain*), the crate's server with `PrivatePlayLayer` and a")
    print("check-in handler that reads the typed enrolled user and echoes the parameters (*layer*),")
    print("the quick prototype issue #15 measured, a `service_fn` on the bare serving that compares")
    print("the API key, deserializes with serde_json only the fields the answer needs into borrowed")
    print("structs (the action name, the parameters' values, the enrolled user's name), and echoes")
    print("the parameters with serde_json (*serde*; the same 143-byte answer as *layer*),")
    print("and an axum 0.8 `Router` on the bare serving whose handler takes `Json<Value>`, compares")
    print("the API key, reads the enrolled user by JSON pointer and echoes the parameters (*axum*).")
    print("Each POSTs the typical request (`tests/fixtures/private_play_full.json`) to `/check_in`.")
    print(f"Rounds: {len(rounds)}; in each, every protocol runs against every server in turn "
          "(bare, plain, layer,")
    print("serde, axum), so a ratio compares runs of the same time window. *req/s* is the median over rounds; *of bare*")
    print("is the median over rounds of the round's ratio to bare; *server CPU* is the server")
    print("process's user + system time over its runs (`/proc/<pid>/stat`) per request; p50 and")
    print("p99 are medians over rounds. *errors* counts responses other than 200 (wrk counts")
    print("status >= 400) and socket errors; any error makes `scripts/bench` fail. The load")
    print("generator shares the machine's cores with the server.")
    for proto, (title, how) in PROTOCOLS.items():
        mine = [r for r in rows if r["proto"] == proto]
        if not mine:
            continue
        print(f"\n### {title}\n")
        print(how.format(**settings) + "\n")
        print("| server | req/s (median) | of bare | server CPU / request | of which user | "
              "p50 | p99 | errors |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        summary = {}
        for side, label in SIDES.items():
            runs = [r for r in mine if r["side"] == side]
            if not runs:
                continue
            ratios = []
            for rnd in rounds:
                this = [r for r in runs if r["round"] == rnd]
                bare = [r for r in mine if r["side"] == "bare" and r["round"] == rnd]
                if this and bare and bare[0]["rps"]:
                    ratios.append(this[0]["rps"] / bare[0]["rps"])
            requests = sum(r["req"] for r in runs) or 1
            s = summary[side] = dict(
                rps=statistics.median(r["rps"] for r in runs),
                of_bare=statistics.median(ratios) if ratios else float("nan"),
                cpu=sum(r["cpu"] for r in runs) / requests * 1e6,
                user=sum(r["user"] for r in runs) / requests * 1e6,
                p50=statistics.median(r["p50"] for r in runs) / 1000,
                p99=statistics.median(r["p99"] for r in runs) / 1000,
                errors=sum(r["errors"] for r in runs),
            )
            errors = f"**{s['errors']}**" if s["errors"] else "0"
            print(f"| {label} | {s['rps']:,.0f} | {s['of_bare'] * 100:.0f}% | {s['cpu']:.1f} µs | "
                  f"{s['user']:.1f} µs | {s['p50']:.2f} ms | {s['p99']:.2f} ms | {errors} |")
        print("\n| round | " + " | ".join(f"{side} req/s" for side in SIDES) + " |")
        print("|---:|" + "---:|" * len(SIDES))
        for rnd in rounds:
            cells = []
            for side in SIDES:
                this = [r for r in mine if r["side"] == side and r["round"] == rnd]
                cells.append(f"{this[0]['rps']:,.0f}" if this else "")
            print(f"| {rnd} | " + " | ".join(cells) + " |")
        if "layer" in summary and "plain" in summary:
            layer, plain = summary["layer"], summary["plain"]
            print(f"\nThe layer and handler cost **{layer['cpu'] - plain['cpu']:.1f} µs of server "
                  f"CPU per request** over the server alone ({layer['user'] - plain['user']:.1f} µs "
                  "in user space).")


def instructions():
    path = os.path.join(OUT, "instructions.tsv")
    if not os.path.exists(path):
        return
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    print("\n## Instructions and allocations per request (`scripts/instructions`)\n")
    print("User-space instructions and heap allocations per request of each server process under")
    print("valgrind's callgrind, counted from when the server is ready: HTTP/1.1 on 4 keep-alive")
    print("connections, HTTP/2 on 4 connections of 10 streams, and one request per new connection")
    print("(a full TLS handshake each: h2load's separate clients offer no session to resume).")
    print("Deterministic to about 1% from run to run, unlike req/s here; the kernel's part is not")
    print("counted.\n")
    print("| protocol | server | requests | instructions / request | of bare | allocations / request |")
    print("|---|---|---:|---:|---:|---:|")
    bare = {r[1]: float(r[3]) for r in rows if r[0] == "bare"}
    for name, protocol, n, ins, allocs in rows:
        ratio = float(ins) / bare[protocol] if protocol in bare else float("nan")
        print(f"| {protocol} | {name} | {int(n):,} | {float(ins):,.0f} | {ratio:.2f}x | {allocs} |")


def cache_simulation():
    path = os.path.join(OUT, "cachesim.tsv")
    if not os.path.exists(path):
        return
    rows = [line.rstrip("\n").split("\t") for line in open(path) if line.strip()]
    servers = list(dict.fromkeys(r[0] for r in rows))
    parts = list(dict.fromkeys(r[1] for r in rows))
    cost = {(r[0], r[1]): [int(x) for x in r[2:]] for r in rows}
    total = {s: [sum(cost[(s, p)][i] for p in parts) for i in range(4)] for s in servers}
    print("\n### The same over HTTP/1.1, with callgrind's cache and branch simulation\n")
    print("Instructions do not tell the time alone: code and data spread over more cache lines")
    print("run fewer instructions per cycle. callgrind's simulation of this machine's L1 caches")
    print("(32 KiB each, 64-byte lines) and of a branch predictor counts, per request, L1")
    print("instruction-cache misses, L1 data-cache misses and mispredicted branches (a model,")
    print("not the hardware's counters, which this VM does not expose). A function's own cost")
    print("goes to the part its name belongs to (`scripts/callgrind_parts.py`); what `std` does")
    print("for a part (`memcpy`, `malloc`) stays in its own row.\n")
    print("| server | instructions | L1i misses | L1d misses | mispredicted branches |")
    print("|---|---:|---:|---:|---:|")
    for server in servers:
        t = total[server]
        print(f"| {server} | {t[0]:,} | {t[1]:,} | {t[2]:,} | {t[3]:,} |")
    shown = [s for s in ("bare", "plain", "layer", "serde") if s in servers]
    print("\nBy part of the path (instructions / L1i misses / mispredicted branches per request):\n")
    print("| part | " + " | ".join(shown) + " |")
    print("|---|" + "---:|" * len(shown))
    for part in parts:
        cells = [f"{cost[(s, part)][0]:,} / {cost[(s, part)][1]:,} / {cost[(s, part)][3]:,}"
                 for s in shown]
        print(f"| {part} | " + " | ".join(cells) + " |")


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

    e2e(read_rounds())
    instructions()
    cache_simulation()
    print()
    with open("scripts/bench_notes.md") as f:
        print(f.read().rstrip())


if __name__ == "__main__":
    main()
