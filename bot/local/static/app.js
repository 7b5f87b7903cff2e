// pulsecoach local chat: a small vanilla client for the local channel's JSON API.
// Every string from the server is inserted as text (textContent), never as HTML.

import { openForm } from "./form.js";

const POLL_MS = 1500;
const TOAST_MS = 4500;
const NEAR_BOTTOM_PX = 80;

const state = {
  personas: [],
  handle: null,
  generation: 0, // bumped on every persona switch; stale responses are dropped
  rendered: new Map(), // message id -> {version, el}
  timer: null,
};

const $ = (id) => document.getElementById(id);
const ui = {
  personas: $("personas"),
  who: $("who"),
  status: $("status"),
  statusText: $("status-text"),
  messages: $("messages"),
  empty: $("empty"),
  jump: $("jump"),
  form: $("composer-form"),
  composer: $("composer"),
  send: $("send"),
  toast: $("toast"),
};

// ---------------------------------------------------------------- DOM helpers

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "testid") node.dataset.testid = value;
    else if (key === "data") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Minimal, safe markup: `code`, *bold* and text sparklines. Everything else stays plain text.
const MARKUP = /`([^`\n]+)`|\*([^*\n]+)\*|([▁▂▃▄▅▆▇█·]{2,})/g;
const SPARK_LEVELS = "▁▂▃▄▅▆▇█";

// A sparkline drawn as bars: block characters depend on the font (many draw every
// one of them full height, a solid bar); bars of set heights read the same anywhere.
function sparkline(chars) {
  const bars = [...chars].map((char) => {
    const level = SPARK_LEVELS.indexOf(char);
    if (level < 0) return el("span", { class: "spark-bar spark-missing", "aria-hidden": "true" });
    const bar = el("span", { class: "spark-bar", "aria-hidden": "true" });
    bar.style.height = `${Math.round(((level + 1) / SPARK_LEVELS.length) * 100)}%`;
    return bar;
  });
  return el("span", { class: "spark", role: "img", "aria-label": `trend ${chars}`, title: chars, data: { spark: chars } }, bars);
}

function rich(text) {
  const fragment = document.createDocumentFragment();
  const source = String(text ?? "");
  let last = 0;
  for (const match of source.matchAll(MARKUP)) {
    fragment.append(source.slice(last, match.index));
    if (match[1] !== undefined) fragment.append(el("code", { text: match[1] }));
    else if (match[2] !== undefined) fragment.append(el("strong", { text: match[2] }));
    else fragment.append(sparkline(match[3]));
    last = match.index + match[0].length;
  }
  fragment.append(source.slice(last));
  return fragment;
}

function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/);
  return ((parts[0]?.[0] || "?") + (parts.length > 1 ? parts.at(-1)[0] : "")).toUpperCase();
}

function clock(iso) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// http(s) images, and inline PNG/SVG charts (an <img> never runs scripts in an SVG).
const INLINE_IMAGE = /^data:image\/(png|svg\+xml);base64,[A-Za-z0-9+/=]+$/;

function safeImageUrl(url) {
  if (INLINE_IMAGE.test(String(url))) return String(url);
  try {
    const parsed = new URL(String(url), window.location.href);
    return ["http:", "https:"].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(message, status, data = null) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

// A refusal the bot said in the conversation (HTTP 409 with the stored messages).
const saidInChat = (error) => Array.isArray(error?.data?.messages) && error.data.messages.length > 0;

async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError("Can't reach the pulsecoach server.", 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && typeof data.error === "string" ? data.error : `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status, data);
  }
  return data;
}

const personPath = (handle) => `/api/local/people/${encodeURIComponent(handle)}`;

// ---------------------------------------------------------------- feedback

let toastTimer = null;

function toast(message, kind = "error") {
  ui.toast.textContent = message;
  ui.toast.dataset.kind = kind;
  ui.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    ui.toast.hidden = true;
  }, TOAST_MS);
}

