// Invites. For admins, a dialog: invite by email (the server mails the link), create a shareable link with an expiry
// and a use limit (shown once: only its hash is stored), list the workspace's invites and revoke them. For everyone, the
// page an invite link opens (/invite?code=...): the code is kept while the person signs up or logs in, then accepted,
// and the workspace opens.
import { h, field } from './dom.js';
import { api, state } from './store.js';

const INVITE_KEY = 'esc.invite';
const DAY = 86_400_000;
const EXPIRIES = [['1', '1 day'], ['7', '7 days'], ['30', '30 days']];
const REFUSED = {
    invite_expired: 'This invite has expired. Ask an admin of the workspace for a new one.',
    invite_revoked: 'This invite was revoked by an admin of the workspace.',
    invite_used_up: 'This invite link has been used as many times as it allows.',
    invite_email_mismatch: 'This invite was sent to another email address: log out, then sign up or log in with that address to accept it.',
    already_member: 'You are already a member of that workspace.',
    not_found: 'This invite link is not valid (it may be incomplete).',
};

/** At boot: the code of an invite link (/invite?code=) is kept for after sign-in, and the address bar shows / again. */
export function rememberInviteLink() {
    if (location.pathname === '/invite') {
        const code = new URLSearchParams(location.search).get('code');
        if (code) sessionStorage.setItem(INVITE_KEY, code);
        history.replaceState(null, '', '/');
    }
}

/** On the sign-in and sign-up card while an invite waits. */
export function inviteNote() {
    return sessionStorage.getItem(INVITE_KEY)
        ? h('p', { class: 'invite-note', 'data-testid': 'invite-note' }, 'You are invited to a workspace: create an account or log in to join it.')
        : null;
}

/** Signed in: accepts the waiting invite; answers {workspaceId, position} once joined, else null (and says why). */
export async function acceptPendingInvite() {
    const code = sessionStorage.getItem(INVITE_KEY);
    if (!code) return null;
    try {
        const joined = await api.acceptInvite(code);
        sessionStorage.removeItem(INVITE_KEY);
        return joined;
    } catch (err) {
        // A mismatched address keeps the invite for the right account (after logging out); anything else drops it.
        if (err.code !== 'invite_email_mismatch') sessionStorage.removeItem(INVITE_KEY);
        notice(REFUSED[err.code] ?? `The invite could not be accepted: ${err.message}`);
        return null;
    }
}

function notice(text) {
    const el = h('dialog', { class: 'notice', 'aria-labelledby': 'notice-title', 'data-testid': 'invite-problem' },
        h('h2', { id: 'notice-title' }, 'Invite not accepted'), h('p', null, text),
        h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'primary', onclick: () => el.close() }, 'OK')));
    el.addEventListener('close', () => el.remove());
    document.body.append(el);
    el.showModal();
}

/** The admins' dialog: invite by email, make a link, list and revoke. */
export function openInvites() {
    const ws = state.workspaces.find(w => w.workspaceId === state.wsId);
    const note = h('p', { class: 'form-note', role: 'status', 'data-testid': 'invites-note' });
    const email = h('input', { id: 'invite-email', type: 'email', required: true, autocomplete: 'off', placeholder: 'name@example.com' });
    const expiry = h('select', { id: 'invite-expiry' }, EXPIRIES.map(([value, label]) => h('option', { value, selected: value === '7' }, label)));
    const uses = h('input', { id: 'invite-uses', type: 'number', min: 1, max: 1000, value: '100', required: true });
    const link = h('div', { class: 'invite-link', hidden: true });
    const list = h('ul', { class: 'browse invites', 'aria-label': 'Invites', 'data-testid': 'invites' }, h('li', { class: 'muted' }, 'Loading…'));
    const el = h('dialog', { class: 'invites-dialog', 'aria-labelledby': 'invites-title' },
        h('div', { class: 'dialog-head' }, h('h2', { id: 'invites-title' }, `Invite people to ${ws?.name ?? 'the workspace'}`),
            h('button', { type: 'button', class: 'icon', 'aria-label': 'Close invites', onclick: () => el.close() }, '✕')),
        h('form', { onsubmit: e => { e.preventDefault(); byEmail(); } },
            field('Email address', email, 'They get a mail with a link that signs them up or in, and joins.'),
            h('div', { class: 'dialog-actions' }, h('button', { type: 'submit', class: 'primary' }, 'Send invite'))),
        h('form', { class: 'link-form', onsubmit: e => { e.preventDefault(); makeLink(); } },
            h('h3', null, 'Shareable link'),
            h('div', { class: 'row' }, field('Expires after', expiry), field('Uses', uses)),
            h('div', { class: 'dialog-actions' }, h('button', { type: 'submit' }, 'Create link'))),
        link, note, h('h3', null, 'Invites'), list);
    el.addEventListener('close', () => el.remove());

    const load = async minPosition => {
        let invites;
        try { invites = await api.invites(state.wsId, minPosition); } catch (err) {
            return list.replaceChildren(h('li', { class: 'muted' }, `Invites not loaded: ${err.message}`));
        }
        list.replaceChildren(...(invites.length ? invites.map(row) : [h('li', { class: 'muted' }, 'No invites yet.')]));
        return undefined;
    };

    const row = i => h('li', { 'data-invite': i.inviteId, 'data-testid': 'invite', 'data-state': i.state },
        h('span', { class: 'label' }, i.email ?? 'Link'),
        h('small', null, ` ${i.uses}/${i.maxUses} used · expires ${new Date(i.expiresAt).toLocaleString()} · `),
        h('small', { class: `invite-state state-${i.state}` }, i.state.replace('_', ' ')),
        i.state === 'active' ? h('button', { type: 'button', class: 'small', onclick: () => revoke(i) }, 'Revoke') : null);

    const run = async (what, fn) => {
        note.textContent = '';
        try { await fn(); } catch (err) { note.textContent = `${what}: ${err.message}`; }
    };

    const byEmail = () => run('Not sent', async () => {
        const created = await api.createInvite(state.wsId, { email: email.value.trim() });
        note.textContent = `Invite sent to ${email.value.trim()}.`;
        email.value = '';
        await load(created.position);
    });

    const makeLink = () => run('No link made', async () => {
        link.hidden = true; // the last link made goes (it was shown once)
        link.replaceChildren();
        // 30 days is the longest the server takes: a minute less, so the clocks need not agree to the second.
        const expiresAt = new Date(Date.now() + Number(expiry.value) * DAY - 60_000).toISOString();
        const created = await api.createInvite(state.wsId, { maxUses: Number(uses.value), expiresAt });
        const url = h('input', { id: 'invite-url', readonly: true, value: created.url });
        link.replaceChildren(field('Invite link', url, 'Copy it now: it is shown only once.'),
            h('button', {
                type: 'button', class: 'small', onclick: e => {
                    url.select();
                    navigator.clipboard?.writeText(created.url).then(() => { e.target.textContent = 'Copied'; }, () => undefined);
                },
            }, 'Copy link'));
        link.hidden = false;
        await load(created.position);
    });

    const revoke = i => run('Not revoked', async () => {
        const revoked = await api.revokeInvite(state.wsId, i.inviteId);
        await load(revoked.position);
    });

    document.body.append(el);
    el.showModal();
    email.focus();
    load();
}
