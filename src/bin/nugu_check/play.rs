//! What to call: the actions and their parameters (from the command line or a play file), and
//! every request NUGU sends for them, built with the testing kit's `NuguRequest`.

use std::collections::BTreeMap;
use std::path::Path;

use nugu_proxy::testing::{NuguRequest, TestUser};
use serde::Deserialize;
use serde_json::{json, Value};

/// The made-up enrolled user of every request: the values the checker looks for in refusals
/// and masks in its own output.
pub const USER_NAME: &str = "홍체크";
/// Its phone number.
pub const USER_PHONE: &str = "01055501234";
/// Its email.
pub const USER_EMAIL: &str = "nugu-check@example.com";

/// An action of the play.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// `action.actionName`, and the last path segment.
    pub name: String,
    /// What a user says (a label in the report: NUGU does not send it).
    #[serde(default)]
    pub utterance: Option<String>,
    /// The utterance parameters and their values.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Backend parameters: NUGU sends them `{"type": null, "value": null}`.
    #[serde(default)]
    pub backend_parameters: Vec<String>,
}

/// A play file: `[[action]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlayFile {
    #[serde(default)]
    action: Vec<Action>,
}

/// The actions to call: the play file's, then `--action`'s with `--param`'s.
pub fn actions(
    play: Option<&Path>,
    names: &[String],
    params: &[String],
) -> Result<Vec<Action>, String> {
    let mut actions = Vec::new();
    if let Some(path) = play {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the play file {}: {e}", path.display()))?;
        actions = parse_play(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let mut parameters = BTreeMap::new();
    let mut backend_parameters = Vec::new();
    for param in params {
        let Some((name, value)) = param.split_once('=') else {
            return Err(format!("--param {param:?} is not NAME=VALUE"));
        };
        if value.is_empty() {
            backend_parameters.push(name.to_owned());
        } else {
            parameters.insert(name.to_owned(), value.to_owned());
        }
    }
    if !params.is_empty() && names.is_empty() {
        return Err("--param needs an --action".to_owned());
    }
    for name in names {
        actions.push(Action {
            name: name.clone(),
            utterance: None,
            parameters: parameters.clone(),
            backend_parameters: backend_parameters.clone(),
        });
    }
    if actions.is_empty() {
        return Err("no action to call: give --action NAME or --play FILE".to_owned());
    }
    for action in &actions {
        valid_name("action", &action.name)?;
        for name in action.parameters.keys().chain(&action.backend_parameters) {
            if name.is_empty() {
                return Err(format!(
                    "action {:?} has a parameter with no name",
                    action.name
                ));
            }
        }
    }
    Ok(actions)
}

/// Parses a play file.
pub fn parse_play(text: &str) -> Result<Vec<Action>, String> {
    let file: PlayFile = toml::from_str(text).map_err(|e| e.to_string())?;
    Ok(file.action)
}

/// An action name goes into the URL path: NUGU's names are letters, digits, `_`, `-` and `.`.
fn valid_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} name {name:?}: use letters, digits, '_', '-' or '.' (it is a URL path segment)"
        ))
    }
}

/// Which rule a request's answer is judged by, besides the response rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The request as the NUGU docs print it.
    Docs,
    /// A shape NUGU is known to send.
    Tolerance,
    /// A Play Builder test call.
    PlayBuilder,
    /// A Private Play request without an enrolled user.
    NoEnrolledUser,
    /// An AudioPlayer event.
    AudioEvent,
    /// An action the play does not define.
    UnknownAction,
}

impl Kind {
    /// The rule that needs this request to get 200 (the docs request's is `http-200-json`).
    pub fn rule(self) -> &'static str {
        match self {
            Kind::Docs => "http-200-json",
            Kind::Tolerance => "tolerance",
            Kind::PlayBuilder => "play-builder",
            Kind::NoEnrolledUser => "private-play",
            Kind::AudioEvent => "audio-events",
            Kind::UnknownAction => "unknown-action",
        }
    }
}

/// One request NUGU would send, and the body to send (made by `NuguRequest`, then reshaped for
/// the tolerance cases the builder does not make).
#[derive(Clone, Debug)]
pub struct Probe {
    /// `action/variant`, for the report.
    pub label: String,
    pub kind: Kind,
    pub request: NuguRequest,
    /// The body; `None` sends `request`'s own.
    pub body: Option<String>,
    /// The parameters the answer's `output` must hold.
    pub parameters: Vec<String>,
}

