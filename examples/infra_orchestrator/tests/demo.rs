//! The workflow's behaviour, asserted without depending on any real service: "up" is a
//! `TcpListener` this test binds (the kernel completes connections to it even though nobody
//! accepts them), "down" is a scripted [`Fault::Down`] or 127.0.0.1:1, where nothing listens.

use std::net::TcpListener;
use std::time::Duration;

use infra_orchestrator::{
    EnumFailoverAction as Action, EnumLifecycleState, FailoverPolicy, FailoverPolicyInput,
    FailoverPolicyOutput, Fault, FleetReport, HealthProbe, HealthProbeInput, HealthProbeOutput,
    InfraHealthOrchestrator, InfraHealthOrchestratorStep as Step, ModelFailoverDecision,
    ModelFleetStatus, ModelHealthRound, ModelProbeRequest, ModelServiceStatus, ModelServiceTarget,
    SERVICES, ServiceLifecycleIntent as I, ServiceLifecycleState as S, endpoint, round, script,
    target,
};
use onex_runtime::workflow::{ExecutionMode, FailureStrategy, StepOutcome};
use onex_runtime::{
    ComputeClient, EffectClient, ErrorCode, NodeClient, NodeKind, OrchestratorNode,
    WorkflowExecutor, WorkflowTrace,
};

/// A socket that accepts connections for as long as it lives.
fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let port = listener.local_addr().expect("local address").port();
    (listener, port)
}

/// Every service on `port`; postgres with a replica on `replica`, if given.
fn targets(port: u16, replica: Option<u16>) -> Vec<ModelServiceTarget> {
    SERVICES
        .iter()
        .map(|&s| {
            let mut t = target(s, endpoint(s, "127.0.0.1", port));
            if s == "postgres" {
                t.replica = replica.map(|p| endpoint("postgres-replica", "127.0.0.1", p));
            }
            t
        })
        .collect()
}

/// The executor the tests use: the contract's rules, with a wider step timeout so that a
/// busy machine does not turn a slow probe into a failed step.
fn executor() -> WorkflowExecutor<InfraHealthOrchestrator> {
    WorkflowExecutor::new(InfraHealthOrchestrator::default())
        .with_step_timeout(Some(Duration::from_millis(1500)))
}

/// Round `n`'s input with a probe timeout to match.
fn input(n: u32, targets: &[ModelServiceTarget]) -> ModelHealthRound {
    let mut input = round(n, targets);
    input.probe_timeout_ms = 1000;
    input
}

/// Scripts exactly `faults` into the probe.
fn script_faults(executor: &WorkflowExecutor<InfraHealthOrchestrator>, faults: &[(&str, Fault)]) {
    let probe = executor.node().probe();
    probe.clear_faults();
    for (instance, fault) in faults {
        probe.set_fault(instance, *fault);
    }
}

/// The transitions `aggregate` took for `service`, by name.
fn taken(report: &FleetReport, service: &str) -> Vec<&'static str> {
    report
        .service(service)
        .map(|s| s.transitions.iter().map(|t| t.name).collect())
        .unwrap_or_default()
}

/// The orchestrator's state for every service, in [`SERVICES`] order.
fn states(executor: &WorkflowExecutor<InfraHealthOrchestrator>) -> Vec<S> {
    SERVICES
        .iter()
        .map(|s| executor.node().state(s).expect("a checked service"))
        .collect()
}

fn completed(trace: &WorkflowTrace) -> Vec<&'static str> {
    trace.steps_with("completed")
}

