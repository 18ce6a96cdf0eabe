//! Saved audiences kept live: custom segments (a rule), auto tags (a rule whose members carry a
//! tag) and static lists (fixed members), with manual tags.
//!
//! The live segments hold the audience table beside the engine, member for member. Every
//! ingested fact changes the table and re-tests that member against every saved rule; each day
//! boundary and each recompute of the cut points re-tests everyone. Every entering and leaving is
//! logged with its cause, and every tag an auto tag adds or removes is logged as a tag change.
//!
//! A rule may read other saved audiences (`segment("…")`) and the tags auto tags give, so the
//! audiences are tested in an order where each comes after those it reads; a save that would make
//! a cycle is refused, as is deleting an audience another one reads.

use std::collections::HashMap;
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::civil::Date;
use regulars_domain::MemberId;
use regulars_domain::audience::{AudienceRule, Predicate, parse_rule};
use regulars_engine::{
    Audience, AudienceChange, AudienceTable, Day, Engine, Lookups, MemberIds, MemberSegments,
    Reads, RuleContext,
};
use regulars_formats::export::{AdPlatform, ExportColumn};
use regulars_store::{AudienceMove, LogFilter, Logged, SavedAudience, TagChange};

use crate::{App, AppError, AppResult};

/// Member indices as bits.
#[derive(Debug, Clone, Default)]
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    pub(crate) fn get(&self, m: usize) -> bool {
        self.0.get(m / 64).is_some_and(|w| w & (1 << (m % 64)) != 0)
    }

    fn set(&mut self, m: usize, on: bool) {
        if m / 64 >= self.0.len() {
            self.0.resize(m / 64 + 1, 0);
        }
        if on {
            self.0[m / 64] |= 1 << (m % 64);
        } else {
            self.0[m / 64] &= !(1 << (m % 64));
        }
    }

    pub(crate) fn of(members: &[u32]) -> Self {
        let mut bits = Self::default();
        for m in members {
            bits.set(*m as usize, true);
        }
        bits
    }

    pub(crate) fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, word)| {
            (0..64)
                .filter(move |b| word & (1 << b) != 0)
                .map(move |b| w * 64 + b)
        })
    }

    pub(crate) fn count(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }
}

/// One saved audience, compiled.
#[derive(Debug, Clone)]
pub(crate) struct Saved {
    pub(crate) definition: SavedAudience,
    /// The parsed rule; none for a static list.
    pub(crate) rule: Option<AudienceRule>,
    compiled: Option<Audience>,
    pub(crate) members: Bits,
}

/// The audiences an audience reads: those named by `segment("…")`, and those whose auto tag
/// it tests.
fn reads<'a>(rule: &'a AudienceRule, all: &'a [Saved]) -> Vec<&'a str> {
    let mut names: Vec<&str> = rule.segments_read();
    for predicate in rule.predicates() {
        if let Predicate::Tag(tag) = predicate {
            for other in all {
                if other.definition.tag.as_deref() == Some(tag.as_str())
                    && !names.contains(&other.definition.name.as_str())
                {
                    names.push(&other.definition.name);
                }
            }
        }
    }
    names
}

/// `list` reordered so each audience comes after those it reads; the names in a cycle when
/// there is one.
fn in_reading_order(mut list: Vec<Saved>) -> Result<Vec<Saved>, String> {
    let mut ordered: Vec<Saved> = Vec::with_capacity(list.len());
    while !list.is_empty() {
        let ready = list.iter().position(|saved| {
            saved.rule.as_ref().is_none_or(|rule| {
                reads(rule, &list)
                    .iter()
                    .all(|name| !list.iter().any(|s| s.definition.name == *name))
            })
        });
        match ready {
            Some(at) => ordered.push(list.remove(at)),
            None => {
                let names: Vec<&str> = list.iter().map(|s| s.definition.name.as_str()).collect();
                return Err(format!(
                    "these audiences read each other in a cycle: {}",
                    names.join(", ")
                ));
            }
        }
    }
    Ok(ordered)
}

