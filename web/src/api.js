// The REST side of the public API (/v1), with the session's bearer token.

export class ApiError extends Error {
    constructor(status, code, detail) {
        super(detail || code || `HTTP ${status}`);
        this.status = status;
        this.code = code;
    }
}

export class Api {
    constructor(onUnauthenticated) {
        this.token = null;
        /** The highest log position a command of this page answered: later queries can ask to see at least that. */
        this.position = 0;
        this.onUnauthenticated = onUnauthenticated;
    }

    /** minPosition: a query answers once the read models have applied that position (what a command answered). */
    async request(method, path, body, minPosition, withLink = false) {
        // A query asked to wait for a position answers 503 `stale` after the API's bounded wait: it is asked again
        // (twice) before the error reaches the page.
        for (let attempt = 0; ; attempt++) {
            try {
                return await this.send(method, path, body, minPosition, withLink);
            } catch (err) {
                if (err.code !== 'stale' || attempt >= 2) throw err;
            }
        }
    }

    /**
     * Every item of a paged list (channels, members): asks for the largest pages and follows each answer's
     * `Link: <...>; rel="next"` header until a page has none.
     */
    async all(path, minPosition) {
        const items = [];
        let next = `${path}${path.includes('?') ? '&' : '?'}limit=${PAGE_LIMIT}`;
        for (let pages = 0; next && pages < MAX_PAGES; pages++) {
            const page = await this.request('GET', next, undefined, minPosition, true);
            items.push(...page.json);
            next = page.next;
        }
        return items;
    }

    async send(method, path, body, minPosition, withLink = false) {
        const headers = { Accept: 'application/json' };
        if (minPosition) headers['X-Min-Position'] = String(minPosition);
        if (this.token) headers.Authorization = `Bearer ${this.token}`;
        if (body !== undefined) headers['Content-Type'] = 'application/json';
        let response;
        try {
            response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
        } catch {
            throw new ApiError(0, 'network', 'The server cannot be reached.');
        }
        const text = await response.text();
        let json = null;
        if (text) {
            try { json = JSON.parse(text); } catch { json = null; }
        }
        if (!response.ok) {
            if (response.status === 401 && this.token && this.onUnauthenticated) this.onUnauthenticated();
            throw new ApiError(response.status, json?.code, json?.detail || json?.title);
        }
        if (method !== 'GET' && typeof json?.position === 'number' && json.position > this.position) this.position = json.position;
        if (withLink) return { json, next: /<([^>]*)>;\s*rel="next"/.exec(response.headers.get('Link') || '')?.[1] || null };
        return json;
    }

