//! The client side of the demo: sends the requests of [`quickstart::requests`] with
//! `bus.request(..)`, prints each reply or typed error, and what landed on the DLQ topic.
//! It knows nothing of the host but its topics, so it runs the same against a host in this
//! process (`--bus memory`) or in another one (`--bus nats`).

use std::borrow::Cow;
use std::time::Duration;

use futures_util::StreamExt;
use onex_runtime::bus::{BusMessage, EventBus, SubscribeOptions, Subscription};
use onex_runtime::host::{ERROR_CODE_HEADER, ERROR_PAYLOAD_TYPE, dlq_topic};
use onex_runtime::{EffectNode, Envelope, JsonValue, NodeInput, NodeOutput, OnexError, Uuid};
use quickstart::user_directory::{
    ModelListUsers, TOPIC_ONEX_CMD_USER_DIRECTORY_CREATE_USER_V1 as CREATE_USER,
    TOPIC_ONEX_CMD_USER_DIRECTORY_GET_USER_V1 as GET_USER,
    TOPIC_ONEX_CMD_USER_DIRECTORY_LIST_USERS_V1 as LIST_USERS,
};
use quickstart::{UserDirectory, UserDirectoryInput, UserDirectoryOutput, host_config, requests};

use crate::Fallible;

/// How long a request waits for its reply (a transient failure is retried before the host
/// answers: 100 ms + 200 ms of backoff with the quickstart's settings).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// How long to wait for the dead letter of a request the host gave up on (it is published
/// before the requester is answered, so it is normally there already).
const DEAD_LETTER_WAIT: Duration = Duration::from_secs(10);

/// The banner and what the demo is about to show.
pub fn intro(bus: &str) {
    let title = format!("onex quickstart (bus: {bus})");
    println!("{title}\n{}", "=".repeat(title.len()));
    println!(
        "`UserDirectory` is an ONEX EFFECT node. `#[effect_node(contract = \"contract.yaml\")]`\n\
         read src/contract.yaml at compile time and generated its models, its operation enum\n\
         and the `UserDirectoryHandler` trait that src/lib.rs implements. A `NodeHost` serves\n\
         it from an event bus: it consumes the contract's subscribe topics and hands each JSON\n\
         envelope to the node. Below, requests go out with `bus.request(..)`; each comes back\n\
         as a reply envelope, or as the typed `OnexError` the host answers with when it gives\n\
         up on a request (and sends it to the contract's DLQ topic)."
    );
    match bus {
        "nats" => println!(
            "Here the host runs in a child process and the envelopes travel over NATS JetStream.\n"
        ),
        _ => println!("Here the host and the requests share one process and an `InMemoryBus`.\n"),
    }
    print_contract();
}

/// The closing line.
pub fn outro() {
    println!("\nDone: every request got a reply or a typed error; nothing panicked.");
}

