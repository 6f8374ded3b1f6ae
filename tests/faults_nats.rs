//! Fault injection on the node host over NATS JetStream: a host killed mid-stream, a handler
//! that fails then succeeds, poison messages, a NATS server that is down at start or
//! restarted, and a graceful shutdown under load.
//!
//! ```sh
//! cargo test -p onex-tests --test faults_nats -- --ignored --nocapture --test-threads=1
//! ```
//!
//! Every test but (d) runs the `fault_ledger` node (`faults/ledger.yaml`, `faults/ledger.rs`)
//! in `fault_worker` child processes (`bin/fault_worker.rs`) on the NATS server at
//! 127.0.0.1:4222, and talks to them through its own `NatsBus`. Each test is one *run* with a
//! fresh id: its topics are `onex.<kind>.fault-ledger-<run>.…` (see `ledger::scoped`) and its
//! durable consumers `fault-<run>-…`, so runs never see each other's messages; at the end a
//! test deletes its durable consumer and purges its topics. Test (d) runs the host in this
//! process against a private `nats-server` it starts, kills and restarts.
//!
//! Waits use generous deadlines and poll; assertions are on counts, never on durations. The
//! counts are printed (`--nocapture` shows them).

#[path = "faults/ledger.rs"]
pub mod ledger;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use futures_util::StreamExt;
use onex_runtime::Uuid;
use onex_runtime::bus::{
    BusHealth, BusMessage, EventBus, NatsBus, NatsBusConfig, SubscribeOptions, Subscription,
};
use onex_runtime::host::{
    ERROR_CODE_HEADER, HealthStatus, HostConfig, HostHealth, NodeHost, dlq_topic,
};
use onex_runtime::retry::RetryPolicy;
use serde_json::{Value, json};
use tokio::time::Instant;

use ledger::fault_ledger::{
    TOPIC_ONEX_CMD_FAULT_LEDGER_APPLY_V1 as CMD, TOPIC_ONEX_EVT_FAULT_LEDGER_APPLIED_V1 as EVT,
};
use ledger::{FaultLedger, RunScoped, scoped};

/// The contract's DLQ topic (checked against the contract in test (c)).
const DLQ: &str = "onex.dlq.fault-ledger.rejected.v1";

/// How long a test waits for something it expects (generous: the VM may be loaded).
const PATIENCE: Duration = Duration::from_secs(90);

/// How long a test keeps listening after it has what it expects, to catch late extras
/// (more than the workers' 2 s `ack_wait`, so redeliveries have had their chance).
const QUIET: Duration = Duration::from_secs(5);

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// ---------------------------------------------------------------------------------------
// Requests.

/// One request envelope, as bytes, with the ids the test tracks it by.
struct Request {
    correlation_id: Uuid,
    envelope_id: Uuid,
    bytes: Vec<u8>,
}

/// An `apply` request for `key` and `amount`, with `extra` payload fields. Keys are sorted
/// (`correlation_id` first), so even a dead letter's 4 KiB excerpt of an oversized envelope
/// shows its correlation id.
fn entry(key: &str, amount: i64, extra: Value) -> Request {
    let mut payload = json!({"operation": "apply", "key": key, "amount": amount});
    if let (Some(payload), Value::Object(extra)) = (payload.as_object_mut(), extra) {
        payload.extend(extra);
    }
    envelope(payload)
}

/// A request envelope around `payload`.
fn envelope(payload: Value) -> Request {
    let correlation_id = Uuid::new_v4();
    let envelope_id = Uuid::new_v4();
    let envelope = json!({
        "correlation_id": correlation_id.to_string(),
        "envelope_id": envelope_id.to_string(),
        "payload": payload,
    });
    Request {
        correlation_id,
        envelope_id,
        bytes: serde_json::to_vec(&envelope).unwrap(),
    }
}

/// A request that is not JSON at all (cut short), still showing its correlation id.
fn malformed() -> Request {
    let correlation_id = Uuid::new_v4();
    Request {
        correlation_id,
        envelope_id: Uuid::new_v4(),
        bytes: format!(
            r#"{{"correlation_id": "{correlation_id}", "payload": {{"operation": "apply", "key": "#
        )
        .into_bytes(),
    }
}

// ---------------------------------------------------------------------------------------
// The run: its id, its bus, its topics.

/// One test run on the shared NATS server: a fresh id, the test's own bus, the topics.
struct Run {
    id: String,
    bus: NatsBus,
}

impl Run {
    async fn new() -> Run {
        let bus = NatsBus::connect(NatsBusConfig::default().client_name("faults-nats-test"))
            .await
            .expect("NATS with JetStream at 127.0.0.1:4222");
        Run::on(bus)
    }

