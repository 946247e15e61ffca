// Runs in every page of example.com: tells the event page that one was visited (the event
// page reads which page from the message's sender).
chrome.runtime.sendMessage({ type: "visited" }, (answer) => {
  if (chrome.runtime.lastError) {
    console.log(`not counted: ${chrome.runtime.lastError.message}`);
    return;
  }
  console.log(`visit ${answer.visits} counted`);
});
