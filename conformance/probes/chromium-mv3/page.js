// The cases of an extension page in a tab, opened by the worker once its own cases have run.
// They talk to the worker's listeners (worker.js answers each kind of message its own way)
// and store their records under "pageRecords", which the worker adds to its own.

const PAGE_MEMBERS = [
  "connect", "connectNative", "dynamicId", "getBackgroundPage", "getContexts", "getFrameId",
  "getManifest", "getPackageDirectoryEntry", "getPlatformInfo", "getURL", "getVersion", "id",
  "onConnect", "onInstalled", "onMessage", "onStartup", "onSuspend", "openOptionsPage",
  "reload", "sendMessage", "sendNativeMessage", "setUninstallURL",
];
for (const member of PAGE_MEMBERS) {
  probe(`page: typeof chrome.runtime.${member}`, () => typeof chrome.runtime[member]);
}

const ask = (kind) => call(() => chrome.runtime.sendMessage({ kind }));
probe("page: sendMessage answered by sendResponse", () => ask("respond"));
probe("page: sendMessage answered later after returning true", () => ask("later"));
probe("page: sendMessage answered by a returned promise", () => ask("promise"));
probe("page: sendMessage answered by a promise that rejects", () => ask("promise rejects"));
probe("page: sendMessage answered by a promise of undefined", () => ask("promise undefined"));
probe("page: sendMessage answered by sendResponse()", () => ask("respond nothing"));
probe("page: sendMessage answered by sendResponse(null)", () => ask("respond null"));
probe("page: sendMessage not answered", () => ask("ignore"));
probe("page: sendMessage kept open and then dropped", () => ask("keep open"));
probe("page: sendMessage to a listener that throws", () => ask("throw"));
probe("page: sendMessage answered twice", () => ask("respond twice"));
probe("page: sendMessage answered by the second listener", () => ask("second"));
probe("page: sendMessage not answered, callback", () =>
  callback((cb) => chrome.runtime.sendMessage({ kind: "ignore" }, cb)));
probe("page: sendMessage answered by sendResponse, callback", () =>
  callback((cb) => chrome.runtime.sendMessage({ kind: "respond" }, cb)));
probe("page: sendMessage of undefined, what the listener got", () =>
  call(() => chrome.runtime.sendMessage(undefined)));
probe("page: the sender the worker saw", () => ask("sender"));
probe("page: a port's sender and name in the worker, and its answer", () => {
  const port = chrome.runtime.connect({ name: "from page" });
  return within(
    new Promise((resolve) => port.onMessage.addListener((message) => resolve(message))),
  ).then((answer) => {
    port.disconnect();
    return answer;
  });
});
probe("page: the worker disconnects the port", () => {
  const port = chrome.runtime.connect({ name: "disconnect me" });
  return within(
    new Promise((resolve) =>
      port.onDisconnect.addListener(() => resolve({ lastError: lastErrorNow() })),
    ),
  );
});

runCases().then((records) => chrome.storage.local.set({ pageRecords: records }));