/// Checks a name for a saved audience.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.trim() != name {
        return Err("a name is not empty and has no spaces at its ends".to_owned());
    }
    if name.chars().count() > 80 {
        return Err("a name has at most 80 characters".to_owned());
    }
    if name.chars().any(char::is_control) {
        return Err("a name has no control characters".to_owned());
    }
    // The API's own path under /api/v1/audiences.
    if name == "preview" {
        return Err("`preview` is a word the API keeps for itself".to_owned());
    }
    Ok(())
}

/// What the live audiences keep beside the engine.
#[derive(Debug)]
pub(crate) struct LiveAudiences {
    pub(crate) table: AudienceTable,
    /// In reading order.
    pub(crate) saved: Vec<Saved>,
    /// Manual tags by member index.
    manual_tags: HashMap<u32, Vec<String>>,
    as_of: Day,
    currency_exponent: u32,
}

/// What testing members changed: the moves to log and the tag changes auto tags made.
#[derive(Debug, Default)]
pub(crate) struct Moved {
    pub(crate) moves: Vec<AudienceMove>,
    pub(crate) tags: Vec<TagChange>,
}

/// When and why members moved.
#[derive(Debug, Clone)]
pub(crate) struct Stamp {
    pub(crate) day: Date,
    pub(crate) at: Timestamp,
    pub(crate) cause: String,
}

impl LiveAudiences {
    pub(crate) fn new(table: AudienceTable, as_of: Day, currency_exponent: u32) -> Self {
        Self {
            table,
            saved: Vec::new(),
            manual_tags: HashMap::new(),
            as_of,
            currency_exponent,
        }
    }

