// Guards read a context, but the contract names no `input_model` and the attribute no `context = …`.
use onex_runtime::reducer_node;

#[reducer_node(contract = "reducer_guard_without_context.yaml")]
pub struct Door;

fn main() {}
