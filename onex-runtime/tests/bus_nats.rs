//! `NatsBus` against a live NATS server with JetStream (127.0.0.1:4222), plus one test that
//! runs a private `nats-server` (`/usr/sbin/nats-server`) to kill and restart it.
//!
//! ```sh
//! cargo test -p onex-runtime --features nats --test bus_nats -- --ignored
//! ```
//!
//! Every test works in its own topic family `test.<uuid>` (the tests' bus configuration
//! makes `test.*` families two segments deep), so each gets its own stream, which it deletes
//! at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use onex_runtime::bus::{
    BusHealth, BusMessage, Delivery, EventBus, NatsBus, NatsBusConfig, SubscribeOptions,
    Subscription,
};
use onex_runtime::{ErrorCode, Uuid};

/// How long a test waits for a delivery it expects (generous: the VM may be loaded).
const PATIENCE: Duration = Duration::from_secs(30);

fn config() -> NatsBusConfig {
    NatsBusConfig::default().family_depth_for("test", 2)
}

/// A fresh topic family: `test.<uuid>`.
fn family() -> String {
    format!("test.{}", Uuid::new_v4().simple())
}

async fn bus() -> NatsBus {
    NatsBus::connect(config())
        .await
        .expect("NATS with JetStream at 127.0.0.1:4222")
}

fn options(ack_wait: Duration, max_deliver: u32) -> SubscribeOptions {
    SubscribeOptions {
        ack_wait,
        max_deliver,
        ..SubscribeOptions::default()
    }
}

/// The next delivery, failing the test if none comes within [`PATIENCE`].
async fn next(sub: &mut Subscription) -> Delivery {
    match tokio::time::timeout(PATIENCE, sub.next()).await {
        Ok(Some(Ok(delivery))) => delivery,
        Ok(Some(Err(err))) => panic!("subscription error: {err}"),
        Ok(None) => panic!("subscription ended"),
        Err(_) => panic!("no delivery within {PATIENCE:?}"),
    }
}

/// Asserts that nothing is delivered for `wait`.
async fn nothing_for(sub: &mut Subscription, wait: Duration) {
    if let Ok(item) = tokio::time::timeout(wait, sub.next()).await {
        panic!("expected no delivery, got {item:?}");
    }
}

fn payload(delivery: &Delivery) -> String {
    String::from_utf8(delivery.message().payload.to_vec()).expect("UTF-8 payload")
}

