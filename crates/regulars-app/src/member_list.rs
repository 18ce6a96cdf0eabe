//! Resolving a member list (ids, phones, e-mail addresses) into members: the step before a static
//! audience is saved or a batch of manual tags is given. Ids pass through (the use case they feed
//! refuses unknown ones); a contact names every member who has it, and one nobody has is
//! reported, not refused, since a brand's lists of addresses always hold some non-members.

use std::collections::HashSet;

use regulars_domain::{MemberId, MemberList};

use crate::{App, AppResult};

/// The members a list names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedMembers {
    /// Each named member once: the ids in the list's order, then the members its contacts name.
    pub members: Vec<MemberId>,
    /// The phones and addresses that name no member, as normalised.
    pub unmatched: Vec<String>,
}

impl App {
    /// The members a list names by id, phone or e-mail.
    pub async fn resolve_members(&self, list: &MemberList) -> AppResult<ResolvedMembers> {
        let mut seen: HashSet<MemberId> = HashSet::new();
        let mut members: Vec<MemberId> = Vec::new();
        for id in &list.ids {
            if seen.insert(id.clone()) {
                members.push(id.clone());
            }
        }
        if !list.has_contacts() {
            return Ok(ResolvedMembers {
                members,
                unmatched: Vec::new(),
            });
        }
        let mut matched: HashSet<String> = HashSet::new();
        for chunk in ContactChunks::new(list) {
            let found = self.store.find_members_by_contact(chunk.0, chunk.1).await?;
            for (contact, id) in found {
                matched.insert(contact);
                if seen.insert(id.clone()) {
                    members.push(id);
                }
            }
        }
        let contacts = list
            .phones
            .iter()
            .map(|p| p.as_str())
            .chain(list.emails.iter().map(|e| e.as_str()));
        let mut reported: HashSet<&str> = HashSet::new();
        let unmatched = contacts
            .filter(|c| !matched.contains(*c) && reported.insert(c))
            .map(str::to_owned)
            .collect();
        Ok(ResolvedMembers { members, unmatched })
    }
}

/// The list's phones and e-mails in slices of at most [`ContactChunks::SIZE`], so one query
/// never carries an unbounded parameter.
struct ContactChunks<'a> {
    phones: std::slice::Chunks<'a, regulars_domain::Phone>,
    emails: std::slice::Chunks<'a, regulars_domain::Email>,
}

impl<'a> ContactChunks<'a> {
    const SIZE: usize = 10_000;

    fn new(list: &'a MemberList) -> Self {
        Self {
            phones: list.phones.chunks(Self::SIZE),
            emails: list.emails.chunks(Self::SIZE),
        }
    }
}

impl<'a> Iterator for ContactChunks<'a> {
    type Item = (&'a [regulars_domain::Phone], &'a [regulars_domain::Email]);

    fn next(&mut self) -> Option<Self::Item> {
        match (self.phones.next(), self.emails.next()) {
            (None, None) => None,
            (phones, emails) => Some((phones.unwrap_or(&[]), emails.unwrap_or(&[]))),
        }
    }
}
