//! A public node in a crate that denies warnings and missing docs: every generated item
//! must be documented and lint-clean.

#![deny(
    warnings,
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms
)]
#![deny(
    unused_qualifications,
    unreachable_pub,
    trivial_casts,
    trivial_numeric_casts,
    unused_results,
    single_use_lifetimes,
    unused_lifetimes,
    missing_copy_implementations,
    let_underscore_drop,
    unused_import_braces,
    variant_size_differences,
    meta_variable_misuse,
    non_ascii_idents,
    unit_bindings,
    redundant_lifetimes,
    unnameable_types,
    unused_macro_rules
)]

use onex_runtime::{EffectContext, EffectNode, OnexError, effect_node};

/// Greets people, as `greeter.yaml` says.
#[derive(Debug, Clone, Copy)]
#[effect_node(contract = "../contracts/greeter.yaml")]
pub struct Greeter;

impl GreeterHandler for Greeter {
    async fn greet(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelReply, OnexError> {
        Ok(greeter::ModelReply {
            text: format!("Hello, {}!", input.name),
            at: None,
            id: None,
        })
    }

    async fn farewell(
        &self,
        _ctx: &EffectContext,
        input: greeter::ModelGreeting,
    ) -> Result<greeter::ModelReply, OnexError> {
        Ok(greeter::ModelReply {
            text: format!("Goodbye, {}!", input.name),
            at: None,
            id: None,
        })
    }
}

/// Keeps an inventory: every model feature of `models.yaml`.
#[derive(Debug, Clone, Copy)]
#[effect_node(contract = "../contracts/models.yaml")]
pub struct Inventory;

impl InventoryHandler for Inventory {
    async fn item_put(
        &self,
        _ctx: &EffectContext,
        input: inventory::ModelItem,
    ) -> Result<inventory::ModelReceipt, OnexError> {
        Ok(inventory::ModelReceipt {
            sku: input.sku,
            status: input.status,
        })
    }

    async fn item_check(
        &self,
        _ctx: &EffectContext,
        input: inventory::ModelCheck,
    ) -> Result<inventory::ModelReceipt, OnexError> {
        Ok(inventory::ModelReceipt {
            sku: input.sku,
            status: inventory::ModelStatus::Active,
        })
    }
}

/// Routes by payload type.
#[derive(Debug, Clone, Copy)]
#[effect_node(contract = "../contracts/payload_type_match.yaml")]
pub struct NodeRegistry;

impl NodeRegistryHandler for NodeRegistry {
    async fn model_node_registered(
        &self,
        _ctx: &EffectContext,
        _input: node_registry::ModelNodeRegistered,
    ) -> Result<node_registry::ModelAck, OnexError> {
        Ok(node_registry::ModelAck { accepted: true })
    }

    async fn model_node_retired(
        &self,
        _ctx: &EffectContext,
        input: node_registry::ModelNodeRetired,
    ) -> Result<node_registry::ModelRetiredAck, OnexError> {
        Ok(node_registry::ModelRetiredAck {
            farewell: input.node_id.to_string(),
        })
    }
}

/// Untyped JSON.
#[derive(Debug, Clone, Copy)]
#[effect_node(contract = "../contracts/untyped.yaml")]
pub struct Echo;

impl EchoHandler for Echo {
    async fn echo(
        &self,
        _ctx: &EffectContext,
        input: onex_runtime::JsonValue,
    ) -> Result<onex_runtime::JsonValue, OnexError> {
        Ok(input)
    }

    async fn ping(
        &self,
        _ctx: &EffectContext,
        input: onex_runtime::JsonValue,
    ) -> Result<onex_runtime::JsonValue, OnexError> {
        Ok(input)
    }
}

fn main() {
    assert_eq!(<Greeter as EffectNode>::CONTRACT.name, "greeter");
    assert_eq!(greeter::SUBSCRIBE_TOPICS, ["onex.cmd.greeter.greet.v1"]);
    assert_eq!(GreeterOperation::ALL.len(), 2);
}
