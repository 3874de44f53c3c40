// Cookie banner: posts by fetch; Google Analytics (Consent Mode v2) and gated scripts run
// only with consent; GPC is honoured.
const $ = (selector, root = document) => root.querySelector(selector);
const banner = () => $("[data-consent-banner]");
// Data attributes, not ids: policy text can make ids.
const config = JSON.parse($("script[data-consent-config]")?.textContent || "null");
let { state, ga } = config || {};
let gaStarted, opener, stale;
const asJson = { headers: { Accept: "application/json" } };
const room = new ResizeObserver(() => $("html").style.setProperty("--cc", banner().offsetHeight + "px"));

function gtag() {
  (window.dataLayer ||= []).push(arguments);
}

function apply() {
  for (const inert of document.querySelectorAll("script[type='text/plain'][data-category]")) {
    if (!state?.[inert.dataset.category]) continue;
    const live = document.createElement("script");
    for (const { name, value } of inert.attributes) if (name != "type") live.setAttribute(name, value);
    if (inert.dataset.src) live.src = inert.dataset.src;
    else live.text = inert.text;
    live.nonce = inert.nonce;
    inert.replaceWith(live);
  }
  if (!ga) return;
  const grant = (category) => (state?.[category] ? "granted" : "denied");
  const ads = grant("marketing");
  const mode = {
    ad_storage: ads,
    ad_user_data: ads,
    ad_personalization: ads,
    analytics_storage: grant("analytics"),
    personalization_storage: grant("preferences"),
    functionality_storage: "granted",
    security_storage: "granted",
  };
  window[`ga-disable-${ga.id}`] = !state?.analytics;
  if (gaStarted) gtag("consent", "update", mode);
  // Refused or withdrawn: the server's answer has already expired Google's cookies.
  if (state?.analytics && !gaStarted) {
    gaStarted = true;
    gtag("consent", "default", mode);
    gtag("js", new Date());
    gtag("config", ga.id, { cookie_domain: "none" });
    if (!$("script[data-consent-ga]")) {
      document.head.append(Object.assign(document.createElement("script"), { async: true, src: ga.src }));
    }
  }
}

// Show the dialog and move focus into it, or hide it and give focus back.
function toggle(open, target) {
  banner().hidden = !open;
  room.observe(banner());
  (open ? target || $("h2", banner()) : opener || $("main") || document.body).focus();
  if (!open) opener = null;
}

async function send(form, action) {
  const data = new URLSearchParams(new FormData(form));
  data.set("action", action);
  const response = await fetch(form.getAttribute("action"), { method: "POST", body: data, ...asJson });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error);
  state = body.categories;
  ga = body.ga || ga; // null once analytics is off: keep the id to send the update
  if (body.banner) banner().outerHTML = body.banner;
  stale = !body.banner;
  apply();
  toggle(body.prompt);
  $("[data-consent-status]").textContent = body.message;
}

addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.closest("[data-consent-banner]")) return;
  event.preventDefault();
  send(form, event.submitter?.value || "custom").catch((error) => ($(".cc-s", form).textContent = error.message));
});

addEventListener("click", async (event) => {
  const link = event.target.closest("[data-consent-open]");
  if (!link || !banner()) return;
  event.preventDefault();
  opener = link;
  if (stale) {
    const response = await fetch(config.banner, asJson).catch(() => null);
    if (!response?.ok) return location.assign(link.href);
    banner().outerHTML = (await response.json()).banner;
    stale = false;
  }
  $("details", banner()).open = true;
  toggle(true, $("[role=switch]:not(:disabled)", banner()));
});

addEventListener("keydown", (event) => {
  const details = $("details", banner());
  if (event.key != "Escape" || !banner()?.contains(event.target)) return;
  if (details.open) {
    details.open = false;
    $("summary", details).focus();
  } else if (state) {
    toggle(false);
  }
});

if (config) {
  apply();
  if (config.prompt) toggle(true);
  if ((config.gpc || navigator.globalPrivacyControl) && !config.gpcRecorded) send($("form", banner()), "gpc");
}
