//! Results files and the comparison table.

use serde_json::{Value, json};

/// Peak resident memory of process `pid` in kB (`VmHWM`), if it can be read.
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    proc_status_kb(pid, "VmHWM:")
}

/// The line `field` (e.g. `VmRSS:`) of `/proc/PID/status`, in kB.
pub fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A results document: a label, the outcomes and the server's peak RSS.
pub fn document(label: &str, results: Vec<Value>, rss_kb: Option<u64>) -> Value {
    json!({ "label": label, "peak_rss_kb": rss_kb, "results": results })
}

fn number(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

/// Prints one table comparing `ours` with `peer` (if given), workload by workload.
pub fn table(ours: &Value, peer: Option<&Value>) -> String {
    let mut out = String::new();
    let peer_label = peer.and_then(|p| p["label"].as_str()).unwrap_or("peer");
    out.push_str(&format!(
        "| workload | requests | req/s | p50 ms | p99 ms | errors | {peer_label} req/s | {peer_label} p99 ms | ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    ));
    let empty = Vec::new();
    let theirs = peer.and_then(|p| p["results"].as_array()).unwrap_or(&empty);
    for row in ours["results"].as_array().unwrap_or(&empty) {
        let name = row["name"].as_str().unwrap_or("?");
        // A workload measured beside a peer of its own (not the run's peer server).
        let own_peer = row.get("peer").filter(|p| p.is_object());
        let other = own_peer.or_else(|| theirs.iter().find(|r| r["name"].as_str() == Some(name)));
        let name = match own_peer.and_then(|p| p["label"].as_str()) {
            Some(label) => format!("{name} (peer: {label})"),
            None => name.to_owned(),
        };
        let (peer_rate, peer_p99, ratio) = match other {
            Some(o) if number(o, "requests") > 0.0 => (
                format!("{:.0}", number(o, "rps")),
                format!("{:.2}", number(o, "p99_ms")),
                format!("{:.1}x", number(row, "rps") / number(o, "rps").max(1e-9)),
            ),
            _ => ("not run".into(), "-".into(), "-".into()),
        };
        out.push_str(&format!(
            "| {name} | {} | {:.0} | {:.2} | {:.2} | {} | {peer_rate} | {peer_p99} | {ratio} |\n",
            row["requests"],
            number(row, "rps"),
            number(row, "p50_ms"),
            number(row, "p99_ms"),
            row["errors"],
        ));
    }
    let rss = |v: &Value| {
        v["peak_rss_kb"]
            .as_u64()
            .map(|kb| format!("{:.1} MB", kb as f64 / 1024.0))
            .unwrap_or_else(|| "unknown".into())
    };
    let our_label = ours["label"].as_str().unwrap_or("sshward");
    out.push_str(&format!("\nServer peak RSS: {our_label} {}", rss(ours)));
    if let Some(p) = peer {
        out.push_str(&format!(", {peer_label} {}", rss(p)));
    }
    out.push('\n');
    for row in ours["results"].as_array().unwrap_or(&empty) {
        if let Some(notes) = row["notes"].as_str() {
            out.push_str(&format!(
                "\n'{}': {notes}\n",
                row["name"].as_str().unwrap_or("?")
            ));
        }
        if let Some(e) = row["first_error"].as_str() {
            out.push_str(&format!(
                "first error in '{}': {e}\n",
                row["name"].as_str().unwrap_or("?")
            ));
        }
    }
    out
}

/// Fails when a workload had errors or ran no request (for the smoke run in the tests).
pub fn check(results: &Value) -> Result<(), String> {
    let empty = Vec::new();
    let rows = results["results"].as_array().unwrap_or(&empty);
    if rows.is_empty() {
        return Err("no workload ran".into());
    }
    for row in rows {
        let name = row["name"].as_str().unwrap_or("?");
        if row["errors"].as_u64() != Some(0) || row["requests"].as_u64() == Some(0) {
            return Err(format!(
                "workload '{name}': {} requests, {} errors",
                row["requests"], row["errors"]
            ));
        }
    }
    Ok(())
}
