//! On error: the user's item, every error, and stub items so the rest of the crate still
//! type-checks and one mistake does not cascade into dozens.

use proc_macro2::TokenStream;
use quote::quote;

use crate::lower::Names;

/// The user's item re-emitted, the errors, and empty stand-ins for the generated names.
pub fn fallback(item: &TokenStream, names: Option<&Names>, errors: Vec<syn::Error>) -> TokenStream {
    let errors = errors.into_iter().map(|e| e.to_compile_error());
    let stubs = names.map(|n| {
        let (module, operation, input, output, handler) =
            (&n.module, &n.operation, &n.input, &n.output, &n.handler);
        quote! {
            #[doc(hidden)]
            #[allow(dead_code, unused)]
            pub mod #module {}
            #[doc(hidden)]
            #[allow(dead_code)]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug)]
            pub enum #operation {}
            #[doc(hidden)]
            #[allow(dead_code)]
            #[derive(::core::fmt::Debug)]
            pub enum #input {}
            #[doc(hidden)]
            #[allow(dead_code)]
            #[derive(::core::fmt::Debug)]
            pub enum #output {}
            #[doc(hidden)]
            #[allow(dead_code)]
            pub trait #handler {}
        }
    });
    quote! {
        #item
        #(#errors)*
        #stubs
    }
}
