//! `make bench`: the release `steward` binary under concurrent gRPC load.
//!
//! WhoAmI and GetUser with an API key, and ListDataSources with a project-scoped
//! key over N registered resources, against grpc.health.v1 Check (the baseline)
//! on the same server, same clients, same run; one argon2id login; the server's RSS. Also
//! bulk import, delete with transfer and the global inconsistency report (each with its
//! own baseline or size ratio). Every loop is bounded by time or count; only loopback
//! addresses are used.

mod calls;
mod import;
mod load;
mod login;
mod maintenance;
mod maintenance_seed;
mod report;
mod server;
mod setup;
mod transfer;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use clap::Parser;

use load::{Clients, Kind, Sample, median, round, sequential};
use report::{
    ApiKeyVsLogin, BackendReport, CallSummary, DataSourcesSetup, ExtraCall, LoginReport, MemoryReport, Ratio,
    RoundReport, Summary,
};
use server::{PgDatabase, Server, cpu_time};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Datasets linked to the benchmark project (ListDataSources pages through these).
const LINKED_DATASETS: usize = 100;

const LOCAL_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Parser)]
#[command(
    about = "Benchmark the release steward binary: WhoAmI, GetUser (API key) and project-scoped ListDataSources vs grpc.health.v1 Check, argon2id login, RSS"
)]
struct Args {
    /// Concurrent client tasks.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    concurrency: u32,
    /// HTTP/2 connections the tasks share.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    channels: u32,
    /// Seconds per call kind per round.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Rounds (each runs the baseline and the subject, in alternating order).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    rounds: u32,
    /// Worker threads of the client's tokio runtime.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    client_threads: u32,
    /// Sequential Login calls timed.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=200))]
    logins: u32,
    /// Resources registered (once per backend, 32 tasks) before the ListDataSources rounds; 0 skips them.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(0..=50_000))]
    resources: u32,
    /// Also run on PostgreSQL, in a fresh database `steward_bench_<uuid>` created (and dropped)
    /// through this admin URL. Without a value: STEWARD_TEST_POSTGRES_URL, else the local PostgreSQL.
    #[arg(long, value_name = "ADMIN_URL", num_args = 0..=1)]
    #[allow(clippy::option_option)]
    postgres: Option<Option<String>>,
    /// Skip SQLite (with --postgres: PostgreSQL only).
    #[arg(long)]
    no_sqlite: bool,
    /// Resource counts for delete-with-transfer (comma-separated; the flag alone skips it).
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "10000,100000")]
    transfer_sizes: Vec<usize>,
    /// Rounds per transfer size (a fresh user each). Seven: SQLite's timings of one
    /// 10k transfer vary by a third from round to round, and the 100k/10k figure
    /// divides two medians.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=20))]
    transfer_rounds: u32,
    /// Only the delete-with-transfer figures (no server, no RPC load).
    #[arg(long)]
    transfer_only: bool,
    /// Row counts for the bulk import figures (comma-separated; the flag alone skips them).
    #[arg(long, value_delimiter = ',', num_args = 0.., default_value = "100000,1000000")]
    import_sizes: Vec<usize>,
    /// Only the bulk import figures.
    #[arg(long)]
    import_only: bool,
    /// Users of the global inconsistency report (10 resources each, 1% seeded with one
    /// inconsistency each), also run at a tenth of the size; 0 skips it.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    report_users: u32,
    /// Only the global inconsistency report figures.
    #[arg(long)]
    report_only: bool,
    /// Passed to the server as --principal-cache-ttl-ms (0: every call reads the
    /// database for its principal and for the user WhoAmI/GetUser return). Default:
    /// the server's own (1000).
    #[arg(long)]
    principal_cache_ttl_ms: Option<u64>,
    /// Where the JSON summary goes. Default: target/bench/summary.json.
    #[arg(long)]
    json: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !(0.1..=60.0).contains(&args.seconds) {
        eprintln!("--seconds must be between 0.1 and 60");
        return ExitCode::from(2);
    }
    if (1..1000).contains(&args.report_users) {
        eprintln!("--report-users must be 0 (skip) or at least 1000 (its tenth is run too, 1% of it seeded)");
        return ExitCode::from(2);
    }
    let bin = match server::release_binary() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads as usize)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run(args, bin))
}

