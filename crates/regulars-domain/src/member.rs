//! Members: the profile a brand sends, the member as stored, marketing consent per channel, and
//! the rule that merges a re-sent profile into the stored one.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::{Email, LineUserId, MemberId, Phone, StoreId};

/// A member's gender as the brand recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Another gender.
    Other,
}

impl Gender {
    /// Accepts `female`/`f`/`女`, `male`/`m`/`男`, `other`/`x`/`其他` in any case.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim().to_lowercase().as_str() {
            "female" | "f" | "woman" | "女" => Ok(Self::Female),
            "male" | "m" | "man" | "男" => Ok(Self::Male),
            "other" | "x" | "non-binary" | "nonbinary" | "其他" => Ok(Self::Other),
            other => Err(format!("`{other}` is not a gender (female, male or other)")),
        }
    }

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Female => "female",
            Self::Male => "male",
            Self::Other => "other",
        }
    }
}

/// A channel a member can consent to marketing on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsentChannel {
    /// LINE official account messages.
    Line,
    /// Text messages.
    Sms,
    /// E-mail.
    Email,
    /// App push notifications.
    Push,
}

impl ConsentChannel {
    /// Every channel, in a fixed order.
    pub const ALL: [Self; 4] = [Self::Line, Self::Sms, Self::Email, Self::Push];

    /// The canonical name (`line`, `sms`, `email`, `push`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Line => "line",
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Push => "push",
        }
    }

    /// The channel with this canonical name.
    pub fn parse(value: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|channel| channel.as_str() == value.trim().to_lowercase())
            .ok_or_else(|| format!("`{value}` is not a consent channel (line, sms, email, push)"))
    }
}

/// Whether a member agreed to marketing on one channel, when and how they said so.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Consent {
    /// The channel.
    pub channel: ConsentChannel,
    /// True when granted, false when refused or withdrawn.
    pub granted: bool,
    /// When it was given or withdrawn, if known.
    pub at: Option<Timestamp>,
    /// How it was given (`signup_form`, `pos`, `line_follow`), if known.
    pub source: Option<String>,
}

impl Consent {
    /// Reads `granted`/`yes`/`true`/`1`/`opt_in` or `denied`/`no`/`false`/`0`/`opt_out`/`withdrawn`.
    pub fn parse_granted(value: &str) -> Result<bool, String> {
        match value.trim().to_lowercase().as_str() {
            "granted" | "yes" | "y" | "true" | "1" | "opt_in" | "opt-in" | "subscribed" => Ok(true),
            "denied" | "no" | "n" | "false" | "0" | "opt_out" | "opt-out" | "withdrawn"
            | "unsubscribed" | "not_subscribed" => Ok(false),
            other => Err(format!("`{other}` is not a consent (granted or denied)")),
        }
    }
}

/// Which kind of fact first named a member whose profile had not arrived yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactOrigin {
    /// An order named the member.
    Order,
    /// An interaction named the member.
    Interaction,
    /// A behaviour event named the member.
    Event,
}

impl FactOrigin {
    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Interaction => "interaction",
            Self::Event => "event",
        }
    }

    /// The origin with this canonical name.
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "order" => Ok(Self::Order),
            "interaction" => Ok(Self::Interaction),
            "event" => Ok(Self::Event),
            other => Err(format!("`{other}` is not a fact origin")),
        }
    }
}

/// A member's profile as the brand sends it; absent fields are left as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberProfile {
    /// The brand's id for the member.
    pub member_id: MemberId,
    /// Display name.
    pub name: Option<String>,
    /// Phone, E.164.
    pub phone: Option<Phone>,
    /// E-mail address.
    pub email: Option<Email>,
    /// LINE user id.
    pub line_user_id: Option<LineUserId>,
    /// Birthday.
    pub birthday: Option<Date>,
    /// Gender.
    pub gender: Option<Gender>,
    /// Region (city or county), free text.
    pub region: Option<String>,
    /// When the member joined.
    pub joined_at: Option<Timestamp>,
    /// The store the member calls home.
    pub home_store: Option<StoreId>,
    /// Consent per channel, at most one each, ordered by channel.
    pub consents: Vec<Consent>,
    /// The member who referred this one.
    pub referrer: Option<MemberId>,
}

impl MemberProfile {
    /// A profile with only an id: what an order for an unknown member creates.
    pub fn empty(member_id: MemberId) -> Self {
        Self {
            member_id,
            name: None,
            phone: None,
            email: None,
            line_user_id: None,
            birthday: None,
            gender: None,
            region: None,
            joined_at: None,
            home_store: None,
            consents: Vec::new(),
            referrer: None,
        }
    }

    /// The consent on `channel`, if any.
    pub fn consent(&self, channel: ConsentChannel) -> Option<&Consent> {
        self.consents.iter().find(|c| c.channel == channel)
    }

    /// Sets the consent on its channel, keeping one per channel in channel order.
    pub fn set_consent(&mut self, consent: Consent) {
        self.consents.retain(|c| c.channel != consent.channel);
        self.consents.push(consent);
        self.consents.sort_by_key(|c| c.channel);
    }
}

/// A member as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Everything known of the profile.
    pub profile: MemberProfile,
    /// Set when a fact named the member before any profile arrived.
    pub created_from: Option<FactOrigin>,
    /// How many profile changes were applied; 0 for a member only facts have named.
    pub revision: i64,
}

/// One field of a member that a profile changed, with its old and new values as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberChange {
    /// The field's name.
    pub field: String,
    /// The value before, if any.
    pub old: Option<String>,
    /// The value after, if any.
    pub new: Option<String>,
}

