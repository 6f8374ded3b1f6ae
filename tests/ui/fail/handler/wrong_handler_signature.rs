use onex_runtime::{EffectContext, OnexError, effect_node};

#[effect_node(contract = "../greeter.yaml")]
pub struct Greeter;

impl GreeterHandler for Greeter {
    async fn greet(
        &self,
        _ctx: &EffectContext,
        name: String,
    ) -> Result<greeter::ModelReply, OnexError> {
        Ok(greeter::ModelReply {
            text: format!("Hello, {name}!"),
        })
    }

    async fn farewell(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelReply, OnexError> {
        Ok(greeter::ModelReply {
            text: format!("Goodbye, {}!", input.name),
        })
    }
}

fn main() {}
