//! Reducers in a crate that denies warnings and missing docs, declared in a module without
//! the prelude and with the names a sloppy expansion might pick up shadowed: every generated
//! item is documented, lint-clean and spelled with full paths.

#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms
)]
#![deny(
    unused_qualifications,
    unreachable_pub,
    trivial_casts,
    trivial_numeric_casts,
    unused_results,
    single_use_lifetimes,
    unused_lifetimes,
    missing_copy_implementations,
    let_underscore_drop,
    unused_import_braces,
    variant_size_differences,
    meta_variable_misuse,
    non_ascii_idents,
    unit_bindings,
    redundant_lifetimes,
    unnameable_types,
    unused_macro_rules
)]

/// Reducers without the prelude.
pub mod hygiene {
    #![no_implicit_prelude]

    /// Everything a sloppy expansion might pick up from the prelude, shadowed.
    macro_rules! shadow {
        (structs: $($s:ident)*; traits: $($t:ident)*; modules: $($m:ident)*) => {
            $(
                /// Shadows a prelude name.
                #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
                pub struct $s;
            )*
            $(
                /// Shadows a prelude trait.
                pub trait $t {}
            )*
            $(
                /// Shadows a crate name.
                pub mod $m {}
            )*
        };
    }

    shadow! {
        structs: Result Option Box String Vec Ok Err Some None;
        traits: Send Sync Clone Copy Debug Default Iterator Into ToString PartialEq FnOnce;
        modules: serde serde_json core std
    }

    /// Rolls a release out (guards read the generated `deploy::ModelDeployFacts`).
    #[::onex_runtime::reducer_node(contract = "../contracts/reducer_typed.yaml")]
    #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
    pub struct Deploy;

    /// A turnstile (no guards: context `()`).
    #[::onex_runtime::reducer_node(contract = "../contracts/reducer_no_guards.yaml")]
    #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
    pub struct Turnstile;

    /// A support ticket whose guards read a user context.
    #[::onex_runtime::reducer_node(
        contract = "../contracts/reducer_user_context.yaml",
        context = super::TicketFacts
    )]
    #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
    pub struct Ticket;
}

use std::collections::BTreeMap;

use hygiene::deploy::{ModelApprover, ModelDeployFacts, ModelDeployFactsChannel};
use hygiene::{Deploy, DeployState, DeployTrigger, Ticket, TicketState, TicketTrigger};
use onex_runtime::fsm::guard::{GuardValue, Literal};
use onex_runtime::{FsmExecutor, ReducerNode};

/// A customer's tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    /// Pays little.
    Bronze,
    /// Pays more.
    Gold,
}

impl GuardValue for Tier {
    fn guard_eq(&self, lit: &Literal) -> bool {
        lit.text
            == match self {
                Tier::Bronze => "bronze",
                Tier::Gold => "gold",
            }
    }
}

/// What the helpdesk knows.
#[derive(Clone, Debug)]
pub struct TicketFacts {
    /// The ticket's owner.
    pub owner: Option<String>,
    /// Escalation attempts.
    pub attempts: u32,
    /// Labels.
    pub labels: Vec<String>,
    /// The customer's tier.
    pub tier: Tier,
}

fn main() {
    let mut facts = ModelDeployFacts {
        failed_checks: 0,
        error_rate: 0.001,
        frozen: false,
        version: Some("1.4.2".to_owned()),
        channel: ModelDeployFactsChannel::Stable,
        regions: vec!["eu".to_owned()],
        approver: Some(ModelApprover {
            role: "sre".to_owned(),
            level: 2,
        }),
        labels: BTreeMap::new(),
    };
    let mut fsm = FsmExecutor::new(Deploy);
    assert_eq!(
        fsm.fire(DeployTrigger::Promote, &facts).unwrap().to,
        DeployState::Canary
    );
    // One region and no owner label: `go_live` waits.
    assert!(fsm.fire(DeployTrigger::Promote, &facts).is_err());
    facts.regions.push("us".to_owned());
    assert!(
        facts
            .labels
            .insert("owner".to_owned(), "ada".to_owned())
            .is_none()
    );
    let t = fsm.fire(DeployTrigger::Promote, &facts).unwrap();
    assert_eq!((t.to, t.name), (DeployState::Live, "go_live"));
    assert!(fsm.is_terminal());
    assert_eq!(
        <Deploy as ReducerNode>::FSM.terminal,
        &["live", "rolled_back"]
    );

    let mut turnstile = FsmExecutor::new(hygiene::Turnstile);
    assert!(turnstile.fire(hygiene::TurnstileTrigger::Coin, &()).is_ok());

    let ticket = TicketFacts {
        owner: Some("ada".to_owned()),
        attempts: 0,
        labels: vec!["urgent".to_owned()],
        tier: Tier::Gold,
    };
    let mut tickets = FsmExecutor::new(Ticket);
    assert_eq!(
        tickets.fire(TicketTrigger::Assign, &ticket).unwrap().to,
        TicketState::Assigned
    );
    let _ = Tier::Bronze;
}
