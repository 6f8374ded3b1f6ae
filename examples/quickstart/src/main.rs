//! `cargo run -p quickstart`: one ONEX EFFECT node, driven in-process with JSON envelopes.
//!
//! No bus, no database, no network: the node's "outside world" is a map in memory.

use onex_runtime::{EffectNode, Envelope, JsonValue, NodeInput, OnexError};
use quickstart::{UserDirectory, UserDirectoryInput, requests, user_directory};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("onex quickstart");
    println!("===============");
    println!(
        "`UserDirectory` is an ONEX EFFECT node. `#[effect_node(contract = \"contract.yaml\")]`\n\
         read src/contract.yaml at compile time and generated its models, its operation enum\n\
         and the `UserDirectoryHandler` trait that src/lib.rs implements. Below, JSON\n\
         envelopes go in through `process_json` (what a bus consumer would call) and either\n\
         a reply envelope or a typed `OnexError` comes out.\n"
    );

    print_contract();

    let node = UserDirectory::default();

    step("1. Create a user (valid `user.create`)");
    send(&node, requests::CREATE_ADA).await;
    show_typed_input(requests::CREATE_ADA);

    step("2. Create another, without the optional `age`");
    send(&node, requests::CREATE_GRACE).await;

    step("3. Fetch one (`user.get`)");
    send(&node, requests::GET_ADA).await;

    step("4. List them (`user.list`; `limit` takes its contract default, 20)");
    send(&node, requests::LIST).await;

    step("5. Malformed JSON: rejected before any handler runs (no correlation id to keep)");
    send(&node, requests::MALFORMED).await;

    step("6. An operation the contract does not declare");
    send(&node, requests::UNKNOWN_OPERATION).await;

    step("7. A payload breaking the contract's constraints (all violations are listed)");
    send(&node, requests::INVALID_CREATE).await;

    step("8. The handler's own error: fetching a user who is not there");
    send(&node, requests::GET_MISSING).await;

    step("9. No JSON at all: the typed API (`EffectNode::process`)");
    let request = Envelope::new(UserDirectoryInput::UserList(
        user_directory::ModelListUsers { limit: 1 },
    ));
    match node.process(request).await {
        Ok(reply) => println!("  <- reply    {:?}", reply.payload),
        Err(e) => print_error(&e),
    }

    println!("\nDone: every request got a reply or a typed error; nothing panicked.");
}

/// What the contract says, as embedded in the binary (`<UserDirectory as EffectNode>::CONTRACT`).
fn print_contract() {
    let contract = <UserDirectory as EffectNode>::CONTRACT;
    println!("Contract (embedded at compile time)");
    println!("  name         {}", contract.name);
    println!(
        "  kind         {:?} (node_type {})",
        contract.kind, contract.node_type
    );
    println!(
        "  versions     contract {}, node {}",
        contract.contract_version, contract.node_version
    );
    println!(
        "  fingerprint  {} (declared {}, {})",
        contract.fingerprint,
        contract.declared_fingerprint.unwrap_or("none"),
        if contract.fingerprint_drifted() {
            "DRIFTED"
        } else {
            "matches"
        }
    );
    println!("  routing      {:?}", contract.routing);
    println!("  operations");
    for op in contract.operations {
        println!(
            "    {:<12} {:<15} -> {:<13}  {}",
            op.name, op.input_type, op.output_type, op.description
        );
    }
    println!(
        "  subscribes   {}",
        contract.subscribe_topics.join("\n               ")
    );
    println!(
        "  publishes    {}",
        contract.publish_topics.join("\n               ")
    );
}

fn step(title: &str) {
    println!("\n--- {title}");
}

/// Decodes a request into the generated input enum and prints it with `Debug`: the secret
/// `api_token` is redacted.
fn show_typed_input(json: &[u8]) {
    let typed = Envelope::<JsonValue>::from_json(json).and_then(|envelope| {
        UserDirectoryInput::decode(envelope.payload_type.as_deref(), envelope.payload)
    });
    match typed {
        Ok(input) => println!(
            "  The same request decoded into the generated enum; `Debug` hides the secret:\n  \
             {input:?}"
        ),
        Err(e) => print_error(&e),
    }
}

/// Sends one JSON envelope through the node and prints the outcome.
async fn send(node: &UserDirectory, json: &[u8]) {
    match serde_json::from_slice::<JsonValue>(json) {
        Ok(request) => println!(
            "  -> request  correlation_id={}  payload={}",
            request["correlation_id"].as_str().unwrap_or("none"),
            request["payload"]
        ),
        Err(_) => println!(
            "  -> request  (not JSON) {}",
            String::from_utf8_lossy(json)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
    match node.process_json(json).await {
        Ok(reply) => println!(
            "  <- reply    correlation_id={}  payload_type={}  payload={}",
            reply
                .correlation_id
                .map_or_else(|| "none".to_owned(), |id| id.to_string()),
            reply.payload_type.as_deref().unwrap_or("none"),
            reply.payload
        ),
        Err(e) => print_error(&e),
    }
}

fn print_error(e: &OnexError) {
    println!("  <- error    {}", e.code());
    println!("              {}", e.message());
    if let Some(id) = e.correlation_id() {
        println!("              correlation_id={id}");
    }
    if !e.context().is_empty() {
        println!(
            "              context={}",
            serde_json::Value::Object(e.context().clone())
        );
    }
}
