//! `make bench`: the release `steward` binary under concurrent gRPC load.
//!
//! WhoAmI and GetUser with an API key, and ListDataSources with a project-scoped
//! key over N registered resources, against grpc.health.v1 Check (the baseline)
//! on the same server, same clients, same run; one argon2id login; the server's RSS. Also
//! bulk import, delete with transfer and the global inconsistency report (each with its
//! own baseline or size ratio). Every loop is bounded by time or count; only loopback
//! addresses are used.

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
        if let Err(e) = bench_backend(&args, &bin, pg.as_ref().map(|d| d.url.clone()), ticks, &mut rep).await {
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

async fn bench_backend(
    args: &Args,
    bin: &std::path::Path,
    database_url: Option<String>,
    ticks: u64,
    rep: &mut BackendReport,
) -> Result<(), Error> {
    let bin = bin.to_path_buf();
    let extra: Vec<String> = args
        .principal_cache_ttl_ms
        .map(|ms| vec!["--principal-cache-ttl-ms".into(), ms.to_string()])
        .unwrap_or_default();
    let srv = tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        Server::start_with(&bin, database_url.as_deref(), &extra)
    })
    .await??;
    let pid = srv.pid();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = srv.memory();

    let mut clients = Clients::connect(srv.addr, args.channels as usize, &srv.admin_key).await?;
    let users = setup::users(&clients).await?;
    clients.get_user_ids = users.readable.clone();
    let mut subjects = vec![Kind::WhoAmI, Kind::GetUser];
    if args.resources > 0 {
        eprintln!("  registering {} resources …", args.resources);
        match setup::project(&clients, &users, args.resources as usize, LINKED_DATASETS).await {
            Ok(p) => {
                let secs = p.register_time.as_secs_f64();
                eprintln!("  registered {} in {secs:.1} s; linked {} datasets", p.registered, p.linked);
                rep.data_sources_setup = Some(DataSourcesSetup {
                    resources_registered: p.registered,
                    register_tasks: setup::REGISTER_TASKS,
                    register_seconds: secs,
                    register_rows_per_second: p.registered as f64 / secs.max(1e-9),
                    datasets_linked: p.linked,
                    link_seconds: p.link_time.as_secs_f64(),
                    page_size: 100,
                });
                clients.scoped = Some((p.project_id, format!("Bearer {}", p.scoped_key).parse()?));
                subjects.push(Kind::ListDataSources);
            }
            Err(e) => rep.data_sources_setup_error = Some(e.to_string()),
        }
    }
    let kinds: Vec<Kind> = std::iter::once(Kind::Health).chain(subjects.iter().copied()).collect();
    for &kind in &kinds {
        let s = sequential(&clients, kind, 1).await;
        if let Some(e) = s.first_error {
            return Err(format!("{} fails before any load: {e}", kind.label()).into());
        }
    }

    let conc = args.concurrency as usize;
    let secs = Duration::from_secs_f64(args.seconds);
    // Warm-up (not recorded): connections, allocator, caches.
    let warm = secs.min(Duration::from_secs(1));
    for &kind in &kinds {
        round(&clients, kind, conc, warm).await;
    }

    // RSS sampled every 100 ms while the load runs.
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn({
        let (stop, peak) = (stop.clone(), peak.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some(m) = server::memory(pid) {
                    peak.fetch_max(m.rss_kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });

    let mut samples: Vec<(usize, Kind, Sample, Option<Duration>)> = Vec::new();
    for r in 0..args.rounds as usize {
        // Baseline first then the subjects; every other round the reverse.
        let mut order = kinds.clone();
        if r % 2 == 1 {
            order.reverse();
        }
        for kind in order {
            let cpu0 = cpu_time(pid, ticks);
            let s = round(&clients, kind, conc, secs).await;
            let cpu = cpu0.zip(cpu_time(pid, ticks)).map(|(a, b)| b.saturating_sub(a));
            eprintln!(
                "  round {} {:<26} {:>8.0} calls/s  p99 {:?}",
                r + 1,
                kind.label(),
                s.throughput(),
                s.percentile(0.99)
            );
            samples.push((r, kind, s, cpu));
        }
    }
    let after_load = srv.memory();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let peak = peak.load(Ordering::Relaxed);
    rep.memory = Some(MemoryReport { idle, peak_rss_under_load_kib: (peak > 0).then_some(peak), after_load });

    for (r, kind, s, cpu) in &samples {
        rep.rounds.push(RoundReport {
            round: r + 1,
            call: kind.label(),
            calls: s.calls(),
            errors: s.errors,
            seconds: s.elapsed.as_secs_f64(),
            throughput: s.throughput(),
            p50_us: us(s.percentile(0.5)),
            p99_us: us(s.percentile(0.99)),
            server_cpu_us_per_call: cpu.map(|c| us(c) / s.calls().max(1) as f64),
        });
    }
    let summarize = |kind: Kind| {
        let rounds: Vec<&RoundReport> = rep.rounds.iter().filter(|r| r.call == kind.label()).collect();
        let of = |f: fn(&RoundReport) -> f64| median(&rounds.iter().map(|r| f(r)).collect::<Vec<_>>());
        CallSummary {
            call: kind.label(),
            throughput: of(|r| r.throughput),
            p50_us: of(|r| r.p50_us),
            p99_us: of(|r| r.p99_us),
            server_cpu_us_per_call: of(|r| r.server_cpu_us_per_call.unwrap_or(f64::NAN)),
            calls: rounds.iter().map(|r| r.calls).sum(),
            errors: rounds.iter().map(|r| r.errors).sum(),
            first_error: samples.iter().filter(|s| s.1 == kind).find_map(|s| s.2.first_error.clone()),
        }
    };
    let (base, subj) = (summarize(Kind::Health), summarize(Kind::WhoAmI));
    // Per round: `kind` / Health in that same round, for the figure `f`.
    let paired = |kind: Kind, f: fn(&RoundReport) -> f64| -> Vec<f64> {
        (1..=args.rounds as usize)
            .filter_map(|r| {
                let get = |k: Kind| rep.rounds.iter().find(|x| x.round == r && x.call == k.label()).map(f);
                Some(get(kind)? / get(Kind::Health)?)
            })
            .collect()
    };
    let extra = |kind: Kind, goal: Option<f64>| {
        let thr = paired(kind, |r| r.throughput);
        let p99 = paired(kind, |r| r.p99_us);
        let value = median(&thr);
        ExtraCall {
            summary: summarize(kind),
            throughput_ratio: value,
            throughput_ratio_per_round: thr,
            p99_ratio: median(&p99),
            p99_ratio_per_round: p99,
            throughput_goal: goal.map(|g| format!("≥ {g}")),
            throughput_goal_met: goal.map(|g| value >= g),
        }
    };
    let get_user = extra(Kind::GetUser, Some(report::GET_USER_THROUGHPUT_GOAL));
    let list_data_sources = subjects.contains(&Kind::ListDataSources).then(|| extra(Kind::ListDataSources, None));
    let thr = paired(Kind::WhoAmI, |r| r.throughput);
    let p99 = paired(Kind::WhoAmI, |r| r.p99_us);
    let thr_value = median(&thr);
    let p99_value = median(&p99);
    let cpu_health = base.server_cpu_us_per_call;
    let cpu_whoami = subj.server_cpu_us_per_call;
    rep.throughput_ratio = Some(Ratio {
        value: thr_value,
        per_round: thr,
        goal: format!("≥ {}", report::THROUGHPUT_GOAL),
        goal_met: thr_value >= report::THROUGHPUT_GOAL,
    });
    rep.p99_ratio = Some(Ratio {
        value: p99_value,
        per_round: p99,
        goal: format!("≤ {}", report::P99_GOAL),
        goal_met: p99_value <= report::P99_GOAL,
    });
    rep.baseline = Some(base);
    rep.subject = Some(subj);
    rep.get_user = Some(get_user);
    rep.list_data_sources = list_data_sources;

    // Unloaded latency, then the argon2id logins.
    let health_seq = sequential(&clients, Kind::Health, 500).await;
    let whoami_seq = sequential(&clients, Kind::WhoAmI, 500).await;
    let login = login::measure(&srv, &clients, args.logins as usize, ticks).await?;
    let l = &login.logins;
    let login_ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let login_cpu_us = login.server_cpu_per_login.map(us).filter(|&c| c > 0.0);
    rep.login = Some(LoginReport {
        logins: l.calls(),
        median_ms: login_ms(l.percentile(0.5)),
        p90_ms: login_ms(l.percentile(0.9)),
        min_ms: login_ms(l.percentile(0.0)),
        max_ms: login_ms(l.percentile(1.0)),
        server_cpu_ms_per_login: login_cpu_us.map(|c| c / 1000.0),
    });
    let api_key_cpu = login_cpu_us
        .filter(|_| cpu_whoami.is_finite() && cpu_health.is_finite())
        .map(|login| (cpu_whoami - cpu_health).max(0.0) / login);
    rep.api_key_vs_login = Some(ApiKeyVsLogin {
        health_p50_us: us(health_seq.percentile(0.5)),
        whoami_p50_us: us(whoami_seq.percentile(0.5)),
        whoami_latency_over_login: whoami_seq.percentile(0.5).as_secs_f64() / l.percentile(0.5).as_secs_f64(),
        api_key_cpu_over_login: api_key_cpu,
        api_key_cpu_goal: "≤ 1/10000".into(),
        api_key_cpu_goal_met: api_key_cpu.map(|x| x <= report::API_KEY_CPU_GOAL),
    });

    let mut srv = srv;
    tokio::task::spawn_blocking(move || srv.stop()).await?;
    Ok(())
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
