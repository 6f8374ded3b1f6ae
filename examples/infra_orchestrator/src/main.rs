//! `cargo run -p infra_orchestrator`: runs the `infra_health_check` workflow for a few
//! rounds, in-process, against PostgreSQL (127.0.0.1:5432), NATS (127.0.0.1:4222) and Redis
//! (127.0.0.1:6379), and prints a timeline of each round.
//!
//! The probes are real TCP connections; services that are not running are simply reported
//! down. On top of that, a script (see `infra_orchestrator::script`) injects faults: a
//! wedged probe, a slow Redis, a PostgreSQL outage that ends in a failover to a replica (a
//! socket this program listens on).
//!
//! ```text
//! cargo run -p infra_orchestrator -- [--rounds N] [--no-script] [--simulate-outage SERVICE]… [--trace]
//! ```

use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use infra_orchestrator::{
    Fault, FleetReport, InfraHealthOrchestrator, InfraHealthOrchestratorOutputs,
    ModelFailoverDecision, ModelProbeResult, ModelServiceTarget, Remediation, SERVICES,
    ServiceLifecycleState, ServiceLifecycleTrigger, ServiceReport, endpoint, round, script, target,
};
use onex_runtime::WorkflowExecutor;
use onex_runtime::workflow::{StepOutcome, WorkflowTrace};

/// Where the step details start (after the step name and its times).
const INDENT: usize = 2 + 15 + 2 + 18 + 2;

/// The width a decision is wrapped at.
const WIDTH: usize = 130;

/// The command line.
struct Options {
    rounds: u32,
    script: bool,
    outages: Vec<String>,
    trace: bool,
}

const USAGE: &str = "usage: infra_orchestrator [--rounds N] [--no-script] \
                     [--simulate-outage postgres|nats|redis]... [--trace]";

fn parse() -> Result<Options, String> {
    let mut options = Options {
        rounds: script::ROUNDS,
        script: true,
        outages: Vec::new(),
        trace: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => {
                let n = args.next().ok_or("--rounds needs a number")?;
                options.rounds = n
                    .parse()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| format!("--rounds: `{n}` is not a number in 1..=100"))?;
            }
            "--no-script" => options.script = false,
            "--simulate-outage" => {
                let service = args.next().ok_or("--simulate-outage needs a service")?;
                if !SERVICES.contains(&service.as_str()) {
                    return Err(format!(
                        "--simulate-outage: no service `{service}` (one of {})",
                        SERVICES.join(", ")
                    ));
                }
                options.outages.push(service);
            }
            "--trace" => options.trace = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match parse() {
        Ok(options) => options,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };

    // The replica: a socket of this process, standing in for a PostgreSQL standby.
    let replica = match TcpListener::bind("127.0.0.1:0").and_then(|l| Ok((l.local_addr()?, l))) {
        Ok((address, listener)) => Some((address.port(), listener)),
        Err(e) => {
            eprintln!("no replica stand-in ({e}); postgres cannot fail over");
            None
        }
    };
    let mut postgres = target("postgres", endpoint("postgres", "127.0.0.1", 5432));
    postgres.replica = replica
        .as_ref()
        .map(|(port, _)| endpoint("postgres-replica", "127.0.0.1", *port));
    let mut targets = vec![
        postgres,
        target("nats", endpoint("nats", "127.0.0.1", 4222)),
        target("redis", endpoint("redis", "127.0.0.1", 6379)),
    ];

    let executor = WorkflowExecutor::new(InfraHealthOrchestrator::default());
    print_header(&executor, &targets, &options);

    for n in 1..=options.rounds {
        let probe = executor.node().probe();
        probe.clear_faults();
        let mut faults: Vec<(&str, Fault)> = Vec::new();
        let scripted = if options.script {
            script::faults(n)
        } else {
            Vec::new()
        };
        let outages = options.outages.iter().map(|s| (s.as_str(), Fault::Down));
        for (instance, fault) in outages.chain(scripted) {
            match faults.iter_mut().find(|(i, _)| *i == instance) {
                Some((_, worse)) => *worse = (*worse).max(fault),
                None => faults.push((instance, fault)),
            }
        }
        for (instance, fault) in &faults {
            probe.set_fault(instance, *fault);
        }

        let input = round(n, &targets);
        let (outputs, trace, failure) = match executor.run(input.clone()).await {
            Ok(run) => (run.outputs, run.trace, None),
            Err(failure) => (failure.outputs, failure.trace, Some(failure.error)),
        };

        let faults: Vec<String> = faults
            .iter()
            .map(|(instance, fault)| format!("{instance} {}", fault.describe()))
            .collect();
        let faults = if faults.is_empty() {
            "none".to_owned()
        } else {
            faults.join(", ")
        };
        let elapsed = ms(trace.elapsed);
        match &failure {
            None => println!("round {n} · injected: {faults} · completed in {elapsed:.1} ms"),
            Some(_) => println!(
                "round {n} · injected: {faults} · {} in {elapsed:.1} ms ({}; the others went on)",
                trace.status,
                list(&trace.steps_with("failed"), &trace.steps_with("timed_out"))
            ),
        }
        for (id, probe) in [
            ("check_postgres", outputs.check_postgres()),
            ("check_nats", outputs.check_nats()),
            ("check_redis", outputs.check_redis()),
        ] {
            let detail = probe.map(|p| probe_detail(p, input.slow_ms));
            print_step(&trace, id, detail.as_deref());
        }
        print_step(&trace, "aggregate", aggregate_detail(&outputs).as_deref());
        let decision = outputs.decide_failover();
        print_step(
            &trace,
            "decide_failover",
            decision.map(decide_detail).as_deref(),
        );
        if options.trace {
            for line in trace.to_string().lines() {
                println!("    {line}");
            }
        }

        if let Some(decision) = decision {
            match executor.node().apply(decision, &mut targets).await {
                Ok(Some(done)) => println!("{}", remediation(&done)),
                Ok(None) => {}
                Err(e) => println!("  => host could not {}: {e}", decision.summary),
            }
        }
    }

    let states: Vec<String> = targets
        .iter()
        .map(|t| {
            let state = executor
                .node()
                .state(&t.service)
                .unwrap_or(ServiceLifecycleState::Unknown);
            if t.active.instance == t.service {
                format!("{} {state}", t.service)
            } else {
                format!("{} {state} (on {})", t.service, t.active.instance)
            }
        })
        .collect();
    println!("after {} rounds: {}", options.rounds, states.join(" · "));
    drop(replica);
    ExitCode::SUCCESS
}

