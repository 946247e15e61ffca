//! A scenario's native messaging hosts: their programs and manifests, written to a temporary
//! folder that is the only one the browser searches — so a run finds the same hosts on every
//! machine, and a host the file does not declare is not found.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use indexmap::IndexMap;
use serde_json::json;
use tempfile::TempDir;

use super::format::{BuiltinHost, NativeHost};
use super::ids::Ids;
use crate::native::{BrowserKind, Launcher};

/// The hosts of one run; their folder is removed when this is dropped.
pub(crate) struct Hosts {
    _dir: TempDir,
    /// How the browser finds and ends them.
    pub(crate) launcher: Launcher,
}

/// Writes the hosts. `program` is the `runtime-sim` command, which the built-in hosts run.
pub(crate) fn prepare(
    hosts: &IndexMap<String, NativeHost>,
    ids: &Ids,
    extensions: &[String],
    browser: BrowserKind,
    program: Option<&Path>,
) -> Result<Hosts, String> {
    let dir = tempfile::Builder::new()
        .prefix("runtime-sim-hosts")
        .tempdir()
        .map_err(|e| format!("cannot create a folder for the native hosts: {e}"))?;
    for (i, (name, host)) in hosts.iter().enumerate() {
        let body = match (&host.builtin, &host.shell) {
            (Some(BuiltinHost::PingPong), _) => {
                let program = program.ok_or_else(|| {
                    format!("the native host {name} is built into the runtime-sim command, and this run was not told where that command is")
                })?;
                format!("exec '{}' host ping-pong", program.display())
            }
            (None, Some(shell)) => shell.clone(),
            (None, None) => String::new(),
        };
        let exe = dir.path().join(format!("host-{i}.sh"));
        std::fs::write(&exe, format!("#!/bin/sh\n{body}\n"))
            .and_then(|()| std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)))
            .map_err(|e| format!("cannot write the native host {name}: {e}"))?;
        let allowed: Vec<&str> = match &host.allowed {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => extensions.iter().map(String::as_str).collect(),
        };
        let allowed_ids = allowed.iter().filter_map(|n| ids.get(n));
        let mut manifest = json!({
            "name": name,
            "description": "a native host of a runtime-sim scenario",
            "path": exe,
            "type": "stdio",
        });
        if browser.is_firefox() {
            manifest["allowed_extensions"] = allowed_ids.map(|id| id.to_string()).collect();
        } else {
            manifest["allowed_origins"] = allowed_ids
                .map(|id| browser.caller_origin(id.as_str()))
                .collect();
        }
        std::fs::write(
            dir.path().join(format!("{name}.json")),
            manifest.to_string(),
        )
        .map_err(|e| format!("cannot write the manifest of the native host {name}: {e}"))?;
    }
    Ok(Hosts {
        launcher: Launcher::isolated(browser).with_dir(dir.path()),
        _dir: dir,
    })
}
