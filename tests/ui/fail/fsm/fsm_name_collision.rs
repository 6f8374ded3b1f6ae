// Two triggers that become the same enum variant (`DoorTrigger::Open`).
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_name_collision.yaml")]
pub struct Door;

fn main() {}
