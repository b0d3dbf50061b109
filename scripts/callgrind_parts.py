#!/usr/bin/env python3
"""Sums a callgrind dump's own cost (not its callees') per function into the parts of a
request's path, per request, and prints them as tab-separated lines:

    server  part  instructions  I1-misses  D1-misses  mispredicted-branches

Usage: callgrind_parts.py DUMP SERVER REQUESTS. The dump must come from
`valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes` (scripts/instructions makes it).
A function goes to the first part whose pattern its name matches."""
import collections
import re
import sys

PARTS = [
    ("parse", r"nugu_proxy::request|serde_json::de|serde_json::read|serde_core::de|from_utf8"
              r"|bench_bare::(Prototype|Text|prototype)"),
    ("response", r"nugu_proxy::response|serde_json::ser|serde_core::ser|serialize_pairs"),
    ("layer and extensions", r"nugu_proxy::layer|nugu_proxy::extract|http::extensions|hashbrown"),
    ("crate's server", r"nugu_proxy::"),
    ("memcpy/memset", r"memmove|memcpy|memset"),
    ("malloc/free", r"malloc|free|realloc|_int_|tcache"),
    ("TLS (rustls, ring)", r"ring_core|rustls|ring::|aesni|gcm"),
    ("HTTP (hyper, http)", r"hyper|h2::|httparse|http::|want::|http_body"),
    ("tokio", r"tokio|mio::|atomic_waker"),
    ("other", r"."),
]
EVENTS = ["Ir", "I1mr", "D1mr", "D1mw", "Bcm", "Bim"]


def own_costs(path):
    """{function: {event: count}}: each cost line counted for the function it lies in, except
    the line after `calls=`, which is the callee's inclusive cost."""
    names, cost, events = {}, collections.defaultdict(collections.Counter), None
    fn, after_call = None, False

    def name(s):
        m = re.match(r"\((\d+)\)(?: (.*))?", s)
        if not m:
            return s
        if m.group(2):
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), s)

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("fn="):
                fn = name(line[3:])
            elif line.startswith("cfn="):
                name(line[4:])
            elif line.startswith("calls="):
                after_call = True
            elif line[:1].isdigit() or line[:1] in ("+", "-", "*"):
                if after_call:
                    after_call = False
                    continue
                for event, value in zip(events, line.split()[1:]):
                    cost[fn][event] += int(value)
    return cost


def main():
    path, server, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
    parts = collections.defaultdict(collections.Counter)
    for fn, c in own_costs(path).items():
        part = next(p for p, pattern in PARTS if re.search(pattern, fn or ""))
        parts[part].update(c)
    for part, _ in PARTS:
        c = parts[part]
        print(f"{server}\t{part}\t{c['Ir'] / requests:.0f}\t{c['I1mr'] / requests:.0f}\t"
              f"{(c['D1mr'] + c['D1mw']) / requests:.0f}\t{(c['Bcm'] + c['Bim']) / requests:.0f}")


if __name__ == "__main__":
    main()
