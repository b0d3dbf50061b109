//! Readers that accept what the pages show, not only what their tables say.

use serde::{Deserialize, Deserializer};

/// An id written as a string or as an integer.
pub(crate) fn id_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Signed(i64),
        Unsigned(u64),
    }
    Ok(match Id::deserialize(deserializer)? {
        Id::Text(text) => text,
        Id::Signed(n) => n.to_string(),
        Id::Unsigned(n) => n.to_string(),
    })
}

/// A string field that the pages' tables type as "array of string" while their examples show a
/// string (`groups[].token`, `groups[].alias`, `targetGroupId` of "update user"): a string, or
/// the first string of an array; anything else reads as `None`.
pub(crate) fn string_or_first<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: From<String>,
{
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Some(T::from(text)),
        serde_json::Value::Array(items) => items.into_iter().find_map(|item| match item {
            serde_json::Value::String(text) => Some(T::from(text)),
            _ => None,
        }),
        _ => None,
    })
}

/// A user's `group`: the `{id, name}` object the examples show; the list page's table types it
/// as a string, so a string reads as the group's id; anything else (`null`, a number) reads as
/// `None` rather than failing the whole page.
pub(crate) fn group_ref<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<super::answer::GroupRef>, D::Error> {
    use super::answer::GroupRef;
    use super::ids::GroupId;
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(id) if !id.trim().is_empty() => Some(GroupRef {
            id: GroupId::new(id),
            name: None,
        }),
        object @ serde_json::Value::Object(_) => serde_json::from_value(object).ok(),
        _ => None,
    })
}

/// `null` or absent reads as the type's default (an empty list, mostly).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `Y`/`N` flags of the user detail answer; anything else reads as `None`.
pub(crate) mod yes_no {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(flag: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        match flag {
            Some(true) => s.serialize_str("Y"),
            Some(false) => s.serialize_str("N"),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(match Option::<String>::deserialize(d)?.as_deref() {
            Some("Y") | Some("y") => Some(true),
            Some("N") | Some("n") => Some(false),
            _ => None,
        })
    }
}