    fn on(bus: NatsBus) -> Run {
        Run {
            id: Uuid::new_v4().simple().to_string(),
            bus,
        }
    }

    /// The run's version of a contract topic.
    fn topic(&self, contract_topic: &str) -> String {
        scoped(contract_topic, &self.id)
    }

    /// Listens to a contract topic of the run (an ephemeral subscription: what is published
    /// from now on).
    async fn listen(&self, contract_topic: &'static str) -> Listener {
        let topic = self.topic(contract_topic);
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self
                .bus
                .subscribe(&topic, SubscribeOptions::default())
                .await
            {
                Ok(sub) => return Listener::new(sub),
                Err(err) if Instant::now() < deadline => {
                    eprintln!("subscribing to {topic}: {err}; retrying");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(err) => panic!("cannot subscribe to {topic}: {err}"),
            }
        }
    }

    /// Publishes a request to the run's command topic with `Nats-Msg-Id` = `message_id`,
    /// retrying while the bus fails (a retry with the same id is de-duplicated).
    async fn publish_as(&self, request: &Request, message_id: &str) {
        publish_retrying(&self.bus, &self.topic(CMD), request, message_id).await;
    }

    /// Publishes a request with `Nats-Msg-Id` = its envelope id.
    async fn publish(&self, request: &Request) {
        self.publish_as(request, &request.envelope_id.to_string())
            .await;
    }

    /// Publishes all `requests` in a background task.
    fn publish_all(&self, requests: Vec<Request>) -> tokio::task::JoinHandle<usize> {
        let bus = self.bus.clone();
        let topic = self.topic(CMD);
        tokio::spawn(async move {
            for request in &requests {
                let id = request.envelope_id.to_string();
                publish_retrying(&bus, &topic, request, &id).await;
            }
            requests.len()
        })
    }

    /// Starts a worker of this run.
    fn worker(&self, label: &str, args: &[&str]) -> Worker {
        Worker::spawn(&self.id, label, args)
    }

    /// Deletes the durable consumer `durable` made of the command topic and purges the
    /// run's topics from their streams (best effort: leftovers of a unique run are harmless).
    async fn cleanup(&self, durable: &str) {
        let jetstream = self.bus.jetstream();
        let cmd = self.topic(CMD);
        if let Ok(stream) = self.bus.stream_for(&cmd) {
            let consumer = NatsBus::consumer_name(durable, &cmd);
            if let Err(err) = jetstream
                .delete_consumer_from_stream(&consumer, &stream)
                .await
            {
                eprintln!("cleanup: deleting consumer {consumer} of {stream}: {err}");
            }
        }
        for contract_topic in [CMD, EVT, DLQ] {
            let topic = self.topic(contract_topic);
            let Ok(name) = self.bus.stream_for(&topic) else {
                continue;
            };
            match jetstream.get_stream(&name).await {
                Ok(stream) => {
                    if let Err(err) = stream.purge().filter(topic.as_str()).await {
                        eprintln!("cleanup: purging {topic} from {name}: {err}");
                    }
                }
                Err(err) => eprintln!("cleanup: stream {name}: {err}"),
            }
        }
    }
}

