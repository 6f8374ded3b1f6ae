//! Generated compute code, like effect code, spells every path in full: it compiles without
//! the prelude and with the names a sloppy expansion might pick up shadowed.

mod hygiene {
    #![no_implicit_prelude]
    #![allow(dead_code)]

    pub struct Result;
    pub struct Option;
    pub struct Box;
    pub struct String;
    pub struct Vec;
    pub struct Ok;
    pub struct Err;
    pub struct Some;
    pub struct None;
    pub trait Send {}
    pub trait Sync {}
    pub trait Clone {}
    pub trait Debug {}
    pub trait Default {}
    pub trait Iterator {}
    pub trait Into {}
    pub trait ToString {}
    pub trait FnOnce {}
    pub mod serde {}
    pub mod serde_json {}
    pub mod core {}
    pub mod std {}

    #[::onex_runtime::compute_node(contract = "../contracts/compute_text.yaml")]
    pub struct TextMetrics;

    impl TextMetricsHandler for TextMetrics {
        fn text_measure(
            &self,
            input: text_metrics::ModelText,
        ) -> ::core::result::Result<text_metrics::ModelMeasure, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(text_metrics::ModelMeasure {
                words: ::core::iter::Iterator::count(input.text.split_whitespace()) as i64,
                chars: ::core::iter::Iterator::count(input.text.chars()) as i64,
            })
        }

        fn text_normalize(
            &self,
            input: text_metrics::ModelText,
        ) -> ::core::result::Result<text_metrics::ModelText, ::onex_runtime::OnexError> {
            ::core::result::Result::Ok(input)
        }
    }
}

use onex_runtime::ComputeNode;

fn main() {
    let request = br#"{"payload": {"operation": "text.measure", "text": "a b c"},
                       "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                       "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
    let reply = hygiene::TextMetrics
        .process_json(request)
        .expect("text.measure succeeds");
    assert_eq!(reply.payload["words"], 3);
    assert_eq!(reply.payload["chars"], 5);
}
