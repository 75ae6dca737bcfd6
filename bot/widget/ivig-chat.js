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
    launcherLabel: 'Ask about IVIG', lang: 'en', storage: 'session', timeout: 15, zIndex: 2147483000, offset: ''
  };
  var KEY = 'ivig-chat-conversation-id';
  var NO_FEEDBACK = { greeting: 1, goodbye: 1, thanks: 1, feedback: 1, emergency: 1, poisoning: 1, crisis: 1, distress: 1, doctor_summary: 1, privacy: 1 };
  // Urgent replies of the safety triage (and their reminders): phone numbers become tap-to-call links.
  var URGENT_KINDS = { urgent: 1, reminder: 1 }, PHONE = /(\+?\d[\d -]{1,15}\d)/;

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

  // ---- colours: pick readable text on the clinic colour (WCAG AA), and its dark-mode forms
  function rgb(hex) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(hex).trim());
    if (!m) return null;
    var h = m[1].length === 3 ? m[1].replace(/./g, '$&$&') : m[1];
    return [0, 2, 4].map(function (i) { return parseInt(h.substr(i, 2), 16); });
  }
  function lum(c) {
    c = c.map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  // The clinic colour mixed towards black (to = 0) or white (to = 255) until its luminance is ok.
  function toward(c, to, ok) {
    for (var t = 0; t < 1; t += 0.05) {
      var x = c.map(function (v) { return Math.round(v + (to - v) * t); });
      if (ok(lum(x))) return '#' + x.map(function (v) { return (v + 256).toString(16).slice(1); }).join('');
    }
    return to ? '#fff' : '#000';
  }
  var P = rgb(cfg.primaryColor), L = P && lum(P);
  var onPrimary = cfg.primaryTextColor || (!P || L <= 0.18 ? '#fff' : '#000');
  var linkColor = P && L <= 0.15 ? cfg.primaryColor : '#0a4f9c';

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
  // The printable summary of this conversation, built by the bot from what it stored (never from this page).
  var DOC = 'Summary for my doctor', NEWTAB = ' (opens in a new tab)';
  function docUrl() { return botUrl + '/summary/' + encodeURIComponent(sender); }
  function docLink(attrs, kids) {
    attrs.href = docUrl(); attrs.target = '_blank'; attrs.rel = 'noopener noreferrer';
    return el('a', attrs, kids);
  }

  // Colours are variables: light, dark (prefers-color-scheme), system colours (forced-colors).
  var CSS =
    ':host{all:initial}' +
    '*{box-sizing:border-box}' +
    '.w{--bg:#fff;--b2:#f6f7f9;--fg:#1a1a1a;--bd:#d5dae1;--mu:#4a5361;--ib:#6b7482;--sb:#fff4e0;--sf:#3b2300;--sl:#b35c00;' +
    '--eb:#fdeeee;--ef:#5c0f0a;--er:#b3261e;--p:var(--cp);--pt:var(--ct);--l:var(--cl);' +
    'font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);-webkit-text-size-adjust:100%}' +
    '@media (prefers-color-scheme:dark){.w{--bg:#1c1f24;--b2:#131518;--fg:#e8eaed;--bd:#444b55;--mu:#b8c0cb;--ib:#8d97a5;' +
    '--sb:#35280f;--sf:#f8e1b8;--sl:#e49b3c;--eb:#3b1816;--ef:#fcd6d2;--er:#f28b82;--p:var(--dp);--pt:#fff;--l:var(--dl);color-scheme:dark}}' +
    '.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}' +
    'button{font:inherit;cursor:pointer}' +
    ':focus-visible{outline:3px solid var(--fg);outline-offset:2px}' +
    '.launch{position:fixed;bottom:var(--ob);right:var(--os);z-index:var(--z);display:flex;align-items:center;gap:8px;padding:12px 18px;' +
    'border:2px solid #fff;border-radius:28px;background:var(--p);color:var(--pt);font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.3)}' +
    '.launch:focus-visible{outline:3px solid #1a1a1a;box-shadow:0 0 0 6px #fff}' +
    '.left .launch,.left .panel{right:auto;left:var(--os)}' +
    '.panel{position:fixed;bottom:var(--ob);right:var(--os);z-index:var(--z);width:min(400px,calc(100vw - 40px));' +
    'height:min(680px,calc(100vh - 20px - var(--ob)));display:flex;flex-direction:column;background:var(--bg);border-radius:14px;' +
    'overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3);animation:in .2s ease-out}' +
    '.full .panel{top:var(--vt);left:0;right:0;bottom:auto;width:100%;height:var(--vh);border-radius:0}' +
    '[hidden]{display:none!important}' +
    '@keyframes in{from{opacity:0;transform:translateY(12px)}}' +
    '.hd{display:flex;align-items:center;gap:8px;padding:8px 8px 8px 16px;background:var(--p);color:var(--pt)}' +
    '.hd>div{flex:1;min-width:0}h2{margin:0;font-size:17px;overflow-wrap:anywhere}.hd p{margin:0;font-size:14px}' +
    '.hd button,.hd a{display:flex;align-items:center;gap:6px;min-width:44px;min-height:44px;padding:0 10px;' +
    'background:none;color:inherit;border:1px solid;border-radius:8px;text-decoration:none}' +
    '.hd :focus-visible{outline-color:currentColor}' +
    '.x{justify-content:center;font-size:26px;line-height:1}' +
    '.short .hd{padding:4px 6px 4px 12px}.short h2{font-size:15px}.narrow .hd{padding-left:10px}.xs .hd,.w:not(.short) .hd{flex-wrap:wrap;justify-content:flex-end;row-gap:2px}.xs .hd>div,.w:not(.short) .hd>div{flex-basis:100%}.xs h2{font-size:14px}.short .hd p,.short .foot,.narrow .t,.kb .hd,.hd svg{display:none}.narrow .hd svg,.w:not(.short) .hd svg{display:block}' +
    '.ask{display:flex;flex-wrap:wrap;gap:0 8px;padding:6px 12px 10px;background:var(--sb);color:var(--sf);border-bottom:2px solid var(--sl)}' +
    '.ask p{flex:1 1 100%;margin:4px 0 0;font-weight:600}' +
    '.log{position:relative;flex:1;overflow-y:auto;overscroll-behavior:contain;padding:14px;background:var(--b2)}' +
    '.m{margin:0 0 14px;display:flex;flex-direction:column;align-items:flex-start}' +
    '.m.u{align-items:flex-end}' +
    '.b{max-width:92%;padding:10px 13px;border-radius:14px;background:var(--bg);border:1px solid var(--bd);overflow-wrap:anywhere}' +
    '.u .b{background:var(--p);color:var(--pt);border-color:var(--p);white-space:pre-wrap}' +
    '.b p{margin:0 0 8px}.b p:last-child{margin:0}.b ul{margin:0 0 8px;padding-left:22px}' +
    '.b a{color:var(--l)}.b .chk{font-size:14px;color:var(--mu)}' +
    '[data-urgent] .b{border:3px solid var(--er)}' +
    '.calls{display:flex;flex-wrap:wrap;gap:8px;margin:2px 0 10px}' +
    '.b .calls a{display:flex;align-items:center;min-height:48px;padding:8px 18px;border-radius:24px;background:var(--er);' +
    'color:var(--bg);font-weight:700;text-decoration:none}' +
    '.safe{margin-top:10px;padding:8px 10px;border-left:5px solid var(--sl);background:var(--sb);color:var(--sf);border-radius:6px;font-size:15px}' +
    '.safe strong{display:block}.s{display:flex;align-items:center;gap:6px;padding:0 0 0 10px}.s strong{display:inline}' +
    '.s button{flex:none;min-width:44px;min-height:44px;border:0;background:none;color:inherit;font-weight:600;text-decoration:underline}' +
    '.cites{margin-top:10px;font-size:15px}.cites p{margin:0;font-weight:600}.cites ul{margin:4px 0 0}.cites li{margin:6px 0}' +
    '.err .b{background:var(--eb);border-color:var(--er);color:var(--ef)}' +
    '.pill{margin-top:8px;padding:8px 14px;min-height:44px;border-radius:22px;border:1px solid var(--l);background:var(--bg);color:var(--l);text-align:left}' +
    'a.pill{display:inline-flex;align-items:center}' +
    '.chips{display:flex;flex-wrap:wrap;gap:0 8px;max-width:95%}' +
    '.fb{display:flex;align-items:center;gap:8px;margin-top:6px;font-size:14px;color:var(--mu)}' +
    '.fb button{display:flex;align-items:center;justify-content:center;width:44px;height:44px;border:1px solid var(--ib);' +
    'border-radius:8px;background:var(--bg);color:var(--mu)}' +
    '.fb [aria-pressed=true]{background:var(--p);color:var(--pt);border-color:var(--p)}' +
    '.fb button:disabled{cursor:default}' +
    '.dots i{display:inline-block;width:8px;height:8px;margin:0 3px;border-radius:50%;background:var(--mu);animation:d 1s infinite alternate}' +
    '.dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}' +
    '@keyframes d{to{opacity:.25}}' +
    'form{display:flex;gap:8px;padding:8px 10px;border-top:1px solid var(--bd);background:var(--bg)}' +
    'input{flex:1;min-width:0;min-height:44px;font:inherit;font-size:16px;padding:8px 12px;border:1px solid var(--ib);border-radius:10px;color:var(--fg);background:var(--bg)}' +
    'input::placeholder{color:var(--mu)}' +
    'form button{min-height:44px;padding:8px 16px;border:2px solid transparent;border-radius:10px;background:var(--p);color:var(--pt);font-weight:600}' +
    '.foot{margin:0;padding:0 12px 8px;font-size:13px;color:var(--mu);background:var(--bg)}' +
    '@media (forced-colors:active){.panel,.w button,.calls a,.safe,.hd{border:2px solid}.dots i{background:CanvasText}}' +
    '@media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}';

  function svg(path, flip) {
    var s = document.createElementNS('http://www.w3.org/2000/svg', 'svg'), p = document.createElementNS(s.namespaceURI, 'path');
    s.setAttribute('viewBox', '0 0 24 24'); s.setAttribute('width', '22'); s.setAttribute('height', '22');
    s.setAttribute('aria-hidden', 'true'); s.setAttribute('focusable', 'false');
    if (flip) s.style.transform = 'rotate(180deg)';
    p.setAttribute('d', path); p.setAttribute('fill', 'currentColor'); s.appendChild(p);
    return s;
  }
  var THUMB = 'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1.2-.7v-2z';

  // ---- build the UI in a shadow root. The widget's own words are English; the clinic's are in data-lang.
  var host = el('ivig-chat-widget', { 'data-ivig-chat': '' });
  var root = host.attachShadow({ mode: 'open' });
  var log, input, panel, launch, live, alarm, sendBtn, title, askBox, restartBtn, doc, typing = null, slow, busy = false, opened = false;
  var fullShown = false, isFull = false, seq = 0, clearer, saved = null, own = cfg.lang;
  var wrap = el('div', { class: 'w' + (cfg.position === 'left' ? ' left' : ''), lang: /^en\b/i.test(own) ? own : 'en' }, [
    el('style', { text: CSS }),
    launch = el('button', { class: 'launch', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'ivig-panel', onclick: open }, [
      svg('M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z'), el('span', { lang: own, text: cfg.launcherLabel })
    ]),
    panel = el('section', { class: 'panel', id: 'ivig-panel', role: 'dialog', 'aria-labelledby': 'ivig-title', hidden: true }, [
      el('div', { class: 'hd' }, [
        el('div', null, [title = el('h2', { id: 'ivig-title', tabindex: '-1', lang: own, text: cfg.title }),
          cfg.clinicName ? el('p', { lang: own, text: cfg.clinicName }) : null]),
        restartBtn = el('button', { type: 'button', 'aria-label': 'Start over (new conversation)', onclick: function () {
          askBox.hidden = false; askBox.firstChild.focus();
        } }, [svg('M17.65 6.35A7.96 7.96 0 0 0 12 4a8 8 0 1 0 7.73 10h-2.08A6 6 0 1 1 12 6c1.66 0 3.14.69 4.22 1.78L13 11h7V4z'),
          el('span', { class: 't', text: 'Start over' })]),
        doc = docLink({ 'aria-label': DOC + NEWTAB }, [svg('M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm2 16H8v-2h8zm0-4H8v-2h8zm-3-5V3.5L18.5 9z'),
          el('span', { class: 't', text: 'Summary' })]),
        el('button', { type: 'button', class: 'x', 'aria-label': 'Close chat', onclick: close, text: '\u00d7' })
      ]),
      // One tap on "Start over" must not wipe the conversation: it asks first.
      askBox = el('div', { class: 'ask', role: 'group', 'aria-labelledby': 'ivig-ask', hidden: true }, [
        el('p', { id: 'ivig-ask', tabindex: '-1', text: 'Start a new conversation? This one will be cleared.' }),
        el('button', { type: 'button', class: 'pill', text: 'Yes, clear it', onclick: function () { restart(); } }),
        el('button', { type: 'button', class: 'pill', text: 'Cancel', onclick: cancelAsk }),
        el('button', { type: 'button', class: 'pill', text: 'Delete it for good', onclick: function () {
          askBox.hidden = true; ask('delete my conversation', 'Delete my conversation');
        } })
      ]),
      log = el('div', { class: 'log', role: 'region', 'aria-label': 'Conversation', tabindex: '0' }),
      live = el('div', { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'true' }),
      alarm = el('div', { class: 'sr', 'aria-live': 'assertive', 'aria-atomic': 'true' }),
      el('form', { onsubmit: onSubmit }, [
        el('label', { class: 'sr', for: 'ivig-input', text: 'Your question' }),
        input = el('input', { id: 'ivig-input', type: 'text', autocomplete: 'off', maxlength: '2000', placeholder: 'Type your question\u2026',
          enterkeyhint: 'send', onfocus: fit, onblur: fit }),
        sendBtn = el('button', { type: 'submit', text: 'Send' })
      ]),
      el('p', { class: 'foot', text: 'General education, not personal medical advice.' })
    ])
  ]);
  function px(v) { v = parseInt(v, 10); return (v >= 0 ? v : 20) + 'px'; }
  var off = String(cfg.offset).split(/[\s,]+/), vars = {
    '--cp': cfg.primaryColor, '--ct': onPrimary, '--cl': linkColor, '--ob': px(off[0]), '--os': px(off[1]),
    '--dp': P ? toward(P, 0, function (l) { return l <= 0.06; }) : '#1f3550',
    '--dl': P ? toward(P, 255, function (l) { return l >= 0.4; }) : '#9ecbff',
    '--z': String(parseInt(cfg.zIndex, 10) || DEFAULTS.zIndex)
  };
  for (k in vars) wrap.style.setProperty(k, vars[k]);
  root.appendChild(wrap);

  function coarse() { return !!(window.matchMedia && matchMedia('(pointer:coarse)').matches); }
  // Full screen on narrow or short screens, sized to the visual viewport (header and input stay above a
  // phone's keyboard). The header: the title, then its labelled buttons on a row of their own; one compact row of
  // icons when space is short (on two lines when very narrow); none while typing on a tiny screen.
  function fit() {
    var v = window.visualViewport, vv = v && Math.abs(v.scale - 1) < 0.01, h = vv ? v.height : innerHeight, w = innerWidth;
    var end = log.scrollHeight - log.scrollTop - log.clientHeight < 40, c = wrap.classList;
    isFull = w <= 520 || h <= 520;
    c.toggle('full', isFull); c.toggle('short', h <= 520 || w < 360); c.toggle('narrow', w < 360); c.toggle('xs', w < 260);
    c.toggle('kb', h < 300 && root.activeElement === input && coarse());
    wrap.style.setProperty('--vh', h + 'px'); wrap.style.setProperty('--vt', (vv ? v.offsetTop : 0) + 'px');
    if (isFull) panel.setAttribute('aria-modal', 'true'); else panel.removeAttribute('aria-modal');
    lock(!panel.hidden && isFull);
    if (end) log.scrollTop = log.scrollHeight;
  }
  // While the full-screen panel is open the page behind it does not scroll.
  function lock(on) {
    var s = document.documentElement.style;
    if (on && saved == null) { saved = s.overflow; s.overflow = 'hidden'; } else if (!on && saved != null) { s.overflow = saved; saved = null; }
  }
  panel.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') { e.preventDefault(); if (askBox.hidden) close(); else cancelAsk(); }
    // Full screen: the page behind is covered, so Tab cycles within the panel.
    if (e.key === 'Tab' && isFull) {
      var f = [].filter.call(panel.querySelectorAll('button:not([disabled]),input,a[href],[tabindex="0"]'), function (x) {
        return x.getClientRects().length;
      });
      var first = f[0], last = f[f.length - 1], a = root.activeElement;
      if (e.shiftKey && a === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && a === last) { e.preventDefault(); first.focus(); }
    }
  });
  // Focus is never hidden behind the floating panel (WCAG 2.4.11): it folds back to its button instead.
  document.addEventListener('focusin', function (e) {
    var t = e.target;
    if (t !== host) setTimeout(function () {
      if (panel.hidden || isFull || document.activeElement !== t) return;
      var a = t.getBoundingClientRect(), b = panel.getBoundingClientRect(), x = (a.left + a.right) / 2, y = (a.top + a.bottom) / 2;
      if (x > b.left && x < b.right && y > b.top && y < b.bottom) close(false);
    }, 50);
  });
  window.addEventListener('resize', fit);
  if (window.visualViewport) { visualViewport.addEventListener('resize', fit); visualViewport.addEventListener('scroll', fit); }

  // Touch screens: focus on the heading, not the text box (the keyboard would cover the chat).
  function focusStart() { (coarse() ? title : input).focus(); }
  function open() {
    panel.hidden = false; launch.hidden = true; launch.setAttribute('aria-expanded', 'true');
    fit(); focusStart();
    if (!opened) { opened = true; greet(); }
  }
  function close(back) {
    panel.hidden = true; launch.hidden = false; launch.setAttribute('aria-expanded', 'false'); lock(false);
    if (back !== false) launch.focus();
  }
  function cancelAsk() { askBox.hidden = true; restartBtn.focus(); }
  function greet() {
    if (cfg.openingMessage) addBot({ text: cfg.openingMessage }, { lang: own }, true);
    ask('/greeting', null, !!cfg.openingMessage);
  }
  function restart() {
    post('/restart', sender).catch(function () {});
    sender = newId(); doc.href = docUrl();
    askBox.hidden = true; fullShown = false;
    log.textContent = ''; hideTyping(); setBusy(false);
    announce('Started a new conversation.');
    greet();
    if (!panel.hidden) focusStart();
  }
  function onSubmit(e) {
    e.preventDefault();
    var t = input.value.trim();
    if (busy) return announce('Please wait, the assistant is still answering.');
    if (!t) return;
    input.value = '';
    if (coarse()) input.blur();
    ask(t, t);
  }
  function setBusy(b) { busy = b; sendBtn.setAttribute('aria-disabled', b ? 'true' : 'false'); log.setAttribute('aria-busy', b ? 'true' : 'false'); }
  // Live regions are emptied after a while, so a screen reader does not find the text twice.
  function announce(t, urgent, lang) {
    var r = urgent ? alarm : live, n = ++seq;
    live.textContent = alarm.textContent = ''; clearTimeout(clearer);
    setTimeout(function () {
      if (n !== seq) return;
      if (lang) r.lang = lang; else r.removeAttribute('lang');
      r.textContent = t;
      clearer = setTimeout(function () { r.textContent = ''; }, 5000);
    }, 60);
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
  function ask(message, shown, onlyButtons, again) {
    if (shown != null) scrollTo(log.appendChild(el('div', { class: 'm u' }, [el('div', { class: 'b' }, [sr('You: '), shown])])));
    var id = sender;
    setBusy(true); showTyping();
    return post(message).then(function (items) {
      if (id !== sender) return;
      hideTyping();
      if (!render(items, onlyButtons) && !onlyButtons) throw new Error('empty reply');
    }).catch(function (err) {
      if (id !== sender) return;
      hideTyping(); showError(err, message, onlyButtons, again);
    }).then(function () { if (id === sender) setBusy(false); });
  }
  function showTyping() {
    var note = el('span');
    typing = log.appendChild(el('div', { class: 'm typing' }, [el('div', { class: 'b' }, [
      el('span', { class: 'dots', 'aria-hidden': 'true' }, [el('i'), el('i'), el('i')]), sr('The assistant is typing'), note
    ])]));
    scrollTo(typing);
    slow = setTimeout(function () { note.textContent = ' Still working on it\u2026'; announce(note.textContent); scrollTo(typing); }, 5000);
  }
  function hideTyping() { clearTimeout(slow); if (typing) typing.remove(); typing = null; }

  // ---- rendering bot turns: pair each custom payload with the text item before it
  function render(items, onlyButtons) {
    var n = 0;
    for (var i = 0; i < items.length; i++) {
      var it = items[i] || {}, custom = it.custom || null, next;
      if (typeof it.text === 'string' || it.buttons) {
        // Rasa splits a text sent without buttons at its blank lines: the pieces are one message again.
        while (!it.buttons && !custom && (next = items[i + 1]) && typeof next.text === 'string' && !next.buttons && !next.custom) {
          it = { text: it.text + '\n\n' + next.text }; i++;
        }
        next = items[i + 1];
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
  // Paragraphs at blank lines, "- " lines as bullets; `action`: the line in bold; `lang`: the first paragraph's.
  function formatText(parent, text, phones, action, lang) {
    text.split(/\n\s*\n/).forEach(function (para, n) {
      var p = null, ul = null;
      para.split('\n').forEach(function (line) {
        var node, bold = line === action;
        if (/^\s*[-\u2022] /.test(line)) {
          p = null;
          ul = ul || parent.appendChild(el('ul'));
          node = ul.appendChild(el('li'));
          line = line.replace(/^\s*[-\u2022] /, '');
        } else if (line.trim()) {
          ul = null;
          if (p) p.appendChild(el('br')); else p = parent.appendChild(el('p', { lang: n ? null : lang }));
          node = p;
        } else return;
        if (bold) node = node.appendChild(el('strong'));
        if (phones) withPhones(node, line); else node.appendChild(document.createTextNode(line));
      });
    });
  }
  function safeUrl(u) {
    try { var x = new URL(String(u)); return x.protocol === 'https:' ? x.href : null; } catch (e) { return null; }
  }
  var SHORT = ' IVIG only under medical supervision.';
  // The safety message: in full once, then one line that opens on request (all its words for screen readers).
  function safetyBox(text, compact) {
    if (!compact) return el('div', { class: 'safe', role: 'note' }, [el('strong', { text: 'Important' }), text]);
    var one = el('span', { 'aria-hidden': 'true', text: SHORT }), all = sr(text), btn;
    return el('div', { class: 'safe s', role: 'note' }, [el('span', null, [el('strong', { text: 'Important:' }), one, all]),
      btn = el('button', { type: 'button', 'aria-expanded': 'false', text: 'More', onclick: function () {
        var o = btn.getAttribute('aria-expanded') !== 'true';
        btn.setAttribute('aria-expanded', o); btn.textContent = o ? 'Less' : 'More';
        one.hidden = o; all.className = o ? '' : 'sr';
      } })]);
  }
  // Big call (and text) buttons for the numbers of an urgent reply, in order.
  function callButtons(text) {
    var seen = {}, box = el('div', { class: 'calls', role: 'group', 'aria-label': 'Get help now' });
    text.replace(new RegExp(PHONE.source, 'g'), function (num, g, at) {
      var tel = num.replace(/[^\d+]/g, '');
      if (seen[tel]) return; seen[tel] = 1;
      box.appendChild(el('a', { href: 'tel:' + tel, text: 'Call ' + num }));
      if (/\btext\b/i.test(text.slice(Math.max(0, at - 20), at + num.length + 40))) box.appendChild(el('a', { href: 'sms:' + tel, text: 'Text ' + num }));
    });
    return box.firstChild && box;
  }
  function addBot(item, custom, announceIt) {
    custom = custom && typeof custom === 'object' ? custom : {};
    var body = typeof item.text === 'string' ? item.text.trim() : '';
    var safety = typeof custom.safety_text === 'string' ? custom.safety_text.trim() : '';
    if (!safety && custom.safety && body.slice(-SAFETY.length) === SAFETY) safety = SAFETY;
    if (safety && body.slice(-safety.length) === safety) body = body.slice(0, -safety.length).trim();
    var cites = Array.isArray(custom.citations) ? custom.citations : [];
    // Sources are listed once, as links with their labels: the text's "- label https://..." lines are dropped.
    cites.forEach(function (c) {
      if (c && c.url) body = body.split('\n').filter(function (l) { return !/^\s*- /.test(l) || l.indexOf(c.url) < 0; }).join('\n');
    });
    // Urgent replies: numbers tap-to-call. Emergency, poisoning, crisis: red frame, the action line (first with a
    // number) bold with call buttons under it, only its sentence announced, assertively. Distress: calm.
    var urgent = URGENT_KINDS[custom.kind] === 1, alarmed = urgent && custom.topic !== 'distress';
    var action = alarmed ? body.split('\n').filter(function (l) { return PHONE.test(l); })[0] || body.split('\n')[0] : null;
    var lang = alarmed && custom.language && custom.language !== 'en' && body.split(/\n\s*\n/).length > 1 ? custom.language : null;
    var m = el('div', { class: 'm', 'data-topic': custom.topic, 'data-kind': custom.kind, 'data-urgent': alarmed });
    var b = el('div', { class: 'b', lang: custom.lang }, [sr('Assistant: ')]);
    var said = [body];
    formatText(b, body, urgent, action, lang);
    if (custom.kind === 'summary') b.appendChild(el('p', null, [docLink({ class: 'pill' }, [DOC, sr(NEWTAB)])]));
    // Forgotten: the bot deleted this conversation; whatever comes next is a new one (this turn is done).
    if (custom.kind === 'forgotten') { sender = newId(); doc.href = docUrl(); setBusy(false); }
    if (custom.checked) [].forEach.call(b.querySelectorAll('p'), function (p) {
      if (p.textContent.length < 60 && p.textContent.indexOf(custom.checked) >= 0) p.className = 'chk';
    });
    var at = b.querySelector('strong'), calls = alarmed && callButtons(body + '\n' + safety);
    while (at && at.parentNode !== b) at = at.parentNode;
    if (calls) b.insertBefore(calls, at ? at.nextSibling : null);
    // An urgent reply ends with its own line (no IVIG box): a person in danger must not read about prescriptions.
    if (safety) {
      if (urgent) b.appendChild(withPhones(el('p', { class: 'urg' }), safety));
      else { b.appendChild(safetyBox(safety, fullShown)); safety = fullShown ? 'Important:' + SHORT : safety; fullShown = true; }
      said.push(safety);
    }
    var links = cites.map(function (c) {
      var url = c && safeUrl(c.url);
      return url && el('li', null, [el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, [
        String(c.label || url), sr(NEWTAB)])]);
    }).filter(Boolean);
    if (links.length) {
      b.appendChild(el('div', { class: 'cites' }, [el('p', { text: links.length > 1 ? 'Sources' : 'Source' }), el('ul', null, links)]));
      said.push(links.length + (links.length > 1 ? ' sources linked.' : ' source linked.'));
    }
    if (body || safety || links.length) m.appendChild(b);
    var buttons = (Array.isArray(item.buttons) ? item.buttons : []).filter(function (x) { return x && x.title; });
    if (buttons.length) {
      m.appendChild(el('div', { class: 'chips', role: 'group', 'aria-label': 'Suggested questions' }, buttons.map(function (x) {
        return el('button', { type: 'button', class: 'pill', text: String(x.title), onclick: function () {
          if (!busy) ask(String(x.payload || x.title), String(x.title));
        } });
      })));
      said.push('Suggested questions below.');
    }
    if (custom.topic && !NO_FEEDBACK[custom.topic] && (custom.safety || custom.kind === 'answer')) m.appendChild(feedback(custom.topic));
    if (!m.childNodes.length) return;
    log.appendChild(m);
    scrollTo(m, true);
    if (announceIt && (body || safety)) {
      if (alarmed) announce((action.match(/[^.!?]*\d[^.!?]*[.!?]*/) || [action])[0].trim() || safety, true,
        body.split(/\n\s*\n/)[0].split('\n').indexOf(action) < 0 ? null : lang);
      else announce('Assistant: ' + said.join(' '));
    }
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
  // One error block at a time; "Try again" keeps focus in the conversation (on the new button if it fails).
  function showError(err, message, onlyButtons, again) {
    [].forEach.call(log.querySelectorAll('.err'), function (x) { x.remove(); });
    var offline = String(err && err.message) === 'offline';
    var who = cfg.clinicName || 'your clinic';
    var contact = el('p', null, ['For questions about your care, contact ' + who + (cfg.clinicContact ? ': ' + cfg.clinicContact : ' or your doctor') + '.']);
    if (cfg.clinicPhone) contact.appendChild(el('span', null, [' Phone: ', el('a', { href: 'tel:' + String(cfg.clinicPhone).replace(/[^\d+]/g, ''), text: cfg.clinicPhone })]));
    var head = offline ? 'You seem to be offline. Check your connection and try again.'
      : "Sorry, the assistant can't be reached right now. Please try again in a moment.";
    var retry = el('button', { type: 'button', class: 'pill retry', text: 'Try again', onclick: function () {
      if (busy) return;
      log.focus({ preventScroll: true }); m.remove(); ask(message, null, onlyButtons, true);
    } });
    var m = el('div', { class: 'm err', role: 'alert' }, [el('div', { class: 'b' }, [
      el('p', null, [el('strong', { text: head })]), contact, safetyBox(SAFETY), retry
    ])]);
    log.appendChild(m);
    scrollTo(m, true);
    if (again) retry.focus();
  }

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
  window.IVIGChat = { open: open, close: close, restart: restart };
})();
