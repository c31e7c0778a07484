//! The `lots` command line: parse arguments, load the configuration, call into the crates.

use std::io::Read as _;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use lots_api::{AppState, Config};
use lots_cases::{Directory, NewUser};
use lots_core::SystemClock;
use lots_migrations::{Migrator, MigratorTrait};
use lots_store::Db;

#[derive(Debug, Parser)]
#[command(
    name = "lots",
    version,
    about = "Lots: case handling across a Swedish municipality's departments"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database, then serve the API (the default command).
    Serve(ServeArgs),
    /// Bring the database schema up to date.
    Migrate(DbArgs),
    /// Load the demo municipality and print its logins.
    Demo(DbArgs),
    /// Import case histories (NDJSON, one case a line) from an older system.
    Import {
        /// The NDJSON file.
        file: std::path::PathBuf,
        /// Import the good lines and report the bad ones.
        #[arg(long)]
        skip_invalid: bool,
        /// Create departments and actors that do not exist.
        #[arg(long)]
        create_missing: bool,
        /// How much of the file is held in memory at a time, in bytes (a part ends at a line
        /// end; a longer line makes its part longer).
        #[arg(long, default_value_t = lots_cases::import::PART_BYTES as u64,
              value_parser = clap::value_parser!(u64).range(1..))]
        part_bytes: u64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Export every case: the event log as OCEL 2.0 or XES, or the cases as CSV.
    Export {
        #[arg(long, value_parser = ["ocel", "xes", "csv"])]
        format: String,
        /// Write here instead of to standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// The metrics' rollups in the database.
    Rollups {
        #[command(subcommand)]
        command: RollupsCommand,
    },
    /// Kolada's Insikt values, for comparing with other municipalities.
    Kolada {
        #[command(subcommand)]
        command: KoladaCommand,
    },
    /// Run the background worker alone (outbox, survey invitations, webhooks, deadline notices).
    Worker(DbArgs),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the OpenAPI document.
    #[command(hide = true)]
    Openapi,
}

#[derive(Debug, Args, Default)]
struct DbArgs {
    /// The database URL (overrides LOTS_DATABASE_URL and DATABASE_URL).
    #[arg(long)]
    database_url: Option<String>,
}

#[derive(Debug, Args, Default)]
struct ServeArgs {
    /// Where to listen (overrides LOTS_ADDR).
    #[arg(long)]
    addr: Option<std::net::SocketAddr>,
    #[command(flatten)]
    db: DbArgs,
    /// Load the demo municipality first if the database is empty.
    #[arg(long)]
    demo: bool,
    /// Serve the API only; run the worker elsewhere (`lots worker`).
    #[arg(long)]
    no_worker: bool,
}