function setStatus(online) {
  ui.status.dataset.online = online ? "yes" : "no";
  ui.statusText.textContent = online ? "live" : "offline — retrying";
}

// ---------------------------------------------------------------- blocks

const BLOCKS = {
  text(block) {
    const style = block.style || "plain";
    const tag = style === "heading" ? "h3" : "p";
    // A literal text (what people or a model wrote) is never read as markup.
    const body = block.literal ? String(block.text ?? "") : rich(block.text);
    return el(tag, { class: `block text text-${style}` }, body);
  },

  question(block) {
    const prefix = block.value_prefix || "";
    const buttons = (block.choices || []).map((choice) => {
      const selected = block.selected !== null && block.selected !== undefined
        && String(block.selected) === String(choice.value);
      return el("button", {
        type: "button",
        class: selected ? "scale-choice selected" : "scale-choice",
        testid: `action-${block.action_id}`,
        data: { actionId: block.action_id, value: prefix + choice.value },
        "aria-pressed": selected ? "true" : "false",
        title: choice.label,
        text: choice.label,
      });
    });
    const labels = block.low_label || block.high_label
      ? el("div", { class: "scale-labels" }, [
        el("span", { text: block.low_label || "" }),
        el("span", { text: block.high_label || "" }),
      ])
      : null;
    return el("div", { class: "block question" }, [
      el("p", { class: "question-prompt" }, rich(block.prompt)),
      el("div", { class: "scale", role: "group", "aria-label": block.prompt }, buttons),
      labels,
    ]);
  },

  buttons(block) {
    return el(
      "div",
      { class: "block buttons" },
      (block.buttons || []).map((button) =>
        el("button", {
          type: "button",
          class: `btn btn-${button.style || "default"}`,
          testid: `action-${button.action_id}`,
          data: { actionId: button.action_id, value: button.value ?? "" },
          text: button.label,
        }),
      ),
    );
  },

  input(block) {
    // A select for fixed choices, a number field for counts, else free text.
    const errorId = block.error ? `error-${block.input_id}-${Math.random().toString(36).slice(2, 8)}` : undefined;
    const common = {
      class: block.error ? "input-field invalid" : "input-field",
      testid: `input-${block.input_id}`,
      data: { inputId: block.input_id },
      "aria-invalid": block.error ? "true" : undefined,
      "aria-describedby": errorId,
    };
    let field;
    if (Array.isArray(block.options) && block.options.length) {
      const options = block.options.map((o) => el("option", { value: o.value, text: o.label }));
      if (!block.options.some((o) => String(o.value) === String(block.value ?? ""))) {
        options.unshift(el("option", { value: block.value || "", text: block.value || "—" }));
      }
      field = el("select", common, options);
    } else {
      field = el(block.multiline ? "textarea" : "input", {
        ...common,
        type: block.multiline ? undefined : block.kind === "number" ? "number" : "text",
        inputmode: block.kind === "number" ? "numeric" : undefined,
        step: block.kind === "number" ? "1" : undefined,
        rows: block.multiline ? 3 : undefined,
        placeholder: block.placeholder || undefined,
        maxlength: block.kind === "number" ? undefined : block.max_length || undefined,
      });
    }
    field.value = block.value || "";
    const error = block.error
      ? el("span", { class: "input-error", id: errorId, role: "alert", testid: `error-${block.input_id}`, text: block.error })
      : null;
    return el("label", { class: "block input" }, [el("span", { class: "input-label", text: block.label }), field, error]);
  },

  fields(block) {
    const rows = (block.fields || []).map((field) =>
      el("div", { class: "field" }, [el("dt", { text: field.label }), el("dd", {}, rich(field.value))]),
    );
    return el("dl", { class: "block fields" }, rows);
  },

  context(block) {
    return el(
      "div",
      { class: "block context" },
      (block.lines || []).map((line) => el("p", {}, block.literal ? String(line) : rich(line))),
    );
  },

  divider() {
    return el("hr", { class: "block divider" });
  },

  image(block) {
    const src = safeImageUrl(block.url);
    if (!src) return el("p", { class: "block text text-muted", text: `[image: ${block.alt || "unavailable"}]` });
    return el("img", { class: "block image", src, alt: block.alt || "", loading: "lazy" });
  },
};

