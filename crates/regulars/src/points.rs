//! `regulars points …`: earning, redeeming and adjusting a member's points, each under an
//! idempotency key (so the same command run again, from any number of processes, counts once),
//! the balance with the ledger, the members whose points expire soon, the day's expiry run by
//! hand, and the expiry warnings.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use regulars_domain::MemberId;
use regulars_server::app::{App, PointsChange, PointsEntry, PointsRecorded};

#[derive(Debug, Args)]
pub struct PointsArgs {
    #[command(subcommand)]
    command: PointsCommand,
}

/// What every change takes besides its member and points.
#[derive(Debug, Args)]
struct ChangeArgs {
    /// Why, in words.
    #[arg(long)]
    reason: String,
    /// The idempotency key: the same key again changes nothing (default: a new key per run).
    #[arg(long = "idempotency-key", value_name = "KEY")]
    key: Option<String>,
    /// What caused it: order:ID, return:ID, campaign:NAME, journey:NAME or operator:WHO.
    #[arg(long, default_value = "operator:cli")]
    cause: String,
}

#[derive(Debug, Subcommand)]
enum PointsCommand {
    /// Gives a member points, spendable at once and expiring per `[points]`.
    Earn {
        /// The member's id.
        member: String,
        /// How many, 1 or more.
        points: i64,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Spends a member's points, earliest-expiring first; refused whole when they fall short.
    Redeem {
        /// The member's id.
        member: String,
        /// How many, 1 or more.
        points: i64,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Corrects a member's points up or down (`-- -20` for down).
    Adjust {
        /// The member's id.
        member: String,
        /// How many, above or below 0.
        #[arg(allow_negative_numbers = true)]
        points: i64,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// A member's balance (available, pending, expiring) and newest ledger entries.
    History {
        /// The member's id.
        member: String,
        /// How many entries.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Members whose points stop counting within some days, soonest first.
    Expiring {
        /// Within this many days of today (1 to 3660).
        #[arg(long, default_value_t = 30)]
        within: u32,
        /// At most this many rows.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Runs today's expiry now (what the server does at each day boundary): expired points leave
    /// the balance and members whose points expire soon are warned, each once.
    Expire,
    /// The expiry warnings recorded for journeys, newest first.
    Warnings {
        /// Only this member's.
        #[arg(long)]
        member: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

fn member_id(text: &str) -> anyhow::Result<MemberId> {
    MemberId::parse(text).map_err(|reason| anyhow::anyhow!("member: {reason}"))
}

/// A key for a run that names none: unique to this process and moment.
fn fresh_key(now: jiff::Timestamp) -> String {
    format!("cli-{}-{}", now.as_microsecond(), std::process::id())
}

fn entry_json(entry: &PointsEntry) -> serde_json::Value {
    serde_json::json!({
        "seq": entry.seq,
        "kind": entry.kind.as_str(),
        "points": entry.points,
        "lot": entry.lot,
        "available_on": entry.available_on.map(|d| d.to_string()),
        "expires_on": entry.expires_on.map(|d| d.to_string()),
        "idempotency_key": entry.key,
        "reason": entry.reason,
        "cause": entry.cause,
        "day": entry.day.to_string(),
        "at": entry.at.to_string(),
    })
}

fn entry_line(entry: &PointsEntry) -> String {
    let expiry = entry
        .expires_on
        .map(|d| format!("  (expires {d})"))
        .unwrap_or_default();
    format!(
        "{}\t{:<7}\t{:>+8}\t{}\t{}{expiry}",
        entry.day,
        entry.kind.as_str(),
        entry.points,
        entry.reason,
        entry.cause
    )
}

fn print_recorded(recorded: &PointsRecorded, json: bool) {
    if json {
        let value = serde_json::json!({
            "replayed": recorded.replayed,
            "entries": recorded.entries.iter().map(entry_json).collect::<Vec<_>>(),
            "available": recorded.balance.available,
            "pending": recorded.balance.pending,
            "owed": recorded.balance.debt,
        });
        println!("{value}");
        return;
    }
    let points: i64 = recorded.entries.iter().map(|e| e.points).sum();
    println!(
        "{}{points:+} points; {} available{}",
        if recorded.replayed {
            "already recorded under this key: "
        } else {
            ""
        },
        recorded.balance.available,
        if recorded.balance.pending > 0 {
            format!(", {} pending", recorded.balance.pending)
        } else {
            String::new()
        }
    );
}

pub async fn run(app: &App, args: &PointsArgs, json: bool) -> anyhow::Result<ExitCode> {
    let change = |member: &str, points: i64, args: &ChangeArgs| -> anyhow::Result<PointsChange> {
        Ok(PointsChange {
            member_id: member_id(member)?,
            points,
            key: args.key.clone().unwrap_or_else(|| fresh_key(app.now())),
            reason: args.reason.clone(),
            cause: args.cause.clone(),
        })
    };
    match &args.command {
        PointsCommand::Earn {
            member,
            points,
            change: args,
        } => print_recorded(
            &app.earn_points(change(member, *points, args)?).await?,
            json,
        ),
        PointsCommand::Redeem {
            member,
            points,
            change: args,
        } => print_recorded(
            &app.redeem_points(change(member, *points, args)?).await?,
            json,
        ),
        PointsCommand::Adjust {
            member,
            points,
            change: args,
        } => print_recorded(
            &app.adjust_points(change(member, *points, args)?).await?,
            json,
        ),
        PointsCommand::History { member, limit } => {
            let account = app
                .points_account(&member_id(member)?, *limit, None)
                .await?;
            let today = app.today();
            if json {
                let value = serde_json::json!({
                    "member_id": member,
                    "available": account.balance.available,
                    "pending": account.balance.pending,
                    "expiring_within_30_days": account.balance.expiring_within(today, 30),
                    "owed": account.balance.debt,
                    "entries": account.entries.iter().map(entry_json).collect::<Vec<_>>(),
                });
                println!("{value}");
            } else {
                println!(
                    "{member}: {} available, {} pending, {} expiring within 30 days{}",
                    account.balance.available,
                    account.balance.pending,
                    account.balance.expiring_within(today, 30),
                    if account.balance.debt > 0 {
                        format!(", {} owed", account.balance.debt)
                    } else {
                        String::new()
                    }
                );
                for entry in &account.entries {
                    println!("{}", entry_line(entry));
                }
            }
        }
        PointsCommand::Expiring { within, limit } => {
            let rows = app.expiring_points(*within, None, *limit).await?;
            if json {
                let views: Vec<_> = rows.iter().map(regulars_api::expiring_view).collect();
                println!("{}", serde_json::to_string(&views)?);
            } else {
                let total: i64 = rows.iter().map(|row| row.points).sum();
                let mut members: Vec<_> = rows.iter().map(|row| &row.member_id).collect();
                members.sort();
                members.dedup();
                println!(
                    "{total} points of {} members stop counting within {within} days{}",
                    members.len(),
                    if rows.len() == *limit as usize {
                        " (first rows only: raise --limit)"
                    } else {
                        ""
                    }
                );
                for row in &rows {
                    println!("{}\t{}\t{}", row.expires_on, row.member_id, row.points);
                }
            }
        }
        PointsCommand::Expire => {
            let expired = app.expire_points().await?;
            let warned = app.warn_expiring_points().await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"expired": expired, "warnings": warned})
                );
            } else {
                println!("{expired} points expired; {warned} new expiry warnings");
            }
        }
        PointsCommand::Warnings { member, limit } => {
            let member = member.as_deref().map(member_id).transpose()?;
            let warnings = app.points_warnings(member.as_ref(), None, *limit).await?;
            if json {
                let views: Vec<_> = warnings.iter().map(regulars_api::warning_view).collect();
                println!("{}", serde_json::to_string_pretty(&views)?);
            } else {
                for warning in &warnings {
                    println!(
                        "{}\t{}\t{} points expire on {} ({}-day warning)",
                        warning.day,
                        warning.member_id,
                        warning.points,
                        warning.expires_on,
                        warning.days_before
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
