//! The codegen pipeline without a compiler: argument errors, path resolution, and every
//! effect contract of the corpus expanding to valid, portable Rust.

use std::path::{Path, PathBuf};

use onex_codegen::{CallSite, expand_compute_node, expand_effect_node};
use quote::quote;

fn site_in(dir: &Path) -> CallSite {
    CallSite {
        source_file: Some(dir.join("lib.rs")),
        current_dir: None,
        manifest_dir: Some(dir.to_path_buf()),
    }
}

fn errors_of(tokens: &proc_macro2::TokenStream) -> Vec<String> {
    let file: syn::File = syn::parse2(tokens.clone()).expect("expansion is valid Rust");
    file.items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m)
                if m.mac.path.is_ident("compile_error")
                    || m.mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "compile_error") =>
            {
                let lit: syn::LitStr = m.mac.parse_body().ok()?;
                Some(lit.value())
            }
            _ => None,
        })
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("onex-codegen-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn unknown_argument_is_reported_and_still_expands() {
    let dir = temp_dir("args");
    std::fs::write(
        dir.join("c.yaml"),
        "name: c\nnode_type: EFFECT_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\ninput_model: ModelIn\noutput_model: ModelOut\n",
    )
    .unwrap();
    let out = expand_effect_node(
        quote!(contract = "c.yaml", contrat = "x"),
        quote!(
            pub struct C;
        ),
        site_in(&dir),
    );
    let errors = errors_of(&out);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("contrat"), "{errors:?}");
    let text = out.to_string();
    assert!(
        text.contains("trait CHandler"),
        "the node is still generated: no cascade"
    );
}

#[test]
fn absolute_and_missing_paths_are_errors_naming_the_base() {
    let dir = temp_dir("paths");
    let out = expand_effect_node(
        quote!(contract = "/etc/c.yaml"),
        quote!(
            pub struct C;
        ),
        site_in(&dir),
    );
    assert!(errors_of(&out)[0].starts_with("absolute contract path"));
    let out = expand_effect_node(
        quote!(contract = "nope.yaml"),
        quote!(
            pub struct C;
        ),
        site_in(&dir),
    );
    let errors = errors_of(&out);
    assert!(
        errors[0].contains("cannot read contract `nope.yaml`"),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("the directory of this source file"),
        "{errors:?}"
    );
    // Only the item and the error: rustc then suppresses unresolved uses of generated names.
    let file: syn::File = syn::parse2(out).unwrap();
    assert_eq!(file.items.len(), 2, "the struct and one compile_error!");
}

#[test]
fn contract_errors_are_all_reported_with_locations() {
    let dir = temp_dir("errors");
    std::fs::write(
        dir.join("c.yaml"),
        "name: c\nnode_type: EFFECT_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\neffect_operations:\n  operations:\n    - operation_nmae: a\n    - operation_name: b\n      io_confg: {}\n",
    )
    .unwrap();
    let out = expand_effect_node(
        quote!(contract = "c.yaml"),
        quote!(
            pub struct C;
        ),
        site_in(&dir),
    );
    let errors = errors_of(&out);
    assert!(
        errors.iter().any(
            |e| e.starts_with("c.yaml:6:7: unknown key `operation_nmae`")
                && e.contains("did you mean `operation_name`")
        ),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("c.yaml:8:7: unknown key `io_confg`")
                && e.contains("did you mean `io_config`")),
        "{errors:#?}"
    );
}

#[test]
fn wrong_kind_names_the_right_macro() {
    let dir = temp_dir("kind");
    std::fs::write(
        dir.join("r.yaml"),
        "name: r\nnode_type: REDUCER_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\n",
    )
    .unwrap();
    let out = expand_effect_node(
        quote!(contract = "r.yaml"),
        quote!(
            pub struct R;
        ),
        site_in(&dir),
    );
    let errors = errors_of(&out);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("r.yaml:2:12:") && e.contains("use `#[reducer_node]`")),
        "{errors:#?}"
    );
}

#[test]
fn every_effect_contract_in_the_corpus_expands_without_errors() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/onex-corpus/valid/nodes");
    if !corpus.is_dir() {
        eprintln!("skipping: ../shared/onex-corpus not found (a user's clone has no shared data)");
        return;
    }
    let mut expanded = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let loaded = onex_contracts::load_file(&path, "c.yaml");
        if loaded.contract.as_ref().and_then(|c| c.node_kind())
            != Some(onex_contracts::NodeKind::Effect)
        {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let out = expand_effect_node(
            quote!(contract = #name),
            quote!(
                pub struct Node;
            ),
            site_in(&corpus),
        );
        let errors = errors_of(&out);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let text = out.to_string();
        assert!(
            !text.contains(corpus.to_str().unwrap()),
            "{name}: absolute path in the expansion"
        );
        assert!(
            text.contains("impl :: onex_runtime :: __private :: EffectNode for Node"),
            "{name}"
        );
        expanded += 1;
    }
    assert!(expanded >= 15, "expanded {expanded} effect contracts");
}

