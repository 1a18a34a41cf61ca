//! `sshward check-config`, and how invalid configuration stops every command.

use crate::support::*;

#[test]
fn check_config_prints_defaults_and_sources() {
    let env = Env::new();
    let out = env.run(&["check-config"]);
    let text = out.ok();
    assert!(text.contains(r#"listen = "127.0.0.1:8080""#), "{text}");
    assert!(
        text.contains(r#"public_url = "http://127.0.0.1:8080""#),
        "{text}"
    );
    assert!(
        text.contains(r#"url = "sqlite://./sshward-data/sshward.db""#),
        "{text}"
    );
    assert!(text.contains("[database]"), "{text}");
    assert!(text.contains("# default"), "{text}");
    // check-config does not create a database.
    assert!(!env.data_dir().exists());
}

#[test]
fn layers_file_then_environment_then_flags() {
    let env = Env::new();
    std::fs::write(
        env.path().join("sshward.toml"),
        "data_dir = \"/srv/sshward\"\n[server]\nlisten = \"127.0.0.1:7000\"\nworkers = 3\n\
         [database]\npool_size = 4\n[log]\nlevel = \"debug\"\n",
    )
    .unwrap();
    let out = env.run_with(
        &["check-config", "--json", "--log-level", "warn"],
        &[
            ("SSHWARD_SERVER__LISTEN", "127.0.0.1:7001"),
            (
                "SSHWARD_DATABASE__URL",
                "postgres://sshward:hunter2@db.example:5432/sshward",
            ),
            ("SSHWARD_TEST_SOMETHING", "is ignored"),
        ],
    );
    let v = out.json();
    let c = &v["config"];
    assert_eq!(v["file"], "sshward.toml");
    assert_eq!(c["data_dir"], "/srv/sshward");
    assert_eq!(c["server"]["listen"], "127.0.0.1:7001");
    assert_eq!(c["server"]["workers"], 3);
    assert_eq!(c["server"]["public_url"], "http://127.0.0.1:7001");
    assert_eq!(c["database"]["pool_size"], 4);
    assert_eq!(
        c["database"]["url"],
        "postgres://sshward:****@db.example:5432/sshward"
    );
    assert_eq!(c["log"]["level"], "warn");
    let s = &v["sources"];
    assert_eq!(s["server.workers"], "file sshward.toml");
    assert_eq!(s["server.listen"], "environment (SSHWARD_SERVER__LISTEN)");
    assert_eq!(s["log.level"], "command line (--log-level)");
    assert_eq!(s["metrics.enabled"], "default");
    assert!(!out.stdout.contains("hunter2"));

    let human = env.run_with(
        &["check-config"],
        &[(
            "SSHWARD_DATABASE__URL",
            "postgres://sshward:hunter2@db.example/sshward",
        )],
    );
    assert!(!human.ok().contains("hunter2"), "{}", human.stdout);
    assert!(
        human
            .stdout
            .contains("# environment (SSHWARD_DATABASE__URL)"),
        "{}",
        human.stdout
    );
}

#[test]
fn explicit_config_file_via_flag_and_environment() {
    let env = Env::new();
    std::fs::write(
        env.path().join("other.toml"),
        "[server]\nlisten = \"127.0.0.1:7100\"\n",
    )
    .unwrap();
    let v = env
        .run(&["--config", "other.toml", "check-config", "--json"])
        .json();
    assert_eq!(v["config"]["server"]["listen"], "127.0.0.1:7100");
    let v = env
        .run_with(
            &["check-config", "--json"],
            &[("SSHWARD_CONFIG", "other.toml")],
        )
        .json();
    assert_eq!(v["config"]["server"]["listen"], "127.0.0.1:7100");
    env.run(&["--config", "missing.toml", "check-config"])
        .fails(3, "missing.toml does not exist");
}

#[test]
fn invalid_values_name_the_option() {
    let env = Env::new();
    let cases = [
        ("SSHWARD_SERVER__LISTEN", "localhost:80", "server.listen"),
        (
            "SSHWARD_SERVER__PUBLIC_URL",
            "sshward.example.com",
            "server.public_url",
        ),
        (
            "SSHWARD_SERVER__MAX_BODY_BYTES",
            "12",
            "server.max_body_bytes",
        ),
        ("SSHWARD_DATABASE__POOL_SIZE", "0", "database.pool_size"),
        ("SSHWARD_DATABASE__POOL_SIZE", "lots", "pool_size"),
        ("SSHWARD_DATABASE__URL", "mysql://db/x", "database.url"),
        // Not a SQLite file called "postgres:/x" in the working directory.
        (
            "SSHWARD_DATABASE__URL",
            "postgres:/x",
            "unsupported database URL scheme",
        ),
        ("SSHWARD_DATABASE__URL", "sqlite://", "empty SQLite path"),
        ("SSHWARD_LOG__LEVEL", "verbose", "log.level"),
        ("SSHWARD_METRICS__ENABLED", "perhaps", "enabled"),
        ("SSHWARD_SERVER__LISTEN_ADDRESS", "x", "listen_address"),
        ("SSHWARD_DATADIR", "x", "datadir"),
    ];
    for (key, value, needle) in cases {
        let out = env.run_with(&["check-config"], &[(key, value)]);
        out.fails(3, needle);
        assert!(
            out.stderr
                .starts_with("sshward: error: invalid configuration"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn unknown_keys_in_the_file_are_refused() {
    let env = Env::new();
    std::fs::write(
        env.path().join("sshward.toml"),
        "[server]\nlisten = \"127.0.0.1:1\"\nlisen = 3\n",
    )
    .unwrap();
    let out = env.run(&["check-config"]);
    out.fails(3, "lisen");
    assert!(out.stderr.contains("sshward.toml"), "{}", out.stderr);
    std::fs::write(env.path().join("sshward.toml"), "[server\nlisten = 1").unwrap();
    env.run(&["check-config"]).fails(3, "sshward.toml");
    // The same refusal stops serve and every admin command.
    env.run(&["serve"]).fails(3, "invalid configuration");
    env.run(&["team", "list"]).fails(3, "invalid configuration");
}

#[test]
fn usage_errors_and_help() {
    let env = Env::new();
    let unknown = env.run(&["frobnicate"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown
            .stderr
            .starts_with("sshward: error: unrecognized subcommand 'frobnicate'"),
        "every error has the one form: {}",
        unknown.stderr
    );
    let flag = env.run(&["team", "list", "--bogus"]);
    assert!(
        flag.stderr
            .starts_with("sshward: error: unexpected argument '--bogus'"),
        "{}",
        flag.stderr
    );
    assert_eq!(env.run(&["team"]).code, 2);
    // A bad value names its option and where it came from.
    let bad = env.run_with(
        &["check-config"],
        &[("SSHWARD_SERVER__MAX_BODY_BYTES", "lots")],
    );
    bad.fails(3, "server.max_body_bytes");
    assert!(
        bad.stderr.contains("(from SSHWARD_SERVER__MAX_BODY_BYTES)"),
        "{}",
        bad.stderr
    );
    let listen = env.run_with(&["check-config"], &[("SSHWARD_SERVER__LISTEN", "nowhere")]);
    assert!(
        listen.stderr.contains("(from SSHWARD_SERVER__LISTEN)"),
        "{}",
        listen.stderr
    );
    for cmd in [
        &["--help"][..],
        &["serve", "--help"],
        &["team", "create", "--help"],
        &["token", "--help"],
        &["users", "list", "--help"],
        &["groups", "show", "--help"],
        &["audit", "--help"],
        &["migrate", "--help"],
        &["check-config", "--help"],
    ] {
        let out = env.run(cmd);
        assert!(out.ok().contains("Usage:"), "{cmd:?}: {}", out.stdout);
    }
    assert!(env.run(&["--version"]).ok().starts_with("sshward "));
}

#[test]
fn migrate_creates_and_then_reports_up_to_date() {
    let env = Env::new();
    let first = env.run(&["migrate", "--json"]).json();
    assert_eq!(first["backend"], "sqlite");
    assert!(!first["applied"].as_array().unwrap().is_empty(), "{first}");
    assert!(env.data_dir().join("sshward.db").is_file());
    let again = env.run(&["migrate"]);
    assert!(again.ok().contains("up to date"), "{}", again.stdout);
}

#[test]
fn read_commands_need_an_existing_database() {
    let env = Env::new();
    for cmd in [
        &["team", "list"][..],
        &["users", "list"],
        &["groups", "list"],
        &["token", "list"],
        &["audit"],
    ] {
        env.run(cmd).fails(3, "no database at");
    }
    assert!(!env.data_dir().exists());
}

/// deploy/sshward.toml is valid, sets every option to its default, and explains each.
#[test]
fn example_file_documents_every_option() {
    let env = Env::new();
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/sshward.toml");
    let example = example.canonicalize().unwrap();
    let with_file = env
        .run(&[
            "--config",
            example.to_str().unwrap(),
            "check-config",
            "--json",
        ])
        .json();
    let defaults = env.run(&["check-config", "--json"]).json();
    assert_eq!(
        with_file["config"], defaults["config"],
        "the example keeps the defaults"
    );

    let text = std::fs::read_to_string(&example).unwrap();
    let mut section = String::new();
    let mut documented = Vec::new();
    for line in text.lines() {
        let l = line.trim_start_matches("# ").trim();
        if l.starts_with('[') && l.ends_with(']') && !line.starts_with('#') {
            section = l.trim_matches(['[', ']']).to_owned();
        } else if let Some((key, _)) = l.split_once(" = ")
            && key.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            let full = if section.is_empty() {
                key.to_owned()
            } else {
                format!("{section}.{key}")
            };
            documented.push(full);
        }
    }
    let sources = defaults["sources"].as_object().unwrap();
    for key in sources.keys() {
        assert!(
            documented.contains(key),
            "deploy/sshward.toml does not show {key}"
        );
    }
}

/// The systemd install step (deploy/sshward.service) writes the example file with
/// `data_dir = "/var/lib/sshward"`; its `sed` pattern matches the example's line, and
/// the result is the one place the data directory comes from.
#[test]
fn the_service_install_step_sets_the_data_dir_in_the_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let unit = std::fs::read_to_string(root.join("sshward.service")).unwrap();
    assert!(
        unit.contains(
            r#"sed 's|^data_dir = .*|data_dir = "/var/lib/sshward"|' deploy/sshward.toml"#
        )
    );
    assert!(
        !unit.contains("Environment=SSHWARD_DATA_DIR"),
        "no second source of the data directory"
    );
    let example = std::fs::read_to_string(root.join("sshward.toml")).unwrap();
    let lines = example
        .lines()
        .filter(|l| l.starts_with("data_dir = "))
        .count();
    assert_eq!(lines, 1, "the sed pattern matches one line");
    let installed: String = example
        .lines()
        .map(|l| {
            if l.starts_with("data_dir = ") {
                "data_dir = \"/var/lib/sshward\""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let env = Env::new();
    let path = env.path().join("sshward.toml");
    std::fs::write(&path, installed).unwrap();
    let v = env
        .run(&["--config", path.to_str().unwrap(), "check-config", "--json"])
        .json();
    assert_eq!(v["config"]["data_dir"], "/var/lib/sshward");
}
