//! Code generation behind onex's node attributes: contract + user item → tokens.
//!
//! A plain library (semver-exempt internals of onex), so the whole pipeline is unit- and
//! snapshot-tested without a compiler in the loop:
//! args → locate → load → validate (contract-internal, then contract-vs-Rust) → lower → expand,
//! with [`fallback`] on any error. It never panics: every problem becomes a `compile_error!`
//! on the best span, all reported together.

pub mod args;
pub mod expand;
pub mod fallback;
pub mod load;
pub mod locate;
pub mod lower;
pub mod private;
pub mod valid;

pub use expand::Flavor;
pub use locate::CallSite;
use onex_contracts::NodeKind;
use proc_macro2::TokenStream;
use quote::quote;

/// Expands `#[effect_node(args)] item`.
pub fn expand_effect_node(args: TokenStream, item: TokenStream, site: CallSite) -> TokenStream {
    expand_node(NodeKind::Effect, args, item, &site)
}

/// Expands `#[compute_node(args)] item`.
pub fn expand_compute_node(args: TokenStream, item: TokenStream, site: CallSite) -> TokenStream {
    expand_node(NodeKind::Compute, args, item, &site)
}

/// Expands `#[orchestrator_node(args)] item`.
pub fn expand_orchestrator_node(
    args: TokenStream,
    item: TokenStream,
    site: CallSite,
) -> TokenStream {
    expand_node(NodeKind::Orchestrator, args, item, &site)
}

/// Expands `#[reducer_node(args)] item`.
pub fn expand_reducer_node(args: TokenStream, item: TokenStream, site: CallSite) -> TokenStream {
    expand_node(NodeKind::Reducer, args, item, &site)
}

fn expand_node(
    kind: NodeKind,
    args: TokenStream,
    item_tokens: TokenStream,
    site: &CallSite,
) -> TokenStream {
    let (args, arg_error) = args::parse(args);
    // An argument error alone still expands (with defaults), so nothing else cascades; it
    // is reported after the contract's errors either way.
    match generate(kind, args.as_ref(), &item_tokens, site) {
        Ok(expansion) => {
            let arg_error = arg_error.map(|e| e.to_compile_error());
            quote! {
                #item_tokens
                #expansion
                #arg_error
            }
        }
        Err(mut errors) => {
            errors.extend(arg_error);
            fallback::fallback(&item_tokens, errors)
        }
    }
}

