//! Keepalives: taking and giving back what holds a background page, and what each does to
//! the page's lifecycle under the browser's profile.

use crate::model::extension_id::ExtensionId;
use crate::model::ids::{KeepaliveId, PageLoad};
use crate::model::keepalive::{Holder, KeepaliveReason};
use crate::model::page_lifecycle::Input;
use crate::model::profile::{BackgroundModel, KeepaliveRule, SERVICE_WORKER_REQUEST_TIMEOUT};
use crate::model::trace_entry::TraceEvent;
use crate::model::work::Work;
use crate::model::world::Model;

impl Model {
    /// Takes a keepalive on `ext`'s background page (for the page load `load`, if it goes with
    /// one).
    pub(crate) fn acquire(
        &mut self,
        ext: &ExtensionId,
        reason: KeepaliveReason,
        load: Option<PageLoad>,
    ) -> KeepaliveId {
        let id = self.ids.keepalive();
        let Some(rec) = self.ext_mut(ext) else {
            return id;
        };
        rec.keepalives.insert(
            id,
            Holder {
                reason: reason.clone(),
                load,
            },
        );
        let model = rec.lifecycle.as_ref().map(|l| l.model());
        let count = rec.keepalives.len() as u32;
        let capped = matches!(
            reason,
            KeepaliveReason::ApiCall(_) | KeepaliveReason::EventDispatch(_)
        ) && model == Some(BackgroundModel::ServiceWorker);
        self.keepalive_changed(ext, model, count, 1, reason);
        if capped {
            self.bus.post_after(
                SERVICE_WORKER_REQUEST_TIMEOUT,
                Work::RequestTimeout {
                    ext: ext.clone(),
                    keepalive: id,
                },
            );
        }
        id
    }

    /// A service worker's event or API call may last 5 minutes: if it still runs then, the
    /// worker is stopped (Chromium's `kRequestTimeout`).
    pub(crate) fn request_timed_out(&mut self, ext: &ExtensionId, keepalive: KeepaliveId) {
        let Some(holder) = self.ext(ext).and_then(|r| r.keepalives.get(keepalive)) else {
            return;
        };
        let message = format!(
            "{} ran longer than 5 minutes: the service worker is stopped (kRequestTimeout)",
            holder.reason
        );
        self.record_bg(ext, TraceEvent::Warning { message });
        self.drive(ext, Input::Shutdown);
    }

    /// Gives a keepalive back. Unknown or already released ids are ignored.
    pub(crate) fn release(&mut self, ext: &ExtensionId, id: KeepaliveId) {
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        let Some(holder) = rec.keepalives.remove(id) else {
            return;
        };
        let model = rec.lifecycle.as_ref().map(|l| l.model());
        let count = rec.keepalives.len() as u32;
        self.keepalive_changed(ext, model, count, -1, holder.reason);
    }

    /// Records a keepalive change (`count` held now, under the background's `model`, if it
    /// has one) and feeds it to the lifecycle.
    fn keepalive_changed(
        &mut self,
        ext: &ExtensionId,
        model: Option<BackgroundModel>,
        count: u32,
        change: i8,
        reason: KeepaliveReason,
    ) {
        let Some(model) = model else {
            return;
        };
        let rule = model.keepalive_rule(&reason);
        self.record(
            Some(ext),
            None,
            TraceEvent::Keepalive {
                count,
                change,
                reason,
            },
        );
        let input = match (rule, change > 0) {
            (KeepaliveRule::Holds, true) => Input::KeepaliveAcquired,
            (KeepaliveRule::Holds, false) => Input::KeepaliveReleased,
            (KeepaliveRule::Blocks, true) => Input::BlockerAcquired,
            (KeepaliveRule::Blocks, false) => Input::BlockerReleased,
            (KeepaliveRule::ResetsIdle, true) => Input::Pulse,
            (KeepaliveRule::ResetsIdle, false) | (KeepaliveRule::Ignored, _) => return,
        };
        self.drive(ext, input);
    }

    /// Takes a keepalive on `ext`'s background page, if it is loaded, for the life of that
    /// page load.
    pub(crate) fn page_keepalive(
        &mut self,
        ext: Option<&ExtensionId>,
        reason: KeepaliveReason,
    ) -> Option<(ExtensionId, KeepaliveId)> {
        let ext = ext?;
        let load = self.ext(ext)?.loaded_load()?;
        let id = self.acquire(ext, reason, Some(load));
        Some((ext.clone(), id))
    }
}