async fn publish_retrying(bus: &NatsBus, topic: &str, request: &Request, message_id: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let message = BusMessage::new(topic, request.bytes.clone()).with_id(message_id);
        match bus.publish(message).await {
            Ok(()) => return,
            Err(err) if Instant::now() < deadline => {
                eprintln!("publishing to {topic}: {err}; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => panic!("cannot publish to {topic}: {err}"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Listening: replies and dead letters.

/// One message the test received on a topic of the run.
#[derive(Debug)]
struct Received {
    /// The JSON body.
    body: Value,
    /// The bus headers.
    headers: BTreeMap<String, String>,
    /// For a reply: its correlation id.
    correlation_id: Option<Uuid>,
    /// For a reply: its envelope id.
    envelope_id: Option<String>,
}

/// An ephemeral subscription that acks and keeps every first delivery.
struct Listener {
    sub: Subscription,
    received: Vec<Received>,
    /// Correlation ids of the replies received.
    correlations: HashSet<Uuid>,
    /// Deliveries that were the consumer's redeliveries of a message already received
    /// (not new messages: skipped).
    redeliveries: usize,
}

impl Listener {
    fn new(sub: Subscription) -> Listener {
        Listener {
            sub,
            received: Vec::new(),
            correlations: HashSet::new(),
            redeliveries: 0,
        }
    }

    fn len(&self) -> usize {
        self.received.len()
    }

    /// Takes the next delivery if one comes within `wait`; false otherwise.
    async fn take_one(&mut self, wait: Duration) -> bool {
        match tokio::time::timeout(wait, self.sub.next()).await {
            Ok(Some(Ok(delivery))) => {
                let attempt = delivery.attempt();
                let message = delivery.message().clone();
                delivery.ack().await.ok();
                if attempt > 1 {
                    self.redeliveries += 1;
                    return true;
                }
                let body: Value = serde_json::from_slice(&message.payload)
                    .unwrap_or_else(|err| panic!("a message that is not JSON: {err}"));
                let correlation_id = body["correlation_id"]
                    .as_str()
                    .and_then(|id| id.parse::<Uuid>().ok());
                if let Some(id) = correlation_id {
                    self.correlations.insert(id);
                }
                self.received.push(Received {
                    envelope_id: body["envelope_id"].as_str().map(str::to_owned),
                    correlation_id,
                    body,
                    headers: message.headers,
                });
                true
            }
            Ok(Some(Err(err))) => {
                eprintln!("subscription error (skipped): {err}");
                true
            }
            Ok(None) => panic!("the subscription ended"),
            Err(_) => false,
        }
    }

    /// Takes deliveries until `done` holds (true) or the deadline passes (false).
    async fn until(&mut self, deadline: Instant, done: impl Fn(&Listener) -> bool) -> bool {
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.take_one(left.min(Duration::from_millis(500))).await;
        }
        true
    }

    /// Takes whatever comes during `wait`.
    async fn quiet(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while !deadline.saturating_duration_since(Instant::now()).is_zero() {
            self.take_one(deadline.saturating_duration_since(Instant::now()))
                .await;
        }
    }

    fn has_all(&self, ids: &[Uuid]) -> bool {
        ids.iter().all(|id| self.correlations.contains(id))
    }
}

/// What came back on the reply topic for the requests `sent`.
#[derive(Debug, Default)]
struct Tally {
    /// Requests with at least one reply.
    unique: usize,
    /// Requests without a reply.
    lost: usize,
    /// Replies beyond the first for a request (same correlation id).
    duplicate_correlations: usize,
    /// Replies whose envelope id was already seen.
    duplicate_envelope_ids: usize,
    /// Replies to requests the test did not send.
    foreign: usize,
}

fn tally(sent: &[Uuid], replies: &Listener) -> Tally {
    let sent_set: HashSet<Uuid> = sent.iter().copied().collect();
    let mut per_request: HashMap<Uuid, usize> = HashMap::new();
    let mut envelope_ids = HashSet::new();
    let mut tally = Tally::default();
    for reply in &replies.received {
        match reply.correlation_id {
            Some(id) if sent_set.contains(&id) => *per_request.entry(id).or_default() += 1,
            _ => tally.foreign += 1,
        }
        if let Some(envelope_id) = &reply.envelope_id
            && !envelope_ids.insert(envelope_id.clone())
        {
            tally.duplicate_envelope_ids += 1;
        }
    }
    tally.unique = per_request.len();
    tally.lost = sent.len() - per_request.len();
    tally.duplicate_correlations = per_request.values().map(|n| n - 1).sum();
    tally
}

// ---------------------------------------------------------------------------------------
// Workers.

/// A `fault_worker` child process; killed (SIGKILL) on drop, whatever the test's outcome.
struct Worker {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Worker {
    fn spawn(run: &str, label: &str, args: &[&str]) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fault_worker"))
            .args(["--run", run, "--label", label])
            .args(args)
            // The poison test makes the handler panic: one line each, no backtraces.
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the fault worker starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(line) => lock(&sink).push(line),
                    Err(_) => break,
                }
            }
        });
        Worker {
            label: label.to_owned(),
            child,
            stdin,
            lines,
            reader: Some(reader),
        }
    }

    fn lines(&self) -> Vec<String> {
        lock(&self.lines).clone()
    }

    /// Waits for `READY <durable>`; returns the durable consumer name.
    async fn ready(&mut self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(durable) = self
                .lines()
                .iter()
                .find_map(|line| line.strip_prefix("READY "))
            {
                println!("[{}] ready, durable consumer {durable}", self.label);
                return durable.to_owned();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("worker {} exited before it was ready: {status}", self.label);
            }
            assert!(
                Instant::now() < deadline,
                "worker {} not ready within {PATIENCE:?}",
                self.label
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `(correlation id, attempt)` of every successful handler run so far.
    fn done(&self) -> Vec<(Uuid, u32)> {
        self.lines()
            .iter()
            .filter_map(|line| {
                let mut words = line.strip_prefix("DONE ")?.split(' ');
                let id = words.next()?.parse().ok()?;
                let attempt = words.next()?.parse().ok()?;
                Some((id, attempt))
            })
            .collect()
    }

    /// The shutdown report the worker printed, if it did.
    fn report(&self) -> Option<Value> {
        self.lines()
            .iter()
            .find_map(|line| serde_json::from_str(line.strip_prefix("SHUTDOWN ")?).ok())
    }

    /// SIGKILL, as a crash: no drain, no acks.
    fn crash(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
        self.join_reader();
    }

    /// Asks for a graceful shutdown with SIGTERM.
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Asks for a graceful shutdown by closing the worker's stdin.
    fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Waits for the worker to exit; its output is then complete.
    async fn exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                self.join_reader();
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "worker {} did not exit within {PATIENCE:?}",
                self.label
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the worker gracefully (stdin closed), asserts a clean exit, returns its report.
    async fn stop(&mut self) -> Value {
        self.close_stdin();
        let status = self.exit().await;
        assert!(
            status.success(),
            "worker {} exited with {status}",
            self.label
        );
        let report = self.report().expect("a shutdown report");
        println!("[{}] stopped: {}", self.label, report);
        report
    }

    fn join_reader(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.join().ok();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The counter `name` of the (only) node of a shutdown report.
fn stat(report: &Value, name: &str) -> u64 {
    report["stats"][0][name]
        .as_u64()
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

/// Handler runs per correlation id, over several workers' `DONE` lines.
fn executions(workers: &[&Worker]) -> HashMap<Uuid, usize> {
    let mut runs = HashMap::new();
    for worker in workers {
        for (id, _) in worker.done() {
            *runs.entry(id).or_default() += 1;
        }
    }
    runs
}

// ---------------------------------------------------------------------------------------
// (a) A host killed mid-stream.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn a_host_killed_mid_stream_loses_nothing() {
    const COUNT: usize = 300;
    let run = Run::new().await;
    let mut replies = run.listen(EVT).await;
    let mut dead_letters = run.listen(DLQ).await;
    // 300 × 20 ms over 2 handlers: a1 needs 3 s or more for them all, plenty of time to
    // kill it half-way.
    let args = [
        "--delay-ms",
        "20",
        "--concurrency",
        "2",
        "--ack-wait-ms",
        "2000",
    ];
    let mut first = run.worker("a1", &args);
    let durable = first.ready().await;

    let requests: Vec<Request> = (0..COUNT)
        .map(|i| entry(&format!("k{i}"), i as i64, json!({})))
        .collect();
    let sent: Vec<Uuid> = requests.iter().map(|r| r.correlation_id).collect();
    let publisher = run.publish_all(requests);

    // Some replies, not all: then the host dies, unacked work and all.
    let started = replies
        .until(Instant::now() + PATIENCE, |l| l.len() >= 30)
        .await;
    assert!(started, "no 30 replies within {PATIENCE:?}");
    first.crash();
    let at_kill = replies.len();
    println!("[a] killed a1 (SIGKILL) after {at_kill} replies of {COUNT}");
    assert!(
        first.done().len() < COUNT,
        "a1 had run every message before the kill"
    );
    assert_eq!(publisher.await.unwrap(), COUNT);

    // A new host on the same durable consumer picks up the rest; JetStream redelivers
    // what a1 had taken but not acked once `ack_wait` has passed.
    let mut second = run.worker("a2", &args);
    assert_eq!(second.ready().await, durable);
    let complete = replies
        .until(Instant::now() + PATIENCE, |l| l.has_all(&sent))
        .await;
    replies.quiet(QUIET).await;
    let counts = tally(&sent, &replies);
    let runs = executions(&[&first, &second]);
    let done_a1 = first.done().len();
    let done_a2 = second.done().len();
    let reexecuted: Vec<Uuid> = runs
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, _)| *id)
        .collect();
    let total_runs: usize = runs.values().sum();
    // A message a1 ran whose reply is a1's although a2 ran it again: a2's reply was
    // published with the same Nats-Msg-Id and dropped by JetStream.
    let deduplicated = replies
        .received
        .iter()
        .filter(|reply| {
            reply
                .correlation_id
                .is_some_and(|id| reexecuted.contains(&id))
                && reply.body["payload"]["worker"] == "a1"
        })
        .count();
    println!(
        "[a] in {COUNT}, unique out {}, lost {}, duplicate replies by correlation id {}, \
         by reply envelope id {}, foreign {}, consumer redeliveries skipped {}",
        counts.unique,
        counts.lost,
        counts.duplicate_correlations,
        counts.duplicate_envelope_ids,
        counts.foreign,
        replies.redeliveries
    );
    println!(
        "[a] handler runs: a1 {done_a1}, a2 {done_a2}, total {total_runs}; messages run \
         more than once (a1 ran them, the kill lost the ack, a2 ran them again) {}; of \
         those, replies published by a1 whose second publish by a2 JetStream dropped \
         (Nats-Msg-Id = reply envelope_id) {deduplicated}",
        reexecuted.len()
    );
    assert!(complete, "not every request was answered: {counts:?}");
    assert_eq!(counts.unique, COUNT);
    assert_eq!(counts.lost, 0);
    assert_eq!(runs.len(), COUNT, "every message ran at least once");

    // The reply's Nats-Msg-Id is the reply envelope id, derived from the request's envelope
    // id: a request run again (here: the same envelope published again under another message
    // id, as a producer retrying after the duplicate window would) yields a reply JetStream
    // drops. The same message id again is dropped earlier, as a duplicate request.
    let again: Vec<Request> = (0..20)
        .map(|i| entry(&format!("again{i}"), i, json!({})))
        .collect();
    for request in &again {
        run.publish(request).await;
    }
    let again_ids: Vec<Uuid> = again.iter().map(|r| r.correlation_id).collect();
    assert!(
        replies
            .until(Instant::now() + PATIENCE, |l| l.has_all(&again_ids))
            .await,
        "the extra requests were not answered"
    );
    let before = replies.len();
    for request in &again[..10] {
        run.publish(request).await; // Same message id: a duplicate request.
    }
    for request in &again[10..] {
        run.publish_as(request, &format!("{}-retry", request.envelope_id))
            .await;
    }
    // Wait for a2 to have run the 10 republished requests a second time.
    let deadline = Instant::now() + PATIENCE;
    let rerun = |worker: &Worker| {
        let runs = executions(&[worker]);
        again_ids[10..]
            .iter()
            .filter(|id| runs.get(id) == Some(&2))
            .count()
    };
    while rerun(&second) < 10 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    replies.quiet(QUIET).await;
    let runs = executions(&[&second]);
    let same_id_reruns = again_ids[..10].iter().filter(|id| runs[id] > 1).count();
    let new_id_reruns = rerun(&second);
    let extra_replies = replies.len() - before;
    println!(
        "[a] republished 10 requests with the same Nats-Msg-Id: re-run {same_id_reruns}; \
         10 with a new Nats-Msg-Id: re-run {new_id_reruns}, new replies on the topic \
         {extra_replies} (dropped by reply de-duplication: {})",
        new_id_reruns.saturating_sub(extra_replies)
    );
    assert_eq!(
        same_id_reruns, 0,
        "a duplicate request id was processed again"
    );
    assert_eq!(new_id_reruns, 10, "the re-sent requests were not run again");
    assert_eq!(
        extra_replies, 0,
        "a re-run request's reply was not de-duplicated"
    );

    dead_letters.quiet(Duration::from_secs(1)).await;
    assert_eq!(
        dead_letters.len(),
        0,
        "dead letters: {:?}",
        dead_letters.received
    );
    let report = second.stop().await;
    assert_eq!(stat(&report, "dead_lettered"), 0);
    run.cleanup(&durable).await;
}

// ---------------------------------------------------------------------------------------
// (b) A handler that fails N times, then succeeds.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn b_transient_failures_are_retried_until_one_success() {
    const MAX_DELIVER: i64 = 5;
    let run = Run::new().await;
    let mut replies = run.listen(EVT).await;
    let mut dead_letters = run.listen(DLQ).await;
    let mut worker = run.worker(
        "b1",
        &[
            "--delay-ms",
            "5",
            "--max-deliver",
            "5",
            "--ack-wait-ms",
            "2000",
        ],
    );
    let durable = worker.ready().await;

    // N = 0 ..= MAX_DELIVER - 1 failures: the last succeeds on the last allowed delivery.
    let mut failures = HashMap::new();
    let mut sent = Vec::new();
    for n in 0..MAX_DELIVER {
        for i in 0..3 {
            let request = entry(&format!("flaky{n}-{i}"), n, json!({"fail_first": n}));
            failures.insert(request.correlation_id, n);
            sent.push(request.correlation_id);
            run.publish(&request).await;
        }
    }
    let complete = replies
        .until(Instant::now() + PATIENCE, |l| l.has_all(&sent))
        .await;
    replies.quiet(QUIET).await;
    dead_letters.quiet(Duration::from_secs(1)).await;
    let report = worker.stop().await;

    let counts = tally(&sent, &replies);
    let runs = executions(&[&worker]);
    let expected_retries: i64 = failures.values().sum();
    println!(
        "[b] in {}, unique out {}, lost {}, duplicate replies {}, handler successes {}, \
         retried deliveries {} (expected {expected_retries}), dead letters {}",
        sent.len(),
        counts.unique,
        counts.lost,
        counts.duplicate_correlations,
        runs.values().sum::<usize>(),
        stat(&report, "retried"),
        dead_letters.len()
    );
    assert!(complete, "not every request was answered: {counts:?}");
    assert_eq!(counts.unique, sent.len());
    assert_eq!(counts.duplicate_correlations, 0);
    assert_eq!(counts.duplicate_envelope_ids, 0);
    for reply in &replies.received {
        let id = reply.correlation_id.expect("a correlation id");
        let n = failures[&id];
        assert_eq!(reply.body["payload"]["attempts"], n + 1, "{}", reply.body);
        assert_eq!(reply.body["payload"]["worker"], "b1");
        assert_eq!(runs.get(&id), Some(&1), "handler successes of {id}");
    }
    assert_eq!(
        dead_letters.len(),
        0,
        "dead letters: {:?}",
        dead_letters.received
    );
    assert_eq!(stat(&report, "succeeded"), sent.len() as u64);
    assert_eq!(stat(&report, "retried"), expected_retries as u64);
    assert_eq!(stat(&report, "dead_lettered"), 0);
    run.cleanup(&durable).await;
}

