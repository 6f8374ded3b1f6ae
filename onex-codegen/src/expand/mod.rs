//! IR → tokens, one function per generated artifact.

pub mod db;
pub mod model;
pub mod names;
pub mod orchestrator;
pub mod policy;
pub mod reducer;

use onex_contracts::operations::Routing;
use proc_macro2::{Ident, TokenStream};
use quote::{quote, quote_spanned};

use crate::lower::{NodeIr, OpIr, Ty};
use crate::private::Runtime;

/// What kind of node is being expanded (selects the trait and the handler signature).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `async fn op(&self, ctx: &EffectContext, input) -> Result<Output, OnexError>`.
    Effect,
    /// `fn op(&self, input) -> Result<Output, OnexError>`: synchronous and pure (no context,
    /// no `&mut self`).
    Compute,
}

/// `impl NodeKindOf for Node`: lets an orchestrator check, at compile time, the kind of a
/// node bound to one of its steps.
pub fn kind_of(node: &Ident, kind: onex_contracts::NodeKind, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let kind = orchestrator::kind_tokens(kind, rt);
    quote! {
        #[automatically_derived]
        impl #p::NodeKindOf for #node {
            const KIND: #p::NodeKind = #kind;
        }
    }
}

fn docs(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| format!(" {}", l.trim_end()));
    quote!(#(#[doc = #lines])*)
}

