//! `regulars bench`: the speed targets, measured on generated data (the generator of
//! `regulars generate`), each as the median of several runs on a fresh SQLite file.
//!
//! * `bench import --orders N`: `regulars import orders` then `import order-lines` of N orders
//!   with their lines from CSV; reports the time and the peak memory of the import itself.
//! * `bench load --orders N`: N orders in a fresh SQLite file, then the time to load them into
//!   the engine and to start the live segments, as a restarted server does.
//! * `bench audience --members M --orders N`: M members holding about N orders with their lines
//!   and events, in memory: a preview over features and models, a preview that scans order
//!   lines, a preview of the repurchase cohort (which measures every item first), and the time
//!   50 live custom segments add to each ingested fact.
//! * `bench api --orders N`: N orders with their lines posted to `/api/v1/orders/batch` in
//!   batches of 10,000, two requests in flight, through a server on 127.0.0.1.
//! * `bench wallet --members M`: M generated members with their profiles and orders in a fresh
//!   SQLite file under the demo's loyalty programme (points earned, tiers evaluated, a coupon for
//!   every tenth member), then the median time of one wallet read for sampled members.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use regulars_api_types::{OrderLineRequest, OrderRequest};
use regulars_client::Client;
use regulars_domain::{ApiRole, Order, OrderId, OrderLine};
use regulars_engine::IndexOrder;
use regulars_formats::{CsvSink, FactKind, Format};
use regulars_generate::BrandSpec;
use regulars_server::app::{
    App, AudienceContent, AudienceDraft, Clock as _, ImportOptions, SilentObserver, SystemClock,
};
use regulars_server::{Config, DatabaseUrl, Server};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    target: BenchTarget,
}

