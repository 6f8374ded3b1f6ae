//! A generated reducer, case by case and against the reference interpreter.
//!
//! `reducer/review.yaml` uses every guard operator, wildcard fallback, priority
//! fall-through, default edges, self-loops, `required: false` conditions and dotted paths
//! through optional, JSON and map fields. The property test drives the generated `reduce`
//! and `onex_contracts::fsm::interp` (a table-driven interpreter over the same contract,
//! reading the context as JSON) with random trigger sequences and random contexts, and
//! requires the same outcome at every step: same target, transition, intents, rejection and
//! failed conditions.

use std::collections::BTreeMap;
use std::path::Path;

use onex_contracts::fsm::interp::{self, Reject};
use onex_runtime::{FsmError, FsmExecutor, FsmName, FsmState, ReducerNode, reducer_node};
use proptest::prelude::*;
use review::{ModelReviewContext, ModelReviewContextStatus as Status, ModelUser};
use serde_json::json;

#[reducer_node(contract = "reducer/review.yaml")]
pub struct Review;

/// `extra` is an object without a schema: a string-keyed map of JSON values.
fn extra(v: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
    serde_json::from_value(v).unwrap()
}

fn ctx() -> ModelReviewContext {
    ModelReviewContext {
        count: 0,
        ratio: 0.0,
        flag: false,
        name: None,
        status: Status::Open,
        tags: Vec::new(),
        user: None,
        extra: BTreeMap::new(),
        labels: BTreeMap::new(),
    }
}

type S = ReviewState;
type T = ReviewTrigger;
type I = ReviewIntent;

#[test]
fn enums_carry_the_contract_names() {
    assert_eq!(S::INITIAL, S::Draft);
    assert_eq!(<S as FsmState>::INITIAL, S::Draft);
    assert_eq!(S::ALL.len(), 6);
    assert_eq!(S::Archived.as_str(), "archived");
    assert!(S::Archived.is_terminal() && !S::Review.is_terminal());
    assert_eq!("review".parse::<S>().unwrap(), S::Review);
    assert!(matches!(
        "nope".parse::<S>(),
        Err(FsmError::UnknownState { .. })
    ));
    assert_eq!(T::from_name("reset"), Some(T::Reset));
    assert_eq!(format!("{:>8}", T::Abort), "   abort");
    assert_eq!(
        serde_json::to_value(I::NotifyReviewers).unwrap(),
        "notify_reviewers"
    );
    assert_eq!(Review::FSM.name, "review_fsm");
    assert_eq!(Review::FSM.terminal, &["archived"]);
    assert!(Review::FSM.persistence);
}

#[test]
fn priority_falls_through_to_the_first_eligible_candidate() {
    // Highest priority (`submit_big`) needs count >= 10, a 3+ char name and an urgent tag.
    let mut c = ctx();
    c.count = 12;
    c.name = Some("alice".into());
    c.tags = vec!["urgent".into()];
    let t = Review.reduce(S::Draft, T::Submit, &c).unwrap();
    assert_eq!((t.to, t.name), (S::Review, "submit_big"));
    assert_eq!(t.intents, &[I::CloseDraft, I::NotifyReviewers]);

    // Not big, but named like `abc-12` with status open.
    c.count = 1;
    c.name = Some("abc-12x".into());
    assert_eq!(
        Review.reduce(S::Draft, T::Submit, &c).unwrap().name,
        "submit_named"
    );

    // Ratio only; the `required: false` flag condition is never evaluated.
    c.name = None;
    c.ratio = 0.75;
    assert_eq!(
        Review.reduce(S::Draft, T::Submit, &c).unwrap().name,
        "submit_ratio"
    );

    // Nothing guarded holds: the default edge (its only condition is not required).
    c.ratio = 0.5;
    let t = Review.reduce(S::Draft, T::Submit, &c).unwrap();
    assert_eq!((t.to, t.name), (S::Rejected, "submit_fallback"));
    assert_eq!(t.intents, &[I::CloseDraft, I::LogFallback, I::NotifyAuthor]);
}

#[test]
fn guard_rejection_names_the_best_candidates_failed_conditions() {
    let mut c = ctx();
    c.count = 50;
    c.name = Some("someone-long".into());
    let err = Review.reduce(S::Review, T::Decide, &c).unwrap_err();
    assert_eq!(
        err,
        FsmError::GuardRejected {
            state: "review",
            trigger: "decide",
            transition: "approve",
            to: "approved",
            failed: vec!["user.role == admin", "user.level >= 3"],
        }
    );
    c.user = Some(ModelUser {
        role: "admin".into(),
        level: 1,
    });
    let FsmError::GuardRejected { failed, .. } =
        Review.reduce(S::Review, T::Decide, &c).unwrap_err()
    else {
        panic!("expected a guard rejection")
    };
    assert_eq!(failed, vec!["user.level >= 3"]);
    c.user = Some(ModelUser {
        role: "admin".into(),
        level: 3,
    });
    assert_eq!(
        Review.reduce(S::Review, T::Decide, &c).unwrap().name,
        "approve"
    );
}

