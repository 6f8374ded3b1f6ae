//! Attribute macros that declare ONEX nodes from their YAML contracts.
//!
//! Use them through `onex-runtime`, which re-exports them and holds everything the
//! generated code needs. Each entry point is a thin call into `onex-codegen`.

use proc_macro::TokenStream;

/// Declares an EFFECT node from its contract: `#[effect_node(contract = "contract.yaml")]`.
///
/// See the `onex_runtime` crate documentation for the generated API.
#[proc_macro_attribute]
pub fn effect_node(args: TokenStream, item: TokenStream) -> TokenStream {
    onex_codegen::expand_effect_node(args.into(), item.into(), onex_codegen::CallSite::capture())
        .into()
}

/// Declares a COMPUTE node (a pure transformation) from its contract:
/// `#[compute_node(contract = "contract.yaml")]`.
///
/// See the `onex_runtime` crate documentation for the generated API.
#[proc_macro_attribute]
pub fn compute_node(args: TokenStream, item: TokenStream) -> TokenStream {
    onex_codegen::expand_compute_node(args.into(), item.into(), onex_codegen::CallSite::capture())
        .into()
}

/// Declares a REDUCER node from its contract's state machine:
/// `#[reducer_node(contract = "contract.yaml")]`.
///
/// See the `onex_runtime` crate documentation for the generated API.
#[proc_macro_attribute]
pub fn reducer_node(args: TokenStream, item: TokenStream) -> TokenStream {
    onex_codegen::expand_reducer_node(args.into(), item.into(), onex_codegen::CallSite::capture())
        .into()
}

/// Declares an ORCHESTRATOR node from its contract's workflow:
/// `#[orchestrator_node(contract = "contract.yaml")]`.
///
/// Options: `input = Type` (the workflow input; default the contract's `input_model`, else
/// `()`), `bind(step = NodeType, …)` (checks at compile time that the node bound to a step
/// is of the kind the step declares). See the `onex_runtime` crate documentation for the
/// generated API.
#[proc_macro_attribute]
pub fn orchestrator_node(args: TokenStream, item: TokenStream) -> TokenStream {
    onex_codegen::expand_orchestrator_node(
        args.into(),
        item.into(),
        onex_codegen::CallSite::capture(),
    )
    .into()
}
