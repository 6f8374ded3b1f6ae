//! `onex graph`: the state machine of a reducer or the step graph of an orchestrator, as
//! Mermaid or Graphviz DOT.
//!
//! Output is deterministic: states, transitions and steps appear in contract order.
//!
//! - **State machines**: one node per state; the initial state gets an arrow from the start
//!   marker, terminal states an arrow to the end marker (Mermaid) or a double circle (DOT),
//!   error states a red style. Each transition is an edge labelled `trigger [guard && …]`
//!   (the required guards, as written), with `(priority N)` when N ≠ 0. Wildcard
//!   transitions (`from_state: "*"`) start from one "any state" node.
//! - **Workflows**: a flowchart, one node per step (`id`, its kind), an edge from each
//!   dependency to the step that depends on it, plus any `edges[]` entry not already drawn;
//!   a comment lists the execution waves.

use std::fmt::Write as _;

use onex_contracts::Loaded;
use onex_contracts::fsm::{Fsm, Transition};
use onex_contracts::workflow::Workflow;

/// The output language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Mermaid (`stateDiagram-v2` / `flowchart TD`), for Markdown.
    Mermaid,
    /// Graphviz DOT.
    Dot,
}

/// Draws the graph of a loaded contract; `Err` says why there is none.
pub fn draw(loaded: &Loaded, format: Format) -> Result<String, String> {
    if let Some(fsm) = &loaded.fsm {
        return Ok(match format {
            Format::Mermaid => fsm_mermaid(fsm),
            Format::Dot => fsm_dot(fsm),
        });
    }
    if let Some(wf) = &loaded.workflow {
        return Ok(match format {
            Format::Mermaid => workflow_mermaid(wf),
            Format::Dot => workflow_dot(wf),
        });
    }
    let what = loaded.contract.as_ref().map_or_else(
        || "this file".to_owned(),
        |c| {
            let kind = c.kind.describe();
            let article = if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!("{article} {kind}")
        },
    );
    Err(format!(
        "nothing to draw: {what} has neither a state machine (`state_transitions`/`state_machine` of a reducer) nor a workflow (`workflow_coordination.workflow_definition.execution_graph` of an orchestrator)"
    ))
}

/// The edge label of a transition: `trigger [g1 && g2] (priority N)`.
pub fn transition_label(t: &Transition) -> String {
    let mut label = t.trigger.value.clone();
    let guards: Vec<&str> = t
        .conditions
        .iter()
        .filter(|c| c.required)
        .map(|c| c.expression.value.as_str())
        .collect();
    if !guards.is_empty() {
        let _ = write!(label, " [{}]", guards.join(" && "));
    }
    if t.priority != 0 {
        let _ = write!(label, " (priority {})", t.priority);
    }
    label
}

/// A Mermaid identifier for a name: the name itself when it is a plain word, else `n<i>`.
fn mermaid_id(name: &str, index: usize) -> String {
    let plain = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(
            name,
            "end" | "state" | "note" | "class" | "classDef" | "direction"
        );
    if plain {
        name.to_owned()
    } else {
        format!("n{index}")
    }
}