/// Sends every request of the demo, in order, and prints what comes back.
///
/// # Errors
///
/// A request that gets no reply in time, or a bus failure: the demo stops there.
pub async fn run(bus: &dyn EventBus) -> Fallible {
    let dlq = dlq_topic(<UserDirectory as EffectNode>::CONTRACT).into_owned();
    // Subscribed before the first request: it sees every dead letter of this run.
    let dead_letters = bus.subscribe(&dlq, SubscribeOptions::default()).await?;
    let mut client = Client {
        bus,
        dlq,
        dead_letters,
        landed: 0,
    };

    step("1. Create a user (valid `user.create`)");
    client.send(CREATE_USER, requests::CREATE_ADA).await?;
    show_typed_input(requests::CREATE_ADA);

    step("2. Create another, without the optional `age`");
    client.send(CREATE_USER, requests::CREATE_GRACE).await?;

    step("3. Fetch one (`user.get`)");
    client.send(GET_USER, requests::GET_ADA).await?;

    step("4. List them (`user.list`; `limit` takes its contract default, 20)");
    client.send(LIST_USERS, requests::LIST).await?;

    step(
        "5. Malformed JSON: rejected before any handler runs and dead-lettered at once\n    \
         (no correlation id to keep)",
    );
    client.send(GET_USER, requests::MALFORMED).await?;

    step(
        "6. An operation the contract does not declare (the payload's `operation` picks the\n    \
         handler, not the topic): dead-lettered at once",
    );
    client.send(GET_USER, requests::UNKNOWN_OPERATION).await?;

    step(
        "7. A payload breaking the contract's constraints (all violations are listed):\n    \
         dead-lettered at once",
    );
    client.send(CREATE_USER, requests::INVALID_CREATE).await?;

    step(&format!(
        "8. The handler's own error: `OPERATION_FAILED` is transient to the host, so it\n    \
         redelivers the request (at most {} deliveries, with backoff), then dead-letters it",
        host_config().max_deliver
    ));
    client.send(GET_USER, requests::GET_MISSING).await?;

    step("9. The host kept serving, and the rejected requests changed nothing");
    client.send(LIST_USERS, requests::LIST).await?;

    step(
        "10. No hand-written JSON: the typed API (a generated `UserDirectoryInput` in,\n    \
         a `UserDirectoryOutput` out)",
    );
    let input = UserDirectoryInput::UserList(ModelListUsers { limit: 1 });
    client.send_typed(LIST_USERS, input).await?;

    println!(
        "\n{} dead letters landed on {} (each with its error code).",
        client.landed, client.dlq
    );
    Ok(())
}

/// The requesting side: a bus, and a subscription to the node's DLQ topic.
struct Client<'a> {
    bus: &'a dyn EventBus,
    dlq: String,
    dead_letters: Subscription,
    /// Dead letters seen so far.
    landed: usize,
}

impl Client<'_> {
    /// Sends one JSON envelope to `topic` and prints the outcome.
    async fn send(&mut self, topic: &str, json: &[u8]) -> Fallible {
        print_request(topic, json);
        let (json, envelope_id) = stamp(json);
        let request = BusMessage::new(topic, json).with_id(envelope_id.to_string());
        let reply = self.bus.request(request, REQUEST_TIMEOUT).await?;
        match reply_or_error(&reply.payload)? {
            Ok(reply) => println!(
                "  <- reply    correlation_id={}  payload_type={}\n              payload={}",
                text(reply.correlation_id),
                reply.payload_type.as_deref().unwrap_or("none"),
                reply.payload
            ),
            Err(error) => {
                print_error(&error);
                self.dead_letter(envelope_id).await;
            }
        }
        Ok(())
    }

    /// Sends a typed input (encoded by the generated code) and decodes the reply into the
    /// generated output enum.
    async fn send_typed(&mut self, topic: &str, input: UserDirectoryInput) -> Fallible {
        println!("  -> request  topic={topic}\n              {input:?}");
        let operation = NodeInput::operation(&input);
        let request = Envelope::new(input.encode()?)
            .with_correlation_id(Uuid::new_v4())
            .with_source_tool("quickstart");
        let message =
            BusMessage::new(topic, request.to_json()?).with_id(request.envelope_id.to_string());
        let reply = self.bus.request(message, REQUEST_TIMEOUT).await?;
        match reply_or_error(&reply.payload)? {
            Ok(reply) => {
                let output = <UserDirectoryOutput as NodeOutput>::decode(operation, reply.payload)?;
                println!(
                    "  <- reply    correlation_id={}\n              {output:?}",
                    text(reply.correlation_id)
                );
            }
            Err(error) => {
                print_error(&error);
                self.dead_letter(request.envelope_id).await;
            }
        }
        Ok(())
    }

    /// Waits for the dead letter of the request `envelope_id` and prints it.
    async fn dead_letter(&mut self, envelope_id: Uuid) {
        let id = envelope_id.to_string();
        let found = tokio::time::timeout(DEAD_LETTER_WAIT, async {
            while let Some(delivery) = self.dead_letters.next().await {
                let Ok(delivery) = delivery else { continue };
                let letter = delivery.message().clone();
                // Settled either way: the demo only watches the DLQ.
                let _ = delivery.ack().await;
                // A dead letter holds the original envelope (as text when it is not JSON).
                if String::from_utf8_lossy(&letter.payload).contains(&id) {
                    return Some(letter);
                }
            }
            None
        })
        .await;
        let Ok(Some(letter)) = found else {
            println!(
                "  dead letter: none on {} within {DEAD_LETTER_WAIT:?}",
                self.dlq
            );
            return;
        };
        self.landed += 1;
        let body: JsonValue = serde_json::from_slice(&letter.payload).unwrap_or_default();
        let attempts = body["attempts"].as_u64().unwrap_or(0);
        println!(
            "  dead letter on {}: {} after {attempts} deliver{}, from {}",
            letter.topic,
            letter
                .headers
                .get(ERROR_CODE_HEADER)
                .map_or("(no error code)", String::as_str),
            if attempts == 1 { "y" } else { "ies" },
            body["topic"].as_str().unwrap_or("?"),
        );
    }
}

