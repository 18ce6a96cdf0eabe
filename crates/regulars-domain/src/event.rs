//! Behaviour events: what a member looked at, put in a cart, favoured or searched for.

use jiff::Timestamp;

use crate::interaction::named_enum;
use crate::{EventId, MemberId, Sku};

/// What a member did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Viewed a product or category.
    View,
    /// Added a product to the cart.
    CartAdd,
    /// Marked a product as a favourite.
    Favorite,
    /// Searched.
    Search,
    /// Started checking out.
    CheckoutStarted,
}

named_enum!(EventKind, "an event kind",
    View => "view", CartAdd => "cart_add", Favorite => "favorite", Search => "search",
    CheckoutStarted => "checkout_started");

/// One behaviour event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BehaviourEvent {
    /// Its id (derived from its content when the source had none).
    pub event_id: EventId,
    /// Who.
    pub member_id: MemberId,
    /// When.
    pub at: Timestamp,
    /// What.
    pub kind: EventKind,
    /// The product, for views, cart adds and favourites.
    pub sku: Option<Sku>,
    /// The category, when known.
    pub category: Option<String>,
    /// The search text, for searches.
    pub query: Option<String>,
}

impl BehaviourEvent {
    /// Checks that the event carries what its kind needs: a query for a search, a product or
    /// category for views, cart adds and favourites. Returns `(field, reason)`.
    pub fn missing_subject(&self) -> Option<(&'static str, &'static str)> {
        match self.kind {
            EventKind::Search if self.query.is_none() => {
                Some(("query", "is required for a search"))
            }
            EventKind::View | EventKind::CartAdd | EventKind::Favorite
                if self.sku.is_none() && self.category.is_none() =>
            {
                Some(("sku", "a sku or a category is required for this kind"))
            }
            _ => None,
        }
    }
}
