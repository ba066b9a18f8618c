// Counsellor console: everything shown with textContent (parents' words are never HTML).
"use strict";
const api = (path, options = {}) => fetch("api/" + path, {
  ...options,
  headers: { "Authorization": "Bearer " + sessionStorage.getItem("counsellorToken"),
             "Content-Type": "application/json" },
}).then(async (r) => {
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
  return body;
});
const $ = (id) => document.getElementById(id);
let me = null;
let current = null;

function say(text) { $("status").textContent = text || ""; }

function renderList(handoffs) {
  const list = $("handoffs");
  list.replaceChildren();
  if (!handoffs.length) { const li = document.createElement("li"); li.textContent = "None right now."; list.append(li); }
  for (const h of handoffs) {
    const li = document.createElement("li");
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = `#${h.id} · ${h.crisis_type || h.reason} · ${h.channel || "?"} · `;
    const state = document.createElement("span");
    state.textContent = h.state === "waiting" ? "waiting" : "with " + h.claimed_by;
    if (h.state === "waiting") state.className = "waiting";
    b.append(state);
    b.setAttribute("aria-current", String(current === h.id));
    b.addEventListener("click", () => { current = h.id; refresh(); });
    li.append(b);
    list.append(li);
  }
}

function renderOne(h) {
  $("title").textContent = `Handoff #${h.id}`;
  $("meta").textContent = `${h.crisis_type || h.reason} · channel ${h.channel || "?"} · ` +
    `country ${h.country || "unknown"} · ${h.state}` + (h.claimed_by ? ` (${h.claimed_by})` : "");
  const box = $("transcript");
  box.replaceChildren();
  for (const line of h.transcript) {
    const div = document.createElement("div");
    div.className = "msg " + line.from;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = (line.from === "counsellor" ? line.counsellor : line.from) + " · " +
      new Date(line.time * 1000).toLocaleTimeString();
    div.append(who, document.createTextNode(line.text));
    box.append(div);
  }
  box.scrollTop = box.scrollHeight;
  const mine = h.state === "claimed" && h.claimed_by === me;
  $("claim").disabled = h.state !== "waiting";
  $("text").disabled = $("send").disabled = !mine;
  $("close").disabled = !(mine || h.state === "waiting");
}

async function refresh() {
  if (!me) return;
  try {
    const { handoffs } = await api("handoffs");
    renderList(handoffs);
    if (current !== null) renderOne(await api("handoffs/" + current));
  } catch (e) { say(e.message); }
}

$("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  sessionStorage.setItem("counsellorToken", $("token").value.trim());
  try { me = (await api("me")).counsellor; $("me").textContent = "Signed in as " + me; say(""); refresh(); }
  catch (err) { me = null; say("Sign-in failed: " + err.message); }
});
$("claim").addEventListener("click", async () => {
  try { await api(`handoffs/${current}/claim`, { method: "POST" }); refresh(); } catch (e) { say(e.message); }
});
$("reply").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  try { const sent = await api(`handoffs/${current}/messages`, { method: "POST", body: JSON.stringify({ text }) });
        $("text").value = ""; refresh();
        if (sent && sent.delivered === "opted_out") say("Not sent: this parent replied STOP to our texts. They can text START to hear from us again."); } catch (err) { say(err.message); }
});
$("close").addEventListener("click", async () => {
  try { await api(`handoffs/${current}/close`, { method: "POST", body: "{}" }); current = null;
        $("title").textContent = "Handed back"; refresh(); } catch (e) { say(e.message); }
});
setInterval(refresh, 3000);