/// Deletes the family's stream (and so its consumers).
async fn cleanup(bus: &NatsBus, family: &str) {
    let stream = bus.stream_for(family).expect("stream name");
    bus.jetstream().delete_stream(&stream).await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn publish_subscribe_ack() {
    let bus = bus().await;
    assert_eq!(bus.name(), "nats");
    assert_eq!(bus.health().await, BusHealth::Connected);
    let family = family();
    let topic = format!("{family}.greeter.greet.v1");
    let mut exact = bus
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    let mut wildcard = bus
        .subscribe(&format!("{family}.*.greet.v1"), SubscribeOptions::default())
        .await
        .unwrap();
    for i in 0..3 {
        bus.publish(BusMessage::new(&topic, format!("m{i}")))
            .await
            .unwrap();
    }
    for sub in [&mut exact, &mut wildcard] {
        for i in 0..3 {
            let delivery = next(sub).await;
            assert_eq!(payload(&delivery), format!("m{i}"));
            assert_eq!(delivery.attempt(), 1);
            assert_eq!(delivery.message().topic, topic);
            assert_eq!(delivery.message().reply_to, None);
            assert!(delivery.message().headers.is_empty());
            delivery.ack().await.unwrap();
        }
    }
    nothing_for(&mut exact, Duration::from_secs(2)).await;
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn nack_with_delay_redelivers_as_attempt_2() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.work");
    let mut sub = bus
        .subscribe(&topic, options(Duration::from_secs(30), 5))
        .await
        .unwrap();
    bus.publish(BusMessage::new(&topic, "job")).await.unwrap();
    let first = next(&mut sub).await;
    assert_eq!(first.attempt(), 1);
    first.nack(Some(Duration::from_millis(300))).await.unwrap();
    let second = next(&mut sub).await;
    assert_eq!(second.attempt(), 2);
    assert_eq!(payload(&second), "job");
    second.ack().await.unwrap();
    nothing_for(&mut sub, Duration::from_secs(1)).await;
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn term_is_never_redelivered() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.work");
    let mut sub = bus
        .subscribe(&topic, options(Duration::from_secs(1), 5))
        .await
        .unwrap();
    bus.publish(BusMessage::new(&topic, "poison"))
        .await
        .unwrap();
    next(&mut sub).await.term().await.unwrap();
    // Three ack_waits: a redelivery would have happened by now.
    nothing_for(&mut sub, Duration::from_secs(3)).await;
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn dropped_delivery_is_redelivered_after_ack_wait() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.work");
    let mut sub = bus
        .subscribe(&topic, options(Duration::from_secs(1), 5))
        .await
        .unwrap();
    bus.publish(BusMessage::new(&topic, "lost")).await.unwrap();
    let first = next(&mut sub).await;
    assert_eq!(first.attempt(), 1);
    drop(first);
    let again = next(&mut sub).await;
    assert_eq!(again.attempt(), 2);
    assert_eq!(payload(&again), "lost");
    again.ack().await.unwrap();
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn durable_consumer_resumes_after_the_subscription_is_dropped() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.jobs");
    let durable = SubscribeOptions {
        ack_wait: Duration::from_secs(2),
        ..SubscribeOptions::durable("worker.v1")
    };
    // Published before the durable consumer exists: it starts at the stream's beginning.
    for i in 0..100 {
        bus.publish(BusMessage::new(&topic, i.to_string()))
            .await
            .unwrap();
    }
    let mut acked = BTreeSet::new();
    {
        let mut sub = bus.subscribe(&topic, durable.clone()).await.unwrap();
        for _ in 0..30 {
            let delivery = next(&mut sub).await;
            acked.insert(payload(&delivery).parse::<u32>().unwrap());
            delivery.ack().await.unwrap();
        }
    }
    bus.flush().await.unwrap();
    assert_eq!(acked.len(), 30);

    let mut sub = bus.subscribe(&topic, durable).await.unwrap();
    let mut rest = BTreeSet::new();
    while rest.len() < 70 {
        let delivery = next(&mut sub).await;
        let i = payload(&delivery).parse::<u32>().unwrap();
        assert!(
            !acked.contains(&i),
            "message {i} was acked, yet redelivered"
        );
        rest.insert(i);
        delivery.ack().await.unwrap();
    }
    let all: BTreeSet<u32> = acked.union(&rest).copied().collect();
    assert_eq!(all, (0..100).collect::<BTreeSet<u32>>(), "none lost");
    nothing_for(&mut sub, Duration::from_secs(3)).await;
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn competing_consumers_share_one_durable() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.jobs");
    let shared = SubscribeOptions {
        max_in_flight: 4,
        ..SubscribeOptions::durable("pool")
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = Vec::new();
    for worker in 0..2 {
        let mut sub = bus.subscribe(&topic, shared.clone()).await.unwrap();
        let tx = tx.clone();
        workers.push(tokio::spawn(async move {
            while let Some(Ok(delivery)) = sub.next().await {
                let i = payload(&delivery).parse::<u32>().unwrap();
                // Slow workers: the other one gets its share meanwhile.
                tokio::time::sleep(Duration::from_millis(20)).await;
                delivery.ack().await.unwrap();
                if tx.send((worker, i)).is_err() {
                    break;
                }
            }
        }));
    }
    for i in 0..40 {
        bus.publish(BusMessage::new(&topic, i.to_string()))
            .await
            .unwrap();
    }
    let mut seen = BTreeMap::new();
    for _ in 0..40 {
        let (worker, i) = tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .expect("all 40 processed in time")
            .expect("workers alive");
        assert!(
            seen.insert(i, worker).is_none(),
            "message {i} processed twice"
        );
    }
    assert_eq!(seen.len(), 40);
    for worker in 0..2 {
        assert!(
            seen.values().any(|w| *w == worker),
            "worker {worker} got no message: {seen:?}"
        );
    }
    // Nothing more: every message went to exactly one worker.
    let extra = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
    assert!(extra.is_err(), "unexpected extra delivery {extra:?}");
    for worker in workers {
        worker.abort();
    }
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn duplicate_message_ids_are_dropped() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.events");
    let mut sub = bus
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    let id = Uuid::new_v4().to_string();
    bus.publish(BusMessage::new(&topic, "first").with_id(&id))
        .await
        .unwrap();
    bus.publish(BusMessage::new(&topic, "second").with_id(&id))
        .await
        .unwrap();
    bus.publish(BusMessage::new(&topic, "third").with_id(Uuid::new_v4().to_string()))
        .await
        .unwrap();
    let first = next(&mut sub).await;
    assert_eq!(payload(&first), "first");
    assert_eq!(first.message().id(), Some(id.as_str()));
    first.ack().await.unwrap();
    let third = next(&mut sub).await;
    assert_eq!(payload(&third), "third", "the duplicate was delivered");
    third.ack().await.unwrap();
    nothing_for(&mut sub, Duration::from_secs(1)).await;
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn max_deliver_is_respected() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.work");
    let mut sub = bus
        .subscribe(&topic, options(Duration::from_secs(1), 3))
        .await
        .unwrap();
    bus.publish(BusMessage::new(&topic, "flaky")).await.unwrap();
    for attempt in 1..=3 {
        let delivery = next(&mut sub).await;
        assert_eq!(delivery.attempt(), attempt);
        delivery.nack(None).await.unwrap();
    }
    nothing_for(&mut sub, Duration::from_secs(3)).await;
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn request_and_respond_round_trip() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.svc.ping");
    let reply_topic = format!("{family}.svc.pong");
    let mut sub = bus
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    let responder = bus.clone();
    let (seen_tx, seen_rx) = tokio::sync::oneshot::channel();
    let reply_topic_for_task = reply_topic.clone();
    let task = tokio::spawn(async move {
        let delivery = next(&mut sub).await;
        let request = delivery.message().clone();
        let reply_to = request.reply_to.clone().expect("a reply address");
        let mut payload = b"pong:".to_vec();
        payload.extend_from_slice(&request.payload);
        responder
            .respond(
                &reply_to,
                BusMessage::new(reply_topic_for_task, payload).with_header("x-answer", "42"),
            )
            .await
            .unwrap();
        delivery.ack().await.unwrap();
        seen_tx.send(request).ok();
    });
    let reply = bus
        .request(
            BusMessage::new(&topic, "ping").with_header("x-question", "1"),
            PATIENCE,
        )
        .await
        .unwrap();
    assert_eq!(&reply.payload[..], b"pong:ping");
    assert_eq!(reply.topic, reply_topic);
    assert_eq!(
        reply.headers,
        BTreeMap::from([("x-answer".to_owned(), "42".to_owned())])
    );
    assert_eq!(reply.reply_to, None);
    let request = seen_rx.await.unwrap();
    assert_eq!(
        request.headers,
        BTreeMap::from([("x-question".to_owned(), "1".to_owned())])
    );
    assert!(request.reply_to.unwrap().starts_with("_INBOX."));
    task.await.unwrap();
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn request_without_responder_times_out() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.svc.nobody");
    let err = bus
        .request(
            BusMessage::new(&topic, "hello?"),
            Duration::from_millis(500),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), &ErrorCode::Timeout, "{err}");
    assert_eq!(err.context()["topic"], topic.as_str());
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn headers_round_trip() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.events");
    let mut sub = bus
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    let sent = BusMessage::new(&topic, &b"\x00binary\xffpayload"[..])
        .with_id(Uuid::new_v4().to_string())
        .with_header("correlation-id", Uuid::new_v4().to_string())
        .with_header("X-Mixed-Case", "Value With Spaces")
        .with_header("x-json", r#"{"a":[1,2]}"#)
        .with_header("x-unicode", "grüße ✓");
    bus.publish(sent.clone()).await.unwrap();
    let delivery = next(&mut sub).await;
    assert_eq!(delivery.message(), &sent);
    delivery.ack().await.unwrap();
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn invalid_input_is_rejected() {
    let bus = bus().await;
    for pattern in [">", "*.x", "test.*.x", "onex.>", "a..b"] {
        let err = bus
            .subscribe(pattern, SubscribeOptions::default())
            .await
            .err()
            .unwrap_or_else(|| panic!("`{pattern}` was accepted"));
        assert_eq!(err.code(), &ErrorCode::InvalidInput, "{pattern}: {err}");
    }
    let family = family();
    for topic in [format!("{family}.*"), String::new()] {
        let err = bus.publish(BusMessage::new(topic, "x")).await.unwrap_err();
        assert_eq!(err.code(), &ErrorCode::InvalidInput, "{err}");
    }
    let bad_header = BusMessage::new(format!("{family}.x"), "x").with_header("bad name", "v");
    let err = bus.publish(bad_header).await.unwrap_err();
    assert_eq!(err.code(), &ErrorCode::InvalidInput, "{err}");
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn unreachable_server_is_a_typed_error_or_disconnected_health() {
    let dead = NatsBusConfig::new("nats://127.0.0.1:1")
        .connect_timeout(Duration::from_secs(2))
        .api_timeout(Duration::from_secs(1));
    let err = tokio::time::timeout(PATIENCE, NatsBus::connect(dead.clone()))
        .await
        .expect("connect gives up")
        .unwrap_err();
    assert_eq!(err.code(), &ErrorCode::EventBus, "{err}");
    assert!(err.message().contains("127.0.0.1:1"), "{err}");

    let bus = NatsBus::connect_lazy(dead).await.unwrap();
    match bus.health().await {
        BusHealth::Disconnected(reason) => assert!(reason.contains("127.0.0.1:1"), "{reason}"),
        BusHealth::Connected => panic!("connected to a dead port"),
    }
    let err = tokio::time::timeout(PATIENCE, bus.publish(BusMessage::new("demo.x", "x")))
        .await
        .expect("publish gives up")
        .unwrap_err();
    assert_eq!(err.code(), &ErrorCode::EventBus, "{err}");

    let err = NatsBus::connect(NatsBusConfig::new("not a url at all"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), &ErrorCode::EventBus, "{err}");
}

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
        let store = std::env::temp_dir().join(format!("onex-nats-{}", Uuid::new_v4().simple()));
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

/// Polls the bus's health until it is (or is not) connected, up to [`PATIENCE`].
async fn wait_for_health(bus: &NatsBus, connected: bool) -> BusHealth {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let health = bus.health().await;
        if health.is_connected() == connected || tokio::time::Instant::now() > deadline {
            return health;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn recovers_when_the_server_starts_dies_and_comes_back() {
    let mut server = PrivateServer::new();
    let bus = NatsBus::connect_lazy(
        config()
            .url(server.url())
            .reconnect_delay_max(Duration::from_millis(250))
            .api_timeout(Duration::from_secs(2)),
    )
    .await
    .unwrap();
    assert!(matches!(bus.health().await, BusHealth::Disconnected(_)));

    server.start();
    let health = wait_for_health(&bus, true).await;
    assert_eq!(health, BusHealth::Connected);
    let family = family();
    let topic = format!("{family}.stored");
    for i in 0..5 {
        bus.publish(BusMessage::new(&topic, i.to_string()).with_id(format!("stored-{i}")))
            .await
            .unwrap();
    }

    server.kill();
    let health = wait_for_health(&bus, false).await;
    assert!(matches!(health, BusHealth::Disconnected(_)), "{health:?}");
    // While the server is down, a publish fails with a typed error instead of hanging.
    // (Another topic: the client may still send it once reconnected.)
    let down = bus
        .publish(BusMessage::new(format!("{family}.while_down"), "x"))
        .await
        .unwrap_err();
    assert_eq!(down.code(), &ErrorCode::EventBus, "{down}");

    server.start();
    let health = wait_for_health(&bus, true).await;
    assert_eq!(health, BusHealth::Connected);
    // JetStream may need a moment to recover its streams after the restart.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut sub = loop {
        match bus
            .subscribe(&topic, SubscribeOptions::durable("after"))
            .await
        {
            Ok(sub) => break sub,
            Err(err) if tokio::time::Instant::now() < deadline => {
                eprintln!("subscribe after restart: {err}; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => panic!("cannot subscribe after restart: {err}"),
        }
    };
    let mut stored = Vec::new();
    for _ in 0..5 {
        let delivery = next(&mut sub).await;
        stored.push(payload(&delivery));
        delivery.ack().await.unwrap();
    }
    assert_eq!(stored, ["0", "1", "2", "3", "4"]);
    bus.publish(BusMessage::new(&topic, "5")).await.unwrap();
    assert_eq!(payload(&next(&mut sub).await), "5");
}

/// The next delivery, skipping error items (reported while the server is away).
async fn next_skipping_errors(sub: &mut Subscription) -> Delivery {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        match tokio::time::timeout_at(deadline, sub.next()).await {
            Ok(Some(Ok(delivery))) => return delivery,
            Ok(Some(Err(err))) => eprintln!("subscription error (skipped): {err}"),
            Ok(None) => panic!("subscription ended"),
            Err(_) => panic!("no delivery within {PATIENCE:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn live_subscriptions_survive_a_server_restart() {
    let mut server = PrivateServer::new();
    server.start();
    let bus = NatsBus::connect_lazy(
        config()
            .url(server.url())
            .reconnect_delay_max(Duration::from_millis(250))
            .api_timeout(Duration::from_secs(2)),
    )
    .await
    .unwrap();
    assert_eq!(wait_for_health(&bus, true).await, BusHealth::Connected);
    let family = family();
    let topic = format!("{family}.live");
    let mut durable = bus
        .subscribe(&topic, SubscribeOptions::durable("live"))
        .await
        .unwrap();
    let mut ephemeral = bus
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    bus.publish(BusMessage::new(&topic, "before"))
        .await
        .unwrap();
    for sub in [&mut durable, &mut ephemeral] {
        let delivery = next(sub).await;
        assert_eq!(payload(&delivery), "before");
        delivery.ack().await.unwrap();
    }

    server.kill();
    assert!(!wait_for_health(&bus, false).await.is_connected());
    server.start();
    assert_eq!(wait_for_health(&bus, true).await, BusHealth::Connected);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while let Err(err) = bus
        .publish(BusMessage::new(&topic, "after").with_id("after"))
        .await
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "publish after restart: {err}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let delivery = next_skipping_errors(&mut durable).await;
    assert_eq!(payload(&delivery), "after");
    delivery.ack().await.unwrap();
    let delivery = next_skipping_errors(&mut ephemeral).await;
    assert_eq!(payload(&delivery), "after");
    delivery.ack().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn a_stream_deleted_behind_the_bus_is_recreated() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.events");
    bus.publish(BusMessage::new(&topic, "one")).await.unwrap();
    cleanup(&bus, &family).await;
    // The bus still remembers the stream; the publish finds out and recreates it.
    bus.publish(BusMessage::new(&topic, "two")).await.unwrap();
    cleanup(&bus, &family).await;
    let mut sub = bus
        .subscribe(&topic, SubscribeOptions::durable("again"))
        .await
        .unwrap();
    bus.publish(BusMessage::new(&topic, "three")).await.unwrap();
    let delivery = next(&mut sub).await;
    assert_eq!(payload(&delivery), "three");
    delivery.ack().await.unwrap();
    cleanup(&bus, &family).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn an_existing_stream_holding_the_family_is_used() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.events");
    let other = format!("OTHER_{}", Uuid::new_v4().simple());
    bus.jetstream()
        .create_stream(async_nats::jetstream::stream::Config {
            name: other.clone(),
            subjects: vec![format!("{family}.>")],
            ..Default::default()
        })
        .await
        .unwrap();
    let mut sub = bus
        .subscribe(&topic, SubscribeOptions::default())
        .await
        .unwrap();
    bus.publish(BusMessage::new(&topic, "x")).await.unwrap();
    let delivery = next(&mut sub).await;
    assert_eq!(payload(&delivery), "x");
    delivery.ack().await.unwrap();
    let info = bus.jetstream().get_stream(&other).await.unwrap();
    assert_eq!(info.cached_info().state.messages, 1);
    bus.jetstream().delete_stream(&other).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs NATS at 127.0.0.1:4222"]
async fn a_durable_consumer_takes_changed_settings() {
    let bus = bus().await;
    let family = family();
    let topic = format!("{family}.jobs");
    drop(
        bus.subscribe(&topic, SubscribeOptions::durable("svc"))
            .await
            .unwrap(),
    );
    let changed = SubscribeOptions {
        ack_wait: Duration::from_secs(5),
        max_deliver: 2,
        max_in_flight: 10,
        ..SubscribeOptions::durable("svc")
    };
    let _sub = bus.subscribe(&topic, changed).await.unwrap();
    let stream = bus
        .jetstream()
        .get_stream(bus.stream_for(&topic).unwrap())
        .await
        .unwrap();
    let info = stream
        .consumer_info(NatsBus::consumer_name("svc", &topic))
        .await
        .unwrap();
    assert_eq!(info.config.ack_wait, Duration::from_secs(5));
    assert_eq!(info.config.max_deliver, 2);
    assert_eq!(info.config.max_ack_pending, 10);
    assert_eq!(info.config.filter_subject, topic);
    cleanup(&bus, &family).await;
}
