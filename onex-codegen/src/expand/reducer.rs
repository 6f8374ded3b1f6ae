//! Reducer nodes: `{Node}State`, `{Node}Trigger` and `{Node}Intent` from the FSM section,
//! and `impl ReducerNode` whose `reduce` is a generated `match` on `(state, trigger)`.
//!
//! Selection follows DESIGN.md §4.4 and the Python reference exactly: the exact
//! `(state, trigger)` candidates, else the wildcard ones; highest priority first, declaration
//! order breaking ties; the first whose required conditions all hold wins; none → a guard
//! rejection naming the best candidate's failed conditions. Everything is decided at compile
//! time: each arm holds only its candidates, and a candidate without required conditions
//! ends the arm.

use onex_contracts::fsm::{Fsm, Guard, Literal, Op, Operand, Transition};
use onex_contracts::names;
use onex_contracts::schema::{ModelDef, ModelShape, TypeExpr};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use super::names::{self as enum_names, Variant, variant, variants};
use crate::lower::{NodeIr, ident};
use crate::private::Runtime;

/// A type the node reads: the reducer's guard context, or an orchestrator's workflow input.
#[derive(Clone, Debug)]
pub enum Context {
    /// No guards and no model: `()`.
    Unit,
    /// A model generated from `definitions` (in the node module).
    Generated(String),
    /// A user type: the contract's `input_model` by name, or `context = path`.
    User(syn::Path),
}

/// The generated enum names.
struct Enums {
    state: Ident,
    trigger: Ident,
    intent: Ident,
}