    fn context(&self) -> RuleContext {
        RuleContext {
            as_of: self.as_of,
            currency_exponent: self.currency_exponent,
        }
    }

    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.saved.iter().position(|s| s.definition.name == name)
    }

    /// Compiles `rule` against the table, able to read every saved audience; names it mentions
    /// are learnt so facts that bring them later match.
    pub(crate) fn compile(&mut self, rule: &AudienceRule) -> Result<Audience, String> {
        self.table.learn_names(rule);
        let names: Vec<&str> = self
            .saved
            .iter()
            .map(|s| s.definition.name.as_str())
            .collect();
        Audience::compile(rule, &self.table, self.context(), &names).map_err(|e| e.0)
    }

    /// Adds manual tags read from the store, and gives the table every member's tags: manual,
    /// and those of the auto tags their stored memberships give.
    pub(crate) fn load_manual_tags(&mut self, tags: impl IntoIterator<Item = (u32, String)>) {
        for (m, tag) in tags {
            self.manual_tags.entry(m).or_default().push(tag);
        }
        let mut members: Vec<usize> = self.manual_tags.keys().map(|m| *m as usize).collect();
        for saved in self.saved.iter().filter(|s| s.definition.tag.is_some()) {
            members.extend(saved.members.ones());
        }
        members.sort_unstable();
        members.dedup();
        for m in members {
            self.refresh_tags(m);
        }
    }

    /// Member `m`'s tags: manual, and those of the auto tags they are in.
    fn tags_of(&self, m: usize) -> Vec<String> {
        let mut tags = self
            .manual_tags
            .get(&(m as u32))
            .cloned()
            .unwrap_or_default();
        for saved in &self.saved {
            if let Some(tag) = &saved.definition.tag
                && saved.members.get(m)
                && !tags.contains(tag)
            {
                tags.push(tag.clone());
            }
        }
        tags
    }

    fn refresh_tags(&mut self, m: usize) {
        let tags = self.tags_of(m);
        if let Err(error) = self.table.apply(m, &AudienceChange::Tags(tags)) {
            tracing::warn!(member = m, %error, "tags did not reach the audiences");
        }
    }

    /// Sets a manual tag; true when it changed.
    pub(crate) fn set_manual_tag(&mut self, m: u32, tag: &str, on: bool) -> bool {
        let tags = self.manual_tags.entry(m).or_default();
        let had = tags.iter().any(|t| t == tag);
        if had == on {
            return false;
        }
        if on {
            tags.push(tag.to_owned());
        } else {
            tags.retain(|t| t != tag);
        }
        self.refresh_tags(m as usize);
        true
    }

    /// Takes back moves the store did not record, and the tags they gave.
    fn undo(&mut self, moves: &[AudienceMove], index: &crate::segments::MemberIndex) {
        for moved in moves.iter().rev() {
            let Some(at) = self.position(&moved.audience) else {
                continue;
            };
            let Some(m) = MemberId::parse(&moved.member_id)
                .ok()
                .and_then(|id| index.get(&id).copied())
            else {
                continue;
            };
            self.saved[at].members.set(m as usize, !moved.entered);
            self.refresh_tags(m as usize);
        }
    }

    /// Records that member `m` entered or left audience `at`, with its auto tag.
    fn move_member(
        &mut self,
        at: usize,
        m: usize,
        entered: bool,
        ids: &dyn MemberIds,
        stamp: &Stamp,
        out: &mut Moved,
    ) {
        let saved = &mut self.saved[at];
        saved.members.set(m, entered);
        out.moves.push(AudienceMove {
            audience: saved.definition.name.clone(),
            member_id: ids.id(m as u32),
            entered,
            day: stamp.day,
            at: stamp.at,
            cause: stamp.cause.clone(),
        });
        if let Some(tag) = saved.definition.tag.clone() {
            out.tags.push(TagChange {
                member_id: ids.id(m as u32),
                tag,
                added: entered,
                source: format!("audience:{}", saved.definition.name),
                day: stamp.day,
                at: stamp.at,
                cause: stamp.cause.clone(),
            });
            self.refresh_tags(m);
        }
    }

    /// Re-tests member `m`, in reading order, against every rule that reads something `reach`
    /// says changed (a move, or a tag an auto tag gives, reaches the rules read after it).
    pub(crate) fn retest_member(
        &mut self,
        m: usize,
        mut reach: Reads,
        engine: &Engine,
        ids: &dyn MemberIds,
        stamp: &Stamp,
        out: &mut Moved,
    ) {
        let models_cell: OnceLock<MemberSegments> = OnceLock::new();
        let models = |m: usize| {
            *models_cell.get_or_init(|| engine.segments(m as u32, ids).unwrap_or_default())
        };
        let mut from = 0;
        // The member's rows are found once and tested against the rules in order up to the
        // first that moves them; the move (which may change their tags) is made, and the rest
        // are tested on the rows found again.
        while let Some((at, now)) = self.next_move(m, from, reach, &models) {
            reach = reach.with(Reads::SEGMENTS);
            if self.saved[at].definition.tag.is_some() {
                reach = reach.with(Reads::TAGS);
            }
            self.move_member(at, m, now, ids, stamp, out);
            from = at + 1;
        }
    }

    /// The first audience from position `from` on, among those reading something in `reach`,
    /// whose verdict on member `m` differs from their membership, with the new verdict.
    fn next_move(
        &self,
        m: usize,
        from: usize,
        reach: Reads,
        models: &(dyn Fn(usize) -> MemberSegments + Sync),
    ) -> Option<(usize, bool)> {
        let member = self.table.member(m);
        let saved = &self.saved;
        let segment = |m: usize, k: usize| saved[k].members.get(m);
        let lookups = Lookups {
            models,
            segment: &segment,
        };
        (from..saved.len()).find_map(|at| {
            let compiled = saved[at].compiled.as_ref()?;
            if !compiled.reads().meets(reach) {
                return None;
            }
            let now = compiled.matches_member(member, lookups);
            (now != saved[at].members.get(m)).then_some((at, now))
        })
    }

    /// Re-tests every member against the rule of audience `at`.
    fn retest_audience(
        &mut self,
        at: usize,
        engine: &Engine,
        ids: &dyn MemberIds,
        stamp: &Stamp,
        out: &mut Moved,
    ) {
        let Some(compiled) = &self.saved[at].compiled else {
            return;
        };
        let models = |m: usize| engine.segments(m as u32, ids).unwrap_or_default();
        let saved = &self.saved;
        let segment = |m: usize, k: usize| saved[k].members.get(m);
        let selected = compiled.select(
            &self.table,
            Lookups {
                models: &models,
                segment: &segment,
            },
            regulars_engine::default_threads(),
        );
        let now = Bits::of(&selected);
        let before = &self.saved[at].members;
        let changed: Vec<(usize, bool)> = now
            .ones()
            .filter(|m| !before.get(*m))
            .map(|m| (m, true))
            .chain(before.ones().filter(|m| !now.get(*m)).map(|m| (m, false)))
            .collect();
        for (m, entered) in changed {
            self.move_member(at, m, entered, ids, stamp, out);
        }
    }

    /// Moves to `as_of` (windows end there) and re-tests everyone against every rule.
    pub(crate) fn retest_all(
        &mut self,
        as_of: Day,
        engine: &Engine,
        ids: &dyn MemberIds,
        stamp: &Stamp,
        out: &mut Moved,
    ) {
        self.as_of = as_of;
        // Once a day, the members changed since fold back into the shared columns.
        self.table.compact();
        for at in 0..self.saved.len() {
            if let Some(rule) = self.saved[at].rule.clone() {
                match self.compile(&rule) {
                    Ok(compiled) => self.saved[at].compiled = Some(compiled),
                    Err(error) => {
                        // Checked when it was saved: the configuration changed under it.
                        tracing::error!(audience = %self.saved[at].definition.name, %error, "a saved rule no longer compiles; it keeps its members until it is fixed");
                        self.saved[at].compiled = None;
                    }
                }
            }
            self.retest_audience(at, engine, ids, stamp, out);
        }
    }

    /// Puts `saved` in (replacing one of the same name) and reorders; refuses a cycle, leaving
    /// the list as it was.
    pub(crate) fn put(&mut self, saved: Saved) -> Result<usize, String> {
        let name = saved.definition.name.clone();
        let mut list: Vec<Saved> = self
            .saved
            .iter()
            .filter(|s| s.definition.name != name)
            .cloned()
            .collect();
        list.push(saved);
        self.saved = in_reading_order(list)?;
        Ok(self.position(&name).expect("just put"))
    }
}

