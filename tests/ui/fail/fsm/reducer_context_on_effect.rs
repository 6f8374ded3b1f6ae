// `context = …` names the type reducer guards read; it means nothing on an effect node.
use onex_runtime::{EffectContext, JsonValue, OnexError, effect_node};

pub struct Ctx;

#[effect_node(contract = "reducer_context_on_effect.yaml", context = Ctx)]
pub struct Greeter;

impl GreeterHandler for Greeter {
    async fn greet(&self, _ctx: &EffectContext, input: JsonValue) -> Result<JsonValue, OnexError> {
        Ok(input)
    }
}

fn main() {}
