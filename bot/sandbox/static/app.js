// The demo's chat page: a small Telegram client of the fake Bot API (no build step, no CDN).
"use strict";

const MODES = {
  normal: ["Работает", "API отвечает сразу и создаёт обзвон."],
  reject: ["Отказ (422)", "API отклоняет запрос: бот покажет причину и сохранит черновик."],
  outage: ["Недоступен", "API не принимает соединения: бот предложит «Повторить»."],
  slow: ["Медленно (8 с)", "API отвечает через 8 секунд: видно, как бот ждёт ответа."],
};
const ACTIONS = { typing: "бот печатает…", upload_document: "бот отправляет файл…" };

const view = {
  chatId: null, // the open chat
  writer: {}, // chat id -> user id of who writes there
  replyTo: null, // message id chosen by hand
  dismissed: new Set(), // ForceReply prompts the person closed
  pressed: new Set(), // callback query ids of our presses
  toasted: new Set(),
  state: null,
  raw: "",
  version: 0,
};
window.demo = view; // read by the browser test

const $ = (id) => document.getElementById(id);

async function call(path, body) {
  const options = body instanceof FormData
    ? { method: "POST", body }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function chat() {
  return view.state && view.state.chats.find((c) => c.id === view.chatId);
}

function writerId() {
  const c = chat();
  if (!c) return null;
  return view.writer[c.id] || c.members[0].id;
}

// ---------------------------------------------------------------- formatting

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[ch]));
}

function tags(entity, text) {
  const piece = text.substr(entity.offset, entity.length);
  switch (entity.type) {
    case "bold": return ["<b>", "</b>"];
    case "italic": return ["<i>", "</i>"];
    case "underline": return ["<u>", "</u>"];
    case "strikethrough": return ["<s>", "</s>"];
    case "spoiler": return ['<span class="spoiler">', "</span>"];
    case "code": return ["<code>", "</code>"];
    case "pre": return ["<pre>", "</pre>"];
    case "blockquote": case "expandable_blockquote": return ["<blockquote>", "</blockquote>"];
    case "text_link": return [`<a href="${escapeHtml(entity.url || "#")}" target="_blank" rel="noopener">`, "</a>"];
    case "url": return [`<a href="${escapeHtml(piece)}" target="_blank" rel="noopener">`, "</a>"];
    case "bot_command": return ['<a href="#" class="command">', "</a>"];
    default: return ["", ""];
  }
}

// Telegram's entities count UTF-16 code units, as JavaScript strings do.
function formatted(text, entities) {
  const sorted = [...(entities || [])].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const stack = [];
  let out = "";
  let next = 0;
  for (let i = 0; i <= text.length; i++) {
    while (stack.length && stack[stack.length - 1].end <= i) out += stack.pop().close;
    while (next < sorted.length && sorted[next].offset === i) {
      const entity = sorted[next++];
      const [open, close] = tags(entity, text);
      out += open;
      stack.push({ end: entity.offset + entity.length, close });
    }
    if (i < text.length) out += escapeHtml(text[i]);
  }
  return out;
}

function size(bytes) {
  if (bytes == null) return "";
  return bytes < 1024 ? `${bytes} Б` : `${(bytes / 1024).toFixed(1)} КБ`;
}

function time(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
}

// ---------------------------------------------------------------- ForceReply

// The bot's latest ForceReply meant for the writer and not answered yet: Telegram's app
// opens a reply to it by itself (selective: only for the user the bot replied to).
function forcedReply() {
  const me = writerId();
  const messages = view.state.messages;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!m.is_bot && m.from.id === me) return null; // answered since
    if (m.is_bot && m.force_reply) {
      if (m.selective && !(m.reply_to && m.reply_to.from.id === me)) continue;
      return view.dismissed.has(m.id) ? null : m;
    }
  }
  return null;
}

function replyTarget() {
  const messages = view.state.messages;
  if (view.replyTo != null) {
    const chosen = messages.find((m) => m.id === view.replyTo);
    if (chosen) return { message: chosen, placeholder: null };
  }
  const forced = forcedReply();
  return forced ? { message: forced, placeholder: forced.placeholder } : null;
}

// ---------------------------------------------------------------- rendering

function renderChats() {
  const list = $("chat-list");
  list.innerHTML = "";
  for (const c of view.state.chats) {
    const li = document.createElement("li");
    li.dataset.chat = c.id;
    li.className = c.id === view.chatId ? "active" : "";
    const sub = c.type === "private" ? "личный чат с ботом" : `группа: ${c.members.map((m) => m.name).join(", ")}`;
    li.innerHTML = `<div>${escapeHtml(c.title)}</div><div class="sub">${escapeHtml(sub)}</div>`;
    li.onclick = () => { view.chatId = c.id; view.replyTo = null; stick = true; refresh(true); };
    list.appendChild(li);
  }
}