#[derive(Debug, Subcommand)]
enum RollupsCommand {
    /// Recompute every rollup from the stored history (after an import, a rule change or a
    /// doubt), with a progress bar. Stopped, it goes on where it stopped when run with
    /// `--resume`; until it finishes, the dashboards answer from the rollups as they stood.
    Rebuild {
        /// Go on with a rebuild that was stopped instead of starting one.
        #[arg(long)]
        resume: bool,
        /// Cases a transaction.
        #[arg(long, default_value_t = lots_metrics::rollup::write::BATCH, hide = true)]
        batch: u64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Compare the rollups with a recomputation from the stored history and report every
    /// difference (exit status 1 if there is one). Brings the rollups up to date first.
    Check(DbArgs),
}

#[derive(Debug, Subcommand)]
enum KoladaCommand {
    /// Fetch the Insikt KPIs' values for the years from `--from` (to `--to`, default last
    /// year) from Kolada's API over HTTPS, following its pages, and import them.
    Fetch {
        #[arg(long)]
        from: i32,
        #[arg(long)]
        to: Option<i32>,
        /// Kolada's API (v2 or v3 paths alike: `{base}/data/kpi/{ids}/year/{years}`).
        #[arg(long, default_value = "https://api.kolada.se/v2")]
        base_url: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Import a response of Kolada's API (v2 or v3) saved as a JSON file: the Insikt KPIs'
    /// values, replacing earlier ones for the same KPI, municipality, year and gender.
    Import {
        file: std::path::PathBuf,
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = ["officer", "manager", "admin"])]
        role: String,
        /// Required for officers and managers.
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (the only way to give it).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// mimalloc instead of the system allocator: an import allocates on one thread and frees on
/// another, millions of times, where glibc's allocator spends a fifth of the time consolidating.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LOTS_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn")
            }),
        )
        .with_writer(std::io::stderr)
        .init();
    lots_hooks::install_tls_provider();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => {
            let (_, db) = open(&args).await?;
            println!("the database is up to date");
            drop(db);
            Ok(())
        }
        Command::Demo(args) => {
            let (config, db) = open(&args).await?;
            let state = AppState::new(config, db, Arc::new(SystemClock)).await?;
            load_demo(&state).await
        }
        Command::Import {
            file,
            skip_invalid,
            create_missing,
            part_bytes,
            db,
        } => {
            let source = lots_cases::ImportSource::File {
                path: file,
                part_bytes: usize::try_from(part_bytes).unwrap_or(usize::MAX),
            };
            import(source, skip_invalid, create_missing, &db).await
        }
        Command::Export { format, out, db } => export(&format, out.as_deref(), &db).await,
        Command::Rollups {
            command: RollupsCommand::Rebuild { resume, batch, db },
        } => rollups_rebuild(resume, batch, &db).await,
        Command::Rollups {
            command: RollupsCommand::Check(db),
        } => rollups_check(&db).await,
        Command::Kolada {
            command: KoladaCommand::Import { file, db },
        } => kolada_import(&file, &db).await,
        Command::Kolada {
            command:
                KoladaCommand::Fetch {
                    from,
                    to,
                    base_url,
                    db,
                },
        } => kolada_fetch(from, to, &base_url, &db).await,
        Command::Worker(args) => {
            let (config, db) = open(&args).await?;
            let state = AppState::new(config, db, Arc::new(SystemClock)).await?;
            let (stop, stopped) = stop_signal();
            tokio::spawn(async move {
                shutdown_signal().await;
                let _ = stop.send(true);
            });
            let rollups = state.clone();
            let stop_rollups = stopped.clone();
            tokio::spawn(async move { rollups.rollups.run(&rollups.db, wait(stop_rollups)).await });
            state.worker()?.run(wait(stopped)).await;
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    role,
                    department,
                    display_name,
                    password_stdin: _,
                    db,
                },
        } => add_user(username, role, department, display_name, &db).await,
        Command::Openapi => {
            print!("{}", lots_api::openapi_json());
            Ok(())
        }
    }
}

/// `lots import`: checks every line, then imports, with a progress bar.
async fn import(
    source: lots_cases::ImportSource,
    skip_invalid: bool,
    create_missing: bool,
    db: &DbArgs,
) -> anyhow::Result<()> {
    let (config, db) = open(db).await?;
    let instrument = config.nki.clone();
    let state = AppState::new(config, db, Arc::new(SystemClock)).await?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} cases ({per_sec})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("checking");
    let system = lots_core::Actor {
        user_id: 0,
        username: "import".into(),
        role: lots_core::Role::Admin,
        department_id: None,
    };
    let options = lots_cases::ImportOptions {
        skip_invalid,
        create_missing,
        instrument,
    };
    let started = std::time::Instant::now();
    let report = state
        .cases
        .import_cases(&system, source, &options, &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .await
        .map_err(describe)?;
    bar.finish_and_clear();
    for e in &report.errors {
        eprintln!(
            "line {}{}: {}",
            e.line,
            e.reference
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default(),
            e.message
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} of {} cases imported in {:.1} s ({:.0} cases/s){}",
        report.imported,
        report.lines,
        seconds,
        report.imported as f64 / seconds.max(1e-9),
        if report.errors.is_empty() {
            String::new()
        } else {
            format!("; {} bad lines", report.errors.len())
        }
    );
    if !report.errors.is_empty() && !skip_invalid {
        anyhow::bail!("nothing was imported: fix the lines above, or pass --skip-invalid");
    }
    catch_up_rollups(&state.db).await
}

