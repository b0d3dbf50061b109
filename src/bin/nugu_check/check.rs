//! Plays NUGU against the proxy: sends every request, then judges each rule from the answers.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use http::Method;
use serde_json::Value;

use crate::mask::{excerpt, leaks_personal_data};
use crate::play::{self, Action, Kind, Probe};
use crate::report::{Outcome, Report, Stats, Verdict};
use crate::rules::RULES;
use crate::send::{Answer, Exchange, Sender};

/// How the proxy is played.
pub struct Settings {
    pub api_key: Option<String>,
    pub auth_expected: bool,
    pub timeout: Duration,
    pub skip: Vec<String>,
}

/// The burst: this many typical requests over this many connections at once.
pub const BURST_REQUESTS: usize = 200;
/// See [`BURST_REQUESTS`].
pub const BURST_CONNECTIONS: usize = 16;
/// The oversized body: larger than any NUGU request (a big one is about 16 KB).
const OVERSIZED: usize = 1024 * 1024;

/// What the requests showed, rule by rule.
#[derive(Default)]
struct Findings {
    ran: BTreeSet<&'static str>,
    evidence: BTreeMap<&'static str, Vec<String>>,
    not_run: BTreeMap<&'static str, String>,
    latencies: Vec<(String, Duration)>,
    burst: Option<Stats>,
}

impl Findings {
    fn pass(&mut self, rule: &'static str) {
        self.ran.insert(rule);
    }

    fn fail(&mut self, rule: &'static str, evidence: String) {
        self.ran.insert(rule);
        self.evidence.entry(rule).or_default().push(evidence);
    }

    /// `rule` passes unless `evidence` is given.
    fn judge(&mut self, rule: &'static str, evidence: Option<String>) {
        match evidence {
            Some(evidence) => self.fail(rule, evidence),
            None => self.pass(rule),
        }
    }
}

/// The progress line, on a terminal only.
struct Progress {
    done: usize,
    total: usize,
    on: bool,
}

impl Progress {
    fn step(&mut self, what: &str) {
        self.done += 1;
        if self.on {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K[{}/{}] {what}", self.done, self.total);
            let _ = err.flush();
        }
    }