/// The six rounds `cargo run` shows, every service "up" on a local socket.
#[tokio::test]
async fn the_scripted_rounds_play_out_as_the_readme_says() {
    let (_up, port) = listener();
    let (_standby, replica) = listener();
    let mut targets = targets(port, Some(replica));
    let executor = executor();
    let decide = |n: u32, run: &onex_runtime::WorkflowRun<InfraHealthOrchestrator>| {
        run.outputs
            .decide_failover()
            .cloned()
            .unwrap_or_else(|| panic!("round {n} decided"))
    };

    // Round 1: every service is started and healthy.
    script_faults(&executor, &script::faults(1));
    let run = executor.run(input(1, &targets)).await.expect("round 1");
    let report = run.outputs.aggregate().expect("aggregated");
    for service in SERVICES {
        assert_eq!(
            taken(report, service),
            ["start", "first_check_ok"],
            "{service}"
        );
        assert_eq!(
            report.service(service).map(|s| s.intents()),
            Some(vec![I::LaunchService, I::StartProbe, I::ClearAlert])
        );
    }
    assert_eq!(states(&executor), [S::Healthy; 3]);
    let d = decide(1, &run);
    assert_eq!((d.action, d.summary.as_str()), (Action::None, "none"));
    assert_eq!(d.reason, "all 3 services are healthy");

    // Round 2: the NATS probe wedges. Its step times out; the two other
    // probes complete; `aggregate` and `decide_failover` are skipped; nothing changes.
    script_faults(&executor, &script::faults(2));
    let failure = executor
        .run(input(2, &targets))
        .await
        .expect_err("round 2 fails");
    assert_eq!(failure.step, Some(Step::CheckNats));
    let trace = &failure.trace;
    assert_eq!(trace.steps_with("timed_out"), ["check_nats"]);
    assert_eq!(
        trace.steps_with("skipped"),
        ["aggregate", "decide_failover"]
    );
    let mut probes = completed(trace);
    probes.sort_unstable();
    assert_eq!(probes, ["check_postgres", "check_redis"]);
    // The probe call ran into the step deadline: the step timed out, and the run's error
    // says so.
    assert_eq!(
        trace.step("check_nats").expect("traced").outcome,
        StepOutcome::TimedOut
    );
    assert_eq!(failure.error.code(), &ErrorCode::WorkflowStepTimeout);
    assert!(failure.outputs.check_postgres().is_some_and(|p| p.healthy));
    assert!(failure.outputs.check_nats().is_none());
    assert_eq!(states(&executor), [S::Healthy; 3]);

    // Round 3: postgres down (first failure), redis slow: both degraded; watch postgres
    // first (ties go to the first service), redis waits.
    script_faults(&executor, &script::faults(3));
    let run = executor.run(input(3, &targets)).await.expect("round 3");
    let report = run.outputs.aggregate().expect("aggregated");
    let postgres = run.outputs.check_postgres().expect("probed");
    assert!(!postgres.healthy);
    assert_eq!(
        postgres.error.as_deref(),
        Some("connection refused (simulated outage)")
    );
    let redis = run.outputs.check_redis().expect("probed");
    assert!(redis.healthy && redis.latency_ms >= 300.0, "{redis:?}");
    assert_eq!(taken(report, "postgres"), ["first_failure"]);
    assert_eq!(taken(report, "redis"), ["slow_down"]);
    assert_eq!(taken(report, "nats"), Vec::<&str>::new());
    assert_eq!(
        report.service("nats").and_then(|s| s.rejected.as_deref()),
        Some("no transition for trigger `health_ok` from state `healthy`")
    );
    assert_eq!(states(&executor), [S::Degraded, S::Healthy, S::Degraded]);
    let d = decide(3, &run);
    assert_eq!(
        (d.action, d.summary.as_str()),
        (Action::Watch, "watch postgres")
    );
    assert_eq!(d.waiting, ["watch redis"]);

    // Round 4: postgres fails again (still degraded), redis recovers.
    script_faults(&executor, &script::faults(4));
    let run = executor.run(input(4, &targets)).await.expect("round 4");
    let report = run.outputs.aggregate().expect("aggregated");
    assert_eq!(taken(report, "postgres"), ["still_degraded"]);
    assert_eq!(taken(report, "redis"), ["recover"]);
    assert_eq!(
        report
            .service("postgres")
            .map(|s| s.counters.consecutive_failures),
        Some(2)
    );
    assert_eq!(decide(4, &run).summary, "watch postgres");

    // Round 5: the third failure in a row collapses postgres; it has a replica: fail over.
    script_faults(&executor, &script::faults(5));
    let run = executor.run(input(5, &targets)).await.expect("round 5");
    let report = run.outputs.aggregate().expect("aggregated");
    assert_eq!(taken(report, "postgres"), ["collapse"]);
    assert_eq!(
        report.service("postgres").map(|s| s.intents()),
        Some(vec![I::Alert])
    );
    let d = decide(5, &run);
    assert_eq!(d.action, Action::Failover);
    assert_eq!(d.summary, "failover postgres to postgres-replica");
    assert_eq!(d.replica.as_deref(), Some("postgres-replica"));
    assert!(d.waiting.is_empty());

    // The host carries it out: the replica becomes the active instance, the lifecycle
    // restarts.
    let done = executor
        .node()
        .apply(&d, &mut targets)
        .await
        .expect("applied")
        .expect("something to do");
    assert_eq!(done.transition.name, "restart");
    assert_eq!(
        done.transition.intents,
        &[I::ClearAlert, I::RestartService, I::StartProbe]
    );
    assert_eq!(
        done.promoted.as_ref().map(|e| e.port),
        Some(i64::from(replica))
    );
    assert_eq!(targets[0].active.instance, "postgres-replica");
    assert!(targets[0].replica.is_none());
    assert_eq!(executor.node().state("postgres"), Some(S::Starting));

    // Round 6: the replica answers.
    script_faults(&executor, &script::faults(6));
    let run = executor.run(input(6, &targets)).await.expect("round 6");
    let probed = run.outputs.check_postgres().expect("probed");
    assert_eq!(
        (probed.service.as_str(), probed.healthy),
        ("postgres-replica", true)
    );
    let report = run.outputs.aggregate().expect("aggregated");
    assert_eq!(taken(report, "postgres"), ["first_check_ok"]);
    assert_eq!(states(&executor), [S::Healthy; 3]);
    assert_eq!(decide(6, &run).action, Action::None);
}

