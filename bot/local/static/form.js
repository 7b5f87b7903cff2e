// The private form (a neutral `Form`, see bot/core/messages.py) as a dialog: a pulse's
// answers are chosen here, never in a chat message, and the form itself is never
// stored in the chat history. Questions are one compact row of choices each; the
// comment box counts characters against its limit and never cuts text silently.

const STYLE = "/static/form.css";

function ensureStyle() {
  if (document.querySelector(`link[href="${STYLE}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = STYLE;
  document.head.append(link);
}

function node(tag, props = {}, children = []) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") element.textContent = value;
    else if (key === "class") element.className = value;
    else if (key === "testid") element.dataset.testid = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child) element.append(child);
  return element;
}

let counter = 0;

function question(block, anchorsSaid) {
  const name = `q-${++counter}`;
  const choices = (block.choices || []).map((choice) => {
    const id = `${name}-${choice.value}`;
    const input = node("input", {
      type: "radio",
      name,
      id,
      value: choice.value,
      "data-input-id": block.input_id,
      testid: `choice-${block.input_id}-${choice.value}`,
    });
    input.checked = block.selected !== null && block.selected !== undefined
      && String(block.selected) === String(choice.value);
    return node("span", { class: "pf-choice" }, [input, node("label", { for: id, text: choice.label })]);
  });
  // The scale's ends, said once above the first question while they stay the same.
  const ends = `${block.low_label || ""}|${block.high_label || ""}`;
  const anchors = (block.low_label || block.high_label) && !anchorsSaid.has(ends)
    ? node("div", { class: "pf-anchors" }, [
      node("span", { text: block.low_label || "" }),
      node("span", { text: block.high_label || "" }),
    ])
    : null;
  anchorsSaid.add(ends);
  return node("div", { class: "pf-question", role: "radiogroup", "aria-labelledby": `${name}-p`, testid: `question-${block.input_id}` }, [
    anchors,
    node("p", { class: "pf-prompt", id: `${name}-p`, text: block.prompt }),
    node("div", { class: "pf-scale" }, choices),
  ]);
}

function textInput(block, onChange) {
  const max = block.max_length || 1000;
  const field = node(block.multiline ? "textarea" : "input", {
    class: "pf-text",
    rows: block.multiline ? 3 : undefined,
    placeholder: block.placeholder || undefined,
    "data-input-id": block.input_id,
    "aria-describedby": `count-${block.input_id}`,
    testid: `form-input-${block.input_id}`,
  });
  field.value = block.value || "";
  const count = node("span", {
    class: "pf-count",
    id: `count-${block.input_id}`,
    "aria-live": "polite",
    testid: `count-${block.input_id}`,
  });
  const saved = block.value || "";
  const update = () => {
    const length = field.value.trim().length;
    const over = length - max;
    count.textContent = over > 0
      ? `${length} / ${max} — ${over} over the limit: shorten it to save`
      : `${length} / ${max}${saved && field.value.trim() === saved.trim() ? " · saved" : ""}`;
    count.dataset.over = over > 0 ? "yes" : "no";
    onChange(over > 0);
  };
  field.addEventListener("input", update);
  update();
  return node("label", { class: "pf-input" }, [node("span", { class: "pf-label", text: block.label }), field, count]);
}

function render(block, onChange, anchorsSaid) {
  if (block.type === "question") return question(block, anchorsSaid);
  if (block.type === "input") return textInput(block, onChange);
  if (block.type === "text") {
    return node(block.style === "heading" ? "h3" : "p", { class: `pf-text-${block.style || "plain"}`, text: block.text });
  }
  if (block.type === "context") {
    return node("div", { class: "pf-context" }, (block.lines || []).map((line) => node("p", { text: line })));
  }
  return null;
}

function collect(dialog) {
  const inputs = {};
  for (const field of dialog.querySelectorAll("[data-input-id]")) {
    const id = field.dataset.inputId;
    if (field.type === "radio") {
      if (field.checked) inputs[id] = field.value;
    } else {
      inputs[id] = field.value;
    }
  }
  return inputs;
}

// Opens `form`; `submit(inputs)` stores it (rejecting with a reason keeps the dialog
// open with everything typed, the reason shown in it).
export function openForm(form, submit) {
  ensureStyle();
  document.querySelector("dialog.pf")?.remove();
  const overLimit = new Set();
  const error = node("p", { class: "pf-error", role: "alert", testid: "form-error", hidden: true });
  const save = node("button", { type: "submit", class: "btn btn-primary", testid: "form-submit", text: form.submit_label });
  const cancel = node("button", { type: "button", class: "btn btn-default", testid: "form-cancel", text: "Cancel" });
  const anchorsSaid = new Set();
  const body = node("div", { class: "pf-body" }, (form.blocks || []).map((block) =>
    render(block, (over) => {
      if (over) overLimit.add(block.input_id);
      else overLimit.delete(block.input_id);
      save.disabled = overLimit.size > 0;
    }, anchorsSaid)));
  const formNode = node("form", { method: "dialog", class: "pf-form" }, [
    node("header", { class: "pf-head" }, [node("h2", { text: form.title })]),
    body,
    error,
    node("footer", { class: "pf-foot" }, [cancel, save]),
  ]);
  const dialog = node("dialog", { class: "pf", testid: "private-form", "aria-label": form.title }, [formNode]);
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  formNode.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (overLimit.size) return;
    save.disabled = true;
    error.hidden = true;
    try {
      await submit(collect(dialog));
      dialog.close();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      save.disabled = overLimit.size > 0;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}