async fn run(args: Args, bin: PathBuf) -> ExitCode {
    let mut summary = Summary {
        machine: report::Machine::detect(),
        config: report::Config {
            binary: bin.display().to_string(),
            concurrency: args.concurrency as usize,
            channels: args.channels as usize,
            seconds_per_round: args.seconds,
            rounds: args.rounds as usize,
            client_worker_threads: args.client_threads as usize,
            server_worker_threads: "tokio default (one per core)".into(),
            logins: args.logins as usize,
            resources: args.resources as usize,
        },
        backends: Vec::new(),
        transfers: Vec::new(),
        imports: Vec::new(),
        reports: Vec::new(),
    };
    report::print_header(&summary);

    let mut backends: Vec<(&str, Option<String>)> = Vec::new();
    if !args.no_sqlite {
        backends.push(("SQLite", None));
    }
    if let Some(url) = &args.postgres {
        let admin = url
            .clone()
            .or_else(|| std::env::var("STEWARD_TEST_POSTGRES_URL").ok())
            .unwrap_or_else(|| LOCAL_POSTGRES.into());
        backends.push(("PostgreSQL", Some(admin)));
    }

    let ticks = server::clock_ticks();
    let mut failed = false;
    // With an --*-only flag, the figures it names (several may be given); else all.
    let only = args.import_only || args.transfer_only || args.report_only;
    let wants = |flag: bool| !only || flag;
    let import_sizes: Vec<usize> =
        if wants(args.import_only) { args.import_sizes.iter().copied().filter(|n| *n > 0).collect() } else { vec![] };
    for (name, pg_admin) in &backends {
        if import_sizes.is_empty() {
            break;
        }
        eprintln!("bulk import on {name} …");
        match import::run(&bin, name, pg_admin.as_deref(), &import_sizes).await {
            Ok(figures) => {
                println!("\n== {name}: bulk import ==");
                import::print(&figures);
                summary.imports.extend(figures);
            }
            Err(e) => {
                eprintln!("bulk import on {name} failed: {e}");
                failed = true;
            }
        }
    }
    let sizes: Vec<usize> = if wants(args.transfer_only) {
        args.transfer_sizes.iter().copied().filter(|n| *n > 0).collect()
    } else {
        Vec::new()
    };
    for (name, pg_admin) in &backends {
        if sizes.is_empty() {
            break;
        }
        eprintln!("delete with transfer on {name} …");
        match transfer::on_fresh_database(name, pg_admin.as_deref(), &sizes, args.transfer_rounds as usize).await {
            Ok(figures) => {
                println!("\n== {name}: delete with transfer ==");
                transfer::print(&figures);
                summary.transfers.extend(figures);
            }
            Err(e) => {
                eprintln!("delete with transfer on {name} failed: {e}");
                failed = true;
            }
        }
    }
    for (name, pg_admin) in &backends {
        if args.report_users == 0 || !wants(args.report_only) {
            break;
        }
        eprintln!("global inconsistency report on {name} …");
        match maintenance::run(&bin, name, pg_admin.as_deref(), args.report_users as usize).await {
            Ok(figures) => {
                println!("\n== {name}: global inconsistency report ==");
                maintenance::print(&figures);
                failed |= figures.iter().any(|f| !f.findings_match);
                summary.reports.extend(figures);
            }
            Err(e) => {
                eprintln!("global inconsistency report on {name} failed: {e}");
                failed = true;
            }
        }
    }
    if only {
        backends.clear();
    }
    for (name, pg_admin) in backends {
        eprintln!("benchmarking on {name} …");
        let mut rep = BackendReport { backend: name.into(), ..Default::default() };
        let pg = match &pg_admin {
            Some(admin) => match PgDatabase::create(admin).await {
                Ok(db) => Some(db),
                Err(e) => {
                    rep.error = Some(format!("create a PostgreSQL database through {admin}: {e}"));
                    report::print_backend(&rep);
                    summary.backends.push(rep);
                    continue;
                }
            },
            None => None,
        };
        if let Err(e) = calls::bench_backend(&args, &bin, pg.as_ref().map(|d| d.url.clone()), ticks, &mut rep).await {
            rep.error = Some(e.to_string());
        }
        if let Some(db) = pg {
            db.drop_database().await;
        }
        report::print_backend(&rep);
        summary.backends.push(rep);
    }

    let path = args.json.clone().unwrap_or_else(|| server::target_dir().join("bench").join("summary.json"));
    match report::write_json(&summary, &path) {
        Ok(()) => println!("\nJSON summary: {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
    if failed || summary.backends.iter().any(|b| b.error.is_some()) { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
