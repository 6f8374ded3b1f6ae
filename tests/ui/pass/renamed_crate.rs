//! `crate = path` points generated code at a renamed or re-exported onex (gear-tech/sails
//! #580): an `extern crate … as` alias, a `use` alias, and a facade module.

pub extern crate onex_runtime as my_onex;

mod framework {
    //! What a facade crate does: re-export onex under its own name.
    pub use my_onex as onex;
}

mod nodes {
    use crate::framework::onex;

    #[onex::effect_node(contract = "../contracts/greeter.yaml", crate = onex)]
    pub struct Greeter;

    impl GreeterHandler for Greeter {
        async fn greet(
            &self,
            _ctx: &onex::EffectContext,
            input: greeter::ModelGreeting,
        ) -> Result<greeter::ModelReply, onex::OnexError> {
            Ok(greeter::ModelReply {
                text: format!("Hello, {}!", input.name),
                at: None,
                id: None,
            })
        }

        async fn farewell(
            &self,
            _ctx: &onex::EffectContext,
            input: greeter::ModelGreeting,
        ) -> Result<greeter::ModelReply, onex::OnexError> {
            Ok(greeter::ModelReply {
                text: format!("Goodbye, {}!", input.name),
                at: None,
                id: None,
            })
        }
    }

    #[my_onex::effect_node(contract = "../contracts/untyped.yaml", crate = crate::framework::onex)]
    pub struct Echo;

    impl EchoHandler for Echo {
        async fn echo(
            &self,
            _ctx: &my_onex::EffectContext,
            input: my_onex::JsonValue,
        ) -> Result<my_onex::JsonValue, my_onex::OnexError> {
            Ok(input)
        }

        async fn ping(
            &self,
            _ctx: &my_onex::EffectContext,
            _input: my_onex::JsonValue,
        ) -> Result<my_onex::JsonValue, my_onex::OnexError> {
            Ok("pong".into())
        }
    }
}

mod deep {
    pub mod er {
        #[my_onex::effect_node(contract = "../contracts/untyped.yaml", crate = ::my_onex)]
        pub struct Echo;

        impl EchoHandler for Echo {
            async fn echo(
                &self,
                _ctx: &my_onex::EffectContext,
                input: my_onex::JsonValue,
            ) -> Result<my_onex::JsonValue, my_onex::OnexError> {
                Ok(input)
            }

            async fn ping(
                &self,
                _ctx: &my_onex::EffectContext,
                _input: my_onex::JsonValue,
            ) -> Result<my_onex::JsonValue, my_onex::OnexError> {
                Ok("deep pong".into())
            }
        }
    }
}

use my_onex::EffectNode;

fn envelope(payload: &str) -> Vec<u8> {
    format!(
        r#"{{"payload": {payload},
            "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
            "envelope_timestamp": "2026-11-20T12:30:45Z"}}"#
    )
    .into_bytes()
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    let reply = rt
        .block_on(
            nodes::Greeter.process_json(&envelope(r#"{"operation": "farewell", "name": "Ada"}"#)),
        )
        .expect("farewell succeeds");
    assert_eq!(reply.payload["text"], "Goodbye, Ada!");
    let reply = rt
        .block_on(nodes::Echo.process_json(&envelope(r#"{"operation": "ping"}"#)))
        .expect("ping succeeds");
    assert_eq!(reply.payload, "pong");
    let reply = rt
        .block_on(deep::er::Echo.process_json(&envelope(r#"{"operation": "ping"}"#)))
        .expect("ping succeeds");
    assert_eq!(reply.payload, "deep pong");
    assert_eq!(<nodes::Echo as EffectNode>::CONTRACT.name, "echo");
}