/// A reply envelope, or the error the host answered with (an envelope whose `payload_type`
/// is `ModelOnexError` and whose payload is the error).
fn reply_or_error(bytes: &[u8]) -> Result<Result<Envelope<JsonValue>, OnexError>, OnexError> {
    let reply = Envelope::<JsonValue>::from_json(bytes)?;
    if reply.payload_type.as_deref() != Some(ERROR_PAYLOAD_TYPE) {
        return Ok(Ok(reply));
    }
    serde_json::from_value(reply.payload)
        .map(Err)
        .map_err(|e| OnexError::invalid_input(format!("unreadable error reply: {e}")))
}

/// A copy of a request with a fresh `envelope_id`, as any client gives each envelope it
/// sends. It matters here: the host names a dead letter after the envelope's id (or, without
/// one, after a hash of its bytes), and JetStream drops a message whose name it has seen in
/// the last two minutes, so running the demo twice in a row would lose the second run's
/// dead letters.
fn stamp(json: &[u8]) -> (Vec<u8>, Uuid) {
    let id = Uuid::new_v4();
    if let Ok(JsonValue::Object(mut envelope)) = serde_json::from_slice(json) {
        envelope.insert("envelope_id".to_owned(), id.to_string().into());
        if let Ok(stamped) = serde_json::to_vec(&envelope) {
            return (stamped, id);
        }
    }
    // Not JSON (the malformed request): the id goes in as text after the first `{`, so
    // the bytes still differ from one send to the next.
    let Some(brace) = json.iter().position(|&b| b == b'{') else {
        return (json.to_vec(), id);
    };
    let mut stamped = json[..=brace].to_vec();
    stamped.extend_from_slice(format!(" \"envelope_id\": \"{id}\",").as_bytes());
    stamped.extend_from_slice(&json[brace + 1..]);
    (stamped, id)
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
    let topics = |topics: &[&str]| topics.join("\n               ");
    println!("  subscribes   {}", topics(contract.subscribe_topics));
    println!("  publishes    {}", topics(contract.publish_topics));
    println!("  dead letters {}\n", dlq_topic(contract));
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

/// Prints a request as sent (before its `envelope_id` is stamped on).
fn print_request(topic: &str, json: &[u8]) {
    println!("  -> request  topic={topic}");
    match serde_json::from_slice::<JsonValue>(json) {
        Ok(request) => println!(
            "              correlation_id={}  payload={}",
            request["correlation_id"].as_str().unwrap_or("none"),
            request["payload"]
        ),
        Err(_) => println!(
            "              (not JSON) {}",
            String::from_utf8_lossy(json)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ),
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
            JsonValue::Object(e.context().clone())
        );
    }
}

fn text(id: Option<Uuid>) -> Cow<'static, str> {
    id.map_or(Cow::Borrowed("none"), |id| Cow::Owned(id.to_string()))
}