/// Brings the rollups up to date after an import, with a progress bar: a long queue writes the
/// facts first and every cell once at the end.
async fn catch_up_rollups(db: &Db) -> anyhow::Result<()> {
    use lots_metrics::rollup::write;
    let waiting = write::pending(db.reader()).await?;
    if waiting == 0 {
        return Ok(());
    }
    let cells = if waiting > 50_000 {
        write::Cells::UpTo(write::queue_every_cell(db.writer()).await?)
    } else {
        write::Cells::Recompute
    };
    let bar = progress_bar(waiting, "cases into the rollups");
    let started = std::time::Instant::now();
    let done = write::drain(db, write::Budget::ALL, cells, &|n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    if matches!(cells, write::Cells::UpTo(_)) {
        // The facts and rollups were written wholesale: their statistics now, or the planner
        // takes a million facts for the few it saw at the import's ANALYZE.
        db.optimize_after_bulk().await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rollups brought up to date: {done} cases in {seconds:.1} s ({:.0} cases/s)",
        done as f64 / seconds.max(1e-9)
    );
    Ok(())
}

fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{spinner}} [{{elapsed_precise}}] {{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}})"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// `lots rollups rebuild`: queues every case and drains the queue up to the rebuild's last row.
async fn rollups_rebuild(resume: bool, batch: u64, db: &DbArgs) -> anyhow::Result<()> {
    use lots_metrics::rollup::write;
    let (_, db) = open(db).await?;
    let last = if resume {
        write::unfinished_rebuild(db.reader())
            .await?
            .context("no rebuild was stopped: nothing to resume")?
    } else {
        write::queue_everything(&db).await?
    };
    let waiting = write::pending(db.reader()).await?;
    let bar = progress_bar(waiting, "queued cases");
    let started = std::time::Instant::now();
    let budget = write::Budget {
        budget: u64::MAX,
        batch,
    };
    let done = write::drain(&db, budget, write::Cells::UpTo(last), &|n| {
        bar.set_position(n)
    })
    .await?;
    bar.finish_and_clear();
    db.optimize_after_bulk().await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "rollups rebuilt: {done} queued cases in {seconds:.1} s ({:.0} cases/s)",
        done as f64 / seconds.max(1e-9)
    );
    Ok(())
}

/// `lots rollups check`: the rollups against a recomputation.
async fn rollups_check(db: &DbArgs) -> anyhow::Result<()> {
    use lots_metrics::rollup::{check, write};
    let (_, db) = open(db).await?;
    write::drain(&db, write::Budget::ALL, write::Cells::Recompute, &|_| {}).await?;
    let bar = progress_bar(0, "cases");
    let report = check::check(&db, &|n| bar.set_position(n)).await?;
    bar.finish_and_clear();
    for e in &report.examples {
        eprintln!("{e}");
    }
    println!(
        "{} cases, {} cells: {} facts, {} cells and {} spans differ from the stored history",
        report.cases, report.cells, report.facts_differ, report.cells_differ, report.spans_differ
    );
    if !report.is_clean() {
        anyhow::bail!("the rollups differ from a recomputation: run `lots rollups rebuild`");
    }
    Ok(())
}

/// `lots export`: the whole log as OCEL 2.0, XES or CSV.
async fn kolada_import(file: &std::path::Path, db: &DbArgs) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let values = lots_core::kolada::parse(&text)
        .with_context(|| format!("{} is not a Kolada response", file.display()))?;
    save_kolada(values, db).await
}

