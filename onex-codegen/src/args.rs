//! Macro arguments (`contract = "…"`, `relative_to = …`, `crate = …`, `derive(…)`, `strict`,
//! `context = Type`, `input = Type`, `bind(step = NodeType, …)`).

use darling::FromMeta;
use darling::ast::NestedMeta;
use proc_macro2::TokenStream;

/// Where a relative contract path is resolved from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RelativeTo {
    /// The source file holding the attribute (like `include_str!`). The default.
    #[default]
    File,
    /// The crate's `CARGO_MANIFEST_DIR`.
    Manifest,
}

impl FromMeta for RelativeTo {
    fn from_string(value: &str) -> darling::Result<Self> {
        match value {
            "file" => Ok(RelativeTo::File),
            "manifest" => Ok(RelativeTo::Manifest),
            other => {
                Err(darling::Error::unknown_value(other).with_span(&proc_macro2::Span::call_site()))
            }
        }
    }

    fn from_expr(expr: &syn::Expr) -> darling::Result<Self> {
        match expr {
            syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                let word = p
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                Self::from_string(&word).map_err(|_| {
                    darling::Error::custom(format!(
                        "unknown `relative_to` value `{word}`; use `file` or `manifest`"
                    ))
                    .with_span(expr)
                })
            }
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Self::from_string(&s.value()).map_err(|_| {
                darling::Error::custom(format!(
                    "unknown `relative_to` value `{}`; use `file` or `manifest`",
                    s.value()
                ))
                .with_span(s)
            }),
            other => Err(
                darling::Error::custom("`relative_to` is `file` or `manifest`").with_span(other),
            ),
        }
    }
}

/// The parsed arguments of a node attribute.
#[derive(Debug, FromMeta)]
pub struct NodeArgs {
    /// The contract path literal, as written.
    pub contract: syn::LitStr,
    /// How to resolve a relative path.
    #[darling(default)]
    pub relative_to: RelativeTo,
    /// `crate = path`: where `onex_runtime` lives (for re-exporting crates).
    #[darling(rename = "crate")]
    pub krate: Option<syn::Path>,
    /// Extra derives for the generated input/output enums.
    #[darling(default)]
    pub derive: darling::util::PathList,
    /// Fingerprint drift and state machine warnings are errors instead of warnings.
    #[darling(default)]
    pub strict: bool,
    /// `context = Type`: the type reducer guards read (default: the contract's `input_model`).
    pub context: Option<syn::Path>,
    /// `input = Type`: the workflow input of an orchestrator (default: the contract's
    /// `input_model`, else `()`).
    pub input: Option<syn::Path>,
    /// `bind(step = NodeType, …)`: nodes bound to orchestrator steps by type (their kind is
    /// checked against the step's `node_type`).
    #[darling(default)]
    pub bind: Bindings,
}

/// `bind(step = NodeType, …)`, in the order written.
#[derive(Debug, Default)]
pub struct Bindings(pub Vec<(syn::Ident, syn::Path)>);

impl FromMeta for Bindings {
    fn from_list(items: &[NestedMeta]) -> darling::Result<Self> {
        let mut errors = darling::Error::accumulator();
        let mut out = Vec::new();
        for item in items {
            let bound = match item {
                NestedMeta::Meta(syn::Meta::NameValue(nv)) => {
                    match (nv.path.get_ident(), &nv.value) {
                        (Some(step), syn::Expr::Path(ty)) if ty.qself.is_none() => {
                            Some((step.clone(), ty.path.clone()))
                        }
                        _ => None,
                    }
                }
                _ => None,
            };
            match bound {
                Some(b) => out.push(b),
                None => errors.push(
                    darling::Error::custom(
                        "expected `step_id = NodeType`, e.g. `bind(fetch_raw_data = FetchAdapter)`",
                    )
                    .with_span(item),
                ),
            }
        }
        errors.finish_with(Bindings(out))
    }
}

/// Parses the attribute's arguments, collecting every problem (unknown keys with suggestions).
///
/// When some argument is wrong but `contract = "…"` is readable, the contract is returned
/// too (with defaults for the rest), so the expansion still happens and one mistake does
/// not cascade into errors about missing generated items.
pub fn parse(args: TokenStream) -> (Option<NodeArgs>, Option<syn::Error>) {
    let metas = match NestedMeta::parse_meta_list(args) {
        Ok(metas) => metas,
        Err(e) => {
            let e = syn::Error::new(
                e.span(),
                format!("{e}; expected `contract = \"path.yaml\"`"),
            );
            return (None, Some(e));
        }
    };
    // `contract` gets onex's own messages; darling's generic ones are dropped for it.
    let contract_meta = metas.iter().find_map(|m| match m {
        NestedMeta::Meta(syn::Meta::NameValue(nv)) if nv.path.is_ident("contract") => Some(nv),
        _ => None,
    });
    let mut own: Option<syn::Error> = None;
    let contract = match contract_meta {
        Some(nv) => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.clone()),
            other => {
                own = Some(syn::Error::new_spanned(
                    other,
                    "`contract` must be a string literal\n  help: write `contract = \"contract.yaml\"`",
                ));
                None
            }
        },
        None => None,
    };
    match NodeArgs::from_list(&metas) {
        Ok(args) => (Some(args), None),
        Err(e) => {
            let near_miss = e.to_string().contains("Did you mean `contract`");
            let mut combined = own;
            for sub in e {
                let text = sub.to_string();
                let about_contract = text.contains("Missing field `contract`")
                    || (contract_meta.is_some()
                        && contract.is_none()
                        && text.contains("Unexpected"));
                if about_contract && (near_miss || contract_meta.is_some()) {
                    continue;
                }
                let sub: syn::Error = if text.contains("Missing field `contract`") {
                    syn::Error::new(
                        proc_macro2::Span::call_site(),
                        "missing `contract = \"…\"`: the path of the node's contract YAML\n  help: add `contract = \"contract.yaml\"` (relative to this source file)",
                    )
                } else {
                    sub.into()
                };
                match &mut combined {
                    Some(c) => c.combine(sub),
                    None => combined = Some(sub),
                }
            }
            let recovered = contract.map(|contract| NodeArgs {
                contract,
                relative_to: RelativeTo::File,
                krate: None,
                derive: darling::util::PathList::default(),
                strict: false,
                context: None,
                input: None,
                bind: Bindings::default(),
            });
            (recovered, combined)
        }
    }
}