fn print_header(
    executor: &WorkflowExecutor<InfraHealthOrchestrator>,
    targets: &[ModelServiceTarget],
    options: &Options,
) {
    let plan = executor.plan();
    let rules = executor.rules();
    println!(
        "workflow `{}`: {} steps in {} waves, {} ({} at a time), step timeout {} ms, on failure: {}",
        plan.name,
        plan.steps.len(),
        plan.waves.len(),
        rules.mode.as_str(),
        rules.max_parallel_steps.unwrap_or(0),
        rules.step_timeout.unwrap_or_default().as_millis(),
        rules.failure_strategy.as_str(),
    );
    let targets: Vec<String> = targets
        .iter()
        .map(|t| {
            let at = |e: &infra_orchestrator::ModelEndpoint| format!("{}:{}", e.host, e.port);
            match &t.replica {
                Some(r) => format!(
                    "{} {} (replica {} {}, in-process)",
                    t.service,
                    at(&t.active),
                    r.instance,
                    at(r)
                ),
                None => format!("{} {}", t.service, at(&t.active)),
            }
        })
        .collect();
    println!("probing {}", targets.join(" · "));
    if options.script {
        println!(
            "script: round 2 nats probe wedged · round 3 postgres down, redis slow · rounds 4-5 \
             postgres down (--no-script: real probes only)"
        );
    }
    println!();
}

/// `  step  start..end ms  detail`, or the step's failure.
fn print_step(trace: &WorkflowTrace, id: &str, detail: Option<&str>) {
    let Some(step) = trace.step(id) else {
        return;
    };
    let when = match (step.start, step.end) {
        (Some(a), Some(b)) => format!("{:>6.1} ..{:>6.1} ms", ms(a), ms(b)),
        _ => String::new(),
    };
    let detail = match (&step.outcome, detail) {
        (StepOutcome::Completed, Some(detail)) => detail.to_owned(),
        (StepOutcome::Failed { error }, _) => format!("failed: {}", error.message()),
        (StepOutcome::TimedOut, _) => "timed out (step_timeout_ms)".to_owned(),
        (StepOutcome::Skipped { because }, _) => format!("skipped: `{because}` failed"),
        (outcome, _) => outcome.as_str().to_owned(),
    };
    println!("  {id:<15}  {when:<18}  {detail}");
}

