//! Protocol configuration and command templates on arbitrary text.
//!
//! Properties: no panic; every protocol read has a non-empty command; filling any template
//! either fails with an error or gives as many arguments as the template has, none of them
//! starting with `-` because of a value (the values here all start with `-`) unless a `--`
//! came first.
#![no_main]

use std::path::Path;

use fetchkit_protocols::{Config, Variables};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let variables = Variables {
        name: Some("-n".into()),
        version: None,
        source: "--source={{ fetchkit.tmp }}".into(),
        tmp: "-t".into(),
    };
    let mut templates: Vec<Vec<String>> = vec![text.split(' ').map(str::to_owned).collect()];
    if let Ok(config) = Config::from_toml(text, Path::new("fuzz.toml")) {
        for protocol in config.protocols() {
            assert!(!protocol.command.is_empty());
            let _ = config.select(text, None);
            templates.push(protocol.command.clone());
        }
    }
    for template in templates {
        if let Ok(filled) = variables.fill_command(&template) {
            assert_eq!(filled.len(), template.len());
            let ended = template.iter().position(|word| word == "--");
            for (at, (word, argument)) in template.iter().zip(&filled).enumerate() {
                if argument.starts_with('-')
                    && !word.starts_with('-')
                    && ended.is_none_or(|end| at <= end)
                {
                    panic!("{word:?} became the option {argument:?}");
                }
            }
        }
    }
});
