//! `regulars audience …`: an audience rule, written as text (`nesl in (S1, S2) and
//! bought(category = "pastry", within = 30d)`) or as the API's JSON, checked and previewed; saved
//! audiences (rules kept live, static lists from a file, auto tags) listed, shown, exported as CSV
//! or as an ad platform's customer-match file, and deleted; manual tags given and taken.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use regulars_api_types::AudienceRuleJson;
use regulars_domain::MemberId;
use regulars_domain::audience::{AudienceRule, parse_rule};
use regulars_formats::audience::{rule_from_json, rule_to_json};
use regulars_formats::export::{AdPlatform, ExportColumn, to_csv};
use regulars_server::app::{App, AudienceContent, AudienceDraft, AudienceSummary};

#[derive(Debug, Args)]
pub struct AudienceArgs {
    #[command(subcommand)]
    command: AudienceCommand,
}

#[derive(Debug, Subcommand)]
enum AudienceCommand {
    /// Reads a rule and prints it in canonical text and in JSON, or says where it is wrong.
    Check {
        /// The rule as text, as JSON (starting with `{`), or `@FILE` to read either from a file.
        rule: String,
    },
    /// How many members a rule selects, and the first of them.
    Preview {
        /// The rule as text, as JSON (starting with `{`), or `@FILE` to read either from a file.
        rule: String,
        /// Evaluate as of the end of this date, ignoring later facts (default: today).
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// How many member ids to show.
        #[arg(long, default_value_t = 10)]
        sample: usize,
    },
    /// Saves an audience (or new contents for a saved name): a rule kept live, or with
    /// `--members` a static list.
    Save {
        /// Its name.
        name: String,
        /// The rule as text, as JSON, or `@FILE`.
        #[arg(required_unless_present = "members", conflicts_with = "members")]
        rule: Option<String>,
        /// A CSV of the list's members by `member_id`, `phone` or `email` (or ids in the first
        /// column).
        #[arg(long, value_name = "FILE")]
        members: Option<std::path::PathBuf>,
        /// A tag its members carry while they are in it (an auto tag).
        #[arg(long)]
        tag: Option<String>,
        /// What it is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// Saves the preset audiences not saved yet: interest users, cart abandoners, new
    /// customers, repurchase cohort, vip, birthday this month.
    Presets,
    /// Every saved audience with its member count.
    List,
    /// One saved audience: its rule, tag and first members.
    Show {
        /// Its name.
        name: String,
        /// How many member ids to show.
        #[arg(long, default_value_t = 10)]
        sample: usize,
    },
    /// Deletes a saved audience.
    Delete {
        /// Its name.
        name: String,
    },
    /// Writes a saved audience's members as CSV.
    Export {
        /// Its name.
        name: String,
        /// Columns, comma-separated: member_id, name, phone, email, line_user_id, gender,
        /// birthday, region, joined_at, home_store, rfm, rfm8, nesl, rfim, lifecycle.
        #[arg(long, default_value = "member_id,name,phone,email")]
        columns: String,
        /// Instead, an ad platform's customer-match file (`google` or `meta`): hashed e-mails
        /// and phones.
        #[arg(long, value_name = "PLATFORM", conflicts_with = "columns")]
        ad: Option<String>,
        /// Where to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// Gives a manual tag to members (or with `--remove` takes it away).
    Tag {
        /// The tag.
        tag: String,
        /// Member ids.
        members: Vec<String>,
        /// Also the members of a CSV, by `member_id`, `phone` or `email` (or ids in the first
        /// column).
        #[arg(long, value_name = "FILE")]
        file: Option<std::path::PathBuf>,
        /// Take the tag away instead.
        #[arg(long)]
        remove: bool,
    },
}

/// The members a member-list CSV names (by `member_id`, `phone` or `email`); a bad value
/// stops with `FILE:LINE: field: reason`, and contacts naming nobody are reported on stderr.
async fn read_member_list(app: &App, path: &std::path::Path) -> anyhow::Result<Vec<MemberId>> {
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let list = regulars_formats::member_list::read_member_list(std::io::BufReader::new(file))
        .map_err(|e| anyhow::anyhow!("{}:{}: {}: {}", path.display(), e.line, e.field, e.reason))?;
    let resolved = app.resolve_members(&list).await?;
    if !resolved.unmatched.is_empty() {
        let shown: Vec<&str> = resolved
            .unmatched
            .iter()
            .take(5)
            .map(String::as_str)
            .collect();
        eprintln!(
            "{}: {} phone(s) or e-mail(s) name no member and were skipped: {}{}",
            path.display(),
            resolved.unmatched.len(),
            shown.join(", "),
            if resolved.unmatched.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        );
    }
    Ok(resolved.members)
}

fn print_summary(summary: &AudienceSummary) {
    let definition = &summary.definition;
    let kind = definition.rule.as_deref().unwrap_or("(static list)");
    let tag = definition
        .tag
        .as_deref()
        .map(|t| format!("  [tag {t}]"))
        .unwrap_or_default();
    println!(
        "{}\t{} members\t{kind}{tag}",
        definition.name, summary.members
    );
}

fn summary_json(summary: &AudienceSummary) -> serde_json::Value {
    let d = &summary.definition;
    serde_json::json!({
        "name": d.name,
        "rule": d.rule,
        "tag": d.tag,
        "description": d.description,
        "members": summary.members,
        "created_at": d.created_at.to_string(),
        "updated_at": d.updated_at.to_string(),
    })
}

/// The rule `argument` names: text, JSON, or a file holding either.
fn read_rule(argument: &str) -> anyhow::Result<AudienceRule> {
    let text = match argument.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read the rule file {path}: {e}"))?,
        None => argument.to_owned(),
    };
    if text.trim_start().starts_with('{') {
        let json: AudienceRuleJson = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the rule is not valid JSON: {e}"))?;
        return rule_from_json(&json).map_err(|errors| {
            let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the rule was refused:\n{}", lines.join("\n"))
        });
    }
    parse_rule(&text).map_err(|e| anyhow::anyhow!("the rule was refused: {e}"))
}

pub async fn run(app: Option<&App>, args: &AudienceArgs, json: bool) -> anyhow::Result<ExitCode> {
    match &args.command {
        AudienceCommand::Check { rule } => {
            let rule = read_rule(rule)?;
            let as_json = serde_json::to_string_pretty(&rule_to_json(&rule))?;
            if json {
                println!("{as_json}");
            } else {
                println!("{rule}\n\n{as_json}");
            }
        }
        AudienceCommand::Preview {
            rule,
            as_of,
            sample,
        } => {
            let rule = read_rule(rule)?;
            let app = app.expect("preview opens the database");
            let as_of = as_of
                .as_deref()
                .map(regulars_domain::parse_date)
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let preview = app.preview_audience(&rule, as_of, *sample).await?;
            let sample: Vec<&str> = preview.sample.iter().map(|id| id.as_str()).collect();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "as_of": preview.as_of.to_string(),
                        "rule": rule.to_string(),
                        "count": preview.count,
                        "members": preview.members,
                        "sample": sample,
                    })
                );
            } else {
                let share = preview.count as f64 * 100.0 / preview.members.max(1) as f64;
                println!(
                    "{} of {} members ({share:.1}%) as of {}",
                    preview.count, preview.members, preview.as_of
                );
                if !sample.is_empty() {
                    println!("first: {}", sample.join(", "));
                }
            }
        }
        AudienceCommand::Save {
            name,
            rule,
            members,
            tag,
            description,
        } => {
            let app = app.expect("save opens the database");
            let content = match (rule, members) {
                (Some(rule), _) => AudienceContent::Rule(read_rule(rule)?),
                (None, Some(path)) => AudienceContent::Members(read_member_list(app, path).await?),
                (None, None) => unreachable!("clap asks for one"),
            };
            let saved = app
                .save_audience(AudienceDraft {
                    name: name.clone(),
                    content,
                    tag: tag.clone(),
                    description: description.clone(),
                })
                .await?;
            if json {
                let mut value = summary_json(&saved.summary);
                value["created"] = saved.created.into();
                value["entered"] = saved.entered.into();
                value["left"] = saved.left.into();
                println!("{value}");
            } else {
                println!(
                    "{} `{name}`: {} members ({} entered, {} left)",
                    if saved.created { "saved" } else { "replaced" },
                    saved.summary.members,
                    saved.entered,
                    saved.left
                );
            }
        }
        AudienceCommand::Presets => {
            let app = app.expect("presets opens the database");
            let installed = app.install_presets().await?;
            if json {
                let values: Vec<_> = installed.iter().map(|s| summary_json(&s.summary)).collect();
                println!("{}", serde_json::Value::Array(values));
            } else if installed.is_empty() {
                println!("every preset is saved already");
            } else {
                installed.iter().for_each(|s| print_summary(&s.summary));
            }
        }
        AudienceCommand::List => {
            let app = app.expect("list opens the database");
            let list = app.audiences().await?;
            if json {
                let values: Vec<_> = list.iter().map(summary_json).collect();
                println!("{}", serde_json::Value::Array(values));
            } else if list.is_empty() {
                println!("no saved audiences");
            } else {
                list.iter().for_each(print_summary);
            }
        }
        AudienceCommand::Show { name, sample } => {
            let app = app.expect("show opens the database");
            let (summary, ids) = app.audience_members(name).await?;
            let first: Vec<&str> = ids.iter().take(*sample).map(MemberId::as_str).collect();
            if json {
                let mut value = summary_json(&summary);
                value["sample"] = first.into();
                println!("{value}");
            } else {
                print_summary(&summary);
                if let Some(description) = &summary.definition.description {
                    println!("{description}");
                }
                if !first.is_empty() {
                    println!("first: {}", first.join(", "));
                }
            }
        }
        AudienceCommand::Delete { name } => {
            let app = app.expect("delete opens the database");
            app.delete_audience(name).await?;
            if !json {
                println!("deleted `{name}`");
            }
        }
        AudienceCommand::Export {
            name,
            columns,
            ad,
            out,
        } => {
            let app = app.expect("export opens the database");
            let export = match ad {
                Some(platform) => {
                    let platform = AdPlatform::parse(platform).map_err(anyhow::Error::msg)?;
                    app.export_ad_audience(name, platform).await?
                }
                None => {
                    let columns = ExportColumn::parse_list(columns).map_err(anyhow::Error::msg)?;
                    app.export_audience(name, &columns).await?
                }
            };
            let csv = to_csv(&export.header, &export.rows);
            match out {
                Some(path) => {
                    std::fs::write(path, &csv)
                        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
                    eprintln!("{} rows written to {}", export.rows.len(), path.display());
                }
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&csv)?;
                }
            }
        }
        AudienceCommand::Tag {
            tag,
            members,
            file,
            remove,
        } => {
            let mut ids = members
                .iter()
                .map(|id| MemberId::parse(id).map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let app = app.expect("tag opens the database");
            let mut cause = "cli".to_owned();
            if let Some(path) = file {
                ids.extend(read_member_list(app, path).await?);
                cause = format!("file:{}", path.display());
            }
            let (add, take): (&[MemberId], &[MemberId]) =
                if *remove { (&[], &ids) } else { (&ids, &[]) };
            let outcome = app.tag_members(tag, add, take, &cause).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"changed": outcome.changed, "unchanged": outcome.unchanged})
                );
            } else {
                println!(
                    "{} `{tag}` {} {} members ({} had it that way already)",
                    if *remove { "took" } else { "gave" },
                    if *remove { "from" } else { "to" },
                    outcome.changed,
                    outcome.unchanged
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl AudienceArgs {
    /// Whether the command reads the database.
    pub fn needs_database(&self) -> bool {
        !matches!(self.command, AudienceCommand::Check { .. })
    }
}
