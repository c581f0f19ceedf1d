//! `{{ var }}` placeholders in protocol commands, and the same values as environment
//! variables.

use crate::TemplateError;

/// The variable names, for messages.
const KNOWN: &str = "fetchkit.pkg.name, fetchkit.pkg.version, fetchkit.pkg.source, fetchkit.tmp, \
                     orbit.ip.name, orbit.ip.version, orbit.ip.source, orbit.queue";

/// The values one fetch fills a protocol's command with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variables {
    /// The package's name, when known.
    pub name: Option<String>,
    /// The package's version, when known.
    pub version: Option<String>,
    /// The source URL.
    pub source: String,
    /// The fetch's temporary folder (the protocol's working folder).
    pub tmp: String,
}

/// Which value a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    Name,
    Version,
    Source,
    Tmp,
}

impl Variables {
    fn value(&self, key: &str) -> Option<Value> {
        Some(match key {
            "fetchkit.pkg.name" | "orbit.ip.name" | "orbit.project.name" => Value::Name,
            "fetchkit.pkg.version" | "orbit.ip.version" | "orbit.project.version" => Value::Version,
            "fetchkit.pkg.source"
            | "orbit.ip.source"
            | "orbit.ip.source.url"
            | "orbit.project.source" => Value::Source,
            "fetchkit.tmp" | "orbit.queue" => Value::Tmp,
            _ => return None,
        })
    }

