//! `fetchkit protocols list` with configuration from `--config`, the project's folders and the
//! user's `FETCHKIT_HOME`.

use crate::support::TestContext;

fn stdout(run: &crate::support::Run) -> String {
    assert_eq!(run.code, Some(0), "{run}");
    String::from_utf8(run.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn list_shows_every_layer_in_selection_order() {
    let context = TestContext::new();
    context.write(
        "explicit.toml",
        b"[[protocol]]\nname = \"git\"\ndescription = \"clone a tag\"\npatterns = [\"*.git\"]\n\
          command = \"git clone -b {{ orbit.ip.version }} {{ orbit.ip.source }}\"\n",
    );
    std::fs::create_dir_all(context.path(".fetchkit")).unwrap();
    context.write(
        ".fetchkit/config.toml",
        b"[[protocol]]\nname = \"git\"\ncommand = \"shadowed\"\n\n\
          [[protocol]]\nname = \"local\"\npatterns = []\ncommand = [\"local-tool\"]\n",
    );
    std::fs::create_dir_all(context.path("fetchkit-home")).unwrap();
    context.write(
        "fetchkit-home/config.toml",
        b"include = [\"more.toml\"]\n\n[[protocol]]\nname = \"any\"\ncommand = \"any-tool\"\n",
    );
    context.write(
        "fetchkit-home/more.toml",
        b"[[protocol]]\nname = \"more\"\nsummary = \"from an include\"\npatterns = [\"a\", \"b\"]\ncommand = \"m\"\n",
    );
    let listed = stdout(&context.fetchkit(&["protocols", "list", "--config", "explicit.toml"]));
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .map(|line| {
            line.split("  ")
                .filter(|cell| !cell.is_empty())
                .map(str::trim)
                .collect()
        })
        .collect();
    let home = context.path("fetchkit-home");
    let (project, user, more) = (
        context.path(".fetchkit/config.toml"),
        home.join("config.toml"),
        home.join("more.toml"),
    );
    let expected: Vec<Vec<String>> = vec![
        vec![
            "git".into(),
            "*.git".into(),
            "explicit.toml".into(),
            "clone a tag".into(),
        ],
        vec![
            "local".into(),
            "(no URL)".into(),
            project.display().to_string(),
        ],
        vec!["any".into(), "(any URL)".into(), user.display().to_string()],
        vec![
            "more".into(),
            "a b".into(),
            more.display().to_string(),
            "from an include".into(),
        ],
        vec![
            "standard".into(),
            "(fallback)".into(),
            "built in".into(),
            "download over HTTP and extract the zip archive".into(),
        ],
        vec![
            "tarball".into(),
            "(fallback)".into(),
            "built in".into(),
            "download over HTTP and extract the .tar.gz (or .crate) archive".into(),
        ],
    ];
    assert_eq!(rows, expected, "{listed}");
}

#[test]
fn bad_configuration_is_one_line_naming_file_and_line() {
    let context = TestContext::new();
    context.write(
        "bad.toml",
        b"[[protocol]]\nname = \"x\"\ncommand = \"x\"\nsumary = \"typo\"\n",
    );
    let run = context.fetchkit(&["protocols", "list", "--config", "bad.toml"]);
    assert!(
        run.failure()
            .starts_with("error: bad.toml:4:1: unknown field `sumary`, expected one of"),
        "{run}"
    );
    let run = context.fetchkit(&["protocols", "list", "--config", "missing.toml"]);
    assert!(run.failure().starts_with("error: missing.toml: "), "{run}");
}
