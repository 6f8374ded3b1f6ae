//! Resolving `contract = "…"` to a file, and the tokens that make rustc track it.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;

use crate::args::RelativeTo;

/// Facts about the macro call site, captured by the proc-macro entry point.
///
/// Tests build one by hand; inside a real expansion [`CallSite::capture`] fills it.
#[derive(Clone, Debug, Default)]
pub struct CallSite {
    /// The source file holding the attribute, when the compiler says (`Span::local_file`).
    pub source_file: Option<PathBuf>,
    /// The compiler's working directory (source files may be relative to it).
    pub current_dir: Option<PathBuf>,
    /// `CARGO_MANIFEST_DIR` of the crate being compiled.
    pub manifest_dir: Option<PathBuf>,
}

impl CallSite {
    /// Captures the working directory and manifest directory; the source file is read from
    /// the contract literal's span during expansion.
    pub fn capture() -> Self {
        CallSite {
            source_file: None,
            current_dir: std::env::current_dir().ok(),
            manifest_dir: std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        }
    }
}

/// A resolved contract path.
#[derive(Clone, Debug)]
pub struct ContractPath {
    /// The absolute path to read.
    pub abs: PathBuf,
    /// The path as the user wrote it (used in messages, never an absolute path).
    pub display: String,
    /// How the file must be tracked for rebuilds.
    pub mode: RelativeTo,
    /// What the path was resolved against, for "not found" messages.
    pub base: String,
}

/// Resolves the literal; the error message says which base was used and why.
pub fn resolve(
    lit: &syn::LitStr,
    mode: RelativeTo,
    site: &CallSite,
) -> Result<ContractPath, syn::Error> {
    let written = lit.value();
    let rel = Path::new(&written);
    if written.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            "`contract` is empty; write the path of the contract YAML, e.g. `contract = \"contract.yaml\"`",
        ));
    }
    if rel.is_absolute() || written.starts_with('/') || written.starts_with('\\') {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "absolute contract path `{written}`: absolute paths break builds on other machines\n  help: write the path relative to this source file (or use `relative_to = manifest`)"
            ),
        ));
    }
    let source_file = site.source_file.clone().or_else(|| lit.span().local_file());
    let manifest = site.manifest_dir.clone();
    let (base_dir, base) = match (mode, source_file) {
        (RelativeTo::File, Some(file)) => {
            let file = match (&site.current_dir, file.is_relative()) {
                (Some(cwd), true) => cwd.join(file),
                _ => file,
            };
            let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
            (dir, "the directory of this source file".to_owned())
        }
        (RelativeTo::File, None) => match manifest {
            Some(m) => (
                m,
                "CARGO_MANIFEST_DIR (the compiler did not say which file holds the attribute)"
                    .to_owned(),
            ),
            None => return Err(no_base(lit)),
        },
        (RelativeTo::Manifest, _) => match manifest {
            Some(m) => (m, "CARGO_MANIFEST_DIR".to_owned()),
            None => return Err(no_base(lit)),
        },
    };
    Ok(ContractPath {
        abs: base_dir.join(rel),
        display: written,
        mode,
        base,
    })
}

fn no_base(lit: &syn::LitStr) -> syn::Error {
    syn::Error::new(
        lit.span(),
        "cannot resolve the contract path: neither the source file nor CARGO_MANIFEST_DIR is known",
    )
}

/// `include_bytes!` items for the contract and every file it included, so an edit rebuilds.
///
/// File-relative paths re-use the user's literal span, so rustc resolves them like the
/// macro did; manifest-relative ones use `concat!(env!("CARGO_MANIFEST_DIR"), …)`. No
/// absolute path ever appears in the expansion.
pub fn tracking(lit: &syn::LitStr, path: &ContractPath, includes: &[String]) -> TokenStream {
    let dir = Path::new(&path.display)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let files = std::iter::once(path.display.clone()).chain(
        includes
            .iter()
            .map(|inc| dir.join(inc).to_string_lossy().replace('\\', "/")),
    );
    let items = files.map(|file| {
        let file_lit = syn::LitStr::new(&file, lit.span());
        match path.mode {
            RelativeTo::File => quote! { const _: &[u8] = ::core::include_bytes!(#file_lit); },
            RelativeTo::Manifest => {
                quote! { const _: &[u8] = ::core::include_bytes!(::core::concat!(::core::env!("CARGO_MANIFEST_DIR"), "/", #file_lit)); }
            }
        }
    });
    quote!(#(#items)*)
}
