//! Expansion snapshots of `#[effect_node]`, `#[compute_node]`, `#[reducer_node]` and
//! `#[orchestrator_node]` (STYLE.md §11.5, DESIGN.md §8).
//!
//! For every contract in `snapshots/contracts/*.yaml`, the test expands
//! `#[effect_node(contract = "contracts/<name>.yaml")] pub struct <Node>;` with
//! `onex_codegen::expand_effect_node`, or `#[compute_node]` with
//! `onex_codegen::expand_compute_node` / `#[reducer_node]` with
//! `onex_codegen::expand_reducer_node` / `#[orchestrator_node]` with
//! `onex_codegen::expand_orchestrator_node` when the contract's `node_type` is a compute,
//! reducer or orchestrator kind (no compiler in the loop: the call site is a
//! hand-built [`CallSite`] whose source file sits in `snapshots/`), pretty-prints it with
//! `prettyplease`, and compares it with `snapshots/expanded/<name>.snap`. Each expansion
//! must be free of absolute paths and identical when expanded twice.
//!
//! The same expansions are then compiled: [`expansions_compile`] writes
//! `snapshots/compiled/<name>.rs` (the expansion under `#![deny(warnings, missing_docs)]`,
//! plus a handler impl (for an orchestrator, an `impl {Node}Steps`), stand-ins for
//! user-provided models and a `main`, all generated here) and builds and runs them with
//! trybuild (the typify pattern).
//!
//! # Updating
//!
//! No `cargo insta` needed:
//!
//! ```text
//! INSTA_UPDATE=always cargo test -p onex-tests --test snapshots   # rewrite the .snap files
//! git diff tests/snapshots/                                       # review, then commit
//! ```
//!
//! Without `INSTA_UPDATE`, a mismatch fails the test (and outside CI insta leaves a
//! `.snap.new` next to the old file; delete it or accept it with `INSTA_UPDATE=always`).
//! A new contract gets its snapshot the same way. The files in `snapshots/compiled/` are
//! derived artifacts: every run rewrites them (only when their content changes), so commit
//! them together with the snapshots.

use std::fs;
use std::path::{Path, PathBuf};

use onex_codegen::CallSite;
use onex_contracts::NodeKind;
use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use quote::{format_ident, quote};

/// `tests/` (this package's manifest directory).
fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snapshots_dir() -> PathBuf {
    manifest_dir().join("snapshots")
}

/// One contract of `snapshots/contracts/`.
struct Case {
    /// File stem: the snapshot's and the compiled copy's name.
    name: String,
    /// The user's struct, named after the contract's `name` (`postgres_adapter` →
    /// `PostgresAdapter`), so the generated names read like a real node's.
    node: Ident,
    /// The contract's kind, which picks the attribute.
    kind: NodeKind,
    /// An orchestrator's plan as `onex_contracts` computes it, which the compiled copy's
    /// `main` checks the generated `PLAN` against.
    plan: Option<ExpectedPlan>,
}

/// What `<Node as OrchestratorNode>::PLAN` must hold, by step id.
struct ExpectedPlan {
    name: String,
    order: Vec<String>,
    waves: Vec<Vec<String>>,
    compensable: Vec<String>,
    mode: &'static str,
    failure_strategy: &'static str,
    max_parallel_steps: Option<u32>,
    /// A request envelope whose payload fits the workflow input (its required fields).
    request: String,
}

impl ExpectedPlan {
    fn new(wf: &onex_contracts::workflow::Workflow, contract: &onex_contracts::Contract) -> Self {
        let input = match &contract.input_model {
            None => serde_json::json!({}),
            Some(model) => {
                let name = &model.name.value;
                assert!(
                    contract.definition(name).is_some(),
                    "the orchestrator's `input_model` `{name}` must be defined in `definitions`"
                );
                sample(
                    contract,
                    &onex_contracts::schema::TypeExpr::Ref(model.name.clone()),
                )
            }
        };
        let id = |i: &usize| wf.steps[*i].id.value.clone();
        ExpectedPlan {
            name: wf.name.clone(),
            order: wf.order().iter().map(id).collect(),
            waves: wf
                .waves()
                .iter()
                .map(|wave| wave.iter().map(id).collect())
                .collect(),
            compensable: wf
                .steps
                .iter()
                .filter(|s| s.compensable)
                .map(|s| s.id.value.clone())
                .collect(),
            mode: wf.mode.as_str(),
            failure_strategy: wf.rules.failure_strategy.as_str(),
            max_parallel_steps: wf.rules.max_parallel_steps,
            request: serde_json::json!({ "payload": input }).to_string(),
        }
    }
}

