//! The report: a table for a person, JSON and JUnit XML for CI. All three read the same
//! outcomes, one per rule of the table.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Value};

use crate::mask::mask;
use crate::rules::Rule;

/// A rule's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Skipped,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skipped => "skipped",
        }
    }
}

/// One rule's outcome.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub rule: &'static Rule,
    pub verdict: Verdict,
    /// Why it was skipped.
    pub detail: String,
    /// Why it failed: one line per offending answer.
    pub evidence: Vec<String>,
}

/// Latency percentiles of a set of requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub count: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Stats {
    /// The percentiles (nearest rank) of `latencies`, which it sorts.
    pub fn of(latencies: &mut [Duration]) -> Self {
        latencies.sort();
        let at = |p: usize| {
            let rank = (latencies.len() * p).div_ceil(100).max(1);
            latencies.get(rank - 1).copied().unwrap_or_default()
        };
        Self {
            count: latencies.len(),
            p50: at(50),
            p90: at(90),
            p99: at(99),
            max: latencies.last().copied().unwrap_or_default(),
        }
    }

    fn line(&self) -> String {
        format!(
            "{} requests, p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
            self.count,
            self.p50.as_millis(),
            self.p90.as_millis(),
            self.p99.as_millis(),
            self.max.as_millis()
        )
    }

    fn json(&self) -> Value {
        json!({
            "count": self.count,
            "p50Ms": self.p50.as_millis() as u64,
            "p90Ms": self.p90.as_millis() as u64,
            "p99Ms": self.p99.as_millis() as u64,
            "maxMs": self.max.as_millis() as u64,
        })
    }
}

/// Everything the run found.
#[derive(Clone, Debug)]
pub struct Report {
    pub url: String,
    pub outcomes: Vec<Outcome>,
    /// The single requests (not the burst).
    pub requests: Stats,
    /// Each single request and its latency, in the order sent.
    pub each: Vec<(String, Duration)>,
    pub slowest: Option<(String, Duration)>,
    pub burst: Option<Stats>,
}

/// How many evidence lines the table shows per rule (the JSON has them all).
const TABLE_EVIDENCE: usize = 3;

impl Report {
    /// Whether every required rule passed (skipped ones do not count against it).
    pub fn passed(&self) -> bool {
        self.outcomes
            .iter()
            .all(|o| !(o.rule.required && o.verdict == Verdict::Fail))
    }

    fn count(&self, verdict: Verdict) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.verdict == verdict)
            .count()
    }

    /// The table a person reads.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "nugu-check {}", self.url);
        let width = self
            .outcomes
            .iter()
            .map(|o| o.rule.id.len())
            .max()
            .unwrap_or(0);
        for outcome in &self.outcomes {
            let mark = match outcome.verdict {
                Verdict::Pass => "PASS",
                Verdict::Fail => "FAIL",
                Verdict::Skipped => "SKIP",
            };
            let _ = write!(
                out,
                "{mark}  {:width$}  {}",
                outcome.rule.id, outcome.rule.reason
            );
            if outcome.verdict == Verdict::Skipped {
                let _ = write!(out, " [{}]", outcome.detail);
            }
            out.push('\n');
            for line in outcome.evidence.iter().take(TABLE_EVIDENCE) {
                let _ = writeln!(out, "      - {}", mask(line));
            }
            if outcome.evidence.len() > TABLE_EVIDENCE {
                let _ = writeln!(
                    out,
                    "      - ... and {} more (see --json)",
                    outcome.evidence.len() - TABLE_EVIDENCE
                );
            }
        }
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} skipped",
            self.count(Verdict::Pass),
            self.count(Verdict::Fail),
            self.count(Verdict::Skipped)
        );
        let _ = writeln!(out, "latency: {}", self.requests.line());
        if let Some((label, latency)) = &self.slowest {
            let _ = writeln!(out, "slowest: {label} ({} ms)", latency.as_millis());
        }
        if let Some(burst) = &self.burst {
            let _ = writeln!(out, "burst: {}", burst.line());
        }
        out
    }

    /// The JSON report.
    pub fn json(&self) -> Value {
        let rules: Vec<Value> = self
            .outcomes
            .iter()
            .map(|o| {
                json!({
                    "id": o.rule.id,
                    "reason": o.rule.reason,
                    "required": o.rule.required,
                    "verdict": o.verdict.as_str(),
                    "skipped": (o.verdict == Verdict::Skipped).then_some(&o.detail),
                    "evidence": o.evidence.iter().map(|e| mask(e)).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "url": self.url,
            "passed": self.passed(),
            "counts": {
                "pass": self.count(Verdict::Pass),
                "fail": self.count(Verdict::Fail),
                "skipped": self.count(Verdict::Skipped),
            },
            "rules": rules,
            "latency": self.requests.json(),
            "requests": self.each.iter().map(|(label, latency)| json!({
                "request": label, "ms": latency.as_millis() as u64,
            })).collect::<Vec<_>>(),
            "slowest": self.slowest.as_ref().map(|(label, latency)| json!({
                "request": label, "ms": latency.as_millis() as u64,
            })),
            "burst": self.burst.as_ref().map(Stats::json),
        })
    }

    /// The JUnit XML report: one test case per rule.
    pub fn junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuite name=\"nugu-check\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            self.outcomes.len(),
            self.count(Verdict::Fail),
            self.count(Verdict::Skipped)
        );
        for o in &self.outcomes {
            let _ = write!(
                out,
                "  <testcase classname=\"nugu-check\" name=\"{}\"",
                xml(o.rule.id)
            );
            match o.verdict {
                Verdict::Pass => out.push_str("/>\n"),
                Verdict::Skipped => {
                    let _ = writeln!(
                        out,
                        ">\n    <skipped message=\"{}\"/>\n  </testcase>",
                        xml(&o.detail)
                    );
                }
                Verdict::Fail => {
                    let evidence: Vec<String> = o.evidence.iter().map(|e| mask(e)).collect();
                    let _ = writeln!(
                        out,
                        ">\n    <failure message=\"{}\">{}</failure>\n  </testcase>",
                        xml(o.rule.reason),
                        xml(&evidence.join("\n"))
                    );
                }
            }
        }
        out.push_str("</testsuite>\n");
        out
    }
}

