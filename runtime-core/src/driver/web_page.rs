//! `WebPage`: a web page shown in a tab, which may message extensions that let it
//! (`externally_connectable`).

use std::future::Future;
use std::rc::{Rc, Weak};

use serde::Serialize;
use serde_json::Value;

use runtime_events::SimInstant;

use crate::driver::core::Driver;
use crate::driver::executor::{TaskLabel, TaskOwner};
use crate::driver::last_error::LastError;
use crate::driver::listeners::ContextEvents;
use crate::driver::messaging::{self, resolve_target};
use crate::driver::port::Port;
use crate::model::contexts::ContextId;
use crate::model::error::{ConnectError, SendMessageError};
use crate::model::ids::{FrameId, TabId};

/// A web page in a tab's frame: the `chrome.runtime` a page gets, which has only `sendMessage`
/// and `connect`, and must name the extension. Only extensions whose
/// `externally_connectable.matches` match the page's URL accept it.
#[derive(Clone)]
pub struct WebPage {
    pub(crate) driver: Weak<Driver>,
    pub(crate) endpoint: ContextId,
    pub(crate) events: Rc<ContextEvents>,
    pub(crate) url: String,
}

impl std::fmt::Debug for WebPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPage").field("url", &self.url).finish()
    }
}

impl WebPage {
    /// The page's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The tab and frame the page is in.
    pub fn frame(&self) -> (TabId, FrameId) {
        match self.endpoint {
            ContextId::WebPage { tab, frame, .. } => (tab, frame),
            // A WebPage is always made for a web page's context.
            _ => (TabId(0), FrameId::TOP),
        }
    }

    /// `chrome.runtime.sendMessage(extensionId, message)` from the page, in the promise form.
    /// `None` for the id is the mistake pages make: the browser refuses it.
    pub fn send_message<T: Serialize + ?Sized>(
        &self,
        extension_id: Option<&str>,
        message: &T,
    ) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + 'static {
        let target = resolve_target(None, extension_id);
        messaging::send_message(&self.driver, &self.endpoint, target, message)
    }

    /// `chrome.runtime.sendMessage(extensionId, message, callback)` from the page; see
    /// [`Runtime::send_message_callback`](crate::Runtime::send_message_callback).
    pub fn send_message_callback<T, F>(
        &self,
        extension_id: Option<&str>,
        message: &T,
        callback: F,
    ) -> Result<(), SendMessageError>
    where
        T: Serialize + ?Sized,
        F: FnOnce(Option<Value>) + 'static,
    {
        let target = resolve_target(None, extension_id);
        messaging::send_message_callback(
            &self.driver,
            &self.endpoint,
            &self.events,
            target,
            message,
            callback,
        )
    }

    /// `chrome.runtime.connect(extensionId, {name})` from the page.
    pub fn connect(&self, extension_id: Option<&str>, name: &str) -> Result<Port, ConnectError> {
        let target = resolve_target(None, extension_id);
        messaging::connect(&self.driver, &self.endpoint, &self.events, target, name)
    }

    /// `chrome.runtime.lastError` in the page (while a callback runs).
    pub fn last_error(&self) -> Option<LastError> {
        self.events.last_error.read()
    }

    /// The virtual time now.
    pub fn now(&self) -> SimInstant {
        match self.driver.upgrade() {
            Some(driver) => driver.read(|model| model.now()),
            None => SimInstant::ZERO,
        }
    }

    /// Runs `future` as asynchronous work of the page (as [`Runtime::spawn`] does for an
    /// extension's context): it makes progress as the browser is driven, and is dropped when
    /// the page goes (its tab closes or navigates).
    ///
    /// [`Runtime::spawn`]: crate::Runtime::spawn
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + 'static,
    {
        let Some(driver) = self.driver.upgrade() else {
            return;
        };
        driver.executor.spawn_ready(
            TaskOwner::Context(self.endpoint.clone()),
            TaskLabel::WebPageTask,
            Box::pin(async move {
                future.await;
                Ok(())
            }),
        );
    }
}