    register(email, password, displayName) { return this.request('POST', '/v1/auth/register', { email, password, displayName }); }
    login(email, password) { return this.request('POST', '/v1/auth/login', { email, password }); }
    logout() { return this.request('POST', '/v1/auth/logout'); }
    user(userId, minPosition) { return this.request('GET', `/v1/users/${enc(userId)}`, undefined, minPosition); }
    myProfile(minPosition) { return this.request('GET', '/v1/users/me', undefined, minPosition); }
    updateProfile(changes) { return this.request('PATCH', '/v1/users/me', changes); }
    setStatus(emoji, text, expiresAt) { return this.request('PUT', '/v1/users/me/status', { emoji, text, expiresAt: expiresAt ?? undefined }); }
    clearStatus() { return this.request('DELETE', '/v1/users/me/status'); }
    workspaces(minPosition) { return this.request('GET', '/v1/workspaces', undefined, minPosition); }
    createWorkspace(name) { return this.request('POST', '/v1/workspaces', { name }); }
    addWorkspaceMember(ws, userId) { return this.request('POST', `/v1/workspaces/${enc(ws)}/members`, { userId }); }
    channels(ws, minPosition) { return this.all(`/v1/workspaces/${enc(ws)}/channels`, minPosition); }
    createChannel(ws, name, isPrivate, topic) { return this.request('POST', `/v1/workspaces/${enc(ws)}/channels`, { name, isPrivate, topic: topic || undefined }); }
    openDm(ws, userIds) { return this.request('POST', `/v1/workspaces/${enc(ws)}/dms`, { userIds }); }
    channel(ch) { return this.request('GET', `/v1/channels/${enc(ch)}`); }
    join(ch) { return this.request('POST', `/v1/channels/${enc(ch)}/join`); }
    leave(ch) { return this.request('POST', `/v1/channels/${enc(ch)}/leave`); }
    invite(ch, userId) { return this.request('POST', `/v1/channels/${enc(ch)}/members`, { userId }); }
    members(ch, minPosition) { return this.all(`/v1/channels/${enc(ch)}/members`, minPosition); }
    history(ch, before, limit = 50) {
        const q = new URLSearchParams({ limit: String(limit) });
        if (before) q.set('before', String(before));
        return this.request('GET', `/v1/channels/${enc(ch)}/messages?${q}`);
    }
    message(ch, seq) { return this.request('GET', `/v1/channels/${enc(ch)}/messages/${seq}`); }
    thread(ch, seq) { return this.request('GET', `/v1/channels/${enc(ch)}/messages/${seq}/thread?limit=200`); }
    post(ch, text, clientMsgId, threadRootSeq, fileIds) {
        return this.request('POST', `/v1/channels/${enc(ch)}/messages`,
            { text, clientMsgId, threadRootSeq: threadRootSeq ?? undefined, files: fileIds?.length ? fileIds : undefined });
    }
    requestUpload(ws, name, size, contentType) { return this.request('POST', '/v1/files', { name, size, contentType, workspaceId: ws }); }
    completeUpload(fileId) { return this.request('POST', `/v1/files/${enc(fileId)}/complete`); }
    file(fileId, minPosition) { return this.request('GET', `/v1/files/${enc(fileId)}`, undefined, minPosition); }
    edit(ch, seq, text) { return this.request('PATCH', `/v1/channels/${enc(ch)}/messages/${seq}`, { text }); }
    remove(ch, seq) { return this.request('DELETE', `/v1/channels/${enc(ch)}/messages/${seq}`); }
    react(ch, seq, emoji, on) { return this.request(on ? 'PUT' : 'DELETE', `/v1/channels/${enc(ch)}/messages/${seq}/reactions/${enc(emoji)}`); }
    pin(ch, seq, on) { return this.request(on ? 'PUT' : 'DELETE', `/v1/channels/${enc(ch)}/messages/${seq}/pin`); }
    pins(ch, minPosition) { return this.request('GET', `/v1/channels/${enc(ch)}/pins`, undefined, minPosition); }
    markRead(ch, seq) { return this.request('POST', `/v1/channels/${enc(ch)}/read`, { seq }); }
    search(ws, q, minPosition) {
        return this.request('GET', `/v1/search?${new URLSearchParams({ workspaceId: ws, q, limit: '20' })}`, undefined, minPosition);
    }
    // People (docs/api.md: member directory, channel settings, invites).
    directory(ws, q, cursor, limit = 50, minPosition) {
        const query = new URLSearchParams({ limit: String(limit) });
        if (q) query.set('q', q);
        if (cursor) query.set('cursor', cursor);
        return this.request('GET', `/v1/workspaces/${enc(ws)}/members?${query}`, undefined, minPosition);
    }
    removeWorkspaceMember(ws, userId) { return this.request('DELETE', `/v1/workspaces/${enc(ws)}/members/${enc(userId)}`); }
    removeChannelMember(ch, userId) { return this.request('DELETE', `/v1/channels/${enc(ch)}/members/${enc(userId)}`); }
    updateChannel(ch, changes) { return this.request('PATCH', `/v1/channels/${enc(ch)}`, changes); }
    archive(ch, on) { return this.request('POST', `/v1/channels/${enc(ch)}/${on ? 'archive' : 'unarchive'}`); }
    createInvite(ws, body) { return this.request('POST', `/v1/workspaces/${enc(ws)}/invites`, body); }
    invites(ws, minPosition) { return this.all(`/v1/workspaces/${enc(ws)}/invites`, minPosition); }
    revokeInvite(ws, inviteId) { return this.request('DELETE', `/v1/workspaces/${enc(ws)}/invites/${enc(inviteId)}`); }
    acceptInvite(code) { return this.request('POST', `/v1/invites/${enc(code)}/accept`); }
    notificationSettings(minPosition) { return this.request('GET', '/v1/users/me/notifications', undefined, minPosition); }
    setNotificationPreferences(patch) { return this.request('PATCH', '/v1/users/me/notifications', patch); }
    setChannelNotifications(ch, level, muted) { return this.request('PUT', `/v1/channels/${enc(ch)}/notifications`, { level, muted }); }
    follow(ch, seq, on) { return this.request(on ? 'PUT' : 'DELETE', `/v1/channels/${enc(ch)}/messages/${seq}/follow`); }
    threads(ws, minPosition) { return this.request('GET', `/v1/workspaces/${enc(ws)}/threads?limit=50`, undefined, minPosition); }
    changePassword(currentPassword, newPassword) { return this.request('POST', '/v1/auth/password', { currentPassword, newPassword }); }
    requestPasswordReset(email) { return this.request('POST', '/v1/auth/password-reset', { email }); }
    confirmPasswordReset(token, newPassword) { return this.request('POST', '/v1/auth/password-reset/confirm', { token, newPassword }); }
    logoutEverywhere() { return this.request('POST', '/v1/auth/logout-everywhere'); }
}

const enc = encodeURIComponent;
/** The lists' largest page (docs/api.md), and a bound on the pages one list read follows. */
const PAGE_LIMIT = 1000;
const MAX_PAGES = 1000;
