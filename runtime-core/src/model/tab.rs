//! `chrome.tabs` as data: what `tabs.create` and `tabs.query` are given, and the browser's
//! exact errors. The rules are in `tabs_api.rs`.

use crate::model::ids::TabId;

/// The `windowId` of the browser's one window.
pub(crate) const WINDOW_ID: u64 = 1;

/// `windows.WINDOW_ID_CURRENT`: the current window, where a `windowId` is asked for.
pub const WINDOW_ID_CURRENT: i64 = -2;

/// What `tabs.create` is given (`tabs.CreateProperties`, the part the simulator runs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TabCreate {
    /// `url`: a full URL, or a path of the extension (relative to its root). `None`: the new
    /// tab page, `chrome://newtab/`.
    pub url: Option<String>,
    /// `active`: whether the tab becomes the window's active tab (default `true`).
    pub active: Option<bool>,
    /// `index`: where the tab goes in the window, clamped to the number of tabs (default: last).
    pub index: Option<u64>,
    /// `windowId`: the window (its id, or [`WINDOW_ID_CURRENT`]); default the current one.
    pub window_id: Option<i64>,
}

/// What `tabs.query` is given (`tabs.QueryInfo`, the part the simulator runs): a tab matches
/// when it matches every property given; `TabQuery::default()` (`{}`) matches every tab.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TabQuery {
    /// `active`: whether the tab is its window's active tab.
    pub active: Option<bool>,
    /// `highlighted`: whether the tab is highlighted (here: the active tab).
    pub highlighted: Option<bool>,
    /// `pinned`: whether the tab is pinned (no tab is).
    pub pinned: Option<bool>,
    /// `currentWindow`: whether the tab is in the current window (the browser has one window,
    /// which is current).
    pub current_window: Option<bool>,
    /// `lastFocusedWindow`: whether the tab is in the last focused window (the one window).
    pub last_focused_window: Option<bool>,
    /// `windowId`: the tab's window, or [`WINDOW_ID_CURRENT`].
    pub window_id: Option<i64>,
    /// `index`: the tab's position in its window.
    pub index: Option<u64>,
    /// `status`: `"loading"` or `"complete"` (a tab of the simulator has loaded at once).
    pub status: Option<String>,
    /// `url`: match patterns, one of which the tab's URL must match. Only tabs whose URL the
    /// extension may see (the `tabs` permission, or a host permission for the URL) match.
    pub url: Option<Vec<String>>,
}

/// `ExtensionTabUtil::kTabNotFoundError`.
pub(crate) fn no_tab(tab: TabId) -> String {
    format!("No tab with id: {tab}.")
}

/// `ExtensionTabUtil::kWindowNotFoundError`.
pub(crate) fn no_window(window: i64) -> String {
    format!("No window with id: {window}.")
}
