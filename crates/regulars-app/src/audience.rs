//! Audiences: a rule (text or JSON, see `regulars_domain::audience`) checked against the brand
//! and run over every member as of a day, the models read from the same segments the rest of
//! the app serves (the live engine for today, a full evaluation for another day).

use std::collections::HashMap;

use jiff::civil::Date;
use regulars_domain::audience::{AudienceRule, Predicate};
use regulars_domain::{
    ConsentChannel, EventKind, Gender, InteractionChannel, MemberId, StoreChannel, TemplateName,
};
use regulars_engine::{
    Audience, AudienceChange, AudienceCoupon, AudienceEvent, AudienceLot, AudienceLoyalty,
    AudienceMember, AudienceOrder, AudienceProfile, AudienceTable, Day, Lookups, RuleContext,
    order_key,
};
use regulars_store::{
    AudienceVisitor, EventScan, LineScan, MemberLoyalty, MemberScan, OrderScan, ReturnScan,
};

use crate::live::SegmentChange;
use crate::saved::{LiveAudiences, from_definition};
use crate::segments::{FastHash, OrderReader, run_engine};
use crate::{App, AppError, AppResult};

/// A member's loyalty from the store as audiences read it.
fn audience_loyalty(loyalty: MemberLoyalty) -> AudienceLoyalty {
    AudienceLoyalty {
        tier: loyalty.tier,
        lots: loyalty
            .lots
            .iter()
            .map(|lot| AudienceLot {
                available_on: Day::from_date(lot.available_on),
                expires_on: lot.expires_on.map(Day::from_date),
                remaining: lot.remaining,
            })
            .collect(),
        coupons: loyalty
            .coupons
            .into_iter()
            .map(|coupon| AudienceCoupon {
                template: coupon.template,
                valid_from: Day::from_date(coupon.valid_from),
                valid_until: Day::from_date(coupon.valid_until),
            })
            .collect(),
    }
}

/// What a rule selects as of a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudiencePreview {
    /// The day it was evaluated as of.
    pub as_of: Date,
    /// How many members match.
    pub count: u64,
    /// How many members there are.
    pub members: u64,
    /// The first matching members, in id order.
    pub sample: Vec<MemberId>,
}

/// Collects the audience scan into member-major facts, members in id order.
struct AudienceLoader {
    orders_read: OrderReader,
    index: HashMap<String, u32, FastHash>,
    ids: Vec<MemberId>,
    members: Vec<AudienceMember>,
    error: Option<String>,
}

impl AudienceLoader {
    fn fail(&mut self, what: String) {
        self.error.get_or_insert(what);
    }

    fn member_of(&self, member_id: &str) -> Option<usize> {
        self.index.get(member_id).map(|m| *m as usize)
    }

    fn order_of(&mut self, member_id: &str, order_id: &str) -> Option<&mut AudienceOrder> {
        let m = self.member_of(member_id)?;
        let key = order_key(order_id);
        self.members[m].orders.iter_mut().find(|o| o.key == key)
    }
}

impl AudienceVisitor for AudienceLoader {
    fn member(&mut self, row: MemberScan<'_>) {
        let id = match MemberId::parse(row.member_id) {
            Ok(id) => id,
            Err(reason) => {
                return self.fail(format!("stored member id `{}`: {reason}", row.member_id));
            }
        };
        let gender = row.gender.and_then(|g| Gender::parse(g).ok());
        let birthday = row
            .birthday
            .and_then(|b| regulars_domain::parse_date(b).ok());
        let consents = ConsentChannel::ALL
            .iter()
            .zip(row.consents)
            .filter(|(_, granted)| *granted == Some(true))
            .map(|(channel, _)| *channel)
            .collect();
        self.index
            .insert(row.member_id.to_owned(), self.ids.len() as u32);
        self.ids.push(id);
        self.members.push(AudienceMember {
            profile: AudienceProfile {
                gender,
                birthday,
                region: row.region.map(str::to_owned),
                joined: row.joined_at.map(|at| self.orders_read.day(at)),
                home_store: row.home_store_id.map(str::to_owned),
                consents,
            },
            ..AudienceMember::default()
        });
    }

