// The conformance harness: cases are named functions; what each observes is recorded in one
// normal form, the same in every browser and in the simulator, so that records compare as
// JSON. When every case has run, the worker writes all records to chrome.storage.local under
// "conformance", where the recording driver (a real browser) and the conformance test (the
// simulator) read them.
//
// A record is built from these forms:
//   describe(value)   a value as JSON; what JSON cannot hold is tagged: {"$type": "undefined"},
//                     {"$type": "function"}, {"$type": "error", "message": ...}
//   call(f)           f() run: {"threw": message}, {"returned": value}, or for a promise
//                     {"resolved": value} / {"rejected": message}
//   callback(f)       f(cb) run with a callback: {"threw": message}, or what cb saw:
//                     {"args": [values], "lastError": message or {"$type": "undefined"}}
//   within(promise)   a promise's outcome, or {"timedOut": true} after CASE_TIMEOUT_MS (or
//                     the timeout given)

const CASE_TIMEOUT_MS = 5000;
const conformanceCases = [];

/** Adds a case: `body` returns (or resolves to) its record. */
function probe(name, body) {
  conformanceCases.push({ name, body });
}

function describe(value, depth = 0) {
  if (depth > 8) return { $type: "too deep" };
  if (value === undefined) return { $type: "undefined" };
  if (typeof value === "function") return { $type: "function" };
  if (typeof value === "bigint" || typeof value === "symbol") return { $type: typeof value };
  if (typeof value === "number" && !Number.isFinite(value)) return { $type: String(value) };
  if (value instanceof Error) return { $type: "error", message: value.message };
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => describe(v, depth + 1));
  const out = {};
  for (const key of Object.keys(value)) out[key] = describe(value[key], depth + 1);
  return out;
}

function messageOf(error) {
  return error instanceof Error ? error.message : describe(error);
}

function within(promise, timeout = CASE_TIMEOUT_MS) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ timedOut: true }), timeout);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        resolve({ rejected: messageOf(error) });
      },
    );
  });
}

async function call(f) {
  let result;
  try {
    result = f();
  } catch (error) {
    return { threw: messageOf(error) };
  }
  if (result && typeof result.then === "function") {
    return within(
      result.then(
        (value) => ({ resolved: describe(value) }),
        (error) => ({ rejected: messageOf(error) }),
      ),
    );
  }
  return { returned: describe(result) };
}

function lastErrorNow() {
  const error = chrome.runtime.lastError;
  return error === undefined ? { $type: "undefined" } : messageOf(error);
}

function callback(f) {
  let cb;
  const seen = new Promise((resolve) => {
    cb = (...args) => resolve({ args: args.map((a) => describe(a)), lastError: lastErrorNow() });
  });
  try {
    f(cb);
  } catch (error) {
    return Promise.resolve({ threw: messageOf(error) });
  }
  return within(seen);
}

/** Runs every case in order; resolves to the records by case name. */
async function runCases() {
  const records = {};
  for (const { name, body } of conformanceCases) {
    try {
      records[name] = describe(await body());
    } catch (error) {
      records[name] = { harnessError: messageOf(error) };
    }
  }
  return records;
}
