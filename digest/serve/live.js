// digest serve: reload this page when the site is rebuilt, and show build problems over it.
// Added to pages by `digest serve` only; `digest build` never writes it.
(() => {
  "use strict";
  const script = document.currentScript;
  let epoch = Number(script.dataset.epoch);
  let host = null;

  function overlay(problems) {
    if (!problems.length) {
      if (host) host.remove();
      host = null;
      return;
    }
    if (!host) {
      host = document.createElement("digest-overlay");
      host.attachShadow({ mode: "open" });
    }
    const root = host.shadowRoot;
    root.replaceChildren();
    // A constructed stylesheet: the page's Content-Security-Policy allows no <style> element.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(`
      .panel { position: fixed; inset: 0; z-index: 2147483647; overflow: auto;
        background: #1d1f21; color: #f4f4f4; padding: 2rem; box-sizing: border-box;
        font: 15px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
      h2 { margin: 0 0 1rem; font-size: 1.1rem; color: #ff8a80; }
      li { margin: 0 0 1rem; list-style: none; }
      .where { color: #ffd54f; font-weight: bold; }
      .hint { color: #b0bec5; }
      ul { padding: 0; margin: 0; }`);
    root.adoptedStyleSheets = [sheet];
    const panel = document.createElement("div");
    panel.className = "panel";
    panel.setAttribute("role", "alert");
    const title = document.createElement("h2");
    title.textContent = "digest: fix this and save — the page comes back by itself";
    const list = document.createElement("ul");
    for (const problem of problems) {
      const item = document.createElement("li");
      const where = document.createElement("div");
      where.className = "where";
      where.textContent = problem.where;
      const message = document.createElement("div");
      message.className = "message";
      message.textContent = problem.message;
      item.append(where, message);
      if (problem.hint) {
        const hint = document.createElement("div");
        hint.className = "hint";
        hint.textContent = problem.hint;
        item.append(hint);
      }
      list.append(item);
    }
    panel.append(title, list);
    root.append(panel);
    if (!host.isConnected) document.documentElement.append(host);
  }

  function swapStylesheets(version) {
    for (const link of document.querySelectorAll('link[rel~="stylesheet"]')) {
      const url = new URL(link.href);
      if (url.origin !== location.origin) continue;
      url.searchParams.set("digest-epoch", String(version));
      link.href = url.href;
    }
  }

  const events = new EventSource("/.digest/events");
  events.onmessage = (message) => {
    const state = JSON.parse(message.data);
    overlay(state.problems);
    if (state.reload > epoch) {
      events.close();
      location.reload();
      return;
    }
    if (state.epoch > epoch) {
      swapStylesheets(state.epoch);
      epoch = state.epoch;
    }
  };
})();
