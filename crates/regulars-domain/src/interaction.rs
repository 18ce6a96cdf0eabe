//! Interactions: a member's contact with the brand outside purchases (LINE messages, comments,
//! store visits), the I in RFIM.

use jiff::Timestamp;

use crate::{InteractionId, MemberId};

/// Where an interaction happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InteractionChannel {
    /// The LINE official account.
    Line,
    /// Facebook.
    Facebook,
    /// Instagram.
    Instagram,
    /// A physical store.
    Store,
    /// The website or app.
    Web,
}

/// What kind of interaction it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InteractionKind {
    /// A message sent to the brand.
    Message,
    /// A comment on a post.
    Comment,
    /// A like or reaction.
    Like,
    /// A share.
    Share,
    /// Watching a live stream.
    LiveView,
    /// A visit (to a store or the website) without a purchase.
    Visit,
}

macro_rules! named_enum {
    ($ty:ident, $what:literal, $($variant:ident => $name:literal),+) => {
        impl $ty {
            /// Every value, in a fixed order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The canonical name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name),+
                }
            }

            /// The value with this canonical name (any case).
            pub fn parse(value: &str) -> Result<Self, String> {
                let wanted = value.trim().to_lowercase();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        format!("`{}` is not {} ({})", value.trim(), $what, names.join(", "))
                    })
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(InteractionChannel, "an interaction channel",
    Line => "line", Facebook => "facebook", Instagram => "instagram", Store => "store", Web => "web");
named_enum!(InteractionKind, "an interaction kind",
    Message => "message", Comment => "comment", Like => "like", Share => "share",
    LiveView => "live_view", Visit => "visit");

/// One interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interaction {
    /// Its id (derived from its content when the source had none).
    pub interaction_id: InteractionId,
    /// Who interacted.
    pub member_id: MemberId,
    /// When.
    pub at: Timestamp,
    /// Where.
    pub channel: InteractionChannel,
    /// What kind.
    pub kind: InteractionKind,
}
