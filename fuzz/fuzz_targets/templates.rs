//! The lister's URL templates (`Templates::new`, `crate_file_url`, `origin_url`).
//!
//! The input is split at its 0xFF bytes (which UTF-8 never contains) into a crate-file
//! template, an origin template, a crate name and a version. Properties: no panic; an error is
//! one line and names which template is wrong; accepted templates are kept as given (the
//! crate-file one with cargo's default suffix exactly when it has no marker) and are accepted
//! again, unchanged, when given back; every marker in the template puts its value into the URL;
//! and for values without `{` the URLs are what cargo's plain text replacement gives.
#![no_main]

use fetchkit_lister::{ListError, Templates};
use fetchkit_transport::Sha256Digest;
use libfuzzer_sys::fuzz_target;

const CARGO_DEFAULT_SUFFIX: &str = "/{crate}/{version}/download";

fuzz_target!(|data: &[u8]| {
    let mut fields = data.split(|&byte| byte == 0xff).map(std::str::from_utf8);
    let mut next = || fields.next().unwrap_or(Ok(""));
    let (Ok(crate_file), Ok(origin), Ok(name), Ok(version)) = (next(), next(), next(), next())
    else {
        return;
    };

    let templates = match Templates::new(crate_file, origin) {
        Ok(templates) => templates,
        Err(error) => {
            let message = error.to_string();
            assert!(
                !message.contains(['\n', '\r']),
                "multi-line error: {message:?}"
            );
            assert!(
                matches!(
                    error,
                    ListError::Template {
                        which: "crate-file" | "origin",
                        ..
                    }
                ),
                "not a template error: {message:?}"
            );
            return;
        }
    };

    // Kept as given; a template with no marker at all (no `{`: any `{` that is not a marker is
    // an error) gets cargo's suffix.
    let expected_crate_file = if crate_file.contains('{') {
        crate_file.to_owned()
    } else {
        format!("{crate_file}{CARGO_DEFAULT_SUFFIX}")
    };
    assert_eq!(templates.crate_file(), expected_crate_file);
    assert_eq!(templates.origin(), origin);
    let again = Templates::new(templates.crate_file(), templates.origin());
    assert_eq!(
        again.as_ref().ok(),
        Some(&templates),
        "not accepted back: {again:?}"
    );

    let checksum = Sha256Digest(std::array::from_fn(|i| (i as u8).wrapping_mul(0x9d)));
    let hex: String = checksum
        .0
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let crate_file_url = templates.crate_file_url(name, version, &checksum);
    let origin_url = templates.origin_url(name);

    // Each marker's value is in the URL, whatever the values are.
    let template = templates.crate_file();
    for (marker, value) in [
        ("{crate}", name),
        ("{version}", version),
        ("{sha256-checksum}", hex.as_str()),
    ] {
        if template.contains(marker) {
            assert!(
                crate_file_url.contains(value),
                "{marker} = {value:?} missing from {crate_file_url:?}"
            );
        }
    }
    // The crate-file template names each file apart, so it has the checksum or the version.
    assert!(
        crate_file_url.contains(&hex) || crate_file_url.contains(version),
        "{crate_file_url:?} has neither the checksum nor the version {version:?}"
    );
    // The origin template must use `{crate}`.
    assert!(
        origin_url.contains(name),
        "{name:?} missing from origin {origin_url:?}"
    );

    // With values that cannot form a marker, cargo's `str::replace` of each marker gives the
    // same URLs: every `{` left is one of the template's markers, which are whole text.
    if !name.contains('{') && !version.contains('{') {
        let prefix = cargo_prefix(name);
        let cargo = template
            .replace("{crate}", name)
            .replace("{version}", version)
            .replace("{prefix}", &prefix)
            .replace("{lowerprefix}", &prefix.to_lowercase())
            .replace("{sha256-checksum}", &hex);
        assert_eq!(crate_file_url, cargo);
        assert_eq!(origin_url, templates.origin().replace("{crate}", name));
    }
});

/// Cargo's index directory of a crate name, by characters (cargo's crate names are ASCII, where
/// characters are bytes): `1`, `2`, `3/{first}`, `{first two}/{next two}`.
fn cargo_prefix(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let text = |range: std::ops::Range<usize>| chars[range].iter().collect::<String>();
    match chars.len() {
        0 => String::new(),
        1 => "1".to_owned(),
        2 => "2".to_owned(),
        3 => format!("3/{}", text(0..1)),
        _ => format!("{}/{}", text(0..2), text(2..4)),
    }
}
