//! On error: the user's item and every error, nothing else.
//!
//! Stand-in items (empty traits and enums) looked like the way to keep one mistake from
//! cascading, but they cascade themselves: every handler method becomes "not a member of
//! trait", every use of a variant "not found". rustc (since 1.94) suppresses unresolved-name
//! errors in a module that holds a `compile_error!`, so emitting nothing but the user's item
//! and the errors leaves exactly the contract's own errors on screen. The UI case
//! `contract_error_with_handler_impl` pins that behaviour.

use proc_macro2::TokenStream;
use quote::quote;

/// The user's item re-emitted unchanged, followed by the errors.
pub fn fallback(item: &TokenStream, errors: Vec<syn::Error>) -> TokenStream {
    let errors = errors.into_iter().map(|e| e.to_compile_error());
    quote! {
        #item
        #(#errors)*
    }
}
