//! The tracking plan as one self-contained HTML page: inline CSS and JavaScript, no
//! network access, readable in print and in dark mode, with a search box that filters
//! events by any word of their name, description, owner, category or properties.
//!
//! The page's script reports its own state in the DOM (`data-ready`, `data-visible`,
//! `data-errors` on `<body>`), so a headless browser test can read it with
//! `--dump-dom`. `#q=words` in the address pre-fills the search (shareable links).

use std::fmt::Write as _;

use telemetry_core::Pii;
use telemetry_core::catalog::{Catalog, CatalogEvent};

use crate::docs::{groups, label, pii_words, summary, type_words};

/// Escapes text for HTML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Turns `code` spans of a description into `<code>`, escaping the rest.
fn rich(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", escape(part));
        } else {
            out.push_str(&escape(part));
        }
    }
    out
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// The whole page.
pub(crate) fn page(catalog: &Catalog, title: &str) -> String {
    let groups = groups(catalog);
    let mut nav = String::new();
    let mut main = String::new();
    for ((_, category), owners) in &groups {
        let cat = label(category, "uncategorised");
        let count: usize = owners.values().map(Vec::len).sum();
        let _ = write!(
            nav,
            "<li><a href=\"#cat-{}\">{}</a> <span class=\"n\">{count}</span></li>",
            slug(&cat),
            escape(&cat)
        );
        let _ = write!(
            main,
            "<section class=\"category\" id=\"cat-{}\"><h2>{}</h2>",
            slug(&cat),
            escape(&cat)
        );
        for ((_, owner), events) in owners {
            let _ = write!(
                main,
                "<div class=\"owner-group\"><h3>Owner: <span class=\"owner\">{}</span></h3>",
                escape(&label(owner, "no owner"))
            );
            for e in events {
                event(e, &mut main);
            }
            main.push_str("</div>");
        }
        main.push_str("</section>");
    }
    if catalog.events.is_empty() {
        main.push_str("<p class=\"empty\">The catalog lists no events.</p>");
    }
    if !catalog.funnels.is_empty() {
        nav.push_str("<li><a href=\"#funnels\">Funnels</a></li>");
        main.push_str("<section class=\"funnels\" id=\"funnels\"><h2>Funnels</h2>");
        for f in &catalog.funnels {
            let _ = write!(
                main,
                "<div class=\"funnel\"><h3>{}</h3><p>{}</p><p>Owner: {} · conversion window: {}</p><ol>",
                escape(&f.name),
                rich(&f.description),
                escape(&label(&f.owner, "no owner")),
                escape(&f.window)
            );
            for step in &f.steps {
                let filters: Vec<String> = step
                    .filters
                    .iter()
                    .map(|c| {
                        format!(
                            "<code>{}</code> = <code>{}</code>",
                            escape(&c.property),
                            escape(&c.equals.to_string())
                        )
                    })
                    .collect();
                let filters = if filters.is_empty() {
                    String::new()
                } else {
                    format!(" where {}", filters.join(" and "))
                };
                let _ = write!(
                    main,
                    "<li><code>{}</code>{filters}</li>",
                    escape(&step.event)
                );
            }
            main.push_str("</ol></div>");
        }
        main.push_str("</section>");
    }
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<script>{ERROR_HOOK}</script>\n<header>\n<h1>{t}</h1>\n<p class=\"summary\">{s}</p>\n<div class=\"searchbar\"><input id=\"search\" type=\"search\" placeholder=\"Search events, properties, owners… (press /)\" aria-label=\"Search events\" autocomplete=\"off\"><span id=\"count\" aria-live=\"polite\"></span></div>\n</header>\n<div class=\"layout\">\n<nav aria-label=\"Categories\"><h2>Categories</h2><ul>{nav}</ul></nav>\n<main>{main}<p id=\"no-match\" hidden>No event matches the search.</p></main>\n</div>\n<footer>Generated by <code>telemetry catalog docs</code> from the catalog file; personal data handling is applied in the app before anything is sent.</footer>\n<script>{JS}</script>\n</body>\n</html>\n",
        t = escape(title),
        s = escape(&summary(catalog)),
    )
}