impl Probe {
    /// The bytes to send.
    pub fn body(&self) -> String {
        self.body
            .clone()
            .unwrap_or_else(|| self.request.to_json().to_string())
    }
}

/// The action's request as the docs print it: its parameters, the backend ones null, the
/// made-up enrolled user.
pub fn docs_request(action: &Action, prefix: &str, api_key: Option<&str>) -> NuguRequest {
    let user = TestUser::new(USER_NAME, USER_PHONE, USER_EMAIL).tag("NUGU-CHECK-1");
    let mut request = NuguRequest::action(&action.name)
        .path_prefix(prefix)
        .enrolled_user(user);
    request = match api_key {
        Some(key) => request.api_key(key),
        None => request.without_api_key(),
    };
    for (name, value) in &action.parameters {
        request = request.parameter(name, value);
    }
    for name in &action.backend_parameters {
        request = request.null_parameter(name);
    }
    request
}

/// The AudioPlayer events of the docs, each with its stream's token and offset.
pub const AUDIO_EVENTS: &[&str] = &[
    "PlaybackStarted",
    "PlaybackFinished",
    "PlaybackStopped",
    "PlaybackPaused",
    "PlaybackResumed",
    "PlaybackFailed",
    "ProgressReportDelayElapsed",
    "ProgressReportIntervalElapsed",
    "NearlyFinished",
];

/// Every request for `action`.
pub fn probes(action: &Action, prefix: &str, api_key: Option<&str>) -> Vec<Probe> {
    let docs = docs_request(action, prefix, api_key);
    let parameters: Vec<String> = action
        .parameters
        .keys()
        .chain(&action.backend_parameters)
        .cloned()
        .collect();
    let name = &action.name;
    let probe = |variant: &str, kind, request: NuguRequest, body: Option<String>| Probe {
        label: format!("{name}/{variant}"),
        kind,
        request,
        body,
        parameters: parameters.clone(),
    };
    let mut probes = vec![probe("docs", Kind::Docs, docs.clone(), None)];
    for (variant, body) in tolerance_bodies(&docs) {
        probes.push(probe(variant, Kind::Tolerance, docs.clone(), Some(body)));
    }
    probes.push(probe(
        "play-builder",
        Kind::PlayBuilder,
        docs.clone().play_builder_call(),
        None,
    ));
    probes.push(probe(
        "no-enrolled-user",
        Kind::NoEnrolledUser,
        docs.clone().without_enrolled_user(),
        None,
    ));
    for event in AUDIO_EVENTS {
        let mut request = docs
            .clone()
            .audio_player("PLAYING", Some("nugu-check-track"), 42_000)
            .event(
                &format!("AudioPlayer.{event}"),
                Some("nugu-check-track"),
                42_000,
            );
        if *event == "PlaybackFailed" {
            request = request
                .field(
                    "/event/error",
                    json!({ "type": "MEDIA_ERROR_UNKNOWN", "message": "nugu-check" }),
                )
                .field(
                    "/event/currentPlaybackState",
                    json!({
                        "token": "nugu-check-track",
                        "offsetInMilliseconds": 42_000,
                        "playerActivity": "PLAYING",
                    }),
                );
        }
        probes.push(probe(event, Kind::AudioEvent, request, None));
    }
    probes
}

/// The request for an action no play defines.
pub fn unknown_action(prefix: &str, api_key: Option<&str>) -> Probe {
    let action = Action {
        name: "nugu_check_undefined_action".to_owned(),
        ..Action::default()
    };
    Probe {
        label: format!("{}/docs", action.name),
        kind: Kind::UnknownAction,
        request: docs_request(&action, prefix, api_key),
        body: None,
        parameters: Vec::new(),
    }
}

