// Account pages: changing the password and "log out everywhere" (a dialog of the signed-in shell), asking for a reset
// link from the log-in form, and the page the mailed link opens (/reset-password?token=...), which sets a new password.
import { h, field } from './dom.js';
import { SESSION_KEY, api, changed, toast } from './store.js';
import { dialog } from './dialogs.js';

export const RESET_PATH = '/reset-password';

const password = (id, name, label, autocomplete) =>
    field(label, h('input', { id, name, type: 'password', required: true, minlength: 8, maxlength: 256, autocomplete }));

/** The account dialog: a password change (other sessions are signed out) and "log out everywhere". */
export function openAccount() {
    let confirming = false;
    const everywhere = h('button', {
        type: 'button', class: 'small',
        onclick: async () => {
            if (!confirming) {
                confirming = true;
                everywhere.textContent = 'Really log out on every device?';
                everywhere.classList.add('danger');
                return;
            }
            everywhere.disabled = true;
            try {
                await api.logoutEverywhere();
            } catch (err) {
                everywhere.disabled = false;
                return toast(`Not logged out: ${err.message}`);
            }
            changed('signed-out'); // this session was revoked too: the page ends it
        },
    }, 'Log out everywhere');
    dialog('Account', [
        h('h3', { class: 'pref-title' }, 'Change password'),
        password('account-current', 'current', 'Current password', 'current-password'),
        password('account-new', 'next', 'New password (8 characters or more)', 'new-password'),
        password('account-repeat', 'repeat', 'New password again', 'new-password'),
        h('fieldset', { class: 'pref-group' }, h('legend', null, 'Sessions'),
            h('p', { class: 'muted' }, 'Signs you out on every device and browser, this one included.'), everywhere),
    ], async form => {
        if (form.next.value !== form.repeat.value) throw new Error('The new passwords differ.');
        try {
            await api.changePassword(form.current.value, form.next.value);
        } catch (err) {
            if (err.code === 'wrong_password') throw new Error('The current password is wrong.');
            if (err.code === 'rate_limited') throw new Error('Too many attempts: wait a few minutes.');
            throw err;
        }
        toast('Password changed. Your other sessions were signed out.');
    }, 'Change password');
}

/** The log-in form's "Forgot your password?" link; `back` shows the log-in form again. */
export function forgotPasswordLink(back) {
    return h('p', { class: 'switch' }, h('button', { type: 'button', class: 'link', onclick: () => renderResetRequest(back) }, 'Forgot your password?'));
}

function renderResetRequest(back) {
    const email = h('input', { id: 'reset-email', type: 'email', required: true, autocomplete: 'email' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Send me a reset link');
    const form = h('form', {
        class: 'card auth', 'aria-labelledby': 'reset-title',
        onsubmit: async e => {
            e.preventDefault();
            error.textContent = '';
            submit.disabled = true;
            try {
                await api.requestPasswordReset(email.value.trim());
            } catch (err) {
                error.textContent = err.message;
                submit.disabled = false;
                return;
            }
            form.replaceChildren(h('h1', { id: 'reset-title' }, 'Check your mail'),
                h('p', { role: 'status', 'data-testid': 'reset-sent' },
                    `If an account uses ${email.value.trim()}, a link to set a new password is on its way. It works once, within an hour.`),
                h('button', { type: 'button', class: 'link', onclick: back }, 'Back to log in'));
        },
    }, h('h1', { id: 'reset-title' }, 'Reset your password'),
    h('p', null, 'Enter the email address of your account: we mail you a link to set a new password.'),
    field('Email', email), error, submit,
    h('p', { class: 'switch' }, h('button', { type: 'button', class: 'link', onclick: back }, 'Back to log in')));
    document.getElementById('app').replaceChildren(h('main', { class: 'center' }, form));
    email.focus();
}

/** On the mailed link's path, shows the page that sets a new password and answers true; elsewhere answers false. */
export function resetPasswordPage() {
    if (location.pathname !== RESET_PATH) return false;
    const token = new URLSearchParams(location.search).get('token') ?? '';
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Set new password');
    const toLogin = () => location.assign('/');
    const form = h('form', {
        class: 'card auth', 'aria-labelledby': 'reset-title',
        onsubmit: async e => {
            e.preventDefault();
            error.textContent = '';
            if (form.next.value !== form.repeat.value) { error.textContent = 'The passwords differ.'; return; }
            submit.disabled = true;
            try {
                await api.confirmPasswordReset(token, form.next.value);
            } catch (err) {
                error.textContent = err.code === 'reset_expired'
                    ? 'This link has expired or was used already: ask for a new one from the log-in page.'
                    : err.message;
                submit.disabled = false;
                return;
            }
            // Every session of the account was signed out, this browser's too.
            localStorage.removeItem(SESSION_KEY);
            history.replaceState(null, '', '/');
            form.replaceChildren(h('h1', { id: 'reset-title' }, 'Password changed'),
                h('p', { role: 'status', 'data-testid': 'reset-done' }, 'Your new password is set and every session was signed out.'),
                h('button', { type: 'button', class: 'primary', onclick: toLogin }, 'Log in'));
        },
    }, h('h1', { id: 'reset-title' }, 'Set a new password'),
    token ? null : h('p', { class: 'form-error' }, 'This link has no token: open the link from the mail again.'),
    password('reset-new', 'next', 'New password (8 characters or more)', 'new-password'),
    password('reset-repeat', 'repeat', 'New password again', 'new-password'),
    error, submit,
    h('p', { class: 'switch' }, h('button', { type: 'button', class: 'link', onclick: toLogin }, 'Back to log in')));
    document.getElementById('app').replaceChildren(h('main', { class: 'center' }, form));
    form.next.focus();
    return true;
}
