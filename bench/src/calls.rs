//! The call figures of one backend: WhoAmI, GetUser and project-scoped
//! ListDataSources against grpc.health.v1 Check on the same server, one
//! argon2id login, and the server's memory and CPU.

use super::*;

pub(crate) async fn bench_backend(
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