/// Builds a saved audience from its stored definition; a stored rule that no longer parses is
/// an error, not a silent empty audience.
pub(crate) fn from_definition(definition: SavedAudience) -> Result<Saved, String> {
    let rule = definition
        .rule
        .as_deref()
        .map(parse_rule)
        .transpose()
        .map_err(|e| format!("the stored rule of `{}`: {e}", definition.name))?;
    Ok(Saved {
        definition,
        rule,
        compiled: None,
        members: Bits::default(),
    })
}

impl LiveAudiences {
    /// Compiles every rule again, as positions in the list moved. A failure of the audience
    /// named `checked` (the one being saved) is the error; any other rule that no longer
    /// compiles (the configuration changed under it, such as tiers taken away) is logged and
    /// left inert, its members as stored, so one stale rule never blocks the others.
    fn recompile_checking(&mut self, checked: Option<&str>) -> Result<(), String> {
        for at in 0..self.saved.len() {
            if let Some(rule) = self.saved[at].rule.clone() {
                match self.compile(&rule) {
                    Ok(compiled) => self.saved[at].compiled = Some(compiled),
                    Err(e) if checked == Some(self.saved[at].definition.name.as_str()) => {
                        return Err(format!("{}: {e}", self.saved[at].definition.name));
                    }
                    Err(error) => {
                        tracing::error!(audience = %self.saved[at].definition.name, %error, "a saved rule no longer compiles; it keeps its members until it is fixed");
                        self.saved[at].compiled = None;
                    }
                }
            }
        }
        Ok(())
    }

    /// Compiles every rule again, leaving any that no longer compiles inert.
    fn recompile_all(&mut self) {
        self.recompile_checking(None)
            .expect("only the checked audience's failure is an error");
    }

    /// The saved audiences that read `name`.
    fn readers_of(&self, name: &str) -> Vec<&str> {
        self.saved
            .iter()
            .filter(|s| {
                s.definition.name != name
                    && s.rule
                        .as_ref()
                        .is_some_and(|rule| reads(rule, &self.saved).contains(&name))
            })
            .map(|s| s.definition.name.as_str())
            .collect()
    }
}

/// What a saved audience holds: a rule, or fixed members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceContent {
    /// Members matching the rule, kept live.
    Rule(AudienceRule),
    /// Exactly these members (a static list).
    Members(Vec<MemberId>),
}