/// Everything generated for a reducer besides the module and the user's item.
pub fn node(
    ir: &NodeIr,
    fsm: &Fsm,
    context: &Context,
    models: &[ModelDef],
    rt: &Runtime,
    tracking: TokenStream,
) -> TokenStream {
    let node = &ir.names.node;
    let span = node.span();
    let base = node.to_string();
    let base = base.strip_prefix("r#").unwrap_or(&base);
    let enums = Enums {
        state: format_ident!("{base}State", span = span),
        trigger: format_ident!("{base}Trigger", span = span),
        intent: format_ident!("{base}Intent", span = span),
    };
    let states = variants(fsm.states.iter().map(|s| s.name.value.as_str()), span);
    let triggers = variants(fsm.triggers(), span);
    let intents = variants(fsm.actions(), span);
    let machine = fsm
        .name
        .as_ref()
        .map_or(ir.meta.name.as_str(), |n| n.value.as_str());

    let initial = fsm
        .initial
        .as_ref()
        .and_then(|i| variant(&states, &i.value))
        .or_else(|| states.first().map(|v| &v.ident));
    let terminal: Vec<&str> = fsm
        .states
        .iter()
        .filter(|s| s.terminal)
        .map(|s| s.name.value.as_str())
        .collect();
    let state_docs: Vec<String> = fsm
        .states
        .iter()
        .map(|s| {
            let mut d = format!(" `{}`", s.name.value);
            if s.terminal {
                d.push_str(" (terminal)");
            }
            if let Some(desc) = s.description.as_deref().and_then(|d| d.lines().next()) {
                d.push_str(": ");
                d.push_str(desc.trim());
            }
            d
        })
        .collect();
    let state_enum = name_enum(
        &enums.state,
        &states,
        &state_docs,
        &format!(" The states of the `{machine}` state machine."),
        rt,
    );
    let trigger_docs: Vec<String> = triggers.iter().map(|t| format!(" `{}`.", t.name)).collect();
    let trigger_enum = name_enum(
        &enums.trigger,
        &triggers,
        &trigger_docs,
        &format!(" The triggers of the `{machine}` state machine."),
        rt,
    );
    let intent_docs: Vec<String> = intents
        .iter()
        .map(|a| format!(" The action `{}`.", a.name))
        .collect();
    let intent_enum = name_enum(
        &enums.intent,
        &intents,
        &intent_docs,
        &format!(
            " The intents the `{machine}` state machine emits: one per action (entry, exit and transition actions). A reducer emits them; it never executes them."
        ),
        rt,
    );

    let p = rt.private();
    let (s_ty, t_ty, i_ty) = (&enums.state, &enums.trigger, &enums.intent);
    let state_impls = initial.map(|initial| {
        let terminal_arms = states
            .iter()
            .filter(|v| terminal.contains(&v.name.as_str()))
            .map(|v| &v.ident);
        let terminal_body = if terminal.is_empty() {
            quote!({
                let _ = self;
                false
            })
        } else {
            quote!(::core::matches!(self, #(Self::#terminal_arms)|*))
        };
        quote! {
            impl #s_ty {
                /// The contract's `initial_state`.
                pub const INITIAL: Self = Self::#initial;

                /// True for terminal states.
                pub const fn is_terminal(self) -> bool {
                    #terminal_body
                }
            }

            #[automatically_derived]
            impl #p::FsmState for #s_ty {
                const INITIAL: Self = Self::#initial;
                fn is_terminal(self) -> bool {
                    #s_ty::is_terminal(self)
                }
            }

            impl ::core::str::FromStr for #s_ty {
                type Err = #p::FsmError;
                fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                    <Self as #p::FsmName>::from_name(s).ok_or_else(|| #p::FsmError::UnknownState {
                        name: ::core::convert::Into::into(s),
                        expected: ::core::iter::Iterator::collect(::core::iter::Iterator::map(Self::ALL.iter(), |v| v.as_str())),
                    })
                }
            }
        }
    });
    let trigger_from_str = quote! {
        impl ::core::str::FromStr for #t_ty {
            type Err = #p::FsmError;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                <Self as #p::FsmName>::from_name(s).ok_or_else(|| #p::FsmError::UnknownTrigger {
                    name: ::core::convert::Into::into(s),
                    expected: ::core::iter::Iterator::collect(::core::iter::Iterator::map(Self::ALL.iter(), |v| v.as_str())),
                })
            }
        }
    };

    let ctx_ty = match context {
        Context::Unit => quote!(()),
        Context::Generated(name) => {
            let module = &ir.names.module;
            let i = ident(name, span);
            quote!(#module::#i)
        }
        Context::User(path) => quote!(#path),
    };
    // rustc reports a guard that does not fit a user context type (a missing field, an
    // operator the field's type does not support) at that type in the attribute.
    let guard_span = match context {
        Context::User(path) => syn::spanned::Spanned::span(path),
        Context::Unit | Context::Generated(_) => span,
    };
    let generator = Gen {
        fsm,
        context,
        models,
        rt,
        enums: &enums,
        states: &states,
        triggers: &triggers,
        intents: &intents,
        span: guard_span,
    };
    let body = generator.reduce_body();
    let info = {
        let state_names = states.iter().map(|v| &v.name);
        let trigger_names = triggers.iter().map(|v| &v.name);
        let intent_names = intents.iter().map(|v| &v.name);
        let initial_name = fsm.initial.as_ref().map_or("", |i| i.value.as_str());
        let persistence = fsm.persistence;
        quote! {
            #p::FsmInfo {
                name: #machine,
                initial: #initial_name,
                states: &[#(#state_names),*],
                terminal: &[#(#terminal),*],
                triggers: &[#(#trigger_names),*],
                intents: &[#(#intent_names),*],
                persistence: #persistence,
            }
        }
    };
    let module = &ir.names.module;
    let enum_guards = enum_guards(ir, models, rt);
    let header = quote_spanned! {span=> impl #p::ReducerNode for #node };
    let kind_of = super::kind_of(node, onex_contracts::NodeKind::Reducer, rt);
    quote! {
        #state_enum
        #state_impls
        #trigger_enum
        #trigger_from_str
        #intent_enum

        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            #tracking
            #kind_of
            #enum_guards

            #[automatically_derived]
            #header {
                type State = #s_ty;
                type Trigger = #t_ty;
                type Intent = #i_ty;
                type Context = #ctx_ty;
                const CONTRACT: &'static #p::ContractInfo = #module::CONTRACT;
                const FSM: &'static #p::FsmInfo = &#info;

                #[inline]
                fn reduce(&self, state: #s_ty, trigger: #t_ty, ctx: &#ctx_ty)
                    -> ::core::result::Result<#p::Transition<#s_ty, #t_ty, #i_ty>, #p::FsmError>
                {
                    #body
                }
            }
        };
    }
}

/// Guards read the contract's string enums by their contract values.
fn enum_guards(ir: &NodeIr, models: &[ModelDef], rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let module = &ir.names.module;
    let mut names: Vec<&str> = Vec::new();
    for m in models {
        match &m.shape {
            ModelShape::Enum(_) => names.push(&m.name.value),
            ModelShape::Object(fields) => {
                for f in fields {
                    let mut ty = &f.ty;
                    while let TypeExpr::Array(inner) | TypeExpr::Map(inner) = ty {
                        ty = inner;
                    }
                    if let TypeExpr::Enum { name, .. } = ty {
                        names.push(name);
                    }
                }
            }
        }
    }
    names.sort_unstable();
    names.dedup();
    let impls = names.iter().map(|name| {
        let ty = ident(name, ir.names.node.span());
        quote! {
            #[automatically_derived]
            impl #p::fsm_guard::GuardValue for #module::#ty {
                fn guard_eq(&self, lit: &#p::fsm_guard::Literal) -> bool {
                    lit.text == self.as_str()
                }
            }
            #[automatically_derived]
            impl #p::fsm_guard::GuardText for #module::#ty {
                fn guard_text(&self) -> ::core::option::Option<&str> {
                    ::core::option::Option::Some(self.as_str())
                }
            }
            #[automatically_derived]
            impl #p::fsm_guard::GuardPresence for #module::#ty {
                fn guard_exists(&self) -> bool {
                    true
                }
            }
        }
    });
    quote!(#(#impls)*)
}

/// A contract-name enum that is also an `FsmName`.
fn name_enum(ty: &Ident, all: &[Variant], docs: &[String], doc: &str, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let core = enum_names::name_enum(ty, all, docs, doc, rt);
    let from_name = enum_names::from_name_body(all);
    quote! {
        #core

        #[automatically_derived]
        impl #p::FsmName for #ty {
            const ALL: &'static [Self] = #ty::ALL;
            fn as_str(self) -> &'static str {
                #ty::as_str(self)
            }
            fn from_name(name: &str) -> ::core::option::Option<Self> {
                #from_name
            }
        }
    }
}

