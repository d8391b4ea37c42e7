//! The figures: what is kept in target/bench/summary.json and how the table reads.

use std::path::Path;

use serde::Serialize;

use crate::server::Memory;

pub const THROUGHPUT_GOAL: f64 = 0.5;
pub const P99_GOAL: f64 = 3.0;
pub const GET_USER_THROUGHPUT_GOAL: f64 = 0.35;
pub const API_KEY_CPU_GOAL: f64 = 1.0 / 10_000.0;

#[derive(Debug, Serialize)]
pub struct Summary {
    pub machine: Machine,
    pub config: Config,
    pub backends: Vec<BackendReport>,
    /// Delete with transfer vs one UPDATE per table (see `transfer.rs`).
    pub transfers: Vec<crate::transfer::TransferFigure>,
    /// Bulk import vs a plain multi-row INSERT (see `import.rs`).
    pub imports: Vec<crate::import::ImportFigure>,
    /// The global inconsistency report, two sizes (see `maintenance.rs`).
    pub reports: Vec<crate::maintenance::ReportFigure>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu_model: String,
    pub mem_total_kib: u64,
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_total_kib = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0);
        let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
        Self { nproc, cpu_model, mem_total_kib }
    }
}

#[derive(Debug, Serialize)]
pub struct Config {
    pub binary: String,
    pub concurrency: usize,
    pub channels: usize,
    pub seconds_per_round: f64,
    pub rounds: usize,
    pub client_worker_threads: usize,
    pub server_worker_threads: String,
    pub logins: usize,
    /// Resources registered for the ListDataSources measurement.
    pub resources: usize,
}

#[derive(Debug, Serialize)]
pub struct RoundReport {
    pub round: usize,
    pub call: &'static str,
    pub calls: usize,
    pub errors: u64,
    pub seconds: f64,
    pub throughput: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub server_cpu_us_per_call: Option<f64>,
}