/// The Rust type of an operation payload, as seen from outside the node module.
pub fn payload_ty(ir: &NodeIr, ty: &Ty, rt: &Runtime) -> TokenStream {
    let module = &ir.names.module;
    match ty {
        Ty::Generated(name) => {
            let i = crate::lower::ident(name, ir.names.node.span());
            quote!(#module::#i)
        }
        Ty::User(name) => {
            let i = crate::lower::ident(name, ir.names.node.span());
            quote!(#i)
        }
        Ty::Json => {
            let p = rt.private();
            quote!(#p::JsonValue)
        }
    }
}

/// Everything generated for a node (besides the user's item).
pub fn node(
    ir: &NodeIr,
    flavor: Flavor,
    rt: &Runtime,
    derives: &[syn::Path],
    tracking: TokenStream,
) -> TokenStream {
    let module = module(ir, rt);
    let operation = operation_enum(ir, rt);
    let input = input_enum(ir, rt, derives);
    let output = output_enum(ir, rt, derives);
    let handler = handler_trait(ir, flavor, rt);
    let dispatch = dispatch(ir, flavor, rt, tracking);
    quote! {
        #module
        #operation
        #input
        #output
        #handler
        #dispatch
    }
}

/// The node module: models, `CONTRACT`, topic constants.
pub fn module(ir: &NodeIr, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let module = &ir.names.module;
    let models = model::models(&ir.models, rt);
    let meta = &ir.meta;
    let mut doc = format!(
        "Models, topics and contract metadata of the `{}` contract {}.{}.{} (node `{}`).",
        meta.name,
        meta.contract_version.0,
        meta.contract_version.1,
        meta.contract_version.2,
        ir.names.node
    );
    if !meta.description.is_empty() {
        doc = format!("{}\n\n{doc}", meta.description);
    }
    let doc = docs(&doc);
    let info = contract_info(ir, rt);
    let topic_consts = topics(ir);
    quote! {
        #doc
        #[allow(clippy::all, clippy::pedantic)]
        pub mod #module {
            #[allow(unused_imports)]
            use super::*;

            /// The contract, as embedded at compile time.
            pub const CONTRACT: &#p::ContractInfo = &#info;

            #topic_consts

            #models
        }
    }
}

fn contract_info(ir: &NodeIr, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let m = &ir.meta;
    let (name, node_type, description, fingerprint) =
        (&m.name, &m.node_type, &m.description, &m.fingerprint);
    let lit = proc_macro2::Literal::u64_unsuffixed;
    let (c0, c1, c2) = (
        lit(m.contract_version.0),
        lit(m.contract_version.1),
        lit(m.contract_version.2),
    );
    let (n0, n1, n2) = (
        lit(m.node_version.0),
        lit(m.node_version.1),
        lit(m.node_version.2),
    );
    let declared = match &m.declared_fingerprint {
        Some(f) => quote!(::core::option::Option::Some(#f)),
        None => quote!(::core::option::Option::None),
    };
    let routing = match ir.routing {
        Routing::OperationMatch => quote!(#p::RoutingStrategy::OperationMatch),
        Routing::PayloadTypeMatch => quote!(#p::RoutingStrategy::PayloadTypeMatch),
        Routing::Single => quote!(#p::RoutingStrategy::Single),
    };
    // The macro checked that the contract's kind is the node's kind.
    let kind = match m.kind {
        onex_contracts::NodeKind::Effect => quote!(#p::NodeKind::Effect),
        onex_contracts::NodeKind::Compute => quote!(#p::NodeKind::Compute),
        onex_contracts::NodeKind::Reducer => quote!(#p::NodeKind::Reducer),
        onex_contracts::NodeKind::Orchestrator => quote!(#p::NodeKind::Orchestrator),
    };
    let effect = m.kind == onex_contracts::NodeKind::Effect;
    let ops = ir.ops.iter().map(|op| {
        let (n, i, o) = (&op.name, op.input.wire_name(), op.output.wire_name());
        let d = op.description.clone().unwrap_or_default();
        let policy = policy::value(op, effect, rt);
        quote!(#p::OperationInfo { name: #n, input_type: #i, output_type: #o, description: #d, policy: #policy })
    });
    let (sub, publ, dlq) = (&m.subscribe, &m.publish, &m.dlq);
    quote! {
        #p::ContractInfo {
            name: #name,
            kind: #kind,
            node_type: #node_type,
            contract_version: #p::Version { major: #c0, minor: #c1, patch: #c2 },
            node_version: #p::Version { major: #n0, minor: #n1, patch: #n2 },
            description: #description,
            fingerprint: #fingerprint,
            declared_fingerprint: #declared,
            routing: #routing,
            operations: &[#(#ops),*],
            subscribe_topics: &[#(#sub),*],
            publish_topics: &[#(#publ),*],
            dlq_topics: &[#(#dlq),*],
        }
    }
}

fn topics(ir: &NodeIr) -> TokenStream {
    let mut seen = std::collections::BTreeSet::new();
    let consts = ir
        .meta
        .subscribe
        .iter()
        .map(|t| (t, "consumes"))
        .chain(ir.meta.publish.iter().map(|t| (t, "produces")))
        .filter_map(|(topic, dir)| {
            let name = heck::ToShoutySnakeCase::to_shouty_snake_case(topic.as_str());
            let name = format!("TOPIC_{name}");
            if !seen.insert(name.clone()) || onex_contracts::names::ident_problem(&name).is_some() {
                return None;
            }
            let i = Ident::new(&name, proc_macro2::Span::call_site());
            let doc = format!(" The topic `{topic}` (the node {dir} it).");
            Some(quote!(#[doc = #doc] pub const #i: &str = #topic;))
        });
    let (sub, publ) = (&ir.meta.subscribe, &ir.meta.publish);
    quote! {
        /// Topics the node subscribes to (`event_bus.subscribe_topics`).
        pub const SUBSCRIBE_TOPICS: &[&str] = &[#(#sub),*];
        /// Topics the node publishes to (`event_bus.publish_topics`).
        pub const PUBLISH_TOPICS: &[&str] = &[#(#publ),*];
        #(#consts)*
    }
}

fn operation_enum(ir: &NodeIr, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let ty = &ir.names.operation;
    let variants: Vec<&Ident> = ir.ops.iter().map(|o| &o.variant).collect();
    let names: Vec<&String> = ir.ops.iter().map(|o| &o.name).collect();
    let variant_docs = ir.ops.iter().map(|o| {
        let mut d = format!(" `{}`", o.name);
        if let Some(desc) = &o.description {
            d.push_str(": ");
            d.push_str(desc.lines().next().unwrap_or_default());
        }
        d
    });
    let doc = format!(
        " The operations of `{}`, as its contract names them.",
        ir.meta.name
    );
    quote! {
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash, ::core::cmp::PartialOrd, ::core::cmp::Ord)]
        pub enum #ty {
            #( #[doc = #variant_docs] #variants, )*
        }

        impl #ty {
            /// Every operation, in contract order.
            pub const ALL: &'static [Self] = &[#(Self::#variants),*];

            /// The contract's name for the operation.
            pub const fn as_str(self) -> &'static str {
                match self { #(Self::#variants => #names,)* }
            }
        }

        impl ::core::fmt::Display for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for #ty {
            type Err = #p::OnexError;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                match s {
                    #(#names => ::core::result::Result::Ok(Self::#variants),)*
                    other => ::core::result::Result::Err(#p::unsupported_operation(other, ::core::iter::Iterator::map(Self::ALL.iter(), |op| op.as_str()))),
                }
            }
        }
    }
}

/// True when the payload must drop its `operation` key before the model is deserialized
/// (generated models that reject unknown fields and have no `operation` field of their own).
fn strips_operation(ir: &NodeIr, ty: &Ty) -> bool {
    let Ty::Generated(name) = ty else {
        return false;
    };
    ir.models.iter().any(|m| {
        m.name.value == *name
            && m.deny_unknown_fields
            && match &m.shape {
                onex_contracts::schema::ModelShape::Object(fields) => {
                    !fields.iter().any(|f| f.name.value == "operation")
                }
                onex_contracts::schema::ModelShape::Enum(_) => false,
            }
    })
}

fn input_enum(ir: &NodeIr, rt: &Runtime, derives: &[syn::Path]) -> TokenStream {
    let p = rt.private();
    let (ty, op_ty) = (&ir.names.input, &ir.names.operation);
    let variants: Vec<&Ident> = ir.ops.iter().map(|o| &o.variant).collect();
    let names: Vec<&String> = ir.ops.iter().map(|o| &o.name).collect();
    let payloads: Vec<TokenStream> = ir
        .ops
        .iter()
        .map(|o| payload_ty(ir, &o.input, rt))
        .collect();
    let wire: Vec<&str> = ir.ops.iter().map(|o| o.input.wire_name()).collect();
    let docs = ir
        .ops
        .iter()
        .map(|o| format!(" Input of `{}` (`{}`).", o.name, o.input.wire_name()));
    let validates = ir.ops.iter().map(|o| match &o.input {
        Ty::Generated(_) => quote!(#p::validate(input)),
        _ => quote!({
            let _ = input;
            ::core::result::Result::Ok(())
        }),
    });
    let decode_op = |op: &OpIr, payload: &TokenStream| {
        let (variant, name) = (&op.variant, &op.name);
        let strip = strips_operation(ir, &op.input);
        quote!(#p::decode_payload::<#payload>(payload, #name, #strip).map(Self::#variant))
    };
    let decode_body = match ir.routing {
        Routing::Single => {
            let op = &ir.ops[0];
            let body = decode_op(op, &payloads[0]);
            quote!({ let _ = payload_type; #body })
        }
        Routing::OperationMatch => {
            let arms = ir.ops.iter().zip(&payloads).map(|(op, payload)| {
                let name = &op.name;
                let body = decode_op(op, payload);
                quote!(#name => #body,)
            });
            quote! {{
                let _ = payload_type;
                let operation = #p::operation_field(&payload)?;
                match operation.as_str() {
                    #(#arms)*
                    other => ::core::result::Result::Err(#p::unsupported_operation(other, ::core::iter::Iterator::map(#op_ty::ALL.iter(), |op| op.as_str()))),
                }
            }}
        }
        Routing::PayloadTypeMatch => {
            // A model name used by one operation routes by `payload_type` alone; a name shared
            // by several operations also needs the payload's `operation` field.
            let mut groups: Vec<(&str, Vec<(&OpIr, &TokenStream)>)> = Vec::new();
            for (op, payload) in ir.ops.iter().zip(&payloads) {
                match groups.iter_mut().find(|(w, _)| *w == op.input.wire_name()) {
                    Some((_, ops)) => ops.push((op, payload)),
                    None => groups.push((op.input.wire_name(), vec![(op, payload)])),
                }
            }
            let unsupported = quote!(other => ::core::result::Result::Err(#p::unsupported_operation(other, ::core::iter::Iterator::map(#op_ty::ALL.iter(), |op| op.as_str()))),);
            let arms = groups.iter().map(|(wire, ops)| {
                if let [(op, payload)] = ops[..] {
                    let body = decode_op(op, payload);
                    return quote!(::core::option::Option::Some(#wire) => #body,);
                }
                let names = ops.iter().map(|(op, _)| op.name.as_str());
                let by_op = ops.iter().map(|(op, payload)| {
                    let (name, body) = (&op.name, decode_op(op, payload));
                    quote!(#name => #body,)
                });
                quote! {
                    ::core::option::Option::Some(#wire) => match #p::operation_field(&payload) {
                        ::core::result::Result::Ok(operation) => match operation.as_str() {
                            #(#by_op)*
                            #unsupported
                        },
                        ::core::result::Result::Err(_) => ::core::result::Result::Err(#p::shared_payload_type(#wire, &[#(#names),*])),
                    },
                }
            });
            let by_op = ir.ops.iter().zip(&payloads).map(|(op, payload)| {
                let (name, body) = (&op.name, decode_op(op, payload));
                quote!(#name => #body,)
            });
            let wires = groups.iter().map(|(w, _)| *w);
            quote! {{
                match payload_type {
                    #(#arms)*
                    _ => match #p::operation_field(&payload) {
                        ::core::result::Result::Ok(operation) => match operation.as_str() {
                            #(#by_op)*
                            #unsupported
                        },
                        ::core::result::Result::Err(_) => ::core::result::Result::Err(#p::unknown_payload_type(payload_type, &[#(#wires),*])),
                    },
                }
            }}
        }
    };
    // The wire form carries `operation` when routing needs it: always for operation routing,
    // and for payload-type routing when the model is shared by several operations.
    let encode_with_op = ir.ops.iter().map(|op| match ir.routing {
        Routing::OperationMatch => true,
        Routing::PayloadTypeMatch => {
            ir.ops
                .iter()
                .filter(|o| o.input.wire_name() == op.input.wire_name())
                .count()
                > 1
        }
        Routing::Single => false,
    });
    let doc = format!(
        " An input envelope payload of `{}`: one variant per operation, decoded from the ONEX wire form.",
        ir.meta.name
    );
    let decl = payload_enum(
        ty,
        op_ty,
        &doc,
        docs,
        &variants,
        &payloads,
        derives,
        " The operation this input selects.",
    );
    quote! {
        #decl

        #[automatically_derived]
        impl #p::NodeInput for #ty {
            fn decode(payload_type: ::core::option::Option<&str>, payload: #p::JsonValue) -> ::core::result::Result<Self, #p::OnexError> #decode_body

            fn encode(&self) -> ::core::result::Result<#p::JsonValue, #p::OnexError> {
                match self {
                    #(Self::#variants(input) => #p::encode_payload(input, #names, #encode_with_op),)*
                }
            }

            fn operation(&self) -> &'static str {
                self.operation().as_str()
            }

            fn payload_type(&self) -> &'static str {
                match self { #(Self::#variants(_) => #wire,)* }
            }

            fn validate(&self) -> ::core::result::Result<(), #p::OnexError> {
                match self { #(Self::#variants(input) => #validates,)* }
            }
        }
    }
}

fn output_enum(ir: &NodeIr, rt: &Runtime, derives: &[syn::Path]) -> TokenStream {
    let p = rt.private();
    let (ty, op_ty) = (&ir.names.output, &ir.names.operation);
    let variants: Vec<&Ident> = ir.ops.iter().map(|o| &o.variant).collect();
    let names: Vec<&String> = ir.ops.iter().map(|o| &o.name).collect();
    let payloads: Vec<TokenStream> = ir
        .ops
        .iter()
        .map(|o| payload_ty(ir, &o.output, rt))
        .collect();
    let wire: Vec<&str> = ir.ops.iter().map(|o| o.output.wire_name()).collect();
    let docs = ir
        .ops
        .iter()
        .map(|o| format!(" Output of `{}` (`{}`).", o.name, o.output.wire_name()));
    let doc = format!(
        " An output payload of `{}`: one variant per operation.",
        ir.meta.name
    );
    let decl = payload_enum(
        ty,
        op_ty,
        &doc,
        docs,
        &variants,
        &payloads,
        derives,
        " The operation that produced this output.",
    );
    quote! {
        #decl

        #[automatically_derived]
        impl #p::NodeOutput for #ty {
            fn decode(operation: &str, payload: #p::JsonValue) -> ::core::result::Result<Self, #p::OnexError> {
                match operation {
                    #(#names => #p::decode_payload::<#payloads>(payload, #names, false).map(Self::#variants),)*
                    other => ::core::result::Result::Err(#p::unsupported_operation(other, ::core::iter::Iterator::map(#op_ty::ALL.iter(), |op| op.as_str()))),
                }
            }

            fn encode(&self) -> ::core::result::Result<#p::JsonValue, #p::OnexError> {
                match self { #(Self::#variants(output) => #p::encode_payload(output, #names, false),)* }
            }

            fn operation(&self) -> &'static str {
                self.operation().as_str()
            }

            fn payload_type(&self) -> &'static str {
                match self { #(Self::#variants(_) => #wire,)* }
            }
        }
    }
}

/// An input or output enum (one variant per operation) and its `operation()` accessor.
#[allow(clippy::too_many_arguments)]
fn payload_enum(
    ty: &Ident,
    op_ty: &Ident,
    doc: &str,
    docs: impl Iterator<Item = String>,
    variants: &[&Ident],
    payloads: &[TokenStream],
    derives: &[syn::Path],
    operation_doc: &str,
) -> TokenStream {
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug #(, #derives)*)]
        pub enum #ty {
            #( #[doc = #docs] #variants(#payloads), )*
        }

        impl #ty {
            #[doc = #operation_doc]
            pub const fn operation(&self) -> #op_ty {
                match self { #(Self::#variants(_) => #op_ty::#variants,)* }
            }
        }
    }
}

fn handler_trait(ir: &NodeIr, flavor: Flavor, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let ty = &ir.names.handler;
    let handled = ir
        .ops
        .iter()
        .filter(|op| flavor == Flavor::Compute || op.db.is_none());
    let methods = handled.map(|op| {
        let method = &op.method;
        let input = payload_ty(ir, &op.input, rt);
        let output = payload_ty(ir, &op.output, rt);
        let mut doc = format!("Handles `{}`.", op.name);
        if let Some(desc) = &op.description {
            doc = format!("{desc}\n\nHandles `{}`.", op.name);
        }
        let doc = docs(&doc);
        match flavor {
            Flavor::Effect => quote! {
                #doc
                fn #method(&self, ctx: &#p::EffectContext, input: #input)
                    -> impl ::core::future::Future<Output = ::core::result::Result<#output, #p::OnexError>> + ::core::marker::Send;
            },
            Flavor::Compute => quote! {
                #doc
                fn #method(&self, input: #input) -> ::core::result::Result<#output, #p::OnexError>;
            },
        }
    });
    let how = match flavor {
        Flavor::Effect => "Write each method as a plain `async fn`.",
        Flavor::Compute => {
            "Write each method as a plain, synchronous `fn`: a compute node is pure (no context, no `&mut self`)."
        }
    };
    let generated: Vec<String> = ir
        .ops
        .iter()
        .filter(|op| flavor == Flavor::Effect && op.db.is_some())
        .map(|op| format!("`{}`", op.name))
        .collect();
    let generated = if generated.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nThe declarative `db` operations ({}) have no method: their SQL runs on the executor of `{}`'s `SqlSource` implementation.",
            generated.join(", "),
            ir.names.node
        )
    };
    let doc = docs(&format!(
        "Implement this for `{}` to handle the operations of the `{}` contract: one method per operation. {how}\n\nA forgotten operation is a compile error (missing trait item).{generated}",
        ir.names.node, ir.meta.name
    ));
    quote! {
        #doc
        pub trait #ty: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#methods)*
        }
    }
}

fn dispatch(ir: &NodeIr, flavor: Flavor, rt: &Runtime, tracking: TokenStream) -> TokenStream {
    let p = rt.private();
    let node = &ir.names.node;
    let (input, output, handler, module) = (
        &ir.names.input,
        &ir.names.output,
        &ir.names.handler,
        &ir.names.module,
    );
    let arms = ir.ops.iter().enumerate().map(|(index, op)| {
        let (variant, method) = (&op.variant, &op.method);
        match flavor {
            Flavor::Effect => {
                let call = match &op.db {
                    Some(db) => db::call(ir, op, db, rt),
                    None => quote_spanned! {node.span()=> <Self as #handler>::#method(self, ctx, input) },
                };
                let call = policy::wrap(ir, index, op, call, rt);
                quote_spanned! {node.span()=>
                    #input::#variant(input) => #call.map(#output::#variant),
                }
            }
            Flavor::Compute => quote_spanned! {node.span()=>
                #input::#variant(input) => <Self as #handler>::#method(self, input).map(#output::#variant),
            },
        }
    });
    let state = match flavor {
        Flavor::Effect => policy::state_fn(ir, rt),
        Flavor::Compute => TokenStream::new(),
    };
    let body = match flavor {
        Flavor::Effect => quote! {
            #state

            fn dispatch(&self, ctx: &#p::EffectContext, input: Self::Input)
                -> impl ::core::future::Future<Output = ::core::result::Result<Self::Output, #p::OnexError>> + ::core::marker::Send
            {
                async move {
                    match input { #(#arms)* }
                }
            }
        },
        Flavor::Compute => quote! {
            fn dispatch(&self, input: Self::Input) -> ::core::result::Result<Self::Output, #p::OnexError> {
                match input { #(#arms)* }
            }
        },
    };
    let trait_name = match flavor {
        Flavor::Effect => quote!(EffectNode),
        Flavor::Compute => quote!(ComputeNode),
    };
    let header = quote_spanned! {node.span()=> impl #p::#trait_name for #node };
    let kind_of = kind_of(
        node,
        match flavor {
            Flavor::Effect => onex_contracts::NodeKind::Effect,
            Flavor::Compute => onex_contracts::NodeKind::Compute,
        },
        rt,
    );
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            #tracking
            #kind_of

            #[automatically_derived]
            #header {
                type Input = #input;
                type Output = #output;
                const CONTRACT: &'static #p::ContractInfo = #module::CONTRACT;

                #body
            }
        };
    }
}
