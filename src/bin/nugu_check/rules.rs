//! The rule table, defined once: the terminal table, the JSON and JUnit reports and the tests
//! all read it.

/// One thing NUGU needs from a backend proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, used by `--skip`, the reports and the tests.
    pub id: &'static str,
    /// Why, in one line, from the NUGU docs.
    pub reason: &'static str,
    /// Whether a failure makes the exit status non-zero.
    pub required: bool,
}

const fn rule(id: &'static str, reason: &'static str) -> Rule {
    Rule {
        id,
        reason,
        required: true,
    }
}

/// Every rule, in the order they are reported.
pub const RULES: &[Rule] = &[
    rule(
        "https",
        "NUGU calls a Private Play's Web URL over HTTPS only (TLS 1.2 or later, a certificate that chains to a trusted root and names the host)",
    ),
    rule(
        "plain-http-refused",
        "every request carries the enrolled user's personal data: plain HTTP on the same host and port must get no answer",
    ),
    rule(
        "health",
        "GET {prefix}/health and GET /health answer 200, for load balancers and uptime checks",
    ),
    rule(
        "http-200-json",
        "NUGU reads only an HTTP 200 answer with a JSON body; anything else ends the dialog with an error",
    ),
    rule(
        "latency",
        "NUGU waits a few seconds for the backend proxy, then answers the user with an error (--timeout)",
    ),
    rule("version", "the response's `version` is \"2.0\", as in the request"),
    rule(
        "result-code",
        "`resultCode` is a non-empty string: OK, or the exception code the play defines",
    ),
    rule(
        "output-echo",
        "`output` holds every parameter of the request, backend parameters that arrived null included",
    ),
    rule(
        "output-values",
        "each `output` value is a string or null, never an object such as {type, value}",
    ),
    rule(
        "directives",
        "directives are well formed: a `type`; AudioPlayer.Play has audioItem.stream.url and token, offsetInMilliseconds a number",
    ),
    rule(
        "auth",
        "requests without the API key, or with a wrong one, are refused with 401 (`Authorization: token <API key>`)",
    ),
    rule(
        "no-personal-data-in-errors",
        "a refusal or error does not echo the request's personal data (name, phoneNo, email)",
    ),
    rule(
        "tolerance",
        "NUGU sends nulls where objects belong, string booleans, no version, numeric values, unknown fields: each gets 200",
    ),
    rule(
        "play-builder",
        "Play Builder's test console calls without the API key and with isPlayBuilderRequest: true; it gets 200",
    ),
    rule(
        "private-play",
        "a Private Play request comes with an enrolled user or without one (a Biz-dedicated device); both get 200",
    ),
    rule(
        "audio-events",
        "every AudioPlayer event NUGU sends (PlaybackStarted ... NearlyFinished) gets 200",
    ),
    rule(
        "unknown-action",
        "an action the play does not define still gets 200 with a resultCode (an exception), not an HTTP error",
    ),
    rule(
        "oversized-body",
        "a body over a reasonable size limit is refused with a 4xx, and the proxy answers the next request",
    ),
    rule(
        "content-type",
        "a body that is not `Content-Type: application/json` is refused with a 4xx, and the proxy answers the next request",
    ),
    rule(
        "method",
        "NUGU only POSTs: another method on an action's path is refused with a 4xx, and the proxy answers the next request",
    ),
    rule(
        "burst",
        "200 typical requests over 16 connections at once all answer 200 (a busy hour, not a benchmark)",
    ),
];

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_reasons_are_one_line() {
        for (i, rule) in RULES.iter().enumerate() {
            assert!(
                RULES[..i].iter().all(|other| other.id != rule.id),
                "{}",
                rule.id
            );
            assert!(!rule.reason.contains('\n'), "{}", rule.id);
            assert_eq!(by_id(rule.id), Some(rule));
        }
    }
}
