//! The live segments: the engine kept current by every ingested fact, by each day boundary in
//! the brand's zone and by the scheduled recompute of the cut points, with every membership
//! change written to the store's transition log before the call that caused it returns.
//!
//! Memberships are stored too, so a restart (or facts imported while the server was down) is
//! caught up: the first start writes the baseline, later starts log the differences with the
//! cause `restart`.

use std::collections::HashMap;

use regulars_domain::MemberId;
use regulars_engine::{Day, Engine, Fact, Model, Reads, Transition};
use regulars_store::{
    LoggedTransition, Membership, MigrationCell, SEGMENT_MODELS, SegmentTransition,
    TransitionFilter,
};

use crate::saved::{LiveAudiences, Moved, Stamp};
use crate::segments::{SegmentCount, SegmentReader, index_of, run_engine};
use crate::{App, AppResult};

/// When the live segments recompute their cut points and how long snapshots are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSettings {
    /// Recompute the cut points every this many days, at the day boundary.
    pub recompute_every_days: u32,
    /// Keep daily snapshots this many days.
    pub snapshot_keep_days: u32,
}

impl Default for SegmentSettings {
    fn default() -> Self {
        Self {
            recompute_every_days: 1,
            snapshot_keep_days: 400,
        }
    }
}

/// The engine with the members' ids, and the saved audiences over the same members.
pub struct Live {
    pub(crate) engine: Engine,
    pub(crate) member_ids: Vec<MemberId>,
    pub(crate) index: crate::segments::MemberIndex,
    last_recompute: Day,
    pub(crate) audiences: LiveAudiences,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("members", &self.member_ids.len())
            .field("today", &self.engine.today())
            .finish_non_exhaustive()
    }
}

impl Live {
    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Re-tests everyone against every saved rule as of the engine's day.
    pub(crate) fn retest_audiences(&mut self, stamp: &Stamp) -> Moved {
        let mut out = Moved::default();
        let today = self.engine.today();
        self.audiences
            .retest_all(today, &self.engine, &self.member_ids, stamp, &mut out);
        out
    }

    fn member(&mut self, id: &MemberId) -> u32 {
        if let Some(idx) = self.index.get(id) {
            return *idx;
        }
        let idx = self.engine.add_member();
        let at = self.audiences.table.add_member();
        debug_assert_eq!(
            at, idx as usize,
            "the engine and the audiences index members alike"
        );
        self.member_ids.push(id.clone());
        self.index.insert(id.clone(), idx);
        idx
    }

    pub(crate) fn names(&self, member: u32) -> [String; 5] {
        let codes = self.engine.codes(member).unwrap_or_default();
        Model::ALL.map(|model| {
            model.segments()[usize::from(codes[model.index()])]
                .0
                .to_owned()
        })
    }

    /// The store's records of `transitions`, and the memberships they leave.
    fn records(
        &self,
        transitions: &[(Transition, String)],
        at: jiff::Timestamp,
    ) -> (Vec<SegmentTransition>, Vec<Membership>) {
        let mut touched: Vec<u32> = transitions.iter().map(|(t, _)| t.member).collect();
        touched.sort_unstable();
        touched.dedup();
        let log = transitions
            .iter()
            .map(|(t, cause)| {
                let names = t.model.segments();
                SegmentTransition {
                    member_id: self.member_ids[t.member as usize].to_string(),
                    model: SEGMENT_MODELS[t.model.index()],
                    from: names[usize::from(t.from)].0.to_owned(),
                    to: names[usize::from(t.to)].0.to_owned(),
                    day: t.on.to_date(),
                    at,
                    cause: cause.clone(),
                }
            })
            .collect();
        let memberships = touched
            .into_iter()
            .map(|m| Membership {
                member_id: self.member_ids[m as usize].to_string(),
                segments: self.names(m),
            })
            .collect();
        (log, memberships)
    }
}

impl SegmentReader for Live {
    fn as_of(&self) -> jiff::civil::Date {
        self.engine.today().to_date()
    }

    fn member_ids(&self) -> &[MemberId] {
        &self.member_ids
    }

