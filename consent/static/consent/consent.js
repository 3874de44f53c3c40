// Cookie banner module: upgrades the server-rendered form to fetch, starts Google Analytics
// only after consent (Consent Mode v2, basic), activates gated scripts, honours GPC.
// No framework, no build step, no globals beyond Google's own dataLayer.
const $ = (selector, root = document) => root.querySelector(selector);
const config = JSON.parse($("#consent-config")?.textContent || "null");
const GA_COOKIE = /^_ga(_.+)?$|^_gid$|^_gat/;
let state = config?.state;
let ga = config?.ga;
let gaStarted = false;
let opener = null;

const banner = () => $("[data-consent-banner]");
const gtag = function () {
  (window.dataLayer = window.dataLayer || []).push(arguments);
};
const signal = (on) => (on ? "granted" : "denied");
const consentMode = (s = {}) => ({
  ad_storage: signal(s.marketing),
  ad_user_data: signal(s.marketing),
  ad_personalization: signal(s.marketing),
  analytics_storage: signal(s.analytics),
  personalization_storage: signal(s.preferences),
  functionality_storage: "granted",
  security_storage: "granted",
});

function clearGaCookies() {
  const labels = location.hostname.split(".");
  for (const pair of document.cookie.split(";")) {
    const name = pair.split("=")[0].trim();
    if (!GA_COOKIE.test(name)) continue;
    document.cookie = `${name}=; max-age=0; path=/`;
    for (let i = 0; i < labels.length - 1; i++) {
      document.cookie = `${name}=; max-age=0; path=/; domain=.${labels.slice(i).join(".")}`;
    }
  }
}

function runGa() {
  if (!ga) return;
  const granted = !!state?.analytics;
  window[`ga-disable-${ga.id}`] = !granted;
  if (gaStarted) gtag("consent", "update", consentMode(state));
  if (!granted) return clearGaCookies();
  if (gaStarted) return;
  gaStarted = true;
  gtag("consent", "default", consentMode(state)); // all seven types, before config
  gtag("js", new Date());
  gtag("config", ga.id, { cookie_domain: "none" });
  if (!$("script[data-consent-ga]")) {
    const loader = document.createElement("script");
    loader.async = true;
    loader.src = ga.src;
    loader.dataset.consentGa = "";
    document.head.append(loader);
  }
}

// <script type="text/plain" data-category="marketing" data-src="..."> runs once consented.
function activateScripts() {
  for (const inert of document.querySelectorAll('script[type="text/plain"][data-category]')) {
    if (!state?.[inert.dataset.category]) continue;
    const live = document.createElement("script");
    for (const { name, value } of inert.attributes) {
      if (name !== "type" && name !== "data-src") live.setAttribute(name, value);
    }
    if (inert.dataset.src) live.src = inert.dataset.src;
    else live.text = inert.text;
    live.nonce = inert.nonce;
    inert.replaceWith(live);
  }
}

function show(focusTarget) {
  const dialog = banner();
  if (!dialog) return;
  dialog.hidden = false;
  (focusTarget || $("h2", dialog)).focus();
}

function hide() {
  banner().hidden = true;
  (opener?.isConnected ? opener : $("main") || document.body).focus();
  opener = null;
}

async function send(form, action) {
  const data = new FormData(form);
  // form.action would be the buttons named "action": read the attribute itself.
  const response = await fetch(form.getAttribute("action"), {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": data.get("csrfmiddlewaretoken"),
    },
    body: JSON.stringify({
      action,
      categories: data.getAll("categories"),
      scope: data.get("scope"),
      revision: data.get("revision"),
      next: data.get("next"),
    }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error);
  state = body.categories;
  ga = body.ga || ga;
  banner().outerHTML = body.banner;
  runGa();
  activateScripts();
  document.dispatchEvent(new CustomEvent("consent:change", { detail: state }));
  return body;
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.closest("[data-consent-banner]")) return; // the /cookies/ page posts normally
  event.preventDefault();
  const action = event.submitter?.value || "custom";
  const status = $(".cc-s", form);
  try {
    const result = await send(form, action);
    $("#consent-status").textContent = status.dataset.saved;
    if (result.prompt) show();
    else hide();
  } catch (error) {
    if (error instanceof TypeError || error instanceof SyntaxError) {
      // Network or server trouble: fall back to the plain form post.
      form.append(Object.assign(document.createElement("input"), { type: "hidden", name: "action", value: action }));
      return HTMLFormElement.prototype.submit.call(form);
    }
    status.textContent = error.message || status.dataset.failed;
  }
});

document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-consent-open]");
  const dialog = banner();
  if (!link || !dialog) return;
  event.preventDefault();
  opener = link;
  $("details", dialog).open = true;
  show($("[role=switch]:not([disabled])", dialog));
});

document.addEventListener("keydown", (event) => {
  const dialog = banner();
  if (event.key !== "Escape" || !dialog || dialog.hidden || !dialog.contains(event.target)) return;
  const details = $("details", dialog);
  if (details.open) {
    details.open = false;
    $("summary", details).focus();
  } else if (state) {
    hide();
  }
});

if (config) {
  runGa();
  activateScripts();
  if (config.prompt) show();
  const form = $("form", banner() || document.createElement("div"));
  if ((config.gpc || navigator.globalPrivacyControl) && !config.gpcRecorded && form) {
    send(form, "gpc").then((result) => result.prompt && show(), () => {});
  }
}
