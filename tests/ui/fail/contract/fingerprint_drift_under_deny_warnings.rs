// Fingerprint drift is a warning (rustc's `deprecated` lint on the contract literal), so a
// crate that denies warnings fails on it, with the drift in the message.
#![deny(warnings)]

use onex_runtime::{EffectContext, JsonValue, OnexError, effect_node};

#[effect_node(contract = "../../contracts/fingerprint_drift.yaml")]
pub struct Greeter;

impl GreeterHandler for Greeter {
    async fn greet(&self, _ctx: &EffectContext, input: JsonValue) -> Result<JsonValue, OnexError> {
        Ok(input)
    }
}

fn main() {}
