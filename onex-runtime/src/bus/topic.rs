//! Topic names and patterns (NATS subject syntax, which ONEX topic names fit).

use crate::error::OnexError;

/// Checks a topic a message is published to: non-empty dot-separated segments, no
/// wildcard, no whitespace.
///
/// ```
/// use onex_runtime::bus::validate_topic;
///
/// assert!(validate_topic("onex.cmd.greeter.greet.v1").is_ok());
/// assert!(validate_topic("onex.cmd.*").is_err());
/// assert!(validate_topic("onex..v1").is_err());
/// ```
pub fn validate_topic(topic: &str) -> Result<(), OnexError> {
    check(topic, false)
}

/// Checks a subscription pattern: like a topic, where a segment may be `*` (any one
/// segment) and the last segment may be `>` (one or more segments).
///
/// ```
/// use onex_runtime::bus::validate_pattern;
///
/// assert!(validate_pattern("onex.cmd.*.greet.v1").is_ok());
/// assert!(validate_pattern("onex.evt.>").is_ok());
/// assert!(validate_pattern("onex.>.v1").is_err());
/// ```
pub fn validate_pattern(pattern: &str) -> Result<(), OnexError> {
    check(pattern, true)
}

fn check(topic: &str, pattern: bool) -> Result<(), OnexError> {
    let what = if pattern { "pattern" } else { "topic" };
    let bad = |why: &str| {
        Err(
            OnexError::invalid_input(format!("invalid {what} `{topic}`: {why}"))
                .with_context("topic", topic),
        )
    };
    if topic.is_empty() {
        return bad("it is empty");
    }
    let segments: Vec<&str> = topic.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        if segment.is_empty() {
            return bad("a segment is empty");
        }
        if segment.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return bad("it contains whitespace");
        }
        let wildcard = *segment == "*" || *segment == ">";
        if !wildcard && segment.contains(['*', '>']) {
            return bad("`*` and `>` must be whole segments");
        }
        if wildcard && !pattern {
            return bad("a published topic cannot hold a wildcard");
        }
        if *segment == ">" && i + 1 != segments.len() {
            return bad("`>` may only be the last segment");
        }
    }
    Ok(())
}

/// Whether `topic` matches `pattern` (`*`: one segment, trailing `>`: one or more).
///
/// ```
/// use onex_runtime::bus::topic_matches;
///
/// assert!(topic_matches("onex.evt.*.done.v1", "onex.evt.greeter.done.v1"));
/// assert!(topic_matches("onex.evt.>", "onex.evt.greeter.done.v1"));
/// assert!(!topic_matches("onex.evt.>", "onex.evt"));
/// assert!(!topic_matches("onex.evt.*", "onex.evt.greeter.done"));
/// ```
pub fn topic_matches(pattern: &str, topic: &str) -> bool {
    let mut p = pattern.split('.');
    let mut t = topic.split('.');
    loop {
        match (p.next(), t.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_wildcards() {
        assert!(topic_matches("a.b.c", "a.b.c"));
        assert!(!topic_matches("a.b.c", "a.b"));
        assert!(!topic_matches("a.b", "a.b.c"));
        assert!(topic_matches("a.*.c", "a.x.c"));
        assert!(!topic_matches("a.*", "a"));
        assert!(topic_matches(">", "a"));
        assert!(topic_matches("a.>", "a.b.c.d"));
    }

    #[test]
    fn validation() {
        for ok in ["a", "a.b", "onex.dlq.x-y.z.v1"] {
            assert!(validate_topic(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "a.", ".a", "a b", "a.*", "a.>", "a.b*"] {
            assert!(validate_topic(bad).is_err(), "{bad}");
        }
        for ok in ["*", ">", "a.*.b", "a.>"] {
            assert!(validate_pattern(ok).is_ok(), "{ok}");
        }
        for bad in [">.a", "a.>.b", "a.b>"] {
            assert!(validate_pattern(bad).is_err(), "{bad}");
        }
    }
}
