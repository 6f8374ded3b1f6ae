use onex_runtime::effect_node;

// Under trybuild, CARGO_MANIFEST_DIR is trybuild's generated project, not `tests/`; the
// message names the base that was used.
#[effect_node(contract = "ui/contracts/greeter.yaml", relative_to = manifest)]
pub struct Greeter;

fn main() {}