#[test]
fn json_and_map_paths_are_read() {
    let mut c = ctx();
    c.labels.insert("env".into(), "prod".into());
    c.extra = extra(json!({"score": 75}));
    assert_eq!(
        Review.reduce(S::Review, T::Decide, &c).unwrap().name,
        "approve_by_label"
    );
    c.extra = extra(json!({"score": "75"}));
    assert!(Review.reduce(S::Review, T::Decide, &c).is_err());
    c.extra = extra(json!({"score": 75.5}));
    assert!(Review.reduce(S::Review, T::Decide, &c).is_ok());
}

#[test]
fn exact_transitions_shadow_wildcards_and_wildcards_fire_elsewhere() {
    let mut c = ctx();
    // `review --abort` exists (guarded): its rejection does not fall back to `* --abort`.
    c.count = 1000;
    assert!(matches!(
        Review.reduce(S::Review, T::Abort, &c),
        Err(FsmError::GuardRejected {
            transition: "escalate",
            ..
        })
    ));
    // Elsewhere the wildcard fires, with the current state's exit actions and the
    // transition's declared actions.
    let t = Review.reduce(S::Draft, T::Abort, &c).unwrap();
    assert_eq!((t.from, t.to, t.name), (S::Draft, S::Rejected, "abort_any"));
    assert_eq!(t.intents, &[I::CloseDraft, I::LogAbort, I::NotifyAuthor]);
    // Wildcards fire from terminal states too (as in the Python reference).
    assert_eq!(
        Review.reduce(S::Archived, T::Abort, &c).unwrap().to,
        S::Rejected
    );
    // Wildcard priorities.
    c.status = Status::Closed;
    c.name = Some("x".into());
    assert_eq!(
        Review.reduce(S::Approved, T::Reset, &c).unwrap().name,
        "reset_strict"
    );
    c.name = Some("keep".into());
    c.count = 0;
    assert_eq!(
        Review.reduce(S::Approved, T::Reset, &c).unwrap().name,
        "reset_soft"
    );
    c.count = 1;
    assert!(matches!(
        Review.reduce(S::Approved, T::Reset, &c),
        Err(FsmError::GuardRejected {
            transition: "reset_strict",
            ..
        })
    ));
}

#[test]
fn self_loops_run_exit_and_entry_actions() {
    let mut c = ctx();
    c.flag = true;
    c.name = Some("n".into());
    let t = Review.reduce(S::Review, T::Ping, &c).unwrap();
    assert_eq!(t.to, S::Review);
    assert_eq!(t.intents, &[I::StopTimer, I::Remind, I::NotifyReviewers]);
    c.count = 7;
    assert!(Review.reduce(S::Review, T::Ping, &c).is_err());
}

#[test]
fn no_transition_is_a_typed_error() {
    assert_eq!(
        Review.reduce(S::Draft, T::Decide, &ctx()).unwrap_err(),
        FsmError::NoTransition {
            state: "draft",
            trigger: "decide"
        }
    );
}

#[test]
fn the_executor_keeps_state_on_every_failure() {
    let mut fsm = FsmExecutor::new(Review);
    let mut c = ctx();
    c.ratio = 0.9;
    fsm.fire(T::Submit, &c).unwrap();
    assert_eq!(fsm.state(), S::Review);
    assert!(fsm.fire(T::Submit, &c).is_err());
    assert!(fsm.fire_named("no_such_trigger", &c).is_err());
    assert_eq!(fsm.state(), S::Review);

    let snapshot = fsm.snapshot();
    let json = serde_json::to_vec(&snapshot).unwrap();
    let mut other = FsmExecutor::new(Review);
    other.restore_json(&json).unwrap();
    assert_eq!(other.state(), S::Review);
    assert!(
        other
            .restore_json(
                br#"{"fsm": "review_fsm", "state": "nowhere", "history": [], "taken": 0}"#
            )
            .is_err()
    );
    assert_eq!(other.state(), S::Review);
}