function renderBlocks(message) {
  const blocks = Array.isArray(message.blocks) ? message.blocks : [];
  if (blocks.length === 0) return [el("p", { class: "block text text-plain" }, rich(message.text))];
  return blocks.map((block) => {
    const render = BLOCKS[block?.type];
    return render
      ? render(block)
      : el("p", { class: "block text text-muted", text: `[unsupported block: ${block?.type}]` });
  });
}

// ---------------------------------------------------------------- messages

function renderMessage(row) {
  const fromBot = row.sender !== "user";
  const persona = currentPersona();
  const author = fromBot ? "pulsecoach" : persona?.name || "You";
  const meta = el("div", { class: "meta" }, [
    el("span", { class: "author", text: author }),
    el("time", { datetime: row.created_at, text: clock(row.created_at) }),
    row.version > 1 ? el("span", { class: "edited", text: "(edited)", title: `version ${row.version}` }) : null,
  ]);
  const avatar = el("div", { class: fromBot ? "avatar avatar-bot" : "avatar", "aria-hidden": "true", text: fromBot ? "pc" : initials(author) });
  const bubble = el("div", { class: "bubble" }, renderBlocks(row.message || {}));
  return el(
    "article",
    {
      class: fromBot ? "msg msg-bot" : "msg msg-user",
      testid: `message-${row.id}`,
      data: { id: String(row.id), ref: row.ref, version: String(row.version) },
    },
    [avatar, el("div", { class: "msg-body" }, [meta, bubble])],
  );
}

function isNearBottom() {
  const box = ui.messages;
  return box.scrollHeight - box.scrollTop - box.clientHeight < NEAR_BOTTOM_PX;
}

function scrollToBottom() {
  ui.messages.scrollTop = ui.messages.scrollHeight;
  ui.jump.hidden = true;
}

function insertInOrder(node, id) {
  for (const child of ui.messages.querySelectorAll("article.msg")) {
    if (Number(child.dataset.id) > id) {
      ui.messages.insertBefore(node, child);
      return;
    }
  }
  ui.messages.append(node);
}

/** Add new messages and re-render changed ones; `complete` means rows is the whole chat. */
function apply(rows, { complete = false, follow = false } = {}) {
  const stick = follow || isNearBottom();
  let added = false;
  const seen = new Set();
  for (const row of rows) {
    seen.add(row.id);
    const known = state.rendered.get(row.id);
    if (known && known.version === row.version) continue;
    if (known && known.version > row.version) continue; // an older snapshot raced a newer one
    const node = renderMessage(row);
    if (known) {
      known.el.replaceWith(node);
    } else {
      insertInOrder(node, row.id);
      added = true;
    }
    state.rendered.set(row.id, { version: row.version, el: node });
  }
  if (complete) {
    for (const [id, known] of state.rendered) {
      if (!seen.has(id)) {
        known.el.remove();
        state.rendered.delete(id);
      }
    }
  }
  showEmpty(state.rendered.size === 0 ? "chat" : null);
  if (added) {
    if (stick) scrollToBottom();
    else ui.jump.hidden = false;
  }
}

function clearMessages() {
  for (const { el: node } of state.rendered.values()) node.remove();
  state.rendered.clear();
  ui.jump.hidden = true;
}

