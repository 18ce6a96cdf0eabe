//! A list of members as a brand hands it over: by their ids, or by the phones and e-mail
//! addresses it knows them by (a static audience, a batch of manual tags).

use crate::{Email, MemberId, Phone};

/// Members named by id, phone or e-mail; a phone or address may name several members (a shared
/// family phone) or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberList {
    /// Members by the brand's id.
    pub ids: Vec<MemberId>,
    /// Members by phone, normalised.
    pub phones: Vec<Phone>,
    /// Members by e-mail address, normalised.
    pub emails: Vec<Email>,
}

impl MemberList {
    /// True when it names anyone by a contact rather than an id.
    pub fn has_contacts(&self) -> bool {
        !self.phones.is_empty() || !self.emails.is_empty()
    }
}
