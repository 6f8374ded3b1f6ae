//! An untyped contract (JSON in, JSON out) on a struct with fields, with extra derives on
//! the generated input/output enums.

use onex_runtime::{EffectContext, JsonValue, OnexError};

#[onex_runtime::effect_node(contract = "contracts/echo.yaml", derive(Clone, PartialEq))]
pub struct Echo {
    prefix: String,
}

impl EchoHandler for Echo {
    async fn handle(
        &self,
        _ctx: &EffectContext,
        input: JsonValue,
    ) -> Result<JsonValue, OnexError> {
        Ok(JsonValue::String(format!("{}{input}", self.prefix)))
    }
}

fn main() {}
