// The popup: asks the event page for the count over a port, while it is open.
const port = chrome.runtime.connect({ name: "popup" });
port.onMessage.addListener(({ visits, last }) => {
  console.log(`popup shows ${visits} visits, the last ${last}`);
});
port.postMessage("count?");