    fn position(&self, id: &MemberId) -> Option<usize> {
        self.index.get(id).map(|idx| *idx as usize)
    }

    fn cuts(&self) -> &regulars_engine::Cuts {
        self.engine.cuts()
    }

    fn member(&self, idx: usize) -> regulars_engine::MemberSegments {
        self.engine
            .segments(idx as u32, &self.member_ids)
            .unwrap_or_default()
    }

    fn codes(&self, model: Model) -> Vec<u8> {
        (0..self.member_ids.len() as u32)
            .map(|m| self.engine.codes(m).unwrap_or_default()[model.index()])
            .collect()
    }

    fn counts(&self, model: Model) -> Vec<SegmentCount> {
        model
            .segments()
            .into_iter()
            .zip(self.engine.counts(model))
            .filter(|(_, n)| **n > 0)
            .map(|((segment, label_zh), members)| SegmentCount {
                segment,
                label_zh,
                members: *members,
            })
            .collect()
    }
}

/// A change an ingested fact makes to the segments.
#[derive(Debug, Clone)]
pub struct SegmentChange {
    /// The member.
    pub member_id: MemberId,
    /// The fact, or none for a new member.
    pub fact: Option<Fact>,
    /// What caused it (`order:ID`, …).
    pub cause: String,
    /// What it changes in the audiences' facts, if anything.
    pub audience: Option<regulars_engine::AudienceChange>,
}

impl SegmentChange {
    /// A change to `member_id` caused by the `kind` fact `id` (logged as the cause `kind:id`).
    pub fn caused_by(
        member_id: &MemberId,
        fact: Option<Fact>,
        kind: &str,
        id: impl std::fmt::Display,
    ) -> Self {
        Self {
            member_id: member_id.clone(),
            fact,
            cause: format!("{kind}:{id}"),
            audience: None,
        }
    }

    /// The same change, also changing the audiences' facts.
    #[must_use]
    pub fn with_audience(self, change: regulars_engine::AudienceChange) -> Self {
        Self {
            audience: Some(change),
            ..self
        }
    }
}

impl App {
    /// Loads every fact into the engine as of today and keeps it current from then on: ingest
    /// applies facts, [`App::tick_segments`] moves days. Catches up the stored memberships.
    pub async fn start_segments(&self) -> AppResult<()> {
        let (member_ids, table) = self.load_engine_facts(self.today()).await?;
        let config = self.engine.clone();
        let today = Day::from_date(self.today());
        let (engine, member_ids) = run_engine(move || {
            let engine = Engine::new(
                table,
                &member_ids,
                config,
                today,
                regulars_engine::default_threads(),
            );
            (engine, member_ids)
        })
        .await?;
        let audiences = self.load_live_audiences(&member_ids, today).await?;
        let mut live = Live {
            engine,
            index: index_of(&member_ids),
            member_ids,
            last_recompute: today,
            audiences,
        };
        let restart = Stamp {
            day: today.to_date(),
            at: self.now(),
            cause: "restart".to_owned(),
        };
        let moved = live.retest_audiences(&restart);
        self.store
            .record_audience_moves(&moved.moves, &moved.tags)
            .await?;
        let stored: HashMap<String, [String; 5]> = self
            .store
            .memberships()
            .await?
            .into_iter()
            .map(|m| (m.member_id, m.segments))
            .collect();
        let mut log = Vec::new();
        let mut memberships = Vec::new();
        let now = self.now();
        // A member the store has not seen starts as a prospect everywhere, unless nothing was
        // stored yet: then this is the baseline, not a change.
        let prospect = Model::ALL.map(|model| {
            let code = regulars_engine::MemberSegments::default().code(model);
            model.segments()[usize::from(code)].0.to_owned()
        });
        for (idx, id) in live.member_ids.iter().enumerate() {
            let names = live.names(idx as u32);
            let before = stored
                .get(id.as_str())
                .or_else(|| (!stored.is_empty()).then_some(&prospect));
            if before == Some(&names) {
                continue;
            }
            if let Some(before) = before {
                for (at, model) in SEGMENT_MODELS.iter().enumerate() {
                    if before[at] != names[at] {
                        log.push(SegmentTransition {
                            member_id: id.to_string(),
                            model,
                            from: before[at].clone(),
                            to: names[at].clone(),
                            day: today.to_date(),
                            at: now,
                            cause: "restart".to_owned(),
                        });
                    }
                }
            }
            memberships.push(Membership {
                member_id: id.to_string(),
                segments: names,
            });
        }
        for chunk in memberships.chunks(10_000) {
            let members: std::collections::HashSet<&str> =
                chunk.iter().map(|m| m.member_id.as_str()).collect();
            let part: Vec<SegmentTransition> = log
                .iter()
                .filter(|t| members.contains(t.member_id.as_str()))
                .cloned()
                .collect();
            self.store.record_transitions(&part, chunk).await?;
        }
        *self.live.write().await = Some(live);
        Ok(())
    }