/// Without a replica, a collapsed service is restarted; when restarts run out, escalated.
#[tokio::test]
async fn a_service_without_replica_is_restarted_then_escalated() {
    let (_up, port) = listener();
    let mut targets = targets(port, None);
    let executor = executor();
    let nats_down = [("nats", Fault::Down)];
    let mut decisions: Vec<(u32, ModelFailoverDecision)> = Vec::new();
    for n in 1..=7 {
        script_faults(&executor, if n == 1 { &[] } else { &nats_down });
        let run = executor.run(input(n, &targets)).await.expect("a round");
        let d = run.outputs.decide_failover().cloned().expect("decided");
        if let Some(done) = executor
            .node()
            .apply(&d, &mut targets)
            .await
            .expect("applied")
        {
            assert_eq!((n, done.transition.name), (4, "restart"));
            assert!(done.promoted.is_none());
        }
        decisions.push((n, d));
    }
    let summaries: Vec<(u32, &str)> = decisions
        .iter()
        .map(|(n, d)| (*n, d.summary.as_str()))
        .collect();
    assert_eq!(
        summaries,
        [
            (1, "none"),
            (2, "watch nats"),    // degraded, 1 failure
            (3, "watch nats"),    // still degraded, 2 failures
            (4, "restart nats"),  // collapsed to failed, no replica, 0 restarts
            (5, "watch nats"),    // restarting in place (retry_start), 2 restarts used
            (6, "watch nats"),    // 3 restarts used
            (7, "escalate nats"), // gave up starting: failed, out of restarts
        ]
    );
    assert_eq!(
        decisions[6].1.reason,
        "nats failed (intent alert), has no replica and 3 restarts did not bring it back"
    );
    assert_eq!(executor.node().state("nats"), Some(S::Failed));
    assert_eq!(
        executor.node().counters("nats").map(|c| c.retry_count),
        Some(3)
    );
    // The other services were never touched.
    assert_eq!(executor.node().state("postgres"), Some(S::Healthy));
}

/// `max_parallel_steps: 2`: with every probe slow, the third starts only when one of the
/// first two has finished.
#[tokio::test]
async fn probes_run_two_at_a_time() {
    let (_up, port) = listener();
    let targets = targets(port, None);
    let executor = executor();
    let slow = Fault::Slow(Duration::from_millis(100));
    script_faults(
        &executor,
        &[("postgres", slow), ("nats", slow), ("redis", slow)],
    );
    let run = executor.run(input(1, &targets)).await.expect("the round");
    let span = |id: &str| {
        let step = run.trace.step(id).expect("traced");
        (step.start.expect("started"), step.end.expect("ended"))
    };
    let (p, n, r) = (
        span("check_postgres"),
        span("check_nats"),
        span("check_redis"),
    );
    assert!(
        r.0 >= p.1.min(n.1),
        "redis {r:?}, postgres {p:?}, nats {n:?}"
    );
    assert!(span("aggregate").0 >= p.1.max(n.1).max(r.1));
    // 100 ms is not slow (the threshold is 250 ms): every service is healthy.
    assert_eq!(states(&executor), [S::Healthy; 3]);
}