/// The most pages one fetch follows (Kolada pages 5 000 values; the Insikt KPIs of all
/// municipalities over a decade are a few pages).
const KOLADA_MAX_PAGES: usize = 200;

async fn kolada_fetch(from: i32, to: Option<i32>, base: &str, db: &DbArgs) -> anyhow::Result<()> {
    use lots_core::Clock as _;
    let last = to.unwrap_or_else(|| {
        use chrono::Datelike as _;
        SystemClock
            .now()
            .with_timezone(&lots_core::TIME_ZONE)
            .year()
            - 1
    });
    anyhow::ensure!(
        (1990..=2100).contains(&from) && from <= last,
        "--from {from} must be a year no later than --to {last}"
    );
    let kpis: Vec<&str> = lots_core::kolada::NKI_KPIS
        .iter()
        .map(|(k, _)| *k)
        .chain(lots_core::kolada::FACTOR_KPIS)
        .collect();
    let years: Vec<String> = (from..=last).map(|y| y.to_string()).collect();
    let mut url = format!(
        "{}/data/kpi/{}/year/{}",
        base.trim_end_matches('/'),
        kpis.join(","),
        years.join(",")
    );
    lots_hooks::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()?;
    let mut values = Vec::new();
    for page in 1..=KOLADA_MAX_PAGES {
        let body = client
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("cannot fetch {url}"))?
            .text()
            .await?;
        values.extend(
            lots_core::kolada::parse(&body)
                .with_context(|| format!("page {page} ({url}) is not a Kolada response"))?,
        );
        let next = serde_json::from_str::<serde_json::Value>(&body)?
            .get("next_page")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string);
        match next {
            Some(n) if !n.is_empty() => url = n,
            _ => return save_kolada(values, db).await,
        }
    }
    anyhow::bail!("Kolada gave more than {KOLADA_MAX_PAGES} pages; nothing was imported")
}

async fn save_kolada(
    values: Vec<lots_core::kolada::KoladaValue>,
    db: &DbArgs,
) -> anyhow::Result<()> {
    let (_, db) = open(db).await?;
    let n = lots_metrics::kolada::import(&db, &values, lots_core::Clock::now(&SystemClock)).await?;
    let mut kpis: Vec<&str> = values.iter().map(|v| v.kpi.as_str()).collect();
    kpis.sort_unstable();
    kpis.dedup();
    let mut places: Vec<&str> = values.iter().map(|v| v.municipality.as_str()).collect();
    places.sort_unstable();
    places.dedup();
    let missing = values.iter().filter(|v| v.value.is_none()).count();
    println!(
        "imported {n} values of {} KPIs for {} municipalities ({missing} missing or flagged, kept as missing)",
        kpis.len(),
        places.len()
    );
    Ok(())
}

