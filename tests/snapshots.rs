//! Expansion snapshots of `#[effect_node]`, `#[compute_node]` and `#[reducer_node]` (STYLE.md
//! §11.5, DESIGN.md §8).
//!
//! For every contract in `snapshots/contracts/*.yaml`, the test expands
//! `#[effect_node(contract = "contracts/<name>.yaml")] pub struct <Node>;` with
//! `onex_codegen::expand_effect_node`, or `#[compute_node]` with
//! `onex_codegen::expand_compute_node` / `#[reducer_node]` with
//! `onex_codegen::expand_reducer_node` when the contract's `node_type` is a compute or reducer kind
//! (no compiler in the loop: the call site is a
//! hand-built [`CallSite`] whose source file sits in `snapshots/`), pretty-prints it with
//! `prettyplease`, and compares it with `snapshots/expanded/<name>.snap`. Each expansion
//! must be free of absolute paths and identical when expanded twice.
//!
//! The same expansions are then compiled: [`expansions_compile`] writes
//! `snapshots/compiled/<name>.rs` (the expansion under `#![deny(warnings, missing_docs)]`,
//! plus a handler impl, stand-ins for user-provided models and a `main`, all generated
//! here) and builds and runs them with trybuild (the typify pattern).
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
            let kind = match kind {
                Some(kind @ (NodeKind::Effect | NodeKind::Compute | NodeKind::Reducer)) => kind,
                other => panic!(
                    "{name}: an effect, compute or reducer contract is needed, found {other:?}"
                ),
            };
            Case { name, node, kind }
        })
        .collect()
}

/// Expands `#[effect_node(contract = <contract>)]` (or `#[compute_node]`) on a documented
/// unit struct, as if the attribute were written in `source_file`.
fn expand_tokens(case: &Case, contract: &str, source_file: PathBuf) -> TokenStream {
    let node = &case.node;
    let doc = format!(" The `{node}` node.");
    let expand = match case.kind {
        NodeKind::Compute => onex_codegen::expand_compute_node,
        NodeKind::Reducer => onex_codegen::expand_reducer_node,
        _ => onex_codegen::expand_effect_node,
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
    if case.kind == NodeKind::Reducer {
        return reducer_user_code(case);
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