    fn order(&mut self, row: OrderScan<'_>, store_id: Option<&str>, channel: Option<&str>) {
        let Some(m) = self.member_of(row.member_id) else {
            return;
        };
        let Some(fact) = self.orders_read.fact(&row) else {
            return;
        };
        self.members[m].orders.push(AudienceOrder {
            key: order_key(row.order_id),
            day: fact.day,
            cancelled_from: fact.cancelled_from,
            amount: fact.amount,
            store: store_id.map(str::to_owned),
            channel: channel.and_then(|c| StoreChannel::parse(c).ok()),
            lines: Vec::new(),
            returns: Vec::new(),
        });
    }

    fn line(&mut self, row: LineScan<'_>) {
        if let Some(order) = self.order_of(row.member_id, row.order_id) {
            order.lines.push((
                row.sku.to_owned(),
                row.category.map(str::to_owned),
                row.quantity.saturating_mul(row.unit_price),
            ));
        }
    }

    fn return_(&mut self, row: ReturnScan<'_>) {
        let day = self.orders_read.day(row.completed_at);
        if let Some(order) = self.order_of(row.member_id, row.order_id) {
            order.returns.push((day, row.amount));
        }
    }

    fn event(&mut self, row: EventScan<'_>) {
        let Some(m) = self.member_of(row.member_id) else {
            return;
        };
        match EventKind::parse(row.kind) {
            Ok(kind) => {
                let day = self.orders_read.day(row.at);
                self.members[m].events.push(AudienceEvent {
                    day,
                    kind,
                    sku: row.sku.map(str::to_owned),
                    category: row.category.map(str::to_owned),
                });
            }
            Err(reason) => self.fail(format!("a stored event of {}: {reason}", row.member_id)),
        }
    }

    fn interaction(&mut self, member_id: &str, at: i64, channel: &str) {
        let Some(m) = self.member_of(member_id) else {
            return;
        };
        match InteractionChannel::parse(channel) {
            Ok(channel) => {
                let day = self.orders_read.day(at);
                self.members[m].interactions.push((day, channel));
            }
            Err(reason) => self.fail(format!("a stored interaction of {member_id}: {reason}")),
        }
    }
}

impl App {
    /// Every member's audience facts as of `as_of`, members in id order.
    async fn load_audience_members(
        &self,
        as_of: Date,
    ) -> AppResult<(Vec<MemberId>, Vec<AudienceMember>)> {
        let mut loader = AudienceLoader {
            orders_read: OrderReader {
                zone: self.brand.time_zone.clone(),
                rules: self.order_rules,
                as_of: Day::from_date(as_of),
            },
            index: HashMap::default(),
            ids: Vec::new(),
            members: Vec::new(),
            error: None,
        };
        self.store.scan_audience_facts(&mut loader).await?;
        if let Some(error) = loader.error {
            return Err(regulars_store::StoreError::Other(anyhow::anyhow!(error)).into());
        }
        for (member_id, loyalty) in self.store.loyalty_facts(None, as_of).await? {
            if let Some(m) = loader.member_of(member_id.as_str()) {
                loader.members[m].loyalty = audience_loyalty(loyalty);
            }
        }
        Ok((loader.ids, loader.members))
    }

    /// Refuses a rule naming a coupon template the brand does not have (names of stores, skus
    /// and tags may come with later facts; a template is made before its coupons).
    pub(crate) async fn check_rule_names(&self, rule: &AudienceRule) -> AppResult<()> {
        for predicate in rule.predicates() {
            if let Predicate::UnusedCoupons {
                template: Some(name),
                ..
            } = predicate
            {
                let known = match TemplateName::parse(name) {
                    Ok(template) => self.store.get_template(&template).await?.is_some(),
                    Err(_) => false,
                };
                if !known {
                    return Err(AppError::InvalidRule(format!(
                        "there is no coupon template named \"{name}\""
                    )));
                }
            }
        }
        Ok(())
    }

