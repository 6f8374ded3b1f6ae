//! Generated code must not depend on the prelude or on names the user may shadow
//! (google/tarpc PR #417): it spells every path in full.

mod hygiene {
    #![no_implicit_prelude]
    #![allow(dead_code)]

    // Everything a sloppy expansion might pick up from the prelude, shadowed.
    pub struct Result;
    pub struct Option;
    pub struct Box;
    pub struct String;
    pub struct Vec;
    pub struct Ok;
    pub struct Err;
    pub struct Some;
    pub struct None;
    pub trait Send {}
    pub trait Sync {}
    pub trait Clone {}
    pub trait Debug {}
    pub trait Default {}
    pub trait Iterator {}
    pub trait Into {}
    pub trait ToString {}
    pub mod serde {}
    pub mod serde_json {}
    pub mod core {}
    pub mod std {}

    #[::onex_runtime::effect_node(contract = "../contracts/greeter.yaml")]
    pub struct Greeter;

    impl GreeterHandler for Greeter {
        async fn greet(
            &self,
            _ctx: &::onex_runtime::EffectContext,
            input: greeter::ModelGreeting,
        ) -> ::core::result::Result<greeter::ModelReply, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(greeter::ModelReply {
                text: ::std::format!("Hello, {}!", input.name),
                at: ::core::option::Option::None,
                id: ::core::option::Option::None,
            })
        }

        async fn farewell(
            &self,
            _ctx: &::onex_runtime::EffectContext,
            input: greeter::ModelGreeting,
        ) -> ::core::result::Result<greeter::ModelReply, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(greeter::ModelReply {
                text: ::std::format!("Goodbye, {}!", input.name),
                at: ::core::option::Option::None,
                id: ::core::option::Option::None,
            })
        }
    }

    #[::onex_runtime::effect_node(contract = "../contracts/untyped.yaml")]
    pub struct Echo;

    impl EchoHandler for Echo {
        async fn echo(
            &self,
            _ctx: &::onex_runtime::EffectContext,
            input: ::onex_runtime::JsonValue,
        ) -> ::core::result::Result<::onex_runtime::JsonValue, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(input)
        }

        async fn ping(
            &self,
            _ctx: &::onex_runtime::EffectContext,
            _input: ::onex_runtime::JsonValue,
        ) -> ::core::result::Result<::onex_runtime::JsonValue, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(::core::convert::From::from("pong"))
        }
    }

    #[::onex_runtime::effect_node(contract = "../contracts/models.yaml")]
    pub struct Inventory;

    impl InventoryHandler for Inventory {
        async fn item_put(
            &self,
            _ctx: &::onex_runtime::EffectContext,
            input: inventory::ModelItem,
        ) -> ::core::result::Result<inventory::ModelReceipt, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(inventory::ModelReceipt {
                sku: input.sku,
                status: input.status,
            })
        }

        async fn item_check(
            &self,
            _ctx: &::onex_runtime::EffectContext,
            input: inventory::ModelCheck,
        ) -> ::core::result::Result<inventory::ModelReceipt, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(inventory::ModelReceipt {
                sku: input.sku,
                status: inventory::ModelStatus::OnHold,
            })
        }
    }

    #[::onex_runtime::effect_node(contract = "../contracts/payload_type_match.yaml")]
    pub struct NodeRegistry;

    impl NodeRegistryHandler for NodeRegistry {
        async fn model_node_registered(
            &self,
            _ctx: &::onex_runtime::EffectContext,
            _input: node_registry::ModelNodeRegistered,
        ) -> ::core::result::Result<node_registry::ModelAck, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(node_registry::ModelAck { accepted: true })
        }

        async fn model_node_retired(
            &self,
            _ctx: &::onex_runtime::EffectContext,
            _input: node_registry::ModelNodeRetired,
        ) -> ::core::result::Result<node_registry::ModelRetiredAck, ::onex_runtime::OnexError>
        {
            ::core::result::Result::Ok(node_registry::ModelRetiredAck {
                farewell: ::std::string::String::new(),
            })
        }
    }

    /// A user-written input model (`single_operation.yaml` has no `definitions`).
    #[derive(::core::fmt::Debug, ::serde::Serialize, ::serde::Deserialize)]
    pub struct ModelText {
        text: ::std::string::String,
    }

    /// A user-written output model.
    #[derive(::core::fmt::Debug, ::serde::Serialize, ::serde::Deserialize)]
    pub struct ModelCount {
        words: usize,
    }

    #[::onex_runtime::effect_node(contract = "../contracts/single_operation.yaml")]
    pub struct WordCounter;

    impl WordCounterHandler for WordCounter {
        async fn handle(
            &self,
            _ctx: &::onex_runtime::EffectContext,
            input: ModelText,
        ) -> ::core::result::Result<ModelCount, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(ModelCount {
                words: ::core::iter::Iterator::count(input.text.split_whitespace()),
            })
        }
    }
}

use onex_runtime::EffectNode;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let request = br#"{"payload": {"operation": "greet", "name": "Ada"},
                       "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                       "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
    let reply = rt
        .block_on(hygiene::Greeter.process_json(request))
        .expect("greet succeeds");
    assert_eq!(reply.payload["text"], "Hello, Ada!");
    let request = br#"{"payload": {"operation": "ping"},
                       "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                       "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
    let reply = rt
        .block_on(hygiene::Echo.process_json(request))
        .expect("ping succeeds");
    assert_eq!(reply.payload, "pong");
    let request = br#"{"payload": {"operation": "item.put", "sku": "abc", "status": "on-hold",
                                   "tags": [{"key": "k", "value": "v"}]},
                       "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                       "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
    let reply = rt
        .block_on(hygiene::Inventory.process_json(request))
        .expect("item.put succeeds");
    assert_eq!(reply.payload["status"], "on-hold");
    let request = br#"{"payload": {"text": "a b c"},
                       "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                       "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
    let reply = rt
        .block_on(hygiene::WordCounter.process_json(request))
        .expect("process succeeds");
    assert_eq!(reply.payload["words"], 3);
    let _ = hygiene::NodeRegistry;
}
