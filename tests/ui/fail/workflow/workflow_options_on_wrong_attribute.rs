// Options of another node attribute: `input = …` and `bind(…)` belong to
// `#[orchestrator_node]`, `context = …` to `#[reducer_node]`. One error each, on the option.
use onex_runtime::{effect_node, orchestrator_node};

/// A workflow input.
pub struct Request;

/// A guard context.
pub struct Ctx;

#[effect_node(
    contract = "workflow_options_on_wrong_attribute_greeter.yaml",
    input = Request,
    bind(greet = Greeter)
)]
pub struct Greeter;

#[orchestrator_node(contract = "workflow_options_on_wrong_attribute.yaml", context = Ctx)]
pub struct Pipeline;

fn main() {}
