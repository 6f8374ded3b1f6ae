//! `crate = path`: generated code reaches the runtime through a re-export.

mod reexport {
    pub use onex_runtime as runtime;
}

use reexport::runtime::{EffectContext, JsonValue, OnexError};

#[reexport::runtime::effect_node(contract = "contracts/echo.yaml", crate = crate::reexport::runtime)]
pub struct Echo;

impl EchoHandler for Echo {
    async fn handle(
        &self,
        _ctx: &EffectContext,
        input: JsonValue,
    ) -> Result<JsonValue, OnexError> {
        Ok(input)
    }
}

fn main() {}