/// Escapes text for a Mermaid label (entity codes for the characters Mermaid reads).
fn mermaid_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            ';' => out.push_str("#59;"),
            ':' => out.push_str("#58;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for the inside of a DOT double-quoted string.
fn dot_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A DOT double-quoted string.
fn dot_text(text: &str) -> String {
    format!("\"{}\"", dot_escape(text))
}

fn fsm_title(fsm: &Fsm) -> String {
    fsm.name
        .as_ref()
        .map_or_else(|| fsm.dialect.key().to_owned(), |n| n.value.clone())
}

fn fsm_mermaid(fsm: &Fsm) -> String {
    let ids: Vec<String> = fsm
        .states
        .iter()
        .enumerate()
        .map(|(i, s)| mermaid_id(&s.name.value, i))
        .collect();
    let id_of = |name: &str| {
        fsm.states
            .iter()
            .position(|s| s.name.value == name)
            .map(|i| ids[i].clone())
            .unwrap_or_else(|| format!("unknown_{}", sanitize(name)))
    };
    let mut any = "any_state".to_owned();
    while ids.contains(&any) {
        any.push('_');
    }
    let mut out = String::new();
    let _ = writeln!(out, "---\ntitle: {}\n---", mermaid_text(&fsm_title(fsm)));
    out.push_str("stateDiagram-v2\n");
    for (state, id) in fsm.states.iter().zip(&ids) {
        if *id != state.name.value {
            let _ = writeln!(
                out,
                "    state \"{}\" as {id}",
                mermaid_text(&state.name.value)
            );
        }
    }
    if fsm.transitions.iter().any(Transition::is_wildcard) {
        let _ = writeln!(out, "    state \"any state (*)\" as {any}");
    }
    if let Some(initial) = &fsm.initial {
        let _ = writeln!(out, "    [*] --> {}", id_of(&initial.value));
    }
    for t in &fsm.transitions {
        let from = if t.is_wildcard() {
            any.clone()
        } else {
            id_of(&t.from.value)
        };
        let _ = writeln!(
            out,
            "    {from} --> {} : {}",
            id_of(&t.to.value),
            mermaid_text(&transition_label(t))
        );
    }
    for (state, id) in fsm.states.iter().zip(&ids) {
        if state.terminal {
            let _ = writeln!(out, "    {id} --> [*]");
        }
    }
    let errors: Vec<&str> = fsm
        .states
        .iter()
        .zip(&ids)
        .filter(|(s, _)| s.error)
        .map(|(_, id)| id.as_str())
        .collect();
    if !errors.is_empty() {
        out.push_str("    classDef error fill:#fdd,stroke:#c00\n");
        let _ = writeln!(out, "    class {} error", errors.join(","));
    }
    out
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn fsm_dot(fsm: &Fsm) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", dot_text(&fsm_title(fsm)));
    out.push_str("    rankdir=LR;\n    node [shape=ellipse];\n");
    out.push_str("    __start [shape=point, label=\"\"];\n");
    for s in &fsm.states {
        let mut attrs = Vec::new();
        if s.terminal {
            attrs.push("shape=doublecircle");
        }
        if s.error {
            attrs.push("color=red, fontcolor=red");
        }
        if attrs.is_empty() {
            let _ = writeln!(out, "    {};", dot_text(&s.name.value));
        } else {
            let _ = writeln!(
                out,
                "    {} [{}];",
                dot_text(&s.name.value),
                attrs.join(", ")
            );
        }
    }
    if fsm.transitions.iter().any(Transition::is_wildcard) {
        out.push_str("    __any [label=\"any state (*)\", shape=box, style=dashed];\n");
    }
    if let Some(initial) = &fsm.initial {
        let _ = writeln!(out, "    __start -> {};", dot_text(&initial.value));
    }
    for t in &fsm.transitions {
        let from = if t.is_wildcard() {
            "__any".to_owned()
        } else {
            dot_text(&t.from.value)
        };
        let _ = writeln!(
            out,
            "    {from} -> {} [label={}];",
            dot_text(&t.to.value),
            dot_text(&transition_label(t))
        );
    }
    out.push_str("}\n");
    out
}

fn step_kind(wf: &Workflow, i: usize) -> String {
    let step = &wf.steps[i];
    match (&step.kind, &step.node_type) {
        (Some(kind), _) => kind.as_str().to_owned(),
        (None, Some(t)) => t.value.clone(),
        (None, None) => "step".to_owned(),
    }
}

/// Every edge `(from, to)` by step index: dependencies first, then `edges[]` not yet drawn.
fn workflow_edges(wf: &Workflow) -> Vec<(usize, usize)> {
    let mut edges = Vec::new();
    for i in 0..wf.steps.len() {
        // A duplicated id is drawn once, at its first declaration.
        if wf.index_of(&wf.steps[i].id.value) != Some(i) {
            continue;
        }
        for dep in wf.dependencies(i) {
            edges.push((dep, i));
        }
    }
    for e in &wf.edges {
        if let (Some(from), Some(to)) = (wf.index_of(&e.from.value), wf.index_of(&e.to.value))
            && !edges.contains(&(from, to))
        {
            edges.push((from, to));
        }
    }
    edges
}

fn waves_comment(wf: &Workflow) -> String {
    wf.waves()
        .iter()
        .map(|wave| {
            let ids: Vec<&str> = wave
                .iter()
                .map(|&i| wf.steps[i].id.value.as_str())
                .collect();
            format!("[{}]", ids.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn unique_steps(wf: &Workflow) -> impl Iterator<Item = usize> + '_ {
    (0..wf.steps.len()).filter(|&i| wf.index_of(&wf.steps[i].id.value) == Some(i))
}

fn workflow_mermaid(wf: &Workflow) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "---\ntitle: {}\n---", mermaid_text(&wf.name));
    out.push_str("flowchart TD\n");
    let _ = writeln!(
        out,
        "    %% {} execution; waves: {}",
        wf.mode.as_str(),
        mermaid_comment(&waves_comment(wf))
    );
    for i in unique_steps(wf) {
        let _ = writeln!(
            out,
            "    s{i}[\"{}<br/><i>{}</i>\"]",
            mermaid_text(&wf.steps[i].id.value),
            mermaid_text(&step_kind(wf, i))
        );
    }
    for (from, to) in workflow_edges(wf) {
        let _ = writeln!(out, "    s{from} --> s{to}");
    }
    out
}

fn mermaid_comment(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

fn workflow_dot(wf: &Workflow) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", dot_text(&wf.name));
    let _ = writeln!(
        out,
        "    // {} execution; waves: {}",
        wf.mode.as_str(),
        mermaid_comment(&waves_comment(wf))
    );
    out.push_str("    rankdir=TB;\n    node [shape=box];\n");
    for i in unique_steps(wf) {
        let _ = writeln!(
            out,
            "    {} [label=\"{}\\n({})\"];",
            dot_text(&wf.steps[i].id.value),
            dot_escape(&wf.steps[i].id.value),
            dot_escape(&step_kind(wf, i))
        );
    }
    for (from, to) in workflow_edges(wf) {
        let _ = writeln!(
            out,
            "    {} -> {};",
            dot_text(&wf.steps[from].id.value),
            dot_text(&wf.steps[to].id.value)
        );
    }
    out.push_str("}\n");
    out
}