/// Everything generated besides the user's item, or every error that prevents it.
fn generate(
    kind: NodeKind,
    args: Option<&args::NodeArgs>,
    item_tokens: &TokenStream,
    site: &CallSite,
) -> Result<TokenStream, Vec<syn::Error>> {
    let mut errors = Vec::new();
    let item: Option<syn::Item> = match syn::parse2(item_tokens.clone()) {
        Ok(item) => Some(item),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let strukt = item.as_ref().and_then(|i| valid::item(i, &mut errors));
    let Some(args) = args else {
        return Err(errors);
    };
    let path = match locate::resolve(&args.contract, args.relative_to, site) {
        Ok(path) => path,
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    let loaded = load::load(&path.abs, &path.display);
    let lit = &args.contract;
    if let Some(read) = loaded.diagnostics.iter().find(|d| d.code == "read-failed") {
        errors.push(syn::Error::new(
            lit.span(),
            format!(
                "cannot read contract `{}` (resolved against {}): {}\n  help: {}",
                path.display,
                path.base,
                io_reason(&read.message),
                match args.relative_to {
                    args::RelativeTo::File => "paths are relative to the source file holding the attribute; use `relative_to = manifest` for CARGO_MANIFEST_DIR",
                    args::RelativeTo::Manifest => "with `relative_to = manifest` the path is relative to the crate root (the directory of Cargo.toml)",
                },
            ),
        ));
        return Err(errors);
    }
    for d in loaded.errors() {
        errors.push(syn::Error::new(lit.span(), loaded.render(d)));
    }
    if let Some(contract) = &loaded.contract
        // An unknown `node_type` was reported already; the kind check would repeat it.
        && contract
            .node_type
            .as_ref()
            .is_none_or(|n| onex_contracts::kind::node_type(&n.value).is_some())
        && let Some(message) = valid::kind(
            kind,
            contract.kind,
            contract.node_type.as_ref().map(|n| n.value.as_str()),
        )
    {
        let at = contract
            .node_type
            .as_ref()
            .map_or(contract.root.loc, |n| n.loc);
        errors.push(located(lit, &loaded, at, &message));
    }
    if let Some(contract) = &loaded.contract
        && let Some((at, message)) = valid::purity(kind, contract)
    {
        errors.push(located(lit, &loaded, at, &message));
    }
    let warnings = surfaced_warnings(&loaded);
    if args.strict {
        for w in &warnings {
            errors.push(syn::Error::new(
                lit.span(),
                format!("{}\n  note: {}", w.message, w.strict_note),
            ));
        }
    }
    misplaced_options(kind, args, &mut errors);
    let reducer = match (kind, &loaded.contract) {
        (NodeKind::Reducer, Some(contract)) if errors.is_empty() => {
            reducer_inputs(args, &loaded, contract, &mut errors)
        }
        _ => None,
    };
    let orchestrator = match (kind, &loaded.contract) {
        (NodeKind::Orchestrator, Some(contract)) if errors.is_empty() => {
            orchestrator_inputs(args, &loaded, contract, &mut errors)
        }
        _ => None,
    };
    let (Some(strukt), Some(contract), Some(ops), true) = (
        strukt,
        &loaded.contract,
        &loaded.operations,
        errors.is_empty(),
    ) else {
        return Err(errors);
    };
    let fingerprint = loaded
        .fingerprint
        .as_ref()
        .map_or_else(String::new, ToString::to_string);
    let mut ir = lower::lower(&strukt.ident, contract, ops, fingerprint);
    if kind == NodeKind::Orchestrator {
        // An orchestrator is driven by its workflow, not by operations: its `CONTRACT`
        // lists none (not the implicit `process` of a single-operation node).
        ir.ops.clear();
    }
    let rt = private::Runtime::new(args.krate.as_ref());
    let includes: Vec<String> = loaded
        .sources
        .iter()
        .skip(1)
        .map(|s| s.display.clone())
        .collect();
    let tracking = locate::tracking(lit, &path, &includes);
    let expansion = match (kind, reducer, orchestrator) {
        (NodeKind::Orchestrator, _, Some((wf, input, bindings))) => {
            let module = expand::module(&ir, &rt);
            let node = expand::orchestrator::node(&ir, wf, &input, &bindings, &rt, tracking);
            quote!(#module #node)
        }
        (NodeKind::Reducer, Some((fsm, context)), _) => {
            let module = expand::module(&ir, &rt);
            let reducer =
                expand::reducer::node(&ir, fsm, &context, &contract.definitions, &rt, tracking);
            quote!(#module #reducer)
        }
        (NodeKind::Compute, _, _) => {
            expand::node(&ir, Flavor::Compute, &rt, &args.derive, tracking)
        }
        _ => expand::node(&ir, Flavor::Effect, &rt, &args.derive, tracking),
    };
    let warnings = deprecation_warnings(&warnings, lit);
    Ok(quote! {
        #expansion
        #warnings
    })
}

/// A contract warning users get to see: fingerprint drift and FSM findings (`fsm-no-way-out`).
struct Surfaced {
    /// `file:LINE:COL: message` (+ help).
    message: String,
    /// The deprecated item that carries it.
    item: &'static str,
    /// What `strict` adds when it makes the warning an error.
    strict_note: &'static str,
}

fn surfaced_warnings(loaded: &onex_contracts::Loaded) -> Vec<Surfaced> {
    loaded
        .warnings()
        .filter_map(|d| {
            let (item, strict_note) = if d.code == "fingerprint-drift" {
                (
                    "onex_fingerprint_drift",
                    "`strict` makes fingerprint drift an error",
                )
            } else if d.code.starts_with("fsm-") {
                (
                    "onex_state_machine_warning",
                    "`strict` makes state machine warnings errors",
                )
            } else if d.code.starts_with("workflow-") {
                (
                    "onex_workflow_warning",
                    "`strict` makes workflow warnings errors",
                )
            } else if d.code.starts_with("db-") {
                (
                    "onex_db_warning",
                    "`strict` makes db operation warnings errors",
                )
            } else if d.code.starts_with("policy-") {
                (
                    "onex_policy_warning",
                    "`strict` makes policy warnings errors",
                )
            } else {
                return None;
            };
            Some(Surfaced {
                message: loaded.render(d),
                item,
                strict_note,
            })
        })
        .collect()
}

/// Stable proc macros cannot emit warnings; a deprecated item used once makes rustc warn,
/// with the message, at the contract literal. One item per warning.
fn deprecation_warnings(warnings: &[Surfaced], lit: &syn::LitStr) -> TokenStream {
    let span = lit.span();
    warnings
        .iter()
        .map(|w| {
            let (note, item) = (&w.message, proc_macro2::Ident::new(w.item, span));
            quote::quote_spanned! {span=>
                const _: () = {
                    #[deprecated(note = #note)]
                    #[allow(non_upper_case_globals)]
                    const #item: () = ();
                    #item
                };
            }
        })
        .collect()
}

/// An error on the contract literal, located `file.yaml:LINE:COL` in the contract.
fn located(
    lit: &syn::LitStr,
    loaded: &onex_contracts::Loaded,
    at: onex_contracts::yaml::Loc,
    message: &str,
) -> syn::Error {
    syn::Error::new(
        lit.span(),
        format!("{}:{}:{}: {message}", loaded.file_of(at), at.line, at.col),
    )
}

fn io_reason(message: &str) -> &str {
    message.rsplit(": ").next().unwrap_or(message)
}

/// The reducer's state machine and guard context, or the errors that prevent them.
fn reducer_inputs<'a>(
    args: &args::NodeArgs,
    loaded: &'a onex_contracts::Loaded,
    contract: &onex_contracts::Contract,
    errors: &mut Vec<syn::Error>,
) -> Option<(&'a onex_contracts::fsm::Fsm, expand::reducer::Context)> {
    let lit = &args.contract;
    let Some(fsm) = &loaded.fsm else {
        let (at, message) = onex_contracts::attribute::missing_state_machine(contract);
        errors.push(located(lit, loaded, at, message));
        return None;
    };
    match expand::reducer::context(args.context.as_ref(), contract, fsm) {
        Ok(context) => Some((fsm, context)),
        Err((at, message)) => {
            errors.push(located(lit, loaded, at, &message));
            None
        }
    }
}

/// Options that belong to another node attribute: one error each, on the option.
fn misplaced_options(kind: NodeKind, args: &args::NodeArgs, errors: &mut Vec<syn::Error>) {
    let mut misplaced = |span: proc_macro2::Span, option: &str, owner: NodeKind, what: &str| {
        errors.push(syn::Error::new(
            span,
            format!(
                "`{option}` applies to `#[{}]` only ({what})\n  help: remove it from `#[{}]`",
                owner.macro_name(),
                kind.macro_name()
            ),
        ));
    };
    if kind != NodeKind::Reducer
        && let Some(context) = &args.context
    {
        let span = syn::spanned::Spanned::span(context);
        misplaced(
            span,
            "context = …",
            NodeKind::Reducer,
            "it names the type reducer guards read",
        );
    }
    if kind != NodeKind::Orchestrator {
        if let Some(input) = &args.input {
            let span = syn::spanned::Spanned::span(input);
            misplaced(
                span,
                "input = …",
                NodeKind::Orchestrator,
                "it names the workflow input type",
            );
        }
        if let Some((step, _)) = args.bind.0.first() {
            misplaced(
                step.span(),
                "bind(…)",
                NodeKind::Orchestrator,
                "it binds nodes to workflow steps",
            );
        }
    }
}

/// The orchestrator's workflow, input type and step bindings, or the errors that prevent
/// them.
fn orchestrator_inputs<'a>(
    args: &args::NodeArgs,
    loaded: &'a onex_contracts::Loaded,
    contract: &onex_contracts::Contract,
    errors: &mut Vec<syn::Error>,
) -> Option<(
    &'a onex_contracts::workflow::Workflow,
    expand::reducer::Context,
    Vec<expand::orchestrator::Binding>,
)> {
    let lit = &args.contract;
    let Some(wf) = &loaded.workflow else {
        let (at, message) = onex_contracts::attribute::missing_workflow(contract);
        errors.push(located(lit, loaded, at, message));
        return None;
    };
    let input = expand::reducer::named_type(args.input.as_ref(), contract)
        .unwrap_or(expand::reducer::Context::Unit);
    let ids: Vec<&str> = wf.steps.iter().map(|s| s.id.value.as_str()).collect();
    let mut bindings: Vec<expand::orchestrator::Binding> = Vec::new();
    for (step, ty) in &args.bind.0 {
        let name = step.to_string();
        let name = name.strip_prefix("r#").unwrap_or(&name);
        let Some(index) = ids.iter().position(|id| *id == name) else {
            let hint = match onex_contracts::diag::did_you_mean(name, &ids) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!("the steps are: {}", ids.join(", ")),
            };
            errors.push(syn::Error::new(
                step.span(),
                format!("`bind`: the workflow has no step `{name}`\n  help: {hint}"),
            ));
            continue;
        };
        if bindings.iter().any(|b| b.step == index) {
            errors.push(syn::Error::new(
                step.span(),
                format!("`bind`: step `{name}` is bound twice\n  help: bind each step to one node"),
            ));
            continue;
        }
        let at = wf.steps[index]
            .node_type
            .as_ref()
            .map_or(wf.steps[index].loc, |t| t.loc);
        bindings.push(expand::orchestrator::Binding {
            step: index,
            ty: ty.clone(),
            at: format!("{}:{}:{}", loaded.file_of(at), at.line, at.col),
        });
    }
    errors.is_empty().then_some((wf, input, bindings))
}
