// The realtime side: the SignalR hub at /v1/gateway with the official client. Keeps the position of the last
// channel event seen and, after every reconnect, asks the hub to Resume from it (no gap, no duplicate). A connection
// counts as live only once the hub's `hello` came: start() of the official client resolves on the handshake, before the
// hub registered the connection for its channels, and an event sent in between (typing) would miss it.
import { HubConnectionBuilder, HubConnectionState, LogLevel } from '@microsoft/signalr';

export class Realtime {
    /**
     * @param {() => string} token
     * @param {(envelope: any) => void} onEvent
     * @param {(state: 'connecting'|'live'|'reconnecting'|'resumed'|'unauthorized') => void} onState
     */
    constructor(token, onEvent, onState) {
        this.position = 0;
        this.onEvent = onEvent;
        this.onState = onState;
        this.stopped = false;
        this.expectHello();
        this.connection = new HubConnectionBuilder()
            .withUrl('/v1/gateway', { accessTokenFactory: token })
            // Never give up while the page is open: a restarted server is back within seconds.
            // A refused token (revoked: the server closed the connection) ends the retries: onclose, then start() says so.
            .withAutomaticReconnect({ nextRetryDelayInMilliseconds: ctx => (refused(ctx.retryReason) ? null : Math.min(2000, 250 * 2 ** ctx.previousRetryCount)) })
            .configureLogging(LogLevel.Warning)
            .build();
        this.connection.on('event', envelope => {
            if (envelope?.type === 'hello') return this.helloReceived(envelope);
            if (typeof envelope?.position === 'number' && envelope.position > this.position) this.position = envelope.position;
            this.onEvent(envelope);
        });
        this.connection.onreconnecting(() => {
            this.expectHello();
            this.onState('reconnecting');
        });
        this.connection.onreconnected(async () => {
            await this.helloOrTimeout();
            await this.resume();
            this.onState('resumed');
        });
        // A server that shuts down closes its connections for good (no automatic reconnect): start again, and resume.
        this.connection.onclose(() => {
            if (!this.stopped) this.start(true);
        });
    }

    async start(again = false) {
        this.onState(again ? 'reconnecting' : 'connecting');
        for (let attempt = 0; !this.stopped; attempt++) {
            try {
                this.expectHello();
                await this.connection.start();
                await this.helloOrTimeout();
                if (again) await this.resume();
                this.onState(again ? 'resumed' : 'live');
                return;
            } catch (err) {
                if (refused(err)) {
                    // The token was revoked (log-out elsewhere, a password change): the session is over.
                    this.stopped = true;
                    this.onState('unauthorized');
                    return;
                }
                this.onState('reconnecting');
                await new Promise(r => setTimeout(r, Math.min(2000, 250 * 2 ** attempt)));
            }
        }
    }

    /** A new connection is coming: its hello is awaited afresh. */
    expectHello() {
        this.hello = new Promise(resolve => { this.helloReceived = resolve; });
    }

    /** The current connection's hello (bounded: a server that never sends it does not block the page). */
    helloOrTimeout(ms = 10000) {
        let timer;
        return Promise.race([this.hello, new Promise(resolve => { timer = setTimeout(resolve, ms); })])
            .finally(() => clearTimeout(timer));
    }

    async resume() {
        // Resume(0) would mean "from the beginning": a page that has seen nothing yet relies on REST instead.
        if (this.position > 0) await this.connection.invoke('Resume', this.position);
    }

    get connected() { return this.connection.state === HubConnectionState.Connected; }

    invoke(method, ...args) {
        if (!this.connected) return Promise.resolve();
        return this.connection.invoke(method, ...args).catch(() => undefined);
    }

    async stop() {
        this.stopped = true;
        await this.connection.stop();
    }
}

/** The server refused the token (401 on negotiate or connect). */
function refused(err) {
    return err?.statusCode === 401 || /\b401\b/.test(String(err?.message ?? ''));
}
