//! `action`: the action's name and its parameters.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::text::Text;

/// The `action` object: which Play Builder action is called, with its parameters.
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"check_in","parameters":{"place":{"type":"LOCATION","value":"HQ"}}},"context":{}}"#).unwrap();
/// let action = request.action();
/// assert_eq!(action.name(), "check_in");
/// assert_eq!(action.parameters().value("place"), Some("HQ"));
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    action_name: Text,
    #[serde(default)]
    parameters: Parameters,
}

impl Action {
    /// The action's name (`action.actionName`).
    pub fn name(&self) -> &str {
        &self.action_name
    }

    /// The action's parameters (`action.parameters`), in the order they arrived.
    pub fn parameters(&self) -> &Parameters {
        &self.parameters
    }
}

/// `action.parameters`: parameter name to `{type, value}`, in the order they arrived.
///
/// NUGU leaves out parameters whose value is null; the response must still name them (see
/// [`ActionResponse`](crate::ActionResponse)). Duplicate names are rejected.
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(r#"{"version":"2.0","action":{"actionName":"a","parameters":{"date":{"type":"BID_DT_DAY","value":"오늘"},"time":{"type":null,"value":null}}},"context":{}}"#).unwrap();
/// let params = request.action().parameters();
/// assert_eq!(params.len(), 2);
/// assert_eq!(params.get("date").unwrap().entity_type(), Some("BID_DT_DAY"));
/// assert_eq!(params.value("time"), None);
/// let names: Vec<&str> = params.iter().map(|(name, _)| name).collect();
/// assert_eq!(names, ["date", "time"]);
/// ```
#[derive(Clone, Default)]
pub struct Parameters {
    entries: Vec<(Text, Parameter)>,
}

impl Parameters {
    /// The parameter called `name`, if the request has it.
    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.entries
            .iter()
            .find(|(key, _)| key.as_str() == name)
            .map(|(_, parameter)| parameter)
    }

    /// The value of the parameter called `name`; `None` when it is absent or null.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Parameter::value)
    }

    /// The parameters with their names, in the order they arrived.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Parameter)> {
        self.entries.iter().map(|(key, p)| (key.as_str(), p))
    }

    /// How many parameters the request has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the request has no parameters.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn entries(&self) -> &[(Text, Parameter)] {
        &self.entries
    }
}

impl fmt::Debug for Parameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl Serialize for Parameters {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, parameter) in &self.entries {
            map.serialize_entry(key, parameter)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Parameters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ParametersVisitor;

        impl<'de> Visitor<'de> for ParametersVisitor {
            type Value = Parameters;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of parameter name to {type, value}")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parameters, A::Error> {
                let mut entries: Vec<(Text, Parameter)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(4).min(64));
                while let Some(key) = map.next_key::<Text>()? {
                    let parameter = map.next_value::<Option<Parameter>>()?.unwrap_or_default();
                    entries.push((key, parameter));
                }
                if has_duplicate(&entries) {
                    return Err(de::Error::custom("duplicate parameter name"));
                }
                Ok(Parameters { entries })
            }
        }

        deserializer.deserialize_option(OptionalParameters(ParametersVisitor))
    }
}

/// Lets `"parameters": null` mean "no parameters".
struct OptionalParameters<V>(V);

impl<'de, V: Visitor<'de, Value = Parameters>> Visitor<'de> for OptionalParameters<V> {
    type Value = Parameters;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> Result<Parameters, E> {
        Ok(Parameters::default())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Parameters, D::Error> {
        deserializer.deserialize_map(self.0)
    }
}

fn has_duplicate(entries: &[(Text, Parameter)]) -> bool {
    // Plays have a handful of parameters: a pairwise scan beats hashing there; large maps
    // (hostile or generated) get a set so the check stays linear.
    if entries.len() <= 16 {
        entries
            .iter()
            .enumerate()
            .any(|(i, (key, _))| entries[..i].iter().any(|(seen, _)| seen == key))
    } else {
        let mut seen = std::collections::HashSet::with_capacity(entries.len());
        !entries.iter().all(|(key, _)| seen.insert(key.as_str()))
    }
}

/// One entry of `action.parameters`: `{type, value}`, each a string or null.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct Parameter {
    #[serde(rename = "type", default)]
    entity_type: Option<Text>,
    #[serde(default)]
    value: Option<Text>,
}

impl Parameter {
    /// The entity type Play Builder analysed the utterance as (`type`), if any.
    pub fn entity_type(&self) -> Option<&str> {
        self.entity_type.as_deref()
    }

    /// The parameter's value (`value`), if not null.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    pub(crate) fn value_text(&self) -> Option<&Text> {
        self.value.as_ref()
    }
}

impl fmt::Debug for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values come from what the user said and may hold personal data: show their size only.
        f.debug_struct("Parameter")
            .field("type", &self.entity_type)
            .field("value", &self.value.as_ref().map(|v| ValueLen(v.len())))
            .finish()
    }
}

struct ValueLen(usize);

impl fmt::Debug for ValueLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}
