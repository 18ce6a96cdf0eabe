//! API key roles and what each may do.

/// The role an API key carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiRole {
    /// Everything, including managing keys.
    Admin,
    /// Reads everything and manages marketing (segments, journeys, coupons); writes no facts.
    Marketer,
    /// Reads only.
    Analyst,
    /// Writes facts only; reads nothing.
    Ingest,
}

impl ApiRole {
    /// Every role.
    pub const ALL: [Self; 4] = [Self::Admin, Self::Marketer, Self::Analyst, Self::Ingest];

    /// The canonical name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Marketer => "marketer",
            Self::Analyst => "analyst",
            Self::Ingest => "ingest",
        }
    }

    /// The role with this canonical name.
    pub fn parse(value: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == value.trim().to_lowercase())
            .ok_or_else(|| format!("`{value}` is not a role (admin, marketer, analyst or ingest)"))
    }

    /// May this role write facts (members, orders, returns, interactions, events)?
    pub fn can_write_facts(self) -> bool {
        matches!(self, Self::Admin | Self::Ingest)
    }

    /// May this role read members, facts and reports?
    pub fn can_read(self) -> bool {
        matches!(self, Self::Admin | Self::Marketer | Self::Analyst)
    }

    /// May this role manage marketing: save audiences, tag members?
    pub fn can_manage_marketing(self) -> bool {
        matches!(self, Self::Admin | Self::Marketer)
    }

    /// May this role earn, redeem and adjust members' points (a till or an app redeeming with
    /// an ingest key, a marketer correcting)?
    pub fn can_move_points(self) -> bool {
        matches!(self, Self::Admin | Self::Marketer | Self::Ingest)
    }

    /// May this role read members' points (the readers, and those who move them)?
    pub fn can_read_points(self) -> bool {
        self.can_read() || self.can_move_points()
    }

    /// May this role manage API keys?
    pub fn can_manage_keys(self) -> bool {
        self == Self::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_keys_write_but_never_read_and_analysts_only_read() {
        assert!(ApiRole::Ingest.can_write_facts() && !ApiRole::Ingest.can_read());
        assert!(ApiRole::Analyst.can_read() && !ApiRole::Analyst.can_write_facts());
        assert!(!ApiRole::Marketer.can_write_facts() && ApiRole::Marketer.can_read());
        assert!(ApiRole::Admin.can_manage_keys() && !ApiRole::Marketer.can_manage_keys());
        assert!(
            ApiRole::Marketer.can_manage_marketing() && !ApiRole::Analyst.can_manage_marketing()
        );
        for role in ApiRole::ALL {
            assert_eq!(ApiRole::parse(role.as_str()).unwrap(), role);
        }
    }
}
