use onex_runtime::{EffectContext, OnexError, effect_node};

#[effect_node(contract = "../greeter.yaml", contract = "../greeter_v2.yaml")]
pub struct Greeter;

impl GreeterHandler for Greeter {
    async fn greet(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelReply, OnexError> {
        Ok(greeter::ModelReply { text: input.name })
    }

    async fn farewell(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelReply, OnexError> {
        Ok(greeter::ModelReply { text: input.name })
    }
}

fn main() {}
