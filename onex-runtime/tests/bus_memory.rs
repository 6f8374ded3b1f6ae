//! The in-memory event bus: delivery, settlement, durability, back-pressure, request–reply.
//!
//! Every test runs on tokio's paused clock, so waits for "nothing happens" and for timers
//! (ack wait, nack delays, request timeouts) cost no wall-clock time and are deterministic.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use onex_runtime::bus::{
    BusHealth, BusMessage, Delivery, EventBus, InMemoryBus, InMemoryBusConfig, SubscribeOptions,
    Subscription,
};
use onex_runtime::{ErrorCode, OnexError};
use tokio::time::{Instant, sleep, timeout};

/// Long enough for anything that should happen; on the paused clock it costs nothing.
const PATIENCE: Duration = Duration::from_secs(300);

/// The next delivery (panics if the stream ends or nothing comes).
async fn next(sub: &mut Subscription) -> Delivery {
    timeout(PATIENCE, sub.next())
        .await
        .expect("a delivery in time")
        .expect("the stream is open")
        .expect("not an error")
}

/// True if nothing is delivered within `wait`.
async fn quiet_for(sub: &mut Subscription, wait: Duration) -> bool {
    timeout(wait, sub.next()).await.is_err()
}

/// Acks everything that arrives until the stream stays quiet for a minute; returns the
/// payloads.
async fn drain(sub: &mut Subscription) -> Vec<String> {
    let mut seen = Vec::new();
    while let Ok(Some(delivery)) = timeout(Duration::from_secs(60), sub.next()).await {
        let delivery = delivery.expect("not an error");
        seen.push(text(&delivery));
        delivery.ack().await.expect("ack");
    }
    seen
}

fn text(delivery: &Delivery) -> String {
    String::from_utf8(delivery.message().payload.to_vec()).expect("utf-8 payload")
}

fn msg(topic: &str, payload: impl Into<String>) -> BusMessage {
    BusMessage::new(topic, payload.into())
}

fn durable(name: &str) -> SubscribeOptions {
    SubscribeOptions::durable(name)
}

fn ephemeral() -> SubscribeOptions {
    SubscribeOptions::default()
}

fn small(capacity: usize) -> InMemoryBus {
    InMemoryBus::with_config(InMemoryBusConfig {
        capacity,
        ..InMemoryBusConfig::default()
    })
}

fn assert_code(result: Result<impl std::fmt::Debug, OnexError>, code: ErrorCode) {
    match result {
        Ok(value) => panic!("expected {code:?}, got Ok({value:?})"),
        Err(error) => assert_eq!(error.code(), &code, "{error}"),
    }
}

#[tokio::test(start_paused = true)]
async fn exact_and_wildcard_subscriptions() {
    let bus = InMemoryBus::new();
    let mut exact = bus
        .subscribe("onex.evt.greeter.done", ephemeral())
        .await
        .unwrap();
    let mut star = bus.subscribe("onex.evt.*.done", ephemeral()).await.unwrap();
    let mut tail = bus.subscribe("onex.evt.>", ephemeral()).await.unwrap();
    let mut commands = bus.subscribe("onex.cmd.>", ephemeral()).await.unwrap();

    for topic in [
        "onex.evt.greeter.done",
        "onex.evt.greeter.started",
        "onex.evt.billing.done",
        "onex.evt",
        "onex.cmd.greeter.greet",
    ] {
        bus.publish(msg(topic, topic)).await.unwrap();
    }

    assert_eq!(drain(&mut exact).await, ["onex.evt.greeter.done"]);
    assert_eq!(
        drain(&mut star).await,
        ["onex.evt.greeter.done", "onex.evt.billing.done"]
    );
    assert_eq!(
        drain(&mut tail).await,
        [
            "onex.evt.greeter.done",
            "onex.evt.greeter.started",
            "onex.evt.billing.done"
        ]
    );
    assert_eq!(drain(&mut commands).await, ["onex.cmd.greeter.greet"]);
}

