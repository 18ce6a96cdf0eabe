//! Explanations: for any member and model, the inputs, the thresholds and the rule that placed
//! them, in one sentence (for example "S2: 52 days since the last purchase = 2.36 × their 22.0-day
//! cycle (more than 2, at most 3)").

use crate::{
    Cuts, EngineConfig, Lifecycle, MemberSegments, Nesl, Rfim, RfimBand, Rfm8, RfmSegment,
};

/// The models a member can be placed and explained by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Model {
    /// RFM scores and the RF-grid segment.
    Rfm,
    /// The eight RFM classes.
    Rfm8,
    /// NESL.
    Nesl,
    /// RFIM.
    Rfim,
    /// The lifecycle stage.
    Lifecycle,
}

impl Model {
    /// Every model.
    pub const ALL: [Self; 5] = [
        Self::Rfm,
        Self::Rfm8,
        Self::Nesl,
        Self::Rfim,
        Self::Lifecycle,
    ];

    /// The canonical name (`rfm`, `rfm8`, `nesl`, `rfim`, `lifecycle`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rfm => "rfm",
            Self::Rfm8 => "rfm8",
            Self::Nesl => "nesl",
            Self::Rfim => "rfim",
            Self::Lifecycle => "lifecycle",
        }
    }

    /// The model with this canonical name.
    pub fn parse(value: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == value.trim().to_lowercase())
            .ok_or_else(|| format!("`{value}` is not a model (rfm, rfm8, nesl, rfim or lifecycle)"))
    }
}

impl Model {
    /// Every segment of the model in its order, with its zh-TW label; a segment's position here
    /// is its code ([`MemberSegments::code`]).
    pub fn segments(self) -> Vec<(&'static str, &'static str)> {
        fn of<T: Copy>(
            all: &[T],
            name: fn(T) -> &'static str,
            zh: fn(T) -> &'static str,
        ) -> Vec<(&'static str, &'static str)> {
            all.iter().map(|l| (name(*l), zh(*l))).collect()
        }
        match self {
            Self::Rfm => of(RfmSegment::ALL, RfmSegment::as_str, RfmSegment::zh),
            Self::Rfm8 => {
                let mut all = of(Rfm8::ALL, Rfm8::as_str, Rfm8::zh);
                all.push((RfmSegment::Prospect.as_str(), RfmSegment::Prospect.zh()));
                all
            }
            Self::Nesl => of(Nesl::ALL, Nesl::as_str, Nesl::zh),
            Self::Rfim => of(Rfim::ALL, Rfim::as_str, Rfim::zh),
            Self::Lifecycle => of(Lifecycle::ALL, Lifecycle::as_str, Lifecycle::zh),
        }
    }

    /// The model's position in [`Model::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl MemberSegments {
    /// The member's segment in `model` as its position in [`Model::segments`].
    pub fn code(&self, model: Model) -> u8 {
        match model {
            Model::Rfm => self.rfm_segment as u8,
            Model::Rfm8 => self.rfm8.map_or(Rfm8::ALL.len() as u8, |c| c as u8),
            Model::Nesl => self.nesl as u8,
            Model::Rfim => self.rfim as u8,
            Model::Lifecycle => self.lifecycle as u8,
        }
    }

    /// The member's segment in every model, as codes in the order of [`Model::ALL`].
    pub fn codes(&self) -> [u8; 5] {
        Model::ALL.map(|model| self.code(model))
    }

    /// The member's segment in `model`: its canonical name and its zh-TW label.
    pub fn segment(&self, model: Model) -> (&'static str, &'static str) {
        match model {
            Model::Rfm => (self.rfm_segment.as_str(), self.rfm_segment.zh()),
            Model::Rfm8 => self.rfm8.map_or(
                (RfmSegment::Prospect.as_str(), RfmSegment::Prospect.zh()),
                |c| (c.as_str(), c.zh()),
            ),
            Model::Nesl => (self.nesl.as_str(), self.nesl.zh()),
            Model::Rfim => (self.rfim.as_str(), self.rfim.zh()),
            Model::Lifecycle => (self.lifecycle.as_str(), self.lifecycle.zh()),
        }
    }
}

fn breaks(values: Option<[f64; 4]>, show: &dyn Fn(f64) -> String) -> String {
    values.map_or_else(
        || "none".to_owned(),
        |b| b.iter().map(|v| show(*v)).collect::<Vec<_>>().join(", "),
    )
}