/// Generates the body of `reduce`.
struct Gen<'a> {
    fsm: &'a Fsm,
    context: &'a Context,
    models: &'a [ModelDef],
    rt: &'a Runtime,
    enums: &'a Enums,
    states: &'a [Variant],
    triggers: &'a [Variant],
    intents: &'a [Variant],
    span: Span,
}

impl Gen<'_> {
    fn reduce_body(&self) -> TokenStream {
        let p = self.rt.private();
        let (s_ty, t_ty) = (&self.enums.state, &self.enums.trigger);
        let mut arms = Vec::new();
        let mut covered = 0usize;
        let mut reads_ctx = false;
        for state in self.states {
            for trigger in self.triggers {
                let candidates = self.fsm.candidates(&state.name, &trigger.name);
                if candidates.is_empty() {
                    continue;
                }
                covered += 1;
                reads_ctx |= candidates.iter().any(|t| t.required().next().is_some());
                let (s, t) = (&state.ident, &trigger.ident);
                let body = self.arm(&state.name, &trigger.name, &candidates);
                arms.push(quote!((#s_ty::#s, #t_ty::#t) => #body,));
            }
        }
        let fallback = (covered < self.states.len() * self.triggers.len()).then(|| {
            quote! {
                _ => ::core::result::Result::Err(#p::FsmError::NoTransition {
                    state: state.as_str(),
                    trigger: trigger.as_str(),
                }),
            }
        });
        let unused = (!reads_ctx).then(|| quote!(let _ = ctx;));
        if arms.is_empty() {
            // No transitions at all: every trigger is refused.
            return quote! {
                #unused
                ::core::result::Result::Err(#p::FsmError::NoTransition {
                    state: state.as_str(),
                    trigger: trigger.as_str(),
                })
            };
        }
        quote! {
            #unused
            match (state, trigger) {
                #(#arms)*
                #fallback
            }
        }
    }

    /// One `(state, trigger)` arm: its candidates in order, then the guard rejection.
    fn arm(&self, state: &str, trigger: &str, candidates: &[&Transition]) -> TokenStream {
        let p = self.rt.private();
        let mut steps = Vec::new();
        for t in candidates {
            let taken = self.taken(state, t);
            let guards: Vec<TokenStream> = t.required().map(|(_, g)| self.guard(g)).collect();
            if guards.is_empty() {
                // A default edge: always eligible; later candidates can never be reached.
                steps.push(quote!(::core::result::Result::Ok(#taken)));
                return quote!({ #(#steps)* });
            }
            steps.push(quote! {
                if #(#guards)&&* {
                    return ::core::result::Result::Ok(#taken);
                }
            });
        }
        let best = candidates[0];
        let failed = best.required().map(|(c, g)| {
            let guard = self.guard(g);
            let text = &c.expression.value;
            quote! {
                if !(#guard) {
                    failed.push(#text);
                }
            }
        });
        let (name, to) = (&best.name.value, &best.to.value);
        steps.push(quote! {
            let mut failed = ::std::vec::Vec::new();
            #(#failed)*
            ::core::result::Result::Err(#p::FsmError::GuardRejected {
                state: #state,
                trigger: #trigger,
                transition: #name,
                to: #to,
                failed,
            })
        });
        quote!({ #(#steps)* })
    }

    /// The `Transition` value of taking `t` from `state`.
    fn taken(&self, state: &str, t: &Transition) -> TokenStream {
        let p = self.rt.private();
        let (s_ty, t_ty, i_ty) = (&self.enums.state, &self.enums.trigger, &self.enums.intent);
        // Validation guarantees every name below is declared; a missing one would already
        // have been reported, so `unwrap_or` only keeps the macro total.
        let fallback = Ident::new("__onex_invalid_name", self.span);
        let from = variant(self.states, state).unwrap_or(&fallback);
        let to = variant(self.states, &t.to.value).unwrap_or(&fallback);
        let trigger = variant(self.triggers, &t.trigger.value).unwrap_or(&fallback);
        let intents = self
            .fsm
            .intents(state, t)
            .into_iter()
            .map(|a| variant(self.intents, a).unwrap_or(&fallback));
        let name = &t.name.value;
        quote! {
            #p::Transition {
                from: #s_ty::#from,
                to: #s_ty::#to,
                trigger: #t_ty::#trigger,
                name: #name,
                intents: &[#(#i_ty::#intents),*],
            }
        }
    }

    /// A boolean expression evaluating one guard on `ctx`.
    fn guard(&self, g: &Guard) -> TokenStream {
        let root = quote_spanned!(self.span=> ctx);
        match self.context {
            Context::Generated(model) => {
                match self.models.iter().find(|m| m.name.value == *model) {
                    Some(m) => self.typed_access(root, &g.path, m, g),
                    None => self.plain_access(root, g),
                }
            }
            Context::User(_) | Context::Unit => self.plain_access(root, g),
        }
    }

    /// `ctx.a.b` for a user type (rustc checks the fields).
    fn plain_access(&self, root: TokenStream, g: &Guard) -> TokenStream {
        let fields = g.path.iter().map(|s| ident(&names::snake(s), self.span));
        let value = quote_spanned!(self.span=> &#root #(.#fields)*);
        self.op(value, g)
    }

    /// Walks a generated model: `Option` intermediates become a `match` whose `None` arm
    /// evaluates the guard on a missing value; JSON and map intermediates are looked up.
    fn typed_access(
        &self,
        base: TokenStream,
        path: &[String],
        model: &ModelDef,
        g: &Guard,
    ) -> TokenStream {
        let p = self.rt.private();
        let Some((first, rest)) = path.split_first() else {
            return self.op(quote!(&#p::fsm_guard::Null), g);
        };
        let ModelShape::Object(fields) = &model.shape else {
            return self.op(quote!(&#p::fsm_guard::Null), g);
        };
        let Some(field) = fields.iter().find(|f| f.name.value == *first) else {
            return self.op(quote!(&#p::fsm_guard::Null), g);
        };
        let f = ident(&names::snake(first), self.span);
        let here = quote!(#base.#f);
        if rest.is_empty() {
            return self.op(quote!(&#here), g);
        }
        let missing = self.op(quote!(&#p::fsm_guard::Null), g);
        let value = if field.is_option() {
            quote!(__v)
        } else {
            here.clone()
        };
        let next = match &field.ty {
            TypeExpr::Ref(name) => match self.models.iter().find(|m| m.name.value == name.value) {
                Some(m) => self.typed_access(value, rest, m, g),
                None => missing.clone(),
            },
            TypeExpr::Any => {
                let pointer: String = rest.iter().map(|s| format!("/{s}")).collect();
                let found = self.op(quote!(__j), g);
                quote! {
                    match #value.pointer(#pointer) {
                        ::core::option::Option::Some(__j) => #found,
                        ::core::option::Option::None => #missing,
                    }
                }
            }
            TypeExpr::Map(_) if rest.len() == 1 => {
                let key = &rest[0];
                let found = self.op(quote!(__m), g);
                quote! {
                    match #value.get(#key) {
                        ::core::option::Option::Some(__m) => #found,
                        ::core::option::Option::None => #missing,
                    }
                }
            }
            _ => missing.clone(),
        };
        if field.is_option() {
            quote! {
                match &#here {
                    ::core::option::Option::Some(__v) => #next,
                    ::core::option::Option::None => #missing,
                }
            }
        } else {
            next
        }
    }

    /// Calls the runtime guard function for `g.op` on `value` (an expression of type `&T`).
    fn op(&self, value: TokenStream, g: &Guard) -> TokenStream {
        let p = self.rt.private();
        let m = quote!(#p::fsm_guard);
        let lit = |l: &Literal| literal(l, &m);
        let f = match g.op {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Lt => "lt",
            Op::Gt => "gt",
            Op::Le => "le",
            Op::Ge => "ge",
            Op::MinLength => "min_len",
            Op::MaxLength => "max_len",
            Op::Exists => "exists",
            Op::NotExists => "not_exists",
            Op::In => "is_in",
            Op::NotIn => "not_in",
            Op::Contains => "contains",
            Op::Matches => "matches",
        };
        let f = Ident::new(f, self.span);
        match &g.operand {
            Operand::None => quote_spanned!(self.span=> #m::#f(#value)),
            Operand::Literal(l) => {
                let l = lit(l);
                quote_spanned!(self.span=> #m::#f(#value, &#l))
            }
            Operand::List(ls) => {
                let ls = ls.iter().map(lit);
                quote_spanned!(self.span=> #m::#f(#value, &[#(#ls),*]))
            }
            Operand::Length(n) => {
                let n = usize::try_from(*n).unwrap_or(usize::MAX);
                let n = proc_macro2::Literal::usize_suffixed(n);
                quote_spanned!(self.span=> #m::#f(#value, #n))
            }
            Operand::Pattern(re) => {
                quote_spanned!(self.span=> {
                    static __PATTERN: #m::Prefix = #m::Prefix::new(#re);
                    #m::#f(#value, &__PATTERN)
                })
            }
        }
    }
}

/// A `Literal` constant expression.
fn literal(l: &Literal, m: &TokenStream) -> TokenStream {
    let text = &l.text;
    let int = match l.int {
        Some(i) => quote!(::core::option::Option::Some(#i)),
        None => quote!(::core::option::Option::None),
    };
    let float = match l.float {
        Some(f) => {
            let f = proc_macro2::Literal::f64_suffixed(f);
            quote!(::core::option::Option::Some(#f))
        }
        None => quote!(::core::option::Option::None),
    };
    let boolean = match l.boolean {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    };
    let none = l.none;
    quote!(#m::Literal { text: #text, int: #int, float: #float, boolean: #boolean, none: #none })
}

/// Decides the guard context: `context = Type`, else the contract's `input_model` (a
/// generated model when `definitions` has it, else a user type of that name), else `()`
/// when no guard reads anything. An error comes with the location of the guard that needs
/// a context.
pub fn context(
    explicit: Option<&syn::Path>,
    contract: &onex_contracts::Contract,
    fsm: &Fsm,
) -> Result<Context, (onex_contracts::yaml::Loc, String)> {
    if let Some(named) = named_type(explicit, contract) {
        return Ok(named);
    }
    let guarded = fsm
        .transitions
        .iter()
        .find_map(|t| t.required().next().map(|(c, _)| c));
    match guarded {
        None => Ok(Context::Unit),
        Some(c) => Err((
            c.expression.loc,
            format!(
                "condition `{}` reads the reducer's context, but the contract names no `input_model`\n  help: name the context type with `#[reducer_node(contract = \"…\", context = YourContext)]`, or add `input_model` (a model in `definitions` is checked field by field)",
                c.expression.value
            ),
        )),
    }
}

/// The type a node reads that its attribute or contract names: `explicit` (`context =` /
/// `input =`), else the contract's `input_model` (a generated model when `definitions` has
/// it, else a user type of that name); `None` when neither names one.
pub fn named_type(
    explicit: Option<&syn::Path>,
    contract: &onex_contracts::Contract,
) -> Option<Context> {
    if let Some(path) = explicit {
        return Some(Context::User(path.clone()));
    }
    let name = &contract.input_model.as_ref()?.name.value;
    if contract.definition(name).is_some() {
        Some(Context::Generated(name.clone()))
    } else if names::ident_problem(name).is_none() {
        Some(Context::User(syn::Path::from(ident(
            name,
            Span::call_site(),
        ))))
    } else {
        None
    }
}
