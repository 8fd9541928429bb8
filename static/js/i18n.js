// The page scripts' texts in the page's language. The server puts the translations this
// language has for static/js into <script type="application/json" id="i18n-messages">
// (web/i18n.py); a text it lacks stays in Portuguese, the source language.
// Write texts as _("Texto %(name)s", { name }) and ngettext("%(num)d item", "%(num)d itens", n):
// pybabel extracts both (babel.cfg).

const element = document.getElementById("i18n-messages");
const messages = element ? JSON.parse(element.textContent || "{}") : {};

// The page's language as a BCP 47 tag ("pt-BR", "en"), for numbers and dates too.
export const lang = document.documentElement.lang || "pt-BR";

function format(text, params) {
  return text.replace(/%\((\w+)\)[sd]/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function _(msgid, params = {}) {
  const found = messages[msgid];
  return format(typeof found === "string" ? found : msgid, params);
}

// Both languages have one singular form, for exactly 1 (the catalogues' Plural-Forms: n != 1).
export function ngettext(singular, plural, n, params = {}) {
  const forms = messages[singular];
  const index = n === 1 ? 0 : 1;
  const text = Array.isArray(forms) && forms[index] ? forms[index] : [singular, plural][index];
  return format(text, { num: n, ...params });
}

// A number as the page's language writes it (1.234,5 or 1,234.5).
export function number(value, digits = 0) {
  return Number(value).toLocaleString(lang, { maximumFractionDigits: digits });
}
