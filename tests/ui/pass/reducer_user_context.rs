//! A reducer whose guards read a user-written context type (`context = TicketFacts`): an
//! `Option<String>`, a `u32`, a `Vec<String>` and a user enum that implements
//! `GuardValue` by hand. rustc checks every guard against the type.

use onex_runtime::fsm::guard::{GuardValue, Literal};
use onex_runtime::{FsmError, FsmExecutor, ReducerNode, reducer_node};

/// A customer's support tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Bronze,
    Gold,
    Platinum,
}

/// Guards compare a tier with contract literals by its lower-case name.
impl GuardValue for Tier {
    fn guard_eq(&self, lit: &Literal) -> bool {
        lit.text
            == match self {
                Tier::Bronze => "bronze",
                Tier::Gold => "gold",
                Tier::Platinum => "platinum",
            }
    }
}

/// What the helpdesk knows when a trigger fires.
#[derive(Clone, Debug)]
pub struct TicketFacts {
    pub owner: Option<String>,
    pub attempts: u32,
    pub labels: Vec<String>,
    pub tier: Tier,
}

#[reducer_node(contract = "../contracts/reducer_user_context.yaml", context = TicketFacts)]
pub struct Ticket;

type S = TicketState;
type T = TicketTrigger;
type I = TicketIntent;

fn main() {
    let mut facts = TicketFacts {
        owner: None,
        attempts: 0,
        labels: Vec::new(),
        tier: Tier::Bronze,
    };
    let mut fsm = FsmExecutor::new(Ticket);
    assert_eq!(fsm.state(), S::New);

    // `owner exists` fails on `None`: the state stays.
    let err = fsm.fire(T::Assign, &facts).unwrap_err();
    assert!(matches!(err, FsmError::GuardRejected { failed, .. } if failed == ["owner exists"]));
    assert_eq!(fsm.state(), S::New);

    facts.owner = Some("ada".to_owned());
    let t = fsm.fire(T::Assign, &facts).unwrap();
    assert_eq!((t.to, t.name), (S::Assigned, "assign"));
    assert_eq!(t.intents, &[I::NotifyOwner]);

    // A gold customer with an urgent label takes the priority-10 VIP escalation.
    facts.tier = Tier::Gold;
    facts.labels = vec!["urgent".to_owned()];
    let t = fsm.fire(T::Escalate, &facts).unwrap();
    assert_eq!((t.to, t.name), (S::Escalated, "escalate_vip"));
    assert_eq!(t.intents, &[I::FlagVip, I::PageLead]);

    // Handing back needs `attempts less_than 3` and a tier other than bronze.
    facts.attempts = 3;
    assert!(fsm.fire(T::HandBack, &facts).is_err());
    facts.attempts = 2;
    let t = fsm.fire(T::HandBack, &facts).unwrap();
    assert_eq!(t.intents, &[I::UnpageLead, I::NotifyOwner]);

    // Not VIP any more (platinum without `urgent`): the plain escalation, on attempts.
    facts.tier = Tier::Platinum;
    facts.labels = vec!["billing".to_owned()];
    assert_eq!(fsm.fire(T::Escalate, &facts).unwrap().name, "escalate");

    // The wildcard close needs at least one label.
    let t = fsm.fire(T::Close, &facts).unwrap();
    assert_eq!((t.from, t.to), (S::Escalated, S::Closed));
    assert_eq!(t.intents, &[I::UnpageLead, I::Archive]);
    assert!(fsm.is_terminal());
    assert_eq!(fsm.taken(), 5);
    assert_eq!(fsm.rejected(), 2);
    assert_eq!(<Ticket as ReducerNode>::FSM.name, "ticket_fsm");
}
