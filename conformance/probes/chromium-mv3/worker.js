// The probe's service worker: the onInstalled listener is registered at the top level, as
// the event requires; then the cases run, once.
let installed = new Promise((resolve) => {
  chrome.runtime.onInstalled.addListener((details) => resolve(describe(details)));
});

importScripts("harness.js", "cases.js");

runConformanceCases();
