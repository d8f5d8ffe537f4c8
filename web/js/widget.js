// The live view's page: in Element it asks for an OpenID token through the widget API
// (matrix-widget-api, Element's own library) and trades it with the bot for a token of the
// bot's own; from a !vy link it has that token already. Then it listens to the bot's event
// stream and draws each view it gets. It never polls; the words come from the bot.
import { WidgetApi } from "matrix-widget-api";

const query = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function notice(text, level) {
  const box = $("notice");
  box.textContent = text;
  box.className = "notice " + (level || "");
  box.hidden = !text;
}

async function tokenFromElement() {
  const widgetId = query.get("widgetId");
  const parentUrl = query.get("parentUrl");
  if (!widgetId || !parentUrl) {
    throw new Error("Vyn öppnas i Element, i sammanträdesrummet, eller från länken som !vy skickar.");
  }
  const api = new WidgetApi(widgetId, new URL(parentUrl).origin);
  const ready = new Promise((resolve) => api.once("ready", resolve));
  api.start();
  await ready;
  const credentials = await api.requestOpenIDConnectToken();
  const resp = await fetch("api/openid", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      organ: query.get("organ"),
      access_token: credentials.access_token,
      matrix_server_name: credentials.matrix_server_name,
    }),
  });
  const answer = await resp.json();
  if (!resp.ok) throw new Error(answer.fel || "Vyn kunde inte visas.");
  return answer.token;
}

let countdown = null;

function listen(token) {
  const url = "api/stream?t=" + encodeURIComponent(token);
  const stream = new EventSource(url);
  stream.addEventListener("vem", (e) => ($("viewer").textContent = "Inloggad: " + JSON.parse(e.data)));
  stream.onmessage = (e) => {
    notice("");
    draw(JSON.parse(e.data));
  };
  stream.addEventListener("slut", (e) => {
    stream.close();
    notice(JSON.parse(e.data), "bad");
  });
  stream.onerror = async () => {
    if (stream.readyState !== EventSource.CLOSED) {
      notice("Förbindelsen med boten bröts – ansluter igen …", "warn");
      return;
    }
    // Refused (the browser does not retry then): ask once what the bot said.
    const resp = await fetch(url);
    const answer = await resp.json().catch(() => ({}));
    notice(answer.fel || "Vyn kunde inte visas.", "bad");
  };
}

function section(title, ...children) {
  return el("section", {}, el("h2", {}, title), ...children);
}

function list(items, cls) {
  return el("ul", { class: cls || "" }, ...items.map((t) => el("li", {}, t)));
}

function draw(v) {
  const root = $("view");
  root.replaceChildren();
  root.dataset.version = v.version ?? "";
  document.title = v.body + " – sammanträdet";
  root.append(
    el("header", {}, el("h1", {}, v.body + (v.when ? " " + v.when : "")),
      el("p", { id: "phase", class: "phase " + v.phase }, v.phase_text)),
  );
  if (v.item) {
    const klass = v.item.klass ? el("span", { class: "klass" }, "[" + v.item.klass + "]") : null;
    root.append(section("Uppe nu",
      el("p", { id: "item", class: "item" }, [v.item.paragraph, v.item.title].filter(Boolean).join(" "), " ", klass ?? ""),
      v.item.permission ? el("p", { class: "permission" }, v.item.permission) : null,
      v.item.decision ? el("p", { id: "decision", class: "ok" }, v.item.decision) : null));
  }
  if (v.quorum) {
    root.append(section("Beslutförhet",
      el("p", { id: "quorum", class: v.quorum.ok ? "ok" : "bad" }, v.quorum.text),
      el("p", { id: "presiding" }, "Ordförande: " + v.presiding)));
  }
  if (v.blockers) {
    root.append(section(v.decidable ? "Beslut kan fattas" : "Hindrar beslut",
      v.decidable ? el("p", { id: "blockers", class: "ok" }, "Inget hindrar beslut nu.")
        : list(v.blockers, "blockers bad")));
  }
  if (v.check) root.append(drawCheck(v.check));
  if (v.vote) root.append(drawVote(v.vote));
  if (v.floor && (v.floor.speaking || v.floor.reply_waiting || v.floor.closed)) {
    const f = v.floor;
    root.append(section("Ordet", el("div", { id: "floor" },
      f.speaking ? el("p", {}, el("strong", {}, "Har ordet: "), f.speaking + (f.reply ? " (replik)" : "")) : "",
      f.reply_waiting ? el("p", {}, "Begär replik: " + f.reply_waiting) : "",
      f.closed ? el("p", {}, el("strong", {}, "Streck i debatten:"), " inga nya på talarlistan (§ 9)") : "")));
  }
  if (v.speakers && v.speakers.length) root.append(section("Talarlista", el("ol", { id: "speakers" }, ...v.speakers.map((s) => el("li", {}, s)))));
  if (v.people) root.append(drawPeople(v.people));
  if (v.forhinder && v.forhinder.length) root.append(section("Förhinder", list(v.forhinder)));
  if (v.draft) root.append(drawDraft(v.draft));
  if (v.justering) {
    root.append(section("Justering",
      el("p", {}, "Har justerat:"), list(v.justering.signed.length ? v.justering.signed : ["ingen än"], "signed"),
      el("p", {}, "Ska justera:"), list(v.justering.to_sign.length ? v.justering.to_sign : ["ingen"], "to-sign")));
  }
  if (v.agenda) {
    root.append(section("Föredragningslista", el("ul", { id: "agenda", class: "agenda" }, ...v.agenda.map((i) =>
      el("li", { class: i.state === "uppe nu" ? "current" : "" },
        i.n + ". " + i.title + (i.paragraph ? " (" + i.paragraph + ")" : ""),
        i.klass ? el("span", { class: "klass" }, " [" + i.klass + (i.permission ? " – " + i.permission : "") + "]") : "",
        i.state ? el("span", { class: "state" }, " – " + i.state) : "")))));
  }
}

