//! The scripts an extension page (an HTML document) runs: its `<script src>` elements, in the
//! order a document runs them, each read from the extension's files. The same for a background
//! page and for a view.

use std::rc::Rc;

use crate::html::{self, ScriptKind};
use crate::paths::{self, Target};
use crate::script::{root_path, Entry};

/// What a page runs, and what the trace is told about what it does not run.
pub(crate) struct PageScripts {
    pub(crate) entries: Vec<Entry>,
    pub(crate) notes: Vec<String>,
}

/// The scripts of the page at `page` (its path from the root, as the manifest or the view names
/// it) whose HTML is `html`: `read` gives a script's source by its path from the root, or why
/// it could not be had (the page then reports it and goes on). Inline scripts do not run (the
/// Content Security Policy of extension pages forbids them), nor scripts of another origin:
/// each is a note.
pub(crate) fn page_scripts(
    page: &str,
    html: &str,
    mut read: impl FnMut(&str) -> Result<Rc<str>, String>,
) -> PageScripts {
    let page_path = root_path(page);
    let (tags, more) = html::scripts(html);
    let mut entries: Vec<(u8, Entry)> = Vec::new();
    let mut notes = Vec::new();
    if more {
        notes.push(format!(
            "runtime-sim: {page} has more than {} <script> elements; the others are not run",
            html::MAX_PAGE_SCRIPTS
        ));
    }
    for tag in &tags {
        if tag.kind == ScriptKind::NotRun {
            continue;
        }
        let Some(src) = &tag.src else {
            if tag.inline {
                notes.push(format!(
                    "runtime-sim: the inline <script> at {page}:{} is not run: the Content Security Policy of extension pages forbids inline script",
                    tag.line
                ));
            }
            continue;
        };
        // The page's URL is the base of its scripts' (the origin does not matter here: only
        // files of the extension are read).
        let target = paths::resolve("chrome-extension://page", &page_path, src);
        let name = match &target {
            Target::Here { path, .. } => paths::decode(path).unwrap_or_else(|| path.clone()),
            Target::Elsewhere(url) => {
                notes.push(format!(
                    "runtime-sim: the <script src=\"{url}\"> at {page}:{} is not run: the Content Security Policy of extension pages allows only the extension's own scripts",
                    tag.line
                ));
                continue;
            }
        };
        let source = read(&name);
        let entry = Entry {
            name,
            module: tag.kind == ScriptKind::Module,
            source,
        };
        entries.push((tag.phase(), entry));
    }
    // A stable sort: each phase keeps the document's order.
    entries.sort_by_key(|(phase, _)| *phase);
    PageScripts {
        entries: entries.into_iter().map(|(_, entry)| entry).collect(),
        notes,
    }
}
