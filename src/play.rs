//! [`Play`]: the backend parameters of a play's actions, declared once for every answer.

use std::fmt;
use std::sync::Arc;

use crate::ActionRequest;

/// One action's declared parameter names, shared by every request of that action (a clone is a
/// reference count).
pub(crate) type Declared = Arc<[Box<str>]>;

/// The backend parameters of a play's actions, as defined in Play Builder.
///
/// NUGU needs every backend parameter of the action in every answer's `output`, `null` when it
/// has no value, on failure too; and it leaves out of the request those whose value is null.
/// Declare them once here and give the `Play` to
/// [`PrivatePlayLayer::play`](crate::PrivatePlayLayer::play): every
/// [`ActionResponse::from_request`](crate::ActionResponse::from_request) of that action (the
/// handler's, whatever its `resultCode`) and every NUGU-shaped answer of the layer itself (the
/// [`enrolled_users_only`](crate::PrivatePlayLayer::enrolled_users_only) answer) then names
/// each of them: with the handler's value if it set one, else the request's, else `null`.
///
/// An utterance parameter that is not required may be left out the same way when it is null:
/// list it too.
///
/// ```
/// use nugu_proxy::{ActionRequest, ActionResponse, Play};
///
/// let play = Play::new()
///     .action("book", ["roomId", "bookingResult"])
///     .action("cancel", ["cancelResult"]);
///
/// // The layer does this to each request; a handler's unit test may do it by hand.
/// let mut request = ActionRequest::from_slice(r#"{"version":"2.0","context":{},
///   "action":{"actionName":"book","parameters":{"room":{"type":"ROOM","value":"3층"}}}}"#).unwrap();
/// play.attach(&mut request);
///
/// let response = ActionResponse::from_request(&request).output("roomId", "R301").exception("ROOM_TAKEN");
/// let json: serde_json::Value = serde_json::from_slice(&response.to_json()).unwrap();
/// assert_eq!(json["output"], serde_json::json!({"room": "3층", "roomId": "R301", "bookingResult": null}));
/// ```
#[derive(Clone, Default)]
pub struct Play {
    /// Sorted by action name: one binary search per request.
    actions: Vec<(Box<str>, Declared)>,
}

impl Play {
    /// A play with no action declared.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares the backend parameters of the action `name`. Declaring an action again adds
    /// the new names; a name given twice counts once.
    pub fn action<P>(mut self, name: &str, backend_parameters: P) -> Self
    where
        P: IntoIterator,
        P::Item: AsRef<str>,
    {
        let at = self.position(name);
        let mut names: Vec<Box<str>> = match at {
            Ok(i) => self.actions[i].1.to_vec(),
            Err(_) => Vec::new(),
        };
        for parameter in backend_parameters {
            let parameter = parameter.as_ref();
            if !names.iter().any(|known| **known == *parameter) {
                names.push(parameter.into());
            }
        }
        let declared = Declared::from(names);
        match at {
            Ok(i) => self.actions[i].1 = declared,
            Err(i) => self.actions.insert(i, (name.into(), declared)),
        }
        self
    }

    /// The backend parameters declared for the action `name`, in the order declared.
    ///
    /// ```
    /// let play = nugu_proxy::Play::new().action("book", ["roomId", "bookingResult"]);
    /// assert!(play.backend_parameters("book").eq(["roomId", "bookingResult"]));
    /// assert_eq!(play.backend_parameters("cancel").count(), 0);
    /// ```
    pub fn backend_parameters(&self, action: &str) -> impl ExactSizeIterator<Item = &str> {
        self.declared(action)
            .map_or(&[][..], |declared| &declared[..])
            .iter()
            .map(|name| &**name)
    }

    /// Makes `request` carry its action's declared backend parameters, so that
    /// [`ActionResponse::from_request`](crate::ActionResponse::from_request) names them. The
    /// layer does it to every request it hands on; a request of an action not declared is left
    /// as it is.
    pub fn attach(&self, request: &mut ActionRequest) {
        // An empty play (the layer's default) costs nothing per request.
        if self.actions.is_empty() {
            return;
        }
        if let Some(declared) = self.declared(request.action_name()) {
            request.declare(declared.clone());
        }
    }

    fn declared(&self, action: &str) -> Option<&Declared> {
        self.position(action).ok().map(|i| &self.actions[i].1)
    }

    fn position(&self, action: &str) -> Result<usize, usize> {
        self.actions
            .binary_search_by(|(name, _)| (**name).cmp(action))
    }
}

impl fmt::Debug for Play {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.actions.iter().map(|(name, declared)| (name, declared)))
            .finish()
    }
}
