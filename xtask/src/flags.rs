//! A very small flag parser: `--name VALUE` or `--name=VALUE`, numbers only, no positionals.

use anyhow::{Context, bail, format_err};

/// Fails if a command that takes no arguments got some.
pub(crate) fn no_more(args: &[String], command: &str) -> anyhow::Result<()> {
    match args.first() {
        None => Ok(()),
        Some(arg) => bail!("`{command}` takes no arguments, got `{arg}`"),
    }
}

/// Parses `args` as numeric flags; `known` gives each flag's name (without `--`) and default.
/// Returns the values in the order of `known`.
pub(crate) fn numbers(
    args: &[String],
    context: &str,
    known: &[(&str, u64)],
) -> anyhow::Result<Vec<u64>> {
    let mut values: Vec<u64> = known.iter().map(|&(_, default)| default).collect();
    let names = || {
        known
            .iter()
            .map(|(name, _)| format!("--{name}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            bail!("{context}: unexpected argument `{arg}`; flags: {}", names());
        };
        let (name, value) = match flag.split_once('=') {
            Some((name, value)) => (name, value.to_owned()),
            None => {
                let value = args
                    .next()
                    .ok_or_else(|| format_err!("{context}: `--{flag}` needs a value"))?;
                (flag, value.clone())
            }
        };
        let index = known
            .iter()
            .position(|&(known_name, _)| known_name == name)
            .ok_or_else(|| format_err!("{context}: unknown flag `--{name}`; flags: {}", names()))?;
        values[index] = value
            .parse()
            .with_context(|| format!("{context}: `--{name} {value}` is not a whole number"))?;
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::numbers;

    fn check(args: &[&str], expected: Result<Vec<u64>, &str>) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let got = numbers(
            &args,
            "bench download",
            &[("size-mib", 1024), ("rounds", 5)],
        )
        .map_err(|err| format!("{err:#}"));
        let expected = expected.map_err(str::to_owned);
        assert_eq!(got, expected);
    }

    #[test]
    fn defaults() {
        check(&[], Ok(vec![1024, 5]));
    }

    #[test]
    fn separate_and_joined_values() {
        check(&["--rounds", "3", "--size-mib=16"], Ok(vec![16, 3]));
    }

    #[test]
    fn unknown_flag() {
        check(
            &["--size", "3"],
            Err("bench download: unknown flag `--size`; flags: --size-mib, --rounds"),
        );
    }

    #[test]
    fn missing_value() {
        check(
            &["--rounds"],
            Err("bench download: `--rounds` needs a value"),
        );
    }

    #[test]
    fn not_a_number() {
        check(
            &["--rounds", "x"],
            Err(
                "bench download: `--rounds x` is not a whole number: invalid digit found in string",
            ),
        );
    }

    #[test]
    fn positional() {
        check(
            &["fast"],
            Err("bench download: unexpected argument `fast`; flags: --size-mib, --rounds"),
        );
    }
}