#[tokio::test(start_paused = true)]
async fn a_delivery_carries_the_message() {
    let bus = InMemoryBus::new();
    let mut sub = bus.subscribe("a.b", ephemeral()).await.unwrap();
    let sent = msg("a.b", "hello")
        .with_header("x-trace", "t1")
        .with_id("id-1");
    bus.publish(sent.clone()).await.unwrap();
    let delivery = next(&mut sub).await;
    assert_eq!(delivery.message(), &sent);
    assert_eq!(delivery.attempt(), 1);
    delivery.ack().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn messages_published_while_nothing_subscribes_are_dropped() {
    let bus = InMemoryBus::new();
    bus.publish(msg("early.topic", "lost")).await.unwrap();
    let mut sub = bus.subscribe("early.topic", ephemeral()).await.unwrap();
    bus.publish(msg("early.topic", "kept")).await.unwrap();
    assert_eq!(drain(&mut sub).await, ["kept"]);
}

#[tokio::test(start_paused = true)]
async fn competing_consumers_each_message_once() {
    let bus = InMemoryBus::new();
    let mut first = bus.subscribe("jobs.>", durable("workers")).await.unwrap();
    let mut second = bus.subscribe("jobs.>", durable("workers")).await.unwrap();
    for i in 0..100 {
        bus.publish(msg("jobs.run", i.to_string())).await.unwrap();
    }
    let a = tokio::spawn(async move { drain(&mut first).await });
    let b = tokio::spawn(async move { drain(&mut second).await });
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(a.len() + b.len(), 100, "each message exactly once");
    let all: BTreeSet<String> = a.iter().chain(&b).cloned().collect();
    assert_eq!(all.len(), 100, "no duplicates");
    assert_eq!(bus.unsettled("workers"), 0);
}

#[tokio::test(start_paused = true)]
async fn max_in_flight_hands_the_rest_to_a_competing_consumer() {
    let bus = InMemoryBus::new();
    let one = SubscribeOptions {
        max_in_flight: 1,
        ..durable("pool")
    };
    let mut first = bus.subscribe("work", one.clone()).await.unwrap();
    let mut second = bus.subscribe("work", one).await.unwrap();
    for i in 0..3 {
        bus.publish(msg("work", i.to_string())).await.unwrap();
    }

    let held = next(&mut first).await;
    // `first` holds its one delivery: the queue is not empty, but it gets nothing more.
    assert!(quiet_for(&mut first, Duration::from_secs(10)).await);
    let other = next(&mut second).await;
    assert_ne!(text(&held), text(&other));
    assert!(quiet_for(&mut second, Duration::from_secs(10)).await);

    // Settling frees the slot.
    assert_eq!(text(&held), "0");
    held.ack().await.unwrap();
    let third = next(&mut first).await;
    let seen: BTreeSet<String> = [text(&third), text(&other)].into_iter().collect();
    assert_eq!(seen, BTreeSet::from(["1".to_owned(), "2".to_owned()]));
    third.ack().await.unwrap();
    other.ack().await.unwrap();
    assert_eq!(bus.unsettled("pool"), 0);
    drop((first, second));
}

#[tokio::test(start_paused = true)]
async fn fan_out_to_groups_and_ephemeral_subscribers() {
    let bus = InMemoryBus::new();
    let mut billing = bus
        .subscribe("orders.created", durable("billing"))
        .await
        .unwrap();
    let mut shipping = bus
        .subscribe("orders.created", durable("shipping"))
        .await
        .unwrap();
    // Same durable name, another pattern: another group.
    let mut billing_all = bus.subscribe("orders.*", durable("billing")).await.unwrap();
    let mut audit = bus.subscribe("orders.>", ephemeral()).await.unwrap();
    for i in 0..10 {
        bus.publish(msg("orders.created", i.to_string()))
            .await
            .unwrap();
    }
    let expected: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    assert_eq!(drain(&mut billing).await, expected);
    assert_eq!(drain(&mut shipping).await, expected);
    assert_eq!(drain(&mut billing_all).await, expected);
    assert_eq!(drain(&mut audit).await, expected);
}

#[tokio::test(start_paused = true)]
async fn ack_and_term_remove_the_message() {
    let bus = InMemoryBus::new();
    let mut sub = bus.subscribe("t.ack", durable("acker")).await.unwrap();
    bus.publish(msg("t.ack", "one")).await.unwrap();
    bus.publish(msg("t.ack", "two")).await.unwrap();
    assert_eq!(bus.unsettled("acker"), 2);

    next(&mut sub).await.ack().await.unwrap();
    assert_eq!(bus.unsettled("acker"), 1);
    next(&mut sub).await.term().await.unwrap();
    assert_eq!(bus.unsettled("acker"), 0);
    assert!(quiet_for(&mut sub, PATIENCE).await, "never redelivered");
}

#[tokio::test(start_paused = true)]
async fn nack_with_delay_redelivers_after_the_delay() {
    let bus = InMemoryBus::new();
    let mut sub = bus.subscribe("t.nack", durable("nacker")).await.unwrap();
    bus.publish(msg("t.nack", "retry me")).await.unwrap();

    let first = next(&mut sub).await;
    assert_eq!(first.attempt(), 1);
    let start = Instant::now();
    first.nack(Some(Duration::from_secs(5))).await.unwrap();
    assert_eq!(bus.unsettled("nacker"), 1, "kept while it waits");
    assert!(quiet_for(&mut sub, Duration::from_secs(4)).await);

    let second = next(&mut sub).await;
    assert!(start.elapsed() >= Duration::from_secs(5));
    assert_eq!(second.attempt(), 2);
    assert_eq!(text(&second), "retry me");

    // A nack without delay comes back at once.
    let start = Instant::now();
    second.nack(None).await.unwrap();
    let third = next(&mut sub).await;
    assert_eq!(third.attempt(), 3);
    assert_eq!(start.elapsed(), Duration::ZERO);
    third.ack().await.unwrap();
    assert_eq!(bus.unsettled("nacker"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_delivery_is_redelivered_at_once() {
    let bus = InMemoryBus::new();
    let mut sub = bus.subscribe("t.drop", ephemeral()).await.unwrap();
    bus.publish(msg("t.drop", "x")).await.unwrap();

    let start = Instant::now();
    drop(next(&mut sub).await);
    let again = next(&mut sub).await;
    assert_eq!(again.attempt(), 2);
    assert_eq!(start.elapsed(), Duration::ZERO);

    // The same when the acker is split off and dropped.
    let (message, attempt, acker) = again.into_parts();
    assert_eq!((message.topic.as_str(), attempt), ("t.drop", 2));
    drop(acker);
    let third = next(&mut sub).await;
    assert_eq!(third.attempt(), 3);
    third.ack().await.unwrap();
    assert!(quiet_for(&mut sub, PATIENCE).await);
}

#[tokio::test(start_paused = true)]
async fn ack_wait_expiry_redelivers() {
    let bus = InMemoryBus::new();
    let options = SubscribeOptions {
        ack_wait: Duration::from_secs(10),
        ..durable("slowpoke")
    };
    let mut sub = bus.subscribe("t.wait", options).await.unwrap();
    bus.publish(msg("t.wait", "x")).await.unwrap();

    let start = Instant::now();
    let forgotten = next(&mut sub).await;
    let again = next(&mut sub).await;
    assert!(start.elapsed() >= Duration::from_secs(10));
    assert_eq!(again.attempt(), 2);

    // The first delivery is stale now: settling it changes nothing.
    forgotten.ack().await.unwrap();
    assert_eq!(bus.unsettled("slowpoke"), 1);
    again.ack().await.unwrap();
    assert_eq!(bus.unsettled("slowpoke"), 0);
}

#[tokio::test(start_paused = true)]
async fn in_progress_postpones_the_ack_wait() {
    let bus = InMemoryBus::new();
    let options = SubscribeOptions {
        ack_wait: Duration::from_secs(10),
        ..durable("working")
    };
    let mut sub = bus.subscribe("t.progress", options).await.unwrap();
    bus.publish(msg("t.progress", "x")).await.unwrap();

    let start = Instant::now();
    let delivery = next(&mut sub).await;
    sleep(Duration::from_secs(6)).await;
    delivery.in_progress().await.unwrap();
    // 12 s after delivery, past the first deadline: nothing, the clock restarted at 6 s.
    assert!(quiet_for(&mut sub, Duration::from_secs(6)).await);
    let again = next(&mut sub).await;
    assert!(start.elapsed() >= Duration::from_secs(16));
    assert_eq!(again.attempt(), 2);
    drop(delivery);
    again.ack().await.unwrap();
    assert_eq!(bus.unsettled("working"), 0);
}

#[tokio::test(start_paused = true)]
async fn max_deliver_stops_redelivery_after_nacks() {
    let bus = InMemoryBus::new();
    let options = SubscribeOptions {
        max_deliver: 3,
        ..durable("poison")
    };
    let mut sub = bus.subscribe("t.poison", options).await.unwrap();
    bus.publish(msg("t.poison", "bad")).await.unwrap();
    for attempt in 1..=3 {
        let delivery = next(&mut sub).await;
        assert_eq!(delivery.attempt(), attempt);
        delivery.nack(Some(Duration::from_secs(1))).await.unwrap();
    }
    assert!(quiet_for(&mut sub, PATIENCE).await);
    assert_eq!(
        bus.unsettled("poison"),
        0,
        "dropped after the last delivery"
    );
}

#[tokio::test(start_paused = true)]
async fn max_deliver_stops_redelivery_after_expiries() {
    let bus = InMemoryBus::new();
    let options = SubscribeOptions {
        max_deliver: 2,
        ack_wait: Duration::from_secs(1),
        ..durable("stuck")
    };
    let mut sub = bus.subscribe("t.stuck", options).await.unwrap();
    bus.publish(msg("t.stuck", "x")).await.unwrap();
    let first = next(&mut sub).await;
    let second = next(&mut sub).await;
    assert_eq!((first.attempt(), second.attempt()), (1, 2));
    assert!(quiet_for(&mut sub, PATIENCE).await);
    assert_eq!(bus.unsettled("stuck"), 0);
    // Settling or dropping the stale deliveries brings nothing back.
    first.nack(None).await.unwrap();
    drop(second);
    assert!(quiet_for(&mut sub, PATIENCE).await);
}

#[tokio::test(start_paused = true)]
async fn an_expired_last_delivery_frees_the_in_flight_slot() {
    let bus = InMemoryBus::new();
    let options = SubscribeOptions {
        max_deliver: 1,
        max_in_flight: 1,
        ack_wait: Duration::from_secs(1),
        ..durable("single")
    };
    let mut sub = bus.subscribe("t.slot", options).await.unwrap();
    bus.publish(msg("t.slot", "first")).await.unwrap();
    let first = next(&mut sub).await;
    bus.publish(msg("t.slot", "second")).await.unwrap();
    // `first` expires on its last delivery and is dropped; the slot goes to `second`.
    let second = next(&mut sub).await;
    assert_eq!((text(&second), second.attempt()), ("second".to_owned(), 1));
    drop(first);
    second.ack().await.unwrap();
    assert_eq!(bus.unsettled("single"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_durable_group_resumes_after_all_subscribers_dropped() {
    let bus = InMemoryBus::new();
    let mut sub = bus.subscribe("orders.>", durable("ledger")).await.unwrap();
    for i in 0..100 {
        bus.publish(msg("orders.placed", format!("{i:03}")))
            .await
            .unwrap();
    }

    let mut acked = BTreeSet::new();
    for _ in 0..30 {
        let delivery = next(&mut sub).await;
        acked.insert(text(&delivery));
        delivery.ack().await.unwrap();
    }
    let mut unsettled = Vec::new();
    for _ in 0..5 {
        unsettled.push(next(&mut sub).await);
    }
    // The host dies: its subscription and the deliveries it was working on go away.
    drop(sub);
    drop(unsettled);
    assert_eq!(bus.unsettled("ledger"), 70);

    let mut sub = bus.subscribe("orders.>", durable("ledger")).await.unwrap();
    let mut rest = BTreeSet::new();
    let mut redelivered = 0;
    for _ in 0..70 {
        let delivery = next(&mut sub).await;
        if delivery.attempt() == 2 {
            redelivered += 1;
        }
        assert!(rest.insert(text(&delivery)), "no duplicates");
        delivery.ack().await.unwrap();
    }
    assert!(
        quiet_for(&mut sub, PATIENCE).await,
        "exactly the remaining 70"
    );
    assert_eq!(redelivered, 5);
    assert!(acked.is_disjoint(&rest));
    let all: BTreeSet<String> = acked.union(&rest).cloned().collect();
    assert_eq!(all.len(), 100, "nothing lost");
    assert_eq!(bus.unsettled("ledger"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_durable_group_keeps_messages_while_nobody_listens() {
    let bus = InMemoryBus::new();
    drop(bus.subscribe("audit.*", durable("archive")).await.unwrap());
    for i in 0..5 {
        bus.publish(msg("audit.login", i.to_string()))
            .await
            .unwrap();
    }
    assert_eq!(bus.unsettled("archive"), 5);
    let mut sub = bus.subscribe("audit.*", durable("archive")).await.unwrap();
    assert_eq!(drain(&mut sub).await, ["0", "1", "2", "3", "4"]);
}

#[tokio::test(start_paused = true)]
async fn an_ephemeral_subscription_vanishes_when_dropped() {
    let bus = small(2);
    let sub = bus.subscribe("e.t", ephemeral()).await.unwrap();
    drop(sub);
    // Its queue is gone: nothing fills up, nothing waits.
    for i in 0..10 {
        timeout(PATIENCE, bus.publish(msg("e.t", i.to_string())))
            .await
            .expect("no back-pressure from a dropped subscription")
            .unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn deleting_a_durable_group_releases_its_publishers() {
    let bus = small(2);
    drop(bus.subscribe("d.t", durable("abandoned")).await.unwrap());
    bus.publish(msg("d.t", "1")).await.unwrap();
    bus.publish(msg("d.t", "2")).await.unwrap();
    let mut blocked = bus.publish(msg("d.t", "3"));
    assert!(timeout(Duration::from_secs(5), &mut blocked).await.is_err());

    assert!(bus.delete_durable("abandoned"));
    timeout(PATIENCE, blocked).await.expect("released").unwrap();
    assert_eq!(bus.unsettled("abandoned"), 0);
    assert!(!bus.delete_durable("abandoned"));
}

#[tokio::test(start_paused = true)]
async fn duplicates_by_id_are_dropped_within_the_window() {
    let bus = InMemoryBus::with_config(InMemoryBusConfig {
        duplicate_window: Duration::from_secs(10),
        ..InMemoryBusConfig::default()
    });
    let mut sub = bus.subscribe("dedup.t", ephemeral()).await.unwrap();
    bus.publish(msg("dedup.t", "a1").with_id("a"))
        .await
        .unwrap();
    bus.publish(msg("dedup.t", "a2").with_id("a"))
        .await
        .unwrap();
    bus.publish(msg("dedup.t", "b1").with_id("b"))
        .await
        .unwrap();
    bus.publish(msg("dedup.t", "no id")).await.unwrap();
    bus.publish(msg("dedup.t", "no id")).await.unwrap();
    sleep(Duration::from_secs(11)).await;
    bus.publish(msg("dedup.t", "a3").with_id("a"))
        .await
        .unwrap();
    assert_eq!(drain(&mut sub).await, ["a1", "b1", "no id", "no id", "a3"]);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_publish_forgets_its_id() {
    let bus = small(1);
    let mut sub = bus.subscribe("retry.t", ephemeral()).await.unwrap();
    bus.publish(msg("retry.t", "first")).await.unwrap();
    let mut blocked = bus.publish(msg("retry.t", "second").with_id("second"));
    assert!(timeout(Duration::from_secs(5), &mut blocked).await.is_err());
    drop(blocked);

    next(&mut sub).await.ack().await.unwrap();
    // The retry with the same id is not taken for a duplicate.
    bus.publish(msg("retry.t", "second").with_id("second"))
        .await
        .unwrap();
    assert_eq!(drain(&mut sub).await, ["second"]);
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_makes_publish_wait() {
    let bus = small(4);
    let mut sub = bus.subscribe("bp.t", durable("slow")).await.unwrap();
    for i in 0..4 {
        timeout(PATIENCE, bus.publish(msg("bp.t", i.to_string())))
            .await
            .expect("room for four")
            .unwrap();
    }
    let mut fifth = bus.publish(msg("bp.t", "4"));
    assert!(
        timeout(Duration::from_secs(5), &mut fifth).await.is_err(),
        "the fifth publish waits while the queue is full"
    );

    // The slow consumer takes one message: there is room again.
    let taken = next(&mut sub).await;
    timeout(PATIENCE, fifth)
        .await
        .expect("the fifth publish completes")
        .unwrap();
    taken.ack().await.unwrap();
    assert_eq!(drain(&mut sub).await, ["1", "2", "3", "4"]);
}

#[tokio::test(start_paused = true)]
async fn redeliveries_do_not_count_against_the_capacity() {
    let bus = small(1);
    let mut sub = bus.subscribe("cap.t", durable("cap")).await.unwrap();
    bus.publish(msg("cap.t", "a")).await.unwrap();
    let a = next(&mut sub).await;
    bus.publish(msg("cap.t", "b")).await.unwrap();
    // `a` comes back while `b` fills the queue.
    a.nack(None).await.unwrap();
    assert_eq!(bus.unsettled("cap"), 2);
    let again = next(&mut sub).await;
    assert_eq!((text(&again), again.attempt()), ("a".to_owned(), 2));
    again.ack().await.unwrap();
    assert_eq!(drain(&mut sub).await, ["b"]);
}

/// Answers every request on `topic` with `re:<payload>`.
async fn echo_responder(bus: &InMemoryBus, topic: &str) -> tokio::task::JoinHandle<()> {
    let mut sub = bus.subscribe(topic, ephemeral()).await.unwrap();
    let bus = bus.clone();
    tokio::spawn(async move {
        while let Some(Ok(delivery)) = sub.next().await {
            let reply_to = delivery
                .message()
                .reply_to
                .clone()
                .expect("a reply address");
            let reply = msg("ignored", format!("re:{}", text(&delivery)));
            bus.respond(&reply_to, reply).await.unwrap();
            delivery.ack().await.unwrap();
        }
    })
}

#[tokio::test(start_paused = true)]
async fn request_and_respond_round_trip() {
    let bus = InMemoryBus::new();
    let responder = echo_responder(&bus, "svc.echo").await;
    let reply = bus
        .request(msg("svc.echo", "ping"), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(reply.payload, "re:ping");
    assert!(reply.topic.starts_with("_INBOX."), "{}", reply.topic);
    bus.close();
    responder.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn concurrent_requests_get_their_own_replies() {
    let bus = InMemoryBus::new();
    let mut sub = bus.subscribe("svc.slow", ephemeral()).await.unwrap();
    let responder = {
        let bus = bus.clone();
        tokio::spawn(async move {
            // Takes both requests, then answers them in reverse order.
            let first = next(&mut sub).await;
            let second = next(&mut sub).await;
            for delivery in [second, first] {
                let reply_to = delivery.message().reply_to.clone().unwrap();
                let reply = msg("ignored", format!("re:{}", text(&delivery)));
                bus.respond(&reply_to, reply).await.unwrap();
                delivery.ack().await.unwrap();
            }
        })
    };
    let (a, b) = tokio::join!(
        bus.request(msg("svc.slow", "a"), Duration::from_secs(30)),
        bus.request(msg("svc.slow", "b"), Duration::from_secs(30)),
    );
    assert_eq!(a.unwrap().payload, "re:a");
    assert_eq!(b.unwrap().payload, "re:b");
    responder.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_request_without_reply_times_out() {
    let bus = InMemoryBus::new();
    let mut silent = bus.subscribe("svc.silent", ephemeral()).await.unwrap();
    let start = Instant::now();
    let result = bus
        .request(msg("svc.silent", "hello?"), Duration::from_secs(2))
        .await;
    assert_code(result, ErrorCode::Timeout);
    assert!(start.elapsed() >= Duration::from_secs(2));

    // A late reply to the expired address is dropped without error.
    let delivery = next(&mut silent).await;
    let reply_to = delivery.message().reply_to.clone().unwrap();
    bus.respond(&reply_to, msg("x", "too late")).await.unwrap();
    // So is one to an address that never existed.
    bus.respond("_INBOX.nobody", msg("x", "?")).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_request_nobody_subscribes_to_fails_fast() {
    let bus = InMemoryBus::new();
    let result = timeout(
        Duration::from_secs(1),
        bus.request(msg("svc.nobody", "hello?"), Duration::from_secs(3600)),
    )
    .await
    .expect("fails at once instead of waiting for the timeout");
    let error = result.unwrap_err();
    assert_eq!(error.code(), &ErrorCode::EventBus);
    assert!(error.message().contains("no subscriber"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn respond_to_a_plain_topic_publishes_there() {
    let bus = InMemoryBus::new();
    let mut replies = bus.subscribe("replies.greeter", ephemeral()).await.unwrap();
    bus.respond("replies.greeter", msg("whatever", "hi"))
        .await
        .unwrap();
    let delivery = next(&mut replies).await;
    assert_eq!(delivery.message().topic, "replies.greeter");
    assert_eq!(text(&delivery), "hi");
}

#[tokio::test(start_paused = true)]
async fn invalid_topics_and_patterns_are_rejected() {
    let bus = InMemoryBus::new();
    for topic in ["", "a.*", "a.>", "a..b", ".a", "a b", "a.b*"] {
        assert_code(bus.publish(msg(topic, "x")).await, ErrorCode::InvalidInput);
        assert_code(
            bus.request(msg(topic, "x"), Duration::from_secs(1)).await,
            ErrorCode::InvalidInput,
        );
    }
    for pattern in ["", "a.>.b", ">.a", "a.b>", "a..b", "a b"] {
        assert_code(
            bus.subscribe(pattern, ephemeral()).await.map(|_| ()),
            ErrorCode::InvalidInput,
        );
    }
    assert_code(
        bus.subscribe("a.b", durable("")).await.map(|_| ()),
        ErrorCode::InvalidInput,
    );
    assert_code(
        bus.respond("not a topic", msg("x", "x")).await,
        ErrorCode::InvalidInput,
    );
    // Rejected topics are not remembered as valid.
    assert_code(bus.publish(msg("a.*", "x")).await, ErrorCode::InvalidInput);
}

#[tokio::test(start_paused = true)]
async fn close_ends_streams_and_fails_everything_after() {
    let bus = small(1);
    assert_eq!(bus.health().await, BusHealth::Connected);
    let mut group = bus.subscribe("c.t", durable("closing")).await.unwrap();
    let mut single = bus.subscribe("c.t", ephemeral()).await.unwrap();
    let mut waiting = bus.subscribe("r.req", ephemeral()).await.unwrap();

    bus.publish(msg("c.t", "fills both queues")).await.unwrap();
    let mut blocked = bus.publish(msg("c.t", "waits"));
    assert!(timeout(Duration::from_secs(5), &mut blocked).await.is_err());
    let request = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.request(msg("r.req", "?"), PATIENCE).await })
    };
    let held = next(&mut waiting).await;

    bus.close();
    assert!(bus.is_closed());
    assert!(timeout(PATIENCE, group.next()).await.unwrap().is_none());
    assert!(timeout(PATIENCE, single.next()).await.unwrap().is_none());
    assert!(timeout(PATIENCE, waiting.next()).await.unwrap().is_none());
    assert_code(
        timeout(PATIENCE, blocked).await.unwrap(),
        ErrorCode::EventBus,
    );
    assert_code(request.await.unwrap(), ErrorCode::EventBus);
    held.ack().await.unwrap();

    assert_code(bus.publish(msg("c.t", "x")).await, ErrorCode::EventBus);
    assert_code(
        bus.subscribe("c.t", ephemeral()).await.map(|_| ()),
        ErrorCode::EventBus,
    );
    assert_code(
        bus.request(msg("c.t", "x"), Duration::from_secs(1)).await,
        ErrorCode::EventBus,
    );
    assert_code(
        bus.respond("c.t", msg("c.t", "x")).await,
        ErrorCode::EventBus,
    );
    assert_eq!(
        bus.health().await,
        BusHealth::Disconnected("closed".to_owned())
    );
    bus.close();
}

#[tokio::test(start_paused = true)]
async fn clones_share_one_bus() {
    let bus = InMemoryBus::new();
    let other = bus.clone();
    let mut sub = other.subscribe("shared.t", ephemeral()).await.unwrap();
    bus.publish(msg("shared.t", "from the first handle"))
        .await
        .unwrap();
    assert_eq!(drain(&mut sub).await, ["from the first handle"]);
    assert_eq!(bus.name(), "memory");
    assert!(format!("{bus:?}").starts_with("InMemoryBus"));

    // Works as a trait object, as the node host holds it.
    let shared: Arc<dyn EventBus> = Arc::new(bus.clone());
    let mut sub = shared.subscribe("dyn.t", ephemeral()).await.unwrap();
    shared.publish(msg("dyn.t", "dyn")).await.unwrap();
    assert_eq!(drain(&mut sub).await, ["dyn"]);
}

#[tokio::test(start_paused = true)]
async fn dropping_every_handle_ends_the_streams() {
    let bus = InMemoryBus::new();
    let mut sub = bus.subscribe("gone.t", durable("gone")).await.unwrap();
    drop(bus);
    assert!(timeout(PATIENCE, sub.next()).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_publishers_and_consumers_lose_nothing() {
    const TOTAL: usize = 2000;
    let bus = small(16);
    let acked = Arc::new(AtomicUsize::new(0));
    let mut consumers = Vec::new();
    for _ in 0..3 {
        let mut sub = bus.subscribe("load.>", durable("load")).await.unwrap();
        let acked = Arc::clone(&acked);
        consumers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while acked.load(Ordering::SeqCst) < TOTAL {
                let delivery = match timeout(Duration::from_millis(100), sub.next()).await {
                    Ok(Some(delivery)) => delivery.unwrap(),
                    Ok(None) => break,
                    Err(_) => continue,
                };
                seen.push(text(&delivery));
                // Every tenth delivery fails once.
                if delivery.attempt() == 1 && seen.len() % 10 == 0 {
                    delivery.nack(None).await.unwrap();
                } else {
                    delivery.ack().await.unwrap();
                    acked.fetch_add(1, Ordering::SeqCst);
                }
            }
            seen
        }));
    }
    let mut publishers = Vec::new();
    for p in 0..4 {
        let bus = bus.clone();
        publishers.push(tokio::spawn(async move {
            for i in 0..TOTAL / 4 {
                bus.publish(msg("load.item", format!("{p}-{i}")))
                    .await
                    .unwrap();
            }
        }));
    }
    for publisher in publishers {
        timeout(PATIENCE, publisher).await.unwrap().unwrap();
    }
    let mut all = BTreeSet::new();
    for consumer in consumers {
        all.extend(timeout(PATIENCE, consumer).await.unwrap().unwrap());
    }
    assert_eq!(all.len(), TOTAL);
    assert_eq!(
        acked.load(Ordering::SeqCst),
        TOTAL,
        "each message acked once"
    );
    assert_eq!(bus.unsettled("load"), 0);
}