/// Text for an XML attribute or element.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            // XML 1.0 has no other control characters.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::play::USER_PHONE;
    use crate::rules::{by_id, RULES};

    fn sample() -> Report {
        let ms = Duration::from_millis;
        let outcomes = RULES
            .iter()
            .map(|rule| {
                let (verdict, detail, evidence) = match rule.id {
                    "auth" => (
                        Verdict::Fail,
                        String::new(),
                        vec![format!("/check_in with a wrong API key: 200 OK (not 401): {{\"phone\":\"{USER_PHONE}\"}}")],
                    ),
                    "burst" => (Verdict::Skipped, "--skip".to_owned(), Vec::new()),
                    _ => (Verdict::Pass, String::new(), Vec::new()),
                };
                Outcome { rule, verdict, detail, evidence }
            })
            .collect();
        Report {
            url: "https://127.0.0.1:8443/nugu".to_owned(),
            outcomes,
            requests: Stats::of(&mut [ms(3), ms(1), ms(2), ms(40)]),
            each: vec![("check_in/docs".to_owned(), ms(40))],
            slowest: Some(("check_in/docs".to_owned(), ms(40))),
            burst: None,
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut latencies: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let stats = Stats::of(&mut latencies);
        assert_eq!(stats.p50, Duration::from_millis(50));
        assert_eq!(stats.p99, Duration::from_millis(99));
        assert_eq!(stats.max, Duration::from_millis(100));
        assert_eq!(Stats::of(&mut []), Stats::default());
    }

    /// The table's format, line by line (a snapshot: change it on purpose only).
    #[test]
    fn table_snapshot() {
        let table = sample().table();
        let mut expected = String::from("nugu-check https://127.0.0.1:8443/nugu\n");
        for rule in RULES {
            let line = match rule.id {
                "auth" => format!(
                    "FAIL  {:26}  {}\n      - /check_in with a wrong API key: 200 OK (not 401): {{\"phone\":\"***\"}}\n",
                    rule.id, rule.reason
                ),
                "burst" => format!("SKIP  {:26}  {} [--skip]\n", rule.id, rule.reason),
                _ => format!("PASS  {:26}  {}\n", rule.id, rule.reason),
            };
            expected.push_str(&line);
        }
        expected.push_str(&format!(
            "\n{} passed, 1 failed, 1 skipped\nlatency: 4 requests, p50 2 ms, p90 40 ms, p99 40 ms, max 40 ms\nslowest: check_in/docs (40 ms)\n",
            RULES.len() - 2
        ));
        assert_eq!(table, expected);
        assert!(!table.contains(USER_PHONE));
    }

    #[test]
    fn json_and_junit_snapshot() {
        let report = sample();
        assert!(!report.passed());
        let json = report.json();
        assert_eq!(json["passed"], false);
        assert_eq!(
            json["counts"],
            json!({"pass": RULES.len() - 2, "fail": 1, "skipped": 1})
        );
        let auth = json["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "auth")
            .unwrap();
        assert_eq!(
            auth,
            &json!({
                "id": "auth", "reason": by_id("auth").unwrap().reason, "required": true,
                "verdict": "fail", "skipped": null,
                "evidence": ["/check_in with a wrong API key: 200 OK (not 401): {\"phone\":\"***\"}"],
            })
        );
        assert_eq!(
            json["latency"],
            json!({"count": 4, "p50Ms": 2, "p90Ms": 40, "p99Ms": 40, "maxMs": 40})
        );
        assert_eq!(
            json["slowest"],
            json!({"request": "check_in/docs", "ms": 40})
        );
        assert!(!json.to_string().contains(USER_PHONE));

        let junit = report.junit();
        assert!(junit.starts_with(&format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"nugu-check\" tests=\"{}\" failures=\"1\" skipped=\"1\">\n  <testcase classname=\"nugu-check\" name=\"https\"/>\n",
            RULES.len()
        )));
        assert!(junit.contains(
            "  <testcase classname=\"nugu-check\" name=\"burst\">\n    <skipped message=\"--skip\"/>\n  </testcase>\n"
        ));
        assert!(junit.contains("(not 401): {&quot;phone&quot;:&quot;***&quot;}</failure>"));
        assert!(junit.ends_with("</testsuite>\n"));
    }
}
