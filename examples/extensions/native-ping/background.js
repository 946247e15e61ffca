// The service worker of "Native ping". It talks to com.example.ping, a native application
// installed on the machine beside the browser: first one message with sendNativeMessage (the
// browser starts a host process for the one answer), then a port with connectNative (one
// process for as long as the port is open; an open native port keeps the worker alive).
const HOST = "com.example.ping";

chrome.runtime.onInstalled.addListener(async () => {
  // A host that is not installed: the callback form, with runtime.lastError.
  // (Chromium's sendNativeMessage sends only objects: a string is "No matching signature.")
  chrome.runtime.sendNativeMessage("com.example.missing", { message: "ping" }, (answer) => {
    console.log(`missing host: ${chrome.runtime.lastError?.message} (${answer})`);
  });

  const { message: answer } = await chrome.runtime.sendNativeMessage(HOST, { message: "ping" });
  await chrome.storage.local.set({ answer });
  console.log(`one message: ${answer}`);

  const port = chrome.runtime.connectNative(HOST);
  let answers = 0;
  port.onMessage.addListener(async (message) => {
    answers += 1;
    console.log(`on the port: ${message} (${answers})`);
    if (answers === 3) {
      port.disconnect();
      await chrome.storage.local.set({ portAnswers: answers });
    }
  });
  for (let i = 0; i < 3; i++) {
    port.postMessage("ping");
  }
});