/// Medians over the rounds of one call.
#[derive(Debug, Serialize)]
pub struct CallSummary {
    pub call: &'static str,
    pub throughput: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub server_cpu_us_per_call: f64,
    pub calls: usize,
    pub errors: u64,
    pub first_error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Ratio {
    /// Median over the rounds of subject / baseline in the same round.
    pub value: f64,
    pub per_round: Vec<f64>,
    pub goal: String,
    pub goal_met: bool,
}

/// One more call against the same baseline rounds.
#[derive(Debug, Serialize)]
pub struct ExtraCall {
    pub summary: CallSummary,
    /// Median over the rounds of subject / baseline throughput in the same round.
    pub throughput_ratio: f64,
    pub throughput_ratio_per_round: Vec<f64>,
    pub p99_ratio: f64,
    pub p99_ratio_per_round: Vec<f64>,
    /// The throughput ratio goal, if the issue sets one.
    pub throughput_goal: Option<String>,
    pub throughput_goal_met: Option<bool>,
}

/// The data ListDataSources reads, set up once before the rounds.
#[derive(Debug, Serialize)]
pub struct DataSourcesSetup {
    pub resources_registered: usize,
    pub register_tasks: usize,
    pub register_seconds: f64,
    pub register_rows_per_second: f64,
    pub datasets_linked: usize,
    pub link_seconds: f64,
    pub page_size: usize,
}

#[derive(Debug, Serialize)]
pub struct LoginReport {
    pub logins: usize,
    pub median_ms: f64,
    pub p90_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub server_cpu_ms_per_login: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct ApiKeyVsLogin {
    /// Unloaded, sequential calls.
    pub health_p50_us: f64,
    pub whoami_p50_us: f64,
    /// WhoAmI median latency / Login median latency (loose: gRPC, DB read included).
    pub whoami_latency_over_login: f64,
    /// (server CPU per WhoAmI − per Health Check) / server CPU per Login, under load.
    /// An upper bound of the API-key check's CPU: the WhoAmI handler and its DB read are in it.
    pub api_key_cpu_over_login: Option<f64>,
    pub api_key_cpu_goal: String,
    pub api_key_cpu_goal_met: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct MemoryReport {
    pub idle: Option<Memory>,
    pub peak_rss_under_load_kib: Option<u64>,
    pub after_load: Option<Memory>,
}

#[derive(Debug, Default, Serialize)]
pub struct BackendReport {
    pub backend: String,
    pub error: Option<String>,
    pub rounds: Vec<RoundReport>,
    pub baseline: Option<CallSummary>,
    pub subject: Option<CallSummary>,
    pub throughput_ratio: Option<Ratio>,
    pub p99_ratio: Option<Ratio>,
    /// GetUser (by user_id, admin API key) against the same baseline rounds.
    pub get_user: Option<ExtraCall>,
    /// ListDataSources with a project-scoped key against the same baseline rounds.
    pub list_data_sources: Option<ExtraCall>,
    pub data_sources_setup: Option<DataSourcesSetup>,
    /// Why the ListDataSources setup failed, if it did (the other figures still stand).
    pub data_sources_setup_error: Option<String>,
    pub login: Option<LoginReport>,
    pub api_key_vs_login: Option<ApiKeyVsLogin>,
    pub memory: Option<MemoryReport>,
}

pub fn write_json(summary: &Summary, path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, serde_json::to_string_pretty(summary)? + "\n")
}

fn verdict(met: bool) -> &'static str {
    if met { "ok" } else { "GOAL MISSED" }
}

fn ms(us: f64) -> String {
    if us >= 1000.0 { format!("{:.2} ms", us / 1000.0) } else { format!("{us:.0} µs") }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn one_in(x: f64) -> String {
    if x > 0.0 && x.is_finite() { format!("1/{:.0}", 1.0 / x) } else { format!("{x:.2e}") }
}

pub fn print_header(s: &Summary) {
    let m = &s.machine;
    let c = &s.config;
    println!("Steward benchmark — release build, every figure against a baseline in the same run");
    println!("machine: {} cores (nproc), {}, {} RAM", m.nproc, m.cpu_model, mib(m.mem_total_kib));
    println!("binary:  {}", c.binary);
    println!(
        "load:    {} client tasks over {} HTTP/2 channels, {} rounds × {:.1} s per call (baseline and subject alternate)",
        c.concurrency, c.channels, c.rounds, c.seconds_per_round
    );
    println!(
        "threads: client tokio runtime {} worker threads; server {} — both share the same {} cores",
        c.client_worker_threads, c.server_worker_threads, m.nproc
    );
}

pub fn print_backend(b: &BackendReport) {
    println!();
    println!("== {} ==", b.backend);
    if let Some(e) = &b.error {
        println!("FAILED: {e}");
    }
    if let (Some(base), Some(subj)) = (&b.baseline, &b.subject) {
        println!(
            "{:<26} {:>10} {:>10} {:>10} {:>16} {:>8}",
            "call (median of rounds)", "calls/s", "p50", "p99", "server CPU/call", "errors"
        );
        let extra = [&b.get_user, &b.list_data_sources];
        for c in [base, subj].into_iter().chain(extra.iter().filter_map(|e| e.as_ref().map(|e| &e.summary))) {
            println!(
                "{:<26} {:>10.0} {:>10} {:>10} {:>16} {:>8}",
                c.call,
                c.throughput,
                ms(c.p50_us),
                ms(c.p99_us),
                ms(c.server_cpu_us_per_call),
                c.errors
            );
            if let Some(e) = &c.first_error {
                println!("    first error: {e}");
            }
        }
    }
    if let Some(r) = &b.throughput_ratio {
        println!("throughput WhoAmI / Health: {:.2}   goal {:<6} {}", r.value, r.goal, verdict(r.goal_met));
        println!("    per round: {}", fmt_list(&r.per_round));
    }
    if let Some(r) = &b.p99_ratio {
        println!("p99        WhoAmI / Health: {:.2}   goal {:<6} {}", r.value, r.goal, verdict(r.goal_met));
        println!("    per round: {}", fmt_list(&r.per_round));
    }
    for (name, e) in [("GetUser", &b.get_user), ("ListDataSources", &b.list_data_sources)] {
        let Some(e) = e else { continue };
        let goal = match (&e.throughput_goal, e.throughput_goal_met) {
            (Some(g), Some(met)) => format!("goal {g:<6} {}", verdict(met)),
            _ => "no goal set".into(),
        };
        println!("throughput {name} / Health: {:.2}   {goal}", e.throughput_ratio);
        println!("    per round: {}", fmt_list(&e.throughput_ratio_per_round));
        println!("p99        {name} / Health: {:.2}", e.p99_ratio);
        println!("    per round: {}", fmt_list(&e.p99_ratio_per_round));
    }
    if let Some(s) = &b.data_sources_setup {
        println!(
            "ListDataSources setup: {} resources registered by {} tasks in {:.1} s = {:.0} rows/s; {} datasets linked in {:.1} s; page_size {}",
            s.resources_registered,
            s.register_tasks,
            s.register_seconds,
            s.register_rows_per_second,
            s.datasets_linked,
            s.link_seconds,
            s.page_size
        );
    }
    if let Some(e) = &b.data_sources_setup_error {
        println!("ListDataSources setup FAILED: {e}");
    }
    if let Some(l) = &b.login {
        let cpu = l.server_cpu_ms_per_login.map_or("n/a".into(), |c| format!("{c:.1} ms"));
        println!(
            "argon2id Login ({} sequential): median {:.1} ms, p90 {:.1} ms (min {:.1}, max {:.1}); server CPU/login {cpu}",
            l.logins, l.median_ms, l.p90_ms, l.min_ms, l.max_ms
        );
    }
    if let Some(a) = &b.api_key_vs_login {
        println!(
            "unloaded sequential: Health p50 {}, WhoAmI p50 {}; WhoAmI p50 / Login median = {} (loose: latency incl. gRPC + DB)",
            ms(a.health_p50_us),
            ms(a.whoami_p50_us),
            one_in(a.whoami_latency_over_login)
        );
        match (a.api_key_cpu_over_login, a.api_key_cpu_goal_met) {
            (Some(x), Some(met)) => println!(
                "API-key check CPU ≈ (WhoAmI − Health CPU/call) / Login CPU = {}   goal {} {}{}",
                one_in(x),
                a.api_key_cpu_goal,
                verdict(met),
                if met { "" } else { " (upper bound: includes WhoAmI's handler and DB read)" }
            ),
            _ => println!("API-key check CPU: n/a (server CPU time unreadable)"),
        }
    }
    if let Some(m) = &b.memory {
        let show = |m: &Option<Memory>| m.map_or("n/a".into(), |m| mib(m.rss_kib));
        println!(
            "server RSS: idle {}, peak under load {}, after load {}, VmHWM {}",
            show(&m.idle),
            m.peak_rss_under_load_kib.map_or("n/a".into(), mib),
            show(&m.after_load),
            m.after_load.map_or("n/a".into(), |m| mib(m.hwm_kib))
        );
    }
}

fn fmt_list(v: &[f64]) -> String {
    v.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>().join(", ")
}
