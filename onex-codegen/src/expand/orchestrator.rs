//! Orchestrator nodes: `{Node}Step`, the `{Node}Steps` trait, one `{Node}{Step}Deps` view per
//! step with dependencies, `{Node}Outputs`, and `impl OrchestratorNode` whose `PLAN` (order,
//! waves, rules) is computed here, at compile time, from the contract's execution graph.
//!
//! Dependency views and outputs are generic over the steps trait (defaulting to the user's
//! node), so a node whose trait is not implemented yet gets one error (at the `impl`), not
//! one per generated item.

use onex_contracts::names;
use onex_contracts::workflow::{ExecutionMode, FailureStrategy, Workflow};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use super::names::{Variant, from_name_body, name_enum, variants};
use super::reducer::Context;
use crate::lower::{NodeIr, ident};
use crate::private::Runtime;

/// A step bound by type: `bind(step = NodeType)`.
#[derive(Clone, Debug)]
pub struct Binding {
    /// The step's index in the workflow.
    pub step: usize,
    /// The node type bound to it.
    pub ty: syn::Path,
    /// `file:LINE:COL` of the step's `node_type`, for the kind-mismatch message.
    pub at: String,
}

/// One step, with every name generated for it.
struct StepNames<'a> {
    id: &'a str,
    variant: Ident,
    method: Ident,
    compensate: Ident,
    field: Ident,
    assoc: Ident,
    deps_ty: Ident,
    deps: Vec<usize>,
}

