//! A contract without routing has one operation, `process`; its models are not in
//! `definitions`, so they resolve to the user's own Rust types by name.

use onex_runtime::{EffectContext, EffectNode, Envelope, OnexError, RoutingStrategy, effect_node};
use serde::{Deserialize, Serialize};

/// The input model, written by hand (the contract names `omnibase_demo.models.ModelText`).
#[derive(Debug, Serialize, Deserialize)]
pub struct ModelText {
    text: String,
}

/// The output model.
#[derive(Debug, Serialize, Deserialize)]
pub struct ModelCount {
    words: usize,
}

#[effect_node(contract = "../contracts/single_operation.yaml")]
pub struct WordCounter;

impl WordCounterHandler for WordCounter {
    // The single operation is `process` in the contract; its handler method is `handle`,
    // so it never clashes with `EffectNode::process`.
    async fn handle(
        &self,
        _ctx: &EffectContext,
        input: ModelText,
    ) -> Result<ModelCount, OnexError> {
        Ok(ModelCount {
            words: input.text.split_whitespace().count(),
        })
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    // No `operation` field: every payload goes to `process`.
    let request = br#"{"payload": {"text": "the quick brown fox"},
                       "envelope_id": "2d0f8c74-7c58-4e41-9f20-3b4c5d6e7f80",
                       "envelope_timestamp": "2026-11-20T12:30:45Z"}"#;
    let reply = rt
        .block_on(WordCounter.process_json(request))
        .expect("process succeeds");
    assert_eq!(reply.payload["words"], 4);

    // Typed envelopes too: `process` is the node trait's method, unambiguous.
    let envelope = Envelope::new(WordCounterInput::Process(ModelText {
        text: "one two".to_owned(),
    }));
    let reply = rt
        .block_on(WordCounter.process(envelope))
        .expect("process succeeds");
    let WordCounterOutput::Process(count) = reply.payload;
    assert_eq!(count.words, 2);

    let contract = <WordCounter as EffectNode>::CONTRACT;
    assert_eq!(contract.routing, RoutingStrategy::Single);
    assert_eq!(contract.operations[0].name, "process");
    assert_eq!(contract.operations[0].input_type, "ModelText");
}