/// A value of type `ty` with the required fields of every model filled in.
fn sample(
    contract: &onex_contracts::Contract,
    ty: &onex_contracts::schema::TypeExpr,
) -> serde_json::Value {
    use onex_contracts::schema::{ModelShape, TypeExpr};
    use serde_json::{Value, json};
    match ty {
        TypeExpr::String => json!("sample"),
        TypeExpr::Integer => json!(1),
        TypeExpr::Number => json!(1.0),
        TypeExpr::Boolean => json!(true),
        TypeExpr::Uuid => json!("00000000-0000-0000-0000-000000000000"),
        TypeExpr::DateTime => json!("2026-01-01T00:00:00Z"),
        TypeExpr::Any => Value::Null,
        TypeExpr::Array(_) => json!([]),
        TypeExpr::Map(_) => json!({}),
        TypeExpr::Enum { values, .. } => json!(values[0].value),
        TypeExpr::Ref(name) => {
            let def = contract
                .definition(&name.value)
                .unwrap_or_else(|| panic!("no definition `{}`", name.value));
            match &def.shape {
                ModelShape::Enum(values) => json!(values[0].value),
                ModelShape::Object(fields) => Value::Object(
                    fields
                        .iter()
                        .filter(|f| !f.optional())
                        .map(|f| (f.name.value.clone(), sample(contract, &f.ty)))
                        .collect(),
                ),
            }
        }
    }
}

fn cases() -> Vec<Case> {
    let dir = snapshots_dir().join("contracts");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no contracts in {}", dir.display());
    paths
        .iter()
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let loaded = onex_contracts::load_file(path, &name);
            assert!(
                !loaded.has_errors(),
                "{name}: the contract must be valid:\n{}",
                loaded
                    .diagnostics
                    .iter()
                    .map(|d| loaded.render(d))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            let contract_name = loaded
                .contract
                .as_ref()
                .and_then(|c| c.name.as_ref())
                .map_or_else(|| name.clone(), |n| n.value.clone());
            let node = Ident::new(
                &onex_contracts::names::camel(&contract_name),
                Span::call_site(),
            );
            let kind = loaded.contract.as_ref().and_then(|c| c.node_kind());
            let Some(kind) = kind else {
                panic!("{name}: a contract of a node kind is needed");
            };
            let plan = loaded
                .workflow
                .as_ref()
                .zip(loaded.contract.as_ref())
                .map(|(wf, contract)| ExpectedPlan::new(wf, contract));
            assert_eq!(
                plan.is_some(),
                kind == NodeKind::Orchestrator,
                "{name}: a workflow is expected exactly when the contract is an orchestrator's"
            );
            Case {
                name,
                node,
                kind,
                plan,
            }
        })
        .collect()
}

