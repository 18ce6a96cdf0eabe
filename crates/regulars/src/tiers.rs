//! `regulars tiers …`: the programme with its members per level, where one member stands (with
//! progress and history), evaluating members now, members near their next tier, and the tier
//! change log.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use regulars_domain::MemberId;
use regulars_server::app::{App, TierChangeFilter};

#[derive(Debug, Args)]
pub struct TiersArgs {
    #[command(subcommand)]
    command: TiersCommand,
}

#[derive(Debug, Subcommand)]
enum TiersCommand {
    /// The ladder, with the members on each level.
    List,
    /// Where a member stands: tier, term, progress to the next tier and to renewal, changes.
    Show {
        /// The member.
        member: String,
    },
    /// Evaluates members now (every member with an order when none are named), recording
    /// changes and granting entry rewards once; safe to run again or from many processes.
    Evaluate {
        /// The members.
        members: Vec<String>,
        /// Only the members due today (renewals, orders leaving the window), as the server does
        /// each day.
        #[arg(long, conflicts_with = "members")]
        due: bool,
    },
    /// Members near their next tier, nearest first.
    Near {
        /// At most this much from it (metric units; minor currency units for spend).
        #[arg(long)]
        within: Option<i64>,
        /// At most this percent of its entry away.
        #[arg(long)]
        percent: Option<u32>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// The tier change log, newest first.
    Log {
        /// Only this member's.
        #[arg(long)]
        member: Option<String>,
        /// Only this kind (upgrade, fast_upgrade, renewal, downgrade, return_downgrade).
        #[arg(long)]
        kind: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

fn member_id(text: &str) -> anyhow::Result<MemberId> {
    MemberId::parse(text).map_err(|reason| anyhow::anyhow!("member: {reason}"))
}

pub async fn run(app: &App, args: &TiersArgs, json: bool) -> anyhow::Result<ExitCode> {
    match &args.command {
        TiersCommand::List => {
            let counts = app.tier_counts().await?;
            if json {
                let rows: Vec<_> = counts
                    .iter()
                    .map(|(level, members)| {
                        serde_json::json!({
                            "name": level.name.as_str(), "title": level.title,
                            "entry": level.entry, "retain": level.retain,
                            "fast_upgrade": level.fast_upgrade,
                            "points_multiplier": level.benefits.multiplier.to_decimal(),
                            "members": members,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for (level, members) in counts {
                    println!(
                        "{:<12}{:<20}entry {:>10}  retain {:>10}  ×{:.2}  {members} members",
                        level.name.as_str(),
                        level.title,
                        level.entry,
                        level.retain,
                        level.benefits.multiplier.to_decimal()
                    );
                }
            }
        }
        TiersCommand::Show { member } => {
            let status = app.member_tier(&member_id(member)?).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&regulars_api::member_tier_view(&status))?
                );
            } else {
                let term = match (status.since, status.until) {
                    (Some(since), Some(until)) => format!("from {since} to {until}"),
                    (Some(since), None) => format!("since {since}, no expiry"),
                    _ => "no expiry".to_owned(),
                };
                println!("{}: {} ({term})", status.member_id, status.level.title);
                println!(
                    "{} over the window: {}",
                    status.metric.as_str(),
                    status.progress.value
                );
                if let (Some(next), Some(missing)) = (&status.next, status.progress.to_next) {
                    println!("{missing} more for {}", next.title);
                }
                if let (Some(on), Some(missing)) =
                    (status.progress.renews_on, status.progress.to_renew)
                {
                    println!("renewal decided on {on}: {missing} more to keep it");
                }
                for logged in &status.changes {
                    let change = &logged.change;
                    println!(
                        "{}  {:<16} {} → {}  {}",
                        change.day, change.kind, change.from_tier, change.to_tier, change.reason
                    );
                }
            }
        }
        TiersCommand::Evaluate { members, due } => {
            let done = if *due {
                app.evaluate_due_tiers().await?
            } else if members.is_empty() {
                app.evaluate_all_tiers().await?
            } else {
                let ids = members
                    .iter()
                    .map(|m| member_id(m))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                app.evaluate_tiers(&ids).await?
            };
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "members": done.members, "changes": done.changes, "rewards": done.rewards,
                    })
                );
            } else {
                println!(
                    "evaluated {} members: {} tier changes recorded, {} entry rewards granted",
                    done.members, done.changes, done.rewards
                );
            }
        }
        TiersCommand::Near {
            within,
            percent,
            limit,
        } => {
            let members = app.near_next_tier(*within, *percent, *limit).await?;
            if json {
                let rows: Vec<_> = members
                    .iter()
                    .map(|t| {
                        serde_json::json!({
                            "member_id": t.member_id.as_str(), "tier": t.tier,
                            "next_tier": t.next_tier, "value": t.value, "to_next": t.to_next,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for t in members {
                    println!(
                        "{}\t{} → {}\t{} more",
                        t.member_id,
                        t.tier,
                        t.next_tier.unwrap_or_default(),
                        t.to_next.unwrap_or_default()
                    );
                }
            }
        }
        TiersCommand::Log {
            member,
            kind,
            limit,
        } => {
            let filter = TierChangeFilter {
                member_id: member.as_deref().map(member_id).transpose()?,
                kind: kind.clone(),
                ..TierChangeFilter::default()
            };
            let changes = app.tier_changes(&filter, *limit).await?;
            if json {
                let rows: Vec<_> = changes
                    .iter()
                    .map(|logged| {
                        let c = &logged.change;
                        serde_json::json!({
                            "seq": logged.seq, "member_id": c.member_id.as_str(),
                            "day": c.day.to_string(), "from_tier": c.from_tier,
                            "to_tier": c.to_tier, "kind": c.kind, "value": c.value,
                            "order_id": c.order_id.as_ref().map(|o| o.as_str().to_owned()),
                            "reason": c.reason,
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for logged in changes {
                    let c = &logged.change;
                    println!(
                        "{}  {}  {:<16} {} → {}  {}",
                        c.day, c.member_id, c.kind, c.from_tier, c.to_tier, c.reason
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