    /// True once [`App::start_segments`] has run.
    pub async fn segments_are_live(&self) -> bool {
        self.live.read().await.is_some()
    }

    /// Applies what an ingest changed to the live segments and logs the transitions.
    pub(crate) async fn apply_segment_changes(&self, changes: Vec<SegmentChange>) -> AppResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut guard = self.live.write().await;
        let Some(live) = guard.as_mut() else {
            return Ok(());
        };
        let mut moved: Vec<(Transition, String)> = Vec::new();
        let mut out = Vec::new();
        // Each touched member is re-tested once, after the batch, with their last fact's cause,
        // against the rules that read what their facts changed (everything, for a new member).
        let mut touched: Vec<(u32, String, Reads)> = Vec::new();
        for change in changes {
            let new = !live.index.contains_key(&change.member_id);
            let member = live.member(&change.member_id);
            let mut reach = if new {
                Reads::EVERYTHING
            } else {
                Reads::NOTHING
            };
            if let Some(audience) = &change.audience {
                reach = reach.with(audience.reaches());
            }
            if change.fact.is_some() {
                reach = reach.with(Reads::MODELS);
            }
            if let Some(audience) = &change.audience {
                match live.audiences.table.apply(member as usize, audience) {
                    Ok(()) => {}
                    // Lines or a return of an order that does not count (yet): nothing to do.
                    Err(regulars_engine::ChangeError::UnknownOrder) => {
                        tracing::debug!(member = %change.member_id, cause = %change.cause, "no counted order for this change");
                    }
                    Err(error) => {
                        tracing::warn!(member = %change.member_id, cause = %change.cause, %error, "a fact did not reach the audiences");
                    }
                }
            }
            touched.push((member, change.cause.clone(), reach));
            let Some(fact) = change.fact else { continue };
            if let Err(error) = live.engine.apply(member, fact, &live.member_ids, &mut out) {
                tracing::warn!(member = %change.member_id, cause = %change.cause, %error, "a fact did not reach the segments");
            }
            moved.extend(out.drain(..).map(|t| (t, change.cause.clone())));
        }
        let now = self.now();
        let mut audience_moves = Moved::default();
        if !live.audiences.saved.is_empty() {
            // Last fact first, so each member keeps their last cause and gathers every reach.
            touched.reverse();
            touched.sort_by_key(|(m, _, _)| *m);
            let mut merged: Vec<(u32, String, Reads)> = Vec::with_capacity(touched.len());
            for (member, cause, reach) in touched {
                match merged.last_mut() {
                    Some(last) if last.0 == member => last.2 = last.2.with(reach),
                    _ => merged.push((member, cause, reach)),
                }
            }
            let day = live.engine.today().to_date();
            for (member, cause, reach) in merged {
                let stamp = Stamp {
                    day,
                    at: now,
                    cause,
                };
                live.audiences.retest_member(
                    member as usize,
                    reach,
                    &live.engine,
                    &live.member_ids,
                    &stamp,
                    &mut audience_moves,
                );
            }
        }
        let (log, memberships) = live.records(&moved, now);
        // The next batch may use the engine while this one's log is written; the log lock,
        // taken before the engine is let go, keeps the writes in the engine's order.
        let logging = self.transition_log.lock().await;
        drop(guard);
        self.store.record_transitions(&log, &memberships).await?;
        self.store
            .record_audience_moves(&audience_moves.moves, &audience_moves.tags)
            .await?;
        drop(logging);
        Ok(())
    }

    /// Moves the live segments to today: snapshots the day that ended, moves the members time
    /// moves, and recomputes the cut points when they are due. Does nothing before
    /// [`App::start_segments`].
    pub async fn tick_segments(&self) -> AppResult<()> {
        let today = Day::from_date(self.today());
        let mut guard = self.live.write().await;
        let Some(live) = guard.as_mut() else {
            return Ok(());
        };
        // Every transition an ingest took from the engine is logged before the day moves.
        let _logging = self.transition_log.lock().await;
        let mut retest = None;
        if live.engine.today() < today {
            let ended = live.engine.today().to_date();
            let keep_from = Day(today.0 - self.segment_settings.snapshot_keep_days as i32);
            self.store
                .snapshot_memberships(ended, keep_from.to_date())
                .await?;
            let mut out = Vec::new();
            live.engine.advance_to(today, &live.member_ids, &mut out);
            let moved: Vec<_> = out.into_iter().map(|t| (t, "time".to_owned())).collect();
            let (log, memberships) = live.records(&moved, self.now());
            self.store.record_transitions(&log, &memberships).await?;
            retest = Some("time");
        }
        let every = self.segment_settings.recompute_every_days.max(1) as i32;
        if today.0 - live.last_recompute.0 >= every {
            Self::recompute(self, live).await?;
            retest = retest.or(Some("recompute"));
        }
        if let Some(cause) = retest {
            self.retest_audiences(live, cause).await?;
        }
        Ok(())
    }

    /// Recomputes the cut points now and logs whom they moved; returns how many transitions.
    /// Starts the live segments first when they are not running.
    pub async fn recompute_segments(&self) -> AppResult<usize> {
        if !self.segments_are_live().await {
            self.start_segments().await?;
        }
        let mut guard = self.live.write().await;
        let Some(live) = guard.as_mut() else {
            return Ok(0);
        };
        let _logging = self.transition_log.lock().await;
        let moved = Self::recompute(self, live).await?;
        self.retest_audiences(live, "recompute").await?;
        Ok(moved)
    }

    /// Re-tests everyone against every saved rule and logs who moved.
    async fn retest_audiences(&self, live: &mut Live, cause: &str) -> AppResult<()> {
        let stamp = Stamp {
            day: live.engine.today().to_date(),
            at: self.now(),
            cause: cause.to_owned(),
        };
        let moved = live.retest_audiences(&stamp);
        // One transaction: the moves and the tag changes they made land together.
        self.store
            .record_audience_moves(&moved.moves, &moved.tags)
            .await?;
        Ok(())
    }

    async fn recompute(app: &Self, live: &mut Live) -> AppResult<usize> {
        let mut out = Vec::new();
        live.engine.recompute(&live.member_ids, &mut out);
        live.last_recompute = live.engine.today();
        let moved: Vec<_> = out
            .into_iter()
            .map(|t| (t, "recompute".to_owned()))
            .collect();
        let (log, memberships) = live.records(&moved, app.now());
        for chunk in log.chunks(50_000) {
            app.store.record_transitions(chunk, &[]).await?;
        }
        for chunk in memberships.chunks(50_000) {
            app.store.record_transitions(&[], chunk).await?;
        }
        Ok(moved.len())
    }

    /// The transition log, filtered.
    pub async fn segment_transitions(
        &self,
        filter: &TransitionFilter,
    ) -> AppResult<Vec<LoggedTransition>> {
        Ok(self.store.list_transitions(filter).await?)
    }

    /// For one model, how many members moved between segments from one snapshot day to another.
    pub async fn segment_migration(
        &self,
        model: Model,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> AppResult<Vec<MigrationCell>> {
        Ok(self
            .store
            .migration_matrix(SEGMENT_MODELS[model.index()], from, to)
            .await?)
    }

    /// The days with a snapshot.
    pub async fn segment_snapshot_days(&self) -> AppResult<Vec<jiff::civil::Date>> {
        Ok(self.store.snapshot_days().await?)
    }
}