/// Merges a profile into the stored member: every field the profile carries replaces the stored
/// one, absent fields stay, and a consent older than the stored one for its channel is ignored
/// (consents arrive out of order). Returns the merged member and what changed; no changes means
/// the profile was a duplicate.
pub fn merge_profile(existing: &Member, incoming: &MemberProfile) -> (Member, Vec<MemberChange>) {
    let mut merged = existing.clone();
    let mut changes = Vec::new();
    let target = &mut merged.profile;

    fn apply<T: Clone + PartialEq>(
        field: &str,
        slot: &mut Option<T>,
        incoming: Option<&T>,
        show: impl Fn(&T) -> String,
        changes: &mut Vec<MemberChange>,
    ) {
        if let Some(value) = incoming
            && slot.as_ref() != Some(value)
        {
            changes.push(MemberChange {
                field: field.to_owned(),
                old: slot.as_ref().map(&show),
                new: Some(show(value)),
            });
            *slot = Some(value.clone());
        }
    }

    apply(
        "name",
        &mut target.name,
        incoming.name.as_ref(),
        Clone::clone,
        &mut changes,
    );
    apply(
        "phone",
        &mut target.phone,
        incoming.phone.as_ref(),
        ToString::to_string,
        &mut changes,
    );
    apply(
        "email",
        &mut target.email,
        incoming.email.as_ref(),
        ToString::to_string,
        &mut changes,
    );
    apply(
        "line_user_id",
        &mut target.line_user_id,
        incoming.line_user_id.as_ref(),
        |v| v.as_str().to_owned(),
        &mut changes,
    );
    apply(
        "birthday",
        &mut target.birthday,
        incoming.birthday.as_ref(),
        ToString::to_string,
        &mut changes,
    );
    apply(
        "gender",
        &mut target.gender,
        incoming.gender.as_ref(),
        |g| g.as_str().to_owned(),
        &mut changes,
    );
    apply(
        "region",
        &mut target.region,
        incoming.region.as_ref(),
        Clone::clone,
        &mut changes,
    );
    apply(
        "joined_at",
        &mut target.joined_at,
        incoming.joined_at.as_ref(),
        ToString::to_string,
        &mut changes,
    );
    apply(
        "home_store",
        &mut target.home_store,
        incoming.home_store.as_ref(),
        ToString::to_string,
        &mut changes,
    );
    apply(
        "referrer",
        &mut target.referrer,
        incoming.referrer.as_ref(),
        ToString::to_string,
        &mut changes,
    );

    for consent in &incoming.consents {
        let stored = target.consent(consent.channel).cloned();
        let older_than_stored = matches!(
            (&stored, consent.at),
            (Some(Consent { at: Some(stored_at), .. }), Some(at)) if at < *stored_at
        );
        if stored.as_ref() == Some(consent) || older_than_stored {
            continue;
        }
        let show = |c: &Consent| {
            let mut text = if c.granted { "granted" } else { "denied" }.to_owned();
            if let Some(at) = c.at {
                text.push_str(&format!(" at {at}"));
            }
            if let Some(source) = &c.source {
                text.push_str(&format!(" via {source}"));
            }
            text
        };
        changes.push(MemberChange {
            field: format!("consent_{}", consent.channel.as_str()),
            old: stored.as_ref().map(show),
            new: Some(show(consent)),
        });
        target.set_consent(consent.clone());
    }

    if !changes.is_empty() {
        merged.revision += 1;
    }
    (merged, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str) -> Member {
        Member {
            profile: MemberProfile::empty(MemberId::parse(id).unwrap()),
            created_from: Some(FactOrigin::Order),
            revision: 0,
        }
    }

    fn consent(granted: bool, at: &str) -> Consent {
        Consent {
            channel: ConsentChannel::Sms,
            granted,
            at: Some(at.parse().unwrap()),
            source: Some("pos".to_owned()),
        }
    }

    #[test]
    fn a_profile_fills_a_member_that_an_order_created() {
        let stored = member("M1");
        let mut incoming = MemberProfile::empty(MemberId::parse("M1").unwrap());
        incoming.name = Some("林小美".to_owned());
        incoming.phone = Some(Phone::parse("0912-345-678").unwrap());
        let (merged, changes) = merge_profile(&stored, &incoming);
        assert_eq!(merged.profile.name.as_deref(), Some("林小美"));
        assert_eq!(merged.created_from, Some(FactOrigin::Order));
        assert_eq!(merged.revision, 1);
        let fields: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["name", "phone"]);
    }

    #[test]
    fn sending_the_same_profile_again_changes_nothing() {
        let mut incoming = MemberProfile::empty(MemberId::parse("M1").unwrap());
        incoming.region = Some("台北市".to_owned());
        incoming.set_consent(consent(true, "2024-01-01T00:00:00Z"));
        let (once, _) = merge_profile(&member("M1"), &incoming);
        let (twice, changes) = merge_profile(&once, &incoming);
        assert!(changes.is_empty());
        assert_eq!(once, twice);
    }

    #[test]
    fn an_older_consent_never_overrides_a_newer_one() {
        let mut first = MemberProfile::empty(MemberId::parse("M1").unwrap());
        first.set_consent(consent(false, "2024-05-01T00:00:00Z"));
        let (stored, _) = merge_profile(&member("M1"), &first);
        let mut late = MemberProfile::empty(MemberId::parse("M1").unwrap());
        late.set_consent(consent(true, "2024-01-01T00:00:00Z"));
        let (merged, changes) = merge_profile(&stored, &late);
        assert!(changes.is_empty());
        assert!(!merged.profile.consent(ConsentChannel::Sms).unwrap().granted);
    }
}