/// The probe itself: a refused connection is a result, a malformed request an error.
#[tokio::test]
async fn the_probe_reports_down_services_as_results() {
    let (_up, port) = listener();
    let probe = EffectClient::new(HealthProbe::new());
    let request = |service: &str, port: i64| {
        HealthProbeInput::Probe(ModelProbeRequest {
            service: service.to_owned(),
            host: "127.0.0.1".to_owned(),
            port,
            timeout_ms: 1000,
        })
    };

    let HealthProbeOutput::Probe(up) = probe
        .call(request("local", i64::from(port)))
        .await
        .expect("probed");
    assert!(up.healthy && up.error.is_none(), "{up:?}");
    assert_eq!(up.address, format!("127.0.0.1:{port}"));

    // Nothing listens on port 1.
    let HealthProbeOutput::Probe(down) = probe.call(request("nobody", 1)).await.expect("probed");
    assert!(!down.healthy && down.error.is_some(), "{down:?}");

    // A scripted outage never touches the network.
    probe.node().set_fault("local", Fault::Down);
    let HealthProbeOutput::Probe(scripted) = probe
        .call(request("local", i64::from(port)))
        .await
        .expect("probed");
    assert!(!scripted.healthy);

    // Port 0 breaks the contract (`ge: 1`): the handler never runs.
    let err = probe.call(request("local", 0)).await.expect_err("invalid");
    assert_eq!(err.code(), &ErrorCode::Validation);
}

/// The policy alone: one action, the most urgent; the others wait.
#[tokio::test]
async fn the_policy_picks_the_most_urgent_action() {
    let policy = ComputeClient::new(FailoverPolicy);
    let status = |service: &str, state, retries, replica: Option<&str>| ModelServiceStatus {
        service: service.to_owned(),
        instance: service.to_owned(),
        state,
        retry_count: retries,
        consecutive_failures: 3,
        intents: Vec::new(),
        replica: replica.map(str::to_owned),
    };
    let d = decide(
        &policy,
        vec![
            status("redis", EnumLifecycleState::Degraded, 0, None),
            status("nats", EnumLifecycleState::Failed, 3, None),
            status("kafka", EnumLifecycleState::Failed, 1, None),
            status("postgres", EnumLifecycleState::Failed, 0, Some("standby")),
        ],
    )
    .await;
    assert_eq!(d.action, Action::Failover);
    assert_eq!(d.summary, "failover postgres to standby");
    assert_eq!(d.waiting, ["restart kafka", "escalate nats", "watch redis"]);

    let d = decide(
        &policy,
        vec![
            status("nats", EnumLifecycleState::Healthy, 0, None),
            status("db", EnumLifecycleState::Stopped, 0, None),
        ],
    )
    .await;
    assert_eq!((d.action, d.service), (Action::None, None));
}

/// One call to the policy, allowing three restarts.
async fn decide(
    policy: &ComputeClient<FailoverPolicy>,
    services: Vec<ModelServiceStatus>,
) -> ModelFailoverDecision {
    let fleet = ModelFleetStatus {
        services,
        max_restarts: 3,
    };
    let FailoverPolicyOutput::Decide(d) = policy
        .call(FailoverPolicyInput::Decide(fleet))
        .await
        .expect("decided");
    d
}

/// The plan `#[orchestrator_node]` computed from the contract at compile time.
#[test]
fn the_plan_is_the_contract() {
    let plan = <InfraHealthOrchestrator as OrchestratorNode>::PLAN;
    assert_eq!(plan.name, "infra_health_check");
    assert_eq!(
        plan.waves,
        &[
            &[Step::CheckPostgres, Step::CheckNats, Step::CheckRedis][..],
            &[Step::Aggregate][..],
            &[Step::DecideFailover][..],
        ]
    );
    let kinds: Vec<NodeKind> = plan.steps.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            NodeKind::Effect,
            NodeKind::Effect,
            NodeKind::Effect,
            NodeKind::Reducer,
            NodeKind::Compute
        ]
    );
    assert_eq!(plan.step(Step::Aggregate).depends_on.len(), 3);
    let rules = plan.rules;
    assert_eq!(rules.mode, ExecutionMode::Parallel);
    assert_eq!(rules.max_parallel_steps, Some(2));
    assert_eq!(rules.failure_strategy, FailureStrategy::Continue);
    assert_eq!(rules.step_timeout, Some(Duration::from_millis(600)));
    assert_eq!(rules.timeout, Some(Duration::from_secs(5)));
}