    /// The brand's tier names, lowest first (none without a tier programme).
    pub(crate) fn tier_names(&self) -> Vec<String> {
        self.tier_rules().map_or_else(Vec::new, |rules| {
            rules
                .levels()
                .iter()
                .map(|level| level.name.to_string())
                .collect()
        })
    }

    /// Brings what the live audiences hold of these members' loyalty (tier, points, coupons)
    /// up to the store after a write changed it, re-testing them against every saved rule that
    /// reads loyalty, with `cause`. Does nothing while the live segments are not running.
    pub(crate) async fn refresh_loyalty(&self, members: &[MemberId], cause: &str) -> AppResult<()> {
        if members.is_empty() || !self.segments_are_live().await {
            return Ok(());
        }
        let mut members = members.to_vec();
        members.sort_unstable();
        members.dedup();
        // Two writes refreshing at once: the second read, which sees both, lands second.
        let _refreshing = self.loyalty_refresh.lock().await;
        for chunk in members.chunks(1_000) {
            let mut held: HashMap<MemberId, MemberLoyalty> = self
                .store
                .loyalty_facts(Some(chunk), self.today())
                .await?
                .into_iter()
                .collect();
            let changes = chunk
                .iter()
                .map(|member_id| {
                    let loyalty = held.remove(member_id).unwrap_or_default();
                    SegmentChange {
                        member_id: member_id.clone(),
                        fact: None,
                        cause: cause.to_owned(),
                        audience: Some(AudienceChange::Loyalty(audience_loyalty(loyalty))),
                    }
                })
                .collect();
            self.apply_segment_changes(changes).await?;
        }
        Ok(())
    }

    /// What audience rules read of every member, as of `as_of`, with the members' ids in the
    /// table's order (id order).
    pub async fn load_audience_table(
        &self,
        as_of: Date,
    ) -> AppResult<(Vec<MemberId>, AudienceTable)> {
        let (ids, members) = self.load_audience_members(as_of).await?;
        let tiers = self.tier_names();
        run_engine(move || {
            let mut table = AudienceTable::with_tiers(&tiers);
            for member in &members {
                table.push(member);
            }
            (ids, table)
        })
        .await
    }

