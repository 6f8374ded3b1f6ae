//! Drives the service-lifecycle reducer through a scripted day of a database's life and
//! prints every transition with the intents it emits.

use infra_reducer::{ServiceLifecycle, ServiceLifecycleTrigger as Trigger, observation};
use onex_runtime::FsmExecutor;

fn main() {
    let mut fsm = FsmExecutor::new(ServiceLifecycle);
    let script: Vec<(Trigger, i64, i64, Option<f64>)> = vec![
        // (trigger, retry_count, consecutive_failures, latency_ms)
        (Trigger::Start, 0, 0, None),
        (Trigger::HealthFailed, 0, 1, None),
        (Trigger::HealthFailed, 1, 2, None),
        (Trigger::HealthOk, 2, 0, Some(12.0)),
        (Trigger::HealthSlow, 0, 0, Some(90.0)),
        (Trigger::HealthSlow, 0, 0, Some(480.0)),
        (Trigger::HealthOk, 0, 0, Some(15.0)),
        (Trigger::HealthFailed, 0, 1, None),
        (Trigger::HealthFailed, 0, 2, None),
        (Trigger::HealthFailed, 0, 3, None),
        (Trigger::Restart, 3, 3, None),
        (Trigger::Restart, 1, 3, None),
        (Trigger::HealthOk, 1, 0, Some(20.0)),
        (Trigger::Stop, 0, 0, None),
        (Trigger::Start, 0, 0, None),
    ];
    println!("service `db` — starting in state `{}`", fsm.state());
    for (step, (trigger, retries, failures, latency)) in script.into_iter().enumerate() {
        let mut seen = observation("db");
        seen.retry_count = retries;
        seen.consecutive_failures = failures;
        seen.latency_ms = latency;
        let from = fsm.state();
        match fsm.fire(trigger, &seen) {
            Ok(t) => {
                let intents: Vec<&str> = t.intents.iter().map(|i| i.as_str()).collect();
                println!(
                    "{step:>2}. {from:<9} --{trigger:<13}--> {:<9} via `{}`  intents: [{}]",
                    t.to,
                    t.name,
                    intents.join(", ")
                );
            }
            Err(e) => println!("{step:>2}. {from:<9} --{trigger:<13}--> (stays)    {e}"),
        }
    }
    println!(
        "final state `{}` (terminal: {}), {} transitions recorded",
        fsm.state(),
        fsm.is_terminal(),
        fsm.history().count()
    );
}
