// The service worker of "Step counter". Chromium stops it after 30 s without work and
// starts it again, from the top of this file, for the next alarm: a global variable lives
// only as long as one run of the worker, and what must last goes to chrome.storage.

// When this run of the worker started (virtual time, when the simulator runs it).
const startedAt = Date.now();

// Listeners are added at the top level, so that they are in place for the event that
// starts the worker.
chrome.runtime.onInstalled.addListener(async ({ reason }) => {
  if (reason === chrome.runtime.OnInstalledReason.INSTALL) {
    await chrome.storage.local.set({ steps: 0 });
  }
  await chrome.alarms.create("step", { periodInMinutes: 1 });
});

chrome.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name !== "step") {
    return;
  }
  const { steps = 0 } = await chrome.storage.local.get("steps");
  await chrome.storage.local.set({ steps: steps + 1, workerStartedAt: startedAt });
  console.log(`step ${steps + 1}, by the worker started at ${new Date(startedAt).toISOString()}`);
});

// Other parts of the extension ask for the count.
chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message?.type !== "steps") {
    return false;
  }
  chrome.storage.local.get("steps").then(({ steps = 0 }) => sendResponse({ steps }));
  return true; // the answer comes later
});