/// `postgres  up  0.3 ms` / `postgres  down  0.0 ms: connection refused`.
fn probe_detail(p: &ModelProbeResult, slow_ms: f64) -> String {
    let latency = format!("{:>5.1} ms", p.latency_ms);
    match (&p.error, p.healthy) {
        (_, true) if p.latency_ms > slow_ms => format!("{:<16}  up    {latency}  slow", p.service),
        (_, true) => format!("{:<16}  up    {latency}", p.service),
        (Some(error), false) => format!("{:<16}  down  {latency}  {error}", p.service),
        (None, false) => format!("{:<16}  down  {latency}", p.service),
    }
}

/// One line per service whose state moved or whose trigger was rejected unexpectedly, then
/// one line for the services steadily healthy.
fn aggregate_detail(outputs: &InfraHealthOrchestratorOutputs) -> Option<String> {
    let report: &FleetReport = outputs.aggregate()?;
    let mut lines = Vec::new();
    let mut steady = Vec::new();
    for s in &report.services {
        if s.transitions.is_empty()
            && s.trigger == ServiceLifecycleTrigger::HealthOk
            && s.state == ServiceLifecycleState::Healthy
        {
            steady.push(s.service.as_str());
        } else {
            lines.push(service_line(s));
        }
    }
    if !steady.is_empty() {
        lines.push(format!("{}: healthy, unchanged", steady.join(", ")));
    }
    Some(lines.join(&format!("\n{}", " ".repeat(INDENT))))
}

/// `postgres  healthy --health_failed--> degraded  [raise_warning]`.
fn service_line(s: &ServiceReport) -> String {
    let mut line = format!("{:<8}  ", s.service);
    match s.transitions.first() {
        Some(first) => {
            line.push_str(first.from.as_str());
            for t in &s.transitions {
                line.push_str(&format!(" --{}--> {}", t.trigger, t.to));
            }
        }
        None => line.push_str(s.state.as_str()),
    }
    let intents: Vec<&str> = s.intents().iter().map(|i| i.as_str()).collect();
    if !intents.is_empty() {
        line.push_str(&format!("  [{}]", intents.join(", ")));
    }
    if let Some(why) = &s.rejected {
        line.push_str(&format!("  stays: {why}"));
    }
    line
}

/// `watch postgres: <reason> (waiting: …)`, the reason on a line of its own when the whole
/// would be too wide.
fn decide_detail(d: &ModelFailoverDecision) -> String {
    let mut head = d.summary.clone();
    if !d.waiting.is_empty() {
        head.push_str(&format!(" (waiting: {})", d.waiting.join(", ")));
    }
    if INDENT + head.len() + d.reason.len() + 2 <= WIDTH {
        format!("{head}: {}", d.reason)
    } else {
        format!("{head}\n{}because {}", " ".repeat(INDENT), d.reason)
    }
}

/// `  => host: postgres fails over to 127.0.0.1:41234, failed --restart--> starting  […]`.
fn remediation(done: &Remediation) -> String {
    let t = &done.transition;
    let intents: Vec<&str> = t.intents.iter().map(|i| i.as_str()).collect();
    let what = match &done.promoted {
        Some(e) => format!(
            "{} fails over to {} ({}:{})",
            done.service, e.instance, e.host, e.port
        ),
        None => format!("{} restarts", done.service),
    };
    format!(
        "  => host: {what}, {} --{}--> {}  [{}]",
        t.from,
        t.trigger,
        t.to,
        intents.join(", ")
    )
}

/// The failed steps, for the round's header.
fn list(failed: &[&str], timed_out: &[&str]) -> String {
    let steps: Vec<String> = failed
        .iter()
        .chain(timed_out)
        .map(|s| format!("`{s}`"))
        .collect();
    format!("step {} failed", steps.join(", "))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
