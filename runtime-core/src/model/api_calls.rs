//! API calls: the browser's side of each extension API function. A call is in flight (a
//! keepalive) from the moment it is made until the browser completes it, after the API's
//! latency on the virtual clock.

use crate::model::calls::{ApiRequest, Call, CallOutcome, PackageDirectory};
use crate::model::contexts::{ContextId, ViewKind};
use crate::model::error::{
    ContextError, ContextInvalidated, GetBackgroundPageError, GetPlatformInfoError,
    OpenOptionsPageError, RequestUpdateCheckError, SendNativeMessageError, SetUninstallUrlError,
};
use crate::model::ids::CallId;
use crate::model::keepalive::KeepaliveReason;
use crate::model::page_lifecycle::PageState;
use crate::model::pages::background_page;
use crate::model::profile::BackgroundModel;
use crate::model::trace_entry::{TraceContext, TraceEvent};
use crate::model::work::{Queued, Signal, Work};
use crate::model::world::Model;

/// The permission native messaging needs.
const NATIVE_MESSAGING: &str = "nativeMessaging";

impl Model {
    /// Starts the browser's part of an API call from `context` (which must be alive): traces
    /// it, takes a keepalive, and schedules its completion after the API's latency.
    /// `None` if `context` is not an extension's.
    pub(crate) fn start_call(
        &mut self,
        context: &ContextId,
        mut request: ApiRequest,
    ) -> Option<CallId> {
        if let ApiRequest::Storage(storage) = &mut request {
            self.assess_storage_call(context, storage);
        }
        let latency = self.config.latency(request.function());
        let call = self.begin_call(context, request)?;
        self.bus.post_after(latency, Work::CompleteCall(call));
        Some(call)
    }

    /// Records a call and takes its keepalive.
    fn begin_call(&mut self, context: &ContextId, request: ApiRequest) -> Option<CallId> {
        let ext = context.extension()?.clone();
        let named = self.trace_context(context);
        let api = request.function();
        self.record(Some(&ext), Some(named.clone()), TraceEvent::ApiCall { api });
        let load = context.background_load();
        let keepalive = self.acquire(&ext, KeepaliveReason::ApiCall(api), load);
        let call = self.ids.call();
        self.calls.insert(
            call,
            Call {
                ext,
                context: named,
                request,
                keepalive,
            },
        );
        Some(call)
    }

    /// Ends an API call: records its result, gives back its keepalive, and tells the code
    /// that waits for it.
    pub(crate) fn finish_call(&mut self, call: CallId, outcome: CallOutcome) {
        let Some(site) = self.calls.remove(&call) else {
            return;
        };
        let (ok, result) = outcome.for_trace();
        self.record(
            Some(&site.ext),
            Some(site.context),
            TraceEvent::ApiResult {
                api: site.request.function(),
                ok,
                result,
            },
        );
        self.release(&site.ext, site.keepalive);
        self.signal(Signal::CallDone { call, outcome });
    }

    /// An API call's latency has passed: the browser does what was asked.
    pub(crate) fn complete_call(&mut self, call: CallId) {
        let Some(site) = self.calls.get(&call) else {
            return;
        };
        let ext = site.ext.clone();
        let outcome = match site.request.clone() {
            ApiRequest::GetPlatformInfo => CallOutcome::PlatformInfo(
                self.config
                    .platform
                    .ok_or(GetPlatformInfoError::Unavailable),
            ),
            ApiRequest::GetPackageDirectoryEntry => {
                CallOutcome::PackageDirectory(match self.ext(&ext) {
                    Some(rec) => Ok(PackageDirectory {
                        name: "crxfs".into(),
                        path: rec.path.clone(),
                    }),
                    None => Err(ContextError::Invalidated(ContextInvalidated)),
                })
            }
            ApiRequest::OpenOptionsPage => {
                CallOutcome::OpenOptionsPage(self.open_options_page(&ext))
            }
            ApiRequest::SetUninstallUrl(url) => {
                CallOutcome::SetUninstallUrl(self.set_uninstall_url(&ext, url))
            }
            ApiRequest::GetBackgroundPage => {
                let Some(rec) = self.ext(&ext) else {
                    return self.finish_call(
                        call,
                        CallOutcome::BackgroundPage(Err(ContextError::Invalidated(
                            ContextInvalidated,
                        )
                        .into())),
                    );
                };
                if rec.lifecycle.is_none() {
                    return self.finish_call(
                        call,
                        CallOutcome::BackgroundPage(Err(GetBackgroundPageError::NoBackgroundPage)),
                    );
                }
                if self
                    .route_waking(&ext, Queued::BackgroundPage(call))
                    .is_none()
                {
                    // It is answered when the page has loaded.
                    return;
                }
                let page = self.ext(&ext).map(background_page);
                CallOutcome::BackgroundPage(
                    page.ok_or(ContextError::Invalidated(ContextInvalidated).into()),
                )
            }
            ApiRequest::RequestUpdateCheck => {
                if !self.config.autoupdate {
                    CallOutcome::UpdateCheck(Err(RequestUpdateCheckError::AutoupdateDisabled))
                } else {
                    // It is answered when the check completes, or at once when throttled.
                    self.check_for_updates(&ext, call);
                    return;
                }
            }
            ApiRequest::Reload => {
                self.finish_call(call, CallOutcome::Done(Ok(())));
                self.reload_requested(&ext);
                return;
            }
            ApiRequest::Restart => CallOutcome::Restart(self.restart_requested(&ext)),
            ApiRequest::RestartAfterDelay(seconds) => {
                CallOutcome::RestartAfterDelay(self.restart_after_delay(&ext, seconds))
            }
            ApiRequest::SendNativeMessage => return,
            ApiRequest::Storage(request) => CallOutcome::Storage(self.storage_call(&ext, request)),
            request @ (ApiRequest::AlarmsCreate(_)
            | ApiRequest::AlarmsGet(_)
            | ApiRequest::AlarmsGetAll
            | ApiRequest::AlarmsClear(_)
            | ApiRequest::AlarmsClearAll) => self.alarms_call(&ext, request),
            request @ (ApiRequest::TabsCreate(_)
            | ApiRequest::TabsGet(_)
            | ApiRequest::TabsQuery(_)
            | ApiRequest::TabsRemove(_)) => CallOutcome::Json(self.tabs_call(&ext, request)),
        };
        self.finish_call(call, outcome);
    }

