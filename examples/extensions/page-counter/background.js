// The event page of "Page counter". It is loaded when a content script's message or the
// popup's port needs it, and unloaded a few seconds after the last of them; the count lives
// in chrome.storage.local, not in a global.

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message?.type !== "visited") {
    return false;
  }
  chrome.storage.local.get({ visits: 0 }).then(async ({ visits }) => {
    await chrome.storage.local.set({ visits: visits + 1, last: sender.url });
    sendResponse({ visits: visits + 1 });
  });
  return true; // the answer comes after the storage calls
});

// The popup connects while it is open: an open port keeps this page alive.
chrome.runtime.onConnect.addListener((port) => {
  if (port.name !== "popup") {
    return;
  }
  port.onMessage.addListener(async (message) => {
    if (message === "count?") {
      const { visits = 0, last = null } = await chrome.storage.local.get(["visits", "last"]);
      port.postMessage({ visits, last });
    }
  });
  port.onDisconnect.addListener(() => console.log("the popup closed"));
});