    fn finish(&self) {
        if self.on {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Runs every rule against the proxy.
pub async fn run(sender: &Sender, actions: &[Action], settings: &Settings) -> Report {
    let target = &sender.target;
    let prefix = target.prefix.as_str();
    let key = if settings.auth_expected {
        settings.api_key.as_deref()
    } else {
        None
    };
    let mut probes: Vec<Probe> = actions
        .iter()
        .flat_map(|action| play::probes(action, prefix, key))
        .collect();
    let unknown = play::unknown_action(prefix, key);
    // The actions are never empty (`play::actions` refuses that); the unknown one stands in.
    let typical = actions.first().map_or_else(
        || unknown.request.clone(),
        |first| play::docs_request(first, prefix, key),
    );
    probes.push(unknown);
    let skip = |id: &str| settings.skip.iter().any(|s| s == id);

    let mut progress = Progress {
        done: 0,
        total: probes.len() + 12,
        on: std::io::stderr().is_terminal(),
    };
    let mut f = Findings::default();
    let timed = |f: &mut Findings, label: &str, exchange: &Exchange| {
        f.latencies.push((label.to_owned(), exchange.latency));
    };

    // HTTPS first: without it nothing else can be judged.
    let https_failure = if !target.https {
        Some(format!(
            "the URL is {}: NUGU calls Private Plays over https:// only",
            target.origin
        ))
    } else {
        progress.step("HTTPS handshake");
        let first = sender
            .raw(Method::GET, &format!("{prefix}/health"), &[], None)
            .await;
        first
            .outcome
            .err()
            .map(|e| format!("{}: {e}", target.origin))
    };
    if let Some(evidence) = https_failure {
        f.fail("https", evidence);
        for rule in RULES.iter().filter(|r| r.id != "https") {
            f.not_run
                .insert(rule.id, "no HTTPS connection to the proxy".to_owned());
        }
        progress.finish();
        return report(sender, settings, f);
    }
    f.pass("https");

    if !skip("plain-http-refused") {
        progress.step("plain HTTP");
        let exchange = sender.plain(&typical).await;
        let evidence = match &exchange.outcome {
            Err(_) => None,
            Ok(answer) if refuses_plain_http(answer) => None,
            Ok(answer) => Some(format!(
                "{}{}: answered {} over plain HTTP: {}",
                target.plain_origin,
                typical.path(),
                answer.status,
                excerpt(&answer.body)
            )),
        };
        f.judge("plain-http-refused", evidence);
    }

    if !skip("health") {
        let mut paths = vec![format!("{prefix}/health")];
        if !prefix.is_empty() {
            paths.push("/health".to_owned());
        }
        for path in paths {
            progress.step(&format!("GET {path}"));
            let exchange = sender.raw(Method::GET, &path, &[], None).await;
            let evidence = match &exchange.outcome {
                Ok(answer) if answer.status == 200 => None,
                Ok(answer) => Some(format!("GET {path}: {}", answer.status)),
                Err(e) => Some(format!("GET {path}: {e}")),
            };
            f.judge("health", evidence);
        }
    }

    for probe in &probes {
        progress.step(&probe.label);
        let exchange = sender.nugu(&probe.request, probe.body()).await;
        timed(&mut f, &probe.label, &exchange);
        judge_action(&mut f, probe, &exchange, settings.timeout);
    }

    if !settings.auth_expected {
        f.not_run.insert("auth", "--no-auth-expected".to_owned());
    } else if !skip("auth") {
        let wrong = typical.clone().api_key("nugu-check-wrong-api-key");
        for (what, request) in [
            ("without the API key", typical.clone().without_api_key()),
            ("with a wrong API key", wrong),
        ] {
            progress.step(&format!("auth: {what}"));
            let exchange = sender.nugu(&request, request.to_json().to_string()).await;
            timed(&mut f, &format!("auth: {what}"), &exchange);
            let evidence = match &exchange.outcome {
                Ok(answer) if answer.status == 401 => None,
                Ok(answer) => Some(format!(
                    "{} {what}: {} (not 401): {}",
                    request.path(),
                    answer.status,
                    excerpt(&answer.body)
                )),
                Err(e) => Some(format!("{} {what}: {e}", request.path())),
            };
            f.judge("auth", evidence);
            personal_data(&mut f, &format!("{} {what}", request.path()), &exchange);
        }
    }

    // Bad requests, each followed by a good one: refused, and the proxy still answers.
    let auth: Vec<(&str, String)> = key
        .map(|key| ("authorization", format!("token {key}")))
        .into_iter()
        .collect();
    let body = typical.to_json().to_string();
    let mut padded = typical.to_json();
    padded["nuguCheckPadding"] = "x".repeat(OVERSIZED).into();
    let json = ("content-type", "application/json".to_owned());
    let bad_requests = [
        (
            "oversized-body",
            format!("POST {} with a 1 MiB body", typical.path()),
            Method::POST,
            vec![json.clone()],
            Some(padded.to_string()),
        ),
        (
            "content-type",
            format!("POST {} with Content-Type: text/plain", typical.path()),
            Method::POST,
            vec![("content-type", "text/plain".to_owned())],
            Some(body.clone()),
        ),
        (
            "method",
            format!("GET {}", typical.path()),
            Method::GET,
            Vec::new(),
            None,
        ),
    ];
    for (rule, what, method, mut headers, body) in bad_requests {
        if skip(rule) {
            continue;
        }
        progress.step(&what);
        headers.extend(auth.iter().cloned());
        let exchange = sender.raw(method, &typical.path(), &headers, body).await;
        let mut evidence = match &exchange.outcome {
            Ok(answer) if answer.status.is_client_error() => None,
            Ok(answer) => Some(format!(
                "{what}: {} (not 4xx): {}",
                answer.status,
                excerpt(&answer.body)
            )),
            // Closing the connection before reading the whole body refuses it too (an
            // HTTP/1.1 client then sees a broken pipe); the next request tells a crash.
            Err(_) if rule == "oversized-body" && !exchange.timed_out => None,
            Err(e) => Some(format!("{what}: no answer: {e}")),
        };
        personal_data(&mut f, &what, &exchange);
        progress.step(&format!("{rule}: the next request"));
        // On a new connection: a proxy may close the one a refused body came on.
        let next = match sender.fresh() {
            Ok(fresh) => {
                fresh
                    .nugu(&typical, typical.to_json().to_string())
                    .await
                    .outcome
            }
            Err(e) => Err(e),
        };
        if evidence.is_none() {
            evidence = match &next {
                Ok(answer) if answer.status == 200 => None,
                Ok(answer) => Some(format!(
                    "after {what}, the next request got {}",
                    answer.status
                )),
                Err(e) => Some(format!("after {what}, the next request got no answer: {e}")),
            };
        }
        f.judge(rule, evidence);
    }

    if !skip("burst") {
        progress.step("burst");
        burst(&mut f, sender, &typical).await;
    }
    progress.finish();
    report(sender, settings, f)
}

/// Plain HTTP got an answer: only a refusal that serves nothing counts (nginx's 400 "plain HTTP
/// request was sent to HTTPS port", a redirect, 403, 426 Upgrade Required).
fn refuses_plain_http(answer: &Answer) -> bool {
    let status = answer.status.as_u16();
    answer.status.is_redirection() || matches!(status, 400 | 403 | 426)
}

/// Judges one action request's answer.
fn judge_action(f: &mut Findings, probe: &Probe, exchange: &Exchange, timeout: Duration) {
    let label = &probe.label;
    f.judge(
        "latency",
        (exchange.latency > timeout).then(|| {
            format!(
                "{label}: {} ms (budget {} ms)",
                exchange.latency.as_millis(),
                timeout.as_millis()
            )
        }),
    );
    personal_data(f, label, exchange);
    let rule = probe.kind.rule();
    let answer = match &exchange.outcome {
        Err(e) => return f.fail(rule, format!("{label}: {e}")),
        Ok(answer) => answer,
    };
    if answer.status != 200 {
        return f.fail(
            rule,
            format!("{label}: HTTP {}: {}", answer.status, excerpt(&answer.body)),
        );
    }
    let json: Value = match serde_json::from_slice(&answer.body) {
        Ok(json @ Value::Object(_)) => json,
        _ => {
            return f.fail(
                rule,
                format!(
                    "{label}: 200 but not a JSON object: {}",
                    excerpt(&answer.body)
                ),
            )
        }
    };
    f.pass(rule);
    if probe.kind != Kind::Docs {
        // The docs request's own rule passed too: it is the one every action must answer.
        f.pass("http-200-json");
    }
    f.judge(
        "version",
        (json["version"] != "2.0").then(|| format!("{label}: $.version is {}", json["version"])),
    );
    f.judge(
        "result-code",
        json["resultCode"]
            .as_str()
            .is_none_or(str::is_empty)
            .then(|| format!("{label}: $.resultCode is {}", json["resultCode"])),
    );
    let output = json.get("output").and_then(Value::as_object);
    let missing: Vec<&str> = probe
        .parameters
        .iter()
        .filter(|name| !output.is_some_and(|o| o.contains_key(name.as_str())))
        .map(String::as_str)
        .collect();
    f.judge(
        "output-echo",
        (!missing.is_empty()).then(|| {
            let paths: Vec<String> = missing.iter().map(|m| format!("$.output.{m}")).collect();
            format!("{label}: missing {}", paths.join(", "))
        }),
    );
    let bad_values: Vec<String> = match json.get("output") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(output)) => output
            .iter()
            .filter(|(_, v)| !(v.is_string() || v.is_null()))
            .map(|(k, v)| format!("$.output.{k} is {}", crate::mask::mask(&v.to_string())))
            .collect(),
        Some(other) => vec![format!("$.output is {}", kind_of(other))],
    };
    f.judge(
        "output-values",
        (!bad_values.is_empty()).then(|| format!("{label}: {}", bad_values.join("; "))),
    );
    let directive_errors = directive_errors(&json);
    f.judge(
        "directives",
        (!directive_errors.is_empty()).then(|| format!("{label}: {}", directive_errors.join("; "))),
    );
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What is wrong with `directives` (the AudioPlayer interface page's Play, Stop, Pause).
fn directive_errors(json: &Value) -> Vec<String> {
    let directives = match json.get("directives") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(directives)) => directives,
        Some(other) => return vec![format!("$.directives is {}", kind_of(other))],
    };
    let mut errors = Vec::new();
    for (i, directive) in directives.iter().enumerate() {
        let at = format!("$.directives[{i}]");
        let Some(kind) = directive.get("type").and_then(Value::as_str) else {
            errors.push(format!("{at}.type is not a string"));
            continue;
        };
        if kind == "AudioPlayer.Play" {
            let stream = &directive["audioItem"]["stream"];
            for field in ["url", "token"] {
                if stream[field].as_str().is_none_or(str::is_empty) {
                    errors.push(format!(
                        "{at}.audioItem.stream.{field} is not a non-empty string"
                    ));
                }
            }
            if !stream["offsetInMilliseconds"].is_u64() {
                errors.push(format!(
                    "{at}.audioItem.stream.offsetInMilliseconds is not a number of milliseconds"
                ));
            }
            let report = &stream["progressReport"];
            for field in [
                "progressReportDelayInMilliseconds",
                "progressReportIntervalInMilliseconds",
            ] {
                if !(report[field].is_null() || report[field].is_u64()) {
                    errors.push(format!(
                        "{at}.audioItem.stream.progressReport.{field} is not a number"
                    ));
                }
            }
        }
    }
    errors
}

/// Any answer of 400 or more must not carry the made-up user's personal data.
fn personal_data(f: &mut Findings, what: &str, exchange: &Exchange) {
    if let Ok(answer) = &exchange.outcome {
        if answer.status.as_u16() >= 400 {
            f.judge(
                "no-personal-data-in-errors",
                leaks_personal_data(&answer.body).map(|field| {
                    format!(
                        "{what}: the {} answer holds the request's {field}: {}",
                        answer.status,
                        excerpt(&answer.body)
                    )
                }),
            );
        }
    }
}

async fn burst(f: &mut Findings, sender: &Sender, typical: &nugu_proxy::testing::NuguRequest) {
    // Bounded in time as in count: a request not sent by then counts as failed.
    let deadline = Instant::now() + sender.patience * 2;
    let mut tasks = Vec::new();
    for connection in 0..BURST_CONNECTIONS {
        let sender = match sender.fresh() {
            Ok(sender) => sender,
            Err(e) => return f.fail("burst", e),
        };
        let request = typical.clone();
        // The requests split as evenly as they go.
        let count = BURST_REQUESTS / BURST_CONNECTIONS
            + usize::from(connection < BURST_REQUESTS % BURST_CONNECTIONS);
        tasks.push(tokio::spawn(async move {
            let mut exchanges = Vec::with_capacity(count);
            for _ in 0..count {
                if Instant::now() >= deadline {
                    break;
                }
                let body = request.to_json().to_string();
                exchanges.push(sender.nugu(&request, body).await);
            }
            exchanges
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let exchanges = match task.await {
            Ok(exchanges) => exchanges,
            Err(e) => return f.fail("burst", format!("a connection's task failed: {e}")),
        };
        for exchange in exchanges {
            latencies.push(exchange.latency);
            let failure = match &exchange.outcome {
                Ok(answer) if answer.status == 200 => continue,
                Ok(answer) => format!("{}: {}", answer.status, excerpt(&answer.body)),
                Err(e) => e.clone(),
            };
            failed += 1;
            if failures.len() < 3 {
                failures.push(failure);
            }
        }
    }
    let unsent = BURST_REQUESTS - latencies.len();
    if unsent > 0 {
        failed += unsent;
        failures.push(format!("{unsent} not sent: the burst ran out of time"));
    }
    f.burst = Some(Stats::of(&mut latencies));
    f.judge(
        "burst",
        (failed > 0).then(|| {
            format!(
                "{failed} of {BURST_REQUESTS} requests over {BURST_CONNECTIONS} connections did not get 200, e.g. {}",
                failures.join(" | ")
            )
        }),
    );
}

fn report(sender: &Sender, settings: &Settings, mut f: Findings) -> Report {
    let outcomes = RULES
        .iter()
        .map(|rule| {
            let (verdict, detail, evidence) = if settings.skip.iter().any(|s| s == rule.id) {
                (Verdict::Skipped, "--skip".to_owned(), Vec::new())
            } else if let Some(evidence) = f.evidence.remove(rule.id) {
                (Verdict::Fail, String::new(), evidence)
            } else if f.ran.contains(rule.id) {
                (Verdict::Pass, String::new(), Vec::new())
            } else {
                let why = f.not_run.remove(rule.id);
                (
                    Verdict::Skipped,
                    why.unwrap_or_else(|| "nothing to check".to_owned()),
                    Vec::new(),
                )
            };
            Outcome {
                rule,
                verdict,
                detail,
                evidence,
            }
        })
        .collect();
    let slowest = f
        .latencies
        .iter()
        .max_by_key(|(_, latency)| *latency)
        .cloned();
    let mut latencies: Vec<Duration> = f.latencies.iter().map(|(_, l)| *l).collect();
    Report {
        url: format!("{}{}", sender.target.origin, sender.target.prefix),
        outcomes,
        requests: Stats::of(&mut latencies),
        each: f.latencies,
        slowest,
        burst: f.burst,
    }
}
