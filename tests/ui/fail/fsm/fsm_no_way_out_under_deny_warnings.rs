// `fsm-no-way-out` is a warning (rustc's `deprecated` lint on the contract literal), so a
// crate that denies warnings fails on it, with the finding in the message.
#![deny(warnings)]

use onex_runtime::reducer_node;

#[reducer_node(contract = "../../contracts/fsm_no_way_out.yaml")]
pub struct Door;

fn main() {}