function renderHeader() {
  const c = chat();
  $("chat-title").textContent = c.title;
  const status = $("chat-status");
  const action = view.state.typing;
  status.textContent = action ? (ACTIONS[action] || "бот занят…") : (c.type === "private" ? "бот" : `${c.members.length + 1} участника`);
  status.className = action ? "typing" : "";
  const writer = $("writer");
  writer.innerHTML = "";
  if (c.members.length > 1) {
    writer.append("Пишет: ");
    for (const member of c.members) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = member.name;
      button.className = member.id === writerId() ? "active" : "";
      button.onclick = () => { view.writer[c.id] = member.id; view.replyTo = null; render(); };
      writer.appendChild(button);
    }
  }
}

function renderMessage(m) {
  const me = writerId();
  const box = document.createElement("div");
  box.className = `msg ${m.is_bot ? "bot" : "user"} ${!m.is_bot && m.from.id === me ? "mine" : ""}`;
  box.dataset.id = m.id;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  let html = `<div class="sender">${escapeHtml(m.from.name)}</div>`;
  if (m.reply_to) html += `<div class="quote">${escapeHtml(m.reply_to.from.name)}: ${escapeHtml(m.reply_to.text)}</div>`;
  if (m.document) {
    const href = `/api/file/${encodeURIComponent(m.document.file_id)}`;
    html += `<div class="doc"><span class="icon">📄</span><span><a class="download" href="${href}" download="${escapeHtml(m.document.name)}">${escapeHtml(m.document.name)}</a><br><small>${size(m.document.size)}</small></span></div>`;
  }
  if (m.text) html += `<div class="text">${formatted(m.text, m.entities)}</div>`;
  html += `<div class="meta">${m.edited ? "изменено " : ""}${time(m.date)}</div>`;
  bubble.innerHTML = html;
  bubble.ondblclick = () => { view.replyTo = m.id; renderComposer(); $("composer-text").focus(); };
  bubble.querySelectorAll(".spoiler").forEach((s) => { s.onclick = () => s.classList.toggle("shown"); });
  bubble.querySelectorAll("a.command").forEach((a) => { a.onclick = (e) => { e.preventDefault(); send(a.textContent, false); }; });
  box.appendChild(bubble);
  if (m.buttons.length) {
    const keyboard = document.createElement("div");
    keyboard.className = "keyboard";
    for (const row of m.buttons) {
      const line = document.createElement("div");
      line.className = "kb-row";
      for (const b of row) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "kb-btn";
        button.textContent = b.text;
        button.onclick = () => press(m, b);
        line.appendChild(button);
      }
      keyboard.appendChild(line);
    }
    box.appendChild(keyboard);
  }
  return box;
}

// The chat sticks to its newest message unless the person scrolled up to read.
let stick = true;
$("messages").addEventListener("scroll", () => {
  const pane = $("messages");
  stick = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 60;
});

function renderMessages() {
  const pane = $("messages");
  const keep = pane.scrollTop;
  pane.innerHTML = "";
  for (const m of view.state.messages) pane.appendChild(renderMessage(m));
  pane.scrollTop = stick ? pane.scrollHeight : keep;
}

function renderComposer() {
  const target = replyTarget();
  $("reply-bar").hidden = !target;
  if (target) {
    const m = target.message;
    $("reply-text").textContent = `${m.from.name}: ${(m.text || (m.document && m.document.name) || "").slice(0, 70)}`;
  }
  $("composer-text").placeholder = (target && target.placeholder) || "Сообщение";
}

