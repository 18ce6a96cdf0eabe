//! The models' labels: RFM scores and the RF-grid segments (§3.4 c, §3.5.10), the eight RFM
//! classes (§3.1), NESL (§2.4) and RFIM (§1.4), each with its canonical name and its zh-TW label.

/// R, F and M scores, 1 to 5 each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RfmScores {
    /// Recency score (5 = most recent).
    pub r: u8,
    /// Frequency score.
    pub f: u8,
    /// Monetary score.
    pub m: u8,
}

impl RfmScores {
    /// The cell, `111` to `555`.
    pub fn cell(&self) -> u16 {
        u16::from(self.r) * 100 + u16::from(self.f) * 10 + u16::from(self.m)
    }
}

macro_rules! labels {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $key:literal, $zh:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every label, in the model's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The canonical name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $key,)+ }
            }

            /// The Traditional Chinese label.
            pub fn zh(self) -> &'static str {
                match self { $(Self::$variant => $zh,)+ }
            }
        }
    };
}

labels!(
    /// The RF-grid segment (§3.4 c, with R1F1 as Lost), or Prospect for members with no order.
    RfmSegment {
        /// R 4–5, F 4–5.
        Champions => "champions", "冠軍顧客";
        /// R 3–4, F 4–5.
        Loyal => "loyal", "忠誠顧客";
        /// R 4–5, F 2–3.
        PotentialLoyalist => "potential_loyalist", "潛力忠誠顧客";
        /// R 5, F 1.
        NewCustomers => "new_customers", "新顧客";
        /// R 4, F 1.
        Promising => "promising", "有潛力顧客";
        /// R 3, F 3.
        NeedAttention => "need_attention", "需要關注";
        /// R 3, F 1–2.
        AboutToSleep => "about_to_sleep", "即將沉睡";
        /// R 1–2, F 3–4.
        AtRisk => "at_risk", "流失風險";
        /// R 1–2, F 5.
        CantLose => "cant_lose", "不能失去";
        /// R 1–2, F 1–2 but R1F1.
        Hibernating => "hibernating", "冬眠顧客";
        /// R 1, F 1.
        Lost => "lost", "流失顧客";
        /// No valid order yet.
        Prospect => "prospect", "潛在顧客";
    }
);

impl RfmSegment {
    /// The segment of an R and F score (grid c; only R1F1 is Lost).
    pub fn of(r: u8, f: u8) -> Self {
        match (r, f) {
            (1, 1) => Self::Lost,
            (1 | 2, 1 | 2) => Self::Hibernating,
            (1 | 2, 3 | 4) => Self::AtRisk,
            (1 | 2, _) => Self::CantLose,
            (3, 1 | 2) => Self::AboutToSleep,
            (3, 3) => Self::NeedAttention,
            (3, _) => Self::Loyal,
            (4, 1) => Self::Promising,
            (4, 2 | 3) => Self::PotentialLoyalist,
            (4, _) => Self::Loyal,
            (_, 1) => Self::NewCustomers,
            (_, 2 | 3) => Self::PotentialLoyalist,
            _ => Self::Champions,
        }
    }
}

labels!(
    /// The eight RFM classes (§3.1), by whether R, F and M are high.
    Rfm8 {
        /// R↑ F↑ M↑
        ImportantValue => "important_value", "重要價值客戶";
        /// R↑ F↓ M↑
        ImportantDevelopment => "important_development", "重要發展客戶";
        /// R↓ F↑ M↑
        ImportantRetention => "important_retention", "重要保持客戶";
        /// R↓ F↓ M↑
        ImportantWinBack => "important_win_back", "重要挽留客戶";
        /// R↑ F↑ M↓
        GeneralValue => "general_value", "一般價值客戶";
        /// R↑ F↓ M↓
        GeneralDevelopment => "general_development", "一般發展客戶";
        /// R↓ F↑ M↓
        GeneralRetention => "general_retention", "一般保持客戶";
        /// R↓ F↓ M↓
        GeneralWinBack => "general_win_back", "一般挽留客戶";
    }
);

impl Rfm8 {
    /// Whether R, F and M are high in this class.
    pub fn highs(self) -> (bool, bool, bool) {
        match self {
            Self::ImportantValue => (true, true, true),
            Self::ImportantDevelopment => (true, false, true),
            Self::ImportantRetention => (false, true, true),
            Self::ImportantWinBack => (false, false, true),
            Self::GeneralValue => (true, true, false),
            Self::GeneralDevelopment => (true, false, false),
            Self::GeneralRetention => (false, true, false),
            Self::GeneralWinBack => (false, false, false),
        }
    }

    /// The class of three high/low judgements.
    pub fn of(r_high: bool, f_high: bool, m_high: bool) -> Self {
        match (m_high, r_high, f_high) {
            (true, true, true) => Self::ImportantValue,
            (true, true, false) => Self::ImportantDevelopment,
            (true, false, true) => Self::ImportantRetention,
            (true, false, false) => Self::ImportantWinBack,
            (false, true, true) => Self::GeneralValue,
            (false, true, false) => Self::GeneralDevelopment,
            (false, false, true) => Self::GeneralRetention,
            (false, false, false) => Self::GeneralWinBack,
        }
    }
}

