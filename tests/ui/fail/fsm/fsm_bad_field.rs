// Fields starting with `_` are private: the Python reference never reads them.
use onex_runtime::reducer_node;

#[reducer_node(contract = "fsm_bad_field.yaml")]
pub struct Door;

fn main() {}