/// Everything generated for an orchestrator besides the module and the user's item.
pub fn node(
    ir: &NodeIr,
    wf: &Workflow,
    input: &Context,
    bindings: &[Binding],
    rt: &Runtime,
    tracking: TokenStream,
) -> TokenStream {
    let p = rt.private();
    let node = &ir.names.node;
    let span = node.span();
    let base = node.to_string();
    let base = base.strip_prefix("r#").unwrap_or(&base);
    let step_ty = format_ident!("{base}Step", span = span);
    let steps_trait = format_ident!("{base}Steps", span = span);
    let outputs_ty = format_ident!("{base}Outputs", span = span);
    let module = &ir.names.module;

    let all: Vec<Variant> = variants(wf.steps.iter().map(|s| s.id.value.as_str()), span);
    let steps: Vec<StepNames> = wf
        .steps
        .iter()
        .zip(&all)
        .enumerate()
        .map(|(i, (s, v))| {
            let snake = names::snake(&s.id.value);
            let camel = names::camel(&s.id.value);
            StepNames {
                id: &s.id.value,
                variant: v.ident.clone(),
                method: ident(&snake, span),
                compensate: ident(&format!("compensate_{snake}"), span),
                field: ident(&snake, span),
                assoc: ident(&camel, span),
                deps_ty: format_ident!("{base}{camel}Deps", span = span),
                deps: wf.dependencies(i),
            }
        })
        .collect();

    let input_ty = match input {
        Context::Unit => quote!(()),
        Context::Generated(name) => {
            let i = ident(name, span);
            quote!(#module::#i)
        }
        Context::User(path) => quote!(#path),
    };

    // The step enum.
    let step_docs: Vec<String> = wf
        .steps
        .iter()
        .zip(&steps)
        .map(|(s, n)| {
            let mut d = format!(
                " `{}` ({})",
                s.id.value,
                s.node_type.as_ref().map_or("?", |t| t.value.as_str())
            );
            if let Some(desc) = s.description.as_deref().and_then(|d| d.lines().next()) {
                d.push_str(": ");
                d.push_str(desc.trim().trim_end_matches('.'));
            }
            if !n.deps.is_empty() {
                d.push_str(". Depends on ");
                d.push_str(&id_list(&steps, &n.deps));
            }
            d.push('.');
            d
        })
        .collect();
    let step_enum = name_enum(
        &step_ty,
        &all,
        &step_docs,
        &format!(
            " The steps of the `{}` workflow, in declaration order.",
            wf.name
        ),
        rt,
    );
    let indices = (0..steps.len()).map(Literal::usize_unsuffixed);
    let variants_ = steps.iter().map(|s| &s.variant);
    let from_name = from_name_body(&all);
    let step_impls = quote! {
        impl #step_ty {
            /// The step's declaration index (`ALL[s.index()] == s`).
            pub const fn index(self) -> usize {
                match self { #(Self::#variants_ => #indices,)* }
            }

            /// The step with the contract's `node_id` `name`.
            pub fn from_name(name: &str) -> ::core::option::Option<Self> {
                #from_name
            }
        }

        #[automatically_derived]
        impl #p::WorkflowStep for #step_ty {
            const ALL: &'static [Self] = #step_ty::ALL;
            fn index(self) -> usize {
                #step_ty::index(self)
            }
            fn as_str(self) -> &'static str {
                #step_ty::as_str(self)
            }
        }
    };

    // The trait the user implements.
    let assoc_types = wf.steps.iter().zip(&steps).map(|(s, n)| {
        let assoc = &n.assoc;
        let doc = format!(" What step `{}` produces.", s.id.value);
        quote! {
            #[doc = #doc]
            type #assoc: #p::serde::Serialize + ::core::marker::Send + ::core::marker::Sync + 'static;
        }
    });
    let methods = wf.steps.iter().zip(&steps).map(|(s, n)| {
        let (method, assoc, deps_ty) = (&n.method, &n.assoc, &n.deps_ty);
        let mut doc = format!("Runs step `{}`", s.id.value);
        match n.deps.as_slice() {
            [] => doc.push('.'),
            [_] => doc.push_str(&format!(
                ", after {} completed; `deps` holds its output.",
                id_list(&steps, &n.deps)
            )),
            _ => doc.push_str(&format!(
                ", after {} completed; `deps` holds their outputs.",
                id_list(&steps, &n.deps)
            )),
        }
        if let Some(desc) = &s.description {
            doc = format!("{}\n\n{doc}", desc.trim());
        }
        let docs = super::docs(&doc);
        let deps = (!n.deps.is_empty()).then(|| quote!(deps: #deps_ty<'_, Self>,));
        let run = quote! {
            #docs
            fn #method(&self, input: &#input_ty, #deps cx: &#p::WorkflowContext)
                -> impl ::core::future::Future<Output = ::core::result::Result<Self::#assoc, #p::OnexError>> + ::core::marker::Send;
        };
        let compensate = s.compensable.then(|| {
            let compensate = &n.compensate;
            let doc = format!(
                " Undoes step `{}` after a later step failed (`failure_recovery_strategy: compensate`); `output` is what the step produced.",
                s.id.value
            );
            quote! {
                #[doc = #doc]
                fn #compensate(&self, input: &#input_ty, output: &Self::#assoc, cx: &#p::WorkflowContext)
                    -> impl ::core::future::Future<Output = ::core::result::Result<(), #p::OnexError>> + ::core::marker::Send;
            }
        });
        quote!(#run #compensate)
    });
    let trait_doc = super::docs(&format!(
        "Implement this for `{node}` to run the steps of the `{}` workflow: one output type and one `async fn` per step (and a `compensate_…` method per `compensable` step). Write each method as a plain `async fn`.\n\nA forgotten step is a compile error (missing trait item).",
        wf.name
    ));
    let steps_trait_def = quote! {
        #trait_doc
        pub trait #steps_trait: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#assoc_types)*
            #(#methods)*
        }
    };

    // One view of the dependencies' outputs per step that has dependencies.
    let deps_structs = steps.iter().filter(|n| !n.deps.is_empty()).map(|n| {
        let deps_ty = &n.deps_ty;
        let doc = format!(
            " The outputs of the steps `{}` depends on: {}.",
            n.id,
            id_list(&steps, &n.deps)
        );
        let fields = n.deps.iter().map(|&d| {
            let (field, assoc) = (&steps[d].field, &steps[d].assoc);
            let doc = format!(" What step `{}` produced.", steps[d].id);
            quote! {
                #[doc = #doc]
                pub #field: &'a S::#assoc,
            }
        });
        quote! {
            #[doc = #doc]
            pub struct #deps_ty<'a, S: #steps_trait + ?::core::marker::Sized = #node> {
                #(#fields)*
            }

            impl<S: #steps_trait + ?::core::marker::Sized> ::core::clone::Clone for #deps_ty<'_, S> {
                fn clone(&self) -> Self {
                    *self
                }
            }

            impl<S: #steps_trait + ?::core::marker::Sized> ::core::marker::Copy for #deps_ty<'_, S> {}
        }
    });

    // The outputs of a run.
    let out_fields = steps.iter().map(|n| {
        let (field, assoc) = (&n.field, &n.assoc);
        quote!(#field: #p::OnceLock<S::#assoc>,)
    });
    let out_inits = steps.iter().map(|n| {
        let field = &n.field;
        quote!(#field: #p::OnceLock::new(),)
    });
    let getters = steps.iter().map(|n| {
        let (field, assoc) = (&n.field, &n.assoc);
        let doc = format!(" What step `{}` produced, once it completed.", n.id);
        quote! {
            #[doc = #doc]
            pub fn #field(&self) -> ::core::option::Option<&S::#assoc> {
                self.#field.get()
            }
        }
    });
    let done_arms = steps.iter().map(|n| {
        let (variant, field) = (&n.variant, &n.field);
        quote!(#step_ty::#variant => self.#field.get().is_some(),)
    });
    let json_arms = steps.iter().map(|n| {
        let (variant, field) = (&n.variant, &n.field);
        quote!(#step_ty::#variant => self.#field.get().map(#p::output_json),)
    });
    let outputs_doc = format!(
        " What the steps of one run of the `{}` workflow produced: one slot per step, filled when the step completes.",
        wf.name
    );
    let outputs = quote! {
        #[doc = #outputs_doc]
        pub struct #outputs_ty<S: #steps_trait + ?::core::marker::Sized = #node> {
            #(#out_fields)*
        }

        impl<S: #steps_trait + ?::core::marker::Sized> ::core::default::Default for #outputs_ty<S> {
            fn default() -> Self {
                #outputs_ty { #(#out_inits)* }
            }
        }

        impl<S: #steps_trait + ?::core::marker::Sized> #outputs_ty<S> {
            #(#getters)*
        }

        #[automatically_derived]
        impl<S: #steps_trait + ?::core::marker::Sized> #p::StepOutputs for #outputs_ty<S> {
            type Step = #step_ty;
            fn is_done(&self, step: #step_ty) -> bool {
                match step { #(#done_arms)* }
            }
            fn to_json(&self, step: #step_ty) -> ::core::option::Option<::core::result::Result<#p::JsonValue, #p::OnexError>> {
                match step { #(#json_arms)* }
            }
        }
    };

    // Dispatch.
    let run_arms = steps.iter().map(|n| {
        let (variant, method, field, id) = (&n.variant, &n.method, &n.field, n.id);
        let call = if n.deps.is_empty() {
            quote!(<Self as #steps_trait>::#method(self, input, cx).await?)
        } else {
            let deps_ty = &n.deps_ty;
            let deps = n.deps.iter().map(|&d| {
                let (dep_field, dep_id) = (&steps[d].field, steps[d].id);
                quote!(#dep_field: #p::dependency(&outputs.#dep_field, #id, #dep_id)?,)
            });
            quote! {{
                let deps = #deps_ty { #(#deps)* };
                <Self as #steps_trait>::#method(self, input, deps, cx).await?
            }}
        };
        quote! {
            #step_ty::#variant => ::std::boxed::Box::pin(async move {
                let output = #call;
                #p::store_output(&outputs.#field, output, #id)
            }),
        }
    });
    let (compensable, plain): (Vec<_>, Vec<_>) = wf
        .steps
        .iter()
        .zip(&steps)
        .partition(|(s, _)| s.compensable);
    let compensate_arms = compensable.iter().map(|(_, n)| {
        let (variant, compensate, field, id) = (&n.variant, &n.compensate, &n.field, n.id);
        quote! {
            #step_ty::#variant => ::std::boxed::Box::pin(async move {
                let output = #p::dependency(&outputs.#field, #id, #id)?;
                <Self as #steps_trait>::#compensate(self, input, output, cx).await
            }),
        }
    });
    let nothing_arm = (!plain.is_empty()).then(|| {
        let variants_ = plain.iter().map(|(_, n)| &n.variant);
        quote! {
            #(#step_ty::#variants_)|* => {
                let _ = (input, outputs, cx);
                ::std::boxed::Box::pin(::core::future::ready(::core::result::Result::Ok(())))
            }
        }
    });

    let validate_input = matches!(input, Context::Generated(_)).then(|| {
        quote! {
            fn validate_input(input: &#input_ty) -> ::core::result::Result<(), #p::OnexError> {
                #p::validate(input)
            }
        }
    });
    let plan = plan(wf, &steps, &step_ty, rt);
    let kind_checks = bindings.iter().map(|b| kind_check(b, wf, rt));
    let kind_of = super::kind_of(node, onex_contracts::NodeKind::Orchestrator, rt);
    let header = quote_spanned! {span=> impl #p::OrchestratorNode for #node };
    quote! {
        #step_enum
        #step_impls
        #steps_trait_def
        #(#deps_structs)*
        #outputs

        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            #tracking
            #kind_of
            #(#kind_checks)*

            #[automatically_derived]
            #header {
                type Step = #step_ty;
                type Input = #input_ty;
                type Outputs = #outputs_ty<#node>;
                const CONTRACT: &'static #p::ContractInfo = #module::CONTRACT;
                const PLAN: &'static #p::WorkflowPlan<#step_ty> = &#plan;

                #validate_input

                fn run_step<'a>(
                    &'a self,
                    step: #step_ty,
                    input: &'a #input_ty,
                    outputs: &'a #outputs_ty<#node>,
                    cx: &'a #p::WorkflowContext,
                ) -> #p::BoxFuture<'a, ::core::result::Result<(), #p::OnexError>> {
                    match step { #(#run_arms)* }
                }

                fn compensate_step<'a>(
                    &'a self,
                    step: #step_ty,
                    input: &'a #input_ty,
                    outputs: &'a #outputs_ty<#node>,
                    cx: &'a #p::WorkflowContext,
                ) -> #p::BoxFuture<'a, ::core::result::Result<(), #p::OnexError>> {
                    match step {
                        #(#compensate_arms)*
                        #nothing_arm
                    }
                }
            }
        };
    }
}

