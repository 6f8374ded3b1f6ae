// What a contract error looks like once the crate already implements the handler and uses
// the generated API. Ideally only the contract error is shown; today the fallback's empty
// stand-ins (`trait GreeterHandler {}`, `enum GreeterInput {}`, `mod greeter {}`) add one
// follow-up error per handler method and per use, plus "unreachable" warnings because the
// empty enums are uninhabited.

mod nodes {
    use onex_runtime::{EffectContext, OnexError, effect_node};

    #[effect_node(contract = "contract_error_with_handler_impl.yaml")]
    pub struct Greeter;

    impl GreeterHandler for Greeter {
        async fn greet(
            &self,
            _ctx: &EffectContext,
            input: greeter::ModelGreeting,
        ) -> Result<greeter::ModelReply, OnexError> {
            Ok(greeter::ModelReply { text: input.name })
        }
    }
}

mod elsewhere {
    use crate::nodes::{GreeterInput, greeter};

    pub fn input() -> GreeterInput {
        GreeterInput::Greet(greeter::ModelGreeting {
            name: String::from("Ada"),
        })
    }
}

fn main() {
    let _ = elsewhere::input();
}