/// The breakpoints a dimension was scored against: `fixed` (thresholds as the merchant set them),
/// `value` (quintile breakpoints), or `rank` (each with the id of the member ranked there, whom
/// an equal value is above when its id sorts after).
fn bins_text(
    bins: crate::ValueBins,
    values: Option<[f64; 4]>,
    ties: Option<&[String; 4]>,
    fixed: &str,
    show: &dyn Fn(f64) -> String,
    unit: &str,
) -> String {
    match (bins, values, ties) {
        (crate::ValueBins::QuintileRank, Some(values), Some(ties)) => {
            let at: Vec<String> = values
                .iter()
                .zip(ties)
                .map(|(v, id)| format!("{}{unit} ({id})", show(*v)))
                .collect();
            format!(
                "rank breakpoints {} (equal values ranked by member id)",
                at.join(", ")
            )
        }
        (crate::ValueBins::Fixed(_), ..) => format!("{fixed} {}{unit}", breaks(values, show)),
        _ => format!("breakpoints {}{unit}", breaks(values, show)),
    }
}

/// A number with at most two decimals and no trailing zeros.
fn number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `the 20-day store cycle`, or under `by_order_count` `the 12-day store cycle after a 2nd
/// purchase-day`.
fn store_cycle_text(cuts: &Cuts, purchase_days: u32) -> String {
    let days = cuts.store_cycle_of(purchase_days);
    if cuts.store_cycle_by_count.is_none() {
        return format!("the {days}-day store cycle");
    }
    let count = (purchase_days as usize).clamp(1, crate::CYCLE_COUNTS);
    let suffix = match count {
        1 => "st",
        2 => "nd",
        3 => "rd",
        _ => "th",
    };
    let more = if count == crate::CYCLE_COUNTS {
        " or later"
    } else {
        ""
    };
    format!("the {days}-day store cycle after a {count}{suffix}{more} purchase-day")
}

fn cycle_text(m: &MemberSegments, cuts: &Cuts) -> String {
    let store = store_cycle_text(cuts, m.features.purchase_days);
    match m.cycle {
        Some(cycle) if cycle.intervals > 0 => format!(
            "their {}-day cycle ({} intervals, shrunk toward {store})",
            number((cycle.days() * 10.0).round() / 10.0),
            cycle.intervals,
        ),
        _ => format!("{store} (too few purchases for a cycle of their own)"),
    }
}