function renderSide() {
  const examples = $("examples");
  if (!examples.childElementCount) {
    for (const name of view.state.examples) {
      const row = document.createElement("div");
      row.className = "example";
      row.innerHTML = `<button type="button" class="action" data-example="${escapeHtml(name)}">Отправить ${escapeHtml(name)}</button><a href="/examples/${encodeURIComponent(name)}" download>скачать</a>`;
      row.querySelector("button").onclick = () => sendExample(name);
      examples.appendChild(row);
    }
  }
  const modes = $("modes");
  modes.innerHTML = "";
  for (const mode of view.state.modes) {
    const label = document.createElement("label");
    label.className = mode === view.state.mode ? "active" : "";
    label.innerHTML = `<input type="radio" name="mode" value="${mode}" ${mode === view.state.mode ? "checked" : ""}> ${escapeHtml(MODES[mode][0])}`;
    label.querySelector("input").onchange = () => setMode(mode);
    modes.appendChild(label);
  }
  $("mode-hint").textContent = MODES[view.state.mode][1];

  const last = view.state.api[view.state.api.length - 1];
  if (!last) return;
  const ok = last.status >= 200 && last.status < 300;
  const answer = last.status == null ? "ответа нет" : `${last.status} ${JSON.stringify(last.response)}`;
  $("api-status").innerHTML = `${escapeHtml(last.method)} ${escapeHtml(last.path)} → <span class="${ok ? "ok" : "bad"}">${escapeHtml(answer)}</span> <small>(запросов: ${view.state.api.length})</small>`;
  let text = Object.entries(last.headers).map(([k, v]) => `${k}: ${v}`).join("\n") + "\n\n";
  text += JSON.stringify(last.body, null, 2);
  if (last.phones_total != null && last.phones_total > last.body.phones.length) {
    text += `\n… всего номеров: ${last.phones_total}, показаны первые ${last.body.phones.length}`;
  }
  $("api-body").textContent = text;
}

function renderToasts() {
  for (const t of view.state.toasts) {
    if (!view.pressed.has(t.id) || view.toasted.has(t.id)) continue;
    view.toasted.add(t.id);
    const toast = $("toast");
    toast.textContent = t.text;
    toast.className = t.alert ? "alert" : "";
    toast.hidden = false;
    clearTimeout(renderToasts.timer);
    renderToasts.timer = setTimeout(() => { toast.hidden = true; }, t.alert ? 6000 : 2500);
  }
}

function render() {
  renderChats();
  renderHeader();
  renderMessages();
  renderComposer();
  renderSide();
  renderToasts();
}

// ---------------------------------------------------------------- acting

function who() {
  const target = replyTarget();
  return { chat_id: view.chatId, user_id: writerId(), reply_to: target ? target.message.id : null };
}

function done() {
  view.replyTo = null;
  refresh(true);
}

function failed(error) {
  const toast = $("toast");
  toast.textContent = `Не отправлено: ${error.message}`;
  toast.className = "";
  toast.hidden = false;
  setTimeout(() => { toast.hidden = true; }, 3000);
}

async function send(text, asReply = true) {
  const body = { ...who(), text };
  if (!asReply) body.reply_to = null;
  try { await call("/api/send", body); done(); } catch (error) { failed(error); }
}

async function press(message, button) {
  if (button.url) { window.open(button.url, "_blank", "noopener"); return; }
  try {
    const answer = await call("/api/press", { chat_id: view.chatId, user_id: writerId(), message_id: message.id, data: button.data });
    view.pressed.add(answer.query_id);
    refresh(true);
  } catch (error) { failed(error); }
}

async function upload(file) {
  const form = new FormData();
  for (const [key, value] of Object.entries(who())) if (value != null) form.append(key, value);
  form.append("file", file, file.name);
  try { await call("/api/upload", form); done(); } catch (error) { failed(error); }
}

async function sendExample(name) {
  try { await call("/api/example", { ...who(), name }); done(); } catch (error) { failed(error); }
}

async function setMode(mode) {
  try { await call("/api/mode", { mode }); refresh(true); } catch (error) { failed(error); }
}

$("composer").onsubmit = (event) => {
  event.preventDefault();
  const input = $("composer-text");
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  send(text);
};
$("composer-text").onkeydown = (event) => {
  if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("composer").requestSubmit(); }
};
$("file-input").onchange = (event) => {
  const file = event.target.files[0];
  if (file) upload(file);
  event.target.value = "";
};
$("reply-cancel").onclick = () => {
  const target = replyTarget();
  if (view.replyTo != null) view.replyTo = null;
  else if (target) view.dismissed.add(target.message.id);
  renderComposer();
};
document.querySelectorAll("[data-command]").forEach((chip) => {
  chip.onclick = () => send(chip.dataset.command, false);
});

// ---------------------------------------------------------------- polling

let polling = false;
async function refresh(force = false) {
  if (polling && !force) return;
  polling = true;
  try {
    const query = view.chatId == null ? "" : `?chat=${view.chatId}`;
    const response = await fetch(`/api/state${query}`, { cache: "no-store" });
    const raw = await response.text();
    if (raw !== view.raw) {
      view.raw = raw;
      view.state = JSON.parse(raw);
      if (view.chatId == null) view.chatId = view.state.chat_id;
      if (view.state.chat_id === view.chatId) {
        view.version += 1;
        document.body.dataset.version = view.version;
        render();
      }
    }
  } catch (error) {
    $("chat-status").textContent = "нет связи с демо (остановлено?)";
  } finally {
    polling = false;
  }
}
refresh();
setInterval(refresh, 400);
