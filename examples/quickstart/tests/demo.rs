//! Checks the quickstart so the demo printed by `cargo run -p quickstart` cannot silently rot:
//! the node in-process (`process_json`), the node served by its host over the in-memory bus,
//! and the binary itself (default run, metrics, JSON logs, errors; `--bus nats` with NATS).

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use onex_runtime::bus::{BusMessage, EventBus, InMemoryBus, SubscribeOptions, Subscription};
use onex_runtime::host::{ERROR_CODE_HEADER, ERROR_PAYLOAD_TYPE, NodeStats};
use onex_runtime::{EffectNode, Envelope, ErrorCode, JsonValue, NodeInput, OnexError};
use quickstart::user_directory::{
    TOPIC_ONEX_CMD_USER_DIRECTORY_CREATE_USER_V1 as CREATE_USER,
    TOPIC_ONEX_CMD_USER_DIRECTORY_GET_USER_V1 as GET_USER,
    TOPIC_ONEX_CMD_USER_DIRECTORY_LIST_USERS_V1 as LIST_USERS,
};
use quickstart::{
    UserDirectory, UserDirectoryInput, UserDirectoryOutput, requests, user_directory,
};
use serde_json::json;

const DLQ: &str = "onex.dlq.user-directory.failed.v1";

/// The correlation id of request `n` (onex-runtime does not re-export `Uuid`, so ids are
/// compared as text).
fn correlation(n: u8) -> Option<String> {
    Some(format!("0b7e4a52-1c3d-4e5f-8a9b-{n:012}"))
}

fn text(id: Option<impl ToString>) -> Option<String> {
    id.map(|id| id.to_string())
}

async fn ok(node: &UserDirectory, request: &[u8], n: u8) -> Envelope<JsonValue> {
    let reply = node
        .process_json(request)
        .await
        .unwrap_or_else(|e| panic!("request {n} failed: {e}"));
    assert_eq!(text(reply.correlation_id), correlation(n), "request {n}");
    assert!(
        reply.causation_id().is_some(),
        "request {n}: causation recorded"
    );
    reply
}

async fn err(node: &UserDirectory, request: &[u8]) -> OnexError {
    match node.process_json(request).await {
        Ok(reply) => panic!("expected an error, got {:?}", reply.payload),
        Err(e) => e,
    }
}

#[test]
fn contract_metadata() {
    let contract = <UserDirectory as EffectNode>::CONTRACT;
    assert_eq!(contract.name, "user_directory");
    assert_eq!(contract.node_type, "EFFECT_GENERIC");
    assert!(!contract.fingerprint_drifted(), "{}", contract.fingerprint);
    assert_eq!(contract.declared_fingerprint, Some(contract.fingerprint));
    let ops: Vec<_> = contract.operations.iter().map(|op| op.name).collect();
    assert_eq!(ops, ["user.create", "user.get", "user.list"]);
    assert_eq!(
        contract.publish_topics,
        ["onex.evt.user-directory.user-created.v1"]
    );
    assert_eq!(contract.subscribe_topics.len(), 3);
    assert_eq!(user_directory::SUBSCRIBE_TOPICS, contract.subscribe_topics);
    assert_eq!(contract.dlq_topics, [DLQ]);
}

