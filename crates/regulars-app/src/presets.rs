//! The audiences a brand starts with (domain-spec §1.5's group builder, as rules): interest
//! users, cart abandoners, new customers, the repurchase cohort, VIPs and birthdays this month. Each is an ordinary
//! saved audience, kept live, that the brand may edit or delete.

use regulars_domain::audience::parse_rule;

use crate::saved::{AudienceContent, AudienceDraft, SavedOutcome};
use crate::{App, AppError, AppResult};

/// A preset: name, what it is for, and its rule.
pub struct Preset {
    /// Its name.
    pub name: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Its rule, as text.
    pub rule: &'static str,
}

/// Every preset.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "interest users",
        description: "Added to cart or favourited in the last 14 days and not bought since.",
        rule: "event(cart_add, within = 14d, no_purchase_since) or event(favorite, within = 14d, no_purchase_since)",
    },
    Preset {
        name: "cart abandoners",
        description: "Added to cart in the last 3 days and not bought since.",
        rule: "event(cart_add, within = 3d, no_purchase_since)",
    },
    Preset {
        name: "new customers",
        description: "Made their first and only purchase in the last 30 days.",
        rule: "first_purchase within 30d and orders = 1",
    },
    Preset {
        name: "repurchase cohort",
        description: "Bought an item that at least 30% of its buyers buy again (among items with 10 buyers or more in the last 730 days), and is still inside that item's repurchase cycle.",
        rule: "repurchase_cycle(min_rate = 30)",
    },
    Preset {
        name: "vip",
        description: "In the top share of 730-day spend (rfim.top_pct, 10% by default).",
        rule: "top_spender = 1",
    },
    Preset {
        name: "birthday this month",
        description: "Their birthday falls in this calendar month.",
        rule: "months_to_birthday = 0",
    },
];

impl App {
    /// Saves the presets that are not saved yet (a brand's own edits are kept); returns what
    /// each newly saved one holds.
    pub async fn install_presets(&self) -> AppResult<Vec<SavedOutcome>> {
        self.install_audiences(PRESETS).await
    }

    /// Saves each of `audiences` not saved yet under its name (one saved already is left as it
    /// is); returns what each newly saved one holds.
    pub async fn install_audiences(&self, audiences: &[Preset]) -> AppResult<Vec<SavedOutcome>> {
        let saved: Vec<String> = self
            .audiences()
            .await?
            .into_iter()
            .map(|a| a.definition.name)
            .collect();
        let mut installed = Vec::new();
        for preset in audiences {
            if saved.iter().any(|name| name == preset.name) {
                continue;
            }
            let rule = parse_rule(preset.rule).map_err(|e| {
                AppError::InvalidRule(format!("the audience `{}`: {e}", preset.name))
            })?;
            installed.push(
                self.save_audience(AudienceDraft {
                    name: preset.name.to_owned(),
                    content: AudienceContent::Rule(rule),
                    tag: None,
                    description: Some(preset.description.to_owned()),
                })
                .await?,
            );
        }
        Ok(installed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_parses_and_prints_as_written() {
        for preset in PRESETS {
            let rule = parse_rule(preset.rule).expect(preset.name);
            assert_eq!(rule.to_string(), preset.rule, "{}", preset.name);
        }
    }
}
