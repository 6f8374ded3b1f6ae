//! Checks between the contract and the user's Rust item.

use onex_contracts::NodeKind;
use onex_contracts::model::DocumentKind;
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

/// The contract's kind must match the macro's.
pub fn kind(expected: NodeKind, actual: DocumentKind, node_type: Option<&str>) -> Option<String> {
    match actual {
        DocumentKind::Node(kind) if kind == expected => None,
        DocumentKind::Node(kind) => Some(format!(
            "`#[{}]` on {} {kind} contract (`node_type: {}`)\n  help: use `#[{}]`, or point `contract` at a {expected} contract",
            expected.macro_name(),
            if kind == NodeKind::Effect || kind == NodeKind::Orchestrator {
                "an"
            } else {
                "a"
            },
            node_type.unwrap_or_default(),
            kind.macro_name()
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