/// The demo's sequence, in the demo's order (the node keeps state between requests).
#[tokio::test]
async fn demo_sequence() {
    let node = UserDirectory::default();

    let ada = json!({"id": 1, "username": "ada", "email": "ada@example.org", "age": 36});
    let created = ok(&node, requests::CREATE_ADA, 1).await;
    assert_eq!(
        created.payload, ada,
        "the reply never carries the api token"
    );
    assert_eq!(created.payload_type.as_deref(), Some("ModelUser"));

    let grace = json!({"id": 2, "username": "grace", "email": "grace@example.org"});
    assert_eq!(ok(&node, requests::CREATE_GRACE, 2).await.payload, grace);

    assert_eq!(ok(&node, requests::GET_ADA, 3).await.payload, ada);

    let list = ok(&node, requests::LIST, 4).await;
    assert_eq!(list.payload, json!({"users": [ada, grace], "total": 2}));
    assert_eq!(list.payload_type.as_deref(), Some("ModelUserPage"));

    let e = err(&node, requests::MALFORMED).await;
    assert_eq!(*e.code(), ErrorCode::InvalidInput);
    assert!(e.message().contains("malformed JSON"), "{}", e.message());
    assert_eq!(e.correlation_id(), None);

    let e = err(&node, requests::UNKNOWN_OPERATION).await;
    assert_eq!(*e.code(), ErrorCode::UnsupportedOperation);
    assert_eq!(e.message(), "unsupported operation 'user.delete'");
    assert_eq!(text(e.correlation_id()), correlation(6));
    assert_eq!(
        e.context()["supported"],
        json!(["user.create", "user.get", "user.list"])
    );

    let e = err(&node, requests::INVALID_CREATE).await;
    assert_eq!(*e.code(), ErrorCode::Validation);
    assert_eq!(text(e.correlation_id()), correlation(7));
    let fields: Vec<&str> = e.context()["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["username", "username", "email", "age", "api_token"]
    );

    let e = err(&node, requests::GET_MISSING).await;
    assert_eq!(*e.code(), ErrorCode::OperationFailed);
    assert_eq!(e.message(), "no user named 'linus'");
    assert_eq!(text(e.correlation_id()), correlation(8));

    // The rejected requests changed nothing.
    let list = ok(&node, requests::LIST, 4).await;
    assert_eq!(list.payload["total"], 2);

    // The typed path (step 9 of the demo).
    let reply = node
        .process(Envelope::new(UserDirectoryInput::UserList(
            user_directory::ModelListUsers { limit: 1 },
        )))
        .await
        .unwrap();
    match reply.payload {
        UserDirectoryOutput::UserList(page) => {
            assert_eq!(page.total, 2);
            assert_eq!(page.users.len(), 1);
            assert_eq!(page.users[0].username, "ada");
        }
        other => panic!("unexpected output {other:?}"),
    }
}

#[tokio::test]
async fn duplicate_username_is_the_handlers_error() {
    let node = UserDirectory::default();
    ok(&node, requests::CREATE_ADA, 1).await;
    let e = err(&node, requests::CREATE_ADA).await;
    assert_eq!(*e.code(), ErrorCode::OperationFailed);
    assert_eq!(e.message(), "username 'ada' is already taken");
    assert_eq!(text(e.correlation_id()), correlation(1));
}

#[test]
fn debug_redacts_the_api_token() {
    let envelope = Envelope::<JsonValue>::from_json(requests::CREATE_ADA).unwrap();
    let input = UserDirectoryInput::decode(None, envelope.payload).unwrap();
    let shown = format!("{input:?}");
    assert!(shown.contains("api_token: \"<redacted>\""), "{shown}");
    assert!(!shown.contains("tok_live"), "{shown}");
}

// ---------------------------------------------------------------------------------------
// The node served by its host (`quickstart::serve`) over the in-memory bus.

const WAIT: Duration = Duration::from_secs(30);

fn reply(message: BusMessage) -> Envelope<JsonValue> {
    let reply = Envelope::from_json(&message.payload).unwrap();
    assert_ne!(
        reply.payload_type.as_deref(),
        Some(ERROR_PAYLOAD_TYPE),
        "{:?}",
        reply.payload
    );
    reply
}

fn error_reply(message: BusMessage) -> OnexError {
    let reply = Envelope::from_json(&message.payload).unwrap();
    assert_eq!(
        reply.payload_type.as_deref(),
        Some(ERROR_PAYLOAD_TYPE),
        "{:?}",
        reply.payload
    );
    serde_json::from_value(reply.payload).unwrap()
}

/// The next dead letter: its error code header and its body.
async fn dead_letter(dlq: &mut Subscription) -> (String, JsonValue) {
    let delivery = tokio::time::timeout(WAIT, dlq.next())
        .await
        .expect("a dead letter in time")
        .expect("the DLQ subscription is open")
        .unwrap();
    let message = delivery.message().clone();
    delivery.ack().await.unwrap();
    assert_eq!(message.topic, DLQ);
    let code = message.headers[ERROR_CODE_HEADER].clone();
    (code, serde_json::from_slice(&message.payload).unwrap())
}

