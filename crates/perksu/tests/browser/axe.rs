//! Accessibility audits with axe-core, run inside the page over the DevTools protocol (not a
//! script tag, so the pages' Content-Security-Policy stays as strict as it is in production).
//!
//! The script comes from the npm package `axe-core`: `PERKSU_AXE=/path/to/axe.min.js`, or
//! `target/axe/node_modules/axe-core/axe.min.js` where `.ci/run` installs it. Without it the
//! audits are skipped with one line on stderr, unless `PERKSU_BROWSER_REQUIRED` is set.

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

/// Where the script is looked for, and the variable that names another place.
const AXE_VARIABLE: &str = "PERKSU_AXE";
const INSTALLED: &str = "target/axe/node_modules/axe-core/axe.min.js";

/// axe-core's source, read once; `None` when it is not installed.
pub fn source() -> Option<&'static str> {
    static SOURCE: OnceLock<Option<String>> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let path = std::env::var_os(AXE_VARIABLE)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                        .join("../..")
                        .join(INSTALLED)
                });
            let source = std::fs::read_to_string(&path).ok();
            if source.is_none() {
                assert!(
                    !super::chromium::required(),
                    "no axe-core at {} and {} is set: run `npm install --prefix target/axe \
                     axe-core` or set {AXE_VARIABLE}",
                    path.display(),
                    super::chromium::REQUIRED_VARIABLE,
                );
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED accessibility audits: no axe-core at {}",
                    path.display()
                );
            }
            source
        })
        .as_deref()
}

/// The script that audits the page and answers its serious and critical violations as JSON
/// text (an array of `{id, impact, help, nodes}`), after loading axe into the page if needed.
pub fn audit_script() -> &'static str {
    "(async () => {
        const found = await axe.run(document, { resultTypes: ['violations'] });
        const grave = found.violations.filter(v => v.impact === 'serious' || v.impact === 'critical');
        return JSON.stringify(grave.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '')),
        })));
    })()"
}

/// The violations of an audit's answer, one line each.
pub fn violations(answer: &Value) -> Vec<String> {
    let list: Vec<Value> = answer
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    list.iter()
        .map(|violation| {
            format!(
                "{} ({}): {} at {}",
                violation["id"].as_str().unwrap_or("?"),
                violation["impact"].as_str().unwrap_or("?"),
                violation["help"].as_str().unwrap_or(""),
                violation["nodes"]
            )
        })
        .collect()
}
