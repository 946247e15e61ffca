//! `Keepalive`: a keepalive held from outside the extension, given back when dropped.

use std::sync::{Arc, Weak};

use crate::driver::inbox::{Inbox, Incoming};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::KeepaliveId;
use crate::model::work::InboxItem;

/// A keepalive held on an extension's background page from outside the extension (Chromium's
/// `IncrementLazyKeepaliveCount`). It is released when dropped, or by
/// [`Keepalive::release`]; the release takes effect at the simulation's next step. It may be
/// dropped on any thread.
#[must_use = "a Keepalive is released as soon as it is dropped"]
#[derive(Debug)]
pub struct Keepalive {
    ext: ExtensionId,
    id: KeepaliveId,
    inbox: Weak<Inbox>,
}

impl Keepalive {
    pub(crate) fn new(ext: ExtensionId, id: KeepaliveId, inbox: &Arc<Inbox>) -> Self {
        Keepalive {
            ext,
            id,
            inbox: Arc::downgrade(inbox),
        }
    }

    /// The extension it keeps alive.
    pub fn extension(&self) -> &ExtensionId {
        &self.ext
    }

    /// Releases it (the same as dropping it).
    pub fn release(self) {}
}

impl Drop for Keepalive {
    fn drop(&mut self) {
        if let Some(inbox) = self.inbox.upgrade() {
            inbox.hand_in(Incoming::Item(InboxItem::Release {
                ext: self.ext.clone(),
                keepalive: self.id,
            }));
        }
    }
}