/// Explains why `m`, placed against `cuts`, has its label in `model`; `money` formats minor
/// units in the brand's currency.
pub fn explain(
    m: &MemberSegments,
    cuts: &Cuts,
    model: Model,
    config: &EngineConfig,
    money: &dyn Fn(i64) -> String,
) -> String {
    let f = m.features;
    let Some(recency) = f.recency else {
        return match model {
            Model::Rfim if m.rfim == Rfim::Engaged => format!(
                "engaged: no purchase yet and {} interactions in the last {} days (at least {})",
                f.interactions, config.interaction_window_days, config.engaged_min_interactions
            ),
            Model::Rfim => format!(
                "prospect: no purchase yet and {} interactions in the last {} days (fewer than {})",
                f.interactions, config.interaction_window_days, config.engaged_min_interactions
            ),
            _ => "prospect: no valid order yet".to_owned(),
        };
    };
    let days_ago = format!("{recency} days since the last purchase");
    match model {
        Model::Nesl => {
            let [s1, s2, s3] = config.nesl_bounds;
            let rho = m.cycle.map_or(0.0, |c| recency as f64 / c.days());
            let range = match m.nesl {
                Nesl::N | Nesl::E0 => format!("at most {s1}"),
                Nesl::S1 => format!("more than {s1}, at most {s2}"),
                Nesl::S2 => format!("more than {s2}, at most {s3}"),
                _ => format!("more than {s3}"),
            };
            match m.nesl {
                Nesl::L => format!("L: {days_ago}, more than {}", config.lost_max_days),
                nesl => {
                    let purchases = if f.purchase_days == 1 {
                        "one purchase-day".to_owned()
                    } else {
                        format!("{} purchase-days", f.purchase_days)
                    };
                    format!(
                        "{}: {days_ago} = {rho:.2} × {} ({range}); {purchases}",
                        nesl.as_str(),
                        cycle_text(m, cuts)
                    )
                }
            }
        }
        Model::Rfm => {
            let scores = m.rfm.unwrap_or(crate::RfmScores { r: 1, f: 1, m: 1 });
            let head = format!(
                "{} (R{} F{} M{}, cell {})",
                m.rfm_segment.as_str(),
                scores.r,
                scores.f,
                scores.m,
                scores.cell()
            );
            if f.frequency == 0 {
                return format!(
                    "{head}: no purchase in the last {} days ({days_ago}), so 111",
                    config.rfm_window_days
                );
            }
            let [r_ties, f_ties, m_ties] = &cuts.rank_ties;
            let recency_bins = bins_text(
                config.r_bins,
                cuts.recency_breaks,
                r_ties.as_ref(),
                "breakpoints",
                &number,
                " days",
            );
            let frequency_bins = bins_text(
                config.f_bins,
                cuts.frequency_breaks,
                f_ties.as_ref(),
                "thresholds 1,",
                &number,
                "",
            );
            let monetary_bins = bins_text(
                config.m_bins,
                cuts.monetary_breaks,
                m_ties.as_ref(),
                "thresholds (at least)",
                &|v| money(v.round() as i64),
                "",
            );
            let segment = if m.rfm_segment == RfmSegment::Lost {
                " (only R1 F1 is lost)"
            } else {
                ""
            };
            format!(
                "{head}{segment}: recency {recency} days against {recency_bins} (fewer days score higher); {} in {} days against {frequency_bins}; spend {} against {monetary_bins}",
                config.frequency_unit.count(f.frequency),
                config.rfm_window_days,
                money(f.monetary),
            )
        }
        Model::Rfm8 => {
            let class = m.rfm8.map_or("-", |c| c.as_str());
            let [t_r, t_f, t_m] = cuts.rfm8_thresholds;
            let basis = cuts.rfm8_basis;
            let cmp = |high: bool, yes: &'static str, no: &'static str| if high { yes } else { no };
            // The engine's exact judgements, not a float comparison that could disagree at a tie.
            let (r_high, f_high, m_high) = m.rfm8.map_or((false, false, false), |c| c.highs());
            if cuts.rfm8_on_scores {
                let scores = m.rfm.unwrap_or(crate::RfmScores { r: 1, f: 1, m: 1 });
                return format!(
                    "{class}: R score {} {} the {basis} {}; F score {} {} the {basis} {}; M score {} {} the {basis} {}",
                    scores.r,
                    cmp(r_high, "above", "not above"),
                    number(t_r),
                    scores.f,
                    cmp(f_high, "at or above", "below"),
                    number(t_f),
                    scores.m,
                    cmp(m_high, "at or above", "below"),
                    number(t_m),
                );
            }
            let spend = match config.rfm8_monetary {
                crate::Rfm8Monetary::Total => "spend",
                crate::Rfm8Monetary::AverageOrder => "average order",
            };
            format!(
                "{class}: recency {recency} days {} the {basis} {}; {} in {} days {} the {basis} {}; {spend} {} {} the {basis} {}",
                cmp(r_high, "below", "not below"),
                number((t_r * 10.0).round() / 10.0),
                config.frequency_unit.count(f.frequency),
                config.rfm_window_days,
                cmp(f_high, "at or above", "below"),
                number((t_f * 100.0).round() / 100.0),
                money(crate::rfm8::monetary(&f, config)),
                cmp(m_high, "at or above", "below"),
                money(t_m.round() as i64),
            )
        }
        Model::Rfim => {
            let c = store_cycle_text(cuts, f.purchase_days);
            let [k_ready, k_sleeping, k_lost] = config.rfim_bands;
            let band = match m.rfim_band {
                Some(RfimBand::Recent) => {
                    format!("recent (at most {k_ready} × {c})")
                }
                Some(RfimBand::Ready) => {
                    format!("ready to repurchase (more than {k_ready}, at most {k_sleeping} × {c})")
                }
                Some(RfimBand::Sleeping) => {
                    format!("sleeping (more than {k_sleeping}, at most {k_lost} × {c})")
                }
                _ => format!("lost (more than {k_lost} × {c})"),
            };
            let reason = match m.rfim {
                Rfim::Top => format!(
                    ", and 730-day spend {} is in the top {}% (at least {})",
                    money(f.monetary_730),
                    number(config.top_pct.num as f64 * 100.0 / config.top_pct.den as f64),
                    money(cuts.top_threshold.unwrap_or(0))
                ),
                Rfim::Loyal => format!(
                    ", and {} in 730 days (at least {})",
                    config.frequency_unit.count(f.frequency_730),
                    config.loyal_min_f
                ),
                Rfim::ActiveNew | Rfim::ReadyNew => ", with one purchase-day".to_owned(),
                Rfim::Active | Rfim::Ready => format!(", with {} purchase-days", f.purchase_days),
                _ => String::new(),
            };
            format!("{}: {days_ago} is {band}{reason}", m.rfim.as_str())
        }
        Model::Lifecycle => format!(
            "{}: NESL {}, {} purchase-days, {} in 730 days ({} for maturity)",
            m.lifecycle.as_str(),
            m.nesl.as_str(),
            f.purchase_days,
            config.frequency_unit.count(f.frequency_730),
            config.loyal_min_f
        ),
    }
}
