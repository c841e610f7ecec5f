// Tiny DOM helpers: the client renders with plain DOM nodes (no innerHTML of user text anywhere).

/**
 * h('button', { class: 'x', onclick: fn, 'aria-label': 'Send' }, 'text', child)
 * Attributes starting with "on" are listeners; false/null/undefined attributes are left out; children may be
 * strings, nodes, arrays or null.
 */
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
        if (value === false || value === null || value === undefined) continue;
        if (key.startsWith('on') && typeof value === 'function') listen(el, key.slice(2), value);
        else if (key === 'value') el.value = value;
        else if (key === 'dataset') Object.assign(el.dataset, value);
        else el.setAttribute(key, value === true ? '' : String(value));
    }
    el.append(...flatten(children));
    return el;
}

/** Puts exactly `nodes` into `container`, in order, moving only what changed (focus and caret inside kept nodes survive). */
export function reconcile(container, nodes) {
    let cursor = container.firstChild;
    for (const node of nodes) {
        if (node === cursor) {
            cursor = cursor.nextSibling;
        } else {
            container.insertBefore(node, cursor);
        }
    }
    while (cursor) {
        const next = cursor.nextSibling;
        cursor.remove();
        cursor = next;
    }
}

const HANDLERS = Symbol('handlers');

/** An element's listener set through h(): one per event type, swapped in place when morph() keeps the element. */
function listen(el, type, fn) {
    let table = el[HANDLERS];
    if (!table) table = el[HANDLERS] = {};
    if (!(type in table)) el.addEventListener(type, e => el[HANDLERS][type]?.(e));
    table[type] = fn;
}

/**
 * Makes `container`'s children look like `nodes` (as h() takes children: nodes, strings, arrays, null), keeping the
 * elements already there that stand for the same thing: the same tag and key (`data-key`, `data-channel` or `id`), or
 * the same place among the unkeyed. Kept elements get the new attributes, text and h() listeners in place.
 * Views that background events re-render (sidebar, channel header, top bar) use it instead of replacing their
 * children: a button replaced while it is pressed (mousedown on the old one, mouseup on its replacement) fires no
 * click, so a person's click, or a test's, would be lost. Not for form fields: their value and checked state are
 * properties, which it leaves alone.
 */
export function morph(container, nodes) {
    const keyed = new Map();
    const loose = [];
    for (const old of container.childNodes) {
        const key = keyOf(old);
        if (key) keyed.set(key, old);
        else loose.push(old);
    }
    let next = 0;
    const result = flatten(nodes).map(node => {
        const key = keyOf(node);
        const old = key ? keyed.get(key) : loose[next++];
        if (key) keyed.delete(key);
        return old && old.nodeType === node.nodeType && old.nodeName === node.nodeName ? update(old, node) : node;
    });
    reconcile(container, result);
}

function keyOf(node) {
    if (node.nodeType !== Node.ELEMENT_NODE) return '';
    const key = node.dataset.key ?? node.dataset.channel ?? (node.id || null);
    return key === null ? '' : `${node.nodeName}:${key}`;
}

function update(old, node) {
    if (old.nodeType === Node.TEXT_NODE) {
        if (old.data !== node.data) old.data = node.data;
        return old;
    }
    if (old.nodeType !== Node.ELEMENT_NODE) return node;
    for (const { name } of [...old.attributes]) if (!node.hasAttribute(name)) old.removeAttribute(name);
    for (const { name, value } of node.attributes) if (old.getAttribute(name) !== value) old.setAttribute(name, value);
    const handlers = node[HANDLERS] ?? {};
    for (const type of Object.keys(old[HANDLERS] ?? {})) if (!(type in handlers)) old[HANDLERS][type] = undefined;
    for (const [type, fn] of Object.entries(handlers)) listen(old, type, fn);
    morph(old, [...node.childNodes]);
    return old;
}

/** Children as h() and morph() take them (nodes, strings, nested arrays; null, undefined and false left out), as nodes. */
function flatten(children, into = []) {
    for (const child of children) {
        if (child === null || child === undefined || child === false) continue;
        if (Array.isArray(child)) flatten(child, into);
        else into.push(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return into;
}

const entities = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };

/** The search API's highlight is HTML-escaped text with <mark> around hits: rebuilt as text nodes and <mark> elements. */
export function highlightNodes(highlight) {
    const parts = String(highlight || '').split(/<\/?mark>/);
    return parts.map((part, i) => {
        const text = part.replace(/&(amp|lt|gt|quot|#39|#x27);/g, m => entities[m]);
        return i % 2 === 1 ? h('mark', null, text) : document.createTextNode(text);
    });
}

export function newId() {
    return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric', year: 'numeric' });

export function time(iso) { return timeFormat.format(new Date(iso)); }

export function dayKey(iso) {
    const d = new Date(iso);
    return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function dayLabel(iso) {
    const d = new Date(iso);
    const today = new Date();
    const yesterday = new Date(Date.now() - 86400000);
    if (dayKey(d.toISOString()) === dayKey(today.toISOString())) return 'Today';
    if (dayKey(d.toISOString()) === dayKey(yesterday.toISOString())) return 'Yesterday';
    return dayFormat.format(d);
}

/** A labelled form field: label, input, optional hint. */
export function field(label, input, hint) {
    return h('div', { class: 'field' }, h('label', { for: input.id }, label), input, hint ? h('small', null, hint) : null);
}
