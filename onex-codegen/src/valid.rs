//! Checks between the contract and the user's Rust item.

use onex_contracts::model::DocumentKind;
use onex_contracts::yaml::Loc;
use onex_contracts::{Contract, NodeKind};
use syn::spanned::Spanned;

/// The user's item must be a non-generic struct.
pub fn item(item: &syn::Item, errors: &mut Vec<syn::Error>) -> Option<syn::ItemStruct> {
    match item {
        syn::Item::Struct(s) => {
            if !s.generics.params.is_empty() || s.generics.where_clause.is_some() {
                errors.push(syn::Error::new(
                    s.generics.span(),
                    "onex nodes cannot be generic: the contract fixes every type\n  help: move the generic part into a field, e.g. `pool: Box<dyn Pool>`",
                ));
            }
            Some(s.clone())
        }
        other => {
            errors.push(syn::Error::new(
                item_span(other),
                "onex node attributes apply to a struct (named, tuple or unit)",
            ));
            None
        }
    }
}

fn item_span(item: &syn::Item) -> proc_macro2::Span {
    match item {
        syn::Item::Enum(e) => e.enum_token.span,
        syn::Item::Fn(f) => f.sig.fn_token.span,
        syn::Item::Trait(t) => t.trait_token.span,
        syn::Item::Union(u) => u.union_token.span,
        syn::Item::Impl(i) => i.impl_token.span,
        other => other.span(),
    }
}

/// "a" or "an" before the kind's name.
fn article(kind: NodeKind) -> &'static str {
    if kind == NodeKind::Effect || kind == NodeKind::Orchestrator {
        "an"
    } else {
        "a"
    }
}

/// The contract's kind must match the macro's.
pub fn kind(expected: NodeKind, actual: DocumentKind, node_type: Option<&str>) -> Option<String> {
    match actual {
        DocumentKind::Node(kind) if kind == expected => None,
        DocumentKind::Node(kind) => Some(format!(
            "`#[{}]` on {} {kind} contract (`node_type: {}`)\n  help: use `#[{}]`, or point `contract` at {} {expected} contract",
            expected.macro_name(),
            article(kind),
            node_type.unwrap_or_default(),
            kind.macro_name(),
            article(expected),
        )),
        other => Some(format!(
            "`#[{}]` needs a node contract, but this file is a {}\n  help: node contracts have `node_type: {}`",
            expected.macro_name(),
            other.describe(),
            match expected {
                NodeKind::Effect => "EFFECT_GENERIC",
                NodeKind::Compute => "COMPUTE_GENERIC",
                NodeKind::Reducer => "REDUCER_GENERIC",
                NodeKind::Orchestrator => "ORCHESTRATOR_GENERIC",
            }
        )),
    }
}

/// A compute contract must not declare side effects: the rule
/// [`onex_contracts::attribute::impure_compute`] states, applied when the macro is
/// `#[compute_node]`. This is a check of the contract against the macro, not of the
/// contract alone: the same contract under `#[effect_node]` is a kind mismatch instead, and
/// `onex validate` accepts it (the corpus has side-effecting descriptors on effect and
/// orchestrator nodes). Returns the location of the purity value and the message.
pub fn purity(expected: NodeKind, contract: &Contract) -> Option<(Loc, String)> {
    if expected != NodeKind::Compute {
        // Other macros have no purity rule; a kind mismatch is reported by [`kind`].
        return None;
    }
    onex_contracts::attribute::impure_compute(contract)
}
