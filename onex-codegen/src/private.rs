//! The one path generated code reaches the runtime through: `::onex_runtime::__private`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};

/// The runtime crate path (`::onex_runtime`, or the `crate = …` override).
#[derive(Clone, Debug)]
pub struct Runtime {
    krate: TokenStream,
}

impl Runtime {
    /// `::onex_runtime`, or `path` when given.
    pub fn new(path: Option<&syn::Path>) -> Self {
        Runtime {
            krate: path.map_or_else(|| quote!(::onex_runtime), |p| p.to_token_stream()),
        }
    }

    /// `<crate>::__private`.
    pub fn private(&self) -> TokenStream {
        let krate = &self.krate;
        quote!(#krate::__private)
    }

    /// The `serde(crate = "…")` string for derives in generated code.
    pub fn serde_crate(&self) -> String {
        let path = self.private().to_string().replace(' ', "");
        format!("{path}::serde")
    }
}
