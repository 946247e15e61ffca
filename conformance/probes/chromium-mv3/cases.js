// The cases of the service worker context. Each name says what is probed; the records are
// compared with the golden ones of each browser (conformance/goldens/).

// An extension id that is installed nowhere.
const NOWHERE = "abcdefghijklmnopabcdefghijklmnop";

// Every member of chrome.runtime in either browser, in any context or manifest version.
const RUNTIME_MEMBERS = [
  "ContextType", "OnInstalledReason", "OnRestartRequiredReason", "PlatformArch",
  "PlatformNaclArch", "PlatformOs", "RequestUpdateCheckStatus", "connect", "connectNative",
  "dynamicId", "getBackgroundPage", "getBrowserInfo", "getContexts", "getFrameId",
  "getManifest", "getPackageDirectoryEntry", "getPlatformInfo", "getURL", "getVersion", "id",
  "lastError", "onBrowserUpdateAvailable", "onConnect", "onConnectExternal",
  "onConnectNative", "onInstalled", "onMessage", "onMessageExternal", "onPerformanceWarning",
  "onRestartRequired", "onStartup", "onSuspend", "onSuspendCanceled", "onUpdateAvailable",
  "onUserScriptConnect", "onUserScriptMessage", "openOptionsPage", "reload",
  "requestUpdateCheck", "restart", "restartAfterDelay", "sendMessage", "sendNativeMessage",
  "setUninstallURL",
];

for (const member of RUNTIME_MEMBERS) {
  probe(`worker: typeof chrome.runtime.${member}`, () => typeof chrome.runtime[member]);
}

for (const name of [
  "ContextType", "OnInstalledReason", "OnRestartRequiredReason", "PlatformArch",
  "PlatformNaclArch", "PlatformOs", "RequestUpdateCheckStatus",
]) {
  probe(`worker: chrome.runtime.${name}`, () => chrome.runtime[name]);
}

probe("worker: chrome.runtime.id", () => chrome.runtime.id);
probe("worker: getManifest()", () => call(() => chrome.runtime.getManifest()));

for (const path of [
  "", "page.html", "/page.html", "dir/page.html", "a b.html", "../up.html",
  "dir/../page.html", "page.html?q=1#top", "#top", "//elsewhere/x.html",
  "https://example.com/", "ü.html", "%20.html", "./page.html", "a/./b/../c.html",
  "%2e%2e/x.html", "a\\b.html", "x{y}.html", "quote\".html", "<tag>.html", "hat^.html",
  "pipe|.html", "tick`.html", "tab\t.html", "q.html?a b\"<>`{}ü", "f.html#a b\"<>`{}ü",
  "p.html?x=1?y#f#g", "end/", "..", "dir/..",
]) {
  probe(`worker: getURL(${JSON.stringify(path)})`, () => call(() => chrome.runtime.getURL(path)));
}
probe("worker: getURL()", () => call(() => chrome.runtime.getURL()));
probe("worker: getURL(42)", () => call(() => chrome.runtime.getURL(42)));

probe("worker: getVersion()", () =>
  typeof chrome.runtime.getVersion === "function"
    ? call(() => chrome.runtime.getVersion())
    : { $type: "missing" });
probe("worker: dynamicId is a GUID", () =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(chrome.runtime.dynamicId));
probe("worker: dynamicId differs from id", () => chrome.runtime.dynamicId !== chrome.runtime.id);
probe("worker: lastError outside a callback", () => lastErrorNow());

// One-time messages with nobody to receive them.
probe("worker: sendMessage(message), promise, no receiver", () =>
  call(() => chrome.runtime.sendMessage("ping")));
probe("worker: sendMessage(message, callback), no receiver", () =>
  callback((cb) => chrome.runtime.sendMessage("ping", cb)));
probe("worker: sendMessage(undefined), promise, no receiver", () =>
  call(() => chrome.runtime.sendMessage(undefined)));
probe("worker: sendMessage(other id, message), promise", () =>
  call(() => chrome.runtime.sendMessage(NOWHERE, "ping")));
probe("worker: sendMessage(other id, message, callback)", () =>
  callback((cb) => chrome.runtime.sendMessage(NOWHERE, "ping", cb)));
probe("worker: sendMessage(own id, message), promise, no receiver", () =>
  call(() => chrome.runtime.sendMessage(chrome.runtime.id, "ping")));
probe("worker: sendMessage()", () => call(() => chrome.runtime.sendMessage()));
probe("worker: sendMessage with five arguments", () =>
  call(() => chrome.runtime.sendMessage(NOWHERE, "ping", {}, () => {}, 5)));
probe("worker: sendMessage(message, 'not options')", () =>
  call(() => chrome.runtime.sendMessage("ping", "not options")));
probe("worker: sendMessage of a function", () =>
  call(() => chrome.runtime.sendMessage(() => 1)));

// Ports with nobody to receive them.
function portRecord(open) {
  let port;
  try {
    port = open();
  } catch (error) {
    return { threw: messageOf(error) };
  }
  const disconnected = new Promise((resolve) => {
    port.onDisconnect.addListener((p) => {
      resolve({ lastError: lastErrorNow(), samePort: p === port });
    });
  });
  return within(disconnected).then((disconnect) => ({
    name: port.name,
    sender: describe(port.sender),
    disconnect,
  }));
}
probe("worker: connect(), no receiver", () => portRecord(() => chrome.runtime.connect()));
probe("worker: connect({name}), no receiver", () =>
  portRecord(() => chrome.runtime.connect({ name: "probe" })));
