//! `sshward migrate` and `sshward check-config`.

use serde_json::{Value, json};

use crate::config::{Config, Loaded, mask_url_password};
use crate::db::{self, Open};
use crate::error::Result;
use crate::output::{self, Format};

/// Applies pending migrations and reports which.
pub fn migrate(config: &Config, format: Format) -> Result<()> {
    let store = db::open_with(config, Open::CreateIfMissing, false)?;
    let applied = store.migrate()?;
    let url = mask_url_password(&config.database_url());
    if format.json {
        return output::print_json(&json!({
            "database": url,
            "backend": store.backend().name(),
            "applied": applied,
        }));
    }
    let line = if applied.is_empty() {
        format!("The database schema is up to date ({url}).")
    } else {
        format!(
            "Applied {} migration(s) to {url}: {}",
            applied.len(),
            applied.join(", ")
        )
    };
    output::print_lines(&[line])
}

/// Checks the database's consistency (SQLite's integrity check; on PostgreSQL, that it
/// answers): after a crash, a restore or a disk problem. Fails (exit 1) when a problem is
/// found, printing each.
pub fn check_database(config: &Config, format: Format) -> Result<()> {
    let store = db::open_with(config, Open::Existing, false)?;
    let problems = store.check_integrity()?;
    let url = mask_url_password(&config.database_url());
    if format.json {
        output::print_json(&json!({
            "database": url,
            "backend": store.backend().name(),
            "problems": problems,
        }))?;
    } else if problems.is_empty() {
        output::print_lines(&[format!("The database is sound ({url}).")])?;
    } else {
        let mut lines = vec![format!(
            "The database has {} problem(s) ({url}):",
            problems.len()
        )];
        lines.extend(problems.iter().map(|p| format!("  {p}")));
        output::print_lines(&lines)?;
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(crate::error::Error::Other(
            "the database failed its integrity check: restore it from a backup".into(),
        ))
    }
}

/// Prints the effective configuration, secrets masked, with where each value came from.
pub fn check_config(loaded: &Loaded, format: Format) -> Result<()> {
    let masked = loaded.config.masked();
    let value = serde_json::to_value(&masked)?;
    let source_of = |key: &str| -> String {
        if let Some(s) = loaded.sources.get(key) {
            return s.clone();
        }
        match key {
            "server.public_url" => "default (http://<server.listen>)".to_owned(),
            "database.url" => "default (sqlite://<data_dir>/sshward.db)".to_owned(),
            _ => "default".to_owned(),
        }
    };
    if format.json {
        let mut sources = serde_json::Map::new();
        for key in leaf_keys(&value, "") {
            sources.insert(key.clone(), Value::String(source_of(&key)));
        }
        return output::print_json(&json!({
            "file": loaded.file.as_ref().map(|f| f.display().to_string()),
            "config": value,
            "sources": sources,
        }));
    }
    let mut lines = vec![
        "# sshward configuration in effect (secrets masked)".to_owned(),
        match &loaded.file {
            Some(f) => format!("# file: {}", f.display()),
            None => "# file: none (built-in defaults and environment)".to_owned(),
        },
    ];
    let mut entries: Vec<(String, String)> = Vec::new();
    let push_table = |section: &str,
                      table: &serde_json::Map<String, Value>,
                      entries: &mut Vec<(String, String)>| {
        for (k, v) in table {
            if v.is_object() {
                continue;
            }
            let key = if section.is_empty() {
                k.clone()
            } else {
                format!("{section}.{k}")
            };
            entries.push((format!("{k} = {}", toml_value(v)), source_of(&key)));
        }
    };
    if let Value::Object(root) = &value {
        push_table("", root, &mut entries);
        let mut blocks = vec![(String::new(), std::mem::take(&mut entries))];
        // Sections in the order of the example file: server first.
        let mut sections: Vec<&String> = root.keys().filter(|k| root[*k].is_object()).collect();
        let rank = |s: &str| {
            ["server", "database", "log", "metrics"]
                .iter()
                .position(|x| *x == s)
        };
        sections.sort_by_key(|s| (rank(s).unwrap_or(usize::MAX), (*s).clone()));
        for section in sections {
            if let Some(Value::Object(table)) = root.get(section) {
                push_table(section, table, &mut entries);
                blocks.push((format!("[{section}]"), std::mem::take(&mut entries)));
            }
        }
        let width = blocks
            .iter()
            .flat_map(|(_, e)| e.iter().map(|(l, _)| l.chars().count()))
            .max()
            .unwrap_or(0);
        for (header, block) in blocks {
            if !header.is_empty() {
                lines.push(String::new());
                lines.push(header);
            }
            for (line, source) in block {
                let pad = " ".repeat(width - line.chars().count());
                lines.push(format!("{line}{pad}  # {source}"));
            }
        }
    }
    output::print_lines(&lines)
}

fn leaf_keys(value: &Value, prefix: &str) -> Vec<String> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaf_keys(v, &key)
            })
            .collect(),
        _ => vec![prefix.to_owned()],
    }
}

/// A JSON scalar as a TOML value (strings use the JSON escapes TOML shares).
fn toml_value(v: &Value) -> String {
    match v {
        Value::String(s) => Value::String(s.clone()).to_string(),
        other => other.to_string(),
    }
}
