//! `#[effect_node]` on a unit struct, with the contract next to this file.

use onex_runtime::{EffectContext, OnexError, effect_node};

#[effect_node(contract = "contracts/greeter.yaml")]
pub struct Greeter;

impl GreeterHandler for Greeter {
    async fn greet(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelGreeting, OnexError> {
        Ok(input)
    }

    async fn farewell(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelGreeting, OnexError> {
        Ok(input)
    }
}

fn main() {}