/// The request model's fixture classes (tests/fixtures/tolerance), applied to the docs request.
fn tolerance_bodies(docs: &NuguRequest) -> Vec<(&'static str, String)> {
    let base = docs.to_json();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut body = base.clone();
        f(&mut body);
        body.to_string()
    };
    let set = |pointer: &'static str, value: Value| {
        move |body: &mut Value| {
            if let Some(slot) = body.pointer_mut(pointer) {
                *slot = value.clone();
            }
        }
    };
    vec![
        (
            "no-version",
            edit(&|b| {
                if let Some(object) = b.as_object_mut() {
                    object.remove("version");
                }
            }),
        ),
        (
            "null-objects",
            edit(&|b| {
                for pointer in [
                    "/context/supportedInterfaces",
                    "/context/privatePlay",
                    "/context/device/state",
                ] {
                    set(pointer, Value::Null)(b);
                }
                b["event"] = Value::Null;
                b["context"]["session"]["accessToken"] = Value::Null;
            }),
        ),
        (
            "null-context",
            edit(&|b| {
                b["context"] = Value::Null;
            }),
        ),
        (
            "string-booleans",
            edit(&|b| {
                set("/context/session/isNew", json!("true"))(b);
                set("/context/session/isPlayBuilderRequest", json!("False"))(b);
            }),
        ),
        (
            "null-backend-parameter",
            edit(&|b| {
                b["action"]["parameters"]["nugu_check_backend"] =
                    json!({ "type": null, "value": null });
            }),
        ),
        (
            "unknown-fields",
            edit(&|b| {
                b["nuguCheckFuture"] = json!({ "added": "later" });
                b["action"]["nuguCheckFuture"] = json!(1);
                b["context"]["nuguCheckFuture"] = json!([1, "two"]);
                b["context"]["device"]["state"] = json!({ "volume": 7, "nuguCheck": true });
            }),
        ),
        (
            "numeric-values",
            edit(&|b| {
                b["action"]["parameters"]["nugu_check_count"] =
                    json!({ "type": "BID_QT_COUNT", "value": 3 });
                b["action"]["parameters"]["nugu_check_flag"] = json!({ "value": true });
            }),
        ),
        (
            "hangul-text",
            edit(&|b| {
                b["action"]["parameters"]["nugu_check_text"] =
                    json!({ "type": null, "value": "서울 \"강남\" 지점\n\t\\ 😀" });
            }),
        ),
        ("escaped-text", escape_non_ascii(&base.to_string())),
    ]
}

/// The same JSON with every non-ASCII character as `\uXXXX` escapes, as some senders write it.
/// Outside strings JSON is ASCII, so every such character is inside a string.
fn escape_non_ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_play_file_lists_actions_with_parameters_and_backend_parameters() {
        let actions = parse_play(
            r#"
            [[action]]
            name = "check_in"
            utterance = "출근 체크해줘"
            parameters = { place = "lobby" }
            backend_parameters = ["checkInTime"]
            "#,
        )
        .unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].parameters["place"], "lobby");
        assert_eq!(actions[0].backend_parameters, ["checkInTime"]);
        assert!(parse_play("[[action]]\nname = \"a\"\ntypo = 1\n").is_err());
    }

    #[test]
    fn bad_action_names_and_params_are_typed_errors() {
        assert!(actions(None, &["a b".to_owned()], &[]).is_err());
        assert!(actions(None, &["a".to_owned()], &["novalue".to_owned()]).is_err());
        assert!(actions(None, &[], &[]).is_err());
        let ok = actions(
            None,
            &["a".to_owned()],
            &["x=1".to_owned(), "y=".to_owned()],
        )
        .unwrap();
        assert_eq!(ok[0].backend_parameters, ["y"]);
    }

    #[test]
    fn every_probe_body_is_json_and_escaped_text_is_ascii() {
        let action = Action {
            name: "check_in".to_owned(),
            parameters: [("place".to_owned(), "로비".to_owned())].into(),
            ..Action::default()
        };
        let probes = probes(&action, "/nugu", Some("k"));
        for probe in &probes {
            let body: Value = serde_json::from_str(&probe.body()).unwrap();
            assert_eq!(body["action"]["actionName"], "check_in", "{}", probe.label);
        }
        let escaped = probes
            .iter()
            .find(|p| p.label.ends_with("escaped-text"))
            .unwrap();
        assert!(escaped.body().is_ascii());
        assert!(escaped.body().contains("\\ub85c"));
    }
}
