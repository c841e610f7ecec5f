// The people picker: a search box over the workspace's member directory (GET /v1/workspaces/{ws}/members?q=) that
// picks one person or several (up to `max`), shown as chips. A 32-hex user id typed or pasted in the box is taken as
// it is (someone the directory does not show yet). Used by the channel invite, the new (group) DM and channel settings.
import { h, morph } from './dom.js';
import { api, state, me, refreshUserNodes, presenceDot, userName } from './store.js';

const USER_ID = /^[0-9a-f]{32}$/i;
const SUGGESTIONS = 8;

/** Remembers the directory's people (name, title, presence) so names show everywhere without another read. */
export function rememberMembers(members) {
    for (const m of members) {
        const known = state.users.get(m.userId);
        // Presence the hub pushes (subscribed people) is fresher than the directory's snapshot.
        const presence = state.presenceWanted.has(m.userId) ? known?.presence ?? m.presence : m.presence;
        state.users.set(m.userId, { timeZone: null, status: null, ...known, displayName: m.displayName, title: m.title ?? null, presence });
    }
    refreshUserNodes();
}

/**
 * A picker. `exclude`: user ids never suggested besides the caller (the channel's members), or a function answering
 * them when asked (they may change while the picker is shown). Answers { el, input, picked() }:
 * `picked()` is the chosen ids, plus the box's text when it is a user id; `max` 1 makes a new pick replace the last.
 */
export function peoplePicker({ id, label = 'Name or user id', max = 1, exclude = [], hint } = {}) {
    const chosen = [];
    const listId = `${id}-suggestions`;
    const input = h('input', {
        id, type: 'text', autocomplete: 'off', role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
        'aria-controls': listId, placeholder: 'Type a name', 'data-testid': 'people-search',
    });
    const chips = h('ul', { class: 'picked', 'aria-label': 'Chosen people' });
    const list = h('ul', { id: listId, class: 'suggestions', role: 'listbox', hidden: true });
    const note = h('small', { class: 'picker-note', 'aria-live': 'polite' }, hint ?? (max > 1 ? `Up to ${max} people.` : ''));
    let timer = null;
    let asked = 0;

    const renderChips = () => chips.replaceChildren(...chosen.map(userId => h('li', { class: 'chip', 'data-user': userId },
        h('span', { 'data-user-name': userId }, userName(userId)),
        h('button', {
            type: 'button', class: 'icon', 'aria-label': `Remove ${userName(userId)}`,
            onclick: () => { chosen.splice(chosen.indexOf(userId), 1); renderChips(); input.focus(); },
        }, '✕'))));

    const pick = member => {
        if (max === 1) chosen.length = 0;
        if (!chosen.includes(member.userId) && chosen.length < max) chosen.push(member.userId);
        else if (chosen.length >= max) note.textContent = `At most ${max} people.`;
        input.value = '';
        hide();
        renderChips();
        input.focus();
    };

    const hide = () => { list.hidden = true; input.setAttribute('aria-expanded', 'false'); };

    const suggest = async () => {
        const q = input.value.trim();
        if (!q || USER_ID.test(q)) return hide();
        const ticket = ++asked;
        const skip = new Set([me(), ...(typeof exclude === 'function' ? exclude() : exclude)]);
        let page;
        try { page = await api.directory(state.wsId, q, null, Math.min(200, SUGGESTIONS + skip.size)); } catch { return hide(); }
        if (ticket !== asked) return undefined; // a later keystroke asked again
        rememberMembers(page.members);
        const found = page.members.filter(m => !skip.has(m.userId) && !chosen.includes(m.userId)).slice(0, SUGGESTIONS);
        morph(list, found.length ? found.map(m => h('li', { role: 'presentation', 'data-key': m.userId }, h('button', {
            type: 'button', role: 'option', class: 'suggestion', 'data-user': m.userId,
            onclick: () => pick(m),
            onkeydown: e => moveFocus(e, list, input),
        }, presenceDot(m.userId), h('span', { class: 'label' }, m.displayName), m.title ? h('small', null, ` ${m.title}`) : null)))
            : [h('li', { class: 'muted' }, `No one in this workspace matches “${q}”.`)]);
        list.dataset.q = q; // what the suggestions shown answer
        list.hidden = false;
        input.setAttribute('aria-expanded', 'true');
        return undefined;
    };

    input.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(suggest, 150); });
    input.addEventListener('keydown', e => {
        if (e.key === 'ArrowDown' && !list.hidden) {
            e.preventDefault();
            list.querySelector('button')?.focus();
        } else if (e.key === 'Enter' && input.value.trim() && !USER_ID.test(input.value.trim())) {
            // Enter on a name picks the first suggestion for that text (asked now if not yet shown), not the form's submit.
            e.preventDefault();
            clearTimeout(timer);
            const q = input.value.trim();
            (list.dataset.q === q && !list.hidden ? Promise.resolve() : suggest()).then(() => {
                if (list.dataset.q === q && input.value.trim() === q) list.querySelector('button')?.click();
            });
        } else if (e.key === 'Escape' && !list.hidden) {
            e.preventDefault();
            e.stopPropagation();
            hide();
        }
    });

    const el = h('div', { class: 'field people-picker' },
        h('label', { for: id }, label), chips, input, list, note);
    return {
        el,
        input,
        picked() {
            const typed = input.value.trim();
            const ids = [...chosen];
            if (USER_ID.test(typed) && !ids.includes(typed)) ids.push(typed);
            return ids;
        },
    };
}

function moveFocus(e, list, input) {
    const buttons = [...list.querySelectorAll('button')];
    const i = buttons.indexOf(e.currentTarget);
    if (e.key === 'ArrowDown') { e.preventDefault(); buttons[Math.min(i + 1, buttons.length - 1)]?.focus(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); (i > 0 ? buttons[i - 1] : input).focus(); }
}