    fn get(&self, value: Value) -> Result<&str, &'static str> {
        match value {
            Value::Name => self
                .name
                .as_deref()
                .ok_or("give the package's name (--name)"),
            Value::Version => self
                .version
                .as_deref()
                .ok_or("give the package's version (--version)"),
            Value::Source => Ok(&self.source),
            Value::Tmp => Ok(&self.tmp),
        }
    }

    /// The environment a protocol runs with: each value under fetchkit's and Orbit's names
    /// (`FETCHKIT_PKG_NAME`, `ORBIT_IP_NAME`, …), unset values left out, plus
    /// `FETCHKIT_PROTOCOL` and `ORBIT_PROTOCOL` naming the protocol.
    pub fn environment(&self, protocol: &str) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut add = |names: &[&'static str], value: Option<&str>| {
            if let Some(value) = value {
                pairs.extend(names.iter().map(|&name| (name, value.to_owned())));
            }
        };
        add(
            &["FETCHKIT_PKG_NAME", "ORBIT_IP_NAME", "ORBIT_PROJECT_NAME"],
            self.name.as_deref(),
        );
        add(
            &[
                "FETCHKIT_PKG_VERSION",
                "ORBIT_IP_VERSION",
                "ORBIT_PROJECT_VERSION",
            ],
            self.version.as_deref(),
        );
        add(
            &[
                "FETCHKIT_PKG_SOURCE",
                "ORBIT_IP_SOURCE",
                "ORBIT_PROJECT_SOURCE",
            ],
            Some(&self.source),
        );
        add(&["FETCHKIT_TMP", "ORBIT_QUEUE"], Some(&self.tmp));
        add(&["FETCHKIT_PROTOCOL", "ORBIT_PROTOCOL"], Some(protocol));
        pairs
    }

    /// `template` with every `{{ key }}` replaced by its value, spaces inside the braces
    /// allowed. A lone `{` is text. Values are not scanned again, so a value holding `{{…}}`
    /// stays as it is. Returns also whether the text starts with a value (rather than with
    /// the template's own characters).
    fn fill(&self, template: &str) -> Result<(String, bool), TemplateError> {
        let mut out = String::with_capacity(template.len());
        let mut starts_with_value = false;
        let mut rest = template;
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| TemplateError::Unterminated {
                    template: template.to_owned(),
                })?;
            let key = after[..close].trim();
            let value = self
                .value(key)
                .ok_or_else(|| TemplateError::UnknownVariable {
                    key: key.to_owned(),
                    template: template.to_owned(),
                    known: KNOWN,
                })?;
            let value = self.get(value).map_err(|hint| TemplateError::Unset {
                key: key.to_owned(),
                template: template.to_owned(),
                hint,
            })?;
            if out.is_empty() {
                starts_with_value = true;
            }
            out.push_str(value);
            rest = &after[close + 2..];
        }
        out.push_str(rest);
        Ok((out, starts_with_value))
    }

    /// The command (program and arguments) with its placeholders filled in.
    ///
    /// A value that would make an argument start with `-` is refused, since the program
    /// would read it as an option (a source URL of `--upload-pack=…` given to `git clone`),
    /// unless an earlier argument of the template is `--`, which ends the options.
    pub fn fill_command(&self, command: &[String]) -> Result<Vec<String>, TemplateError> {
        let mut options_ended = false;
        let mut filled = Vec::with_capacity(command.len());
        for (position, template) in command.iter().enumerate() {
            let (argument, starts_with_value) = self.fill(template)?;
            if starts_with_value && argument.starts_with('-') && !options_ended {
                return Err(TemplateError::OptionLike { position, argument });
            }
            options_ended |= template == "--";
            filled.push(argument);
        }
        Ok(filled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> Variables {
        Variables {
            name: Some("gates".into()),
            version: Some("1.0.0".into()),
            source: "http://127.0.0.1:1/gates.git".into(),
            tmp: "/tmp/q".into(),
        }
    }

    /// Each template and what it gives: the text, or the error's message.
    #[test]
    fn fill() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("{{ orbit.ip.version }}", Ok("1.0.0")),
            ("{{orbit.ip.version}}", Ok("1.0.0")),
            ("{{    fetchkit.pkg.name  }}-x", Ok("gates-x")),
            (
                "v{{ orbit.ip.version }}/{{ orbit.queue }}",
                Ok("v1.0.0//tmp/q"),
            ),
            ("a { b } c", Ok("a { b } c")),
            ("{x{{ fetchkit.pkg.name }}", Ok("{xgates")),
            ("}} {", Ok("}} {")),
            (
                "{{ orbit.ip.source.url }}",
                Ok("http://127.0.0.1:1/gates.git"),
            ),
            (
                "{{ nope }}",
                Err("unknown variable \"nope\" in \"{{ nope }}\""),
            ),
            ("{{}}", Err("unknown variable \"\" in \"{{}}\"")),
            (
                "{{ orbit.ip.name",
                Err("unterminated {{ in \"{{ orbit.ip.name\""),
            ),
            ("x {{ a } }}", Err("unknown variable \"a }\"")),
        ];
        for (template, expected) in cases {
            match (variables().fill(template), expected) {
                (Ok((text, _)), Ok(expected)) => assert_eq!(&text, expected, "{template}"),
                (Err(error), Err(expected)) => {
                    assert!(
                        error.to_string().starts_with(expected),
                        "{template}: {error}"
                    )
                }
                (got, _) => panic!("{template}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn values_are_not_expanded_again() {
        let variables = Variables {
            source: "{{ fetchkit.tmp }}".into(),
            ..variables()
        };
        let filled = variables.fill_command(&["echo".into(), "{{ fetchkit.pkg.source }}".into()]);
        assert_eq!(filled.unwrap(), ["echo", "{{ fetchkit.tmp }}"]);
    }

    #[test]
    fn unset_values_say_how_to_give_them() {
        let variables = Variables {
            version: None,
            ..variables()
        };
        let error = variables.fill_command(&["x".into(), "{{ orbit.ip.version }}".into()]);
        assert!(
            error
                .unwrap_err()
                .to_string()
                .ends_with("has no value: give the package's version (--version)")
        );
    }

    #[test]
    fn option_like_values_are_refused_before_a_double_dash() {
        let variables = Variables {
            source: "--upload-pack=touch /tmp/pwned".into(),
            ..variables()
        };
        let command = |words: &[&str]| -> Vec<String> { words.iter().map(|&w| w.into()).collect() };
        let refused = variables.fill_command(&command(&["git", "clone", "{{ orbit.ip.source }}"]));
        assert_eq!(
            refused.unwrap_err(),
            TemplateError::OptionLike {
                position: 2,
                argument: "--upload-pack=touch /tmp/pwned".into()
            }
        );
        // After `--` the value is an operand; a template's own option is its own business.
        for words in [
            &["git", "clone", "--", "{{ orbit.ip.source }}"][..],
            &["tool", "--source={{ orbit.ip.source }}"],
        ] {
            assert!(variables.fill_command(&command(words)).is_ok(), "{words:?}");
        }
    }

    #[test]
    fn environment_has_both_names() {
        let environment = variables().environment("git");
        for (name, value) in [
            ("FETCHKIT_PKG_NAME", "gates"),
            ("ORBIT_IP_VERSION", "1.0.0"),
            ("ORBIT_IP_SOURCE", "http://127.0.0.1:1/gates.git"),
            ("ORBIT_QUEUE", "/tmp/q"),
            ("FETCHKIT_TMP", "/tmp/q"),
            ("ORBIT_PROTOCOL", "git"),
        ] {
            assert!(environment.contains(&(name, value.to_owned())), "{name}");
        }
        let anonymous = Variables {
            name: None,
            ..variables()
        };
        assert!(
            !anonymous
                .environment("git")
                .iter()
                .any(|(name, _)| name.ends_with("_NAME"))
        );
    }
}