#[test]
fn expansion_is_deterministic() {
    let dir = temp_dir("det");
    std::fs::write(
        dir.join("c.yaml"),
        "name: c\nnode_type: EFFECT_GENERIC\ncontract_version: {major: 1, minor: 0, patch: 0}\ninput_model: ModelIn\noutput_model: ModelOut\nevent_bus: {subscribe_topics: [onex.cmd.c.run.v1], publish_topics: [onex.evt.c.done.v1]}\n",
    )
    .unwrap();
    let a = expand_effect_node(
        quote!(contract = "c.yaml"),
        quote!(
            pub struct C;
        ),
        site_in(&dir),
    )
    .to_string();
    let b = expand_effect_node(
        quote!(contract = "c.yaml"),
        quote!(
            pub struct C;
        ),
        site_in(&dir),
    )
    .to_string();
    assert_eq!(a, b);
    assert!(a.contains("TOPIC_ONEX_CMD_C_RUN_V1"));
}

#[test]
fn side_effecting_compute_contracts_are_rejected_at_the_purity_value() {
    let dir = temp_dir("purity");
    let contract = |purity: &str| {
        format!(
            "name: c\nnode_type: COMPUTE_GENERIC\ncontract_version: {{major: 1, minor: 0, patch: 0}}\ninput_model: ModelIn\noutput_model: ModelOut\ndescriptor:\n  purity: {purity}\n"
        )
    };
    let expand = |file: &str, purity: &str| {
        std::fs::write(dir.join(file), contract(purity)).unwrap();
        errors_of(&expand_compute_node(
            quote!(contract = #file),
            quote!(
                pub struct C;
            ),
            site_in(&dir),
        ))
    };
    for (i, purity) in [
        "side_effecting",
        "side_effect",
        "impure",
        "side_effecting (modifies external state)",
    ]
    .into_iter()
    .enumerate()
    {
        let file = format!("impure{i}.yaml");
        let errors = expand(&file, purity);
        assert_eq!(errors.len(), 1, "{purity}: {errors:#?}");
        assert!(
            errors[0].starts_with(&format!(
                "{file}:7:11: `#[compute_node]` on a side-effecting contract"
            )),
            "{errors:#?}"
        );
        assert!(errors[0].contains("use `#[effect_node]` and `node_type: EFFECT_GENERIC`"));
    }
    for (i, purity) in ["pure", "pure (no side effects)", "Pure"]
        .into_iter()
        .enumerate()
    {
        let errors = expand(&format!("pure{i}.yaml"), purity);
        assert!(errors.is_empty(), "{purity}: {errors:#?}");
    }
    // The same side-effecting descriptor on an effect contract is fine under `#[effect_node]`.
    std::fs::write(
        dir.join("effect.yaml"),
        contract("side_effecting").replace("COMPUTE_GENERIC", "EFFECT_GENERIC"),
    )
    .unwrap();
    let out = expand_effect_node(
        quote!(contract = "effect.yaml"),
        quote!(
            pub struct C;
        ),
        site_in(&dir),
    );
    assert!(errors_of(&out).is_empty());
}

#[test]
fn every_compute_contract_in_the_corpus_expands_without_errors() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/onex-corpus/valid/nodes");
    if !corpus.is_dir() {
        eprintln!("skipping: ../shared/onex-corpus not found (a user's clone has no shared data)");
        return;
    }
    let mut entries: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut expanded = 0;
    for path in entries {
        let loaded = onex_contracts::load_file(&path, "c.yaml");
        if loaded.contract.as_ref().and_then(|c| c.node_kind())
            != Some(onex_contracts::NodeKind::Compute)
        {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let out = expand_compute_node(
            quote!(contract = #name),
            quote!(
                pub struct Node;
            ),
            site_in(&corpus),
        );
        let errors = errors_of(&out);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let text = out.to_string();
        assert!(
            text.contains("impl :: onex_runtime :: __private :: ComputeNode for Node"),
            "{name}"
        );
        assert!(
            text.contains("kind : :: onex_runtime :: __private :: NodeKind :: Compute"),
            "{name}"
        );
        expanded += 1;
    }
    assert_eq!(expanded, 5, "the corpus has five compute contracts");
}
