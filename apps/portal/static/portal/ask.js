"use strict";

(function () {
  const form = document.getElementById("ask-form");
  const button = document.getElementById("ask-button");
  const stage = document.getElementById("stage");
  const answer = document.getElementById("answer");
  const problem = document.getElementById("problem");
  const abstention = document.getElementById("abstention");
  const conflict = document.getElementById("conflict");
  const sourcesPart = document.getElementById("sources-part");
  const sources = document.getElementById("sources");
  const STAGES = { retrieving: "Searching…", generating: "Writing…" };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function documentUrl(documentId, start, end) {
    const url = new URL(form.dataset.documentUrl.replace("/0/", "/" + documentId + "/"), location.href);
    url.searchParams.set("start", start);
    url.searchParams.set("end", end);
    url.hash = "cited";
    return url.toString();
  }

  function documentLink(text, documentId, start, end, label) {
    const link = element("a", "", text);
    link.href = documentUrl(documentId, start, end);
    link.target = "_blank";
    link.rel = "noopener";
    if (label) link.setAttribute("aria-label", label);
    return link;
  }

  function sourceItem(source) {
    const item = element("li");
    item.value = source.number;
    item.append(documentLink(source.label, source.document.id, source.char_start, source.char_end));
    item.append(" ", element("span", "corpus-name", "(" + source.corpus + ")"));
    item.append(element("blockquote", "excerpt", source.excerpt));
    return item;
  }

  function reset() {
    stage.textContent = "";
    answer.replaceChildren();
    sources.replaceChildren();
    sourcesPart.hidden = true;
    problem.hidden = true;
    problem.textContent = "";
    abstention.hidden = true;
    conflict.hidden = true;
    for (const id of ["abstain-reason", "dropped", "looked-at", "conflict-sides", "conflict-current"]) {
      document.getElementById(id).replaceChildren();
    }
  }

  function showProblem(message) {
    stage.textContent = "";
    problem.textContent = message;
    problem.hidden = false;
  }

  const cited = new Set();

  function showStatement(statement) {
    const paragraph = element("p", "statement", statement.text);
    for (const citation of statement.citations) {
      paragraph.append(" ");
      const label = "Source " + citation.number + ": " + citation.label;
      const marker = documentLink(
        "[" + citation.number + "]", citation.document.id,
        citation.char_start, citation.char_end, label,
      );
      marker.className = "citation";
      paragraph.append(marker);
      if (!cited.has(citation.number)) {
        cited.add(citation.number);
        sources.append(sourceItem(citation));
        sourcesPart.hidden = false;
      }
    }
    answer.append(paragraph);
  }

  function showAbstention(done) {
    document.getElementById("abstain-reason").textContent = done.abstain ? done.abstain.reason : "";
    const dropped = document.getElementById("dropped");
    for (const statement of done.dropped) {
      const cites = statement.citations.length ? " (cited [" + statement.citations.join("], [") + "])" : "";
      dropped.append(element("li", "", statement.explanation + cites));
    }
    document.getElementById("dropped-part").hidden = done.dropped.length === 0;
    const lookedAt = document.getElementById("looked-at");
    for (const source of done.sources) lookedAt.append(sourceItem(source));
    document.getElementById("looked-at-part").hidden = done.sources.length === 0;
    abstention.hidden = false;
  }

  function showConflict(done) {
    const sides = document.getElementById("conflict-sides");
    for (const side of done.conflict.sides) {
      const item = element("li", "", side.values.join(", ") + ": ");
      const doc = side.document;
      const dated = doc.date ? ", dated " + doc.date : ", undated";
      item.append(element("q", "", side.statement), " ");
      item.append(element("span", "conflict-source",
        "[" + side.source + "] " + side.label + " (version " + doc.version + dated + ")"));
      sides.append(item);
    }
    const current = done.conflict.sides.find((side) => side.source === done.conflict.current);
    document.getElementById("conflict-current").textContent = current
      ? "The most recently dated source is [" + current.source + "] " + current.label + "."
      : "The corpus does not say which of them is current.";
    conflict.hidden = false;
  }

  function finish(done) {
    stage.textContent = "";
    if (done.status === "conflicting") showConflict(done);
    else if (done.status === "abstained") showAbstention(done);
    else if (done.status === "failed") {
      showProblem(done.error || (done.abstain && done.abstain.reason) || "The answer failed.");
    } else stage.textContent = "Answered.";
  }

  function handle(name, data) {
    if (name === "stage") stage.textContent = STAGES[data.stage] || data.stage;
    else if (name === "statement") showStatement(data);
    else if (name === "done") finish(data);
    else if (name === "error") showProblem(data.message);
  }

  function parseBlock(block) {
    let name = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    return data.length ? [name, JSON.parse(data.join("\n"))] : null;
  }

  async function readEvents(body) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
      const blocks = buffer.replace(/\r\n/g, "\n").split("\n\n");
      buffer = done ? "" : blocks.pop();
      for (const block of blocks) {
        const event = parseBlock(block);
        if (event) handle(...event);
      }
      if (done) return;
    }
  }

  function errorMessage(status, body) {
    if (body && typeof body === "object") {
      if (body.detail) return String(body.detail);
      const fields = Object.entries(body).map(
        ([field, messages]) => field + ": " + [].concat(messages).join(" "),
      );
      if (fields.length) return fields.join("; ");
    }
    return "The request failed (HTTP " + status + ").";
  }

  async function ask(question, corpora) {
    const response = await fetch(form.dataset.answersUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
      },
      body: JSON.stringify({ question: question, corpora: corpora, stream: true }),
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      showProblem(errorMessage(response.status, body));
      return;
    }
    await readEvents(response.body);
  }

  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    reset();
    cited.clear();
    const question = form.elements.question.value.trim();
    const corpora = Array.from(form.querySelectorAll("input[name=corpora]:checked"), (box) => box.value);
    if (!question) return showProblem("Write a question first.");
    if (!corpora.length) return showProblem("Choose at least one corpus.");
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      await ask(question, corpora);
    } catch (failure) {
      showProblem("The answer could not be read: " + failure.message);
    } finally {
      button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
})();
