// The composer's formatting help: a small toolbar, keyboard shortcuts (Ctrl/Cmd+B bold, I italic, Shift+X strike,
// E code) and a preview of the message as it will be shown (rendered by format.js, like a posted message).
import { h } from './dom.js';
import { formatText } from './format.js';

const MARKS = {
    bold: { before: '**', label: 'Bold', key: 'b', text: 'B' },
    italic: { before: '_', label: 'Italic', key: 'i', text: 'I' },
    strike: { before: '~~', label: 'Strikethrough', key: 'x', shift: true, text: 'S' },
    code: { before: '`', label: 'Code', key: 'e', text: '</>' },
    block: { before: '```\n', after: '\n```', label: 'Code block', text: '{ }' },
    link: { before: '[', after: '](https://)', label: 'Link', text: '🔗' },
    quote: { line: '> ', label: 'Quote', text: '❝' },
    list: { line: '- ', label: 'Bulleted list', text: '•' },
};

/** Handles a formatting shortcut on the composer's textarea; true when the key was one. */
export function formattingKey(e) {
    if (!(e.ctrlKey || e.metaKey) || e.altKey) return false;
    const mark = Object.values(MARKS).find(m => m.key === e.key.toLowerCase() && !!m.shift === e.shiftKey);
    if (!mark) return false;
    e.preventDefault();
    apply(e.target, mark);
    return true;
}

function apply(input, mark) {
    const { selectionStart: start, selectionEnd: end, value } = input;
    if (mark.line) {
        const from = value.lastIndexOf('\n', start - 1) + 1;
        const lines = value.slice(from, end).split('\n').map(l => `${mark.line}${l}`).join('\n');
        input.setRangeText(lines, from, end, 'end');
    } else {
        const before = mark.before;
        const after = mark.after ?? before;
        const wrapped = start >= before.length && value.slice(start - before.length, start) === before && value.slice(end, end + after.length) === after;
        if (wrapped) {
            input.setRangeText(value.slice(start, end), start - before.length, end + after.length, 'select');
        } else {
            input.setRangeText(`${before}${value.slice(start, end)}${after}`, start, end, 'select');
            input.setSelectionRange(start + before.length, end + before.length);
        }
    }
    input.focus();
    input.dispatchEvent(new Event('input', { bubbles: true }));
}

/** Puts the toolbar and the preview into a composer form (after its own submit handler, which empties the input). */
export function withFormatting(form, input) {
    const preview = h('div', { class: 'text formatted preview', 'data-testid': 'preview', 'aria-live': 'polite', hidden: true });
    const refresh = () => {
        if (preview.hidden) return;
        preview.replaceChildren(input.value.trim() ? formatText(input.value) : h('span', { class: 'muted' }, 'Nothing to preview'));
    };
    const toggle = h('button', {
        type: 'button', class: 'small', 'aria-pressed': 'false', 'aria-label': 'Preview',
        onclick: () => {
            preview.hidden = !preview.hidden;
            toggle.setAttribute('aria-pressed', String(!preview.hidden));
            refresh();
        },
    }, 'Preview');
    const tools = h('div', { class: 'format-tools', role: 'toolbar', 'aria-label': 'Formatting' },
        Object.values(MARKS).map(mark => h('button', {
            type: 'button', class: 'small', 'aria-label': mark.label,
            title: mark.key ? `${mark.label} (Ctrl+${mark.shift ? 'Shift+' : ''}${mark.key.toUpperCase()})` : mark.label,
            onmousedown: e => e.preventDefault(), // keep the textarea's selection
            onclick: () => apply(input, mark),
        }, mark.text)),
        toggle);
    input.addEventListener('input', refresh);
    form.addEventListener('submit', () => queueMicrotask(refresh));
    form.prepend(tools, preview);
    return form;
}