/// An audience to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceDraft {
    /// Its name.
    pub name: String,
    /// Its rule or members.
    pub content: AudienceContent,
    /// The tag its members carry (an auto tag), if any.
    pub tag: Option<String>,
    /// What it is for.
    pub description: Option<String>,
}

/// A saved audience with how many members it has now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceSummary {
    /// Its definition.
    pub definition: SavedAudience,
    /// How many members it has.
    pub members: u64,
}

/// What saving did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedOutcome {
    /// The audience as saved.
    pub summary: AudienceSummary,
    /// True when the name was new.
    pub created: bool,
    /// Members who entered.
    pub entered: u64,
    /// Members who left.
    pub left: u64,
}

/// What a tagging did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagOutcome {
    /// Members whose tags changed.
    pub changed: u64,
    /// Members who had it that way already.
    pub unchanged: u64,
}

/// Checks a tag.
fn check_tag(tag: &str) -> Result<(), AppError> {
    if tag.trim().is_empty() || tag.trim() != tag || tag.chars().count() > 64 {
        return Err(AppError::Invalid {
            field: "tag",
            reason: "a tag has 1 to 64 characters and no spaces at its ends".to_owned(),
        });
    }
    Ok(())
}

impl App {
    /// The live segments, started when they are not running yet.
    async fn live_started(
        &self,
    ) -> AppResult<tokio::sync::RwLockWriteGuard<'_, Option<crate::live::Live>>> {
        if !self.segments_are_live().await {
            self.start_segments().await?;
        }
        Ok(self.live.write().await)
    }

    /// Saves an audience (a new one, or new contents for a saved name): the rule is checked
    /// first, members are tested at once, and everyone who enters or leaves is logged with the
    /// cause `saved`, `edited` or `list`.
    pub async fn save_audience(&self, draft: AudienceDraft) -> AppResult<SavedOutcome> {
        check_name(&draft.name).map_err(|reason| AppError::Invalid {
            field: "name",
            reason,
        })?;
        if let Some(tag) = &draft.tag {
            check_tag(tag)?;
        }
        if let AudienceContent::Rule(rule) = &draft.content {
            self.check_rule_names(rule).await?;
        }
        let mut guard = self.live_started().await?;
        let live = guard.as_mut().expect("started above");
        let _logging = self.transition_log.lock().await;
        let now = self.now();
        let audiences = &mut live.audiences;
        let before = audiences
            .position(&draft.name)
            .map(|at| audiences.saved[at].clone());
        let (rule, fixed, cause) = match &draft.content {
            AudienceContent::Rule(rule) => {
                // Checked against the saved list as it is, for the reasons a marketer can act on.
                audiences.compile(rule).map_err(AppError::InvalidRule)?;
                let cause = if before.is_some() { "edited" } else { "saved" };
                (Some(rule.clone()), None, cause)
            }
            AudienceContent::Members(ids) => {
                let mut unknown = Vec::new();
                let mut members = Vec::new();
                for id in ids {
                    match live.index.get(id) {
                        Some(m) => members.push(*m),
                        None => unknown.push(id.as_str()),
                    }
                }
                if !unknown.is_empty() {
                    let shown: Vec<&str> = unknown.iter().take(5).copied().collect();
                    return Err(AppError::Invalid {
                        field: "members",
                        reason: format!(
                            "{} unknown member(s): {}{}",
                            unknown.len(),
                            shown.join(", "),
                            if unknown.len() > 5 { ", …" } else { "" }
                        ),
                    });
                }
                (None, Some(members), "list")
            }
        };
        let definition = SavedAudience {
            name: draft.name.clone(),
            rule: rule.as_ref().map(ToString::to_string),
            tag: draft.tag.clone(),
            description: draft.description.clone(),
            created_at: before.as_ref().map_or(now, |b| b.definition.created_at),
            updated_at: now,
        };
        let kept = audiences.saved.clone();
        let saved = Saved {
            definition: definition.clone(),
            rule,
            compiled: None,
            members: before
                .as_ref()
                .map(|b| b.members.clone())
                .unwrap_or_default(),
        };
        let at = audiences.put(saved).map_err(AppError::InvalidRule)?;
        if let Err(reason) = audiences.recompile_checking(Some(&draft.name)) {
            audiences.saved = kept;
            audiences.recompile_all();
            return Err(AppError::InvalidRule(reason));
        }
        let stamp = Stamp {
            day: live.engine.today().to_date(),
            at: now,
            cause: cause.to_owned(),
        };
        let mut out = Moved::default();
        let ids = &live.member_ids;
        match fixed {
            Some(members) => {
                let wanted = Bits::of(&members);
                let had = audiences.saved[at].members.clone();
                for m in wanted.ones().filter(|m| !had.get(*m)) {
                    audiences.move_member(at, m, true, ids, &stamp, &mut out);
                }
                for m in had.ones().filter(|m| !wanted.get(*m)) {
                    audiences.move_member(at, m, false, ids, &stamp, &mut out);
                }
            }
            None => audiences.retest_audience(at, &live.engine, ids, &stamp, &mut out),
        }
        // A new or dropped auto tag changes the tags of the members who stayed in.
        let old_tag = before.as_ref().and_then(|b| b.definition.tag.clone());
        if old_tag != draft.tag {
            let stayed: Vec<usize> = audiences.saved[at]
                .members
                .ones()
                .filter(|m| before.as_ref().is_some_and(|b| b.members.get(*m)))
                .collect();
            for m in stayed {
                let changes = [(old_tag.as_ref(), false), (draft.tag.as_ref(), true)];
                for (tag, added) in changes {
                    if let Some(tag) = tag {
                        out.tags.push(TagChange {
                            member_id: ids.id(m as u32),
                            tag: tag.clone(),
                            added,
                            source: format!("audience:{}", draft.name),
                            day: stamp.day,
                            at: stamp.at,
                            cause: stamp.cause.clone(),
                        });
                    }
                }
                audiences.refresh_tags(m);
            }
        }
        // Audiences read after this one may move with it.
        let follow = Stamp {
            cause: format!("audience:{}", draft.name),
            ..stamp
        };
        for later in at + 1..audiences.saved.len() {
            audiences.retest_audience(later, &live.engine, ids, &follow, &mut out);
        }
        let entered = out
            .moves
            .iter()
            .filter(|m| m.entered && m.audience == draft.name)
            .count() as u64;
        let left = out
            .moves
            .iter()
            .filter(|m| !m.entered && m.audience == draft.name)
            .count() as u64;
        if let Err(error) = self
            .store
            .save_audience(&definition, &out.moves, &out.tags)
            .await
        {
            // Nothing is saved: the live list goes back to what the store has.
            audiences.saved = kept;
            audiences.recompile_all();
            // The kept list has the old memberships; the table's tags follow them again.
            for m in out
                .moves
                .iter()
                .filter_map(|mv| live.index.get(&MemberId::parse(&mv.member_id).ok()?))
            {
                audiences.refresh_tags(*m as usize);
            }
            return Err(error.into());
        }
        let members = audiences.saved[audiences.position(&draft.name).expect("saved")]
            .members
            .count();
        Ok(SavedOutcome {
            summary: AudienceSummary {
                definition,
                members,
            },
            created: before.is_none(),
            entered,
            left,
        })
    }

    /// Deletes a saved audience; refused while another one reads it. Its members are logged
    /// as leaving with the cause `deleted`.
    pub async fn delete_audience(&self, name: &str) -> AppResult<()> {
        let mut guard = self.live_started().await?;
        let live = guard.as_mut().expect("started above");
        let _logging = self.transition_log.lock().await;
        let audiences = &mut live.audiences;
        let Some(at) = audiences.position(name) else {
            return Err(AppError::NotFound(format!("audience `{name}`")));
        };
        let readers = audiences.readers_of(name);
        if !readers.is_empty() {
            return Err(AppError::Conflict(format!(
                "audience `{name}` is read by {}; change those first",
                readers.join(", ")
            )));
        }
        let stamp = Stamp {
            day: live.engine.today().to_date(),
            at: self.now(),
            cause: "deleted".to_owned(),
        };
        let kept = audiences.saved.clone();
        let mut out = Moved::default();
        let members: Vec<usize> = audiences.saved[at].members.ones().collect();
        for m in members {
            audiences.move_member(at, m, false, &live.member_ids, &stamp, &mut out);
        }
        audiences.saved.remove(at);
        audiences.recompile_all();
        if let Err(error) = self
            .store
            .delete_audience(name, &out.moves, &out.tags)
            .await
        {
            audiences.saved = kept;
            audiences.recompile_all();
            return Err(error.into());
        }
        Ok(())
    }

    /// Every saved audience with its member count.
    pub async fn audiences(&self) -> AppResult<Vec<AudienceSummary>> {
        let guard = self.live_started().await?;
        let live = guard.as_ref().expect("started above");
        let mut list: Vec<AudienceSummary> = live
            .audiences
            .saved
            .iter()
            .map(|s| AudienceSummary {
                definition: s.definition.clone(),
                members: s.members.count(),
            })
            .collect();
        list.sort_by(|a, b| a.definition.name.cmp(&b.definition.name));
        Ok(list)
    }

    /// One saved audience's definition and its members now, in id order.
    pub async fn audience_members(
        &self,
        name: &str,
    ) -> AppResult<(AudienceSummary, Vec<MemberId>)> {
        let guard = self.live_started().await?;
        let live = guard.as_ref().expect("started above");
        let Some(at) = live.audiences.position(name) else {
            return Err(AppError::NotFound(format!("audience `{name}`")));
        };
        let saved = &live.audiences.saved[at];
        let mut ids: Vec<MemberId> = saved
            .members
            .ones()
            .map(|m| live.member_ids[m].clone())
            .collect();
        ids.sort_unstable();
        Ok((
            AudienceSummary {
                definition: saved.definition.clone(),
                members: ids.len() as u64,
            },
            ids,
        ))
    }

    /// Who entered and left saved audiences, filtered.
    pub async fn audience_moves(&self, filter: &LogFilter) -> AppResult<Vec<Logged<AudienceMove>>> {
        Ok(self.store.list_audience_moves(filter).await?)
    }

    /// Tag changes, filtered.
    pub async fn tag_changes(&self, filter: &LogFilter) -> AppResult<Vec<Logged<TagChange>>> {
        Ok(self.store.list_tag_changes(filter).await?)
    }

    /// Gives a manual tag to the members of `add` and takes it from those of `remove`, in one
    /// transaction; `cause` says who or what did it (`api`, `cli`, `file:…`). Every member must
    /// exist and none may be in both lists; audiences reading the tag move at once. When the
    /// store refuses, the live tags and audiences go back to what they were.
    pub async fn tag_members(
        &self,
        tag: &str,
        add: &[MemberId],
        remove: &[MemberId],
        cause: &str,
    ) -> AppResult<TagOutcome> {
        check_tag(tag)?;
        if let Some(both) = add.iter().find(|id| remove.contains(id)) {
            return Err(AppError::Invalid {
                field: "remove",
                reason: format!("{both} is both added and removed"),
            });
        }
        let mut guard = self.live_started().await?;
        let live = guard.as_mut().expect("started above");
        let _logging = self.transition_log.lock().await;
        let unknown: Vec<&str> = add
            .iter()
            .chain(remove)
            .filter(|id| !live.index.contains_key(*id))
            .map(MemberId::as_str)
            .collect();
        if !unknown.is_empty() {
            let shown: Vec<&str> = unknown.iter().take(5).copied().collect();
            return Err(AppError::Invalid {
                field: "members",
                reason: format!("{} unknown member(s): {}", unknown.len(), shown.join(", ")),
            });
        }
        let stamp = Stamp {
            day: live.engine.today().to_date(),
            at: self.now(),
            cause: cause.to_owned(),
        };
        let mut out = Moved::default();
        let mut outcome = TagOutcome::default();
        let mut changed: Vec<(u32, bool)> = Vec::new();
        let wanted = add.iter().map(|id| (id, true));
        for (id, added) in wanted.chain(remove.iter().map(|id| (id, false))) {
            let m = live.index[id];
            if live.audiences.set_manual_tag(m, tag, added) {
                outcome.changed += 1;
                changed.push((m, added));
                out.tags.push(TagChange {
                    member_id: id.to_string(),
                    tag: tag.to_owned(),
                    added,
                    source: TagChange::MANUAL.to_owned(),
                    day: stamp.day,
                    at: stamp.at,
                    cause: cause.to_owned(),
                });
            } else {
                outcome.unchanged += 1;
            }
        }
        let follow = Stamp {
            cause: format!("tag:{tag}"),
            ..stamp
        };
        for (m, _) in &changed {
            live.audiences.retest_member(
                *m as usize,
                Reads::TAGS,
                &live.engine,
                &live.member_ids,
                &follow,
                &mut out,
            );
        }
        if let Err(error) = self
            .store
            .record_audience_moves(&out.moves, &out.tags)
            .await
        {
            for (m, added) in changed {
                live.audiences.set_manual_tag(m, tag, !added);
            }
            live.audiences.undo(&out.moves, &live.index);
            return Err(error.into());
        }
        Ok(outcome)
    }
}

