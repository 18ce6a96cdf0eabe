//! Points leaving the balance: the daily expiry of what lots that stopped counting have left,
//! the warnings journeys act on before that ("your 120 points expire in 7 days"), each recorded
//! once per member, expiry day and stage however often the pass runs, and the members whose
//! points expire within a number of days.

use jiff::civil::Date;
use regulars_domain::MemberId;
use regulars_store::{ExpiringPoints, PointsOutcome, PointsRequest, PointsWarning};

use crate::{App, AppError, AppResult};

/// How many rows one step of a pass reads.
const BATCH: u32 = 1_000;

/// The most days ahead an expiry query looks.
pub const MAX_WITHIN_DAYS: u32 = 3_660;

impl App {
    /// Writes an `expire` entry for what every lot that stopped counting by today has left
    /// (each under the key `expire:SEQ`, so running again writes nothing twice); returns how
    /// many points expired. The server runs it once each day.
    pub async fn expire_points(&self) -> AppResult<i64> {
        let today = self.today();
        let mut expired = 0;
        loop {
            let lots = self.store.expired_lots(today, BATCH).await?;
            let mut progress = false;
            for (member_id, lot) in &lots {
                let request = PointsRequest::expire_lot(member_id, lot, today, self.now());
                match self.store.record_points(&request).await? {
                    PointsOutcome::Recorded(_) => {
                        expired += lot.remaining;
                        progress = true;
                    }
                    // Spent or expired meanwhile: the next read sees what is left.
                    PointsOutcome::Replayed(_) | PointsOutcome::Short(_) => {}
                    PointsOutcome::KeyReused => {
                        tracing::warn!(lot = lot.seq, "an expiry key was used for another change");
                    }
                }
            }
            if lots.len() < BATCH as usize || !progress {
                return Ok(expired);
            }
        }
    }

    /// Records a warning for each member's points that expire within the widest of `warn_days`
    /// (per expiry day, at the nearest stage the days left are within: with 30 and 7, points
    /// expiring in 20 days are warned at 30, and again at 7 once they are 7 days away); returns
    /// how many were new. The server runs it each day after the expiry.
    pub async fn warn_expiring_points(&self) -> AppResult<u64> {
        let Some(&widest) = self.points.warn_days.first() else {
            return Ok(0);
        };
        let today = self.today();
        let through = days_after(today, widest);
        let mut after = None;
        let mut recorded = 0;
        loop {
            let page = self
                .store
                .expiring_points(today, through, after.as_ref(), BATCH)
                .await?;
            let warnings: Vec<PointsWarning> = page
                .iter()
                .filter_map(|expiring| {
                    let left = days_between(today, expiring.expires_on);
                    let stage = self
                        .points
                        .warn_days
                        .iter()
                        .rev()
                        .find(|&&days| i64::from(days) >= left)?;
                    Some(PointsWarning {
                        seq: 0,
                        member_id: expiring.member_id.clone(),
                        expires_on: expiring.expires_on,
                        days_before: *stage,
                        points: expiring.points,
                        day: today,
                        recorded_at: self.now(),
                    })
                })
                .collect();
            recorded += self.store.record_points_warnings(&warnings).await?;
            match page.last() {
                Some(last) if page.len() == BATCH as usize => {
                    after = Some((last.expires_on, last.member_id.clone()));
                }
                _ => return Ok(recorded),
            }
        }
    }

    /// Members' points that stop counting within `within_days` (1 to 3,660) of today, per
    /// expiry day and member, soonest first, after `after`, at most `limit`.
    pub async fn expiring_points(
        &self,
        within_days: u32,
        after: Option<&(Date, MemberId)>,
        limit: u32,
    ) -> AppResult<Vec<ExpiringPoints>> {
        if !(1..=MAX_WITHIN_DAYS).contains(&within_days) {
            return Err(AppError::Invalid {
                field: "within_days",
                reason: format!("from 1 to {MAX_WITHIN_DAYS}"),
            });
        }
        let today = self.today();
        Ok(self
            .store
            .expiring_points(today, days_after(today, within_days), after, limit)
            .await?)
    }

    /// The expiry warnings, newest first: only the member's when given, before `before`.
    pub async fn points_warnings(
        &self,
        member_id: Option<&MemberId>,
        before: Option<i64>,
        limit: u32,
    ) -> AppResult<Vec<PointsWarning>> {
        if let Some(member_id) = member_id {
            self.known_member(member_id).await?;
        }
        Ok(self.store.points_warnings(member_id, before, limit).await?)
    }
}

fn days_after(day: Date, days: u32) -> Date {
    day.checked_add(jiff::Span::new().days(i64::from(days)))
        .unwrap_or(Date::MAX)
}

/// Whole days from `from` to `to`.
fn days_between(from: Date, to: Date) -> i64 {
    from.until(to).map_or(0, |span| i64::from(span.get_days()))
}
