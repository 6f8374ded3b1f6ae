use onex_runtime::{EffectContext, OnexError, effect_node};

#[effect_node(contract = "../greeter.yaml")]
pub struct Greeter;

// `farewell` is in the contract but not implemented.
impl GreeterHandler for Greeter {
    async fn greet(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelReply, OnexError> {
        Ok(greeter::ModelReply {
            text: format!("Hello, {}!", input.name),
        })
    }
}

fn main() {}
