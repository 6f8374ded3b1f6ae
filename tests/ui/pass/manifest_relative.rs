//! `relative_to = manifest` resolves against `CARGO_MANIFEST_DIR`. Under trybuild that is
//! trybuild's generated project (`target/tests/trybuild/onex-tests/`), so `tests/ui.rs`
//! copies `ui/contracts/manifest_relative.yaml` to `contracts/` there first.

use onex_runtime::{EffectContext, EffectNode, JsonValue, OnexError, effect_node};

#[effect_node(contract = "contracts/manifest_relative.yaml", relative_to = manifest)]
pub struct ManifestRelative;

impl ManifestRelativeHandler for ManifestRelative {
    async fn ping(&self, _ctx: &EffectContext, _input: JsonValue) -> Result<JsonValue, OnexError> {
        Ok(JsonValue::from("pong"))
    }
}

fn main() {
    assert_eq!(
        <ManifestRelative as EffectNode>::CONTRACT.name,
        "manifest_relative"
    );
}
