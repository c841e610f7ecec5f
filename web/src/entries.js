// The shell's entries to the notification and account features, so that app.js wires them with a line each: the
// sidebar's "Threads" entry (which also starts the title, favicon and desktop notifications), the sidebar's
// "Notifications" and "Account" buttons, and the pages outside the shell (reset link, forgotten password).
import { h } from './dom.js';
import { threadsEntry } from './threads.js';
import { installAttention } from './attention.js';
import { openNotificationPrefs } from './notifyprefs.js';
import { openAccount } from './account.js';

export { resetPasswordPage, forgotPasswordLink } from './account.js';

/** The sidebar's first entries; `openChannel` is the shell's (a thread or a notification opens its channel). */
export function sidebarEntries(openChannel) {
    installAttention(openChannel);
    return threadsEntry(openChannel);
}

/** The sidebar foot's buttons for one's notification settings and account. */
export function settingsButtons() {
    return h('div', { class: 'settings-buttons' },
        h('button', { type: 'button', class: 'small', onclick: openNotificationPrefs }, '🔔 Notifications'),
        h('button', { type: 'button', class: 'small', onclick: openAccount }, 'Account'));
}
