// Records the golden files: runs each probe extension in a real browser and writes what its
// cases observed to conformance/goldens/<probe>.json, with the browser's version and the date.
//
//   node conformance/record/record.mjs [chromium-mv3 ...]
//
// Chromium: Debian's `chromium`, headless, driven over the DevTools protocol on a pipe (no
// npm package needed): the probe is loaded with Extensions.loadUnpacked into a fresh profile,
// and its records are read from chrome.storage.local in its service worker.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const conformance = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TIMEOUT_MS = 60_000;

class Cdp {
  constructor(child) {
    this.child = child;
    this.next = 1;
    this.waiting = new Map();
    let buffer = "";
    child.stdio[4].on("data", (chunk) => {
      buffer += chunk.toString();
      let end;
      while ((end = buffer.indexOf("\0")) >= 0) {
        const message = JSON.parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 1);
        const waiter = message.id && this.waiting.get(message.id);
        if (waiter) {
          this.waiting.delete(message.id);
          if (message.error) waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
          else waiter.resolve(message.result);
        }
      }
    });
  }

  send(method, params = {}, sessionId = undefined) {
    return new Promise((resolve, reject) => {
      const id = this.next++;
      this.waiting.set(id, { resolve, reject, method });
      this.child.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + "\0");
    });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function recordChromium(probe) {
  const profile = mkdtempSync(join(tmpdir(), "conformance-chromium-"));
  const child = spawn(
    process.env.CHROMIUM ?? "chromium",
    [
      "--headless",
      "--no-sandbox",
      "--no-first-run",
      "--remote-debugging-pipe",
      "--enable-unsafe-extension-debugging",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
  );
  try {
    const cdp = new Cdp(child);
    const { product } = await cdp.send("Browser.getVersion");
    const { id } = await cdp.send("Extensions.loadUnpacked", {
      path: join(conformance, "probes", probe),
    });
    const deadline = Date.now() + TIMEOUT_MS;
    let stored;
    while (Date.now() < deadline) {
      const { targetInfos } = await cdp.send("Target.getTargets");
      const worker = targetInfos.find(
        (t) => t.type === "service_worker" && t.url.startsWith(`chrome-extension://${id}/`),
      );
      if (worker) {
        const { sessionId } = await cdp.send("Target.attachToTarget", {
          targetId: worker.targetId,
          flatten: true,
        });
        const { result } = await cdp.send(
          "Runtime.evaluate",
          {
            expression: 'chrome.storage.local.get("conformance")',
            awaitPromise: true,
            returnByValue: true,
          },
          sessionId,
        );
        stored = result.value?.conformance;
        await cdp.send("Target.detachFromTarget", { sessionId });
        if (stored?.done) break;
      }
      await sleep(250);
    }
    if (!stored?.done) throw new Error(`${probe}: no records after ${TIMEOUT_MS} ms`);
    return { browser: product, id, records: stored.records };
  } finally {
    child.kill();
    await new Promise((r) => child.once("exit", r));
    rmSync(profile, { recursive: true, force: true });
  }
}

const PROBES = { "chromium-mv3": recordChromium };

const wanted = process.argv.slice(2);
for (const probe of wanted.length ? wanted : Object.keys(PROBES)) {
  const record = PROBES[probe];
  if (!record) throw new Error(`no probe ${probe}; known: ${Object.keys(PROBES).join(", ")}`);
  const { browser, id, records } = await record(probe);
  const golden = {
    probe,
    browser,
    recorded: new Date().toISOString().slice(0, 10),
    extension_id: id,
    records,
  };
  const file = join(conformance, "goldens", `${probe}.json`);
  writeFileSync(file, JSON.stringify(golden, null, 2) + "\n");
  console.log(`${file}: ${Object.keys(records).length} cases from ${browser}`);
}