fn event(e: &CatalogEvent, out: &mut String) {
    let s = &e.schema;
    let mut search = format!(
        "{} {} {} {} {}",
        s.name, s.description, s.owner, s.category, s.rust_type
    );
    for p in s.properties.iter() {
        let _ = write!(
            search,
            " {} {} {} {}",
            p.name,
            p.description,
            p.values.join(" "),
            if p.pii == Pii::None {
                ""
            } else {
                "pii personal"
            }
        );
    }
    let pii = s.properties.iter().any(|p| p.pii != Pii::None);
    let _ = write!(
        out,
        "<article class=\"event\" id=\"event-{id}\" data-search=\"{search}\"><h4><a href=\"#event-{id}\">{name}</a> <span class=\"badge version\">v{v}</span>{pii}{never}</h4>",
        id = escape(&s.name),
        search = escape(&search.to_lowercase()),
        name = escape(&s.name),
        v = s.version,
        pii = if pii {
            " <span class=\"badge pii\">personal data</span>"
        } else {
            ""
        },
        never = if e.call_sites.is_empty() {
            " <span class=\"badge never\">never sent</span>"
        } else {
            ""
        },
    );
    if s.description.trim().is_empty() {
        out.push_str("<p class=\"missing\">No description.</p>");
    } else {
        for para in s.description.split("\n\n") {
            let _ = write!(out, "<p>{}</p>", rich(para.trim()));
        }
    }
    let _ = write!(
        out,
        "<p class=\"meta\">Owner <b>{}</b> · category <b>{}</b> · defined by <code>{}</code></p>",
        escape(&label(&s.owner, "none")),
        escape(&label(&s.category, "none")),
        escape(&s.rust_type)
    );
    if s.properties.is_empty() {
        out.push_str("<p class=\"meta\">No properties.</p>");
    } else {
        out.push_str("<table><thead><tr><th>Property</th><th>Type</th><th>Required</th><th>Allowed values</th><th>Personal data</th><th>Description</th></tr></thead><tbody>");
        for p in s.properties.iter() {
            let values: String = p
                .values
                .iter()
                .map(|v| format!("<code>{}</code>", escape(v)))
                .collect::<Vec<_>>()
                .join(" ");
            let pii = if p.pii == Pii::None {
                String::new()
            } else {
                format!(
                    "<span class=\"badge pii\">{}</span> {}",
                    p.pii.as_str(),
                    escape(pii_words(p.pii))
                )
            };
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{values}</td><td>{pii}</td><td>{}</td></tr>",
                escape(&p.name),
                escape(&type_words(p)),
                if p.optional { "no" } else { "yes" },
                rich(&p.description)
            );
        }
        out.push_str("</tbody></table>");
    }
    if !e.call_sites.is_empty() {
        out.push_str("<details><summary>Sent from ");
        let _ = write!(
            out,
            "{} place{}</summary><ul class=\"sites\">",
            e.call_sites.len(),
            if e.call_sites.len() == 1 { "" } else { "s" }
        );
        for c in &e.call_sites {
            let _ = write!(
                out,
                "<li><code>{}:{}</code> in <code>{}</code></li>",
                escape(&c.file),
                c.line,
                escape(&c.module_path)
            );
        }
        out.push_str("</ul></details>");
    }
    out.push_str("</article>");
}

/// Records script errors on `<body>` before anything else runs.
const ERROR_HOOK: &str = "window.addEventListener('error',function(e){var b=document.body;b.setAttribute('data-errors',(b.getAttribute('data-errors')||'')+e.message+';');});";

