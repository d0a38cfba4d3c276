//! The documented limits of the parsers of outside text: each refuses a hostile input with a
//! clear error (no stack overflow, no unbounded work) and accepts one at the limit.

use aas_model::{IdShortPath, MAX_REFERENCE_NESTING, Reference};

#[test]
fn an_id_short_path_of_100_000_segments_is_refused_with_a_short_message() {
    let path = vec!["abcdefghi"; 100_000].join(".");
    assert!(path.len() > 900_000);
    let error = path.parse::<IdShortPath>().unwrap_err();
    let message = error.to_string();
    assert!(message.contains("more than 128 steps"), "{message}");
    assert!(message.len() < 400, "the message stays short: {message}");
    assert_eq!(
        error.path.len(),
        path.len(),
        "the error keeps the whole path"
    );

    let indices = format!("a{}", "[0]".repeat(300_000));
    let message = indices.parse::<IdShortPath>().unwrap_err().to_string();
    assert!(message.contains("more than 128 steps"), "{message}");
}

#[test]
fn an_id_short_path_at_the_step_limit_is_read() {
    assert_eq!(IdShortPath::MAX_STEPS, 128);
    let at_limit = vec!["a"; IdShortPath::MAX_STEPS].join(".");
    assert_eq!(
        at_limit.parse::<IdShortPath>().unwrap().steps().len(),
        IdShortPath::MAX_STEPS
    );
    assert!(format!("{at_limit}.b").parse::<IdShortPath>().is_err());
    assert!(format!("{at_limit}[0]").parse::<IdShortPath>().is_err());
}

#[test]
fn nested_brackets_in_an_id_short_path_are_a_clear_error() {
    for text in [
        "[".repeat(1 << 20),
        format!("a{}", "[".repeat(1 << 20)),
        format!("a{}", "[[]]".repeat(1 << 18)),
        format!("a{}", "]".repeat(1 << 20)),
    ] {
        let message = text.parse::<IdShortPath>().unwrap_err().to_string();
        assert!(message.len() < 400, "{message}");
        assert!(message.contains("is not an idShort path"), "{message}");
    }
}

#[test]
fn deeply_nested_referred_semantic_ids_are_an_error_not_a_stack_overflow() {
    assert_eq!(MAX_REFERENCE_NESTING, 128);
    let nested = |depth: usize| {
        format!(
            "{}(GlobalReference)x{}",
            "[ExternalRef- ".repeat(depth),
            " -]".repeat(depth)
        )
    };
    let error = nested(100_000).parse::<Reference>().unwrap_err();
    assert!(
        error.reason.contains("nested deeper than 128"),
        "{}",
        error.reason
    );
    // At the limit it reads (each level: `[ExternalRef- <referred> -](key)`).
    let mut text = "(GlobalReference)x".to_owned();
    for _ in 0..MAX_REFERENCE_NESTING {
        text = format!("[ExternalRef- {text} -](GlobalReference)y");
    }
    let reference: Reference = text.parse().unwrap();
    assert_eq!(reference.to_string().parse::<Reference>(), Ok(reference));
    let deeper = format!("[ExternalRef- {text} -](GlobalReference)y");
    assert!(deeper.parse::<Reference>().is_err());
}
