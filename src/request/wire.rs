//! The request's wire form for serde: the same names, shapes and error messages as the NUGU
//! JSON, with strings as `S` (`String` when deserializing, `&str` when serializing) and raw
//! parts as `R`.
//!
//! Deserializing through serde is the path of every deserializer other than
//! [`ActionRequest::from_bytes`](crate::ActionRequest::from_bytes)'s scanner, and the authority
//! that the scanner falls back to: it reports errors with their JSON path.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::action::has_duplicate;

#[derive(Serialize, Deserialize)]
#[serde(rename = "ActionRequest", rename_all = "camelCase")]
#[serde(bound(deserialize = "S: Deserialize<'de> + AsRef<str>, R: Deserialize<'de>"))]
pub(super) struct WireRequest<S, R> {
    pub(super) version: S,
    pub(super) action: WireAction<S>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) event: Option<R>,
    #[serde(default = "WireContext::empty")]
    pub(super) context: WireContext<S, R>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) profile: Option<WireProfile<S>>,
}

fn none<T>() -> Option<T> {
    None
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "Action", rename_all = "camelCase")]
#[serde(bound(deserialize = "S: Deserialize<'de> + AsRef<str>"))]
pub(super) struct WireAction<S> {
    pub(super) action_name: S,
    #[serde(default = "WireParameters::empty")]
    pub(super) parameters: WireParameters<S>,
}

/// `action.parameters` in arrival order; a `null` map is empty, a `null` entry is
/// `{type: null, value: null}`, and duplicate names are refused.
pub(super) struct WireParameters<S>(pub(super) Vec<(S, WireParameter<S>)>);

impl<S> WireParameters<S> {
    fn empty() -> Self {
        Self(Vec::new())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "Parameter")]
pub(super) struct WireParameter<S> {
    #[serde(rename = "type", default = "none")]
    pub(super) entity_type: Option<S>,
    #[serde(default = "none")]
    pub(super) value: Option<S>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "Context", rename_all = "camelCase")]
pub(super) struct WireContext<S, R> {
    #[serde(default = "WireSession::empty")]
    pub(super) session: WireSession<S>,
    #[serde(default = "WireDevice::empty")]
    pub(super) device: WireDevice<S, R>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) supported_interfaces: Option<R>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) private_play: Option<R>,
}

impl<S, R> WireContext<S, R> {
    fn empty() -> Self {
        Self {
            session: WireSession::empty(),
            device: WireDevice::empty(),
            supported_interfaces: None,
            private_play: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "Session", rename_all = "camelCase")]
pub(super) struct WireSession<S> {
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) id: Option<S>,
    #[serde(default)]
    pub(super) is_new: bool,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) access_token: Option<S>,
    #[serde(default)]
    pub(super) is_play_builder_request: bool,
}

impl<S> WireSession<S> {
    fn empty() -> Self {
        Self {
            id: None,
            is_new: false,
            access_token: None,
            is_play_builder_request: false,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "Device")]
pub(super) struct WireDevice<S, R> {
    #[serde(
        rename = "type",
        default = "none",
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) device_type: Option<S>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) state: Option<R>,
}

impl<S, R> WireDevice<S, R> {
    fn empty() -> Self {
        Self {
            device_type: None,
            state: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "Profile", rename_all = "camelCase")]
pub(super) struct WireProfile<S> {
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) private_play: Option<WirePrivatePlay<S>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "PrivatePlay", rename_all = "camelCase")]
pub(super) struct WirePrivatePlay<S> {
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) device_unique_id: Option<S>,
    pub(super) user_key: S,
    pub(super) device_key: S,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) enrolled_user: Option<WireEnrolledUser<S>>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "EnrolledUser", rename_all = "camelCase")]
pub(super) struct WireEnrolledUser<S> {
    pub(super) name: S,
    pub(super) phone_no: S,
    pub(super) email: S,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) tag: Option<S>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) user_token: Option<S>,
    #[serde(default = "none", skip_serializing_if = "Option::is_none")]
    pub(super) service_type: Option<S>,
}

impl<S: Serialize> Serialize for WireParameters<S> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, parameter) in &self.0 {
            map.serialize_entry(name, parameter)?;
        }
        map.end()
    }
}

impl<'de, S: Deserialize<'de> + AsRef<str>> Deserialize<'de> for WireParameters<S> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_option(OptionalParameters(PhantomData))
    }
}

/// Lets `"parameters": null` mean "no parameters".
struct OptionalParameters<S>(PhantomData<S>);

impl<'de, S: Deserialize<'de> + AsRef<str>> Visitor<'de> for OptionalParameters<S> {
    type Value = WireParameters<S>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of parameter name to {type, value}")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(WireParameters::empty())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries: Vec<(S, WireParameter<S>)> =
            Vec::with_capacity(map.size_hint().unwrap_or(4).min(64));
        while let Some(name) = map.next_key::<S>()? {
            let parameter =
                map.next_value::<Option<WireParameter<S>>>()?
                    .unwrap_or(WireParameter {
                        entity_type: None,
                        value: None,
                    });
            entries.push((name, parameter));
        }
        if has_duplicate(entries.iter().map(|(name, _)| name.as_ref())) {
            return Err(de::Error::custom("duplicate parameter name"));
        }
        Ok(WireParameters(entries))
    }
}

/// A raw part when serializing: its text, written verbatim.
pub(super) struct RawText<'a>(pub(super) &'a str);

impl Serialize for RawText<'_> {
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        super::text::RawJson::new(self.0).serialize(serializer)
    }
}