#[derive(Debug, Subcommand)]
enum BenchTarget {
    /// Import N orders with their lines from CSV into a fresh SQLite file.
    Import {
        /// How many orders.
        #[arg(long, default_value_t = 1_000_000)]
        orders: u64,
        /// How many runs; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Evaluate every segmentation model for M members holding N orders, in memory.
    Engine {
        /// How many members.
        #[arg(long, default_value_t = 1_000_000)]
        members: u32,
        /// How many orders.
        #[arg(long, default_value_t = 10_000_000)]
        orders: u64,
        /// How many recomputes; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: u32,
        /// Threads for the recompute (default: every core, at most 8).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Fill a fresh SQLite file with N generated orders, then start the live segments from it
    /// (a server's cold start).
    Load {
        /// How many orders.
        #[arg(long, default_value_t = 10_000_000)]
        orders: u64,
        /// How many starts; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
    },
    /// Audience rules over M members holding about N orders with lines, in memory: previews,
    /// and the cost of keeping 50 saved segments live per fact.
    Audience {
        /// How many members.
        #[arg(long, default_value_t = 1_000_000)]
        members: u32,
        /// About how many orders (whole generated members are folded on, so a few more).
        #[arg(long, default_value_t = 10_000_000)]
        orders: u64,
        /// How many runs; the median is reported.
        #[arg(long, default_value_t = 5)]
        runs: u32,
    },
    /// Post N orders with their lines to the batch API, 10,000 per request and two requests in
    /// flight, into a fresh SQLite file.
    Api {
        /// How many orders.
        #[arg(long, default_value_t = 100_000)]
        orders: u64,
        /// How many runs; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
        /// Custom segments saved (live) before the orders arrive, cycling through the
        /// audience benchmark's rules: run with 0 and 50 to see what keeping them current adds.
        #[arg(long, default_value_t = 0)]
        segments: u32,
    },
    /// Fill a fresh SQLite file with M generated members, their orders, points, tiers and
    /// coupons (the demo's programme), then read sampled members' wallets.
    Wallet {
        /// How many members.
        #[arg(long, default_value_t = 1_000_000)]
        members: u32,
        /// How many wallets to read; the median is reported.
        #[arg(long, default_value_t = 1_000)]
        samples: u32,
    },
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Generated orders (with lines), exactly `n` of them, member by member.
fn orders(config: &Config, n: u64) -> impl Iterator<Item = Order> {
    let spec = BrandSpec {
        members: u32::MAX,
        seed: 7,
        end: SystemClock
            .now()
            .to_zoned(config.brand.time_zone.clone())
            .date(),
        zone: config.brand.time_zone.clone(),
    };
    (0..u32::MAX)
        .flat_map(move |index| regulars_generate::member(&spec, index).orders)
        .take(n as usize)
}

/// Resets the peak resident memory of this process (Linux), so it measures only what follows.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident memory of this process since the last reset, in MiB (Linux).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Opens the app on the scratch file `bench-{run}.db`, creating and migrating it when new.
async fn bench_app(config: &Config, dir: &Path, run: u32) -> anyhow::Result<App> {
    let mut config = config.clone();
    config.database_url = DatabaseUrl::sqlite_file(&dir.join(format!("bench-{run}.db")));
    regulars_server::open_app(&config, Arc::new(SystemClock)).await
}

pub async fn run(config: &Config, args: &BenchArgs, json: bool) -> anyhow::Result<ExitCode> {
    let dir = tempfile::tempdir().context("making a scratch folder")?;
    let report = match args.target {
        BenchTarget::Import { orders: n, runs } => {
            bench_import(config, dir.path(), n, runs).await?
        }
        BenchTarget::Api {
            orders: n,
            runs,
            segments,
        } => bench_api(config, dir.path(), n, runs, segments).await?,
        BenchTarget::Load { orders: n, runs } => bench_load(config, dir.path(), n, runs).await?,
        BenchTarget::Wallet { members, samples } => {
            bench_wallet(config, dir.path(), members, samples).await?
        }
        BenchTarget::Audience {
            members,
            orders,
            runs,
        } => {
            let config = config.clone();
            tokio::task::spawn_blocking(move || bench_audience(&config, members, orders, runs))
                .await??
        }
        BenchTarget::Engine {
            members,
            orders,
            runs,
            threads,
        } => {
            let config = config.clone();
            tokio::task::spawn_blocking(move || {
                bench_engine(&config, members, orders, runs, threads)
            })
            .await??
        }
    };
    if json {
        println!("{report}");
    } else {
        let fields = report.as_object().into_iter().flatten();
        let width = fields.clone().map(|(key, _)| key.len()).max().unwrap_or(0) + 2;
        for (key, value) in fields {
            println!("{key:<width$}{value}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn bench_import(
    config: &Config,
    dir: &Path,
    n: u64,
    runs: u32,
) -> anyhow::Result<serde_json::Value> {
    let orders_path = dir.join("orders.csv");
    let lines_path = dir.join("order-lines.csv");
    let zone = config.brand.time_zone.clone();
    let (orders_file, lines_file) = (orders_path.clone(), lines_path.clone());
    let config_for_data = config.clone();
    let n_lines = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let mut order_sink =
            CsvSink::<_, Order>::new(BufWriter::new(File::create(orders_file)?), zone.clone())?;
        let mut line_sink = CsvSink::<_, (OrderId, OrderLine)>::new(
            BufWriter::new(File::create(lines_file)?),
            zone,
        )?;
        let mut n_lines = 0;
        for order in orders(&config_for_data, n) {
            order_sink.write(&order)?;
            for line in &order.lines {
                line_sink.write(&(order.order_id.clone(), line.clone()))?;
                n_lines += 1;
            }
        }
        order_sink.finish()?;
        line_sink.finish()?;
        Ok(n_lines)
    })
    .await??;
    eprintln!("generated {n} orders with {n_lines} lines; importing {runs} times …");
    let mut seconds = Vec::new();
    let mut peaks = Vec::new();
    for run in 0..runs {
        let app = bench_app(config, dir, run).await?;
        reset_peak_memory();
        let started = Instant::now();
        let mut observer = SilentObserver::default();
        let orders = app
            .import_file(
                &orders_path,
                &ImportOptions::new(FactKind::Orders, Format::Csv),
                &mut observer,
            )
            .await?;
        let lines = app
            .import_file(
                &lines_path,
                &ImportOptions::new(FactKind::OrderLines, Format::Csv),
                &mut observer,
            )
            .await?;
        let elapsed = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            orders.counts.created == n
                && lines.counts.created == n_lines
                && observer.errors.is_empty(),
            "the import did not store everything: {:?} {:?} {:?}",
            orders.counts,
            lines.counts,
            observer.errors.first()
        );
        let peak = peak_memory_mib().unwrap_or(0.0);
        eprintln!("run {}: {elapsed:.1} s, peak {peak:.0} MiB", run + 1);
        seconds.push(elapsed);
        peaks.push(peak);
    }
    let seconds = median(seconds);
    Ok(serde_json::json!({
        "orders": n,
        "order_lines": n_lines,
        "runs": runs,
        "median_seconds": (seconds * 100.0).round() / 100.0,
        "orders_per_second": (n as f64 / seconds).round(),
        "median_peak_mib": median(peaks).round(),
    }))
}

fn request(order: &Order) -> OrderRequest {
    OrderRequest {
        order_id: order.order_id.to_string(),
        member_id: order.member_id.to_string(),
        store_id: order.store_id.as_ref().map(ToString::to_string),
        placed_at: order.placed_at.to_string(),
        status: Some(order.status.as_str().to_owned()),
        status_at: order.status_at.map(|t| t.to_string()),
        currency: Some(order.amount.currency().to_string()),
        amount: order.amount.minor(),
        discount: Some(order.discount.minor()),
        shipping: Some(order.shipping.minor()),
        coupon_codes: order.coupon_codes.clone(),
        lines: order
            .lines
            .iter()
            .map(|l| OrderLineRequest {
                line_no: Some(i64::from(l.line_no)),
                sku: l.sku.to_string(),
                name: l.name.clone(),
                category: l.category.clone(),
                quantity: i64::from(l.quantity),
                unit_price: l.unit_price.minor(),
            })
            .collect(),
    }
}

/// Requests `bench api` keeps in flight, as a bulk loader would: the server parses one batch
/// while it writes the other.
const IN_FLIGHT: usize = 2;

async fn bench_api(
    config: &Config,
    dir: &Path,
    n: u64,
    runs: u32,
    segments: u32,
) -> anyhow::Result<serde_json::Value> {
    // The bodies are encoded before the clock starts: a loader's own JSON encoding runs on its
    // machine, not the server's.
    let requests: Vec<OrderRequest> = orders(config, n).map(|o| request(&o)).collect();
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        requests
            .chunks(regulars_api_types::MAX_BATCH_ITEMS)
            .map(regulars_client::encode_batch)
            .collect::<Result<_, _>>()?,
    );
    drop(requests);
    eprintln!("generated {n} orders; posting them {runs} times …");
    let mut seconds = Vec::new();
    for run in 0..runs {
        let app = bench_app(config, dir, run).await?;
        for at in 0..segments as usize {
            let rule =
                regulars_domain::audience::parse_rule(AUDIENCE_RULES[at % AUDIENCE_RULES.len()])
                    .map_err(anyhow::Error::msg)?;
            app.save_audience(AudienceDraft {
                name: format!("bench-{at}"),
                content: AudienceContent::Rule(rule),
                tag: None,
                description: None,
            })
            .await?;
        }
        let (token, _) = app
            .create_api_key(ApiRole::Ingest, Some("bench".to_owned()))
            .await?;
        let mut server_config = config.clone();
        server_config.listen = "127.0.0.1:0".parse().expect("a valid address");
        let server = Server::with_app(&server_config, app).await?;
        let client = Client::new(&format!("http://{}", server.local_addr()), Some(&token));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.run_until(async {
            let _ = stopped.await;
        }));
        let started = Instant::now();
        let mut senders = tokio::task::JoinSet::new();
        for sender in 0..IN_FLIGHT {
            let client = client.clone();
            let bodies = Arc::clone(&bodies);
            senders.spawn(async move {
                let mut created = 0;
                for body in bodies.iter().skip(sender).step_by(IN_FLIGHT) {
                    created += client
                        .batch_encoded("orders", body.clone(), None)
                        .await?
                        .created;
                }
                anyhow::Ok(created)
            });
        }
        let mut created = 0;
        while let Some(sent) = senders.join_next().await {
            created += sent??;
        }
        let elapsed = started.elapsed();
        let _ = stop.send(());
        serving.await??;
        anyhow::ensure!(
            created as u64 == n,
            "only {created} of {n} orders were created"
        );
        eprintln!("run {}: {:.1} s", run + 1, elapsed.as_secs_f64());
        seconds.push(elapsed.as_secs_f64());
    }
    let seconds = median(seconds);
    Ok(serde_json::json!({
        "orders": n,
        "runs": runs,
        "batch_size": regulars_api_types::MAX_BATCH_ITEMS,
        "requests_in_flight": IN_FLIGHT,
        "live_segments": segments,
        "median_seconds": (seconds * 100.0).round() / 100.0,
        "orders_per_second": (n as f64 / seconds).round(),
    }))
}

/// Stores `n` generated orders (without their lines, which segments do not read) in a fresh
/// file, then starts the live segments from it `runs` times, each in a new `App` as a restarted
/// server would. The first start also writes every member's baseline memberships.
async fn bench_wallet(
    config: &Config,
    dir: &Path,
    members: u32,
    samples: u32,
) -> anyhow::Result<serde_json::Value> {
    let config = crate::demo::demo_loyalty(config);
    let started = Instant::now();
    let app = bench_app(&config, dir, 0).await?;
    for template in crate::demo::demo_coupons(app.brand().currency) {
        app.save_coupon_template(template).await?;
    }
    let spec = BrandSpec {
        members,
        seed: 7,
        end: app.today().yesterday()?,
        zone: config.brand.time_zone.clone(),
    };
    let (mut profiles, mut orders) = (Vec::new(), Vec::new());
    for index in 0..members {
        let member = regulars_generate::member(&spec, index);
        profiles.push(member.profile);
        orders.extend(member.orders.into_iter().map(|mut order| {
            order.lines.clear();
            order
        }));
        if orders.len() >= regulars_api_types::MAX_BATCH_ITEMS || index + 1 == members {
            app.ingest(&profiles, None).await?;
            app.ingest(&orders, None).await?;
            profiles.clear();
            orders.clear();
        }
        if (index + 1) % 100_000 == 0 {
            eprintln!(
                "{} members stored in {:.0} s …",
                index + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let accrued = app.accrue_points().await?;
    eprintln!(
        "{} orders earned {} points ({} tier changes) in {:.0} s in all",
        accrued.orders,
        accrued.earned,
        accrued.tier_changes,
        started.elapsed().as_secs_f64()
    );
    let every_tenth: Vec<_> = (0..members)
        .step_by(10)
        .filter_map(|index| regulars_domain::MemberId::parse(&format!("M{:07}", index + 1)).ok())
        .collect();
    for member in &every_tenth {
        app.issue_coupon(regulars_server::app::CouponIssue {
            template: "pastry-every-300".to_owned(),
            member_id: member.clone(),
            key: format!("bench:{member}"),
            cause: "campaign:bench".to_owned(),
            with_points: false,
        })
        .await?;
    }
    let counts = app.fact_counts().await?;
    eprintln!(
        "{} members, {} orders and {} coupons stored in {:.0} s; reading {samples} wallets …",
        counts.members,
        counts.orders,
        every_tenth.len(),
        started.elapsed().as_secs_f64()
    );
    let mut random = 0x9e37_79b9_7f4a_7c15_u64;
    let (mut first, mut again) = (Vec::new(), Vec::new());
    let mut tiers = 0;
    for _ in 0..samples {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        let index = random % u64::from(members.max(1));
        let member = regulars_domain::MemberId::parse(&format!("M{:07}", index + 1))
            .map_err(anyhow::Error::msg)?;
        let started = Instant::now();
        let wallet = app.wallet(&member).await?;
        first.push(started.elapsed().as_secs_f64() * 1_000.0);
        let started = Instant::now();
        let wallet_again = app.wallet(&member).await?;
        again.push(started.elapsed().as_secs_f64() * 1_000.0);
        anyhow::ensure!(wallet == wallet_again, "two reads of a wallet differ");
        tiers += u32::from(wallet.tier.is_some_and(|t| t.level.entry > 0));
    }
    let round = |ms: f64| (ms * 1_000.0).round() / 1_000.0;
    Ok(serde_json::json!({
        "members": counts.members,
        "orders": counts.orders,
        "samples": samples,
        "sampled_above_base_tier": tiers,
        "wallet_ms_median": round(median(again)),
        "first_wallet_ms_median": round(median(first)),
    }))
}

async fn bench_load(
    config: &Config,
    dir: &Path,
    n: u64,
    runs: u32,
) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let app = bench_app(config, dir, 0).await?;
    let mut batch: Vec<Order> = Vec::with_capacity(regulars_api_types::MAX_BATCH_ITEMS);
    for mut order in orders(config, n) {
        order.lines.clear();
        batch.push(order);
        if batch.len() == batch.capacity() {
            app.ingest(&batch, None).await?;
            batch.clear();
        }
    }
    app.ingest(&batch, None).await?;
    let counts = app.fact_counts().await?;
    anyhow::ensure!(
        counts.orders == n,
        "only {} of {n} orders were stored",
        counts.orders
    );
    eprintln!(
        "stored {n} orders of {} members in {:.0} s; starting {runs} times …",
        counts.members,
        started.elapsed().as_secs_f64()
    );
    drop(app);
    let mut loads = Vec::new();
    let mut starts = Vec::new();
    for run in 0..runs.max(1) {
        let app = bench_app(config, dir, 0).await?;
        let started = Instant::now();
        let (_, table) = app.load_engine_facts(app.today()).await?;
        let load = started.elapsed().as_secs_f64();
        drop(table);
        let started = Instant::now();
        app.start_segments().await?;
        let start = started.elapsed().as_secs_f64();
        eprintln!(
            "run {}: facts loaded in {load:.1} s; segments started in {start:.1} s",
            run + 1
        );
        loads.push(load);
        // The first start also writes the baseline memberships; later ones are plain restarts.
        if run > 0 || runs <= 1 {
            starts.push(start);
        }
    }
    Ok(serde_json::json!({
        "orders": n,
        "members": counts.members,
        "runs": runs,
        "load_seconds": (median(loads) * 100.0).round() / 100.0,
        "start_seconds": (median(starts) * 100.0).round() / 100.0,
    }))
}

/// Builds the engine's columns from the generator: `members` generated members, then more
/// generated members' facts folded onto them until there are exactly `orders` orders. Members
/// are in the generator's id order (`M0000001`, …), so [`IndexOrder`] gives their ids' order.
fn engine_table(config: &Config, members: u32, orders: u64) -> regulars_engine::FactTable {
    let zone = config.brand.time_zone.clone();
    let spec = BrandSpec {
        members: u32::MAX,
        seed: 7,
        end: SystemClock.now().to_zoned(zone.clone()).date(),
        zone: zone.clone(),
    };
    let mut per_member: Vec<Vec<Order>> = Vec::with_capacity(members as usize);
    let mut returns: Vec<Vec<regulars_domain::NewReturn>> = Vec::with_capacity(members as usize);
    let mut interactions: Vec<Vec<regulars_domain::Interaction>> =
        Vec::with_capacity(members as usize);
    let mut total = 0u64;
    let mut index = 0u32;
    while index < members || total < orders {
        let mut generated = regulars_generate::member(&spec, index);
        generated
            .orders
            .truncate((orders - total.min(orders)) as usize);
        for order in &mut generated.orders {
            order.lines.clear();
        }
        total += generated.orders.len() as u64;
        let slot = (index % members.max(1)) as usize;
        if slot == per_member.len() {
            per_member.push(generated.orders);
            returns.push(generated.returns);
            interactions.push(generated.interactions);
        } else {
            per_member[slot].extend(generated.orders);
            returns[slot].extend(generated.returns);
            interactions[slot].extend(generated.interactions);
        }
        index += 1;
    }
    let mut builder = regulars_engine::FactTableBuilder::new();
    for ((orders, returns), interactions) in per_member.iter().zip(&returns).zip(&interactions) {
        regulars_server::app::segments::push_member(
            &mut builder,
            orders,
            returns,
            interactions,
            &zone,
            config.orders,
        );
    }
    builder.finish()
}

/// Moves the live engine one day at a time, `runs` times; the time of each day boundary, ms.
fn bench_day_boundaries(engine: &mut regulars_engine::Engine, runs: u32) -> Vec<f64> {
    let mut out = Vec::new();
    (0..runs.max(1))
        .map(|run| {
            out.clear();
            let next = regulars_engine::Day(engine.today().0 + 1);
            let started = Instant::now();
            engine.advance_to(next, &IndexOrder, &mut out);
            let elapsed = started.elapsed().as_secs_f64() * 1e3;
            eprintln!(
                "day boundary {}: {elapsed:.2} ms, {} transitions",
                run + 1,
                out.len()
            );
            elapsed
        })
        .collect()
}

/// Applies 100,000 orders and interactions on today to members spread over the engine, `runs`
/// times; nanoseconds per fact of each run.
fn bench_apply(engine: &mut regulars_engine::Engine, runs: u32) -> Vec<f64> {
    const FACTS: u32 = 100_000;
    let members = engine.len().max(1) as u64;
    let today = engine.today();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut out = Vec::new();
    (0..runs.max(1))
        .map(|run| {
            let facts: Vec<(u32, regulars_engine::Fact)> = (0..FACTS)
                .map(|n| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let member = ((state >> 33) % members) as u32;
                    let fact = if n % 4 == 3 {
                        regulars_engine::Fact::Interaction(today)
                    } else {
                        regulars_engine::Fact::Order(regulars_engine::OrderFact::paid(
                            today,
                            10_000 + (state >> 50) as i64,
                        ))
                    };
                    (member, fact)
                })
                .collect();
            out.clear();
            let started = Instant::now();
            for (member, fact) in facts {
                let _ = engine.apply(member, fact, &IndexOrder, &mut out);
            }
            let per_fact = started.elapsed().as_secs_f64() * 1e9 / f64::from(FACTS);
            eprintln!(
                "apply {}: {per_fact:.0} ns per fact, {} transitions",
                run + 1,
                out.len()
            );
            per_fact
        })
        .collect()
}

fn bench_engine(
    config: &Config,
    members: u32,
    orders: u64,
    runs: u32,
    threads: Option<usize>,
) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let table = engine_table(config, members, orders);
    eprintln!(
        "built {} members with {orders} orders in {:.1} s; evaluating {runs} times …",
        table.len(),
        started.elapsed().as_secs_f64()
    );
    let as_of = regulars_engine::Day::from_date(
        SystemClock
            .now()
            .to_zoned(config.brand.time_zone.clone())
            .date(),
    );
    let engine_config = config.engine.clone();
    let mut millis = Vec::new();
    for run in 0..runs {
        let started = Instant::now();
        let evaluation = match threads {
            Some(threads) => {
                regulars_engine::evaluate_on(&table, &IndexOrder, &engine_config, as_of, threads)
            }
            None => regulars_engine::evaluate(&table, &IndexOrder, &engine_config, as_of),
        };
        let elapsed = started.elapsed().as_secs_f64() * 1e3;
        eprintln!(
            "run {}: {elapsed:.0} ms (C = {} days, {} scored)",
            run + 1,
            evaluation.cuts.store_cycle,
            evaluation.cuts.population.rfm
        );
        millis.push(elapsed);
    }
    let members_in_table = table.len();
    let started = Instant::now();
    let mut engine = regulars_engine::Engine::new(
        table,
        &IndexOrder,
        engine_config,
        as_of,
        threads.unwrap_or_else(regulars_engine::default_threads),
    );
    eprintln!(
        "live engine built in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    // Everything the live engine holds: columns, member states, the day calendar.
    let member_bytes = engine
        .heap_bytes()
        .saturating_sub(orders as usize * size_of::<regulars_engine::OrderFact>());
    let day_boundary = bench_day_boundaries(&mut engine, runs);
    let apply = bench_apply(&mut engine, runs);
    Ok(serde_json::json!({
        "members": members_in_table,
        "orders": orders,
        "runs": runs,
        "recompute_ms": median(millis).round(),
        "apply_ns_per_fact": median(apply).round(),
        "day_boundary_ms": (median(day_boundary) * 100.0).round() / 100.0,
        "bytes_per_member": (member_bytes as f64 / f64::from(members.max(1))).round(),
    }))
}

/// The rules the audience bench previews, and the 50 it keeps live.
const AUDIENCE_RULES: [&str; 10] = [
    "nesl in (S1, S2) and gender = female and consent(line)",
    r#"bought(category = "pastry", within = 30d)"#,
    "rfm_segment in (champions, loyal) and not consent(sms)",
    "orders(within = 90d) >= 3",
    "spent(within = 365d) >= 5000 and age >= 30",
    "event(cart_add, within = 14d, no_purchase_since)",
    "months_to_birthday = 0 and consent(line)",
    "lifecycle = growth or rfim = top",
    "days_since_purchase > 60 and purchase_days >= 3",
    "interactions(within = 30d) >= 2",
];

/// The repurchase-cohort preset's rule, previewed on its own: compiling it reads every line.
const REPURCHASE_RULE: &str = "repurchase_cycle(min_rate = 30)";

fn bench_audience(
    config: &Config,
    members: u32,
    orders: u64,
    runs: u32,
) -> anyhow::Result<serde_json::Value> {
    use regulars_engine::{Audience, AudienceChange, AudienceTable, Lookups, RuleContext};
    let zone = config.brand.time_zone.clone();
    let spec = BrandSpec {
        members: u32::MAX,
        seed: 7,
        end: SystemClock.now().to_zoned(zone.clone()).date(),
        zone: zone.clone(),
    };
    let members = members.max(1);
    let started = Instant::now();
    let sample = members.min(1_000);
    let per_member = (0..sample)
        .map(|i| regulars_generate::member(&spec, i).orders.len())
        .sum::<usize>() as f64
        / f64::from(sample);
    let rounds = ((orders as f64) / (f64::from(members) * per_member.max(0.1)))
        .ceil()
        .max(1.0) as u32;
    let channels: std::collections::HashMap<String, regulars_domain::StoreChannel> =
        regulars_generate::stores(&spec)
            .into_iter()
            .map(|s| (s.store_id.to_string(), s.channel))
            .collect();
    let mut builder = regulars_engine::FactTableBuilder::new();
    let mut table = AudienceTable::new();
    let (mut total, mut lines) = (0u64, 0u64);
    for m in 0..members {
        let mut member = regulars_generate::member(&spec, m);
        for round in 1..rounds {
            let more = regulars_generate::member(&spec, m + round * members);
            member.orders.extend(more.orders);
            member.returns.extend(more.returns);
            member.events.extend(more.events);
            member.interactions.extend(more.interactions);
        }
        total += member.orders.len() as u64;
        lines += member
            .orders
            .iter()
            .map(|o| o.lines.len() as u64)
            .sum::<u64>();
        regulars_server::app::segments::push_member(
            &mut builder,
            &member.orders,
            &member.returns,
            &member.interactions,
            &zone,
            config.orders,
        );
        table.push(&regulars_server::app::audience_member(
            &member.profile,
            &member.orders,
            &member.events,
            &member.interactions,
            &zone,
            config.orders.include_shipping,
            &channels,
        ));
    }
    eprintln!(
        "built {members} members with {total} orders and {lines} lines in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let as_of = regulars_engine::Day::from_date(spec.end);
    let facts = builder.finish();
    let evaluation = regulars_engine::evaluate(&facts, &IndexOrder, &config.engine, as_of);
    let context = RuleContext {
        as_of,
        currency_exponent: config.brand.currency.exponent(),
    };
    let models = |m: usize| evaluation.members[m];
    let no_segments = |_: usize, _: usize| false;
    let lookups = Lookups {
        models: &models,
        segment: &no_segments,
    };
    let threads = regulars_engine::default_threads();
    let preview = |text: &str| -> anyhow::Result<(f64, usize)> {
        let rule = regulars_domain::audience::parse_rule(text).map_err(anyhow::Error::msg)?;
        let mut times = Vec::new();
        let mut count = 0;
        for _ in 0..runs.max(1) {
            let started = Instant::now();
            let audience = Audience::compile(&rule, &table, context, &[])?;
            count = audience.select(&table, lookups, threads).len();
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
        eprintln!(
            "{text}: {count} members, median {:.1} ms",
            median(times.clone())
        );
        Ok((median(times), count))
    };
    let (features_ms, features_count) = preview(AUDIENCE_RULES[0])?;
    let (lines_ms, lines_count) = preview(AUDIENCE_RULES[1])?;
    // Measures every item's repurchase rate and cycle over all lines first.
    let (repurchase_ms, repurchase_count) = preview(REPURCHASE_RULE)?;

    // Fifty live segments: each fact changes the table, then its member is re-tested against
    // every one that reads what the fact reaches (the models read once per member, as the
    // live segments do).
    let mut compiled = Vec::new();
    for at in 0..50 {
        let rule = regulars_domain::audience::parse_rule(AUDIENCE_RULES[at % AUDIENCE_RULES.len()])
            .map_err(anyhow::Error::msg)?;
        table.learn_names(&rule);
        compiled.push(Audience::compile(&rule, &table, context, &[])?);
    }
    let mut membership = vec![false; compiled.len() * members as usize];
    for (k, audience) in compiled.iter().enumerate() {
        for m in audience.select(&table, lookups, threads) {
            membership[m as usize * compiled.len() + k] = true;
        }
    }
    const FACTS: u32 = 100_000;
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut per_fact = Vec::new();
    let mut compact_ms = Vec::new();
    for run in 0..runs.max(1) {
        let changes: Vec<(usize, AudienceChange)> = (0..FACTS)
            .map(|n| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let m = ((state >> 33) % u64::from(members)) as usize;
                let change = if n % 4 == 3 {
                    AudienceChange::Interaction(as_of, regulars_domain::InteractionChannel::Line)
                } else {
                    AudienceChange::Order(regulars_engine::AudienceOrder {
                        key: state,
                        day: as_of,
                        cancelled_from: regulars_engine::Day(i32::MAX),
                        amount: 10_000 + (state >> 50) as i64,
                        store: Some("S01".to_owned()),
                        channel: Some(regulars_domain::StoreChannel::Offline),
                        lines: vec![("CF-LAT".to_owned(), Some("coffee".to_owned()), 12_000)],
                        returns: Vec::new(),
                    })
                };
                (m, change)
            })
            .collect();
        let mut moved = 0u64;
        let started = Instant::now();
        for (m, change) in changes {
            table.apply(m, &change)?;
            let reach = change.reaches();
            let cached = std::sync::OnceLock::new();
            let member_models = |m: usize| *cached.get_or_init(|| evaluation.members[m]);
            let lookups = Lookups {
                models: &member_models,
                segment: &no_segments,
            };
            // The member's rows found once for all the rules, as the live segments do.
            let member = table.member(m);
            for (k, audience) in compiled.iter().enumerate() {
                if !audience.reads().meets(reach) {
                    continue;
                }
                let now = audience.matches_member(member, lookups);
                let slot = &mut membership[m * compiled.len() + k];
                if *slot != now {
                    *slot = now;
                    moved += 1;
                }
            }
        }
        let ns = started.elapsed().as_secs_f64() * 1e9 / f64::from(FACTS);
        eprintln!(
            "50 live segments, run {}: {ns:.0} ns per fact ({moved} moves)",
            run + 1
        );
        per_fact.push(ns);
        // The day boundary folds the changed members back.
        let started = Instant::now();
        table.compact();
        compact_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(serde_json::json!({
        "members": members,
        "orders": total,
        "lines": lines,
        "runs": runs,
        "preview_features_ms": (features_ms * 10.0).round() / 10.0,
        "preview_features_count": features_count,
        "preview_lines_ms": (lines_ms * 10.0).round() / 10.0,
        "preview_lines_count": lines_count,
        "preview_repurchase_ms": (repurchase_ms * 10.0).round() / 10.0,
        "preview_repurchase_count": repurchase_count,
        "live_50_segments_ns_per_fact": median(per_fact).round(),
        "compact_after_100k_facts_ms": median(compact_ms).round(),
    }))
}