function showEmpty(kind, detail) {
  if (!kind) {
    ui.empty.hidden = true;
    return;
  }
  const copy = {
    none: ["No persona selected", "Choose someone on the left to see their direct messages with pulsecoach."],
    chat: ["No messages yet", "Say hello — type help below to get started."],
    error: ["Can't open this chat", detail || ""],
  }[kind];
  ui.empty.replaceChildren(el("p", { class: "empty-title", text: copy[0] }), el("p", {}, rich(copy[1])));
  ui.empty.hidden = false;
}

// ---------------------------------------------------------------- polling

async function refresh() {
  const { handle, generation } = state;
  if (!handle) return;
  const data = await api("GET", `${personPath(handle)}/messages`);
  if (generation !== state.generation) return;
  apply(data.messages || [], { complete: true });
}

async function poll() {
  clearTimeout(state.timer);
  const generation = state.generation;
  try {
    await refresh();
    setStatus(true);
  } catch (error) {
    if (generation !== state.generation) return;
    if (error.status === 404) {
      clearMessages();
      showEmpty("error", error.message);
      setStatus(true);
      return; // this persona is gone: stop polling it
    }
    setStatus(false);
  }
  if (generation === state.generation && state.handle) {
    state.timer = setTimeout(poll, POLL_MS);
  }
}

// ---------------------------------------------------------------- personas

function currentPersona() {
  return state.personas.find((p) => p.handle === state.handle) || null;
}

function renderPersonas() {
  if (state.personas.length === 0) {
    ui.personas.replaceChildren(
      el("li", { class: "sidebar-note" }, rich("No personas yet. Run `pulsecoach demo` to load the demo organisation.")),
    );
    return;
  }
  ui.personas.replaceChildren(
    ...state.personas.map((persona) => {
      const roles = (persona.roles || []).map((role) => el("span", { class: `role role-${role}`, text: role }));
      const teams = (persona.teams || []).join(", ");
      const active = persona.handle === state.handle;
      return el("li", {}, [
        el(
          "button",
          {
            type: "button",
            class: active ? "persona active" : "persona",
            testid: `persona-${persona.handle}`,
            data: { handle: persona.handle },
            "aria-pressed": active ? "true" : "false",
          },
          [
            el("span", { class: "avatar avatar-small", "aria-hidden": "true", text: initials(persona.name) }),
            el("span", { class: "persona-text" }, [
              el("span", { class: "persona-name", text: persona.name }),
              el("span", { class: "persona-handle", text: `@${persona.handle}` }),
              roles.length ? el("span", { class: "roles" }, roles) : null,
              teams ? el("span", { class: "persona-teams", text: teams }) : null,
            ]),
          ],
        ),
      ]);
    }),
  );
}

function showActivePersona() {
  // On a phone the personas are a strip: keep the one chatting in view.
  ui.personas.querySelector(".persona.active")?.scrollIntoView({ block: "nearest", inline: "nearest" });
}

function renderHeader() {
  const persona = currentPersona();
  if (!persona) {
    ui.who.replaceChildren("Pick a persona to start.");
    return;
  }
  const roles = (persona.roles || []).join(", ");
  ui.who.replaceChildren(
    "Direct messages as ",
    el("strong", { text: persona.name }),
    roles ? ` · ${roles}` : "",
  );
}

function selectFromHash() {
  const wanted = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  const persona = state.personas.find((p) => p.handle === wanted) || null;
  if (wanted && !persona && state.personas.length) toast(`No persona called "${wanted}".`);
  setPersona(persona ? persona.handle : null);
}

function setPersona(handle) {
  if (handle === state.handle) return;
  state.handle = handle;
  state.generation += 1;
  clearTimeout(state.timer);
  clearMessages();
  renderPersonas();
  showActivePersona();
  renderHeader();
  ui.composer.disabled = !handle;
  ui.composer.placeholder = handle ? `Message pulsecoach as ${currentPersona()?.name || handle}…` : "Pick a persona to start chatting";
  updateSend();
  if (!handle) {
    showEmpty("none");
    return;
  }
  ui.empty.hidden = true;
  poll().then(() => scrollToBottom());
  ui.composer.focus();
}

