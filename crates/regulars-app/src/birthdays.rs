//! Birthday coupons by tier: each member born this month gets the coupon their tier gives
//! (`birthday_coupon` of the level) on the first day of their birthday month, or on the day
//! itself, once per member and year whatever their tier and however often it runs. A member not
//! evaluated yet counts on the base level. A birthday of 29 February is the 28th in other years.

use std::collections::HashMap;

use regulars_domain::{MemberId, TierRules};

use crate::coupons::BulkIssue;
use crate::{App, AppError, AppResult};

/// When birthday coupons are issued (`[tiers] birthday_coupon_on`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BirthdayIssue {
    /// From the first day of the birthday month (`month_start`).
    #[default]
    MonthStart,
    /// On the birthday itself (`birthday`).
    Birthday,
}

impl App {
    /// The same application issuing birthday coupons `when`.
    #[must_use]
    pub fn with_birthday_issue(mut self, when: BirthdayIssue) -> Self {
        self.birthday_issue = when;
        self
    }

    /// Issues today's birthday coupons (those due from the start of the month up to today, so a
    /// day the server was down is caught up), each under `birthday:YEAR:MEMBER`. The server runs
    /// it once a day.
    pub async fn issue_birthday_coupons(&self) -> AppResult<BulkIssue> {
        let Some(rules) = self.tier_rules() else {
            return Ok(BulkIssue::default());
        };
        let today = self.today();
        let born = self.store.birthday_members(today.month()).await?;
        let mut by_template: HashMap<String, Vec<MemberId>> = HashMap::new();
        for (member_id, birthday, tier) in born {
            let due = match self.birthday_issue {
                BirthdayIssue::MonthStart => true,
                BirthdayIssue::Birthday => {
                    birthday.day().min(today.last_of_month().day()) <= today.day()
                }
            };
            if let Some(template) = birthday_template(rules, tier.as_deref())
                && due
            {
                by_template.entry(template).or_default().push(member_id);
            }
        }
        let year = today.year();
        let mut summary = BulkIssue::default();
        let mut templates: Vec<_> = by_template.into_iter().collect();
        templates.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, members) in templates {
            let template = match self.template(&name).await {
                Ok(template) => template,
                Err(AppError::NotFound(what)) => {
                    tracing::warn!(
                        template = name,
                        "a tier's birthday coupon template is missing: {what}"
                    );
                    continue;
                }
                Err(other) => return Err(other),
            };
            let issued = self
                .issue_to_members(
                    &template,
                    &members,
                    |member_id| format!("birthday:{year}:{member_id}"),
                    &format!("campaign:birthday-{year}"),
                )
                .await?;
            summary.issued += issued.issued;
            summary.replayed += issued.replayed;
            summary.refused.extend(issued.refused);
        }
        Ok(summary)
    }
}

/// The birthday coupon template of the tier named `tier` (the base level when `None` or no
/// longer on the ladder).
fn birthday_template(rules: &TierRules, tier: Option<&str>) -> Option<String> {
    let level = tier.and_then(|name| rules.level_named(name)).unwrap_or(0);
    rules.levels()[level]
        .benefits
        .birthday_coupon
        .as_ref()
        .map(ToString::to_string)
}
