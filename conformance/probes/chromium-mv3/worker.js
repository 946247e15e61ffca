// The probe's service worker: the onInstalled listener is registered at the top level, as
// the event requires; then the worker's cases run, once, and an extension page in a tab runs
// its own (page.js), talking to the listeners below; all records are stored together.
let installed = new Promise((resolve) => {
  chrome.runtime.onInstalled.addListener((details) => resolve(describe(details)));
});

importScripts("harness.js", "cases.js");

// The page's cases take at most CASE_TIMEOUT_MS each.
const PAGE_TIMEOUT_MS = 120000;

// What the page's messages ask for (the listeners are added only once the worker's own
// cases have run, which need nobody to receive).
function answerPage(message, sender, sendResponse) {
  switch (message && message.kind) {
    case "respond":
      sendResponse({ answered: "at once" });
      return undefined;
    case "later":
      setTimeout(() => sendResponse({ answered: "later" }), 10);
      return true;
    case "promise":
      return Promise.resolve({ answered: "by a promise" });
    case "promise rejects":
      return Promise.reject(new Error("the listener's promise rejected"));
    case "promise undefined":
      return Promise.resolve(undefined);
    case "respond nothing":
      sendResponse();
      return undefined;
    case "respond null":
      sendResponse(null);
      return undefined;
    case "keep open":
      return true;
    case "throw":
      throw new Error("the listener threw");
    case "respond twice":
      sendResponse("first");
      sendResponse("second");
      return undefined;
    case "sender":
      sendResponse({
        keys: Object.keys(sender).sort(),
        id: sender.id === chrome.runtime.id,
        url: sender.url,
        origin: sender.origin,
        frameId: sender.frameId,
        tab: typeof sender.tab,
        documentId: typeof sender.documentId,
        documentLifecycle: sender.documentLifecycle,
      });
      return undefined;
    default:
      return undefined;
  }
}
function secondListener(message, sender, sendResponse) {
  if (message && message.kind === "second") sendResponse("from the second listener");
}
function onPort(port) {
  if (port.name === "disconnect me") {
    port.disconnect();
    return;
  }
  const sender = port.sender || {};
  port.postMessage({
    name: port.name,
    senderKeys: Object.keys(sender).sort(),
    url: sender.url,
    frameId: sender.frameId,
  });
}

async function runAll() {
  const records = await runCases();
  chrome.runtime.onMessage.addListener(answerPage);
  chrome.runtime.onMessage.addListener(secondListener);
  chrome.runtime.onConnect.addListener(onPort);
  await chrome.tabs.create({ url: chrome.runtime.getURL("page.html") });
  const pageRecords = await within(
    new Promise((resolve) => {
      chrome.storage.onChanged.addListener((changes) => {
        if (changes.pageRecords) resolve(changes.pageRecords.newValue);
      });
    }),
    PAGE_TIMEOUT_MS,
  );
  Object.assign(records, pageRecords.timedOut ? { "page: records": pageRecords } : pageRecords);
  await chrome.storage.local.set({ conformance: { done: true, records } });
}

runAll();
