//! The documented enums, open to values NUGU adds later.

macro_rules! open_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$doc])*
        ///
        /// Values the documentation does not list are kept in `Other`.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this version of the crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <String as serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value.as_str()))
            }
        }
    };
}

pub(crate) use open_enum;

open_enum! {
    /// Whether the user agreed to receive Biz API messages (`apiAgreeType`). The user list page
    /// also shows `AGREE`, which reads as `Other("AGREE")`.
    ApiAgreeType {
        /// `ALL`: agreed.
        All = "ALL",
        /// `SOME`: agreed for some plays.
        Some = "SOME",
        /// `NONE`: not agreed.
        None = "NONE",
    }
}

open_enum! {
    /// Whether the user authenticated with the partner's account (`authType`).
    AuthType {
        /// `ALL`: authenticated.
        All = "ALL",
        /// `SOME`: authenticated for some plays.
        Some = "SOME",
        /// `NONE`: not authenticated.
        None = "NONE",
    }
}

open_enum! {
    /// Whether an invitation email is still valid (`status` of an invited user).
    InvitationStatus {
        /// `ENABLE`: valid, waiting for the user.
        Enable = "ENABLE",
        /// `DISABLE`: no longer valid (expired after 72 hours).
        Disable = "DISABLE",
    }
}