// ---------------------------------------------------------------------------------------
// (c) Poison messages.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn c_poison_messages_are_dead_lettered_and_the_node_keeps_serving() {
    const MAX_DELIVER: u64 = 3;
    const LIMIT: usize = 16 * 1024;
    let run = Run::new().await;
    let mut replies = run.listen(EVT).await;
    let mut dead_letters = run.listen(DLQ).await;
    let mut worker = run.worker(
        "c1",
        &[
            "--delay-ms",
            "5",
            "--max-deliver",
            "3",
            "--max-envelope-bytes",
            &LIMIT.to_string(),
        ],
    );
    let durable = worker.ready().await;
    assert_eq!(dlq_topic(ledger::fault_ledger::CONTRACT), DLQ);

    // (what, request, expected error code, expected deliveries before the DLQ)
    let poisons = [
        (
            "malformed JSON",
            malformed(),
            "ONEX_CORE_007_INVALID_INPUT",
            1,
        ),
        (
            "unknown operation",
            envelope(json!({"operation": "transfer", "key": "x", "amount": 1})),
            "ONEX_CORE_084_UNSUPPORTED_OPERATION",
            1,
        ),
        (
            "oversized envelope",
            entry(&"x".repeat(2 * LIMIT), 1, json!({})),
            "ONEX_CORE_007_INVALID_INPUT",
            1,
        ),
        (
            "failed validation (amount -1)",
            entry("negative", -1, json!({})),
            "ONEX_CORE_006_VALIDATION_ERROR",
            1,
        ),
        (
            "panicking handler",
            entry("poison", 1, json!({"poison": true})),
            "ONEX_CORE_095_HANDLER_EXECUTION_ERROR",
            MAX_DELIVER,
        ),
    ];
    let mut good = Vec::new();
    for (i, (_, poison, _, _)) in poisons.iter().enumerate() {
        run.publish(poison).await;
        // A good message right behind each poison one.
        let request = entry(&format!("good{i}"), 1, json!({}));
        good.push(request.correlation_id);
        run.publish(&request).await;
    }
    let all_served = replies
        .until(Instant::now() + PATIENCE, |l| l.has_all(&good))
        .await;
    let all_dead = dead_letters
        .until(Instant::now() + PATIENCE, |l| l.len() >= poisons.len())
        .await;
    replies.quiet(QUIET).await;
    dead_letters.quiet(Duration::from_secs(1)).await;
    let report = worker.stop().await;

    println!(
        "[c] good messages in {}, replies {}; poison messages in {}, dead letters {}",
        good.len(),
        replies.len(),
        poisons.len(),
        dead_letters.len()
    );
    assert!(all_served, "good messages were not all served");
    assert!(all_dead, "not every poison message was dead-lettered");
    assert_eq!(
        dead_letters.len(),
        poisons.len(),
        "each poison message once"
    );
    assert_eq!(tally(&good, &replies).unique, good.len());
    assert_eq!(replies.len(), good.len(), "no reply to a poison message");
    for (what, request, code, attempts) in &poisons {
        let id = request.correlation_id.to_string();
        let letter = dead_letters
            .received
            .iter()
            .find(|letter| letter.body["envelope"].to_string().contains(&id))
            .unwrap_or_else(|| panic!("no dead letter for the {what} message"));
        let error = &letter.body["error"];
        println!(
            "[c] {what}: {} after {} deliver(y/ies): {}",
            error["error_code"], letter.body["attempts"], error["message"]
        );
        assert_eq!(error["error_code"], *code, "{what}: {}", letter.body);
        assert_eq!(
            letter.headers.get(ERROR_CODE_HEADER).map(String::as_str),
            Some(*code),
            "{what}"
        );
        assert_eq!(letter.body["attempts"], *attempts, "{what}");
        assert_eq!(letter.body["node"], "fault_ledger", "{what}");
        assert_eq!(letter.body["topic"], run.topic(CMD), "{what}");
    }
    assert_eq!(stat(&report, "dead_lettered"), poisons.len() as u64);
    assert_eq!(stat(&report, "succeeded"), good.len() as u64);
    run.cleanup(&durable).await;
}