/// An audience export: a header and one row per member, in id order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceExport {
    /// The header row.
    pub header: Vec<String>,
    /// The rows.
    pub rows: Vec<Vec<String>>,
}

impl App {
    /// A saved audience's members with the chosen columns, in id order; model columns give
    /// the segments now.
    pub async fn export_audience(
        &self,
        name: &str,
        columns: &[ExportColumn],
    ) -> AppResult<AudienceExport> {
        let (_, ids) = self.audience_members(name).await?;
        let segments: HashMap<MemberId, [String; 5]> =
            if columns.iter().any(|c| c.model_index().is_some()) {
                let guard = self.live.read().await;
                let live = guard.as_ref().expect("started by audience_members");
                ids.iter()
                    .filter_map(|id| Some((id.clone(), live.names(*live.index.get(id)?))))
                    .collect()
            } else {
                HashMap::new()
            };
        let none: [String; 5] = Default::default();
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(10_000) {
            for member in self.store.get_members(chunk).await? {
                let models = segments.get(&member.profile.member_id).unwrap_or(&none);
                rows.push(
                    columns
                        .iter()
                        .map(|c| c.value(&member.profile, models))
                        .collect(),
                );
            }
        }
        Ok(AudienceExport {
            header: columns.iter().map(|c| c.as_str().to_owned()).collect(),
            rows,
        })
    }