    /// The saved audiences over the live engine's members (`member_ids`, in the engine's
    /// order) as stored: their facts, definitions, stored members and manual tags. The caller
    /// re-tests them.
    pub(crate) async fn load_live_audiences(
        &self,
        member_ids: &[MemberId],
        today: Day,
    ) -> AppResult<LiveAudiences> {
        let (ids, members) = self.load_audience_members(today.to_date()).await?;
        let order: Vec<Option<usize>> = {
            let at: HashMap<&MemberId, usize, FastHash> =
                ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
            member_ids.iter().map(|id| at.get(id).copied()).collect()
        };
        let tiers = self.tier_names();
        let table = run_engine(move || {
            let mut table = AudienceTable::with_tiers(&tiers);
            let none = AudienceMember::default();
            for at in order {
                table.push(at.map_or(&none, |i| &members[i]));
            }
            table
        })
        .await?;
        let mut audiences = LiveAudiences::new(table, today, self.brand.currency.exponent());
        let index: HashMap<&str, u32, FastHash> = member_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i as u32))
            .collect();
        let mut stored: HashMap<String, Vec<u32>> = HashMap::new();
        for (audience, member) in self.store.audience_memberships().await? {
            if let Some(m) = index.get(member.as_str()) {
                stored.entry(audience).or_default().push(*m);
            }
        }
        for definition in self.store.list_audiences().await? {
            let mut saved = from_definition(definition).map_err(AppError::InvalidRule)?;
            let members = stored.remove(&saved.definition.name).unwrap_or_default();
            saved.members = crate::saved::Bits::of(&members);
            audiences.put(saved).map_err(AppError::InvalidRule)?;
        }
        let tags: Vec<(u32, String)> = self
            .store
            .manual_tags()
            .await?
            .into_iter()
            .filter_map(|(member, tag)| index.get(member.as_str()).map(|m| (*m, tag)))
            .collect();
        audiences.load_manual_tags(tags);
        Ok(audiences)
    }

    /// How many members `rule` selects as of `as_of` (default today), and the first `sample`
    /// of them; an invalid rule is refused with the reason. Today's preview runs on the live
    /// audiences when they run (and may read saved audiences); another day's loads the facts.
    pub async fn preview_audience(
        &self,
        rule: &AudienceRule,
        as_of: Option<Date>,
        sample: usize,
    ) -> AppResult<AudiencePreview> {
        let as_of = as_of.unwrap_or_else(|| self.today());
        self.check_rule_names(rule).await?;
        {
            let guard = self.live.read().await;
            if let Some(live) = guard
                .as_ref()
                .filter(|live| live.engine().today() == Day::from_date(as_of))
            {
                let audiences = &live.audiences;
                let names: Vec<&str> = audiences
                    .saved
                    .iter()
                    .map(|s| s.definition.name.as_str())
                    .collect();
                let context = RuleContext {
                    as_of: Day::from_date(as_of),
                    currency_exponent: self.brand.currency.exponent(),
                };
                let audience = Audience::compile(rule, &audiences.table, context, &names)
                    .map_err(|e| AppError::InvalidRule(e.to_string()))?;
                let engine = live.engine();
                let models = |m: usize| {
                    engine
                        .segments(m as u32, &live.member_ids)
                        .unwrap_or_default()
                };
                let segment = |m: usize, k: usize| audiences.saved[k].members.get(m);
                let lookups = Lookups {
                    models: &models,
                    segment: &segment,
                };
                let selected = audience.select(
                    &audiences.table,
                    lookups,
                    regulars_engine::default_threads(),
                );
                // The sample is the first members in id order, as from a loaded table.
                let mut ids: Vec<&MemberId> = selected
                    .iter()
                    .map(|m| &live.member_ids[*m as usize])
                    .collect();
                ids.sort_unstable();
                let sample = ids.into_iter().take(sample).cloned().collect();
                return Ok(AudiencePreview {
                    as_of,
                    count: selected.len() as u64,
                    members: live.member_ids.len() as u64,
                    sample,
                });
            }
        }
        // The facts first: the live segments stay unlocked while the store is scanned.
        let (ids, table) = self.load_audience_table(as_of).await?;
        let segments = self.segments(Some(as_of)).await?;
        let context = RuleContext {
            as_of: Day::from_date(as_of),
            currency_exponent: self.brand.currency.exponent(),
        };
        let audience = Audience::compile(rule, &table, context, &[]).map_err(|e| {
            AppError::InvalidRule(if rule.segments_read().is_empty() {
                e.to_string()
            } else {
                format!("{e} (saved audiences are read only as of today)")
            })
        })?;
        let (selected, ids) = run_engine(move || {
            let reader = &*segments;
            let positions: Vec<Option<usize>> = ids.iter().map(|id| reader.position(id)).collect();
            let models = |m: usize| {
                positions[m].map_or_else(regulars_engine::MemberSegments::default, |at| {
                    reader.member(at)
                })
            };
            let lookups = Lookups {
                models: &models,
                segment: &|_, _| unreachable!("saved segments are refused above"),
            };
            let selected = audience.select(&table, lookups, regulars_engine::default_threads());
            (selected, ids)
        })
        .await?;
        Ok(AudiencePreview {
            as_of,
            count: selected.len() as u64,
            members: ids.len() as u64,
            sample: selected
                .iter()
                .take(sample)
                .map(|m| ids[*m as usize].clone())
                .collect(),
        })
    }
}