/// Expands `#[effect_node(contract = <contract>)]` (or the attribute of the contract's kind)
/// on a documented unit struct, as if the attribute were written in `source_file`.
fn expand_tokens(case: &Case, contract: &str, source_file: PathBuf) -> TokenStream {
    let node = &case.node;
    let doc = format!(" The `{node}` node.");
    let expand = match case.kind {
        NodeKind::Compute => onex_codegen::expand_compute_node,
        NodeKind::Reducer => onex_codegen::expand_reducer_node,
        NodeKind::Orchestrator => onex_codegen::expand_orchestrator_node,
        NodeKind::Effect => onex_codegen::expand_effect_node,
    };
    expand(
        quote!(contract = #contract),
        quote!(#[doc = #doc] pub struct #node;),
        CallSite {
            source_file: Some(source_file),
            ..CallSite::default()
        },
    )
}

fn pretty(case: &Case, tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens)
        .unwrap_or_else(|e| panic!("{}: the expansion is not a Rust file: {e}", case.name));
    prettyplease::unparse(&file)
}

/// The expansion as snapshotted: the attribute "written" in `snapshots/<name>.rs`.
fn snapshot_expansion(case: &Case) -> (TokenStream, String) {
    let contract = format!("contracts/{}.yaml", case.name);
    let source = snapshots_dir().join(format!("{}.rs", case.name));
    let tokens = expand_tokens(case, &contract, source);
    let text = pretty(case, tokens.clone());
    (tokens, text)
}

/// Every string literal in a token stream (`include_bytes!` paths, docs, contract data).
fn string_literals(tokens: TokenStream, out: &mut Vec<String>) {
    for tt in tokens {
        match tt {
            TokenTree::Group(g) => string_literals(g.stream(), out),
            TokenTree::Literal(lit) => {
                if let Ok(syn::Lit::Str(s)) = syn::parse_str::<syn::Lit>(&lit.to_string()) {
                    out.push(s.value());
                }
            }
            _ => {}
        }
    }
}

fn assert_portable(case: &Case, tokens: TokenStream, text: &str) {
    let manifest = manifest_dir();
    let workspace = manifest.parent().expect("workspace root");
    for needle in [
        "/work/".to_owned(),
        manifest.to_string_lossy().into_owned(),
        workspace.to_string_lossy().into_owned(),
    ] {
        assert!(
            !text.contains(&needle),
            "{}: the expansion contains the absolute path `{needle}`:\n{text}",
            case.name
        );
    }
    let mut literals = Vec::new();
    string_literals(tokens, &mut literals);
    for lit in literals {
        let absolute = Path::new(&lit).is_absolute()
            || lit.starts_with('/')
            || lit.starts_with('\\')
            || lit.get(1..3) == Some(":\\");
        assert!(
            !absolute,
            "{}: the expansion holds an absolute path literal {lit:?}",
            case.name
        );
    }
}

#[test]
fn expansions_match_snapshots() {
    for case in cases() {
        let (tokens, text) = snapshot_expansion(&case);
        assert!(
            !text.contains("compile_error"),
            "{}: the contract should expand without errors:\n{text}",
            case.name
        );
        assert!(
            text.contains(&format!("include_bytes!(\"contracts/{}.yaml\")", case.name)),
            "{}: the expansion must track the contract with the user's own relative path",
            case.name
        );
        assert_portable(&case, tokens, &text);
        // Within one process (the loaded contract is cached, so this catches unordered
        // iteration in code generation); across processes, the snapshot itself does.
        let (_, again) = snapshot_expansion(&case);
        assert_eq!(
            text, again,
            "{}: the expansion is not deterministic",
            case.name
        );

        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots/expanded");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(format!(
            "#[{}(contract = \"contracts/{}.yaml\")] pub struct {};",
            case.kind.macro_name(),
            case.name,
            case.node
        ));
        settings.bind(|| insta::assert_snapshot!(case.name.as_str(), text));
    }
}

/// The types a handler method takes and returns, read off the generated trait.
struct Method {
    sig: syn::Signature,
    input: syn::Type,
    output: syn::Type,
}

fn handler_methods(file: &syn::File, handler: &Ident, kind: NodeKind) -> Vec<Method> {
    let tr = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Trait(t) if t.ident == *handler => Some(t),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no `trait {handler}` in the expansion"));
    tr.items
        .iter()
        .filter_map(|item| match item {
            syn::TraitItem::Fn(f) => Some(f.sig.clone()),
            _ => None,
        })
        .map(|sig| {
            // Effect: `(&self, ctx, input) -> impl Future<Output = Result<…>>`;
            // compute: `(&self, input) -> Result<…>`.
            let compute = kind == NodeKind::Compute;
            let input = match sig.inputs.iter().nth(if compute { 1 } else { 2 }) {
                Some(syn::FnArg::Typed(pat)) => (*pat.ty).clone(),
                _ => panic!("`{}`: unexpected parameters", sig.ident),
            };
            let output = match &sig.output {
                syn::ReturnType::Type(_, ty) if compute => Some((**ty).clone()),
                ret => future_output(ret),
            };
            let output =
                output.unwrap_or_else(|| panic!("`{}`: unexpected return type", sig.ident));
            Method { sig, input, output }
        })
        .collect()
}

