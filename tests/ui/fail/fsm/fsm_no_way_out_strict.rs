// A cycle with no path to a terminal state is a warning; `strict` makes it an error.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_no_way_out_strict.yaml", strict)]
pub struct Door;

fn main() {}
