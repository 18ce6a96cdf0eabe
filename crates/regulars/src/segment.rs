//! `regulars segment counts` and `regulars segment export`: every member's segments as of a day.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use regulars_domain::Money;
use regulars_server::app::App;
use regulars_server::app::segments::SegmentReader as _;

#[derive(Debug, Args)]
pub struct SegmentArgs {
    #[command(subcommand)]
    command: SegmentCommand,
}

/// The models, as named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Model {
    /// The RF-grid segments of the 5×5×5 RFM scores.
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

#[derive(Debug, Subcommand)]
enum SegmentCommand {
    /// Loads every member, logs what changed since the segments were last stored (days passed,
    /// facts imported), recomputes the cut points as of today and logs whom they moved.
    Recompute,
    /// How many members each segment of a model holds.
    Counts {
        /// The model.
        #[arg(long, value_enum)]
        model: Model,
        /// Evaluate as of the end of this date, ignoring later facts (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// One member's segments in every model, each with the inputs, thresholds and rule behind it.
    Show {
        /// The member's id.
        member_id: String,
        /// Evaluate as of the end of this date, ignoring later facts (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
    },
    /// One CSV row per member with the values the models use and every model's verdict.
    Export {
        /// Evaluate as of the end of this date, ignoring later facts (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// The CSV file to write.
        #[arg(long, value_name = "FILE.csv")]
        out: PathBuf,
    },
}

fn as_of(app: &App, text: Option<&str>) -> anyhow::Result<jiff::civil::Date> {
    match text {
        Some(text) => regulars_domain::parse_date(text).map_err(anyhow::Error::msg),
        None => Ok(app.today()),
    }
}

impl From<Model> for regulars_engine::Model {
    fn from(model: Model) -> Self {
        match model {
            Model::Rfm => Self::Rfm,
            Model::Rfm8 => Self::Rfm8,
            Model::Nesl => Self::Nesl,
            Model::Rfim => Self::Rfim,
            Model::Lifecycle => Self::Lifecycle,
        }
    }
}

pub async fn run(app: &App, args: &SegmentArgs, json: bool) -> anyhow::Result<ExitCode> {
    match &args.command {
        SegmentCommand::Recompute => {
            let started = std::time::Instant::now();
            let moved = app.recompute_segments().await?;
            let segments = app.segments(None).await?;
            let members = segments.member_ids().len();
            let elapsed_ms = started.elapsed().as_millis();
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "as_of": segments.as_of().to_string(), "members": members, "transitions": moved, "store_cycle_days": segments.cuts().store_cycle, "elapsed_ms": elapsed_ms })
                );
            } else {
                println!(
                    "recomputed {members} members as of {} in {elapsed_ms} ms: store cycle {} days, {moved} transitions logged",
                    segments.as_of(),
                    segments.cuts().store_cycle
                );
            }
        }
        SegmentCommand::Counts { model, as_of: date } => {
            let segmentation = app.segmentation(Some(as_of(app, date.as_deref())?)).await?;
            let counts = segmentation.counts((*model).into());
            let total = segmentation.member_ids.len().max(1) as f64;
            if json {
                let counts: serde_json::Map<String, serde_json::Value> = counts
                    .iter()
                    .map(|c| (c.segment.to_owned(), serde_json::json!(c.members)))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({
                        "as_of": segmentation.as_of.to_string(),
                        "members": segmentation.member_ids.len(),
                        "store_cycle_days": segmentation.evaluation.cuts.store_cycle,
                        "counts": counts,
                    })
                );
            } else {
                println!(
                    "as of {} ({} members, store cycle {} days)",
                    segmentation.as_of,
                    segmentation.member_ids.len(),
                    segmentation.evaluation.cuts.store_cycle
                );
                for count in &counts {
                    let (key, zh, n) = (count.segment, count.label_zh, count.members);
                    println!("{key:<24}{zh:<10}{n:>10}{:>8.1}%", n as f64 * 100.0 / total);
                }
            }
        }
        SegmentCommand::Show {
            member_id,
            as_of: date,
        } => {
            let segmentation = app.segmentation(Some(as_of(app, date.as_deref())?)).await?;
            let idx = regulars_domain::MemberId::parse(member_id)
                .ok()
                .and_then(|id| segmentation.position(&id))
                .ok_or_else(|| anyhow::anyhow!("member {member_id} not found"))?;
            let rows: Vec<(&str, &str, &str, String)> = segmentation
                .verdicts(idx, app.engine_config(), app.brand().currency)
                .into_iter()
                .map(|v| (v.model.as_str(), v.segment, v.label_zh, v.explanation))
                .collect();
            if json {
                let models: serde_json::Map<String, serde_json::Value> = rows
                    .iter()
                    .map(|(name, key, zh, why)| ((*name).to_owned(), serde_json::json!({ "segment": key, "label_zh": zh, "explanation": why })))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({ "member_id": member_id, "as_of": segmentation.as_of.to_string(), "models": models })
                );
            } else {
                println!("{member_id} as of {}", segmentation.as_of);
                for (name, _, zh, why) in rows {
                    println!("  {name:<10}{zh}  {why}");
                }
            }
        }
        SegmentCommand::Export { as_of: date, out } => {
            let segmentation = app.segmentation(Some(as_of(app, date.as_deref())?)).await?;
            let currency = app.brand().currency;
            let file = std::fs::File::create(out)
                .with_context(|| format!("creating {}", out.display()))?;
            let mut writer = std::io::BufWriter::new(file);
            writeln!(
                writer,
                "member_id,recency_days,frequency,monetary,cycle_days,r_score,f_score,m_score,rfm_cell,rfm_segment,rfm8_class,nesl,rfim,lifecycle"
            )?;
            for (member_id, m) in segmentation
                .member_ids
                .iter()
                .zip(&segmentation.evaluation.members)
            {
                let f = m.features;
                let id = member_id.as_str();
                let id = if id.contains([',', '"', '\n']) {
                    format!("\"{}\"", id.replace('"', "\"\""))
                } else {
                    id.to_owned()
                };
                let (r, fs, ms, cell) = m.rfm.map_or(
                    (String::new(), String::new(), String::new(), String::new()),
                    |s| {
                        (
                            s.r.to_string(),
                            s.f.to_string(),
                            s.m.to_string(),
                            s.cell().to_string(),
                        )
                    },
                );
                writeln!(
                    writer,
                    "{id},{},{},{},{},{r},{fs},{ms},{cell},{},{},{},{},{}",
                    f.recency.map(|r| r.to_string()).unwrap_or_default(),
                    f.frequency,
                    Money::from_minor(f.monetary, currency).to_major(),
                    m.cycle
                        .map(|c| format!("{:.2}", c.days()))
                        .unwrap_or_default(),
                    m.rfm_segment.as_str(),
                    m.rfm8.map_or("", |c| c.as_str()),
                    m.nesl.as_str(),
                    m.rfim.as_str(),
                    m.lifecycle.as_str(),
                )?;
            }
            writer.flush()?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "as_of": segmentation.as_of.to_string(), "rows": segmentation.member_ids.len(), "path": out.display().to_string() })
                );
            } else {
                println!(
                    "{} members as of {} written to {}",
                    segmentation.member_ids.len(),
                    segmentation.as_of,
                    out.display()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
