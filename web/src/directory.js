// The member directory of the workspace: GET /v1/workspaces/{ws}/members in pages of 50 ("Show more" follows
// nextCursor), searched by name on the server; the role and presence filters keep the matching people of the pages
// read, and read further pages by themselves (a few at most) while too few match. Each person: presence, name (opens
// the profile card), title, role, "Message" (a DM); an admin also removes people from the workspace.
import { h, morph } from './dom.js';
import { api, state, me, presenceDot, toast } from './store.js';
import { refreshChannels, loadMembers } from './channels.js';
import { rememberMembers } from './people.js';

const PAGE = 50;
const ENOUGH = 20; // a filter reads more pages until this many match (or MAX_AUTO_PAGES more pages were read)
const MAX_AUTO_PAGES = 10;
const ROLES = [['', 'Any role'], ['admin', 'Admins'], ['member', 'Members'], ['auditor', 'Auditors']];
const PRESENCES = [['', 'Anyone'], ['active', 'Active'], ['away', 'Away'], ['offline', 'Offline']];

/** @param {(channelId: string) => Promise<void>} openChannel */
export function openDirectory(openChannel) {
    const admin = state.workspaces.find(w => w.workspaceId === state.wsId)?.role === 'admin';
    const view = { members: [], cursor: null, done: false, ticket: 0, loading: false };
    const search = h('input', { id: 'directory-search', type: 'search', autocomplete: 'off', placeholder: 'Search by name' });
    const role = h('select', { id: 'directory-role' }, ROLES.map(([value, label]) => h('option', { value }, label)));
    const presence = h('select', { id: 'directory-presence' }, PRESENCES.map(([value, label]) => h('option', { value }, label)));
    const list = h('ul', { class: 'browse directory', 'aria-label': 'Members', 'data-testid': 'directory' });
    const more = h('button', { type: 'button', class: 'small', hidden: true, onclick: () => load(false) }, 'Show more');
    const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
    const el = h('dialog', { class: 'directory-dialog', 'aria-labelledby': 'directory-title' },
        h('div', { class: 'dialog-head' }, h('h2', { id: 'directory-title' }, 'People'),
            h('button', { type: 'button', class: 'icon', 'aria-label': 'Close people', onclick: () => el.close() }, '✕')),
        h('div', { class: 'directory-filters' },
            h('label', { for: 'directory-search', class: 'visually-hidden' }, 'Search people'), search,
            h('label', { for: 'directory-role', class: 'visually-hidden' }, 'Role'), role,
            h('label', { for: 'directory-presence', class: 'visually-hidden' }, 'Presence'), presence),
        list, summary, more);
    el.addEventListener('close', () => el.remove());

    const matches = m => (!role.value || m.role === role.value) && (!presence.value || m.presence === presence.value);

    const render = () => {
        const shown = view.members.filter(matches);
        morph(list, shown.map(m => row(m))); // rows that stay are kept: a click on one is never lost to a re-render
        summary.textContent = shown.length ? `${shown.length} shown${view.done ? '' : ' (more below)'}` : view.loading ? 'Loading…' : 'No one matches.';
        more.hidden = view.done;
    };

    const row = m => h('li', { 'data-user': m.userId, 'data-key': m.userId, 'data-testid': 'directory-member' },
        presenceDot(m.userId),
        h('span', { class: 'label', 'data-user-name': m.userId, 'data-profile': m.userId, role: 'button', tabindex: '0' }, m.displayName),
        m.title ? h('small', { class: 'member-title' }, m.title) : null,
        h('small', { class: `role role-${m.role}` }, m.role),
        m.userId === me() ? h('small', null, '(you)') : h('span', { class: 'row-actions' },
            h('button', { type: 'button', class: 'small', onclick: () => message(m.userId) }, 'Message'),
            admin ? h('button', { type: 'button', class: 'small', onclick: e => remove(m, e.currentTarget) }, 'Remove') : null));

    const load = async reset => {
        if (view.loading && !reset) return;
        const ticket = reset ? ++view.ticket : view.ticket;
        if (reset) Object.assign(view, { members: [], cursor: null, done: false });
        view.loading = true;
        render();
        for (let pages = 0; !view.done && pages <= MAX_AUTO_PAGES; pages++) {
            let page;
            try {
                page = await api.directory(state.wsId, search.value.trim(), view.cursor, PAGE);
            } catch (err) {
                summary.textContent = `People not loaded: ${err.message}`;
                break;
            }
            if (ticket !== view.ticket) return; // a newer search started
            rememberMembers(page.members);
            view.members.push(...page.members);
            view.cursor = page.nextCursor;
            view.done = !page.nextCursor;
            // Without a filter one page is shown; with one, pages are read until enough match.
            if ((!role.value && !presence.value) || view.members.filter(matches).length >= ENOUGH) break;
        }
        view.loading = false;
        render();
    };

    const message = async userId => {
        try {
            const opened = await api.openDm(state.wsId, [userId]);
            el.close();
            await refreshChannels(opened.position);
            await loadMembers(opened.channelId, opened.position);
            await openChannel(opened.channelId);
        } catch (err) { toast(`Could not open the conversation: ${err.message}`); }
    };

    // Removing asks once: the button turns into "Really remove?".
    const remove = async (m, button) => {
        if (button.dataset.confirm !== 'yes') {
            button.dataset.confirm = 'yes';
            button.textContent = 'Really remove?';
            button.classList.add('danger');
            return;
        }
        button.disabled = true;
        try {
            const removed = await api.removeWorkspaceMember(state.wsId, m.userId);
            view.members = view.members.filter(x => x.userId !== m.userId);
            render();
            toast(`${m.displayName} was removed from the workspace.`);
            await refreshChannels(removed.position);
        } catch (err) {
            button.disabled = false;
            toast(err.code === 'last_admin' ? 'The last admin cannot be removed: make someone else admin first.' : `Not removed: ${err.message}`);
        }
    };

    let timer = null;
    search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => load(true), 200); });
    role.addEventListener('change', () => { render(); if (!view.done) load(false); });
    presence.addEventListener('change', () => { render(); if (!view.done) load(false); });
    document.body.append(el);
    el.showModal();
    search.focus();
    load(true);
}
