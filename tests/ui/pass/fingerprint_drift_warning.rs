//! A stale declared fingerprint is a warning, not an error (unless `strict`): the crate
//! builds, and rustc shows the drift as a deprecation warning on the contract literal.

use onex_runtime::{EffectContext, EffectNode, JsonValue, OnexError, effect_node};

#[effect_node(contract = "../contracts/fingerprint_drift.yaml")]
pub struct Greeter;

impl GreeterHandler for Greeter {
    async fn greet(&self, _ctx: &EffectContext, input: JsonValue) -> Result<JsonValue, OnexError> {
        Ok(input)
    }
}

fn main() {
    let contract = <Greeter as EffectNode>::CONTRACT;
    assert!(contract.fingerprint_drifted());
    assert_eq!(contract.declared_fingerprint, Some("1.0.0:000000000000"));
    assert!(contract.fingerprint.starts_with("1.0.0:"));
}
