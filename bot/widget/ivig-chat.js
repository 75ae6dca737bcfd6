/*! IVIG chat widget (docs/widget.md): one script tag, no dependencies, no build step, all in a shadow root.
 * Bot and user text is always inserted as text, never as HTML. */
(function () {
  'use strict';
  if (window.IVIGChat) return;
  var script = document.currentScript || document.querySelector('script[src*="ivig-chat"]');
  // The widget's own words (data-lang es, fr: ivig-chat.es.json, .fr.json replace them)
  var S = {
    title: 'Questions about IVIG', launch: 'Ask about IVIG', restart: 'Start over (new conversation)', over: 'Start over',
    sum: 'Summary', doc: 'Summary for my doctor', newtab: ' (opens in a new tab)', close: 'Close chat',
    ask: 'Start a new conversation? This one will be cleared.', yes: 'Yes, clear it', cancel: 'Cancel',
    del: 'Delete it for good', delMsg: 'Delete my conversation', log: 'Conversation', label: 'Your question',
    ph: 'Type your question\u2026', send: 'Send', foot: 'General education, not personal medical advice.',
    started: 'Started a new conversation.', wait: 'Please wait, the assistant is still answering.', you: 'You: ',
    bot: 'Assistant: ', typing: 'The assistant is typing', slow: 'Still working on it\u2026', imp: 'Important',
    impc: 'Important:', short: 'IVIG only under medical supervision.', more: 'More', less: 'Less',
    help: 'Get help now', call: 'Call {number}', sms: 'Text {number}', src: 'Source', srcs: 'Sources',
    linked: '1 source linked.', linkedN: '{count} sources linked.', sugg: 'Suggested questions',
    below: 'Suggested questions below.', rate: 'Rate this answer', helpful: 'Helpful?', up: 'This answer was helpful',
    down: 'This answer was not helpful', thanks: 'Thanks for your feedback.', fbErr: 'Feedback could not be sent.',
    offline: 'You seem to be offline. Check your connection and try again.',
    unreach: "Sorry, the assistant can't be reached right now. Please try again in a moment.", retry: 'Try again',
    care: 'For questions about your care, contact {clinic}: {contact}.',
    careDoc: 'For questions about your care, contact {clinic} or your doctor.', clinic: 'your clinic', phone: 'Phone: {phone}',
    safety: 'IVIG is a prescription treatment given only under medical supervision. This chat is education, ' +
      'not personal medical advice - please talk to your own doctor.'
  };
  var SAFETY = S.safety; // as the bot ends its answers
  var DEFAULTS = {
    botUrl: '', title: '', clinicName: '', clinicContact: '', clinicPhone: '',
    primaryColor: '#0b5cad', primaryTextColor: '', position: 'right', openingMessage: '',
    launcherLabel: '', lang: 'en', storage: 'session', timeout: 15, zIndex: 2147483000, offset: ''
  };
  var KEY = 'ivig-chat-conversation-id';
  var NO_FEEDBACK = { greeting: 1, goodbye: 1, thanks: 1, feedback: 1, emergency: 1, poisoning: 1, crisis: 1, distress: 1, doctor_summary: 1, privacy: 1 };
  var URGENT_KINDS = { urgent: 1, reminder: 1 }, PHONE = /(\+?\d[\d -]{1,15}\d)/;

  var cfg = {}, k, obj = window.IVIGChatConfig || {}, data = (script && script.dataset) || {};
  for (k in DEFAULTS) cfg[k] = data[k] != null ? data[k] : obj[k] != null ? obj[k] : DEFAULTS[k];
  var botUrl = String(cfg.botUrl || (script ? new URL(script.src, location.href).origin : location.origin))
    .replace(/\/+$/, '');

  // ---- DOM: text only, never innerHTML; a string of S gives its element's lang
  function el(tag, attrs, kids) {
    var e = document.createElement(tag), a;
    for (a in attrs || {}) {
      var v = attrs[a];
      if (v == null || v === false) continue;
      if (v.l) e.lang = v.l;
      if (a === 'text') e.textContent = v;
      else if (a === 'class') e.className = v;
      else if (a.slice(0, 2) === 'on') e.addEventListener(a.slice(2), v);
      else e.setAttribute(a, v === true ? '' : v);
    }
    (kids || []).forEach(function (c) { if (c) e.append(c); });
    return e;
  }
  var sr = function (t) { return el('span', { class: 'sr', text: t }); };
  // A string of S: its text and lang; {names} in it: nodes or strings
  function put(e, t) { e.textContent = t; e.lang = t.l; }
  function fill(t, args) {
    return el('span', { lang: t.l }, t.split(/\{(\w+)\}/).map(function (x, i) { return i % 2 ? args[x] : x; }));
  }

  // ---- colours: readable text on the clinic colour (WCAG AA), dark-mode forms
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

  // ---- conversation id
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
  function docUrl() { return botUrl + '/summary/' + encodeURIComponent(sender); }
  function docLink(attrs, kids) {
    attrs.href = docUrl(); attrs.target = '_blank'; attrs.rel = 'noopener noreferrer';
    return el('a', attrs, kids);
  }

  var CSS = `
    :host{all:initial}
    *{box-sizing:border-box}
    .w{--bg:#fff;--b2:#f6f7f9;--fg:#1a1a1a;--bd:#d5dae1;--mu:#4a5361;--ib:#6b7482;--sb:#fff4e0;--sf:#3b2300;--sl:#b35c00;
    --eb:#fdeeee;--ef:#5c0f0a;--er:#b3261e;--p:var(--cp);--pt:var(--ct);--l:var(--cl);
    font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);-webkit-text-size-adjust:100%}
    @media (prefers-color-scheme:dark){.w{--bg:#1c1f24;--b2:#131518;--fg:#e8eaed;--bd:#444b55;--mu:#b8c0cb;--ib:#8d97a5;
    --sb:#35280f;--sf:#f8e1b8;--sl:#e49b3c;--eb:#3b1816;--ef:#fcd6d2;--er:#f28b82;--p:var(--dp);--pt:#fff;--l:var(--dl);color-scheme:dark}}
    .sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
    button{font:inherit;cursor:pointer}
    :focus-visible{outline:3px solid var(--fg);outline-offset:2px}
    .launch{position:fixed;bottom:var(--ob);right:var(--os);z-index:var(--z);display:flex;align-items:center;gap:8px;padding:12px 18px;
    border:2px solid #fff;border-radius:28px;background:var(--p);color:var(--pt);font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.3)}
    .launch:focus-visible{outline:3px solid #1a1a1a;box-shadow:0 0 0 6px #fff}
    .left .launch,.left .panel{right:auto;left:var(--os)}
    .panel{position:fixed;bottom:var(--ob);right:var(--os);z-index:var(--z);width:min(400px,calc(100vw - 40px));
    height:min(680px,calc(100vh - 20px - var(--ob)));display:flex;flex-direction:column;background:var(--bg);border-radius:14px;
    overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3);animation:in .2s ease-out}
    .full .panel{top:var(--vt);left:0;right:0;bottom:auto;width:100%;height:var(--vh);border-radius:0}
    [hidden]{display:none!important}
    @keyframes in{from{opacity:0;transform:translateY(12px)}}
    .hd{display:flex;align-items:center;gap:8px;padding:8px 8px 8px 16px;background:var(--p);color:var(--pt)}
    .hd>div{flex:1;min-width:0}h2{margin:0;font-size:17px;overflow-wrap:anywhere}.hd p{margin:0;font-size:14px}
    .hd button,.hd a{display:flex;align-items:center;gap:6px;min-width:44px;min-height:44px;padding:0 10px;
    background:none;color:inherit;border:1px solid;border-radius:8px;text-decoration:none}
    .hd :focus-visible{outline-color:currentColor}
    .x{justify-content:center;font-size:26px;line-height:1}
    .short .hd{padding:4px 6px 4px 12px}.short h2{font-size:15px}.narrow .hd{padding-left:10px}.xs .hd,.w:not(.short) .hd{flex-wrap:wrap;justify-content:flex-end;row-gap:2px}.xs .hd>div,.w:not(.short) .hd>div{flex-basis:100%}.xs h2{font-size:14px}.short .hd p,.short .foot,.narrow .t,.kb .hd,.hd svg{display:none}.narrow .hd svg,.w:not(.short) .hd svg{display:block}
    .ask{display:flex;flex-wrap:wrap;gap:0 8px;padding:6px 12px 10px;background:var(--sb);color:var(--sf);border-bottom:2px solid var(--sl)}
    .ask p{flex:1 1 100%;margin:4px 0 0;font-weight:600}
    .log{position:relative;flex:1;overflow-y:auto;overscroll-behavior:contain;padding:14px;background:var(--b2)}
    .m{margin:0 0 14px;display:flex;flex-direction:column;align-items:flex-start}
    .m.u{align-items:flex-end}
    .b{max-width:92%;padding:10px 13px;border-radius:14px;background:var(--bg);border:1px solid var(--bd);overflow-wrap:anywhere}
    .u .b{background:var(--p);color:var(--pt);border-color:var(--p);white-space:pre-wrap}
    .b p{margin:0 0 8px}.b p:last-child{margin:0}.b ul{margin:0 0 8px;padding-left:22px}
    .b a{color:var(--l)}.b .chk{font-size:14px;color:var(--mu)}
    [data-urgent] .b{border:3px solid var(--er)}
    .calls{display:flex;flex-wrap:wrap;gap:8px;margin:2px 0 10px}
    .b .calls a{display:flex;align-items:center;min-height:48px;padding:8px 18px;border-radius:24px;background:var(--er);
    color:var(--bg);font-weight:700;text-decoration:none}
    .safe{margin-top:10px;padding:8px 10px;border-left:5px solid var(--sl);background:var(--sb);color:var(--sf);border-radius:6px;font-size:15px}
    .safe strong{display:block}.s{display:flex;align-items:center;gap:6px;padding:0 0 0 10px}.s strong{display:inline}
    .s button{flex:none;min-width:44px;min-height:44px;border:0;background:none;color:inherit;font-weight:600;text-decoration:underline}
    .cites{margin-top:10px;font-size:15px}.cites p{margin:0;font-weight:600}.cites ul{margin:4px 0 0}.cites li{margin:6px 0}
    .err .b{background:var(--eb);border-color:var(--er);color:var(--ef)}
    .pill{margin-top:8px;padding:8px 14px;min-height:44px;border-radius:22px;border:1px solid var(--l);background:var(--bg);color:var(--l);text-align:left}
    a.pill{display:inline-flex;align-items:center}
    .chips{display:flex;flex-wrap:wrap;gap:0 8px;max-width:95%}
    .fb{display:flex;align-items:center;gap:8px;margin-top:6px;font-size:14px;color:var(--mu)}
    .fb button{display:flex;align-items:center;justify-content:center;width:44px;height:44px;border:1px solid var(--ib);
    border-radius:8px;background:var(--bg);color:var(--mu)}
    .fb [aria-pressed=true]{background:var(--p);color:var(--pt);border-color:var(--p)}
    .fb button:disabled{cursor:default}
    .dots i{display:inline-block;width:8px;height:8px;margin:0 3px;border-radius:50%;background:var(--mu);animation:d 1s infinite alternate}
    .dots i:nth-child(2){animation-delay:.2s}.dots i:nth-child(3){animation-delay:.4s}
    @keyframes d{to{opacity:.25}}
    form{display:flex;gap:8px;padding:8px 10px;border-top:1px solid var(--bd);background:var(--bg)}
    input{flex:1;min-width:0;min-height:44px;font:inherit;font-size:16px;padding:8px 12px;border:1px solid var(--ib);border-radius:10px;color:var(--fg);background:var(--bg)}
    input::placeholder{color:var(--mu)}
    form button{min-height:44px;padding:8px 16px;border:2px solid transparent;border-radius:10px;background:var(--p);color:var(--pt);font-weight:600}
    .foot{margin:0;padding:0 12px 8px;font-size:13px;color:var(--mu);background:var(--bg)}
    @media (forced-colors:active){.panel,.w button,.calls a,.safe,.hd{border:2px solid}.dots i{background:CanvasText}}
    @media (prefers-reduced-motion:reduce){*{animation:none!important;transition:none!important}}`;

  function svg(path, flip) {
    var s = document.createElementNS('http://www.w3.org/2000/svg', 'svg'), p = document.createElementNS(s.namespaceURI, 'path');
    s.setAttribute('viewBox', '0 0 24 24'); s.setAttribute('width', '22'); s.setAttribute('height', '22');
    s.setAttribute('aria-hidden', 'true'); s.setAttribute('focusable', 'false');
    if (flip) s.style.transform = 'rotate(180deg)';
    p.setAttribute('d', path); p.setAttribute('fill', 'currentColor'); s.appendChild(p);
    return s;
  }
  var THUMB = 'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1.2-.7v-2z';

  // ---- the UI, built once its words are known
  var host = el('ivig-chat-widget', { 'data-ivig-chat': '' });
  var root = host.attachShadow({ mode: 'open' });
  var log, input, panel, launch, live, alarm, sendBtn, title, askBox, restartBtn, doc, typing = null, slow, busy = false, opened = false;
  var fullShown = false, isFull = false, seq = 0, clearer, saved = null, own = cfg.lang, wrap, later = [];
  var ui = /^(es|fr)\b/i.test(own) && own.slice(0, 2).toLowerCase();
  function start(tr) {
    if (wrap) return;
    for (k in S) {
      var t = tr && typeof tr[k] === 'string';
      S[k] = new String(t ? tr[k] : S[k]); S[k].l = t ? ui : 'en';
    }
    wrap = el('div', { class: 'w' + (cfg.position === 'left' ? ' left' : ''), lang: tr ? ui : /^en\b/i.test(own) ? own : 'en' }, [
      el('style', { text: CSS }),
      launch = el('button', { class: 'launch', 'aria-expanded': 'false', 'aria-controls': 'ivig-panel', onclick: open }, [
        svg('M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z'), el('span', { lang: own, text: cfg.launcherLabel || S.launch })
      ]),
      panel = el('section', { class: 'panel', id: 'ivig-panel', role: 'dialog', 'aria-labelledby': 'ivig-title', hidden: true }, [
        el('div', { class: 'hd' }, [
          el('div', null, [title = el('h2', { id: 'ivig-title', tabindex: '-1', lang: own, text: cfg.title || S.title }),
            cfg.clinicName ? el('p', { lang: own, text: cfg.clinicName }) : null]),
          restartBtn = el('button', { 'aria-label': S.restart, onclick: function () {
            askBox.hidden = false; askBox.firstChild.focus();
          } }, [svg('M17.65 6.35A7.96 7.96 0 0 0 12 4a8 8 0 1 0 7.73 10h-2.08A6 6 0 1 1 12 6c1.66 0 3.14.69 4.22 1.78L13 11h7V4z'),
            el('span', { class: 't', text: S.over })]),
          doc = docLink({ 'aria-label': S.doc + S.newtab, lang: S.doc.l }, [svg('M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm2 16H8v-2h8zm0-4H8v-2h8zm-3-5V3.5L18.5 9z'),
            el('span', { class: 't', text: S.sum })]),
          el('button', { class: 'x', 'aria-label': S.close, onclick: close, text: '\u00d7' })
        ]),
        // "Start over" asks first.
        askBox = el('div', { class: 'ask', role: 'group', 'aria-labelledby': 'ivig-ask', hidden: true }, [
          el('p', { id: 'ivig-ask', tabindex: '-1', text: S.ask }),
          el('button', { class: 'pill', text: S.yes, onclick: function () { restart(); } }),
          el('button', { class: 'pill', text: S.cancel, onclick: cancelAsk }),
          el('button', { class: 'pill', text: S.del, onclick: function () {
            askBox.hidden = true; ask('delete my conversation', el('span', { text: S.delMsg }));
          } })
        ]),
        log = el('div', { class: 'log', role: 'region', 'aria-label': S.log, tabindex: '0' }),
        live = el('div', { class: 'sr', 'aria-live': 'polite', 'aria-atomic': 'true' }),
        alarm = el('div', { class: 'sr', 'aria-live': 'assertive', 'aria-atomic': 'true' }),
        el('form', { onsubmit: onSubmit }, [
          el('label', { class: 'sr', for: 'ivig-input', text: S.label }),
          input = el('input', { id: 'ivig-input', type: 'text', autocomplete: 'off', maxlength: '2000', placeholder: S.ph,
            enterkeyhint: 'send', onfocus: fit, onblur: fit }),
          sendBtn = el('button', { type: 'submit', text: S.send })
        ]),
        el('p', { class: 'foot', text: S.foot })
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
    root.append(wrap);
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.preventDefault(); if (askBox.hidden) close(); else cancelAsk(); }
      // Full screen: Tab cycles within the panel.
      if (e.key === 'Tab' && isFull) {
        var f = [].filter.call(panel.querySelectorAll('button:not([disabled]),input,a[href],[tabindex="0"]'), function (x) {
          return x.getClientRects().length;
        });
        var first = f[0], last = f[f.length - 1], a = root.activeElement;
        if (e.shiftKey && a === first) { e.preventDefault(); last.focus(); }
        else if (!e.shiftKey && a === last) { e.preventDefault(); first.focus(); }
      }
    });
    // Focus never hidden behind the panel (WCAG 2.4.11): it folds away.
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
    if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
    later.forEach(function (f) { f(); });
  }

  function coarse() { return !!(window.matchMedia && matchMedia('(pointer:coarse)').matches); }
  // Full screen on small screens, sized to the visual viewport (above a phone's keyboard); compact header.
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
  // Full screen: the page behind does not scroll.
  function lock(on) {
    var s = document.documentElement.style;
    if (on && saved == null) { saved = s.overflow; s.overflow = 'hidden'; } else if (!on && saved != null) { s.overflow = saved; saved = null; }
  }

  // Touch screens: focus the heading (a keyboard would cover the chat).
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
    announce(S.started);
    greet();
    if (!panel.hidden) focusStart();
  }
  function onSubmit(e) {
    e.preventDefault();
    var t = input.value.trim();
    if (busy) return announce(S.wait);
    if (!t) return;
    input.value = '';
    if (coarse()) input.blur();
    ask(t, t);
  }
  function setBusy(b) { busy = b; sendBtn.setAttribute('aria-disabled', b); log.setAttribute('aria-busy', b); }
  // Live regions are emptied, so a screen reader meets the text once.
  function announce(t, urgent, lang) {
    var r = urgent ? alarm : live, n = ++seq;
    live.textContent = alarm.textContent = ''; clearTimeout(clearer);
    setTimeout(function () {
      if (n !== seq) return;
      r.lang = lang || t.l || 'en'; r.textContent = ''; r.append(t);
      clearer = setTimeout(function () { r.textContent = ''; }, 5000);
    }, 60);
  }
  function scrollTo(m, top) {
    // A bot message is shown from its start (with the question if it fits).
    var prev = m.previousElementSibling, y = m.offsetTop;
    if (prev && / u/.test(prev.className) && m.offsetHeight + y - prev.offsetTop < log.clientHeight) y = prev.offsetTop;
    log.scrollTop = top ? Math.max(0, y - 10) : log.scrollHeight;
  }

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
    if (shown != null) scrollTo(log.appendChild(el('div', { class: 'm u' }, [el('div', { class: 'b' }, [sr(S.you), shown])])));
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
      el('span', { class: 'dots', 'aria-hidden': 'true' }, [el('i'), el('i'), el('i')]), sr(S.typing), ' ', note
    ])]));
    scrollTo(typing);
    slow = setTimeout(function () { put(note, S.slow); announce(S.slow); scrollTo(typing); }, 5000);
  }
  function hideTyping() { clearTimeout(slow); if (typing) typing.remove(); typing = null; }

  // ---- bot turns: a custom payload goes with the text before it
  function render(items, onlyButtons) {
    var n = 0;
    for (var i = 0; i < items.length; i++) {
      var it = items[i] || {}, custom = it.custom || null, next;
      if (typeof it.text === 'string' || it.buttons) {
        // Rasa splits a text without buttons at blank lines: one message again.
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
    text.split(PHONE).forEach(function (part, i) {
      node.append(i % 2 ? el('a', { href: 'tel:' + part.replace(/[^\d+]/g, ''), text: part }) : part);
    });
    return node;
  }
  // Paragraphs, "- " bullets, `action` bold, the first paragraph in `lang`.
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
        if (phones) withPhones(node, line); else node.append(line);
      });
    });
  }
  function safeUrl(u) {
    try { var x = new URL(String(u)); return x.protocol === 'https:' ? x.href : null; } catch (e) { return null; }
  }
  // Safety message: in full once, then one line that opens (all of it for screen readers).
  function safetyBox(text, compact) {
    if (!compact) return el('div', { class: 'safe', role: 'note' }, [el('strong', { text: S.imp }), el('span', { text: text })]);
    var one = el('span', { 'aria-hidden': 'true', text: S.short }), all = sr(text), btn;
    return el('div', { class: 'safe s', role: 'note' }, [el('span', null, [el('strong', { text: S.impc }), ' ', one, all]),
      btn = el('button', { 'aria-expanded': 'false', text: S.more, onclick: function () {
        var o = btn.getAttribute('aria-expanded') !== 'true';
        btn.setAttribute('aria-expanded', o); put(btn, o ? S.less : S.more);
        one.hidden = o; all.className = o ? '' : 'sr';
      } })]);
  }
  function callButtons(text) {
    var seen = {}, box = el('div', { class: 'calls', role: 'group', 'aria-label': S.help });
    text.replace(new RegExp(PHONE.source, 'g'), function (num, g, at) {
      var tel = num.replace(/[^\d+]/g, '');
      if (seen[tel]) return; seen[tel] = 1;
      box.append(el('a', { href: 'tel:' + tel }, [fill(S.call, { number: num })]));
      if (/\btext\b/i.test(text.slice(Math.max(0, at - 20), at + num.length + 40))) box.append(el('a', { href: 'sms:' + tel }, [fill(S.sms, { number: num })]));
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
    // Sources once, as links: the text's "- label https://..." lines go.
    cites.forEach(function (c) {
      if (c && c.url) body = body.split('\n').filter(function (l) { return !/^\s*- /.test(l) || l.indexOf(c.url) < 0; }).join('\n');
    });
    // Urgent: numbers tap-to-call. Not distress: red frame, action line bold with call buttons, announced alone.
    var urgent = URGENT_KINDS[custom.kind] === 1, alarmed = urgent && custom.topic !== 'distress';
    var action = alarmed ? body.split('\n').filter(function (l) { return PHONE.test(l); })[0] || body.split('\n')[0] : null;
    var lang = alarmed && custom.language && custom.language !== 'en' && body.split(/\n\s*\n/).length > 1 ? custom.language : null;
    var m = el('div', { class: 'm', 'data-topic': custom.topic, 'data-kind': custom.kind, 'data-urgent': alarmed });
    // The bot's words are English (the opening message: data-lang).
    var bl = custom.lang || 'en', b = el('div', { class: 'b', lang: bl }, [sr(S.bot)]), said = el('span');
    function say(t) { said.append(t.nodeType ? t : el('span', { lang: bl, text: t }), ' '); }
    say(S.bot); say(body);
    formatText(b, body, urgent, action, lang);
    if (custom.kind === 'summary') b.append(el('p', null, [docLink({ class: 'pill', lang: S.doc.l }, [S.doc, sr(S.newtab)])]));
    // Forgotten: a new conversation.
    if (custom.kind === 'forgotten') { sender = newId(); doc.href = docUrl(); setBusy(false); }
    if (custom.checked) [].forEach.call(b.querySelectorAll('p'), function (p) {
      if (p.textContent.length < 60 && p.textContent.indexOf(custom.checked) >= 0) p.className = 'chk';
    });
    var at = b.querySelector('strong'), calls = alarmed && callButtons(body + '\n' + safety);
    while (at && at.parentNode !== b) at = at.parentNode;
    if (calls) b.insertBefore(calls, at ? at.nextSibling : null);
    // Urgent: its own last line, no IVIG box.
    if (safety) {
      b.append(urgent ? withPhones(el('p', { class: 'urg' }), safety) : safetyBox(safety, fullShown));
      if (urgent || !fullShown) say(safety); else { say(S.impc); say(S.short); }
      if (!urgent) fullShown = true;
    }
    var links = cites.map(function (c) {
      var url = c && safeUrl(c.url);
      return url && el('li', null, [el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, [
        String(c.label || url), sr(S.newtab)])]);
    }).filter(Boolean);
    if (links.length) {
      b.append(el('div', { class: 'cites' }, [el('p', { text: links.length > 1 ? S.srcs : S.src }), el('ul', null, links)]));
      say(links.length > 1 ? fill(S.linkedN, { count: links.length }) : S.linked);
    }
    if (body || safety || links.length) m.append(b);
    var buttons = (Array.isArray(item.buttons) ? item.buttons : []).filter(function (x) { return x && x.title; });
    if (buttons.length) {
      m.append(el('div', { class: 'chips', role: 'group', 'aria-label': S.sugg }, buttons.map(function (x) {
        return el('button', { class: 'pill', lang: 'en', text: String(x.title), onclick: function () {
          if (!busy) ask(String(x.payload || x.title), el('span', { lang: 'en', text: String(x.title) }));
        } });
      })));
      say(S.below);
    }
    if (custom.topic && !NO_FEEDBACK[custom.topic] && (custom.safety || custom.kind === 'answer')) m.append(feedback(custom.topic));
    if (!m.childNodes.length) return;
    log.append(m);
    scrollTo(m, true);
    if (announceIt && (body || safety)) {
      if (alarmed) announce((action.match(/[^.!?]*\d[^.!?]*[.!?]*/) || [action])[0].trim() || safety, true,
        body.split(/\n\s*\n/)[0].split('\n').indexOf(action) < 0 ? null : lang);
      else announce(said);
    }
  }
  function feedback(topic) {
    var note = el('span', { 'aria-live': 'polite' }), up, down;
    function rate(r, btn) {
      up.disabled = down.disabled = true;
      btn.setAttribute('aria-pressed', 'true');
      post('/feedback' + JSON.stringify({ rating: r, feedback_topic: topic })).then(function () {
        put(note, S.thanks);
      }, function () {
        put(note, S.fbErr);
        up.disabled = down.disabled = false; btn.setAttribute('aria-pressed', 'false');
      });
    }
    up = el('button', { 'aria-label': S.up, 'aria-pressed': 'false', onclick: function () { rate('up', up); } }, [svg(THUMB)]);
    down = el('button', { 'aria-label': S.down, 'aria-pressed': 'false', onclick: function () { rate('down', down); } }, [svg(THUMB, true)]);
    return el('div', { class: 'fb', role: 'group', 'aria-label': S.rate }, [el('span', { text: S.helpful, 'aria-hidden': 'true' }), up, down, note]);
  }
  // One error block at a time; "Try again" keeps focus in the log.
  function showError(err, message, onlyButtons, again) {
    [].forEach.call(log.querySelectorAll('.err'), function (x) { x.remove(); });
    var offline = String(err && err.message) === 'offline';
    var contact = el('p', null, [fill(cfg.clinicContact ? S.care : S.careDoc, {
      clinic: el('span', { lang: own, text: cfg.clinicName || S.clinic }), contact: el('span', { lang: own, text: cfg.clinicContact })
    })]);
    if (cfg.clinicPhone) contact.append(' ', fill(S.phone, { phone: el('a', { href: 'tel:' + String(cfg.clinicPhone).replace(/[^\d+]/g, ''), text: cfg.clinicPhone }) }));
    var retry = el('button', { class: 'pill retry', text: S.retry, onclick: function () {
      if (busy) return;
      log.focus({ preventScroll: true }); m.remove(); ask(message, null, onlyButtons, true);
    } });
    var m = el('div', { class: 'm err', role: 'alert' }, [el('div', { class: 'b' }, [
      el('p', null, [el('strong', { text: offline ? S.offline : S.unreach })]), contact, safetyBox(S.safety), retry
    ])]);
    log.append(m);
    scrollTo(m, true);
    if (again) retry.focus();
  }

  function mount() { document.body.append(host); }
  // A missing or late translation: English. The page's calls wait for the UI.
  if (ui) {
    fetch(new URL('ivig-chat.' + ui + '.json', script ? script.src : location.href))
      .then(function (r) { return r.ok && r.json(); }).catch(function () {}).then(start);
    setTimeout(start, 5000);
  } else start();
  function api(f) { return function () { if (wrap) f(); else later.push(f); }; }
  window.IVIGChat = { open: api(open), close: api(close), restart: api(restart) };
})();
