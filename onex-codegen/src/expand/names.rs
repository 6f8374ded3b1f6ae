//! Enums of contract names (states, triggers, intents, workflow steps): one variant per
//! name, with `ALL`, `as_str`, `Display` and serde under the contract's spelling.

use onex_contracts::names;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::lower::ident;
use crate::private::Runtime;

/// One contract name and its variant.
pub struct Variant {
    /// The name as the contract writes it.
    pub name: String,
    /// The UpperCamelCase variant.
    pub ident: Ident,
}

/// The variants of `names`, in order.
pub fn variants<'a>(names: impl IntoIterator<Item = &'a str>, span: Span) -> Vec<Variant> {
    names
        .into_iter()
        .map(|n| Variant {
            name: n.to_owned(),
            ident: ident(&names::camel(n), span),
        })
        .collect()
}

/// The variant of a contract name.
pub fn variant<'a>(all: &'a [Variant], name: &str) -> Option<&'a Ident> {
    all.iter().find(|v| v.name == name).map(|v| &v.ident)
}

/// The body of `fn from_name(name: &str) -> Option<Self>`.
pub fn from_name_body(all: &[Variant]) -> TokenStream {
    if all.is_empty() {
        return quote!({
            let _ = name;
            ::core::option::Option::None
        });
    }
    let idents = all.iter().map(|v| &v.ident);
    let names = all.iter().map(|v| &v.name);
    quote!(match name {
        #(#names => ::core::option::Option::Some(Self::#idents),)*
        _ => ::core::option::Option::None,
    })
}

/// A `Copy` enum of contract names with `ALL`, `as_str`, `Display` and serde.
pub fn name_enum(
    ty: &Ident,
    all: &[Variant],
    docs: &[String],
    doc: &str,
    rt: &Runtime,
) -> TokenStream {
    let p = rt.private();
    let serde_crate = rt.serde_crate();
    let idents: Vec<&Ident> = all.iter().map(|v| &v.ident).collect();
    let names: Vec<&String> = all.iter().map(|v| &v.name).collect();
    let as_str = if all.is_empty() {
        quote!(match self {})
    } else {
        quote!(match self { #(Self::#idents => #names,)* })
    };
    quote! {
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::cmp::PartialEq, ::core::cmp::Eq, ::core::hash::Hash, ::core::cmp::PartialOrd, ::core::cmp::Ord, #p::serde::Serialize, #p::serde::Deserialize)]
        #[serde(crate = #serde_crate)]
        pub enum #ty {
            #( #[doc = #docs] #[serde(rename = #names)] #idents, )*
        }

        impl #ty {
            /// Every variant, in contract order.
            pub const ALL: &'static [Self] = &[#(Self::#idents),*];

            /// The contract's name for the variant.
            pub const fn as_str(self) -> &'static str {
                #as_str
            }
        }

        impl ::core::fmt::Display for #ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.pad(self.as_str())
            }
        }
    }
}