/// `` `a`, `b` and `c` ``.
fn id_list(steps: &[StepNames], which: &[usize]) -> String {
    let ids: Vec<String> = which
        .iter()
        .map(|&i| format!("`{}`", steps[i].id))
        .collect();
    match ids.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// The `WorkflowPlan` literal.
fn plan(wf: &Workflow, steps: &[StepNames], step_ty: &Ident, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let v = |i: &usize| {
        let variant = &steps[*i].variant;
        quote!(#step_ty::#variant)
    };
    let infos = wf.steps.iter().zip(steps).enumerate().map(|(i, (s, n))| {
        let variant = &n.variant;
        let id = &s.id.value;
        let node_type = s.node_type.as_ref().map_or("", |t| t.value.as_str());
        let kind = kind_tokens(s.kind.unwrap_or(onex_contracts::NodeKind::Compute), rt);
        let depends_on = n.deps.iter().map(v);
        let dependents: Vec<usize> = (0..steps.len())
            .filter(|&j| steps[j].deps.contains(&i))
            .collect();
        let dependents = dependents.iter().map(v);
        let compensable = s.compensable;
        let description = s.description.as_deref().unwrap_or("").trim();
        quote! {
            #p::StepInfo {
                step: #step_ty::#variant,
                id: #id,
                node_type: #node_type,
                kind: #kind,
                depends_on: &[#(#depends_on),*],
                dependents: &[#(#dependents),*],
                compensable: #compensable,
                description: #description,
            }
        }
    });
    let order = wf.order();
    let order = order.iter().map(v);
    let waves = wf.waves().into_iter().map(|wave| {
        let wave = wave.iter().map(v);
        quote!(&[#(#wave),*])
    });
    let name = &wf.name;
    let r = &wf.rules;
    let mode = match wf.mode {
        ExecutionMode::Sequential => quote!(Sequential),
        ExecutionMode::Parallel => quote!(Parallel),
        ExecutionMode::Batch => quote!(Batch),
    };
    let strategy = match r.failure_strategy {
        FailureStrategy::FailFast => quote!(FailFast),
        FailureStrategy::Retry => quote!(Retry),
        FailureStrategy::Continue => quote!(Continue),
        FailureStrategy::Compensate => quote!(Compensate),
    };
    let max_parallel = option(r.max_parallel_steps.map(|n| quote!(#n)));
    let max_retries = r.max_retries;
    let backoff = r.retry_backoff_ms;
    let multiplier = if r.retry_backoff_multiplier.is_finite() {
        Literal::f64_suffixed(r.retry_backoff_multiplier)
    } else {
        Literal::f64_suffixed(1.0)
    };
    let millis =
        |ms: Option<u64>| option(ms.map(|ms| quote!(::core::time::Duration::from_millis(#ms))));
    let (step_timeout, timeout) = (millis(r.step_timeout_ms), millis(r.timeout_ms));
    quote! {
        #p::WorkflowPlan {
            name: #name,
            steps: &[#(#infos),*],
            order: &[#(#order),*],
            waves: &[#(#waves),*],
            rules: #p::CoordinationRules {
                mode: #p::ExecutionMode::#mode,
                max_parallel_steps: #max_parallel,
                failure_strategy: #p::FailureStrategy::#strategy,
                max_retries: #max_retries,
                retry_backoff: ::core::time::Duration::from_millis(#backoff),
                retry_backoff_multiplier: #multiplier,
                step_timeout: #step_timeout,
                timeout: #timeout,
            },
        }
    }
}

fn option(value: Option<TokenStream>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// `NodeKind::…` tokens.
pub fn kind_tokens(kind: onex_contracts::NodeKind, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let variant = match kind {
        onex_contracts::NodeKind::Effect => quote!(Effect),
        onex_contracts::NodeKind::Compute => quote!(Compute),
        onex_contracts::NodeKind::Reducer => quote!(Reducer),
        onex_contracts::NodeKind::Orchestrator => quote!(Orchestrator),
    };
    quote!(#p::NodeKind::#variant)
}

/// A compile-time check that the node bound to a step is of the kind the step declares:
/// a `const` that panics (with the contract location) when the kinds differ.
fn kind_check(binding: &Binding, wf: &Workflow, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let Some(step) = wf.steps.get(binding.step) else {
        return TokenStream::new();
    };
    let Some(expected) = step.kind else {
        return TokenStream::new();
    };
    let ty = &binding.ty;
    let span = syn::spanned::Spanned::span(ty);
    let ty_name = quote!(#ty).to_string().replace(' ', "");
    let declared = step.node_type.as_ref().map_or("", |t| t.value.as_str());
    let arms = [
        onex_contracts::NodeKind::Effect,
        onex_contracts::NodeKind::Compute,
        onex_contracts::NodeKind::Reducer,
        onex_contracts::NodeKind::Orchestrator,
    ]
    .into_iter()
    .map(|kind| {
        let pattern = kind_tokens(kind, rt);
        if kind == expected {
            quote_spanned!(span=> #pattern => {})
        } else {
            let message = format!(
                "{}: step `{}` is declared `{declared}`, but `{ty_name}` is {} node",
                binding.at,
                step.id.value,
                article_kind(kind)
            );
            quote_spanned!(span=> #pattern => ::core::panic!(#message))
        }
    });
    quote_spanned! {span=>
        const _: () = match <#ty as #p::NodeKindOf>::KIND {
            #(#arms,)*
        };
    }
}

fn article_kind(kind: onex_contracts::NodeKind) -> &'static str {
    match kind {
        onex_contracts::NodeKind::Effect => "an effect",
        onex_contracts::NodeKind::Compute => "a compute",
        onex_contracts::NodeKind::Reducer => "a reducer",
        onex_contracts::NodeKind::Orchestrator => "an orchestrator",
    }
}
