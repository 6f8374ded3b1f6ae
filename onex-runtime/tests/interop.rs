//! Wire compatibility with the Python ONEX reference: every golden JSON file in
//! `../shared/onex-interop/` must deserialize and serialize back to the same JSON.

use std::fs;
use std::path::{Path, PathBuf};

use onex_runtime::{Envelope, ErrorCode, OnexError, SemVer};
use serde_json::Value;

/// The golden directory, or `None` (with the reason printed) when it is absent.
fn golden_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/onex-interop");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping ONEX interop goldens: {} is not a directory",
            dir.display()
        );
        None
    }
}

/// Every `*.json` file of the golden directory, sorted, with its name and contents.
fn goldens(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())))
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes =
                fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

fn is_error_golden(golden: &Value) -> bool {
    golden.get("error_code").is_some() && golden.get("payload").is_none()
}

#[test]
fn goldens_round_trip() {
    let Some(dir) = golden_dir() else { return };
    let files = goldens(&dir);
    assert!(!files.is_empty(), "no *.json goldens in {}", dir.display());
    let (mut envelopes, mut errors) = (0, 0);
    for (name, bytes) in files {
        let golden: Value =
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: not JSON: {e}"));
        if is_error_golden(&golden) {
            errors += 1;
            let err: OnexError = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{name}: does not deserialize as OnexError: {e}"));
            let back = serde_json::to_value(&err)
                .unwrap_or_else(|e| panic!("{name}: OnexError does not serialize: {e}"));
            assert_eq!(back, golden, "{name}: OnexError round trip differs");
            let again: OnexError = serde_json::from_value(back)
                .unwrap_or_else(|e| panic!("{name}: re-read failed: {e}"));
            assert_eq!(
                again, err,
                "{name}: OnexError changed on a second round trip"
            );
        } else {
            envelopes += 1;
            let env = Envelope::from_json(&bytes)
                .unwrap_or_else(|e| panic!("{name}: does not deserialize as Envelope: {e}"));
            assert_eq!(env.payload, golden["payload"], "{name}: payload");
            let out = env
                .to_json()
                .unwrap_or_else(|e| panic!("{name}: Envelope does not serialize: {e}"));
            let back: Value = serde_json::from_slice(&out)
                .unwrap_or_else(|e| panic!("{name}: output is not JSON: {e}"));
            assert_eq!(back, golden, "{name}: Envelope round trip differs");
            let again =
                Envelope::from_json(&out).unwrap_or_else(|e| panic!("{name}: re-read failed: {e}"));
            assert_eq!(
                again, env,
                "{name}: Envelope changed on a second round trip"
            );
        }
    }
    assert!(envelopes > 0, "no envelope goldens in {}", dir.display());
    assert!(errors > 0, "no error goldens in {}", dir.display());
}

#[test]
fn operation_match_golden_fields() {
    let Some(dir) = golden_dir() else { return };
    let path = dir.join("envelope_operation_match.json");
    let Ok(bytes) = fs::read(&path) else {
        eprintln!("skipping: {} is absent", path.display());
        return;
    };
    let env = Envelope::from_json(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        env.envelope_id.to_string(),
        "0b8f6a52-5a36-4c2f-9d0e-1f2a3b4c5d6e"
    );
    assert_eq!(
        env.correlation_id.map(|id| id.to_string()).as_deref(),
        Some("6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b")
    );
    assert_eq!(env.source_tool.as_deref(), Some("node_orchestrator"));
    assert_eq!(
        env.target_tool.as_deref(),
        Some("node_postgres_adapter_effect")
    );
    assert_eq!(
        env.event_type.as_deref(),
        Some("onex.cmd.postgres-adapter.query.v1")
    );
    assert_eq!(env.priority, 7);
    assert_eq!(env.timeout_seconds, Some(30));
    assert_eq!(env.retry_count, 1);
    assert_eq!(
        env.metadata.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(env.metadata.span_id.as_deref(), Some("00f067aa0ba902b7"));
    assert_eq!(
        env.metadata.headers.get("x-tenant").map(String::as_str),
        Some("acme")
    );
    assert_eq!(
        env.metadata
            .tags
            .get("message_category")
            .map(String::as_str),
        Some("command")
    );
    assert_eq!(env.payload["operation"], "postgres.query");
    assert_eq!(env.onex_version, SemVer::new(1, 0, 0));
    assert_eq!(env.envelope_version, SemVer::new(2, 1, 0));

    // The reply keeps the correlation id and records causation where the reference does.
    let (_, request) = env.take_payload();
    let reply = request.reply(serde_json::json!({"rows": []}));
    assert_eq!(reply.correlation_id, request.correlation_id);
    assert_eq!(reply.causation_id(), Some(request.envelope_id));
    assert_eq!(
        reply.metadata.parent_span_id.as_deref(),
        Some("00f067aa0ba902b7")
    );
}

#[test]
fn validation_error_golden_fields() {
    let Some(dir) = golden_dir() else { return };
    let path = dir.join("error_validation.json");
    let Ok(bytes) = fs::read(&path) else {
        eprintln!("skipping: {} is absent", path.display());
        return;
    };
    let err: OnexError = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(err.code(), ErrorCode::Validation);
    assert_eq!(
        err.message(),
        "input failed validation: sql must not be empty"
    );
    assert_eq!(
        err.correlation_id().map(|id| id.to_string()).as_deref(),
        Some("6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b")
    );
    assert_eq!(
        err.context().get("field").and_then(Value::as_str),
        Some("sql")
    );
    assert_eq!(
        err.context().get("operation").and_then(Value::as_str),
        Some("postgres.query")
    );

    // Built in Rust, the same error serializes to the same JSON.
    let golden: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"));
    let built = OnexError::validation("input failed validation: sql must not be empty")
        .with_correlation_id(err.correlation_id().unwrap_or_default())
        .with_context("field", "sql")
        .with_context("operation", "postgres.query");
    let mut built = serde_json::to_value(&built).unwrap_or_else(|e| panic!("{e}"));
    built["timestamp"] = golden["timestamp"].clone();
    assert_eq!(built, golden);
}