    /// `runtime.openOptionsPage()`: opens the options page in a view, or focuses it if open.
    fn open_options_page(
        &mut self,
        ext: &crate::model::extension_id::ExtensionId,
    ) -> Result<(), OpenOptionsPageError> {
        let rec = self
            .ext(ext)
            .ok_or(ContextError::Invalidated(ContextInvalidated))?;
        let page = rec
            .manifest
            .options_page()
            .ok_or(OpenOptionsPageError::NoOptionsPage)?
            .to_owned();
        let open = rec
            .views
            .iter()
            .find(|(_, v)| v.kind == ViewKind::Options)
            .map(|(id, v)| (*id, v.url.clone()));
        match open {
            Some((id, url)) => self.record(
                Some(ext),
                Some(TraceContext::View {
                    id,
                    kind: ViewKind::Options,
                }),
                TraceEvent::ViewFocused { url },
            ),
            None => {
                self.open_view(ext, ViewKind::Options, &page);
            }
        }
        Ok(())
    }

    /// `runtime.setUninstallURL(url)`, once its length was checked.
    fn set_uninstall_url(
        &mut self,
        ext: &crate::model::extension_id::ExtensionId,
        url: String,
    ) -> Result<(), SetUninstallUrlError> {
        if !url.is_empty() && !is_http_url(&url) {
            return Err(SetUninstallUrlError::InvalidUrl(url));
        }
        let rec = self
            .ext_mut(ext)
            .ok_or(ContextError::Invalidated(ContextInvalidated))?;
        rec.uninstall_url = (!url.is_empty()).then_some(url);
        Ok(())
    }

    /// Checks what `connectNative` and `sendNativeMessage` check before anything starts.
    pub(crate) fn check_native_permission(
        &self,
        opener: &ContextId,
    ) -> Result<(), SendNativeMessageError> {
        if !self.context_alive(opener) {
            return Err(SendNativeMessageError::ContextInvalidated(
                ContextInvalidated,
            ));
        }
        let allowed = opener
            .extension()
            .and_then(|ext| self.ext(ext))
            .is_some_and(|rec| rec.manifest.has_permission(NATIVE_MESSAGING));
        if !allowed {
            return Err(SendNativeMessageError::PermissionRequired);
        }
        Ok(())
    }

    /// Starts a `sendNativeMessage` call from `opener`: its host is the driver's to start.
    /// Returns the call, and whether the host's stdin must be closed before the message is
    /// written (Firefox, from `onSuspend`).
    pub(crate) fn start_native_call(
        &mut self,
        opener: &ContextId,
    ) -> Result<(CallId, bool), SendNativeMessageError> {
        self.check_native_permission(opener)?;
        let stdin_closed_first = self.in_firefox_on_suspend(opener);
        let call = self
            .begin_call(opener, ApiRequest::SendNativeMessage)
            .ok_or(SendNativeMessageError::ContextInvalidated(
                ContextInvalidated,
            ))?;
        Ok((call, stdin_closed_first))
    }

    /// Whether the call comes from a Firefox page that is suspending (its `onSuspend` is
    /// running): Firefox then starts the host but closes its stdin before sending anything.
    fn in_firefox_on_suspend(&self, opener: &ContextId) -> bool {
        let ContextId::Background { ext, load } = opener else {
            return false;
        };
        self.ext(ext).is_some_and(|r| {
            r.loaded_load() == Some(*load)
                && r.lifecycle.as_ref().is_some_and(|l| {
                    l.model() == BackgroundModel::FirefoxEventPage
                        && l.state() == PageState::Closing
                })
        })
    }
}

/// Whether `url` is an `http` or `https` URL with a host.
fn is_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    scheme_ok && !host.is_empty() && !host.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::is_http_url;

    #[test]
    fn uninstall_urls_must_be_http_or_https() {
        assert!(is_http_url("https://example.com/bye"));
        assert!(is_http_url("HTTP://example.com"));
        assert!(!is_http_url("ftp://example.com"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("example.com"));
    }
}