#[tokio::test]
async fn the_host_serves_the_demo_requests_and_dead_letters_the_bad_ones() {
    let bus: Arc<dyn EventBus> = Arc::new(InMemoryBus::new());
    let host = quickstart::serve(Arc::clone(&bus)).await.unwrap();
    assert!(host.health().await.is_ready());
    assert_eq!(host.dlq_topic("user_directory"), Some(DLQ));
    let mut dlq = bus
        .subscribe(DLQ, SubscribeOptions::default())
        .await
        .unwrap();
    let ask = |topic: &str, json: &'static [u8]| bus.request(BusMessage::new(topic, json), WAIT);

    let ada = json!({"id": 1, "username": "ada", "email": "ada@example.org", "age": 36});
    let created = reply(ask(CREATE_USER, requests::CREATE_ADA).await.unwrap());
    assert_eq!(created.payload, ada);
    assert_eq!(text(created.correlation_id), correlation(1));
    assert!(created.causation_id().is_some());
    reply(ask(CREATE_USER, requests::CREATE_GRACE).await.unwrap());
    assert_eq!(
        reply(ask(GET_USER, requests::GET_ADA).await.unwrap()).payload,
        ada
    );
    let list = reply(ask(LIST_USERS, requests::LIST).await.unwrap());
    assert_eq!(list.payload["total"], 2);

    // Permanent errors: answered with the typed error, dead-lettered after one delivery.
    let bad = [
        (requests::MALFORMED, ErrorCode::InvalidInput, None),
        (
            requests::UNKNOWN_OPERATION,
            ErrorCode::UnsupportedOperation,
            correlation(6),
        ),
        (
            requests::INVALID_CREATE,
            ErrorCode::Validation,
            correlation(7),
        ),
    ];
    for (request, code, correlation_id) in bad {
        let e = error_reply(ask(GET_USER, request).await.unwrap());
        assert_eq!(*e.code(), code);
        assert_eq!(text(e.correlation_id()), correlation_id);
        let (header, letter) = dead_letter(&mut dlq).await;
        assert_eq!(header, code.as_str());
        assert_eq!(letter["error"]["error_code"], code.as_str());
        assert_eq!(letter["attempts"], 1);
        assert_eq!(letter["node"], "user_directory");
        assert_eq!(letter["topic"], GET_USER);
    }

    // The handler's error is transient: three deliveries, then the DLQ.
    let e = error_reply(ask(GET_USER, requests::GET_MISSING).await.unwrap());
    assert_eq!(*e.code(), ErrorCode::OperationFailed);
    assert_eq!(e.message(), "no user named 'linus'");
    let (header, letter) = dead_letter(&mut dlq).await;
    assert_eq!(header, ErrorCode::OperationFailed.as_str());
    assert_eq!(letter["attempts"], quickstart::host_config().max_deliver);
    assert_eq!(letter["envelope"]["payload"]["username"], "linus");

    // Still serving; nothing changed.
    let list = reply(ask(LIST_USERS, requests::LIST).await.unwrap());
    assert_eq!(list.payload["total"], 2);

    let report = host.shutdown().await;
    assert!(!report.timed_out);
    assert_eq!(
        report.stats,
        [NodeStats {
            node: "user_directory",
            received: 11,
            succeeded: 5,
            failed: 6,
            retried: 2,
            dead_lettered: 4,
            redelivered: 2,
            in_flight: 0,
        }]
    );
}

// ---------------------------------------------------------------------------------------
// The binary.

