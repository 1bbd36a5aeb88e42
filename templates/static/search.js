// Search over the static index digest writes into search/ (digest/render/search.py):
// a query fetches the shard of each of its terms, keeps the articles that have every
// term, ranks them, and fetches the cards of the best few for their excerpt.
// Terms are split as the indexer splits them: words, and pairs of CJK characters.
(function () {
  "use strict";
  var form = document.querySelector("form.search");
  if (!form || !window.fetch) return;
  var base = form.getAttribute("data-index");
  var root = form.getAttribute("data-root");
  // The index's two tiers (digest/render/search.py `tiers`): t holds the older articles,
  // r, when there is one, the latest; a term's list is in one shard of each.
  var tiers = [["t", parseInt(form.getAttribute("data-shards"), 10)]];
  var recent = parseInt(form.getAttribute("data-recent"), 10);
  if (recent) tiers.push(["r", recent]);
  var total = parseInt(form.getAttribute("data-count"), 10) || 1;
  var status = document.getElementById("status");
  var results = document.getElementById("results");
  var field = document.getElementById("q");
  var SHOWN = 10;
  var STOP = new Set(("a an and are as at be but by for from has have in is it its of on or " +
    "that the this to was were will with и в во на не что с со к по из за от").split(" "));
  var CJK = /([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)/;
  var shards = new Map();
  var cards = new Map();
  var asked = 0;

  function words(text) {
    var found = [];
    var runs = text.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+/gu) || [];
    runs.forEach(function (word) {
      word.split(CJK).forEach(function (part, n) {
        if (!part) return;
        if (n % 2) {
          if (part.length === 1) found.push(part);
          for (var i = 0; i + 1 < part.length; i++) found.push(part.slice(i, i + 2));
        } else if (!STOP.has(part) && part.length <= 40) {
          found.push(part);
        }
      });
    });
    return found;
  }

  var CRC = (function () {
    var table = new Uint32Array(256);
    for (var n = 0; n < 256; n++) {
      var c = n;
      for (var k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  // CRC-32 of the term's UTF-8, as the indexer computes it (zlib.crc32).
  function crc32(term) {
    var bytes = new TextEncoder().encode(term);
    var c = 0xffffffff;
    for (var i = 0; i < bytes.length; i++) c = CRC[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  function load(map, url) {
    if (!map.has(url)) {
      map.set(url, fetch(url).then(function (r) {
        if (!r.ok) throw new Error(url + ": " + r.status);
        return r.json();
      }).catch(function (error) { map.delete(url); throw error; }));
    }
    return map.get(url);
  }

  // The articles that have a term, from its shard in each tier (an article is in one).
  function postings(term) {
    var hash = crc32(term);
    return Promise.all(tiers.map(function (tier) {
      return load(shards, base + tier[0] + "/" + (hash % tier[1]) + ".json");
    })).then(function (tables) {
      var found = new Map();
      tables.forEach(function (table) {
        if (!Object.prototype.hasOwnProperty.call(table, term)) return;
        var lists = table[term];
        for (var i = 0; i < lists[0].length; i++) found.set(lists[0][i], [lists[1][i], lists[2][i]]);
      });
      return found;
    });
  }

  // A day as the index counts them: days since 1 January 1970.
  function day(value) {
    if (!value) return 0;
    var parts = value.split("-");
    return Date.UTC(+parts[0], +parts[1] - 1, +parts[2]) / 86400000;
  }

  function run() {
    var query = field.value;
    var terms = Array.from(new Set(words(query)));
    var filters = [];
    var topic = form.elements.topic.value;
    var source = form.elements.source.value;
    if (topic) filters.push("topic:" + topic);
    if (source) filters.push("source:" + source);
    var from = day(form.elements.from.value);
    var to = day(form.elements.to.value);
    var mine = ++asked;
    if (!terms.length && !filters.length) {
      status.textContent = query.trim() ? "Type a longer word." : "";
      results.replaceChildren();
      return;
    }
    var wanted = terms.concat(filters);
    Promise.all(wanted.map(postings)).then(function (lists) {
      if (mine !== asked) return;
      var ranked = [];
      lists.sort(function (a, b) { return a.size - b.size; });
      lists[0].forEach(function (entry, card) {
        var date = entry[1];
        if ((from && date < from) || (to && date > to)) return;
        var score = 0;
        for (var k = 0; k < lists.length; k++) {
          var hit = lists[k].get(card);
          if (!hit) return;
          score += hit[0] * Math.log(1 + total / lists[k].size);
        }
        ranked.push([card, score, date]);
      });
      ranked.sort(function (a, b) { return b[1] - a[1] || b[2] - a[2] || (a[0] < b[0] ? -1 : 1); });
      return show(ranked, terms, mine);
    }).catch(function () {
      if (mine === asked) status.textContent = "The search index could not be read.";
    });
  }

  // Each result shows as soon as its card and those of the better ones have come: the
  // first results need not wait for the slowest of ten requests. The count shows with
  // the last, so that it always describes the list on screen.
  function show(ranked, terms, mine) {
    var best = ranked.slice(0, SHOWN);
    var items = [];
    var shown = 0;
    var n = ranked.length;
    if (!n) results.replaceChildren();
    return Promise.all(best.map(function (r, i) {
      return load(cards, base + "d/" + r[0] + ".json").then(function (card) {
        if (mine !== asked) return;
        items[i] = item(card, terms);
        var ready = [];
        while (shown < best.length && items[shown]) ready.push(items[shown++]);
        if (!ready.length) return;
        if (shown === ready.length) results.replaceChildren.apply(results, ready);
        else results.append.apply(results, ready);
      });
    })).then(function () {
      if (mine !== asked) return;
      status.textContent = n === 0 ? "No article matches." :
        n + (n === 1 ? " article matches" : " articles match") +
        (n > SHOWN ? "; the best " + SHOWN + " are shown." : ".");
    });
  }

  function element(name, className, text) {
    var node = document.createElement(name);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // The text around the first term found, with every term marked: built from text
  // nodes, so nothing in an article can become markup.
  function excerpt(card, terms) {
    var text = card.text || card.summary || "";
    var lower = text.toLowerCase();
    var at = -1;
    terms.forEach(function (t) {
      var i = lower.indexOf(t);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    });
    var start = Math.max(0, at - 80);
    var piece = (start > 0 ? "…" : "") + text.slice(start, start + 240) +
      (start + 240 < text.length ? "…" : "");
    var node = element("p", "summary");
    if (card.lang) node.lang = card.lang;
    var pieceLower = piece.toLowerCase();
    var pos = 0;
    while (pos < piece.length) {
      var next = -1, length = 0;
      terms.forEach(function (t) {
        var i = pieceLower.indexOf(t, pos);
        if (i >= 0 && (next < 0 || i < next)) { next = i; length = t.length; }
      });
      if (next < 0) { node.append(piece.slice(pos)); break; }
      node.append(piece.slice(pos, next), element("mark", "", piece.slice(next, next + length)));
      pos = next + length;
    }
    return node;
  }

  function item(card, terms) {
    var li = element("li", "item");
    var heading = element("h2");
    if (card.lang) heading.lang = card.lang;
    var link = element("a", "", card.title);
    link.href = root + card.url;
    heading.append(link);
    var meta = element("p", "meta");
    var time = element("time", "", card.date);
    time.dateTime = card.date;
    meta.append(time);
    if (card.source) meta.append(element("span", "source", card.source));
    li.append(heading, meta, excerpt(card, terms));
    return li;
  }

  // Every keystroke searches: a query's shards are fetched once, and an answer that
  // comes after a newer query's is dropped (see asked).
  function update() {
    var params = new URLSearchParams();
    ["q", "topic", "source", "from", "to"].forEach(function (name) {
      var value = form.elements[name].value;
      if (value) params.set(name, value);
    });
    var search = params.toString();
    history.replaceState(null, "", search ? "?" + search : location.pathname);
    run();
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
  var params = new URLSearchParams(location.search);
  ["q", "topic", "source", "from", "to"].forEach(function (name) {
    if (params.has(name)) form.elements[name].value = params.get(name);
  });
  if (params.toString()) run();
})();
