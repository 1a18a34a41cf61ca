//! The CLI examples of README.md and docs/*.md, kept true: every `sshward …` line of a
//! fenced `sh` block runs against a scratch SQLite database and must succeed, unless
//! the block is marked; every command and `--flag` named anywhere in the docs must
//! exist; every audit action they name must be accepted by `sshward audit --action`.
//! The marking convention and the fixtures are described in docs/testing.md.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::*;

/// The team the examples administer; its fixtures are listed in docs/testing.md.
const TEAM: &str = "acme";
const USER: &str = "alice@acme.com";
const GROUPS: &[&str] = &[
    "ssh-users",
    "sudo-users",
    "ssh-prod",
    "ssh-prod-sudo",
    "ops-admins",
    "devs",
    "break-glass",
];
const HOST: &str = "web-1";

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and every docs/*.md, in a stable order.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a `<!-- docs-test: … -->` line before a block asks for.
#[derive(Debug, Default)]
struct Marks {
    /// `skip (reason)`: no line of the block runs.
    skip_all: bool,
    /// `skip "PREFIX" (reason)`: lines starting with PREFIX do not run.
    skip: Vec<String>,
    /// `exit N "PREFIX"`: lines starting with PREFIX must exit with N.
    exit: Vec<(i32, String)>,
    /// `replace "FROM" "TO"`: a placeholder and what the run puts in its place.
    replace: Vec<(String, String)>,
    /// `prints "PREFIX" "TEXT"`: lines starting with PREFIX must print TEXT on stdout.
    prints: Vec<(String, String)>,
}

/// One `sshward …` command of a fenced block (continuation lines joined).
#[derive(Debug)]
struct Example {
    line: usize,
    text: String,
}

#[derive(Debug)]
struct Block {
    marks: Marks,
    examples: Vec<Example>,
}

/// The quoted strings and the parenthesised reason of a directive.
fn directive_args(rest: &str) -> (Vec<String>, Option<String>) {
    let mut quoted = Vec::new();
    let mut s = rest.trim();
    while let Some(tail) = s.strip_prefix('"') {
        let end = tail
            .find('"')
            .expect("unterminated quote in docs-test directive");
        quoted.push(tail[..end].to_owned());
        s = tail[end + 1..].trim_start();
    }
    let reason = s
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .filter(|r| !r.trim().is_empty())
        .map(str::to_owned);
    (quoted, reason)
}

fn parse_directive(marks: &mut Marks, text: &str, at: &str) {
    let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
    let (quoted, reason) = directive_args(rest);
    match (verb, quoted.as_slice()) {
        ("skip", []) => {
            assert!(reason.is_some(), "{at}: a skip needs a (reason)");
            marks.skip_all = true;
        }
        ("skip", [prefix]) => {
            assert!(reason.is_some(), "{at}: a skip needs a (reason)");
            marks.skip.push(prefix.clone());
        }
        ("replace", [from, to]) => marks.replace.push((from.clone(), to.clone())),
        ("prints", [prefix, text]) => marks.prints.push((prefix.clone(), text.clone())),
        _ => {
            let (code, prefix) = rest.trim().split_once(' ').unwrap_or_default();
            let prefix = directive_args(prefix).0;
            match (verb, code.parse(), prefix.as_slice()) {
                ("exit", Ok(code), [prefix]) => marks.exit.push((code, prefix.clone())),
                _ => panic!("{at}: unknown docs-test directive {text:?}"),
            }
        }
    }
}

/// The fenced `sh` blocks of a Markdown text with the directives right above them.
fn blocks(text: &str, file: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut marks = Marks::default();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let line = line.trim();
        if let Some(d) = line
            .strip_prefix("<!-- docs-test:")
            .and_then(|d| d.strip_suffix("-->"))
        {
            parse_directive(&mut marks, d.trim(), &format!("{file}:{}", i + 1));
            continue;
        }
        let Some(info) = line.strip_prefix("```") else {
            marks = Marks::default();
            continue;
        };
        let sh = info.trim() == "sh";
        let mut examples = Vec::new();
        let mut pending: Option<Example> = None;
        for (j, body) in lines.by_ref() {
            if body.trim_start().starts_with("```") {
                break;
            }
            let body = body.trim();
            let cont = body.strip_suffix('\\');
            let piece = cont.unwrap_or(body);
            match &mut pending {
                Some(ex) => {
                    ex.text.push(' ');
                    ex.text.push_str(piece.trim());
                }
                None => {
                    pending = Some(Example {
                        line: j + 1,
                        text: piece.trim().to_owned(),
                    })
                }
            }
            if cont.is_none()
                && let Some(ex) = pending.take()
                && ex.text.starts_with("sshward ")
            {
                examples.push(ex);
            }
        }
        if sh {
            out.push(Block {
                marks: std::mem::take(&mut marks),
                examples,
            });
        } else {
            marks = Marks::default();
        }
    }
    out
}

/// A command line split as sh would split it: quotes, backslashes and `#` comments. A
/// line that needs more of the shell (expansion, pipes, redirection) is an error: mark
/// it, or write it so it runs.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => out.extend(word.take()),
            '#' if word.is_none() => break,
            '\'' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("unterminated '".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_default();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => w.extend(chars.next()),
                        Some('$' | '`') => return Err("expansion inside \"…\"".into()),
                        Some(c) => w.push(c),
                        None => return Err("unterminated \"".into()),
                    }
                }
            }
            '\\' => word.get_or_insert_default().extend(chars.next()),
            '$' | '`' | '|' | '&' | ';' | '<' | '>' | '(' | ')' | '*' | '?' => {
                return Err(format!("needs the shell ({c:?})"));
            }
            c => word.get_or_insert_default().push(c),
        }
    }
    out.extend(word);
    Ok(out)
}

/// A scratch data directory with team `acme` and its fixtures, made when the first
/// example needs them (or right after the document's own `sshward team create acme`).
struct Scratch {
    env: Env,
    server: Option<Server>,
}

impl Scratch {
    fn new() -> Scratch {
        let env = Env::new();
        // What `--client-secret-file client-secret` reads (login.md).
        std::fs::write(env.path().join("client-secret"), "docs-test-secret\n").unwrap();
        Scratch { env, server: None }
    }

    /// Runs an example with HOME in the scratch directory, so that nothing it does can
    /// reach the tester's own ~/.ssh or ~/.config.
    fn run(&self, args: &[&str]) -> Output {
        let home = self.env.path().to_string_lossy().into_owned();
        self.env.run_with(args, &[("HOME", &home)])
    }

    /// Provisions the fixtures over SCIM and joins the host, once.
    fn provision(&mut self, team_exists: bool) {
        if self.server.is_some() {
            return;
        }
        if !team_exists {
            self.env.run(&["team", "create", TEAM, "--no-token"]).ok();
        }
        let server = self.env.serve();
        let created = self
            .env
            .run(&[
                "token",
                "create",
                "--team",
                TEAM,
                "--label",
                "docs-test",
                "--json",
            ])
            .json();
        let secret = created["token"]["secret"].as_str().expect("secret");
        let url = format!("{}/scim/v2/{TEAM}", server.base);
        let alice = create_user(&url, secret, USER);
        for group in GROUPS {
            create_group(&url, secret, group, &[&alice]);
        }
        let join = self
            .env
            .run(&[
                "host",
                "join-token",
                "create",
                "--team",
                TEAM,
                "--tag",
                "env=prod",
                "--json",
            ])
            .json();
        let joined = post(
            &format!("{}/api/v1/hosts/join", server.base),
            join["token"].as_str().expect("join token"),
            &json!({"hostname": HOST}),
        );
        assert_eq!(joined.status, 201, "{joined:?}");
        self.server = Some(server);
    }
}

#[test]
fn doc_examples_run() {
    let mut failures = Vec::new();
    let (mut ran, mut skipped) = (0, 0);
    for path in documents() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut scratch = Scratch::new();
        for block in blocks(&read(&path), &name) {
            for ex in &block.examples {
                let at = format!("{name}:{}", ex.line);
                let starts = |p: &String| ex.text.starts_with(p.as_str());
                if block.marks.skip_all || block.marks.skip.iter().any(starts) {
                    skipped += 1;
                    continue;
                }
                let mut text = ex.text.clone();
                for (from, to) in &block.marks.replace {
                    text = text.replace(from, to);
                }
                let args = match words(&text) {
                    Ok(w) => w,
                    Err(e) => {
                        failures.push(format!("{at}: {e}: {}", ex.text));
                        continue;
                    }
                };
                let creates_team = args[1..].starts_with(&["team".into(), "create".into()])
                    && args.get(3).is_some_and(|t| t == TEAM);
                if !creates_team {
                    scratch.provision(false);
                }
                let expected = block
                    .marks
                    .exit
                    .iter()
                    .find(|(_, p)| starts(p))
                    .map_or(0, |(code, _)| *code);
                let args: Vec<&str> = args[1..].iter().map(String::as_str).collect();
                let out = scratch.run(&args);
                ran += 1;
                if out.code != expected {
                    failures.push(format!(
                        "{at}: exit {} (expected {expected}): {}\n{}{}",
                        out.code, ex.text, out.stdout, out.stderr
                    ));
                } else if creates_team && expected == 0 {
                    scratch.provision(true);
                }
                for (_, text) in block.marks.prints.iter().filter(|(p, _)| starts(p)) {
                    if !out.stdout.contains(text.as_str()) {
                        failures.push(format!(
                            "{at}: the output lacks {text:?}: {}\n{}",
                            ex.text, out.stdout
                        ));
                    }
                }
            }
        }
    }
    eprintln!("doc examples: {ran} run, {skipped} skipped");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `sshward …` in inline code spans (tables and prose) and in every `sh` block.
fn mentioned_commands() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in documents() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = read(&path);
        for block in blocks(&text, &name) {
            for ex in block.examples {
                out.push((format!("{name}:{}", ex.line), ex.text));
            }
        }
        for (i, line) in text.lines().enumerate() {
            for (k, span) in line.split('`').enumerate() {
                if k % 2 == 1 && span.starts_with("sshward ") {
                    out.push((format!("{name}:{}", i + 1), span.replace("\\|", "|")));
                }
            }
        }
    }
    out
}

/// `sshward PATH --help`, cached.
struct Help {
    env: Env,
    cache: HashMap<Vec<String>, String>,
}

impl Help {
    fn of(&mut self, path: &[String]) -> &str {
        let env = &self.env;
        self.cache.entry(path.to_vec()).or_insert_with(|| {
            let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
            args.push("--help");
            env.run(&args).ok().to_owned()
        })
    }

    /// The subcommands listed under `Commands:`.
    fn subcommands(&mut self, path: &[String]) -> Vec<String> {
        let help = self.of(path);
        let Some((_, list)) = help.split_once("Commands:\n") else {
            return Vec::new();
        };
        list.lines()
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .collect()
    }
}

#[test]
fn doc_commands_and_flags_exist() {
    let mut help = Help {
        env: Env::new(),
        cache: HashMap::new(),
    };
    let mut failures = Vec::new();
    for (at, text) in mentioned_commands() {
        // Placeholders and synopsis brackets are not words of the command line.
        let tokens: Vec<String> = text
            .split_whitespace()
            .skip(1)
            .take_while(|t| !t.starts_with('#'))
            .map(|t| t.trim_matches(|c| matches!(c, '[' | ']' | '.' | '…' | '\'')))
            .map(|t| t.split('=').next().unwrap_or(t).to_owned())
            .collect();
        let mut path: Vec<String> = Vec::new();
        let mut rest = tokens.iter().peekable();
        while let Some(t) = rest.peek() {
            if t.starts_with('-') || t.is_empty() {
                break;
            }
            let subs = help.subcommands(&path);
            if subs.contains(t) {
                path.push((*t).clone());
                rest.next();
            } else {
                if !subs.is_empty() && t.chars().all(|c| c.is_ascii_lowercase() || c == '-') {
                    failures.push(format!(
                        "{at}: no command `{t}` in `sshward {}`: {text}",
                        path.join(" ")
                    ));
                }
                break;
            }
        }
        let usage = help.of(&path).to_owned();
        for flag in tokens.iter().filter(|t| t.starts_with("--") && t.len() > 2) {
            if ![" ", "\n", ","]
                .iter()
                .any(|end| usage.contains(&format!("{flag}{end}")))
            {
                failures.push(format!(
                    "{at}: `sshward {}` has no {flag}: {text}",
                    path.join(" ")
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The backticked names in the first column of the Markdown table headed `| HEADER |`.
fn table_column(text: &str, header: &str) -> Vec<String> {
    let start = format!("| {header} |");
    text.lines()
        .skip_while(|l| !l.starts_with(&start))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn doc_audit_actions_and_actors_parse() {
    let ops = read(&root().join("docs/operations.md"));
    let actions = table_column(&ops, "Actions");
    let actors = table_column(&ops, "Actor");
    assert!(
        actions.len() > 20 && actors.len() > 5,
        "{actions:?} {actors:?}"
    );
    let env = Env::new();
    env.run(&["team", "create", TEAM, "--no-token"]).ok();
    let mut failures = Vec::new();
    // Placeholders of the actor table, filled as docs/testing.md says.
    let actors = actors
        .iter()
        .map(|a| a.replace("ID", "1").replace("NAME", "tester"));
    let queries = actions
        .iter()
        .map(|a| ("--action", a.clone()))
        .chain(actors.map(|a| ("--actor", a)));
    for (flag, value) in queries {
        let out = env.run(&["audit", flag, &value, "--limit", "1"]);
        if out.code != 0 {
            failures.push(format!("audit {flag} {value}: {}", out.stderr));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