/// Runs `quickstart` with `args`, no `RUST_LOG` and no stdin.
fn quickstart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_quickstart"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn stdout_of(output: &Output) -> String {
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(
        output.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// What every run of the demo prints, whichever bus.
fn assert_demo(stdout: &str) {
    for n in 1..=10 {
        assert!(
            stdout.contains(&format!("\n--- {n}. ")),
            "step {n}:\n{stdout}"
        );
    }
    assert_eq!(stdout.matches("  -> request ").count(), 10, "{stdout}");
    assert_eq!(stdout.matches("  <- reply ").count(), 6, "{stdout}");
    assert_eq!(stdout.matches("  <- error ").count(), 4, "{stdout}");
    assert!(
        stdout.contains(r#"payload={"age":36,"email":"ada@example.org","id":1,"username":"ada"}"#)
    );
    assert!(stdout.contains(r#"api_token: "<redacted>""#), "{stdout}");
    assert!(
        stdout.contains("unsupported operation 'user.delete'"),
        "{stdout}"
    );
    assert!(stdout.contains("no user named 'linus'"), "{stdout}");
    for (code, deliveries) in [
        ("ONEX_CORE_007_INVALID_INPUT", "1 delivery"),
        ("ONEX_CORE_084_UNSUPPORTED_OPERATION", "1 delivery"),
        ("ONEX_CORE_006_VALIDATION_ERROR", "1 delivery"),
        ("ONEX_CORE_081_OPERATION_FAILED", "3 deliveries"),
    ] {
        let line = format!("dead letter on {DLQ}: {code} after {deliveries}");
        assert!(stdout.contains(&line), "{line}:\n{stdout}");
    }
    assert!(
        stdout.contains(&format!("4 dead letters landed on {DLQ}")),
        "{stdout}"
    );
    assert!(
        stdout.contains("UserList(ModelUserPage { users: [ModelUser { id: 1"),
        "{stdout}"
    );
    assert!(stdout.contains("Host health: ready"), "{stdout}");
    assert!(
        stdout.contains(
            "user_directory  received=12 succeeded=6 failed=6 retried=2 dead_lettered=4 \
             redelivered=2 in_flight=0"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Shutdown: graceful;"), "{stdout}");
    assert!(stdout.contains("0 abandoned"), "{stdout}");
    assert!(
        stdout.ends_with("Done: every request got a reply or a typed error; nothing panicked.\n")
    );
}

#[test]
fn the_default_run_prints_every_step() {
    let output = quickstart(&[]);
    let stdout = stdout_of(&output);
    assert!(
        stdout.starts_with("onex quickstart (bus: memory)\n"),
        "{stdout}"
    );
    assert_demo(&stdout);
    assert!(
        stdout.contains("bus          memory (connected)"),
        "{stdout}"
    );
    assert!(
        output.stderr.is_empty(),
        "no logs without RUST_LOG: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn metrics_addr_serves_the_hosts_metrics() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let stdout = stdout_of(&quickstart(&["--metrics-addr", &addr]));
    assert!(
        stdout.contains(&format!("Prometheus metrics at http://{addr}/metrics")),
        "{stdout}"
    );
    // Counts settled long before the scrape (the last `ok` may still be settling).
    for series in [
        r#"onex_envelopes_total{node="user_directory",outcome="dlq"} 4"#,
        r#"onex_envelopes_total{node="user_directory",outcome="retry"} 2"#,
        r#"onex_dead_letters_total{node="user_directory"} 4"#,
        r#"onex_envelope_duration_seconds_count{node="user_directory"}"#,
    ] {
        assert!(stdout.contains(series), "{series}:\n{stdout}");
    }
    assert_demo(&stdout);
}

#[test]
fn log_format_json_writes_json_lines_to_stderr() {
    let output = quickstart(&["--log-format", "json"]);
    assert_demo(&stdout_of(&output));
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<JsonValue> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|line| line["span"]["name"] == "onex.envelope"
                && line["span"]["node"] == "user_directory"
                && line["span"]["operation"] == "user.create"),
        "{stderr}"
    );
    assert!(
        lines.iter().any(
            |line| line["fields"]["message"] == "dead-lettered" && line["fields"]["dlq"] == DLQ
        ),
        "{stderr}"
    );
}

#[test]
fn without_nats_the_error_says_how_to_start_it() {
    let output = quickstart(&["--bus", "nats", "--nats-url", "nats://127.0.0.1:1"]);
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "nothing starts without NATS");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("cannot connect to NATS at nats://127.0.0.1:1"),
        "{stderr}"
    );
    assert!(stderr.contains("nats-server -js"), "{stderr}");

    let output = quickstart(&["serve"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("use it with `--bus nats`"), "{stderr}");
}

/// The number after `key` in `text`.
fn number_after(text: &str, key: &str) -> u32 {
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no `{key}` in:\n{text}"))
        + key.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

#[test]
#[ignore = "needs NATS at 127.0.0.1:4222"]
fn bus_nats_runs_the_demo_across_two_processes() {
    let stdout = stdout_of(&quickstart(&["--bus", "nats"]));
    assert!(
        stdout.starts_with("onex quickstart (bus: nats)\n"),
        "{stdout}"
    );
    assert_demo(&stdout);
    let requester = number_after(&stdout, "requester pid=");
    // Printed by the child itself, relayed with the pid its parent spawned.
    let host = number_after(&stdout, "ready pid=");
    assert_ne!(requester, host, "two processes");
    for line in [
        format!("[pid {host}] ready pid={host} bus=nats node=user_directory health=ready"),
        format!("[pid {host}] stopping: stdin closed"),
        format!("[pid {host}]   bus          nats (connected)"),
        format!("[pid {host}] Shutdown: graceful;"),
        format!("[pid {host}]   user_directory  received=12 succeeded=6"),
    ] {
        assert!(stdout.contains(&line), "{line}:\n{stdout}");
    }
}
