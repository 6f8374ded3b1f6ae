//! Effect policies: the `OperationPolicy` constants and the calls wrapped in them.

use onex_contracts::policy::Backoff;
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::lower::{NodeIr, OpIr};
use crate::private::Runtime;

/// The `OperationPolicy` value of an operation (`OperationPolicy::NONE` for nodes that are
/// not effects: only effect nodes apply policies).
pub fn value(op: &OpIr, effect: bool, rt: &Runtime) -> TokenStream {
    let p = rt.private();
    let policy = &op.policy;
    if !effect || policy.is_none() && !policy.idempotent {
        return quote!(#p::OperationPolicy::NONE);
    }
    let ms = |v: u64| {
        let v = Literal::u64_unsuffixed(v);
        quote!(::core::time::Duration::from_millis(#v))
    };
    let timeout = match policy.timeout_ms {
        Some(t) => {
            let t = ms(t);
            quote!(::core::option::Option::Some(#t))
        }
        None => quote!(::core::option::Option::None),
    };
    let retry = match &policy.retry {
        Some(r) => {
            let (n, base, max) = (
                Literal::u32_unsuffixed(r.max_retries),
                ms(r.base_delay_ms),
                ms(r.max_delay_ms),
            );
            let strategy = match r.backoff {
                Backoff::Fixed => quote!(Fixed),
                Backoff::Linear => quote!(Linear),
                Backoff::Exponential => quote!(Exponential),
            };
            let jitter = Literal::f64_suffixed(if r.jitter.is_finite() { r.jitter } else { 0.0 });
            quote! {
                #p::RetryPolicy::new(#n, #base)
                    .with_max_delay(::core::option::Option::Some(#max))
                    .with_strategy(#p::BackoffStrategy::#strategy)
                    .with_jitter(#jitter)
            }
        }
        None => quote!(#p::RetryPolicy::NONE),
    };
    let breaker = match &policy.breaker {
        Some(b) => {
            let (f, s, h) = (
                Literal::u32_unsuffixed(b.failure_threshold),
                Literal::u32_unsuffixed(b.success_threshold),
                Literal::u32_unsuffixed(b.half_open_requests),
            );
            let open = ms(b.open_ms);
            quote! {
                ::core::option::Option::Some(#p::BreakerPolicy {
                    failure_threshold: #f,
                    success_threshold: #s,
                    open_for: #open,
                    half_open_requests: #h,
                })
            }
        }
        None => quote!(::core::option::Option::None),
    };
    let idempotent = policy.idempotent;
    quote! {
        #p::OperationPolicy {
            timeout: #timeout,
            retry: #retry,
            breaker: #breaker,
            idempotent: #idempotent,
        }
    }
}

/// True when some operation of the node has a circuit breaker (the node then gets a
/// `policy_state`).
pub fn has_breakers(ir: &NodeIr) -> bool {
    ir.ops.iter().any(|op| op.policy.breaker.is_some())
}

/// `fn policy_state()`: the node type's breakers, created on first use.
pub fn state_fn(ir: &NodeIr, rt: &Runtime) -> TokenStream {
    if !has_breakers(ir) {
        return TokenStream::new();
    }
    let p = rt.private();
    let module = &ir.names.module;
    quote! {
        fn policy_state() -> ::core::option::Option<&'static #p::PolicyState> {
            static STATE: #p::OnceLock<#p::PolicyState> = #p::OnceLock::new();
            ::core::option::Option::Some(STATE.get_or_init(|| {
                #p::PolicyState::new(#module::CONTRACT.operations.iter().map(|op| &op.policy))
            }))
        }
    }
}

/// The handler call of an effect operation, wrapped in its policy when it has one.
/// `call` is the bare call expression (`<Self as Handler>::op(self, ctx, input)`), `input`
/// the variable it consumes.
pub fn wrap(ir: &NodeIr, index: usize, op: &OpIr, call: TokenStream, rt: &Runtime) -> TokenStream {
    if op.policy.is_none() {
        return quote!(#call.await);
    }
    let p = rt.private();
    let module = &ir.names.module;
    let name = &op.name;
    let i = Literal::usize_unsuffixed(index);
    let breaker = if op.policy.breaker.is_some() {
        quote! {
            <Self as #p::EffectNode>::policy_state().and_then(|state| state.breaker(#i))
        }
    } else {
        quote!(::core::option::Option::None)
    };
    let policy = quote!(&#module::CONTRACT.operations[#i].policy);
    if op.policy.retry.is_some() {
        quote! {
            #p::policy_call(#name, #policy, #breaker, ctx, |_attempt| {
                let input = ::core::clone::Clone::clone(&input);
                #call
            })
            .await
        }
    } else {
        quote!(#p::policy_call_once(#name, #policy, #breaker, ctx, #call).await)
    }
}