// ---------------------------------------------------------------------------------------
// (d) NATS unreachable at start, then killed and restarted.

/// A private `nats-server` on a free port with its own store directory; killed (and the
/// directory removed) on drop, whatever the test's outcome.
struct PrivateServer {
    port: u16,
    store: PathBuf,
    child: Option<Child>,
}

impl PrivateServer {
    fn new() -> PrivateServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let store = std::env::temp_dir().join(format!("onex-faults-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&store).expect("store directory");
        PrivateServer {
            port,
            store,
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        let child = Command::new("/usr/sbin/nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
    }

    /// SIGKILL: no graceful shutdown.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.kill();
        std::fs::remove_dir_all(&self.store).ok();
    }
}

/// Polls the host's health until `wanted` holds, up to [`PATIENCE`]; returns the last one.
async fn wait_health(host: &NodeHost, wanted: impl Fn(&HostHealth) -> bool) -> HostHealth {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let health = host.health().await;
        if wanted(&health) || Instant::now() > deadline {
            return health;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Publishes `count` requests and waits for their replies; returns how many came back.
async fn round_trip(run: &Run, tag: &str, count: usize) -> usize {
    let mut replies = run.listen(EVT).await;
    let requests: Vec<Request> = (0..count)
        .map(|i| entry(&format!("{tag}{i}"), 1, json!({})))
        .collect();
    let sent: Vec<Uuid> = requests.iter().map(|r| r.correlation_id).collect();
    for request in &requests {
        run.publish(request).await;
    }
    replies
        .until(Instant::now() + PATIENCE, |l| l.has_all(&sent))
        .await;
    tally(&sent, &replies).unique
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn d_host_follows_nats_down_at_start_and_restarted() {
    let mut server = PrivateServer::new();
    let nats = |name: &str| {
        NatsBusConfig::new(server.url())
            .client_name(name)
            .connect_timeout(Duration::from_secs(2))
            .api_timeout(Duration::from_secs(2))
            .reconnect_delay_max(Duration::from_millis(250))
    };
    // The host's bus connects lazily: the server is not running yet.
    let host_bus = NatsBus::connect_lazy(nats("faults-d-host"))
        .await
        .expect("a lazy NATS bus needs no server");
    let test_bus = NatsBus::connect_lazy(nats("faults-d-test"))
        .await
        .expect("a lazy NATS bus needs no server");
    let run = Run::on(test_bus);
    let bus: Arc<dyn EventBus> = Arc::new(RunScoped::new(host_bus.clone(), &run.id));
    let config = HostConfig {
        ack_wait: Duration::from_secs(5),
        durable_prefix: format!("fault-{}", run.id),
        resubscribe_backoff: RetryPolicy::new(u32::MAX, Duration::from_millis(100))
            .with_max_delay(Some(Duration::from_secs(1))),
        ..HostConfig::default()
    };
    let host = NodeHost::builder(bus)
        .effect(FaultLedger::new(Duration::from_millis(5), "d", false))
        .config(config)
        .start()
        .await
        .expect("a host starts without its bus");

    let down = host.health().await;
    println!(
        "[d] before the server runs: {:?} {:?}",
        down.status, down.reasons
    );
    assert_ne!(down.status, HealthStatus::Ready);
    assert!(!down.bus_connected);
    assert!(
        down.reasons.iter().any(|r| r.contains("bus 'nats'")),
        "{:?}",
        down.reasons
    );
    assert!(matches!(
        host_bus.health().await,
        BusHealth::Disconnected(_)
    ));

    server.start();
    let up = wait_health(&host, HostHealth::is_ready).await;
    println!("[d] server started: {:?} {:?}", up.status, up.reasons);
    assert_eq!(up.status, HealthStatus::Ready, "{:?}", up.reasons);
    let served = round_trip(&run, "first", 3).await;
    println!("[d] after the start: 3 requests, {served} replies");
    assert_eq!(served, 3);

    server.kill();
    let lost = wait_health(&host, |h| !h.is_ready()).await;
    println!("[d] server killed: {:?} {:?}", lost.status, lost.reasons);
    assert_eq!(lost.status, HealthStatus::Degraded, "{:?}", lost.reasons);
    assert!(!lost.bus_connected);
    assert!(
        lost.reasons.iter().any(|r| r.contains("bus 'nats'")),
        "{:?}",
        lost.reasons
    );

    server.start();
    let back = wait_health(&host, HostHealth::is_ready).await;
    println!("[d] server restarted: {:?} {:?}", back.status, back.reasons);
    assert_eq!(back.status, HealthStatus::Ready, "{:?}", back.reasons);
    let served = round_trip(&run, "after", 5).await;
    println!("[d] after the restart: 5 requests, {served} replies");
    assert_eq!(served, 5);

    let report = host.shutdown().await;
    println!(
        "[d] host stopped: succeeded {}, failed {}, dead-lettered {}",
        report.stats[0].succeeded, report.stats[0].failed, report.stats[0].dead_lettered
    );
    assert!(report.stats[0].succeeded >= 8);
    assert_eq!(report.stats[0].dead_lettered, 0);
}

// ---------------------------------------------------------------------------------------
// (e) A graceful shutdown under load.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn e_graceful_shutdown_under_load_loses_nothing() {
    const COUNT: usize = 500;
    let run = Run::new().await;
    let mut replies = run.listen(EVT).await;
    let mut dead_letters = run.listen(DLQ).await;
    // 500 × 10 ms over 2 handlers: e1 needs 2.5 s or more for them all.
    let args = [
        "--delay-ms",
        "10",
        "--concurrency",
        "2",
        "--ack-wait-ms",
        "2000",
    ];
    let mut first = run.worker("e1", &args);
    let durable = first.ready().await;

    let requests: Vec<Request> = (0..COUNT)
        .map(|i| entry(&format!("k{i}"), i as i64, json!({})))
        .collect();
    let sent: Vec<Uuid> = requests.iter().map(|r| r.correlation_id).collect();
    let publisher = run.publish_all(requests);

    let started = replies
        .until(Instant::now() + PATIENCE, |l| l.len() >= 50)
        .await;
    assert!(started, "no 50 replies within {PATIENCE:?}");
    first.terminate();
    let at_stop = replies.len();
    let status = first.exit().await;
    let report = first.report();
    println!("[e] SIGTERM to e1 after {at_stop} replies of {COUNT}; e1 {status}");
    assert!(status.success(), "e1 exited with {status}");
    let report = report.expect("e1 printed its shutdown report");
    println!("[e] e1 report: {report}");
    assert_eq!(report["abandoned"], 0);
    assert_eq!(report["timed_out"], false);
    assert!(
        first.done().len() < COUNT,
        "e1 had run every message before the shutdown"
    );
    assert_eq!(publisher.await.unwrap(), COUNT);

    let mut second = run.worker("e2", &args);
    assert_eq!(second.ready().await, durable);
    let complete = replies
        .until(Instant::now() + PATIENCE, |l| l.has_all(&sent))
        .await;
    replies.quiet(QUIET).await;
    dead_letters.quiet(Duration::from_secs(1)).await;
    let report = second.stop().await;

    let counts = tally(&sent, &replies);
    let runs = executions(&[&first, &second]);
    let reexecuted = runs.values().filter(|&&n| n > 1).count();
    println!(
        "[e] in {COUNT}, unique out {}, lost {}, duplicate replies by correlation id {}, \
         by reply envelope id {}; handler runs e1 {}, e2 {}, messages run more than once \
         {reexecuted}; consumer redeliveries skipped {}",
        counts.unique,
        counts.lost,
        counts.duplicate_correlations,
        counts.duplicate_envelope_ids,
        first.done().len(),
        second.done().len(),
        replies.redeliveries
    );
    assert!(complete, "not every request was answered: {counts:?}");
    assert_eq!(counts.unique, COUNT);
    assert_eq!(counts.lost, 0);
    assert_eq!(counts.duplicate_correlations, 0);
    assert_eq!(counts.duplicate_envelope_ids, 0);
    assert_eq!(
        reexecuted, 0,
        "a graceful shutdown made a message run twice"
    );
    assert_eq!(runs.len(), COUNT);
    assert_eq!(
        dead_letters.len(),
        0,
        "dead letters: {:?}",
        dead_letters.received
    );
    assert_eq!(stat(&report, "dead_lettered"), 0);
    run.cleanup(&durable).await;
}
