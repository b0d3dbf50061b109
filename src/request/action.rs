//! `action`: the action's name and its parameters.

use std::fmt;

use bytestring::ByteString;

use super::model::{ActionFields, ParameterFields};
use super::span::Span;

/// The `action` object: which Play Builder action is called, with its parameters. A view into
/// the [`ActionRequest`](crate::ActionRequest) it comes from.
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(br#"{"version":"2.0","action":{"actionName":"check_in","parameters":{"place":{"type":"LOCATION","value":"HQ"}}},"context":{}}"#).unwrap();
/// let action = request.action();
/// assert_eq!(action.name(), "check_in");
/// assert_eq!(action.parameters().value("place"), Some("HQ"));
/// ```
#[derive(Clone, Copy)]
pub struct Action<'a> {
    pub(super) src: &'a ByteString,
    pub(super) fields: &'a ActionFields,
}

impl<'a> Action<'a> {
    /// The action's parameters (`action.parameters`), in the order they arrived.
    pub fn parameters(self) -> Parameters<'a> {
        Parameters {
            src: self.src,
            entries: &self.fields.parameters,
        }
    }
}

/// `action.parameters`: parameter name to `{type, value}`, in the order they arrived.
///
/// NUGU leaves out parameters whose value is null; the response must still name them (see
/// [`ActionResponse`](crate::ActionResponse)). Duplicate names are rejected.
///
/// ```
/// # let request = nugu_proxy::ActionRequest::from_slice(r#"{"version":"2.0","action":{"actionName":"a","parameters":{"date":{"type":"BID_DT_DAY","value":"오늘"},"time":{"type":null,"value":null}}},"context":{}}"#).unwrap();
/// let params = request.parameters();
/// assert_eq!(params.len(), 2);
/// assert_eq!(params.get("date").unwrap().entity_type(), Some("BID_DT_DAY"));
/// assert_eq!(params.value("time"), None);
/// let names: Vec<&str> = params.iter().map(|(name, _)| name).collect();
/// assert_eq!(names, ["date", "time"]);
/// ```
#[derive(Clone, Copy)]
pub struct Parameters<'a> {
    src: &'a ByteString,
    entries: &'a [(Span, ParameterFields)],
}

impl<'a> Parameters<'a> {
    /// The parameter called `name`, if the request has it.
    pub fn get(self, name: &str) -> Option<Parameter<'a>> {
        self.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, parameter)| parameter)
    }

    /// The value of the parameter called `name`; `None` when it is absent or null.
    pub fn value(self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(Parameter::value)
    }

    /// The parameters with their names, in the order they arrived.
    pub fn iter(self) -> impl ExactSizeIterator<Item = (&'a str, Parameter<'a>)> {
        let src = self.src;
        self.entries.iter().map(move |(name, fields)| {
            let parameter = Parameter { src, fields };
            (name.get(src), parameter)
        })
    }

    /// How many parameters the request has.
    pub fn len(self) -> usize {
        self.entries.len()
    }

    /// Whether the request has no parameters.
    pub fn is_empty(self) -> bool {
        self.entries.is_empty()
    }

    /// The source the parameters' strings lie in, and where each name and value lies in it:
    /// the response echoes them without copying.
    pub(crate) fn spans(
        self,
    ) -> (
        &'a ByteString,
        impl ExactSizeIterator<Item = (Span, Option<Span>)> + 'a,
    ) {
        (
            self.src,
            self.entries.iter().map(|(name, p)| (*name, p.value)),
        )
    }
}

impl fmt::Debug for Parameters<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Whether two parameters share a name (a request with one is refused).
pub(super) fn has_duplicate<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> bool {
    // Plays have a handful of parameters: a pairwise scan is cheapest there; large maps
    // (generated or hostile) are sorted so the check stays O(n log n).
    if names.len() <= 16 {
        // Each name resolved once, on the stack.
        let names: smallvec::SmallVec<[&str; 16]> = names.collect();
        names
            .iter()
            .enumerate()
            .any(|(i, name)| names[..i].contains(name))
    } else {
        let mut names: Vec<&str> = names.collect();
        names.sort_unstable();
        names.windows(2).any(|pair| pair[0] == pair[1])
    }
}

/// One entry of `action.parameters`: `{type, value}`, each absent or null, or a string (a
/// `value` may also be a number or a boolean, kept as its JSON text).
#[derive(Clone, Copy)]
pub struct Parameter<'a> {
    pub(super) src: &'a ByteString,
    pub(super) fields: &'a ParameterFields,
}