labels!(
    /// NESL (§2.4): new, existing, the three sleep stages, lost; or prospect.
    Nesl {
        /// One purchase-day, within one cycle.
        N => "N", "新顧客";
        /// Two or more purchase-days, within one cycle.
        E0 => "E0", "主力顧客";
        /// Past one cycle, within two.
        S1 => "S1", "瞌睡顧客";
        /// Past two cycles, within three.
        S2 => "S2", "半睡顧客";
        /// Past three cycles.
        S3 => "S3", "沉睡顧客";
        /// No purchase for more than `lost_max_days`.
        L => "L", "流失顧客";
        /// No valid order yet.
        Prospect => "prospect", "潛在顧客";
    }
);

labels!(
    /// Recency relative to the store cycle (§1.4).
    RfimBand {
        /// Within k_ready·C.
        Recent => "recent", "近期購買";
        /// Within k_sleeping·C.
        Ready => "ready", "準備回購";
        /// Within k_lost·C.
        Sleeping => "sleeping", "沉睡";
        /// Beyond.
        Lost => "lost", "流失";
    }
);

labels!(
    /// The RFIM segment (§1.4), exclusive, evaluated top-down; or prospect.
    Rfim {
        /// No purchase ever, and enough recent interactions.
        Engaged => "engaged", "互動顧客";
        /// Bought before, band lost.
        Lost => "lost", "流失顧客";
        /// Band sleeping.
        Sleeping => "sleeping", "沈睡顧客";
        /// Recent or ready, and in the top share of 730-day spend.
        Top => "top", "TOP 顧客";
        /// Recent or ready, and enough purchase-days in 730 days.
        Loyal => "loyal", "忠誠顧客";
        /// One purchase-day, recent.
        ActiveNew => "active_new", "活躍新客";
        /// One purchase-day, ready.
        ReadyNew => "ready_new", "準備回購新客";
        /// Two or more purchase-days, recent.
        Active => "active", "活躍顧客";
        /// Two or more purchase-days, ready.
        Ready => "ready", "準備回購顧客";
        /// No purchase and too few interactions.
        Prospect => "prospect", "潛在顧客";
    }
);

labels!(
    /// The lifecycle stage, for journeys and reports, derived from NESL and loyalty:
    ///
    /// * churn: NESL L (no purchase for more than `lost_max_days`);
    /// * dormancy: NESL S2 or S3 (more than two of the member's cycles without a purchase);
    /// * introduction: one purchase-day so far (NESL N or S1);
    /// * maturity: two or more purchase-days, within two cycles (E0 or S1), and loyal
    ///   (at least `loyal_min_f` purchase-days in 730 days);
    /// * growth: two or more purchase-days, within two cycles, not loyal yet;
    /// * prospect: no valid order.
    Lifecycle {
        /// First purchase made, no second yet.
        Introduction => "introduction", "導入期";
        /// Buying again, not yet loyal.
        Growth => "growth", "成長期";
        /// Buying regularly.
        Maturity => "maturity", "成熟期";
        /// Overdue by more than two cycles.
        Dormancy => "dormancy", "休眠期";
        /// Gone: no purchase for more than `lost_max_days`.
        Churn => "churn", "流失期";
        /// No valid order yet.
        Prospect => "prospect", "潛在顧客";
    }
);

impl Lifecycle {
    /// The stage of a member with this NESL label, purchase-days and loyalty.
    pub fn of(nesl: Nesl, purchase_days: u32, loyal: bool) -> Self {
        match nesl {
            Nesl::Prospect => Self::Prospect,
            Nesl::L => Self::Churn,
            Nesl::S2 | Nesl::S3 => Self::Dormancy,
            _ if purchase_days <= 1 => Self::Introduction,
            _ if loyal => Self::Maturity,
            _ => Self::Growth,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rf_grid_is_total_and_only_r1f1_is_lost() {
        let grid: Vec<String> = (1..=5)
            .rev()
            .map(|r| {
                (1..=5)
                    .map(|f| RfmSegment::of(r, f).as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            grid,
            [
                "new_customers potential_loyalist potential_loyalist champions champions",
                "promising potential_loyalist potential_loyalist loyal loyal",
                "about_to_sleep about_to_sleep need_attention loyal loyal",
                "hibernating hibernating at_risk at_risk cant_lose",
                "lost hibernating at_risk at_risk cant_lose",
            ]
        );
    }

    #[test]
    fn lifecycle_follows_nesl_and_loyalty() {
        assert_eq!(Lifecycle::of(Nesl::N, 1, false), Lifecycle::Introduction);
        assert_eq!(Lifecycle::of(Nesl::S1, 1, false), Lifecycle::Introduction);
        assert_eq!(Lifecycle::of(Nesl::E0, 2, false), Lifecycle::Growth);
        assert_eq!(Lifecycle::of(Nesl::S1, 5, true), Lifecycle::Maturity);
        assert_eq!(Lifecycle::of(Nesl::S2, 5, true), Lifecycle::Dormancy);
        assert_eq!(Lifecycle::of(Nesl::L, 9, true), Lifecycle::Churn);
        assert_eq!(Lifecycle::of(Nesl::Prospect, 0, false), Lifecycle::Prospect);
    }

    #[test]
    fn rfm8_classes_follow_their_bit_pattern() {
        assert_eq!(Rfm8::of(true, true, true).zh(), "重要價值客戶");
        assert_eq!(Rfm8::of(false, false, true), Rfm8::ImportantWinBack);
        assert_eq!(Rfm8::of(true, false, false), Rfm8::GeneralDevelopment);
        assert_eq!(Rfm8::ALL.len(), 8);
        for class in Rfm8::ALL {
            let (r, f, m) = class.highs();
            assert_eq!(Rfm8::of(r, f, m), *class);
        }
    }
}