const JS: &str = r#"
(function () {
  'use strict';
  var input = document.getElementById('search');
  var count = document.getElementById('count');
  var noMatch = document.getElementById('no-match');
  var events = Array.prototype.slice.call(document.querySelectorAll('.event'));
  function apply() {
    var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var visible = 0;
    events.forEach(function (e) {
      var hit = terms.every(function (t) { return e.dataset.search.indexOf(t) >= 0; });
      e.hidden = !hit;
      if (hit) visible++;
    });
    document.querySelectorAll('.owner-group, .category').forEach(function (g) {
      g.hidden = !g.querySelector('.event:not([hidden])');
    });
    count.textContent = terms.length ? visible + ' of ' + events.length + ' events' : events.length + ' events';
    noMatch.hidden = visible > 0 || events.length === 0;
    document.body.setAttribute('data-visible', String(visible));
  }
  input.addEventListener('input', apply);
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== input) { e.preventDefault(); input.focus(); }
    if (e.key === 'Escape' && document.activeElement === input) { input.value = ''; apply(); }
  });
  var m = /^#q=(.*)$/.exec(location.hash);
  if (m) input.value = decodeURIComponent(m[1]);
  apply();
  document.body.setAttribute('data-ready', '1');
})();
"#;

const CSS: &str = r#"
:root { --bg: #fbfbfd; --fg: #1d1d24; --muted: #5f6372; --card: #fff; --line: #e3e4ea;
  --accent: #3451b2; --pii: #a4262c; --pii-bg: #fde7e9; --never: #7a5a00; --never-bg: #fff4ce; --code: #f2f3f7; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #15161b; --fg: #e7e8ee; --muted: #a0a3b1; --card: #1e1f26; --line: #33353f;
    --accent: #8ea5ff; --pii: #ffb3b8; --pii-bg: #4a1d21; --never: #ffe08a; --never-bg: #3d3212; --code: #2a2c35; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { position: sticky; top: 0; z-index: 1; background: var(--bg); border-bottom: 1px solid var(--line); padding: 16px 32px 12px; }
h1 { margin: 0; font-size: 24px; }
.summary { margin: 2px 0 10px; color: var(--muted); }
.searchbar { display: flex; gap: 12px; align-items: center; }
#search { flex: 1; max-width: 640px; font: inherit; padding: 8px 12px; border: 1px solid var(--line); border-radius: 8px; background: var(--card); color: var(--fg); }
#search:focus { outline: 2px solid var(--accent); }
#count { color: var(--muted); }
.layout { display: grid; grid-template-columns: 220px 1fr; gap: 32px; padding: 24px 32px; }
nav { position: sticky; top: 130px; align-self: start; }
nav h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
nav ul { list-style: none; padding: 0; margin: 0; }
nav li { padding: 3px 0; }
nav a { color: var(--accent); text-decoration: none; }
.n { color: var(--muted); font-size: 13px; }
main { min-width: 0; }
section.category > h2 { margin: 0 0 8px; font-size: 20px; text-transform: capitalize; }
.owner-group h3 { font-size: 14px; font-weight: 600; color: var(--muted); margin: 16px 0 8px; }
.event { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 18px; margin: 0 0 14px; }
.event h4 { margin: 0 0 6px; font-size: 17px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.event h4 a { color: var(--fg); text-decoration: none; }
.event p { margin: 4px 0; }
.meta { color: var(--muted); font-size: 13px; }
.missing { color: var(--pii); font-style: italic; }
.badge { display: inline-block; font: 600 11px/1.6 system-ui, sans-serif; padding: 0 7px; border-radius: 10px; vertical-align: middle; background: var(--code); color: var(--muted); }
.badge.pii { background: var(--pii-bg); color: var(--pii); }
.badge.never { background: var(--never-bg); color: var(--never); }
table { width: 100%; border-collapse: collapse; margin: 10px 0 4px; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-top: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); border-top: 0; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--code); padding: 1px 4px; border-radius: 4px; }
details { margin-top: 6px; font-size: 13px; color: var(--muted); }
.sites { margin: 4px 0; }
footer { padding: 16px 32px 32px; color: var(--muted); font-size: 13px; }
[hidden] { display: none !important; }
@media (max-width: 800px) { .layout { grid-template-columns: 1fr; padding: 16px; } nav { position: static; } header { padding: 12px 16px; } }
@media print { header { position: static; } nav, .searchbar { display: none; } .layout { display: block; } .event { break-inside: avoid; } details { display: block; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_renders_code_spans() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(rich("`true` <b>"), "<code>true</code> &lt;b&gt;");
    }
}