function drawCheck(c) {
  clearInterval(countdown);
  const parts = [el("p", { class: c.running ? "warn" : c.valid ? "ok" : "bad" }, c.text), el("p", { class: "count" }, c.count)];
  if (c.running && c.seconds_left !== null) {
    const clock = el("p", { class: "countdown" });
    let left = c.seconds_left;
    const tick = () => (clock.textContent = "Tid kvar: " + Math.max(0, left--) + " s");
    tick();
    countdown = setInterval(tick, 1000); // the page's own clock, from what the bot said
    parts.push(clock);
  }
  parts.push(el("p", {}, "Har svarat:"), list(c.answered.length ? c.answered : ["ingen än"], "answered"));
  if (c.missing) parts.push(el("p", {}, "Har inte svarat:"), list(c.missing.length ? c.missing : ["ingen"], "missing"));
  return el("section", { id: "check" }, el("h2", {}, "Teknikkontroll"), ...parts);
}

function drawVote(v) {
  const parts = [el("p", { class: v.running ? "warn" : "ok" }, v.text)];
  if (v.proposals) parts.push(list(v.proposals, "proposals"));
  parts.push(el("p", { class: "count" }, v.count));
  if (v.result) parts.push(el("p", { class: "result" }, v.result));
  if (v.ballots) {
    parts.push(el("table", { class: "ballots" }, el("tr", {}, el("th", {}, "Ledamot"), el("th", {}, "Röst")),
      ...v.ballots.map((b) => el("tr", {}, el("td", {}, b.name), el("td", {}, b.vote)))));
  } else {
    parts.push(el("p", {}, "Har röstat:"), list(v.voted.length ? v.voted : ["ingen än"], "voted"));
  }
  if (v.missing) parts.push(el("p", {}, "Har inte röstat:"), list(v.missing.length ? v.missing : ["ingen"], "missing"));
  return el("section", { id: "vote" }, el("h2", {}, "Votering"), ...parts);
}

function drawPeople(people) {
  return el("section", { id: "people" }, el("h2", {}, "Deltagare"),
    el("ul", { class: "people" }, ...people.map((p) =>
      el("li", { class: "person level-" + p.level, "data-name": p.name },
        el("span", { class: "name" }, p.name), el("span", { class: "role" }, p.role),
        el("span", { class: "states" }, p.states.join(" · "))))));
}

function drawDraft(draft) {
  return el("section", { id: "draft" }, el("h2", {}, "Protokollsutkast"), ...draft.map((p) =>
    el("div", { class: "paragraph" },
      el("h3", {}, p.paragraph + " " + p.title + (p.klass ? " [" + p.klass + "]" : "")),
      el("p", { class: p.withheld ? "withheld" : "" }, p.withheld || p.decision))));
}

async function main() {
  try {
    listen(query.get("t") || (await tokenFromElement()));
  } catch (e) {
    notice(e.message, "bad");
  }
}

main();