/// `T` of `-> impl Future<Output = T> + Send`.
fn future_output(ret: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = ret else {
        return None;
    };
    let syn::Type::ImplTrait(imp) = &**ty else {
        return None;
    };
    imp.bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(t) = bound else {
            return None;
        };
        let seg = t.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
            return None;
        };
        args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::AssocType(a) if a.ident == "Output" => Some(a.ty.clone()),
            _ => None,
        })
    })
}

/// The `Ok` type of `Result<T, E>`.
fn ok_type(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// A single-segment type path (a model the user must have in scope).
fn user_type(ty: &syn::Type) -> Option<Ident> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            Some(p.path.segments[0].ident.clone())
        }
        _ => None,
    }
}

/// What a user adds next to the attribute: an `async fn` (effect) or `fn` (compute) per
/// operation (the documented way to implement the handler trait), the models the contract
/// names but does not define, and a `main` that uses the node.
fn user_code(case: &Case, file: &syn::File) -> TokenStream {
    let node = &case.node;
    match case.kind {
        NodeKind::Reducer => return reducer_user_code(case),
        NodeKind::Orchestrator => return orchestrator_user_code(case, file),
        NodeKind::Effect | NodeKind::Compute => {}
    }
    let handler = format_ident!("{node}Handler");
    let operation = format_ident!("{node}Operation");
    let methods = handler_methods(file, &handler, case.kind);
    let mut user_types: Vec<Ident> = Vec::new();
    let fns = methods.iter().map(|m| {
        for ty in [Some(&m.input), ok_type(&m.output)].into_iter().flatten() {
            if let Some(i) = user_type(ty)
                && !user_types.contains(&i)
            {
                user_types.push(i);
            }
        }
        let (ident, input, output) = (&m.sig.ident, &m.input, &m.output);
        let message = format!("`{ident}` is not implemented in this snapshot");
        let body = quote! {{
            let _ = input;
            ::core::result::Result::Err(::onex_runtime::OnexError::handler(#message))
        }};
        match case.kind {
            NodeKind::Compute => quote! {
                fn #ident(&self, input: #input) -> #output #body
            },
            _ => quote! {
                async fn #ident(&self, _ctx: &::onex_runtime::EffectContext, input: #input) -> #output #body
            },
        }
    });
    let fns: Vec<TokenStream> = fns.collect();
    let stand_ins = user_types.iter().map(|ty| {
        let doc = format!(
            " Stand-in for the user's `{ty}` (the contract names it; `definitions` does not define it)."
        );
        quote! {
            #[doc = #doc]
            #[derive(Debug, ::serde::Serialize, ::serde::Deserialize)]
            pub struct #ty {
                /// A field.
                pub text: ::std::string::String,
            }
        }
    });
    // Named after the attribute, so the effect cases' compiled copies stay as they were.
    let contract_of = match case.kind {
        NodeKind::Compute => quote! {
            fn compute_node<N: ::onex_runtime::ComputeNode>(_: &N) -> &'static ::onex_runtime::ContractInfo {
                N::CONTRACT
            }
        },
        _ => quote! {
            fn effect_node<N: ::onex_runtime::EffectNode>(_: &N) -> &'static ::onex_runtime::ContractInfo {
                N::CONTRACT
            }
        },
    };
    let contract_fn = format_ident!("{}", case.kind.macro_name());
    quote! {
        impl #handler for #node {
            #(#fns)*
        }

        #(#stand_ins)*

        fn main() {
            #contract_of
            let contract = #contract_fn(&#node);
            assert_eq!(contract.operations.len(), #operation::ALL.len());
            let declared = contract.declared_fingerprint.unwrap_or(contract.fingerprint);
            assert_eq!(declared, contract.fingerprint);
        }
    }
}

