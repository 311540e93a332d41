// The take-it-down pages' behaviour. Hashing happens here, on the person's device (hashing.js);
// the only requests this page makes are for its own files and one POST of hashes (JSON) per
// submission, which the page's Content-Security-Policy (connect-src 'self') confines to this server.
// Nothing of a picture is shown or kept: the list shows names given by the device and the codes.

import { createHashWorker, hashImage, hashVideo } from "./hashing.js";

const $ = (id) => document.getElementById(id);

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The items as the server takes them, split into submissions within its limits.
function submissions(items, maxItems, maxFrames) {
  const out = [];
  let current = [], frames = 0;
  for (const item of items) {
    const n = item.vpdq ? item.vpdq.length : 0;
    if (current.length && (current.length >= maxItems || frames + n > maxFrames)) {
      out.push(current);
      current = [];
      frames = 0;
    }
    current.push(item);
    frames += n;
  }
  if (current.length) out.push(current);
  return out.map((items) => ({ submission: randomId(), items }));
}

async function hashOne(file, worker, progress) {
  if (file.type.startsWith("video/")) {
    const v = await hashVideo(file, (done, total) => progress(done, total));
    const vpdq = v.vpdq.map((f) => ({ frame: f.frame, quality: f.quality, pdq: f.pdq, timestamp: f.timestamp }));
    return { kind: "video", md5: v.md5, sha256: v.sha256, vpdq };
  }
  let h;
  try {
    h = worker ? await worker.hashImage(file) : await hashImage(file);
  } catch {
    h = await hashImage(file); // the worker could not (an older browser): once more on the page
  }
  return { kind: "image", md5: h.md5, sha256: h.sha256, pdq: h.pdq, quality: h.quality };
}

function pickPage() {
  const root = $("tid");
  const t = root.dataset;
  const maxItems = Number(t.maxItems), maxFrames = Number(t.maxFrames);
  const list = $("files"), status = $("files-status"), send = $("send"), payload = $("payload");
  let items = [];
  let worker = null;
  try {
    worker = createHashWorker();
  } catch {
    worker = null; // no module workers: hash on the page itself
  }

  $("pick").addEventListener("change", async (event) => {
    const files = Array.from(event.target.files || []);
    items = [];
    list.replaceChildren();
    send.disabled = true;
    $("result").hidden = true;
    status.textContent = t.tWorking;
    for (const file of files) {
      const row = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = `${file.name.slice(0, 80)}: ${t.tWorking}`; // textContent: a name is text
      const bar = document.createElement("progress");
      bar.max = 1;
      bar.value = 0;
      row.append(label, bar);
      list.append(row);
      try {
        const item = await hashOne(file, worker, (done, total) => { bar.max = total; bar.value = done; });
        items.push(item);
        label.textContent = `${file.name.slice(0, 80)}: ${t.tReady}`;
        bar.value = bar.max;
      } catch (err) {
        label.textContent = `${file.name.slice(0, 80)}: ${t.tFailed}`;
        bar.remove();
      }
    }
    payload.textContent = JSON.stringify(items, null, 1);
    status.textContent = items.length ? `${items.length} ${t.tReady}` : t.tFailed;
    send.disabled = items.length === 0;
  });

  send.addEventListener("click", async () => {
    send.disabled = true;
    status.textContent = t.tSending;
    const codes = [];
    try {
      for (const body of submissions(items, maxItems, maxFrames)) {
        const answer = await fetch("/v1/takeitdown/submissions", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
          credentials: "omit",
          referrerPolicy: "no-referrer",
        });
        if (answer.status !== 201) throw new Error(String(answer.status));
        codes.push((await answer.json()).code);
      }
    } catch {
      status.textContent = t.tSendFailed;
      send.disabled = false;
      if (!codes.length) return;
    }
    $("code").textContent = codes.join("  ");
    $("result").hidden = false;
    status.textContent = "";
    items = [];
    payload.textContent = "";
  });
}

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
}

function statusPage() {
  const form = $("status-form");
  const t = form.dataset;
  const out = $("status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    out.replaceChildren();
    const code = $("code-input").value;
    let answer;
    try {
      answer = await fetch("/v1/takeitdown/status", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code }),
        credentials: "omit",
      });
    } catch {
      out.textContent = t.tFailed;
      return;
    }
    if (answer.status !== 200) {
      out.textContent = answer.status === 404 ? t.tUnknown : t.tFailed;
      return;
    }
    const s = await answer.json();
    for (const line of [
      fill(t.tReceived, { n: s.hashes, date: s.received }),
      fill(t.tMembers, { n: s.members_holding, of: s.members_receiving }),
      fill(t.tMatches, { n: s.members_reporting_matches, acted: s.members_acted }),
    ]) {
      const p = document.createElement("p");
      p.textContent = line;
      out.append(p);
    }
  });
}

if ($("tid")) pickPage();
if ($("status-form")) statusPage();