async fn export(format: &str, out: Option<&std::path::Path>, db: &DbArgs) -> anyhow::Result<()> {
    let (_, db) = open(db).await?;
    let system = lots_core::Actor {
        user_id: 0,
        username: "export".into(),
        role: lots_core::Role::Admin,
        department_id: None,
    };
    let filter = lots_metrics::MetricFilter::default();
    let text = match format {
        "csv" => lots_metrics::export::cases_csv(
            &lots_metrics::load::load(&db, &system, &filter)
                .await
                .map_err(describe)?
                .iter()
                .collect::<Vec<_>>(),
        ),
        "xes" => lots_metrics::export::xes(
            &lots_metrics::export::load_log(&db, &system, &filter)
                .await
                .map_err(describe)?,
        ),
        _ => lots_metrics::export::ocel(
            &lots_metrics::export::load_log(&db, &system, &filter)
                .await
                .map_err(describe)?,
        )
        .to_string(),
    };
    match out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

/// `lots user add`: the password comes from standard input only.
async fn add_user(
    username: String,
    role: String,
    department: Option<String>,
    display_name: Option<String>,
    db: &DbArgs,
) -> anyhow::Result<()> {
    let (_, db) = open(db).await?;
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    let directory = Directory::new(db, Arc::new(SystemClock));
    let user = directory
        .add_user(NewUser {
            username: Some(username),
            display_name,
            password: Some(password),
            role: Some(role),
            department,
        })
        .await
        .map_err(describe)?;
    println!(
        "added {} ({}{})",
        user.username,
        user.role.as_str(),
        user.department
            .map(|d| format!(", {d}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// Loads the configuration, applies `--database-url`, connects and migrates.
async fn open(args: &DbArgs) -> anyhow::Result<(Config, Db)> {
    let mut config = Config::load()?;
    if let Some(url) = &args.database_url {
        config.database_url = url.clone();
    }
    let db = Db::connect(&config.database_url)
        .await
        .context("cannot connect to the database")?;
    Migrator::up(db.writer(), None)
        .await
        .context("cannot migrate the database")?;
    db.optimize()
        .await
        .context("cannot gather the query planner's statistics")?;
    Ok((config, db))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (mut config, db) = open(&args.db).await?;
    if let Some(addr) = args.addr {
        config.addr = addr;
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    let state = AppState::new(config, db, Arc::new(SystemClock)).await?;
    if args.demo {
        if lots_demo::is_empty(&state.db).await? {
            load_demo(&state).await?;
        } else {
            println!(
                "the database already holds data: not loading the demo (its logins were printed when it was loaded)"
            );
        }
    }
    let (stop, stopped) = stop_signal();
    let worker = if args.no_worker {
        None
    } else {
        let worker = state.worker()?;
        // The rollups are brought up to date in the background too, so that a dashboard
        // rarely finds work to do first.
        let rollups = state.clone();
        let stop_rollups = stopped.clone();
        tokio::spawn(async move { rollups.rollups.run(&rollups.db, wait(stop_rollups)).await });
        let stopped = stopped.clone();
        Some(tokio::spawn(async move { worker.run(wait(stopped)).await }))
    };
    // On a SQLite file, the write-ahead log is emptied whenever it grows long.
    tokio::spawn(state.db.clone().keep_wal_short(wait(stopped.clone())));
    // On PostgreSQL, the event log's partitions are made ahead, now and every hour.
    tokio::spawn(
        state
            .db
            .clone()
            .keep_event_partitions_ahead(wait(stopped.clone())),
    );
    tracing::info!(%addr, "Lots is serving; API docs at http://{addr}/api/docs");
    println!("Lots is listening on http://{addr}  (API docs: http://{addr}/api/docs)");
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    lots_api::serve(listener, state, wait(stopped)).await?;
    if let Some(w) = worker {
        let _ = w.await;
    }
    Ok(())
}

fn stop_signal() -> (
    tokio::sync::watch::Sender<bool>,
    tokio::sync::watch::Receiver<bool>,
) {
    tokio::sync::watch::channel(false)
}

/// Resolves once the stop signal has been sent.
async fn wait(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|s| *s).await;
}

async fn load_demo(state: &AppState) -> anyhow::Result<()> {
    let report = lots_demo::load_with(
        &state.db,
        std::env::var("LOTS_DEMO_PASSWORD").ok(),
        &state.surveys,
        Some(lots_cases::AttachmentSettings {
            dir: state.config.attachments_path(),
            max_bytes: state.config.attachment_limit_bytes,
        }),
    )
    .await?;
    println!("{report}");
    for line in lots_demo::company_side(&state.cases, &state.db, &state.config.base_url()).await? {
        println!("{line}");
    }
    for line in lots_demo::e_services(&state.cases, &state.attachments, &state.db).await? {
        println!("{line}");
    }
    for line in lots_demo::kolada_sample(&state.db).await? {
        println!("{line}");
    }
    Ok(())
}

fn describe(e: lots_cases::ServiceError) -> anyhow::Error {
    match e {
        lots_cases::ServiceError::Validation(errors) => anyhow::anyhow!(
            "invalid input: {}",
            errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
