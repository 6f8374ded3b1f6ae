//! A cycle with no path to a terminal state is a warning, not an error (unless `strict`):
//! the crate builds, and rustc shows the finding as a deprecation warning on the contract
//! literal. The machine works, and loops forever once broken.

use onex_runtime::{FsmExecutor, reducer_node};

#[reducer_node(contract = "../contracts/fsm_no_way_out.yaml")]
pub struct Door;

fn main() {
    let mut fsm = FsmExecutor::new(Door);
    for trigger in [
        DoorTrigger::Open,
        DoorTrigger::Break,
        DoorTrigger::Repair,
        DoorTrigger::Fail,
    ] {
        fsm.fire(trigger, &()).unwrap();
    }
    assert_eq!(fsm.state(), DoorState::Broken);
    assert!(fsm.fire(DoorTrigger::Remove, &()).is_err());
}
