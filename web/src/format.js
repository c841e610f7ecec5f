// Message formatting: the documented Markdown subset (docs/web-client.md) turned into sanitized DOM nodes.
// markdown-it parses with raw HTML off and only the subset's rules on; DOMPurify then keeps only the subset's
// elements and attributes (and http/https/mailto links) and returns a DOM fragment, so no HTML string ever reaches
// the page; last, links are made to open in a new tab without an opener or a referrer, and mention placeholders become
// chips built with h() (names are text nodes).
import MarkdownIt from 'markdown-it';
import DOMPurify from 'dompurify';
import { h } from './dom.js';
import { state, me, userName } from './store.js';

const md = new MarkdownIt('zero', { html: false, breaks: true, linkify: true, typographer: false });
md.enable([
    'blockquote', 'fence', 'list', 'paragraph', // blocks: no headings, tables, rules, raw HTML, reference definitions
    'newline', 'escape', 'backticks', 'strikethrough', 'emphasis', 'link', 'autolink', 'entity', 'linkify', // inline
    'text_join', 'linkify', // core
]);

const SAFE_URL = /^(?:https?:|mailto:)/i;
md.validateLink = url => SAFE_URL.test(url.trim());

// One mention syntax, the server's (Commands/Messages/MessageRules.ParseMentions): <@userId>, <#channelId>, @channel, @here.
const ID_MENTION = /^<([@#])([A-Za-z0-9_-]{1,64})>/;
const BROADCAST = /^@(channel|here)(?![\w])/;
md.inline.ruler.before('autolink', 'mention', (inline, silent) => {
    const rest = inline.src.slice(inline.pos);
    const previous = inline.pos > 0 ? inline.src[inline.pos - 1] : '';
    let match = ID_MENTION.exec(rest);
    let attrs; // [kind, id]
    if (match) {
        attrs = [match[1] === '@' ? 'user' : 'channel', match[2]];
    } else if (!/[\w@]/.test(previous) && (match = BROADCAST.exec(rest))) {
        attrs = ['broadcast', match[1]];
    } else {
        return false;
    }
    if (!silent) inline.push('mention', 'span', 0).meta = attrs;
    inline.pos += match[0].length;
    return true;
});
// A placeholder (kind in the class, id as text) that formatText turns into a chip.
md.renderer.rules.mention = (tokens, idx) => `<span class="mention-${tokens[idx].meta[0]}">${md.utils.escapeHtml(tokens[idx].meta[1])}</span>`;
md.renderer.rules.s_open = () => '<del>';
md.renderer.rules.s_close = () => '</del>';

const PURIFY = {
    ALLOWED_TAGS: ['p', 'br', 'strong', 'em', 'del', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote', 'span'],
    ALLOWED_ATTR: ['href', 'class', 'start'],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOWED_URI_REGEXP: SAFE_URL,
    RETURN_DOM_FRAGMENT: true,
};

/** Markdown (as the author wrote it) to a sanitized DocumentFragment of the subset. */
export function formatText(text) {
    const fragment = DOMPurify.sanitize(md.render(String(text ?? '')), PURIFY);
    for (const el of fragment.querySelectorAll('[class]:not(span)')) {
        const language = el.tagName === 'CODE' && /^language-[\w+#.-]{1,32}$/.test(el.className) ? el.className : null;
        if (language) el.className = language;
        else el.removeAttribute('class');
    }
    for (const a of fragment.querySelectorAll('a')) {
        const href = a.getAttribute('href') ?? '';
        if (!SAFE_URL.test(href)) { a.replaceWith(...a.childNodes); continue; }
        a.setAttribute('target', '_blank');
        a.setAttribute('rel', 'noopener noreferrer');
    }
    // Spans are only the renderer's mention placeholders (raw HTML is off).
    for (const span of fragment.querySelectorAll('span')) span.replaceWith(chip(span.className.replace(/^mention-/, ''), span.textContent));
    return fragment;
}

function chip(kind, id) {
    if (kind === 'user') return h('span', { class: `mention${id === me() ? ' me' : ''}`, 'data-user-name': id }, userName(id));
    if (kind === 'channel') {
        const name = state.channels.get(id)?.name;
        return h('span', { class: 'mention channel-ref', 'data-channel-id': id }, `#${name ?? 'unknown-channel'}`);
    }
    if (kind === 'broadcast') return h('span', { class: 'mention me' }, `@${id}`);
    return document.createTextNode('');
}