#[test]
fn envelopes_with_bad_triggers_or_contexts_are_typed_errors() {
    let mut fsm = FsmExecutor::new(Review);
    let envelope = |payload: serde_json::Value| {
        serde_json::to_vec(&json!({
            "payload": payload,
            "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
            "envelope_timestamp": "2026-11-20T12:30:45Z",
            "correlation_id": "7d0f8c74-7c58-4e41-9f20-3b4c5d6e7f81",
        }))
        .unwrap()
    };
    let good_ctx = json!({"count": 0, "ratio": 0.9, "flag": false, "status": "open", "tags": [], "extra": {}, "labels": {}});
    let err = fsm
        .process_json(&envelope(json!({"trigger": "sumbit", "context": good_ctx})))
        .unwrap_err();
    assert_eq!(err.code().as_str(), "ONEX_CORE_007_INVALID_INPUT");
    assert!(err.message().contains("sumbit"), "{}", err.message());
    let err = fsm
        .process_json(&envelope(
            json!({"trigger": "submit", "context": {"count": 1}}),
        ))
        .unwrap_err();
    assert_eq!(err.code().as_str(), "ONEX_CORE_007_INVALID_INPUT");
    let err = fsm
        .process_json(&envelope(json!({"trigger": "decide", "context": good_ctx})))
        .unwrap_err();
    assert_eq!(err.code().as_str(), "ONEX_CORE_006_VALIDATION_ERROR");
    assert_eq!(fsm.state(), S::Draft);

    let reply = fsm
        .process_json(&envelope(json!({"trigger": "submit", "context": good_ctx})))
        .unwrap();
    assert_eq!(reply.payload["to_state"], "review");
    assert_eq!(reply.payload["transition_name"], "submit_ratio");
    assert_eq!(
        reply.payload["intents"],
        json!(["close_draft", "notify_reviewers"])
    );
    assert_eq!(
        reply.correlation_id.map(|c| c.to_string()).as_deref(),
        Some("7d0f8c74-7c58-4e41-9f20-3b4c5d6e7f81")
    );
    assert_eq!(fsm.state(), S::Review);
}

fn contract() -> onex_contracts::fsm::Fsm {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("reducer/review.yaml");
    let loaded = onex_contracts::load_file(&path, "review.yaml");
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.fsm.expect("the contract has a state machine")
}

fn context_strategy() -> impl Strategy<Value = ModelReviewContext> {
    let name = prop::option::of(prop::sample::select(vec![
        "",
        "ab",
        "abc",
        "abc-12",
        "keep",
        "x",
        "someone-long",
        "urgent",
    ]));
    let tags = prop::sample::subsequence(vec!["urgent", "x", "y"], 0..=3);
    let user = prop::option::of((prop::sample::select(vec!["admin", "dev"]), -1i64..6));
    let extras = prop::sample::select(vec![
        json!({}),
        json!({"other": 1}),
        json!({"score": 50}),
        json!({"score": 51}),
        json!({"score": 100}),
        json!({"score": 100.5}),
        json!({"score": "75"}),
        json!({"score": null}),
        json!({"score": [75]}),
    ]);
    let env = prop::option::of(prop::sample::select(vec!["prod", "dev", ""]));
    (
        (-2i64..15, prop::sample::select(vec![0, 3, 7, 10, 100, 101])),
        prop::sample::select(vec![-1.0, 0.0, 0.5, 0.50001, 0.99, 1.0, 2.5]),
        any::<bool>(),
        name,
        prop::sample::select(vec![Status::Open, Status::Closed, Status::Blocked]),
        tags,
        user,
        extras,
        env,
    )
        .prop_map(
            |((small, big), ratio, flag, name, status, tags, user, e, env)| ModelReviewContext {
                count: if small % 3 == 0 { big } else { small },
                ratio,
                flag,
                name: name.map(str::to_owned),
                status,
                tags: tags.into_iter().map(str::to_owned).collect(),
                user: user.map(|(role, level)| ModelUser {
                    role: role.to_owned(),
                    level,
                }),
                extra: extra(e),
                labels: env
                    .map(|e| BTreeMap::from([("env".to_owned(), e.to_owned())]))
                    .unwrap_or_default(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_reduce_agrees_with_the_reference_interpreter(
        start in prop::sample::select(S::ALL.to_vec()),
        steps in prop::collection::vec(
            (prop::sample::select(T::ALL.to_vec()), context_strategy()),
            1..24,
        ),
    ) {
        let fsm = contract();
        let mut state = start;
        for (trigger, c) in steps {
            let json = serde_json::to_value(&c).unwrap();
            let generated = Review.reduce(state, trigger, &c);
            let reference = interp::step(&fsm, state.as_str(), trigger.as_str(), &json);
            match (&generated, &reference) {
                (Ok(t), Ok(step)) => {
                    prop_assert_eq!(t.to.as_str(), step.to);
                    prop_assert_eq!(t.name, step.transition.name.value.as_str());
                    let intents: Vec<&str> = t.intents.iter().map(|i| i.as_str()).collect();
                    prop_assert_eq!(&intents, &step.intents);
                    state = t.to;
                }
                (Err(FsmError::NoTransition { .. }), Err(Reject::NoTransition)) => {}
                (
                    Err(FsmError::GuardRejected { transition, failed, .. }),
                    Err(Reject::Guard { transition: best, failed: expected }),
                ) => {
                    prop_assert_eq!(*transition, best.name.value.as_str());
                    prop_assert_eq!(failed, expected);
                }
                _ => prop_assert!(
                    false,
                    "{state} --{trigger}--> generated {generated:?}, reference {reference:?}, context {json}"
                ),
            }
        }
    }
}