// ---------------------------------------------------------------- actions

function collectInputs(article) {
  const inputs = {};
  for (const field of article.querySelectorAll("[data-input-id]")) inputs[field.dataset.inputId] = field.value;
  return inputs;
}

async function click(button) {
  const article = button.closest("article.msg");
  const { handle, generation } = state;
  if (!article || !handle) return;
  const controls = article.querySelectorAll("button");
  controls.forEach((b) => (b.disabled = true));
  article.setAttribute("aria-busy", "true");
  try {
    const data = await api("POST", `${personPath(handle)}/actions`, {
      message_id: Number(article.dataset.id),
      action_id: button.dataset.actionId,
      value: button.dataset.value ?? "",
      inputs: collectInputs(article),
    });
    if (generation === state.generation) apply(data.messages || [], { follow: true });
    if (data.form && generation === state.generation) openPrivateForm(data.form, Number(article.dataset.id));
  } catch (error) {
    if (saidInChat(error)) {
      if (generation === state.generation) apply(error.data.messages, { follow: true });
    } else {
      toast(error.message);
    }
  } finally {
    // If the message was re-rendered these nodes are detached and this is harmless.
    controls.forEach((b) => (b.disabled = false));
    article.removeAttribute("aria-busy");
  }
}

// A private form (a pulse's answers): a dialog, submitted with the message that opened it.
function openPrivateForm(form, messageId) {
  const { handle, generation } = state;
  openForm(form, async (inputs) => {
    const data = await api("POST", `${personPath(handle)}/actions`, {
      message_id: messageId,
      action_id: form.action_id,
      value: form.value,
      inputs,
    });
    if (generation === state.generation) apply(data.messages || [], { follow: true });
  });
}

function updateSend() {
  ui.send.disabled = !state.handle || ui.composer.value.trim() === "";
}

function autosize() {
  ui.composer.style.height = "auto";
  ui.composer.style.height = `${Math.min(ui.composer.scrollHeight, 160)}px`;
}

async function send() {
  const text = ui.composer.value.trim();
  const { handle, generation } = state;
  if (!text || !handle) return;
  ui.send.disabled = true;
  let answered = true;
  try {
    await api("POST", `${personPath(handle)}/messages`, { text });
  } catch (error) {
    answered = saidInChat(error); // a refusal is an answer too, said in the chat
    if (!answered) toast(error.message);
  }
  try {
    if (answered) {
      ui.composer.value = "";
      autosize();
      // The reply only carries the bot's messages; a refresh brings our own line too.
      if (generation === state.generation) {
        await refresh();
        scrollToBottom();
      }
    }
  } catch (error) {
    toast(error.message);
  } finally {
    updateSend();
  }
}

// ---------------------------------------------------------------- wiring

ui.personas.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-handle]");
  if (!button) return;
  const handle = button.dataset.handle;
  if (window.location.hash === `#${encodeURIComponent(handle)}`) setPersona(handle);
  else window.location.hash = encodeURIComponent(handle);
});

ui.messages.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action-id]");
  if (button && !button.disabled) click(button);
});

ui.messages.addEventListener("scroll", () => {
  if (isNearBottom()) ui.jump.hidden = true;
});

ui.jump.addEventListener("click", scrollToBottom);

ui.form.addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});

ui.composer.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});

ui.composer.addEventListener("input", () => {
  updateSend();
  autosize();
});

ui.toast.addEventListener("click", () => {
  ui.toast.hidden = true;
});

window.addEventListener("hashchange", selectFromHash);

async function start() {
  try {
    const data = await api("GET", "/api/local/personas");
    state.personas = data.personas || [];
    setStatus(true);
  } catch (error) {
    setStatus(false);
    toast(`Couldn't load personas: ${error.message}`);
    setTimeout(start, POLL_MS * 2);
    return;
  }
  renderPersonas();
  selectFromHash();
}

start();