probe("worker: connect(other id)", () => portRecord(() => chrome.runtime.connect(NOWHERE)));
probe("worker: connect(own id, {name}), no receiver", () =>
  portRecord(() => chrome.runtime.connect(chrome.runtime.id, { name: "own" })));
probe("worker: connect({name: 42})", () => portRecord(() => chrome.runtime.connect({ name: 42 })));
probe("worker: connect('not an id')", () =>
  portRecord(() => chrome.runtime.connect("not an id")));

// Native messaging, with no host installed.
probe("worker: connectNative(missing host)", () =>
  portRecord(() => chrome.runtime.connectNative("com.example.missing")));
probe("worker: connectNative(invalid name)", () =>
  portRecord(() => chrome.runtime.connectNative("Not A Valid Name")));
probe("worker: sendNativeMessage(missing host), promise", () =>
  call(() => chrome.runtime.sendNativeMessage("com.example.missing", { ping: 1 })));
probe("worker: sendNativeMessage(missing host, message, callback)", () =>
  callback((cb) => chrome.runtime.sendNativeMessage("com.example.missing", { ping: 1 }, cb)));
probe("worker: sendNativeMessage(invalid name), promise", () =>
  call(() => chrome.runtime.sendNativeMessage("Not A Valid Name", { ping: 1 })));
probe("worker: sendNativeMessage(missing host, a string)", () =>
  call(() => chrome.runtime.sendNativeMessage("com.example.missing", "ping")));
probe("worker: sendNativeMessage(missing host, an array)", () =>
  call(() => chrome.runtime.sendNativeMessage("com.example.missing", [1])));
probe("worker: sendNativeMessage(missing host, null)", () =>
  call(() => chrome.runtime.sendNativeMessage("com.example.missing", null)));
probe("worker: sendNativeMessage(host) without a message", () =>
  call(() => chrome.runtime.sendNativeMessage("com.example.missing")));

// Other members.
probe("worker: getPlatformInfo() keys", () =>
  call(() => chrome.runtime.getPlatformInfo().then((info) => Object.keys(info).sort())));
probe("worker: getPlatformInfo(callback) keys", () =>
  callback((cb) => chrome.runtime.getPlatformInfo((info) => cb(Object.keys(info).sort()))));
probe("worker: getContexts({}) types and keys", () =>
  call(() =>
    chrome.runtime.getContexts({}).then((contexts) =>
      contexts.map((c) => ({ contextType: c.contextType, keys: Object.keys(c).sort() })),
    ),
  ));
probe("worker: getContexts()", () => call(() => chrome.runtime.getContexts()));
probe("worker: openOptionsPage() without an options page", () =>
  call(() => chrome.runtime.openOptionsPage()));
probe("worker: setUninstallURL(https URL)", () =>
  call(() => chrome.runtime.setUninstallURL("https://example.com/goodbye")));
probe("worker: setUninstallURL(not a URL)", () =>
  call(() => chrome.runtime.setUninstallURL("not a url")));
probe("worker: setUninstallURL(ftp URL)", () =>
  call(() => chrome.runtime.setUninstallURL("ftp://example.com/")));
probe("worker: restart(callback) outside kiosk mode", () =>
  callback((cb) => chrome.runtime.restart(cb)));
probe("worker: requestUpdateCheck() of an unpacked extension", () =>
  call(() => chrome.runtime.requestUpdateCheck()));
probe("worker: connect(own id, {name}, extra)", () =>
  portRecord(() => chrome.runtime.connect(chrome.runtime.id, { name: "x" }, 3)));
probe("worker: connect(null, {name})", () =>
  portRecord(() => chrome.runtime.connect(null, { name: "x" })));
probe("worker: connect({name: 4.5})", () => portRecord(() => chrome.runtime.connect({ name: 4.5 })));
probe("worker: connect({unknown: 1})", () => portRecord(() => chrome.runtime.connect({ unknown: 1 })));
probe("worker: sendMessage(null, message), promise", () =>
  call(() => chrome.runtime.sendMessage(null, "ping")));
probe("worker: sendMessage(message, {}), promise", () =>
  call(() => chrome.runtime.sendMessage({ a: 1 }, {})));
probe("worker: sendMessage(id, message, 'not options')", () =>
  call(() => chrome.runtime.sendMessage(chrome.runtime.id, "ping", "not options")));
probe("worker: sendMessage(id, message, {}, 'not a callback')", () =>
  call(() => chrome.runtime.sendMessage(chrome.runtime.id, "ping", {}, "x")));
probe("worker: sendMessage of a symbol", () => call(() => chrome.runtime.sendMessage(Symbol("s"))));
probe("worker: sendMessage of an object with a function", () =>
  call(() => chrome.runtime.sendMessage({ f() {} })));
probe("worker: sendMessage(id, function)", () =>
  call(() => chrome.runtime.sendMessage(chrome.runtime.id, () => 1)));
probe("worker: sendMessage(42, message)", () => call(() => chrome.runtime.sendMessage(42, "ping")));
probe("worker: onMessage.hasListeners() after adding a non-function", () => {
  chrome.runtime.onConnectExternal.addListener(42);
  return chrome.runtime.onConnectExternal.hasListeners();
});
probe("worker: onMessage.hasListeners() with none", () => chrome.runtime.onMessage.hasListeners());
probe("worker: onMessage.addListener(not a function)", () =>
  call(() => chrome.runtime.onMessage.addListener("not a function")));
probe("worker: onInstalled details", () => within(installed));
