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
        if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
        else if (key === 'value') el.value = value;
        else if (key === 'dataset') Object.assign(el.dataset, value);
        else el.setAttribute(key, value === true ? '' : String(value));
    }
    append(el, children);
    return el;
}

function append(el, children) {
    for (const child of children) {
        if (child === null || child === undefined || child === false) continue;
        if (Array.isArray(child)) append(el, child);
        else el.append(child instanceof Node ? child : String(child));
    }
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
