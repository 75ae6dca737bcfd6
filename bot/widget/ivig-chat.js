/*! IVIG chat widget - embeddable patient chat for the IVIG Long COVID assistant (Rasa REST channel).
 * One <script> tag, no dependencies, no build step. Everything lives in a shadow root, so the host page's
 * styles neither leak in nor get changed. Bot and user text is always inserted as text, never as HTML.
 * Settings: data-* attributes on the script tag, or window.IVIGChatConfig = {...} set before it
 * (data-* attributes win). See docs/widget.md for the full table. */
(function () {
  'use strict';
  if (window.IVIGChat) return;
  var script = document.currentScript || document.querySelector('script[src*="ivig-chat"]');
  var SAFETY = 'IVIG is a prescription treatment given only under medical supervision. This chat is ' +
    'education, not personal medical advice - please talk to your own doctor.';
  var DEFAULTS = {
    botUrl: '', title: 'Questions about IVIG', clinicName: '', clinicContact: '', clinicPhone: '',
    primaryColor: '#0b5cad', primaryTextColor: '', position: 'right', openingMessage: '',
    launcherLabel: 'Ask about IVIG', lang: 'en', storage: 'session', timeout: 15, zIndex: 2147483000
  };
  var KEY = 'ivig-chat-conversation-id';
  var NO_FEEDBACK = { greeting: 1, goodbye: 1, thanks: 1, feedback: 1, emergency: 1, poisoning: 1, crisis: 1, distress: 1 };
  // Urgent replies of the safety triage (and their reminders): phone numbers become tap-to-call links.
  var URGENT_KINDS = { urgent: 1, reminder: 1 }, PHONE = /(\+?\d[\d-]{1,13}\d)/;

  var cfg = {}, k, obj = window.IVIGChatConfig || {}, data = (script && script.dataset) || {};
  for (k in DEFAULTS) cfg[k] = data[k] != null ? data[k] : obj[k] != null ? obj[k] : DEFAULTS[k];
  var botUrl = String(cfg.botUrl || (script ? new URL(script.src, location.href).origin : location.origin))
    .replace(/\/+$/, '');

  // ---- tiny DOM helper: text only, never innerHTML with data
  function el(tag, attrs, kids) {
    var e = document.createElement(tag), a;
    for (a in attrs || {}) {
      var v = attrs[a];
      if (v == null || v === false) continue;
      if (a === 'text') e.textContent = v;
      else if (a === 'class') e.className = v;
      else if (a.slice(0, 2) === 'on') e.addEventListener(a.slice(2), v);
      else e.setAttribute(a, v === true ? '' : v);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }
  var sr = function (t) { return el('span', { class: 'sr', text: t }); };

  // ---- colours: pick readable text on the clinic colour (WCAG AA)
  function lum(hex) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(hex).trim());
    if (!m) return null;
    var h = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
    var c = [0, 2, 4].map(function (i) {
      var v = parseInt(h.substr(i, 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  var L = lum(cfg.primaryColor);
  var onPrimary = cfg.primaryTextColor || (L == null || L <= 0.18 ? '#fff' : '#000');
  var linkColor = L != null && L <= 0.15 ? cfg.primaryColor : '#0a4f9c';

  // ---- conversation id: browser session only by default (storage: session | local | none)
  function store() {
    try { return cfg.storage === 'local' ? localStorage : cfg.storage === 'none' ? null : sessionStorage; } catch (e) { return null; }
  }
  function newId() {
    var id;
    if (window.crypto && crypto.randomUUID) id = crypto.randomUUID();
    else id = Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (b) {
      return (b + 256).toString(16).slice(1);
    }).join('');
    try { var s = store(); if (s) s.setItem(KEY, id); } catch (e) { /* storage blocked: keep in memory */ }
    return id;
  }
  function loadId() { try { var s = store(); return (s && s.getItem(KEY)) || newId(); } catch (e) { return newId(); } }
  var sender = loadId();

  var CSS =
    ':host{all:initial}' +
    '*{box-sizing:border-box}' +
    '.w{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1a1a1a;-webkit-text-size-adjust:100%}' +
    '.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}' +
    'button{font:inherit;cursor:pointer}' +
    ':focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}' +
    '.launch{position:fixed;bottom:20px;right:20px;z-index:var(--z);display:flex;align-items:center;gap:8px;padding:12px 18px;' +
    'border:2px solid #fff;border-radius:28px;background:var(--p);color:var(--pt);font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.3)}' +
    '.launch:focus-visible{outline:3px solid #1a1a1a;box-shadow:0 0 0 6px #fff}' +
    '.left .launch,.left .panel{right:auto;left:20px}' +
    '.panel{position:fixed;bottom:20px;right:20px;z-index:var(--z);width:min(400px,calc(100vw - 40px));height:min(680px,calc(100vh - 40px));' +
    'display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3);animation:in .2s ease-out}' +
    '.panel[hidden],.launch[hidden]{display:none}' +
    '@keyframes in{from{opacity:0;transform:translateY(12px)}}' +
    'header{display:flex;align-items:center;gap:6px;padding:10px 10px 10px 16px;background:var(--p);color:var(--pt)}' +
    'header div{flex:1;min-width:0}h2{margin:0;font-size:17px}header p{margin:0;font-size:14px}' +
    'header button{background:transparent;color:inherit;border:1px solid currentColor;border-radius:8px;padding:6px 10px;min-height:36px}' +
    'header :focus-visible{outline-color:currentColor}' +
    '.x{font-size:22px;line-height:1;padding:4px 10px}' +
    '.log{position:relative;flex:1;overflow-y:auto;padding:14px;background:#f6f7f9}' +
    '.m{margin:0 0 14px;display:flex;flex-direction:column;align-items:flex-start}' +
    '.m.u{align-items:flex-end}' +
    '.b{max-width:92%;padding:10px 13px;border-radius:14px;background:#fff;border:1px solid #d5dae1;white-space:normal;overflow-wrap:anywhere}' +
    '.u .b{background:var(--p);color:var(--pt);border-color:var(--p);white-space:pre-wrap}' +
    '.b p{margin:0 0 8px}.b p:last-child{margin:0}.b ul{margin:0 0 8px;padding-left:22px}' +
    '.b a{color:var(--l);text-decoration:underline}' +
    '.m[data-urgent] .b{border:3px solid #b3261e}.m[data-urgent] .b>p:first-of-type{font-weight:700}' +
    '.m[data-urgent] a[href^="tel:"]{font-weight:700;white-space:nowrap}' +
    '.safe{margin-top:10px;padding:8px 10px;border-left:5px solid #b35c00;background:#fff4e0;color:#3b2300;border-radius:6px;font-size:15px}' +
    '.safe strong{display:block}' +
    '.cites{margin-top:10px;font-size:15px}.cites p{margin:0;font-weight:600}.cites ul{margin:4px 0 0}' +
    '.err .b{background:#fdeeee;border-color:#b3261e;color:#5c0f0a}' +
    '.err button,.chips button{margin-top:8px;padding:8px 12px;min-height:40px;border-radius:18px;border:1px solid var(--l);background:#fff;color:var(--l);text-align:left}' +
    '.chips{display:flex;flex-wrap:wrap;gap:6px;max-width:95%}' +
    '.fb{display:flex;align-items:center;gap:6px;margin-top:6px;font-size:14px;color:#4a5361}' +
    '.fb button{display:flex;padding:5px;width:34px;height:34px;border:1px solid #8a94a3;border-radius:8px;background:#fff;color:#3a4350}' +
    '.fb button[aria-pressed=true]{background:var(--p);color:var(--pt);border-color:var(--p)}' +
    '.fb button:disabled{cursor:default}' +
    '.dots i{display:inline-block;width:8px;height:8px;margin:0 3px;border-radius:50%;background:#5b6472;animation:d 1s infinite alternate}' +
    '.dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}' +
    '@keyframes d{to{opacity:.25}}' +
    'form{display:flex;gap:8px;padding:10px;border-top:1px solid #d5dae1;background:#fff}' +
    'input{flex:1;min-width:0;font:inherit;font-size:16px;padding:10px 12px;border:1px solid #6b7482;border-radius:10px;color:#1a1a1a;background:#fff}' +
    'input::placeholder{color:#5f6874}' +
    'form button{padding:10px 16px;border:0;border-radius:10px;background:var(--p);color:var(--pt);font-weight:600}' +
    '.foot{margin:0;padding:0 12px 8px;font-size:13px;color:#4a5361;background:#fff}' +
    '@media (max-width:520px){.panel{top:0;left:0!important;right:0;bottom:0;width:100%;height:100%;border-radius:0}}' +
    '@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}';

  var THUMB = 'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1.2-.7v-2z';
  function svg(path, flip) {
    var s = document.createElementNS('http://www.w3.org/2000/svg', 'svg'), p = document.createElementNS(s.namespaceURI, 'path');
    s.setAttribute('viewBox', '0 0 24 24'); s.setAttribute('width', '22'); s.setAttribute('height', '22');
    s.setAttribute('aria-hidden', 'true'); s.setAttribute('focusable', 'false');
    if (flip) s.style.transform = 'rotate(180deg)';
    p.setAttribute('d', path); p.setAttribute('fill', 'currentColor'); s.appendChild(p);
    return s;
  }

  // ---- build the UI in a shadow root
  var host = el('ivig-chat-widget', { 'data-ivig-chat': '' });
  var root = host.attachShadow({ mode: 'open' });
  var log, input, panel, launch, live, sendBtn, typing = null, busy = false, opened = false;
  var wrap = el('div', { class: 'w' + (cfg.position === 'left' ? ' left' : ''), lang: cfg.lang }, [
    el('style', { text: CSS }),
    launch = el('button', { class: 'launch', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'ivig-panel', onclick: open }, [
      svg('M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z'), cfg.launcherLabel
    ]),
    panel = el('section', { class: 'panel', id: 'ivig-panel', role: 'dialog', 'aria-labelledby': 'ivig-title', hidden: true }, [
      el('header', null, [
        el('div', null, [el('h2', { id: 'ivig-title', text: cfg.title }), cfg.clinicName ? el('p', { text: cfg.clinicName }) : null]),
        el('button', { type: 'button', class: 'restart', onclick: restart, text: 'Start over', 'aria-label': 'Start over (new conversation)' }),
        el('button', { type: 'button', class: 'x', 'aria-label': 'Close chat', onclick: close, text: '\u00d7' })
      ]),
      log = el('div', { class: 'log', role: 'region', 'aria-label': 'Conversation', tabindex: '0' }),
      live = el('div', { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'true' }),
      el('form', { onsubmit: onSubmit }, [
        el('label', { class: 'sr', for: 'ivig-input', text: 'Your question' }),
        input = el('input', { id: 'ivig-input', type: 'text', autocomplete: 'off', maxlength: '2000', placeholder: 'Type your question\u2026', enterkeyhint: 'send' }),
        sendBtn = el('button', { type: 'submit', text: 'Send' })
      ]),
      el('p', { class: 'foot', text: 'General education, not personal medical advice.' })
    ])
  ]);
  wrap.style.setProperty('--p', cfg.primaryColor);
  wrap.style.setProperty('--pt', onPrimary);
  wrap.style.setProperty('--l', linkColor);
  wrap.style.setProperty('--z', String(parseInt(cfg.zIndex, 10) || DEFAULTS.zIndex));
  root.appendChild(wrap);
  var full = window.matchMedia ? window.matchMedia('(max-width:520px)') : { matches: false };
  panel.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') { e.preventDefault(); close(); }
    // Full screen (phones): the page behind is covered, so Tab cycles within the panel.
    if (e.key === 'Tab' && full.matches) {
      var f = panel.querySelectorAll('button:not([disabled]),input,a[href],[tabindex="0"]');
      var first = f[0], last = f[f.length - 1], a = root.activeElement;
      if (e.shiftKey && a === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && a === last) { e.preventDefault(); first.focus(); }
    }
  });

  function open() {
    panel.hidden = false; launch.hidden = true; launch.setAttribute('aria-expanded', 'true');
    input.focus();
    if (!opened) { opened = true; greet(); }
  }
  function close() {
    panel.hidden = true; launch.hidden = false; launch.setAttribute('aria-expanded', 'false');
    launch.focus();
  }
  function greet() {
    if (cfg.openingMessage) addBot({ text: cfg.openingMessage }, null, true);
    ask('/greeting', null, !!cfg.openingMessage);
  }
  function restart() {
    post('/restart', sender).catch(function () {});
    sender = newId();
    log.textContent = ''; typing = null; busy = false; setBusy(false);
    announce('Started a new conversation.');
    greet();
    input.focus();
  }
  function onSubmit(e) {
    e.preventDefault();
    var t = input.value.trim();
    if (!t || busy) return;
    input.value = '';
    ask(t, t);
  }
  function setBusy(b) { busy = b; sendBtn.setAttribute('aria-disabled', b ? 'true' : 'false'); log.setAttribute('aria-busy', b ? 'true' : 'false'); }
  function announce(t, urgent) {
    live.setAttribute('aria-live', urgent ? 'assertive' : 'polite');
    live.textContent = ''; setTimeout(function () { live.textContent = t; }, 60);
  }
  function scrollTo(m, top) {
    // A new bot message is shown from its start (with the question before it when that fits), not its end.
    var prev = m.previousElementSibling, y = m.offsetTop;
    if (prev && / u/.test(prev.className) && m.offsetHeight + y - prev.offsetTop < log.clientHeight) y = prev.offsetTop;
    log.scrollTop = top ? Math.max(0, y - 10) : log.scrollHeight;
  }

  // ---- network: the Rasa REST channel
  function post(message, id) {
    if (navigator.onLine === false) return Promise.reject(new Error('offline'));
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) ctl.abort(); }, (parseFloat(cfg.timeout) || 15) * 1000);
    return fetch(botUrl + '/webhooks/rest/webhook', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, credentials: 'omit', mode: 'cors',
      body: JSON.stringify({ sender: id || sender, message: message }), signal: ctl && ctl.signal
    }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (d) {
      if (!Array.isArray(d)) throw new Error('bad reply');
      return d;
    }).finally(function () { clearTimeout(timer); });
  }
  function ask(message, shown, onlyButtons) {
    if (shown != null) scrollTo(log.appendChild(el('div', { class: 'm u' }, [el('div', { class: 'b' }, [sr('You: '), shown])])));
    var id = sender;
    setBusy(true); showTyping();
    return post(message).then(function (items) {
      if (id !== sender) return;
      hideTyping();
      if (!render(items, onlyButtons) && !onlyButtons) throw new Error('empty reply');
    }).catch(function (err) {
      if (id !== sender) return;
      hideTyping(); showError(err, message, onlyButtons);
    }).then(function () { if (id === sender) setBusy(false); });
  }
  function showTyping() {
    typing = log.appendChild(el('div', { class: 'm typing' }, [el('div', { class: 'b' }, [
      el('span', { class: 'dots', 'aria-hidden': 'true' }, [el('i'), el('i'), el('i')]), sr('The assistant is typing')
    ])]));
    scrollTo(typing);
  }
  function hideTyping() { if (typing) typing.remove(); typing = null; }

  // ---- rendering bot turns: pair each custom payload with the text item before it
  function render(items, onlyButtons) {
    var n = 0;
    for (var i = 0; i < items.length; i++) {
      var it = items[i] || {}, custom = it.custom || null;
      if (typeof it.text === 'string' || it.buttons) {
        var next = items[i + 1];
        if (!custom && next && next.custom && typeof next.text !== 'string') { custom = next.custom; i++; }
        if (onlyButtons) it = { buttons: it.buttons };
        addBot(it, custom, !onlyButtons); n++;
      } else if (it.custom && typeof it.custom === 'object') { addBot({}, it.custom, true); n++; }
    }
    return n;
  }
  function withPhones(node, text) {
    // Alternate pieces of the split are the numbers (the pattern has one group).
    text.split(PHONE).forEach(function (part, i) {
      node.appendChild(i % 2 ? el('a', { href: 'tel:' + part.replace(/[^\d+]/g, ''), text: part }) : document.createTextNode(part));
    });
    return node;
  }
  function formatText(parent, text, phones) {
    text.split(/\n\s*\n/).forEach(function (para) {
      var p = null, ul = null;
      para.split('\n').forEach(function (line) {
        if (/^\s*[-\u2022] /.test(line)) {
          p = null;
          ul = ul || parent.appendChild(el('ul'));
          var item = line.replace(/^\s*[-\u2022] /, '');
          ul.appendChild(phones ? withPhones(el('li'), item) : el('li', { text: item }));
        } else if (line.trim()) {
          ul = null;
          if (p) p.appendChild(el('br')); else p = parent.appendChild(el('p'));
          if (phones) withPhones(p, line); else p.appendChild(document.createTextNode(line));
        }
      });
    });
  }
  function safeUrl(u) {
    try { var x = new URL(String(u)); return x.protocol === 'https:' ? x.href : null; } catch (e) { return null; }
  }
  function safetyBox(text) {
    return el('div', { class: 'safe', role: 'note' }, [el('strong', { text: 'Important' }), text]);
  }
  function addBot(item, custom, announceIt) {
    custom = custom && typeof custom === 'object' ? custom : {};
    var body = typeof item.text === 'string' ? item.text.trim() : '';
    var safety = typeof custom.safety_text === 'string' ? custom.safety_text.trim() : '';
    if (!safety && custom.safety && body.slice(-SAFETY.length) === SAFETY) safety = SAFETY;
    if (safety && body.slice(-safety.length) === safety) body = body.slice(0, -safety.length).trim();
    var urgent = URGENT_KINDS[custom.kind] === 1;
    var m = el('div', { class: 'm', 'data-topic': custom.topic, 'data-kind': custom.kind, 'data-urgent': urgent ? '' : null });
    var b = el('div', { class: 'b' }, [sr('Assistant: ')]);
    var said = [body];
    formatText(b, body, urgent);
    // An urgent reply ends with its own line (no IVIG box): a person in danger must not read about prescriptions.
    if (safety) { b.appendChild(urgent ? withPhones(el('p', { class: 'urg' }), safety) : safetyBox(safety)); said.push(safety); }
    var links = (Array.isArray(custom.citations) ? custom.citations : []).map(function (c) {
      var url = c && safeUrl(c.url);
      return url && el('li', null, [el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, [
        String(c.label || url), sr(' (opens in a new tab)')])]);
    }).filter(Boolean);
    if (links.length) {
      b.appendChild(el('div', { class: 'cites' }, [el('p', { text: links.length > 1 ? 'Sources' : 'Source' }), el('ul', null, links)]));
      said.push(links.length + (links.length > 1 ? ' sources linked.' : ' source linked.'));
    }
    if (body || safety || links.length) m.appendChild(b);
    var buttons = (Array.isArray(item.buttons) ? item.buttons : []).filter(function (x) { return x && x.title; });
    if (buttons.length) {
      m.appendChild(el('div', { class: 'chips', role: 'group', 'aria-label': 'Suggested questions' }, buttons.map(function (x) {
        return el('button', { type: 'button', text: String(x.title), onclick: function () {
          if (!busy) ask(String(x.payload || x.title), String(x.title));
        } });
      })));
      said.push('Suggested questions below.');
    }
    if (custom.topic && !NO_FEEDBACK[custom.topic] && (custom.safety || custom.kind === 'answer')) m.appendChild(feedback(custom.topic));
    if (!m.childNodes.length) return;
    log.appendChild(m);
    scrollTo(m, true);
    if (announceIt && (body || safety)) announce('Assistant: ' + said.join(' '), urgent);
  }
  function feedback(topic) {
    var note = el('span', { 'aria-live': 'polite' }), up, down;
    function rate(r, btn) {
      up.disabled = down.disabled = true;
      btn.setAttribute('aria-pressed', 'true');
      post('/feedback' + JSON.stringify({ rating: r, feedback_topic: topic })).then(function () {
        note.textContent = 'Thanks for your feedback.';
      }, function () {
        note.textContent = 'Feedback could not be sent.';
        up.disabled = down.disabled = false; btn.setAttribute('aria-pressed', 'false');
      });
    }
    up = el('button', { type: 'button', 'aria-label': 'This answer was helpful', 'aria-pressed': 'false', onclick: function () { rate('up', up); } }, [svg(THUMB)]);
    down = el('button', { type: 'button', 'aria-label': 'This answer was not helpful', 'aria-pressed': 'false', onclick: function () { rate('down', down); } }, [svg(THUMB, true)]);
    return el('div', { class: 'fb', role: 'group', 'aria-label': 'Rate this answer' }, [el('span', { text: 'Helpful?', 'aria-hidden': 'true' }), up, down, note]);
  }
  function showError(err, message, onlyButtons) {
    var offline = String(err && err.message) === 'offline';
    var who = cfg.clinicName || 'your clinic';
    var contact = el('p', null, ['For questions about your care, contact ' + who + (cfg.clinicContact ? ': ' + cfg.clinicContact : ' or your doctor') + '.']);
    if (cfg.clinicPhone) contact.appendChild(el('span', null, [' Phone: ', el('a', { href: 'tel:' + String(cfg.clinicPhone).replace(/[^\d+]/g, ''), text: cfg.clinicPhone })]));
    var head = offline ? 'You seem to be offline. Check your connection and try again.'
      : "Sorry, the assistant can't be reached right now. Please try again in a moment.";
    var m = el('div', { class: 'm err', role: 'alert' }, [el('div', { class: 'b' }, [
      el('p', null, [el('strong', { text: head })]), contact, safetyBox(SAFETY),
      el('button', { type: 'button', class: 'retry', text: 'Try again', onclick: function () {
        if (busy) return;
        m.remove(); ask(message, null, onlyButtons);
      } })
    ])]);
    log.appendChild(m);
    scrollTo(m, true);
  }

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
  window.IVIGChat = { open: open, close: close, restart: restart };
})();