/// A reducer needs no handler: `main` checks the embedded machine against its enums.
fn reducer_user_code(case: &Case) -> TokenStream {
    let node = &case.node;
    let (state, trigger, intent) = (
        format_ident!("{node}State"),
        format_ident!("{node}Trigger"),
        format_ident!("{node}Intent"),
    );
    quote! {
        fn main() {
            use ::onex_runtime::ReducerNode;
            let fsm = <#node as ReducerNode>::FSM;
            assert_eq!(fsm.states.len(), #state::ALL.len());
            assert_eq!(fsm.triggers.len(), #trigger::ALL.len());
            assert_eq!(fsm.intents.len(), #intent::ALL.len());
            assert_eq!(fsm.initial, #state::INITIAL.as_str());
            let executor = ::onex_runtime::FsmExecutor::new(#node);
            assert_eq!(executor.state(), #state::INITIAL);
        }
    }
}

/// An orchestrator: an `impl {Node}Steps` written the documented way (one output type and
/// one plain `async fn` per step, a `compensate_…` per compensable step), read off the
/// generated trait; `main` checks the compile-time `PLAN` against the plan `onex_contracts`
/// computes from the same contract, then runs the workflow on a request envelope with the
/// `WorkflowExecutor`: every step completes.
fn orchestrator_user_code(case: &Case, file: &syn::File) -> TokenStream {
    let node = &case.node;
    let steps_trait = format_ident!("{node}Steps");
    let step = format_ident!("{node}Step");
    let tr = file
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Trait(t) if t.ident == steps_trait => Some(t),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{}: no `trait {steps_trait}` in the expansion", case.name));
    let items = tr.items.iter().map(|item| match item {
        // Every step produces JSON (`null` here).
        syn::TraitItem::Type(t) => {
            let ident = &t.ident;
            quote!(type #ident = ::onex_runtime::JsonValue;)
        }
        syn::TraitItem::Fn(f) => {
            let mut sig = f.sig.clone();
            sig.asyncness = Some(Default::default());
            let output = future_output(&sig.output)
                .unwrap_or_else(|| panic!("`{}`: unexpected return type", sig.ident));
            sig.output = syn::parse_quote!(-> #output);
            // The parameters are unused: `_input`, `_deps`, `_cx`, `_output`.
            for arg in &mut sig.inputs {
                if let syn::FnArg::Typed(pat) = arg
                    && let syn::Pat::Ident(p) = &mut *pat.pat
                {
                    p.ident = format_ident!("_{}", p.ident);
                }
            }
            quote! {
                #sig {
                    ::core::result::Result::Ok(::core::default::Default::default())
                }
            }
        }
        other => panic!(
            "{}: unexpected item in `{steps_trait}`: {other:?}",
            case.name
        ),
    });
    let items: Vec<TokenStream> = items.collect();
    let plan = case.plan.as_ref().expect("an orchestrator has a plan");
    let name = &plan.name;
    let order = &plan.order;
    let waves = plan.waves.iter().map(|wave| quote!(&[#(#wave),*][..]));
    let compensable = &plan.compensable;
    let (mode, strategy) = (plan.mode, plan.failure_strategy);
    let request = &plan.request;
    let max_parallel = match plan.max_parallel_steps {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        impl #steps_trait for #node {
            #(#items)*
        }

        fn main() {
            use ::onex_runtime::{OrchestratorNode, StepOutputs, WorkflowStep};
            let plan = <#node as OrchestratorNode>::PLAN;
            let ids = |steps: &[#step]| steps.iter().map(|s| s.as_str()).collect::<::std::vec::Vec<_>>();
            assert_eq!(plan.name, #name);
            assert_eq!(ids(plan.order), [#(#order),*]);
            let waves: ::std::vec::Vec<_> = plan.waves.iter().map(|&wave| ids(wave)).collect();
            assert_eq!(waves, [#(#waves),*]);
            assert_eq!(plan.steps.len(), <#step as WorkflowStep>::ALL.len());
            let compensable: &[&str] = &[#(#compensable),*];
            let outputs = <#node as OrchestratorNode>::Outputs::default();
            for &step in <#step as WorkflowStep>::ALL {
                assert_eq!(#step::from_name(step.as_str()), ::core::option::Option::Some(step));
                assert_eq!(plan.step(step).step, step);
                assert_eq!(plan.step(step).compensable, compensable.contains(&step.as_str()));
                assert!(!outputs.is_done(step));
            }
            assert_eq!(plan.rules.mode.as_str(), #mode);
            assert_eq!(plan.rules.failure_strategy.as_str(), #strategy);
            assert_eq!(plan.rules.max_parallel_steps, #max_parallel);
            let contract = <#node as OrchestratorNode>::CONTRACT;
            let declared = contract.declared_fingerprint.unwrap_or(contract.fingerprint);
            assert_eq!(declared, contract.fingerprint);

            let runtime = ::tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a current-thread runtime");
            let executor = ::onex_runtime::WorkflowExecutor::new(#node);
            let reply = runtime
                .block_on(executor.process_json(#request.as_bytes()))
                .expect("the workflow runs");
            assert_eq!(reply.payload["status"], "completed");
            assert_eq!(reply.payload["workflow"], plan.name);
            for &step in <#step as WorkflowStep>::ALL {
                assert_eq!(reply.payload["outputs"][step.as_str()], ::onex_runtime::JsonValue::Null);
                assert!(reply.payload["outputs"].get(step.as_str()).is_some());
            }
        }
    }
}

/// Writes `path` unless it already holds exactly `text` (keeps mtimes stable).
fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
}

#[test]
fn expansions_compile() {
    let compiled = snapshots_dir().join("compiled");
    fs::create_dir_all(&compiled).expect("create snapshots/compiled");
    let cases = cases();
    // Copies of contracts that no longer exist would still be compiled: remove them.
    for entry in fs::read_dir(&compiled).expect("list snapshots/compiled") {
        let path = entry.expect("directory entry").path();
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        if path.extension().is_some_and(|e| e == "rs")
            && !cases.iter().any(|c| Some(&c.name) == stem.as_ref())
        {
            fs::remove_file(&path).expect("remove a stale compiled copy");
        }
    }
    for case in &cases {
        // The compiled copy lives in `compiled/`, one directory below the snapshot's call
        // site, and rustc resolves `include_bytes!` relative to the file that contains it.
        // Rather than patch the path in the text, expand a second time with the attribute
        // "written" in the compiled file and the path as a user there would write it
        // (`../contracts/…`): that exercises the file-relative resolution for real, and the
        // assertion below proves the two expansions differ in that literal only, so what
        // rustc compiles is what the snapshot shows.
        let rel = format!("contracts/{}.yaml", case.name);
        let (_, snapshot) = snapshot_expansion(case);
        let tokens = expand_tokens(
            case,
            &format!("../{rel}"),
            compiled.join(format!("{}.rs", case.name)),
        );
        let file: syn::File = syn::parse2(tokens).expect("the expansion parses");
        let text = prettyplease::unparse(&file);
        assert_eq!(
            text,
            snapshot.replace(&format!("\"{rel}\""), &format!("\"../{rel}\"")),
            "{}: the compiled copy must differ from the snapshot only in the contract path",
            case.name
        );
        let user: syn::File = syn::parse2(user_code(case, &file)).expect("user code parses");
        let header = format!(
            "//! Compiled copy of the `{}` expansion snapshot, with a handler and `main`.\n\
             //!\n\
             //! Generated by `tests/snapshots.rs`; do not edit (every test run rewrites it).\n\
             #![deny(warnings, missing_docs)]\n\n",
            case.name
        );
        let source = format!("{header}{text}\n{}", prettyplease::unparse(&user));
        write_if_changed(&compiled.join(format!("{}.rs", case.name)), &source);
    }
    trybuild::TestCases::new().pass("snapshots/compiled/*.rs");
}