    /// A saved audience as an ad platform's customer-match file: each member's normalised,
    /// SHA-256-hashed e-mail and phone (members with neither are left out).
    pub async fn export_ad_audience(
        &self,
        name: &str,
        platform: AdPlatform,
    ) -> AppResult<AudienceExport> {
        let (_, ids) = self.audience_members(name).await?;
        let mut rows = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(10_000) {
            for member in self.store.get_members(chunk).await? {
                rows.extend(platform.row(&member.profile).map(Vec::from));
            }
        }
        Ok(AudienceExport {
            header: platform.header().map(str::to_owned).to_vec(),
            rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(name: &str, rule: &str) -> Saved {
        from_definition(SavedAudience {
            name: name.to_owned(),
            rule: Some(rule.to_owned()),
            tag: None,
            description: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: Timestamp::UNIX_EPOCH,
        })
        .expect("the rule parses")
    }

    #[test]
    fn a_stored_rule_the_configuration_no_longer_allows_is_inert_and_blocks_no_other_save() {
        // Saved while the brand had tiers; the table now knows none.
        let mut table = AudienceTable::new();
        table.add_member();
        let mut audiences = LiveAudiences::new(table, Day(20_000), 0);
        audiences
            .put(saved("gold", "tier = gold"))
            .expect("no cycle");
        audiences
            .put(saved("vips", "tag(\"vip\")"))
            .expect("no cycle");
        audiences
            .recompile_checking(Some("vips"))
            .expect("saving another audience goes through");
        let compiled = |name: &str| {
            let at = audiences.position(name).expect("saved");
            audiences.saved[at].compiled.is_some()
        };
        assert!(!compiled("gold"), "the stale rule tests nobody again");
        assert!(compiled("vips"));
        let refused = audiences
            .recompile_checking(Some("gold"))
            .expect_err("saving the stale rule itself is refused");
        assert!(refused.contains("needs tiers"), "{refused}");
    }
}
